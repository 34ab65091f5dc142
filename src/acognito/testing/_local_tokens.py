"""Tokens of the local Cognito: minted on its one clock, shaped by PreTokenGeneration.

Every access and id token is signed with moto's pool key (so it verifies against the
JWKS moto publishes) and registered with moto, which keeps the tokens it honours.
``iat``, ``exp`` and ``auth_time`` come from the server's clock, the one the test API's
``clock`` route moves. With a PreTokenGeneration trigger, its event (V1: the id token;
V2 and V3: both tokens and the access token's scopes; V3 also client credentials) shapes
the claims before signing. :meth:`Tokens.sign_in` ends a successful sign-in:
PostAuthentication, a new device when the pool tracks them, the tokens and a refresh
token.
"""

from __future__ import annotations

import random
import secrets
import string
import uuid
from typing import Any

from joserfc import jwt
from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool, CognitoIdpUserPoolClient

from ._local_state import Caller, Device, Fault, LocalState, RefreshInfo
from ._local_triggers import TriggerRunner, user_attributes

__all__ = ["Tokens"]

#: Claims a PreTokenGeneration trigger may not add, change or suppress (Cognito ignores them).
_FIXED = frozenset(
    {
        "acr", "amr", "at_hash", "aud", "auth_time", "azp", "client_id", "cognito:username",
        "device_key", "event_id", "exp", "iat", "identities", "iss", "jti", "nbf", "nonce",
        "origin_jti", "scope", "sub", "token_use", "username", "version",
    }
)  # fmt: skip
#: Group claims: only ``groupOverrideDetails`` sets them.
_GROUPS = frozenset({"cognito:groups", "cognito:roles", "cognito:preferred_role"})
_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
_GROUP_ALPHABET = string.ascii_letters + string.digits
_HEADER = {"kid": "dummy", "alg": "RS256"}  # moto's published key id


class Tokens:
    """Mints tokens over the shared state, running the pool's PreTokenGeneration."""

    def __init__(self, state: LocalState, triggers: TriggerRunner) -> None:
        self.state = state
        self.triggers = triggers

    @staticmethod
    def validity(pool: CognitoIdpUserPool, client_id: str, kind: str) -> int:
        """Seconds a ``kind`` token (AccessToken, IdToken) of the client lives."""
        client = pool.clients.get(client_id)
        config = client.extended_config if client is not None else {}
        value = config.get(f"{kind}Validity")
        if not value:
            return 3600
        unit = (config.get("TokenValidityUnits") or {}).get(kind, "hours")
        return int(value) * _UNITS.get(unit, 3600)

    def mint(
        self,
        pool: CognitoIdpUserPool,
        client_id: str,
        user: CognitoIdpUser,
        origin_jti: str,
        device_key: str | None,
        *,
        source: str = "Authentication",
        scope: str = "aws.cognito.signin.user.admin",
        with_id: bool = True,
        nonce: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Access and id tokens, registered with moto: ``AccessToken``, ``ExpiresIn``,
        ``TokenType`` and ``IdToken`` (when ``with_id``). ``source`` names the
        TokenGeneration_ trigger source; the OAuth2 domain passes the granted ``scope``."""
        now = int(self.state.now())
        access_life = self.validity(pool, client_id, "AccessToken")
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
        ident: dict[str, Any] = {
            name: value == "true" if name.endswith("_verified") else value
            for name, value in user.attribute_lookup.items()
        }
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
                "exp": now + self.validity(pool, client_id, "IdToken"),
                "iat": now,
                "jti": str(uuid.uuid4()),
            }
        )
        if nonce is not None:
            ident["nonce"] = nonce
        if groups:
            access["cognito:groups"] = groups
            ident["cognito:groups"] = groups
        if self.triggers.configured(pool, "PreTokenGeneration"):
            self._shape(pool, client_id, user, source, groups, access, ident, metadata)
        access_token = jwt.encode(_HEADER, access, pool.json_web_key)
        pool.access_tokens[access_token] = (client_id, user.username)
        minted = {"AccessToken": access_token, "ExpiresIn": access_life, "TokenType": "Bearer"}
        if with_id:
            id_token = jwt.encode(_HEADER, ident, pool.json_web_key)
            pool.id_tokens[id_token] = (client_id, user.username)
            minted["IdToken"] = id_token
        return minted

    def machine(
        self, pool: CognitoIdpUserPool, client: CognitoIdpUserPoolClient, scopes: list[str]
    ) -> tuple[str, int]:
        """A client-credentials access token (V3 PreTokenGeneration shapes it); its life."""
        now = int(self.state.now())
        life = self.validity(pool, client.id, "AccessToken")
        claims: dict[str, Any] = {
            "sub": client.id,
            "token_use": "access",
            "scope": " ".join(scopes),
            "auth_time": now,
            "iss": f"https://cognito-idp.{pool.region}.amazonaws.com/{pool.id}",
            "exp": now + life,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client.id,
        }
        version = self.triggers.token_event_version(pool)
        if self.triggers.configured(pool, "PreTokenGeneration") and version == "3":
            request = {
                "userAttributes": {},
                "groupConfiguration": _group_configuration([]),
                "scopes": list(scopes),
            }
            response = self.triggers.run(
                "PreTokenGeneration", "TokenGeneration_ClientCredentials", pool, client.id,
                None, request, {"claimsAndScopeOverrideDetails": None}, version="3",
            )  # fmt: skip
            details = _details(response, "claimsAndScopeOverrideDetails")
            _apply(claims, _details(details, "accessTokenGeneration"), scopes=True)
        return jwt.encode(_HEADER, claims, pool.json_web_key), life

    def _shape(
        self,
        pool: CognitoIdpUserPool,
        client_id: str,
        user: CognitoIdpUser,
        source: str,
        groups: list[str],
        access: dict[str, Any],
        ident: dict[str, Any],
        metadata: dict[str, str] | None,
    ) -> None:
        """Run PreTokenGeneration and apply its answer to the claims (in place)."""
        version = self.triggers.token_event_version(pool)
        request: dict[str, Any] = {
            "userAttributes": user_attributes(user),
            "groupConfiguration": _group_configuration(groups),
        }
        if version != "1":
            request["scopes"] = str(access.get("scope", "")).split()
        if metadata:
            request["clientMetadata"] = metadata
        key = "claimsOverrideDetails" if version == "1" else "claimsAndScopeOverrideDetails"
        response = self.triggers.run(
            "PreTokenGeneration", f"TokenGeneration_{source}", pool, client_id, user.username,
            request, {key: None}, version=version,
        )  # fmt: skip
        details = _details(response, key)
        if version == "1":
            _apply(ident, details)
        else:
            _apply(ident, _details(details, "idTokenGeneration"))
            _apply(access, _details(details, "accessTokenGeneration"), scopes=True)
        override = _details(details, "groupOverrideDetails")
        if "groupsToOverride" in override:
            chosen = [str(g) for g in override.get("groupsToOverride") or []]
            for claims in (access, ident):
                claims.pop("cognito:groups", None)
                if chosen:
                    claims["cognito:groups"] = chosen
        if override.get("iamRolesToOverride"):
            ident["cognito:roles"] = [str(r) for r in override["iamRolesToOverride"]]
        if override.get("preferredRole"):
            ident["cognito:preferred_role"] = str(override["preferredRole"])

    def new_refresh(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        username: str,
        origin_jti: str,
        device_key: str | None,
        expires_at: float | None = None,
    ) -> str:
        """A refresh token known to moto, with our record (device, expiry, rotation)."""
        token = secrets.token_urlsafe(96)
        pool.refresh_tokens[token] = (client.id, username, origin_jti)
        config = client.extended_config
        value = config.get("RefreshTokenValidity") or 30
        unit = (config.get("TokenValidityUnits") or {}).get("RefreshToken", "days")
        if expires_at is None:
            expires_at = self.state.now() + float(value) * _UNITS.get(unit, 86400)
        with self.state.lock:
            self.state.refresh[token] = RefreshInfo(device_key, expires_at)
        return token

    # ------------------------------------------------------------ the end of a sign-in

    def sign_in(self, caller: Caller, source: str = "Authentication") -> dict[str, Any]:
        """A sign-in succeeded: PostAuthentication, a new device when the pool tracks
        devices and none was named, tokens and a refresh token."""
        pool, client, user = caller.pool, caller.client, caller.user
        device_key = caller.device_key
        new_device = None
        if pool.extended_config.get("DeviceConfiguration") and device_key is None:
            new_device = device_key = self._new_device(pool, user)
        if self.triggers.configured(pool, "PostAuthentication"):
            request: dict[str, Any] = {
                "userAttributes": user_attributes(user),
                "newDeviceUsed": new_device is not None,
            }
            if caller.metadata:
                request["clientMetadata"] = caller.metadata
            self.triggers.run(
                "PostAuthentication", "PostAuthentication_Authentication", pool, client.id,
                user.username, request, {},
            )  # fmt: skip
        origin_jti = str(uuid.uuid4())
        fresh = self.mint(
            pool, client.id, user, origin_jti, device_key, source=source, metadata=caller.metadata
        )
        fresh["RefreshToken"] = self.new_refresh(
            pool, client, user.username, origin_jti, device_key
        )
        if new_device is not None:
            fresh["NewDeviceMetadata"] = {
                "DeviceKey": new_device,
                "DeviceGroupKey": self.state.devices_of(pool.id)[new_device].group_key,
            }
        return {"ChallengeParameters": {}, "AuthenticationResult": fresh}

    def _new_device(self, pool: CognitoIdpUserPool, user: CognitoIdpUser) -> str:
        now = self.state.now()
        key = f"{pool.region}_{uuid.uuid4()}"
        group = "-" + "".join(random.choice(_GROUP_ALPHABET) for _ in range(9))  # noqa: S311
        with self.state.lock:
            self.state.devices_of(pool.id)[key] = Device(
                key, group, user.username, now, last_modified=now
            )
        return key


def _group_configuration(groups: list[str]) -> dict[str, Any]:
    return {"groupsToOverride": list(groups), "iamRolesToOverride": [], "preferredRole": None}


def _details(found: Any, key: str) -> dict[str, Any]:
    """``found[key]`` as an object ({} when absent or null); anything else is refused."""
    value = found.get(key) if isinstance(found, dict) else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Fault("InvalidLambdaResponseException", "Unrecognizable lambda output")
    return value


def _apply(claims: dict[str, Any], change: dict[str, Any], *, scopes: bool = False) -> None:
    """Apply claimsToAddOrOverride / claimsToSuppress (and the scope changes) in place."""
    added = change.get("claimsToAddOrOverride") or {}
    suppressed = change.get("claimsToSuppress") or []
    if not isinstance(added, dict) or not isinstance(suppressed, list):
        raise Fault("InvalidLambdaResponseException", "Unrecognizable lambda output")
    for name in suppressed:
        if str(name) not in _FIXED | _GROUPS:
            claims.pop(str(name), None)
    for name, value in added.items():
        if str(name) not in _FIXED | _GROUPS:
            claims[str(name)] = value
    if scopes:
        granted = str(claims.get("scope", "")).split()
        for scope in change.get("scopesToAdd") or []:
            if str(scope) not in granted:
                granted.append(str(scope))
        dropped = {str(s) for s in change.get("scopesToSuppress") or []}
        claims["scope"] = " ".join(s for s in granted if s not in dropped)
