"""State and shared rules of the local Cognito's extensions to moto (server side).

moto keeps pools, clients, users and the tokens it knows; this module keeps what moto
lacks (SRP exchanges, devices, refresh-token rotation, the code inbox) and the rules the
operations share: finding a client's pool, SECRET_HASH, minting tokens with moto's
pool key so every token verifies against the JWKS moto publishes.
Runs inside the server process (it imports moto); nothing here does I/O.
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
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from moto.cognitoidp.models import (
    CognitoIdpBackend,
    CognitoIdpUser,
    CognitoIdpUserPool,
    CognitoIdpUserPoolClient,
    cognitoidp_backends,
)

from ..errors import JwtParseError
from ..tokens import peek_claims
from ._local_totp import TotpSecrets
from ._srp_server import SrpServer, user_verifier

__all__ = ["Fault", "LocalState", "SentCode"]

#: A handler's answer may carry extra response headers under this key.
HEADERS = "__headers__"

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
    then: str | None = None


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
            #: Pool id -> URL of the test process's auth challenge trigger callbacks.
            self.custom_triggers: dict[str, str] = {}
            self.requests: list[dict[str, Any]] = []
            self.internal_errors: list[str] = []
            self.used_sessions: set[str] = set()
            self.holds: dict[str, threading.Event] = {}
            self.recording = False
            #: Each user's TOTP secrets (moto hands every user the same one).
            self.totp = TotpSecrets()
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

    def record_code(
        self, pool: CognitoIdpUserPool, user: CognitoIdpUser, purpose: str, code: str
    ) -> None:
        """Put a code the user would get by mail or SMS into the inbox."""
        destination = user.attribute_lookup.get("email") or user.attribute_lookup.get(
            "phone_number", ""
        )
        with self.lock:
            self.inbox.append(
                SentCode(pool.id, user.username, purpose, code, str(destination), self.now())
            )

    # ------------------------------------------------------------ tokens

    @staticmethod
    def validity(pool: CognitoIdpUserPool, client_id: str, kind: str) -> int:
        """Seconds a ``kind`` token (AccessToken, IdToken) of the client lives."""
        client = pool.clients.get(client_id)
        config = client.extended_config if client is not None else {}
        value = config.get(f"{kind}Validity")
        if not value:
            return 3600
        unit = (config.get("TokenValidityUnits") or {}).get(kind, "hours")
        scale = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}.get(unit, 3600)
        return int(value) * scale

    def mint(
        self,
        pool: CognitoIdpUserPool,
        client_id: str,
        user: CognitoIdpUser,
        origin_jti: str,
        device_key: str | None,
        *,
        scope: str = "aws.cognito.signin.user.admin",
        with_id: bool = True,
        nonce: str | None = None,
    ) -> dict[str, Any]:
        """Access and id tokens signed with moto's pool key, registered with moto.

        The OAuth2 domain passes the granted ``scope``, the id token only with openid."""
        now = int(self.now())
        access_life = self.validity(pool, client_id, "AccessToken")
        id_life = self.validity(pool, client_id, "IdToken")
        issuer = f"https://cognito-idp.{pool.region}.amazonaws.com/{pool.id}"
        event_id = str(uuid.uuid4())
        groups = sorted(group.group_name for group in user.groups)
        access: dict[str, Any] = {
            "sub": user.id,
            "iss": issuer,
            "client_id": client_id,
            "origin_jti": origin_jti,
            "event_id": event_id,
            "token_use": "access",
            "scope": scope,
            "auth_time": now,
            "exp": now + access_life,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "username": user.username,
        }
        if device_key:
            access["device_key"] = device_key
        ident: dict[str, Any] = {}
        for name, value in user.attribute_lookup.items():
            ident[name] = value == "true" if name.endswith("_verified") else value
        ident.update(
            {
                "sub": user.id,
                "iss": issuer,
                "cognito:username": user.username,
                "origin_jti": origin_jti,
                "aud": client_id,
                "event_id": event_id,
                "token_use": "id",
                "auth_time": now,
                "exp": now + id_life,
                "iat": now,
                "jti": str(uuid.uuid4()),
            }
        )
        if nonce is not None:
            ident["nonce"] = nonce
        if groups:
            access["cognito:groups"] = groups
            ident["cognito:groups"] = groups
        header = {"kid": "dummy", "alg": "RS256"}  # moto's published key id
        access_token = jwt.encode(header, access, pool.json_web_key)
        pool.access_tokens[access_token] = (client_id, user.username)
        minted = {"AccessToken": access_token, "ExpiresIn": access_life, "TokenType": "Bearer"}
        if with_id:
            id_token = jwt.encode(header, ident, pool.json_web_key)
            pool.id_tokens[id_token] = (client_id, user.username)
            minted["IdToken"] = id_token
        return minted

    def new_refresh(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        username: str,
        origin_jti: str,
        device_key: str | None,
        expires_at: float | None = None,
    ) -> str:
        token = secrets.token_urlsafe(96)
        pool.refresh_tokens[token] = (client.id, username, origin_jti)
        config = client.extended_config
        value = config.get("RefreshTokenValidity") or 30
        unit = (config.get("TokenValidityUnits") or {}).get("RefreshToken", "days")
        scale = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}.get(unit, 86400)
        if expires_at is None:
            expires_at = self.now() + float(value) * scale
        with self.lock:
            self.refresh[token] = RefreshInfo(device_key, expires_at)
        return token

    def devices_of(self, pool_id: str) -> dict[str, Device]:
        with self.lock:
            return self.devices.setdefault(pool_id, {})
