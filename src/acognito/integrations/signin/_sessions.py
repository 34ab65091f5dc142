"""Sessions and pending sign-ins kept on the server, in a :class:`~acognito.stores.TokenStore`.

A session is one JSON record under a key derived from its id (a SHA-256 of it, so the
store's keys are no cookies): the tokens, when it began, when it was last used, its CSRF
token. Every call is bounded (the store's guard: 250 ms, one warning per outage); a
store that does not answer reads as :data:`UNAVAILABLE`, never as "signed out". Touches
and refreshes are conditional writes, so a late write never puts older tokens back; a
refresh happens once per session for every worker of a fleet (the store's lease, through
:class:`~acognito.stores._shared.SharedRecord`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from ...stores._base import TokenStore
from ...stores._shared import (
    UNAVAILABLE,
    Record,
    SharedRecord,
    _Unavailable,
    decode,
    encode,
    guard,
)

__all__ = ["UNAVAILABLE", "Loaded", "SessionEnded", "Sessions"]

#: Seconds a pending managed login (state, PKCE verifier, nonce) is kept.
LOGIN_TTL: Final = 600.0
_FORMAT = 1


class SessionEnded(Exception):
    """The session is gone (signed out elsewhere, expired, its refresh token refused)."""


@dataclass(frozen=True)
class Loaded:
    """A session record read from the store, and the version it was read at."""

    record: Record
    version: int

    def __repr__(self) -> str:
        return f"Loaded(version={self.version})"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("ascii")).hexdigest()


class Sessions:
    """Session and pending-login records of one app in one store.

    ``idle`` and ``absolute`` are the session's two expiries (seconds since its last
    use, since its sign-in); ``prefix`` keeps apps sharing a store apart.
    """

    def __init__(
        self,
        store: TokenStore,
        *,
        idle: float,
        absolute: float,
        prefix: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.guard = guard(store)
        self.idle = idle
        self.absolute = absolute
        self.prefix = prefix
        self.clock = clock
        #: Seconds between two writes of the last-use time of one session.
        self.touch_every = min(60.0, idle / 4)

    # ------------------------------------------------------------------ keys

    def key(self, sid: str) -> str:
        return f"{self.prefix}/session/{_digest(sid)}"

    def login_key(self, state: str) -> str:
        return f"{self.prefix}/login/{_digest(state)}"

    # ------------------------------------------------------------------ expiry

    def deadline(self, record: Record) -> float:
        """When ``record`` ends unless used again: the idle or the absolute expiry."""
        return min(float(record["created"]) + self.absolute, float(record["seen"]) + self.idle)

    def ttl(self, record: Record) -> float:
        return max(1.0, self.deadline(record) - self.clock())

    def expired(self, record: Record) -> bool:
        return self.deadline(record) <= self.clock()

    # ------------------------------------------------------------------ sessions

    def new_record(self, **fields: Any) -> Record:
        now = self.clock()
        return {"format": _FORMAT, "created": now, "seen": now, **fields}

    async def create(self, sid: str, record: Record) -> bool:
        """Store a new session; False when the store did not answer."""
        written = await self.guard.set(self.key(sid), encode(record), ttl=self.ttl(record))
        return not isinstance(written, _Unavailable)

    async def load(self, sid: str) -> Loaded | _Unavailable | None:
        """The live session ``sid``; None (absent, unreadable, expired: then deleted) or
        :data:`UNAVAILABLE`."""
        key = self.key(sid)
        entry = await self.guard.get(key)
        if isinstance(entry, _Unavailable):
            return UNAVAILABLE
        record = decode(key, entry)
        if record is None or entry is None:
            return None
        if record.get("format") != _FORMAT or not _valid(record):
            await self.guard.delete(key)
            return None
        if self.expired(record):
            await self.guard.delete(key)
            return None
        return Loaded(record, entry.version)

    async def touch(self, sid: str, loaded: Loaded) -> None:
        """Record a use (at most every :attr:`touch_every` seconds): the idle expiry
        moves on. A conditional write: lost to a concurrent refresh, which touched too."""
        now = self.clock()
        if now - float(loaded.record["seen"]) < self.touch_every:
            return
        record = {**loaded.record, "seen": now}
        await self.guard.compare_and_set(
            self.key(sid), encode(record), version=loaded.version, ttl=self.ttl(record), fence=None
        )

    async def end(self, sid: str) -> None:
        """Forget session ``sid`` (sign-out)."""
        await self.guard.delete(self.key(sid))

    async def refreshed(
        self,
        sid: str,
        loaded: Loaded,
        *,
        usable: Callable[[Record], bool],
        refresh: Callable[[Record], Awaitable[Record]],
    ) -> Record:
        """A usable record of session ``sid``: the stored one if another request (any
        worker) refreshed it already, else ``refresh(latest)`` once under the session's
        lease. Raises :class:`SessionEnded` when the session is gone meanwhile."""
        shared = SharedRecord(self.store, self.key(sid))

        async def once(latest: Record | None) -> Record:
            if latest is None:
                if self.guard.available:
                    raise SessionEnded  # deleted meanwhile (signed out): never revive it
                latest = loaded.record  # the store did not answer: what this request read
            elif not _valid(latest) or self.expired(latest):
                raise SessionEnded
            record = await refresh(latest)
            record["seen"] = self.clock()
            return record

        record, _ = await shared.obtain(usable=usable, refresh=once, ttl=self.ttl)
        return record

    # ------------------------------------------------------------------ pending sign-ins

    def pending_key(self, binding: str) -> str:
        return f"{self.prefix}/pending/{_digest(binding)}"

    async def save_pending(self, binding: str, record: Record) -> bool:
        """Keep the form sign-in of the browser ``binding`` (its typed step's record)."""
        written = await self.guard.set(self.pending_key(binding), encode(record), ttl=LOGIN_TTL)
        return not isinstance(written, _Unavailable)

    async def load_pending(self, binding: str) -> Record | _Unavailable | None:
        key = self.pending_key(binding)
        entry = await self.guard.get(key)
        if isinstance(entry, _Unavailable):
            return UNAVAILABLE
        return decode(key, entry)

    async def drop_pending(self, binding: str) -> None:
        await self.guard.delete(self.pending_key(binding))

    # ------------------------------------------------------------------ pending logins

    async def save_login(self, state: str, record: Record) -> bool:
        written = await self.guard.set(self.login_key(state), encode(record), ttl=LOGIN_TTL)
        return not isinstance(written, _Unavailable)

    async def take_login(self, state: str) -> Record | _Unavailable | None:
        """The pending login of ``state``, once: a second callback with the same state
        finds nothing (a conditional write marks it used). None or :data:`UNAVAILABLE`."""
        key = self.login_key(state)
        entry = await self.guard.get(key)
        if isinstance(entry, _Unavailable):
            return UNAVAILABLE
        record = decode(key, entry)
        if record is None or entry is None or record.get("used"):
            return None
        spent = json.dumps({"used": True}).encode()
        won = await self.guard.compare_and_set(
            key,
            spent,
            version=entry.version,
            ttl=LOGIN_TTL,
            fence=None,
        )
        if isinstance(won, _Unavailable) or won is None:
            return None
        return record


def _valid(record: Record) -> bool:
    return (
        isinstance(record.get("created"), (int, float))
        and isinstance(record.get("seen"), (int, float))
        and isinstance(record.get("csrf"), str)
        and isinstance(record.get("access_token"), str)
    )
