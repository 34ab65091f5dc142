"""The one state every handler of the local Cognito works over, and the rules they share.

moto keeps pools, clients, users and the tokens it knows; :class:`LocalState` keeps what
moto lacks (SRP exchanges, devices, refresh-token rotation, the code inbox, TOTP
secrets, email MFA, passkeys, single-use challenge sessions, trigger registrations) on
one clock the test API can move. The shared rules live here too: finding a client's
pool, SECRET_HASH, a user's status before a sign-in, Cognito's error faults. Runs inside
the server process (it imports moto); nothing here does I/O.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import ipaddress
import re
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from moto.cognitoidp.models import (
    CognitoIdpBackend,
    CognitoIdpUser,
    CognitoIdpUserPool,
    CognitoIdpUserPoolClient,
    cognitoidp_backends,
)
from moto.core.exceptions import JsonRESTError

from ..errors import JwtParseError
from ..tokens import peek_claims
from ._local_records import (
    Caller,
    Device,
    DeviceStep,
    Passkey,
    Pending,
    RefreshInfo,
    SentCode,
    SrpState,
)
from ._local_totp import TotpSecrets
from ._srp_server import user_verifier

__all__ = [
    "Caller",
    "Device",
    "DeviceStep",
    "Fault",
    "LocalState",
    "Passkey",
    "Pending",
    "RefreshInfo",
    "SentCode",
    "SrpState",
]

#: A handler's answer may carry extra response headers under this key.
HEADERS = "__headers__"

#: Our name for ConfirmSignUp's session (it expects one USER_AUTH sign-in, no password).
SIGN_UP_SESSION = "SIGN_UP_SESSION"

#: What local error messages end with, so a user reading one knows where it came from.
NOT_SUPPORTED = "is not supported by the local Cognito (acognito.testing)"


class Fault(Exception):
    """A Cognito error answered as HTTP 400 with ``__type`` = ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def not_authorized(message: str = "Incorrect username or password.") -> Fault:
    return Fault("NotAuthorizedException", message)


def invalid_parameter(message: str) -> Fault:
    return Fault("InvalidParameterException", message)


def unsupported(what: str) -> Fault:
    return Fault("UnsupportedOperationException", f"{what} {NOT_SUPPORTED}")


def moto_call(call: Any, *args: Any) -> Any:
    """Run a moto backend method, its errors turned into our faults."""
    try:
        return call(*args)
    except JsonRESTError as exc:
        raise Fault(exc.error_type, exc.message) from None


def required(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise invalid_parameter(f"Missing required parameter {name}")
    return value


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this
    machine's loopback: ``localhost`` (and ``*.localhost``), 127.0.0.0/8 or ``::1``."""
    name = host.strip().rstrip(".").lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def secret_hash(secret: str, username: str, client_id: str) -> str:
    """Cognito's SECRET_HASH: base64(HMAC-SHA256(secret, username + client_id))."""
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def same(a: str, b: str) -> bool:
    """Constant-time equality of two strings."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TIMESTAMP = re.compile(
    r"(?P<wd>[A-Z][a-z]{2}) (?P<mon>[A-Z][a-z]{2}) (?P<day>\d{1,2}) "
    r"(?P<hms>\d{2}:\d{2}:\d{2}) UTC (?P<year>\d{4})"
)
_BAD_TIMESTAMP = "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english."


def canonical_timestamp(text: str) -> str:
    """The SRP TIMESTAMP as Cognito writes it ("Tue Sep 5 09:03:07 UTC 2023").

    Cognito checks the claim over its own rendering of the date: a zero-padded day or
    a wrong weekday fails the proof; a value that is no date is InvalidParameter.
    """
    m = _TIMESTAMP.fullmatch(text or "")
    if m is None or m["mon"] not in _MONTHS:
        raise invalid_parameter(_BAD_TIMESTAMP)
    month = _MONTHS.index(m["mon"]) + 1
    year, day = int(m["year"]), int(m["day"])
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise invalid_parameter(_BAD_TIMESTAMP)
    weekday = _DAYS[calendar.weekday(year, month, day)]
    return f"{weekday} {m['mon']} {day} {m['hms']} UTC {year}"


def client_metadata(params: Mapping[str, Any]) -> dict[str, str]:
    """A request's ClientMetadata, as the triggers get it."""
    given = params.get("ClientMetadata")
    if not isinstance(given, dict):
        return {}
    return {str(k): str(v) for k, v in given.items()}


def may_sign_in(user: CognitoIdpUser) -> None:
    """Refuse a disabled, unconfirmed or reset user (before the password, as Cognito does)."""
    if not user.enabled:
        raise not_authorized("User is disabled.")
    if user.status == "UNCONFIRMED":
        raise Fault("UserNotConfirmedException", "User is not confirmed.")
    if user.status == "RESET_REQUIRED":
        raise Fault("PasswordResetRequiredException", "Password reset required for the user")


def pool_user(pool: CognitoIdpUserPool, typed: str) -> CognitoIdpUser | None:
    """A user by pool user name, or by a sign-in alias (email, phone), like Cognito."""
    user = pool.users.get(typed)
    if user is not None:
        return user
    config = pool.extended_config
    attrs = [*config.get("UsernameAttributes", []), *config.get("AliasAttributes", [])]
    for candidate in pool.users.values():
        for attr in attrs:
            value = candidate.attribute_lookup.get(attr)
            if value is None:
                continue
            if value == typed or (attr == "email" and value.lower() == typed.lower()):
                return candidate
    return None


class LocalState:
    """Everything the extensions keep, guarded by ``lock`` (one per server process)."""

    #: Seconds a challenge step stays answerable (Cognito's default session: 3 minutes).
    SESSION_SECONDS = 180
    #: Longest a held operation waits for its release (test API ``hold``).
    HOLD_SECONDS = 10.0

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clock_offset = 0.0
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.srp_states: dict[str, SrpState] = {}
            self.device_steps: dict[str, DeviceStep] = {}
            self.devices: dict[str, dict[str, Device]] = {}
            self.refresh: dict[str, RefreshInfo] = {}
            self.inbox: list[SentCode] = []
            self.verifiers: dict[tuple[str, str, str], tuple[str, int]] = {}
            self.codes: dict[tuple[str, str, str], tuple[str, float]] = {}
            self.pending: dict[str, Any] = {}
            self.custom_auth: dict[str, tuple[str, dict[str, str]]] = {}
            self.requests: list[dict[str, Any]] = []
            self.internal_errors: list[str] = []
            self.used_sessions: set[str] = set()
            #: When each of moto's sessions we hand out (NEW_PASSWORD_REQUIRED,
            #: MFA_SETUP) expires on our clock: moto keeps its sessions forever.
            self.moto_sessions: dict[str, float] = {}
            self.holds: dict[str, threading.Event] = {}
            self.recording = False
            #: Each user's TOTP secrets (moto hands every user the same one).
            self.totp = TotpSecrets()
            #: EmailMfaConfiguration per pool id, and (pool id, user name) with email MFA on.
            self.email_config: dict[str, dict[str, Any]] = {}
            self.email_users: set[tuple[str, str]] = set()
            #: Passkeys per (pool id, user sub), and the one pending registration challenge.
            self.passkeys: dict[tuple[str, str], list[Passkey]] = {}
            self.registering: dict[tuple[str, str], tuple[bytes, float]] = {}
            #: Pool id -> Lambda trigger name -> URL of the test process's callback host.
            self.trigger_urls: dict[str, dict[str, str]] = {}
            #: Pool id -> PreTokenGeneration event version ("1", "2" or "3") set with the URL.
            self.token_versions: dict[str, str] = {}
            #: Answers that broke botocore's model of the operation (shape checks on).
            self.shape_violations: list[str] = []
            self._client_pool: dict[str, tuple[CognitoIdpBackend, CognitoIdpUserPool]] = {}

    def now(self) -> float:
        return time.time() + self.clock_offset

    # ------------------------------------------------------------ moto's objects

    @staticmethod
    def backends() -> Iterator[CognitoIdpBackend]:
        for regions in list(cognitoidp_backends.values()):
            yield from list(regions.values())

    def client(
        self, client_id: Any
    ) -> tuple[CognitoIdpBackend, CognitoIdpUserPool, CognitoIdpUserPoolClient]:
        """The backend, pool and app client of ``client_id`` (ResourceNotFound if none)."""
        cid = str(client_id or "")
        found = self._client_pool.get(cid)
        if found is not None:
            backend, pool = found
            if backend.user_pools.get(pool.id) is pool and cid in pool.clients:
                return backend, pool, pool.clients[cid]
        for backend in self.backends():
            for pool in list(backend.user_pools.values()):
                if cid in pool.clients:
                    self._client_pool[cid] = (backend, pool)
                    return backend, pool, pool.clients[cid]
        raise Fault("ResourceNotFoundException", f"User pool client {cid} does not exist.")

    def pool(self, pool_id: Any) -> tuple[CognitoIdpBackend, CognitoIdpUserPool]:
        pid = str(pool_id or "")
        for backend in self.backends():
            pool = backend.user_pools.get(pid)
            if pool is not None:
                return backend, pool
        raise Fault("ResourceNotFoundException", f"User pool {pid} does not exist.")

    def access(
        self, token: Any
    ) -> tuple[CognitoIdpBackend, CognitoIdpUserPool, CognitoIdpUser, dict[str, Any]]:
        """The pool, user and claims of an access token moto (or we) issued and still honour."""
        text = str(token or "")
        invalid = not_authorized("Invalid Access Token")
        try:
            claims = peek_claims(text)
            pool_id = str(claims["iss"]).rsplit("/", 1)[1]
        except (IndexError, KeyError, JwtParseError):
            raise invalid from None
        if not isinstance(claims, dict):
            raise invalid
        backend, pool = self.pool(pool_id)
        known = pool.access_tokens.get(text)
        if known is None:
            raise not_authorized("Access Token has been revoked")
        if int(claims.get("exp", 0)) <= self.now():
            raise not_authorized("Access Token has expired")
        user = pool.users.get(known[1]) or pool_user(pool, known[1])
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        if not user.enabled:
            raise not_authorized("User is disabled.")
        return backend, pool, user, claims

    # ------------------------------------------------------------ rules

    def check_secret_hash(
        self, client: CognitoIdpUserPoolClient, username: str, provided: Any
    ) -> None:
        """SECRET_HASH of a confidential client over ``username``, compared in constant time."""
        if not client.generate_secret:
            return
        if not provided:
            raise not_authorized(
                f"Client {client.id} is configured with secret but SECRET_HASH was not received"
            )
        expected = secret_hash(client.secret, username, client.id)
        if not same(expected, str(provided)):
            raise not_authorized(f"Unable to verify secret hash for client {client.id}")

    def verifier(self, pool: CognitoIdpUserPool, user: CognitoIdpUser) -> tuple[str, int]:
        """(salt_hex, v) of the user's current password, computed once per password."""
        password = user.password or ""
        key = (pool.id, user.username, hashlib.sha256(password.encode()).hexdigest())
        with self.lock:
            found = self.verifiers.get(key)
        if found is None:
            found = user_verifier(pool.id, user.username, password)
            with self.lock:
                self.verifiers[key] = found
        return found

    def new_block(self) -> str:
        return base64.b64encode(secrets.token_bytes(96)).decode("ascii")

    def prune(self) -> None:
        now = self.now()
        with self.lock:
            for table in (self.srp_states, self.device_steps):
                for key in [k for k, s in table.items() if now >= s.expires_at]:
                    del table[key]

    def devices_of(self, pool_id: str) -> dict[str, Device]:
        with self.lock:
            return self.devices.setdefault(pool_id, {})

    # ------------------------------------------------------------ our challenge sessions

    def open_session(
        self,
        caller: Caller,
        expected: tuple[str, ...],
        code: str | None = None,
    ) -> str:
        """A single-use session for a challenge we answer, valid for the client's
        AuthSessionValidity (minutes, default 3)."""
        session = secrets.token_urlsafe(96)
        minutes = caller.client.extended_config.get("AuthSessionValidity") or 3
        with self.lock:
            self.pending[session] = Pending(
                caller.pool.id,
                caller.client.id,
                caller.user.username,
                expected,
                self.now() + float(minutes) * 60,
                caller.device_key,
                code,
            )
        return session

    def is_ours(self, session: str) -> bool:
        """Whether ``session`` is (or was) one of our challenge sessions."""
        with self.lock:
            return session in self.pending or session in self.used_sessions

    def take_session(self, session: Any, client: CognitoIdpUserPoolClient, name: str) -> Pending:
        """Spend a session on an answer to ``name``: NotAuthorized when unknown, used,
        expired or another client's; InvalidParameter when it expects another challenge."""
        key = str(session or "")
        with self.lock:
            step: Pending | None = self.pending.pop(key, None)
            reused = step is None and key in self.used_sessions
            self.used_sessions.add(key)
        if reused:
            raise not_authorized("Invalid session for the user, session can only be used once.")
        if step is None or step.client_id != client.id:
            raise not_authorized("Invalid session for the user.")
        if self.now() >= step.expires_at:
            raise not_authorized("Invalid session for the user, session is expired.")
        if name not in step.expected:
            raise invalid_parameter(f"The session expects {step.expected[0]}, not {name}")
        return step

    def moto_session(self, client: CognitoIdpUserPoolClient, session: str) -> str:
        """Give one of moto's sessions the client's AuthSessionValidity on our clock."""
        minutes = client.extended_config.get("AuthSessionValidity") or 3
        with self.lock:
            self.moto_sessions[session] = self.now() + float(minutes) * 60
        return session

    def moto_session_expired(self, session: str) -> bool:
        with self.lock:
            until = self.moto_sessions.get(session)
        return until is not None and self.now() >= until
