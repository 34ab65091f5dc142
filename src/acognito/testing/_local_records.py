"""The records of the local Cognito's state (server process only): what the handlers keep
about SRP steps, devices, refresh tokens, codes sent, challenge sessions and passkeys,
and :class:`Caller`, who a step of a sign-in is for. Plain data, no rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moto.cognitoidp.models import (
    CognitoIdpBackend,
    CognitoIdpUser,
    CognitoIdpUserPool,
    CognitoIdpUserPoolClient,
)

from ._srp_server import SrpServer

__all__ = [
    "Caller",
    "Device",
    "DeviceStep",
    "Passkey",
    "Pending",
    "RefreshInfo",
    "SentCode",
    "SrpState",
]


@dataclass
class SrpState:
    """One pending PASSWORD_VERIFIER / DEVICE_PASSWORD_VERIFIER step (single use)."""

    pool_id: str
    client_id: str
    username: str
    srp: SrpServer = field(repr=False)
    srp_a: str = field(repr=False)
    secret_block: str = field(repr=False)
    expires_at: float
    device_key: str | None = None
    for_device: bool = False
    #: What follows the checked proof instead of the usual steps (CUSTOM_AUTH's define).
    then: Any = field(default=None, repr=False)


@dataclass
class DeviceStep:
    """A pending DEVICE_SRP_AUTH challenge, reached after the password was proven."""

    pool_id: str
    client_id: str
    username: str
    device_key: str
    expires_at: float


@dataclass
class Device:
    device_key: str
    group_key: str
    username: str
    created: float
    confirmed: bool = False
    remembered: bool = False
    name: str | None = None
    salt_hex: str | None = field(default=None, repr=False)
    verifier: int | None = field(default=None, repr=False)
    last_modified: float = 0.0
    last_authenticated: float | None = None


@dataclass
class RefreshInfo:
    """What moto does not keep about a refresh token: its device and its rotation."""

    device_key: str | None
    expires_at: float
    rotated_at: float | None = None


@dataclass(frozen=True)
class SentCode:
    """A code the local Cognito "sent" by mail or SMS (to the inbox only)."""

    pool_id: str
    username: str
    purpose: str
    code: str = field(repr=False)
    destination: str
    at: float
    #: The text the user got (the CustomMessage trigger's, when the pool has one).
    message: str | None = field(default=None, repr=False)
    subject: str | None = None


@dataclass
class Pending:
    """A challenge we answer ourselves (custom, choice, one-time code), single use."""

    pool_id: str
    client_id: str
    username: str
    expected: tuple[str, ...]
    expires_at: float
    device_key: str | None = None
    code: str | None = field(default=None, repr=False)
    #: A code sent to a new email address in MFA set-up: its answer turns email MFA on.
    email_setup: bool = False
    #: A trigger-made CUSTOM_CHALLENGE: its private parameters, metadata and the history.
    private: dict[str, str] | None = field(default=None, repr=False)
    metadata: Any = None
    history: list[dict[str, Any]] | None = None


@dataclass
class Passkey:
    """A registered credential: its id (base64url), public key (COSE) and counter."""

    credential_id: str
    public_key: bytes = field(repr=False)
    sign_count: int
    created_at: float
    attachment: str | None
    transports: list[str]


@dataclass
class Caller:
    """Who a step of a sign-in is for: moto's backend, pool, app client and user, the
    device the client named, and the request's ClientMetadata (for the triggers)."""

    backend: CognitoIdpBackend
    pool: CognitoIdpUserPool
    client: CognitoIdpUserPoolClient
    user: CognitoIdpUser
    device_key: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
