"""The loopback Cognito test server's state and shared rules.

Pools, app clients and users live here behind one lock, with the rules every
operation shares: finding users by name or alias, SECRET_HASH, out-of-band codes,
minting tokens and checking access tokens. Operations live in sibling modules.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

import srp_server
from acognito.testing import TokenIssuer, totp
from loopback_cognito_model import (
    DEFAULT_FLOWS,
    Client,
    CodeRecord,
    DeviceSnapshot,
    Fault,
    Grant,
    Pool,
    RefreshRecord,
    RequestRecord,
    SentCode,
    User,
    UserSnapshot,
    invalid_parameter,
    mask_email,
    mask_phone,
    new_pool_id,
    new_uuid,
    not_authorized,
    password_digest,
    random_id,
    secret_hash,
)

#: How long each kind of code stays valid, in seconds (Cognito: 24 h, 1 h, 3 min).
CODE_TTL = {"sign_up": 86400, "forgot_password": 3600, "sms_mfa": 180}
DEFAULT_CODE_TTL = 86400


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def required(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise invalid_parameter(f"Missing required parameter {name}")
    return value


class CoreBackend:
    """State of the loopback Cognito test server (guarded by ``lock``)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.pools: dict[str, Pool] = {}
        self.clients: dict[str, Client] = {}
        self.kids: dict[str, Pool] = {}
        self.refresh_tokens: dict[str, RefreshRecord] = {}
        self.outbox: list[SentCode] = []
        self.requests: list[RequestRecord] = []
        self.internal_errors: list[str] = []

    # ------------------------------------------------------------ set-up API

    def create_pool(
        self,
        *,
        username_attributes: tuple[str, ...] | list[str] = (),
        device_tracking: bool = False,
        device_remember_on_prompt: bool = False,
        mfa: str = "OFF",
        region: str = "us-east-1",
        issuer: str | None = None,
        prevent_user_existence_errors: bool = False,
    ) -> str:
        if mfa not in ("OFF", "ON", "OPTIONAL"):
            raise ValueError("mfa must be OFF, ON or OPTIONAL")
        attrs = tuple(username_attributes)
        if not set(attrs) <= {"email", "phone_number"}:
            raise ValueError("username_attributes may hold 'email' and 'phone_number'")
        pool_id = new_pool_id(region)
        token_issuer = TokenIssuer(pool_id, region=region, issuer=issuer)
        pool = Pool(
            pool_id=pool_id,
            region=region,
            username_attributes=attrs,
            device_tracking=device_tracking,
            device_remember_on_prompt=device_remember_on_prompt,
            mfa=mfa,
            prevent_user_existence_errors=prevent_user_existence_errors,
            issuer=token_issuer,
        )
        with self.lock:
            self.pools[pool_id] = pool
            self.kids[token_issuer.kid] = pool
        return pool_id

    def create_client(
        self,
        pool_id: str,
        *,
        secret: bool = False,
        explicit_auth_flows: tuple[str, ...] | list[str] | None = None,
        enable_token_revocation: bool = True,
        refresh_token_rotation: bool = False,
        retry_grace_seconds: int = 0,
        access_token_validity: int = 3600,
        id_token_validity: int | None = None,
        refresh_token_validity: int = 30 * 86400,
        auth_session_validity: int = 180,
    ) -> tuple[str, str | None]:
        if explicit_auth_flows is None:
            flows = DEFAULT_FLOWS
            if refresh_token_rotation:
                # Rotation is done with GetTokensFromRefreshToken; AWS has the client
                # drop ALLOW_REFRESH_TOKEN_AUTH (developer guide, refresh tokens).
                flows = tuple(f for f in flows if f != "ALLOW_REFRESH_TOKEN_AUTH")
        else:
            flows = tuple(explicit_auth_flows)
        client = Client(
            client_id=random_id(26),
            pool_id=pool_id,
            secret=random_id(51) if secret else None,
            explicit_auth_flows=flows,
            enable_token_revocation=enable_token_revocation,
            refresh_token_rotation=refresh_token_rotation,
            retry_grace_seconds=retry_grace_seconds,
            access_token_validity=access_token_validity,
            id_token_validity=access_token_validity
            if id_token_validity is None
            else id_token_validity,
            refresh_token_validity=refresh_token_validity,
            auth_session_validity=auth_session_validity,
        )
        with self.lock:
            self._pool(pool_id).clients[client.client_id] = client
            self.clients[client.client_id] = client
        return client.client_id, client.secret

    def create_user(
        self,
        pool_id: str,
        username_or_email: str,
        password: str,
        *,
        attributes: Mapping[str, str] | None = None,
        confirmed: bool = True,
        status: str | None = None,
        enabled: bool = True,
        groups: tuple[str, ...] | list[str] = (),
    ) -> str:
        with self.lock:
            pool = self._pool(pool_id)
            attrs = dict(attributes or {})
            username = self._claim_username(pool, username_or_email, attrs)
            for name in ("email", "phone_number"):
                if name in attrs:
                    attrs.setdefault(f"{name}_verified", "true")
            if status is None:
                status = "CONFIRMED" if confirmed else "UNCONFIRMED"
            user = self._new_user(pool, username, password, attrs, status)
            user.enabled = enabled
            user.groups = tuple(groups)
            return user.username

    def set_custom_auth(
        self, pool_id: str, answer: str, *, parameters: Mapping[str, str] | None = None
    ) -> None:
        with self.lock:
            pool = self._pool(pool_id)
            pool.custom_answer = answer
            pool.custom_parameters = dict(parameters or {})

    def update_user(
        self,
        pool_id: str,
        username: str,
        *,
        status: str | None = None,
        enabled: bool | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        with self.lock:
            user = self._setup_user(pool_id, username)
            if status is not None:
                user.status = status
            if enabled is not None:
                user.enabled = enabled
            if attributes:
                user.attributes.update(attributes)

    def enable_totp(self, pool_id: str, username: str, *, preferred: bool = True) -> str:
        with self.lock:
            user = self._setup_user(pool_id, username)
            user.totp_secret = new_totp_secret()
            user.totp_enabled = True
            user.totp_preferred = preferred
            if preferred:
                user.sms_mfa_preferred = False
            return user.totp_secret

    def enable_sms_mfa(self, pool_id: str, username: str, *, preferred: bool = True) -> None:
        with self.lock:
            user = self._setup_user(pool_id, username)
            if "phone_number" not in user.attributes:
                raise ValueError("SMS MFA needs a phone_number attribute")
            user.sms_mfa_enabled = True
            user.sms_mfa_preferred = preferred
            if preferred:
                user.totp_preferred = False

    # ------------------------------------------------------------ inspection

    def last_code(self, pool_id: str, username: str, purpose: str) -> str:
        with self.lock:
            name = self._setup_user(pool_id, username).username
            for sent in reversed(self.outbox):
                if sent.pool_id == pool_id and sent.username == name and sent.purpose == purpose:
                    return sent.code
        raise LookupError(f"no {purpose} code was sent to {username!r}")

    def user(self, pool_id: str, username: str) -> UserSnapshot:
        with self.lock:
            u = self._setup_user(pool_id, username)
            return UserSnapshot(
                username=u.username,
                sub=u.sub,
                status=u.status,
                enabled=u.enabled,
                attributes=dict(u.attributes),
                groups=u.groups,
                sms_mfa_enabled=u.sms_mfa_enabled,
                sms_mfa_preferred=u.sms_mfa_preferred,
                totp_enabled=u.totp_enabled,
                totp_preferred=u.totp_preferred,
            )

    def has_user(self, pool_id: str, username: str) -> bool:
        with self.lock:
            return self._find_user(self._pool(pool_id), username) is not None

    def totp_secret(self, pool_id: str, username: str) -> str | None:
        with self.lock:
            u = self._setup_user(pool_id, username)
            return u.totp_secret or u.totp_pending

    def devices(self, pool_id: str, username: str) -> list[DeviceSnapshot]:
        with self.lock:
            pool = self._pool(pool_id)
            name = self._setup_user(pool_id, username).username
            return [
                DeviceSnapshot(
                    d.device_key, d.group_key, d.username, d.confirmed, d.remembered, d.name
                )
                for d in pool.devices.values()
                if d.username == name
            ]

    def refresh_token_status(self, token: str) -> str:
        """``active``, ``rotated``, ``revoked``, ``expired`` or ``unknown``."""
        with self.lock:
            rec = self.refresh_tokens.get(token)
            if rec is None:
                return "unknown"
            if rec.grant.revoked:
                return "revoked"
            if rec.rotated_at is not None:
                return "rotated"
            if self.clock() >= rec.expires_at:
                return "expired"
            return "active"

    def issuer(self, pool_id: str) -> TokenIssuer:
        with self.lock:
            return self._pool(pool_id).issuer

    def jwks(self, pool_id: str) -> dict[str, Any] | None:
        with self.lock:
            pool = self.pools.get(pool_id)
            return None if pool is None else pool.issuer.jwks()

    # ------------------------------------------------------------ shared rules

    def _pool(self, pool_id: str) -> Pool:
        pool = self.pools.get(pool_id)
        if pool is None:
            raise Fault("ResourceNotFoundException", f"User pool {pool_id} does not exist.")
        return pool

    def _client(self, params: Mapping[str, Any]) -> tuple[Pool, Client]:
        client_id = required(params, "ClientId")
        client = self.clients.get(client_id)
        if client is None:
            raise Fault(
                "ResourceNotFoundException", f"User pool client {client_id} does not exist."
            )
        return self.pools[client.pool_id], client

    def _setup_user(self, pool_id: str, username: str) -> User:
        user = self._find_user(self._pool(pool_id), username)
        if user is None:
            raise LookupError(f"no user {username!r} in {pool_id}")
        return user

    def _find_user(self, pool: Pool, typed: str) -> User | None:
        """A user by pool user name, or by a username attribute (email, phone)."""
        user = pool.users.get(typed)
        if user is not None or not pool.username_attributes:
            return user
        for candidate in pool.users.values():
            for attr in pool.username_attributes:
                value = candidate.attributes.get(attr)
                if value is None:
                    continue
                if value == typed or (attr == "email" and value.lower() == typed.lower()):
                    return candidate
        return None

    def _user_or_fault(self, pool: Pool, typed: str) -> User:
        user = self._find_user(pool, typed)
        if user is None:
            if pool.prevent_user_existence_errors:
                raise not_authorized()
            raise Fault("UserNotFoundException", "User does not exist.")
        return user

    def _claim_username(self, pool: Pool, typed: str, attrs: dict[str, str]) -> str:
        """The pool user name for a new user typed as ``typed`` (a sub for alias pools)."""
        if pool.username_attributes:
            attr = "email" if "@" in typed else "phone_number"
            if attr not in pool.username_attributes:
                wanted = "an email" if "email" in pool.username_attributes else "a phone number"
                raise invalid_parameter(f"Username should be {wanted}.")
            if self._find_user(pool, typed) is not None:
                what = "email" if attr == "email" else "phone_number"
                raise Fault(
                    "UsernameExistsException", f"An account with the given {what} already exists."
                )
            attrs[attr] = typed
            return new_uuid()
        if typed in pool.users:
            raise Fault("UsernameExistsException", "User already exists")
        return typed

    def _new_user(
        self, pool: Pool, username: str, password: str, attrs: dict[str, str], status: str
    ) -> User:
        sub = username if pool.username_attributes else new_uuid()
        attrs.pop("sub", None)
        user = User(
            username=username,
            sub=sub,
            attributes=attrs,
            status=status,
            password_salt=b"",
            password_hash=b"",
            srp_salt_hex="",
            srp_verifier=0,
            created=self.clock(),
        )
        self._set_password(pool, user, password)
        pool.users[username] = user
        return user

    def _set_password(self, pool: Pool, user: User, password: str) -> None:
        user.password_salt = secrets.token_bytes(16)
        user.password_hash = password_digest(password, user.password_salt)
        user.srp_salt_hex, user.srp_verifier = srp_server.user_verifier(
            pool.pool_id, user.username, password
        )

    def _check_secret_hash(
        self, client: Client, username: str, provided: str | None, *, refresh: bool = False
    ) -> None:
        """SECRET_HASH for a confidential client, over ``username`` (compared in constant time)."""
        if client.secret is None:
            return
        if not provided:
            raise not_authorized(
                f"Client {client.client_id} is configured with secret "
                "but SECRET_HASH was not received"
            )
        expected = secret_hash(client.secret, username, client.client_id)
        if not hmac.compare_digest(expected.encode(), str(provided).encode()):
            if refresh:
                raise not_authorized(
                    f"SecretHash does not match for the client: {client.client_id}"
                )
            raise not_authorized(f"Unable to verify secret hash for client {client.client_id}")

    def _send_code(self, pool: Pool, user: User, purpose: str, attribute: str) -> dict[str, str]:
        destination = user.attributes.get(attribute)
        if not destination:
            raise invalid_parameter(f"User has no {attribute} to send a code to")
        code = f"{secrets.randbelow(10**6):06d}"
        ttl = CODE_TTL.get(purpose, DEFAULT_CODE_TTL)
        user.codes[purpose] = CodeRecord(code, self.clock() + ttl, destination)
        self.outbox.append(SentCode(pool.pool_id, user.username, purpose, code, destination))
        email = attribute == "email"
        return {
            "Destination": mask_email(destination) if email else mask_phone(destination),
            "DeliveryMedium": "EMAIL" if email else "SMS",
            "AttributeName": attribute,
        }

    def _use_code(self, user: User, purpose: str, code: str | None) -> None:
        rec = user.codes.get(purpose)
        if (
            rec is None
            or not code
            or not hmac.compare_digest(rec.code.encode(), str(code).encode())
        ):
            raise Fault(
                "CodeMismatchException", "Invalid verification code provided, please try again."
            )
        if self.clock() >= rec.expires_at:
            raise Fault(
                "ExpiredCodeException", "Invalid code provided, please request a code again."
            )
        del user.codes[purpose]

    def _totp_ok(self, secret: str, code: str | None) -> bool:
        if not code:
            return False
        now = self.clock()
        # Allow one 30-second step of clock skew either way, as Cognito does.
        return any(
            hmac.compare_digest(totp(secret, at=now + 30 * step).encode(), str(code).encode())
            for step in (-1, 0, 1)
        )

    # ------------------------------------------------------------ tokens

    def _mint(self, pool: Pool, client: Client, user: User, grant: Grant) -> dict[str, Any]:
        """New access and id tokens for ``grant`` (no refresh token)."""
        now = int(self.clock())
        event_id = new_uuid()
        access: dict[str, Any] = {
            "sub": user.sub,
            "iss": pool.issuer.issuer,
            "client_id": client.client_id,
            "origin_jti": grant.origin_jti,
            "event_id": event_id,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "auth_time": grant.auth_time,
            "exp": now + client.access_token_validity,
            "iat": now,
            "jti": new_uuid(),
            "username": user.username,
        }
        if grant.device_key:
            access["device_key"] = grant.device_key
        ident: dict[str, Any] = {"sub": user.sub}
        for name, value in user.attributes.items():
            ident[name] = value == "true" if name.endswith("_verified") else value
        ident.update(
            {
                "iss": pool.issuer.issuer,
                "cognito:username": user.username,
                "origin_jti": grant.origin_jti,
                "aud": client.client_id,
                "event_id": event_id,
                "token_use": "id",
                "auth_time": grant.auth_time,
                "exp": now + client.id_token_validity,
                "iat": now,
                "jti": new_uuid(),
            }
        )
        if user.groups:
            access["cognito:groups"] = list(user.groups)
            ident["cognito:groups"] = list(user.groups)
        return {
            "AccessToken": pool.issuer.sign(access),
            "ExpiresIn": client.access_token_validity,
            "TokenType": "Bearer",
            "IdToken": pool.issuer.sign(ident),
        }

    def _new_refresh(self, grant: Grant, client: Client, expires_at: float | None = None) -> str:
        token = secrets.token_urlsafe(96)
        now = self.clock()
        self.refresh_tokens[token] = RefreshRecord(
            grant=grant,
            issued_at=now,
            expires_at=now + client.refresh_token_validity if expires_at is None else expires_at,
        )
        return token

    def _access(self, params: Mapping[str, Any]) -> tuple[Pool, User, dict[str, Any]]:
        """The pool, user and claims of a valid, unrevoked access token in ``params``."""
        token = required(params, "AccessToken")
        parts = str(token).split(".")
        invalid = not_authorized("Invalid Access Token")
        if len(parts) != 3:
            raise invalid
        try:
            header = json.loads(_b64url_decode(parts[0]))
            pool = self.kids.get(header.get("kid")) if isinstance(header, dict) else None
            if pool is None or header.get("alg") != "RS256":
                raise invalid
            pool.issuer.private_key.public_key().verify(
                _b64url_decode(parts[2]),
                f"{parts[0]}.{parts[1]}".encode("ascii"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
            claims = json.loads(_b64url_decode(parts[1]))
        except (ValueError, binascii.Error, UnicodeError, InvalidSignature):
            raise invalid from None
        if claims.get("token_use") != "access" or claims.get("iss") != pool.issuer.issuer:
            raise invalid
        if int(claims.get("exp", 0)) <= self.clock():
            raise not_authorized("Access Token has expired")
        grant = pool.grants.get(claims.get("origin_jti", ""))
        if grant is None or grant.revoked:
            raise not_authorized("Access Token has been revoked")
        user = pool.users.get(claims.get("username", ""))
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        if not user.enabled:
            raise not_authorized("User is disabled.")
        return pool, user, claims

    def _revoke_user(self, pool: Pool, user: User) -> None:
        for grant in pool.grants.values():
            if grant.username == user.username:
                grant.revoked = True

    def _user_view(self, user: User) -> dict[str, Any]:
        attributes = [{"Name": "sub", "Value": user.sub}]
        attributes += [{"Name": k, "Value": v} for k, v in user.attributes.items()]
        view: dict[str, Any] = {"Username": user.username, "UserAttributes": attributes}
        settings = []
        if user.sms_mfa_enabled:
            settings.append("SMS_MFA")
            view["MFAOptions"] = [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
        if user.totp_enabled:
            settings.append("SOFTWARE_TOKEN_MFA")
        if settings:
            view["UserMFASettingList"] = settings
        if user.totp_preferred:
            view["PreferredMfaSetting"] = "SOFTWARE_TOKEN_MFA"
        elif user.sms_mfa_preferred:
            view["PreferredMfaSetting"] = "SMS_MFA"
        return view


def new_totp_secret() -> str:
    """A base32 TOTP secret (52 characters, like Cognito's), without padding."""
    return base64.b32encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
