"""acognito: an async-first client for Amazon Cognito User Pools.

``AsyncCognito`` awaits every user-pool operation; SRP runs off the event loop;
errors are typed (:mod:`acognito.errors`).
"""

from . import errors, srp
from .aws_srp import AWSSRP
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
    SRPError,
    TokenVerificationError,
    TokenVerificationException,
)
from .flows import DeviceCredentials
from .models import Group, User
from .tokens import Tokens

__version__ = "0.1.0.dev0"

__all__ = [
    "AWSSRP",
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
    "SRPError",
    "SoftwareTokenMFAChallengeException",
    "TokenVerificationError",
    "TokenVerificationException",
    "Tokens",
    "User",
    "__version__",
    "errors",
    "srp",
]
