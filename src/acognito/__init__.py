"""acognito: an async-first client for Amazon Cognito User Pools."""

from . import errors
from .errors import (
    CognitoError,
    CognitoServiceError,
    ConfigurationError,
    TokenVerificationError,
    TokenVerificationException,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "CognitoError",
    "CognitoServiceError",
    "ConfigurationError",
    "TokenVerificationError",
    "TokenVerificationException",
    "__version__",
    "errors",
]
