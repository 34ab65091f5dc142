"""Refresh-token sign-ins on the local Cognito (REFRESH_TOKEN_AUTH), honouring revocation.

A refresh token moto knows and has not revoked (GlobalSignOut, RevokeToken) mints new
access and id tokens, device-bound ones only with their confirmed device named; a
rotated one is refused here (GetTokensFromRefreshToken handles rotation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moto.cognitoidp.models import (
    CognitoIdpBackend,
    CognitoIdpUser,
    CognitoIdpUserPool,
    CognitoIdpUserPoolClient,
)

from ._local_state import Fault, LocalState, not_authorized, pool_user, required

__all__ = ["RefreshOps"]

_INVALID_REFRESH = "Invalid Refresh Token."


class RefreshOps:
    """REFRESH_TOKEN_AUTH over one :class:`LocalState`."""

    def __init__(self, state: LocalState) -> None:
        self.state = state

    def _refresh(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        ap: Mapping[str, Any],
    ) -> dict[str, Any]:
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
        device_key = info.device_key if info is not None else None
        if device_key is not None:
            device = self.state.devices_of(pool.id).get(device_key)
            # A device-bound token needs its confirmed device named (as Cognito does).
            if device is None or not device.confirmed or ap.get("DEVICE_KEY") != device_key:
                raise not_authorized(_INVALID_REFRESH)
        minted = self.state.mint(pool, client.id, user, origin_jti, device_key)
        return {"ChallengeParameters": {}, "AuthenticationResult": minted}

    def refreshable(
        self, pool: CognitoIdpUserPool, client: CognitoIdpUserPoolClient, token: str
    ) -> tuple[CognitoIdpUser, str, Any]:
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
