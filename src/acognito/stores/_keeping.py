"""What a user session does with its events hub and its store: :class:`Keeper`.

The session (``AsyncCognito``, its pool's sessions, ``acognito.sync``) owns one keeper
and calls it at three moments: after a sign-in was accepted (the tokens are saved, then
:class:`~acognito.events.SignedIn`), around a refresh (with a store: under the key's
lease, taken *before* the refresh call; then
:class:`~acognito.events.TokensRefreshed` or :class:`~acognito.events.RefreshFailed`)
and after a sign-out (the record is deleted, then :class:`~acognito.events.SignedOut`).
Without a store nothing is read or written; without subscribers nothing is delivered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..events import Events, RefreshFailed, SignedIn, SignedOut, TokensRefreshed

if TYPE_CHECKING:
    from ..tokens import Tokens
    from ._base import TokenStore
    from ._session import SessionRecord

__all__ = ["Keeper"]

SOURCE = "AsyncCognito"


class Keeper:
    """A session's events hub and, if it has one, its record in a store."""

    __slots__ = ("events", "record", "source")

    def __init__(
        self,
        events: Events | None = None,
        record: SessionRecord | None = None,
        *,
        source: str = SOURCE,
    ) -> None:
        self.events = Events() if events is None else events
        self.record = record
        self.source = source

    @classmethod
    def make(
        cls,
        *,
        store: TokenStore | None,
        store_key: str | None,
        events: Events | None,
        user_pool_id: str,
        client_id: str | None,
        username: str | None,
    ) -> Keeper:
        """A keeper for a session; ``store_key`` defaults to the pool, client and user."""
        from ..errors import ConfigurationError

        if events is not None and not isinstance(events, Events):
            raise ConfigurationError("events must be an acognito.events.Events hub")
        if store is None:
            if store_key is not None:
                raise ConfigurationError("store_key needs a store")
            return cls(events)
        from ._session import SessionRecord, user_key

        if store_key is None:
            if not username:
                raise ConfigurationError("a session with a store needs a username or a store_key")
            store_key = user_key(user_pool_id, client_id, username)
        if not isinstance(store_key, str) or not store_key:
            raise ConfigurationError("store_key must be a non-empty string")
        return cls(events, SessionRecord(store, store_key))

    @property
    def store(self) -> TokenStore | None:
        return None if self.record is None else self.record.store

    @property
    def store_key(self) -> str | None:
        return None if self.record is None else self.record.key

    async def signed_in(self, tokens: Tokens, client_id: str | None, username: str | None) -> None:
        """After a sign-in was accepted: keep the tokens, then tell the subscribers."""
        if self.record is not None:
            await self.record.save(tokens)
        if len(self.events):
            await self.events.emit(SignedIn(self.source, client_id, username, tokens=tokens))

    async def refresh(
        self,
        current: Tokens,
        refresh: Callable[[Tokens], Awaitable[Tokens]],
        adopt: Callable[[Tokens], Awaitable[Tokens]],
        *,
        margin: float,
        client_id: str | None,
        username: str | None,
    ) -> Tokens:
        """New tokens for a session holding ``current``.

        Without a store: ``refresh(current)``. With one: tokens another process already
        refreshed are handed to ``adopt``; else ``refresh(start)`` runs under the lease,
        ``start`` carrying the newest refresh token stored. Then the event.
        """
        from_store = False
        try:
            if self.record is None:
                tokens = await refresh(current)
            else:
                found, refreshed = await self.record.refresh(current, refresh, margin=margin)
                tokens = found if refreshed else await adopt(found)
                from_store = not refreshed
        except Exception as exc:
            if len(self.events):
                await self.events.emit(RefreshFailed(self.source, client_id, username, error=exc))
            raise
        if len(self.events):
            await self.events.emit(
                TokensRefreshed(
                    self.source,
                    client_id,
                    username,
                    rotated=tokens.refresh_token != current.refresh_token,
                    from_store=from_store,
                    tokens=tokens,
                )
            )
        return tokens

    async def signed_out(
        self, client_id: str | None, username: str | None, *, revoked: bool
    ) -> None:
        """After the tokens were dropped: forget the record, then tell the subscribers."""
        if self.record is not None:
            await self.record.forget()
        if len(self.events):
            await self.events.emit(SignedOut(self.source, client_id, username, revoked=revoked))
