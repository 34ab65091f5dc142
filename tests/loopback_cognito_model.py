"""State and small helpers of the loopback Cognito test server.

Plain records (pools, app clients, users, devices, grants, challenge states) and the
service fault the test server turns into an AWS JSON 1.1 error response. No I/O here.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import re
import secrets
import string
import uuid
from dataclasses import dataclass, field
from typing import Any

from acognito.testing import TokenIssuer

DEFAULT_FLOWS = (
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_AUTH",
)

#: Purposes of the out-of-band codes the test server "sends" (see ``last_code``).
SIGN_UP = "sign_up"
FORGOT_PASSWORD = "forgot_password"
SMS_MFA = "sms_mfa"


def verify_purpose(attribute: str) -> str:
    """The purpose under which a code verifying ``attribute`` is sent."""
    return f"verify_{attribute}"


class Fault(Exception):
    """A modeled Cognito error: HTTP 400 with ``__type`` = ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def not_authorized(message: str = "Incorrect username or password.") -> Fault:
    return Fault("NotAuthorizedException", message)


def invalid_parameter(message: str) -> Fault:
    return Fault("InvalidParameterException", message)


def random_id(length: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_pool_id(region: str) -> str:
    return f"{region}_{random_id(9, string.ascii_letters + string.digits)}"


def secret_hash(secret: str, username: str, client_id: str) -> str:
    """Cognito's SECRET_HASH: base64(HMAC-SHA256(secret, username + client_id))."""
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def password_digest(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1000)


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain[:1]}***"


def mask_phone(phone: str) -> str:
    return "+" + "*" * max(len(phone) - 5, 0) + phone[-4:]


def check_password_policy(password: str) -> None:
    """The default Cognito password policy: 8+ characters, all four classes."""
    rules = (
        (len(password) >= 8, "Password not long enough"),
        (any(c.isupper() for c in password), "Password must have uppercase characters"),
        (any(c.islower() for c in password), "Password must have lowercase characters"),
        (any(c.isdigit() for c in password), "Password must have numeric characters"),
        (
            any(not c.isalnum() and not c.isspace() for c in password),
            "Password must have symbol characters",
        ),
    )
    for ok, why in rules:
        if not ok:
            raise Fault("InvalidPasswordException", f"Password did not conform with policy: {why}")


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TIMESTAMP = re.compile(
    r"(?P<wd>[A-Z][a-z]{2}) (?P<mon>[A-Z][a-z]{2}) (?P<day>\d{1,2}) "
    r"(?P<hms>\d{2}:\d{2}:\d{2}) UTC (?P<year>\d{4})"
)


def canonical_timestamp(text: str) -> str:
    """The SRP TIMESTAMP as Cognito itself writes it ("Tue Sep 5 09:03:07 UTC 2023").

    Cognito verifies the claim signature over its own rendering of the date, so a
    zero-padded day or a wrong weekday makes the proof fail (measured on AWS and
    reported in ministackorg/ministack#1758); a value that is not a date at all is an
    InvalidParameterException (amazon-cognito-identity-js#683).
    """
    m = _TIMESTAMP.fullmatch(text or "")
    if m is None or m["mon"] not in _MONTHS:
        raise invalid_parameter("TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.")
    month = _MONTHS.index(m["mon"]) + 1
    year, day = int(m["year"]), int(m["day"])
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise invalid_parameter("TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.")
    weekday = _DAYS[calendar.weekday(year, month, day)]
    return f"{weekday} {m['mon']} {day} {m['hms']} UTC {year}"


# ---------------------------------------------------------------- records


@dataclass
class Client:
    client_id: str
    pool_id: str
    secret: str | None
    explicit_auth_flows: tuple[str, ...]
    enable_token_revocation: bool
    refresh_token_rotation: bool
    retry_grace_seconds: int
    access_token_validity: int
    id_token_validity: int
    refresh_token_validity: int
    auth_session_validity: int


@dataclass
class CodeRecord:
    code: str
    expires_at: float
    destination: str


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
class User:
    username: str
    sub: str
    attributes: dict[str, str]
    status: str
    password_salt: bytes = field(repr=False)
    password_hash: bytes = field(repr=False)
    srp_salt_hex: str = field(repr=False)
    srp_verifier: int = field(repr=False)
    created: float = 0.0
    enabled: bool = True
    groups: tuple[str, ...] = ()
    sms_mfa_enabled: bool = False
    sms_mfa_preferred: bool = False
    totp_secret: str | None = field(default=None, repr=False)
    totp_pending: str | None = field(default=None, repr=False)
    totp_enabled: bool = False
    totp_preferred: bool = False
    codes: dict[str, CodeRecord] = field(default_factory=dict, repr=False)

    def check_password(self, password: str) -> bool:
        return hmac.compare_digest(
            password_digest(password, self.password_salt), self.password_hash
        )


@dataclass
class Grant:
    """One sign-in: its refresh tokens and every token minted from them share origin_jti."""

    origin_jti: str
    pool_id: str
    client_id: str
    username: str
    device_key: str | None
    auth_time: int
    revoked: bool = False


@dataclass
class RefreshRecord:
    grant: Grant
    issued_at: float
    expires_at: float
    rotated_at: float | None = None


@dataclass
class ChallengeState:
    """A pending sign-in step: single-use, bound to one pool, client and user."""

    pool_id: str
    client_id: str
    username: str
    expected: tuple[str, ...]
    expires_at: float
    flow: str
    device_key: str | None = None
    srp: Any = field(default=None, repr=False)
    srp_a: str | None = field(default=None, repr=False)
    secret_block: str | None = field(default=None, repr=False)
    srp_device_key: str | None = None
    after_password: str | None = None
    code: str | None = field(default=None, repr=False)
    setup_secret: str | None = field(default=None, repr=False)
    setup_verified: bool = False
    used: bool = False


@dataclass
class Pool:
    pool_id: str
    region: str
    username_attributes: tuple[str, ...]
    device_tracking: bool
    device_remember_on_prompt: bool
    mfa: str
    prevent_user_existence_errors: bool
    issuer: TokenIssuer
    clients: dict[str, Client] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    custom_answer: str | None = field(default=None, repr=False)
    custom_parameters: dict[str, str] = field(default_factory=dict)

    @property
    def pool_name(self) -> str:
        """The part of the pool id after the region: what SRP hashes with the user name."""
        return self.pool_id.split("_", 1)[1]


@dataclass(frozen=True)
class RequestRecord:
    """One request the test server answered (``params`` holds secrets: not in repr)."""

    operation: str
    status: int
    error_code: str | None
    at: float
    params: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class UserSnapshot:
    """A copy of a user's state, for assertions in tests."""

    username: str
    sub: str
    status: str
    enabled: bool
    attributes: dict[str, str]
    groups: tuple[str, ...]
    sms_mfa_enabled: bool
    sms_mfa_preferred: bool
    totp_enabled: bool
    totp_preferred: bool


@dataclass(frozen=True)
class DeviceSnapshot:
    device_key: str
    group_key: str
    username: str
    confirmed: bool
    remembered: bool
    name: str | None


@dataclass(frozen=True)
class SentCode:
    """An out-of-band code the test server delivered (to nowhere but this list)."""

    pool_id: str
    username: str
    purpose: str
    code: str = field(repr=False)
    destination: str


def new_uuid() -> str:
    return str(uuid.uuid4())
