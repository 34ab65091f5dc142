"""The user-pool API behind the form sign-in and the sessions it begins: one parent
:class:`~acognito.AsyncCognito` per sign-in (made on first use, on the loop that serves
the app), a child session per request, closed after it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..._lazy import Lazy
from ...errors import SessionClosedError

if TYPE_CHECKING:
    from ...cognito import AsyncCognito
    from ...context import UserContext

__all__ = ["UserPoolAccess", "tokens_of"]


class UserPoolAccess:
    """The user-pool API for server sign-in: one parent :class:`~acognito.AsyncCognito`
    (made on first use, on the loop that serves the app), a child session per request."""

    def __init__(
        self,
        user_pool_id: str,
        client_id: str,
        *,
        client_secret: str | None,
        options: Mapping[str, Any],
    ) -> None:
        self._args = (user_pool_id, client_id)
        self._kwargs = {k: v for k, v in options.items() if v is not None}
        if client_secret is not None:
            self._kwargs["client_secret"] = client_secret
        self._parent: Lazy[AsyncCognito] = Lazy(
            self._make, dispose=_close, closed_error=lambda: SessionClosedError("closed")
        )

    async def _make(self) -> AsyncCognito:
        from ...cognito import AsyncCognito

        return AsyncCognito(*self._args, **self._kwargs)

    async def session(
        self, username: str | None = None, *, refresh_token: str | None = None
    ) -> AsyncCognito:
        """A child session of the parent (shares its client, connections and keys)."""
        parent = await self._parent.get()
        return parent.for_user(username, refresh_token=refresh_token)

    async def refresh(
        self, refresh_token: str, username: str, context: UserContext | None = None
    ) -> dict[str, Any]:
        """New tokens from ``refresh_token`` (the user's pool user name: SECRET_HASH;
        ``context``: the user's, for threat protection)."""
        child = await self.session(username or None, refresh_token=refresh_token)
        child.user_context = context
        try:
            await child.renew_access_token()
            return tokens_of(child)
        finally:
            await child.aclose()

    async def revoke(self, refresh_token: str) -> None:
        """Revoke ``refresh_token`` (RevokeToken) and the tokens issued from it."""
        child = await self.session(refresh_token=refresh_token)
        try:
            await child.revoke_token()
        finally:
            await child.aclose()

    async def aclose(self) -> None:
        await self._parent.aclose()


async def _close(cognito: AsyncCognito) -> None:
    await cognito.aclose()


def tokens_of(cognito: AsyncCognito) -> dict[str, Any]:
    """A session record's token fields from a signed-in session."""
    tokens = cognito.tokens
    claims = cognito.access_claims or {}
    return {
        "access_token": tokens.access_token,
        "id_token": tokens.id_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at_timestamp or 0.0,
        "username": claims.get("username") or cognito.username,
    }
