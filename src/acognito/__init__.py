"""acognito: an async-first client for Amazon Cognito User Pools.

``AsyncCognito`` awaits every user-pool operation; SRP runs off the event loop;
errors are typed (:mod:`acognito.errors`).
"""

from . import errors
from .cognito import AsyncCognito
from .devices import Device
from .errors import (
    ChallengeRequired,
    CognitoError,
    CognitoServiceError,
    ConfigurationError,
    ForceChangePasswordException,
    MFAChallengeException,
    SMSMFAChallengeException,
    SoftwareTokenMFAChallengeException,
    TokenVerificationError,
    TokenVerificationException,
)
from .flows import DeviceCredentials
from .models import Group, User
from .tokens import Tokens

__version__ = "0.1.0.dev0"

__all__ = [
    "AsyncCognito",
    "ChallengeRequired",
    "CognitoError",
    "CognitoServiceError",
    "ConfigurationError",
    "Device",
    "DeviceCredentials",
    "ForceChangePasswordException",
    "Group",
    "MFAChallengeException",
    "SMSMFAChallengeException",
    "SoftwareTokenMFAChallengeException",
    "TokenVerificationError",
    "TokenVerificationException",
    "Tokens",
    "User",
    "__version__",
    "errors",
]
