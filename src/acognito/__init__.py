"""acognito: an async-first client for Amazon Cognito User Pools.

``AsyncCognito`` awaits every user-pool operation; SRP runs off the event loop;
errors are typed (:mod:`acognito.errors`).
"""

from . import errors, oauth, srp
from .auth import ClientCredentialsAuth, CognitoAuth
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
from .jwks import JwksCache
from .models import Group, User
from .oauth import AuthorizationRequest, OAuth2Client, OAuthTokens, SyncOAuth2Client
from .tokens import Tokens
from .verify import CognitoVerifier, MultiPoolVerifier

__version__ = "0.1.0.dev0"

__all__ = [
    "AWSSRP",
    "AsyncCognito",
    "AuthorizationRequest",
    "ChallengeRequired",
    "ClientCredentialsAuth",
    "CognitoAuth",
    "CognitoError",
    "CognitoServiceError",
    "CognitoVerifier",
    "ConfigurationError",
    "Device",
    "DeviceCredentials",
    "ForceChangePasswordException",
    "Group",
    "JwksCache",
    "MFAChallengeException",
    "MultiPoolVerifier",
    "OAuth2Client",
    "OAuthTokens",
    "SMSMFAChallengeException",
    "SRPError",
    "SoftwareTokenMFAChallengeException",
    "SyncOAuth2Client",
    "TokenVerificationError",
    "TokenVerificationException",
    "Tokens",
    "User",
    "__version__",
    "errors",
    "oauth",
    "srp",
]
