"""acognito: an async-first client for Amazon Cognito User Pools.

``AsyncCognito`` awaits every user-pool operation; SRP runs off the event loop;
errors are typed (:mod:`acognito.errors`).

Names are imported on first use: ``from acognito import CognitoVerifier`` loads the
verifier and httpx, not aiobotocore (which a user-pool session loads when it first
calls Cognito).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import errors, oauth, srp
    from ._botocore_logs import redact_botocore_logs
    from .auth import ClientCredentialsAuth, CognitoAuth
    from .aws_srp import AWSSRP
    from .cognito import AsyncCognito
    from .context import UserContext
    from .devices import Device, DeviceCredentials
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
    from .jwks import JwksCache
    from .models import Group, User
    from .oauth import AuthorizationRequest, OAuth2Client, OAuthTokens, SyncOAuth2Client
    from .pool import CognitoPool, aclose_pools
    from .tokens import Tokens
    from .verify import CognitoVerifier, MultiPoolVerifier

__version__ = "0.1.0.dev0"

#: Where each public name lives: ``None`` for a submodule, else the module to import.
_HOMES: dict[str, str | None] = {
    "AWSSRP": ".aws_srp",
    "AsyncCognito": ".cognito",
    "AuthorizationRequest": ".oauth",
    "ChallengeRequired": ".errors",
    "ClientCredentialsAuth": ".auth",
    "CognitoAuth": ".auth",
    "CognitoError": ".errors",
    "CognitoPool": ".pool",
    "CognitoServiceError": ".errors",
    "CognitoVerifier": ".verify",
    "ConfigurationError": ".errors",
    "Device": ".devices",
    "DeviceCredentials": ".devices",
    "ForceChangePasswordException": ".errors",
    "Group": ".models",
    "JwksCache": ".jwks",
    "MFAChallengeException": ".errors",
    "MultiPoolVerifier": ".verify",
    "OAuth2Client": ".oauth",
    "OAuthTokens": ".oauth",
    "SMSMFAChallengeException": ".errors",
    "SRPError": ".errors",
    "SoftwareTokenMFAChallengeException": ".errors",
    "SyncOAuth2Client": ".oauth",
    "TokenVerificationError": ".errors",
    "TokenVerificationException": ".errors",
    "Tokens": ".tokens",
    "User": ".models",
    "UserContext": ".context",
    "aclose_pools": ".pool",
    "errors": None,
    "oauth": None,
    "redact_botocore_logs": "._botocore_logs",
    "srp": None,
}

__all__ = [
    "AWSSRP",
    "AsyncCognito",
    "AuthorizationRequest",
    "ChallengeRequired",
    "ClientCredentialsAuth",
    "CognitoAuth",
    "CognitoError",
    "CognitoPool",
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
    "UserContext",
    "__version__",
    "aclose_pools",
    "errors",
    "oauth",
    "redact_botocore_logs",
    "srp",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use and keep it (PEP 562)."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    home = _HOMES[name]
    module = importlib.import_module(f".{name}" if home is None else home, __name__)
    value = module if home is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
