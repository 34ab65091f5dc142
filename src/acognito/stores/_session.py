"""A user session's tokens in a store: what :class:`~acognito.AsyncCognito` asks of it.

The session reaches its store only through :class:`SessionRecord`: save after a
sign-in, forget at sign-out, load to restore, and :meth:`SessionRecord.refresh`, which
takes the key's lease *before* the refresh call so a fleet refreshes a user once. The
record is a small JSON object (the same one :class:`~acognito.auth.CognitoAuth` keeps):
the three tokens, the device key and when they were issued.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..tokens import Tokens
from ._base import StoreUnavailableError, TokenStore
from ._shared import UNAVAILABLE, Record, SharedRecord

__all__ = ["SessionRecord", "record_of", "tokens_of", "user_key"]


def user_key(user_pool_id: str, client_id: str | None, username: str) -> str:
    """The default store key of a user's session: from the pool, the app client and the
    user name (hashed: nothing readable, the same in every process)."""
    ident = json.dumps([user_pool_id, client_id, username])
    return "user:" + hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]


def record_of(tokens: Tokens) -> Record:
    """The stored form of ``tokens``."""
    return {
        "id_token": tokens.id_token,
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "device_key": tokens.device_key,
        "token_type": tokens.token_type,
        "expires_in": tokens.expires_in,
        "issued_at": tokens.issued_at,
    }


def _text(record: Record, name: str) -> str | None:
    value = record.get(name)
    return value if isinstance(value, str) and value else None


def tokens_of(record: Record) -> Tokens | None:
    """The tokens of a stored record (None when it holds neither an access nor a refresh
    token, or a field has the wrong type)."""
    expires_in: Any = record.get("expires_in")
    issued_at: Any = record.get("issued_at")
    if expires_in is not None and (isinstance(expires_in, bool) or not isinstance(expires_in, int)):
        return None
    if isinstance(issued_at, bool) or not isinstance(issued_at, (int, float)):
        issued_at = time.time()
    tokens = Tokens(
        id_token=_text(record, "id_token"),
        access_token=_text(record, "access_token"),
        refresh_token=_text(record, "refresh_token"),
        token_type=_text(record, "token_type"),
        expires_in=expires_in,
        issued_at=float(issued_at),
        device_key=_text(record, "device_key"),
    )
    if tokens.access_token is None and tokens.refresh_token is None:
        return None
    return tokens


class SessionRecord:
    """One user session's tokens in a store, refreshed once for a fleet."""

    def __init__(self, store: TokenStore, key: str) -> None:
        self._shared = SharedRecord(store, key)

    @property
    def key(self) -> str:
        return self._shared.key

    @property
    def store(self) -> TokenStore:
        return self._shared.guard.store

    def __repr__(self) -> str:
        return f"SessionRecord(key={self.key!r}, store={self.store!r})"

    async def load(self) -> Tokens | None:
        """The stored tokens (None: nothing usable stored). ``StoreUnavailableError``
        when the store did not answer within its bound: there is nothing to carry on
        with."""
        record = await self._shared.load()
        if record is UNAVAILABLE:
            raise StoreUnavailableError(f"the token store {self.store!r} did not answer")
        if record is None or not isinstance(record, dict):
            return None
        return tokens_of(record)

    async def save(self, tokens: Tokens) -> None:
        """Keep ``tokens`` (after a sign-in); never raises, bounded in time."""
        await self._shared.save(record_of(tokens), ttl=None)

    async def forget(self) -> None:
        """Delete the record (sign-out); never raises, bounded in time."""
        await self._shared.forget()

    async def refresh(
        self,
        current: Tokens,
        refresh: Callable[[Tokens], Awaitable[Tokens]],
        *,
        margin: float,
    ) -> tuple[Tokens, bool]:
        """Tokens newer than ``current`` and whether this process called Cognito.

        Stored tokens another process refreshed are taken as they are (when their
        access token is not ``current``'s and not due within ``margin`` seconds).
        Otherwise, holding the key's lease, ``refresh(start)`` runs once for the fleet:
        ``start`` is ``current`` with the newest refresh token stored (a rotated one).
        """

        def usable(record: Record) -> bool:
            tokens = tokens_of(record)
            return (
                tokens is not None
                and tokens.access_token is not None
                and tokens.access_token != current.access_token
                and not tokens.expires_within(margin)
            )

        async def run(latest: Record | None) -> Record:
            start = current
            stored = None if latest is None else tokens_of(latest)
            if stored is not None and stored.refresh_token:
                start = current.with_changes(refresh_token=stored.refresh_token)
            return record_of(await refresh(start))

        record, refreshed = await self._shared.obtain(
            usable=usable, refresh=run, ttl=lambda _: None
        )
        tokens = tokens_of(record)
        assert tokens is not None  # usable, or made by refresh
        return tokens, refreshed
