"""Test helpers: a local Cognito on loopback, pools and users on it, real test tokens.

``LocalCognito`` runs moto server (the ``local`` extra) behind acognito's honest
extensions (real SRP and device SRP, SECRET_HASH, rotation, revocation, a TOTP secret
per user, a code inbox read through ``local.inbox``); ``CognitoAdmin`` creates
pools, app clients, users and groups; ``TokenIssuer`` mints RS256 tokens shaped like
Cognito's with a throw-away key; ``totp`` computes one-time codes (``MOTO_TOTP_SECRET``
is only plain moto's fixed secret); ``SoftwareAuthenticator`` is a passkey in memory;
``VirtualSecurityKey`` (needs ``fido2``) is a FIDO2 security key in software for
``Fido2Authenticator``; ``LambdaTriggers`` are a pool's Lambda triggers as callables.
The pytest plugin :mod:`acognito.testing.plugin` exposes them as
fixtures.
"""

from typing import TYPE_CHECKING

from ._server import LocalCognito, LocalCognitoError
from ._test_api import DeviceRecord, Inbox, RequestRecord, SentCode, TestApi
from .admin import DEFAULT_PASSWORD, AppClient, CognitoAdmin, LocalPool, LocalUser
from .issuer import TokenIssuer
from .passkeys import SoftwareAuthenticator
from .totp import MOTO_TOTP_SECRET, fresh_totp, totp
from .triggers import LambdaTriggers, Trigger

if TYPE_CHECKING:
    from .security_key import VirtualSecurityKey

__all__ = [
    "DEFAULT_PASSWORD",
    "MOTO_TOTP_SECRET",
    "AppClient",
    "CognitoAdmin",
    "DeviceRecord",
    "Inbox",
    "LambdaTriggers",
    "LocalCognito",
    "LocalCognitoError",
    "LocalPool",
    "LocalUser",
    "RequestRecord",
    "SentCode",
    "SoftwareAuthenticator",
    "TestApi",
    "TokenIssuer",
    "Trigger",
    "VirtualSecurityKey",
    "fresh_totp",
    "totp",
]


def __getattr__(name: str) -> object:
    # VirtualSecurityKey subclasses python-fido2's CtapDevice: imported only when used.
    if name == "VirtualSecurityKey":
        from .security_key import VirtualSecurityKey

        return VirtualSecurityKey
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
