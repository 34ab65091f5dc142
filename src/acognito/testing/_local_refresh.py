"""Refresh tokens on the local Cognito: refresh, rotation and revocation.

A refresh token moto knows and nobody revoked (GlobalSignOut, RevokeToken) mints new
access and id tokens (PreTokenGeneration sees TokenGeneration_RefreshTokens), a
device-bound one only with its confirmed device named. REFRESH_TOKEN_AUTH refuses a
rotated token; GetTokensFromRefreshToken rotates the token when the client says so,
honouring its grace period; RevokeToken retires a token's whole family (every rotation
of one sign-in) and the access tokens minted from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool, CognitoIdpUserPoolClient

from ..errors import JwtParseError
from ..tokens import peek_claims
from ._local_state import (
    Fault,
    LocalState,
    RefreshInfo,
    client_metadata,
    not_authorized,
    pool_user,
    required,
    same,
)
from ._local_tokens import Tokens

__all__ = ["Refresh"]

Op = Callable[[Mapping[str, Any]], dict[str, Any]]
_INVALID_REFRESH = "Invalid Refresh Token."


def _origin_jti(token: str) -> str | None:
    try:
        claims = peek_claims(token)
    except JwtParseError:
        return None
    value = claims.get("origin_jti")
    return value if isinstance(value, str) else None


class Refresh:
    """Refresh-token operations over the shared state and the tokens."""

    def __init__(self, state: LocalState, tokens: Tokens) -> None:
        self.state = state
        self.tokens = tokens

    def operations(self) -> dict[str, Op]:
        return {
            "GetTokensFromRefreshToken": self.get_tokens,
            "RevokeToken": self.revoke,
        }

    def refreshable(
        self, pool: CognitoIdpUserPool, client: CognitoIdpUserPoolClient, token: str
    ) -> tuple[CognitoIdpUser, str, RefreshInfo | None]:
        """The user, origin jti and our record of a live refresh token of ``client``."""
        if token not in pool.refresh_tokens:
            raise not_authorized(_INVALID_REFRESH)
        entry = pool.refresh_tokens[token]
        if entry is None:
            raise not_authorized("Refresh Token has been revoked")
        client_id, username, origin_jti = entry
        if client_id != client.id:
            raise not_authorized(_INVALID_REFRESH)
        with self.state.lock:
            info = self.state.refresh.get(token)
        if info is not None and self.state.now() >= info.expires_at:
            raise not_authorized("Refresh Token has expired")
        user = pool_user(pool, username)
        if user is None:
            raise not_authorized(_INVALID_REFRESH)
        if not user.enabled:
            raise not_authorized("User is disabled.")
        return user, origin_jti, info

    def _device_ok(self, pool: CognitoIdpUserPool, info: RefreshInfo | None, named: Any) -> bool:
        """A device-bound token needs its confirmed device named (as Cognito does)."""
        device_key = info.device_key if info is not None else None
        if device_key is None:
            return True
        device = self.state.devices_of(pool.id).get(device_key)
        return device is not None and device.confirmed and named == device_key

    def initiate(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        ap: Mapping[str, Any],
        params: Mapping[str, Any],
    ) -> dict[str, Any]:
        """InitiateAuth REFRESH_TOKEN_AUTH."""
        token = str(required(ap, "REFRESH_TOKEN"))
        user, origin_jti, info = self.refreshable(pool, client, token)
        # The hash is over the pool's user name (the sub in an email pool).
        try:
            self.state.check_secret_hash(client, user.username, ap.get("SECRET_HASH"))
        except Fault as fault:
            if "SECRET_HASH was not received" in fault.message:
                raise
            raise not_authorized(f"SecretHash does not match for the client: {client.id}") from None
        if info is not None and info.rotated_at is not None:
            raise not_authorized(_INVALID_REFRESH)
        if not self._device_ok(pool, info, ap.get("DEVICE_KEY")):
            raise not_authorized(_INVALID_REFRESH)
        minted = self.tokens.mint(
            pool, client.id, user, origin_jti, info.device_key if info else None,
            source="RefreshTokens", metadata=client_metadata(params),
        )  # fmt: skip
        return {"ChallengeParameters": {}, "AuthenticationResult": minted}

    def get_tokens(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """GetTokensFromRefreshToken: new tokens, and a new refresh token with rotation."""
        _, pool, client = self.state.client(params.get("ClientId"))
        token = str(required(params, "RefreshToken"))
        if client.generate_secret:
            given = str(params.get("ClientSecret") or "")
            if not given:
                raise Fault(
                    "NotAuthorizedException",
                    f"Client {client.id} is configured with secret "
                    "but ClientSecret was not received",
                )
            if not same(client.secret, given):
                raise Fault(
                    "NotAuthorizedException", f"Unable to verify secret for client {client.id}"
                )
        user, origin_jti, info = self.refreshable(pool, client, token)
        rotation = client.extended_config.get("RefreshTokenRotation") or {}
        grace = float(rotation.get("RetryGracePeriodSeconds") or 0)
        now = self.state.now()
        if info is not None and info.rotated_at is not None and now >= info.rotated_at + grace:
            raise Fault("RefreshTokenReuseException", "Refresh token has already been rotated.")
        if not self._device_ok(pool, info, params.get("DeviceKey")):
            raise Fault("NotAuthorizedException", _INVALID_REFRESH)
        device_key = info.device_key if info is not None else None
        result = self.tokens.mint(
            pool, client.id, user, origin_jti, device_key,
            source="RefreshTokens", metadata=client_metadata(params),
        )  # fmt: skip
        if rotation.get("Feature") == "ENABLED":
            expires_at = info.expires_at if info is not None else None
            if info is not None and info.rotated_at is None:
                info.rotated_at = now
            result["RefreshToken"] = self.tokens.new_refresh(
                pool, client, user.username, origin_jti, device_key, expires_at
            )
        return {"AuthenticationResult": result}

    def revoke(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """RevokeToken: the refresh token's family and the access tokens minted from it."""
        token = str(required(params, "Token"))
        bad_client = Fault("UnauthorizedException", "Invalid client or secret")
        try:
            _, pool, client = self.state.client(required(params, "ClientId"))
        except Fault:
            raise bad_client from None
        if client.generate_secret and not same(
            client.secret, str(params.get("ClientSecret") or "")
        ):
            raise bad_client
        if client.extended_config.get("EnableTokenRevocation") is False:
            raise Fault(
                "UnsupportedOperationException", "Token revocation is not enabled for this client."
            )
        if token not in pool.refresh_tokens:
            if token.count(".") == 2:
                raise Fault("UnsupportedTokenTypeException", "Only refresh tokens can be revoked.")
            return {}  # RFC 7009 2.2: an unknown token is no error for the revoker
        entry = pool.refresh_tokens[token]
        if entry is None:
            return {}
        if entry[0] != client.id:
            raise Fault("UnauthorizedException", "The token was not issued to this client.")
        origin = entry[2]
        for other, value in list(pool.refresh_tokens.items()):
            if value is not None and value[2] == origin:
                pool.refresh_tokens[other] = None
        for access in list(pool.access_tokens):
            if _origin_jti(access) == origin:
                pool.access_tokens.pop(access, None)
        return {}
