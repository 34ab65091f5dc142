"""One token for a fleet: a bounded, fault-tolerant view of a store and the lease dance.

:class:`GuardedStore` gives every store call at most ``timeout`` seconds (250 ms) and
turns any failure into "unavailable": the caller then carries on with what it has, as
it would without a store. An outage is logged once when it starts and once when it
ends; meanwhile the store is tried again every ``retry_after`` seconds, not on every
call. :class:`SharedRecord` is one key's record shared by a fleet: read it, and when
it is missing or due, take the lease, refresh once, write it back conditionally (an
older refresh never overwrites a newer one), and let the others read the result.
"""

from __future__ import annotations

import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

import anyio

from ._base import Entry, Lease, TokenStore
from ._crypto import warn_undecryptable

__all__ = ["UNAVAILABLE", "GuardedStore", "Record", "SharedRecord", "guard"]

log = logging.getLogger("acognito.stores")

T = TypeVar("T")
#: A record: the JSON object a store holds for one key.
Record = dict[str, Any]

#: Seconds one store call may take before acognito carries on without the store.
STORE_TIMEOUT: Final = 0.25
#: Seconds between attempts to reach a store that failed.
RETRY_AFTER: Final = 1.0
#: Seconds a lease is held at most (a crashed holder's lapses after this).
LEASE_TTL: Final = 10.0
#: Seconds between reads while another process refreshes.
POLL: Final = 0.02


class _Unavailable:
    def __repr__(self) -> str:
        return "UNAVAILABLE"


#: What a :class:`GuardedStore` call returns when the store did not answer.
UNAVAILABLE: Final = _Unavailable()


class GuardedStore:
    """Store calls bounded in time, whose failures never reach the caller.

    The bound is ``timeout``, else the store's own ``timeout`` attribute (as
    :class:`~acognito.stores.RedisTokenStore` has), else 250 ms.
    """

    def __init__(
        self,
        store: TokenStore,
        *,
        timeout: float | None = None,
        retry_after: float = RETRY_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        if timeout is None:
            declared: object = getattr(store, "timeout", None)
            timeout = STORE_TIMEOUT
            if isinstance(declared, (int, float)) and not isinstance(declared, bool):
                timeout = float(declared) if 0 < declared <= 30 else STORE_TIMEOUT
        self._timeout = timeout
        self._retry_after = retry_after
        self._clock = clock
        self._down_since: float | None = None
        self._retry_at = 0.0
        #: Store calls made (for benchmarks and tests: round trips to the store).
        self.calls = 0
        #: Outages seen (each logged once).
        self.outages = 0

    @property
    def available(self) -> bool:
        """False during an outage (until a call succeeds again)."""
        return self._down_since is None

    async def call(self, work: Callable[[], Awaitable[T]]) -> T | _Unavailable:
        """``await work()`` within the timeout, or :data:`UNAVAILABLE` (never raises,
        except the caller's own cancellation)."""
        if self._down_since is not None and self._clock() < self._retry_at:
            return UNAVAILABLE
        self.calls += 1
        failure: str | None = None
        try:
            with anyio.move_on_after(self._timeout) as scope:
                result = await work()
            if scope.cancelled_caught:
                failure = f"no answer within {self._timeout * 1000:.0f} ms"
        except anyio.get_cancelled_exc_class():
            raise
        except Exception as exc:  # a store must never fail a request
            failure = type(exc).__name__
            detail = str(exc)[:200]
            if detail and "StoreUnavailable" in failure:
                failure = f"{failure}: {detail}"
        if failure is not None:
            self._failed(failure)
            return UNAVAILABLE
        if self._down_since is not None:
            log.warning(
                "token store %r is back after %.1f s", self.store, self._clock() - self._down_since
            )
            self._down_since = None
        return result

    def _failed(self, why: str) -> None:
        now = self._clock()
        self._retry_at = now + self._retry_after
        if self._down_since is None:
            self._down_since = now
            self.outages += 1
            log.warning(
                "token store %r is unavailable (%s); carrying on without it until it answers",
                self.store,
                why,
            )

    async def get(self, key: str) -> Entry | _Unavailable | None:
        return await self.call(lambda: self.store.get(key))

    async def acquire(self, key: str, ttl: float) -> Lease | _Unavailable | None:
        return await self.call(lambda: self.store.acquire(key, ttl=ttl))

    async def release(self, lease: Lease) -> None:
        await self.call(lambda: self.store.release(lease))

    async def compare_and_set(
        self, key: str, value: bytes, *, version: int, ttl: float | None, fence: int | None
    ) -> int | _Unavailable | None:
        return await self.call(
            lambda: self.store.compare_and_set(key, value, version=version, ttl=ttl, fence=fence)
        )

    async def set(self, key: str, value: bytes, *, ttl: float | None) -> int | _Unavailable:
        return await self.call(lambda: self.store.set(key, value, ttl=ttl))

    async def delete(self, key: str) -> _Unavailable | None:
        return await self.call(lambda: self.store.delete(key))


_guards: weakref.WeakKeyDictionary[Any, GuardedStore] = weakref.WeakKeyDictionary()


def guard(store: TokenStore) -> GuardedStore:
    """The one :class:`GuardedStore` of ``store`` in this process (one outage, one warning,
    however many auths and sessions share the store)."""
    try:
        found = _guards.get(store)
        if found is None:
            found = _guards[store] = GuardedStore(store)
    except TypeError:  # a store that cannot be weakly referenced: a guard of its own
        return GuardedStore(store)
    return found


def encode(record: Record) -> bytes:
    return json.dumps(record, separators=(",", ":"), sort_keys=True).encode("utf-8")


def decode(key: str, entry: Entry | None) -> Record | None:
    """The record of ``entry``; a value that is not a JSON object is a miss (warned)."""
    if entry is None:
        return None
    try:
        record = json.loads(entry.value.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        record = None
    if not isinstance(record, dict):
        warn_undecryptable(key, "it is not a token record")
        return None
    return record


class SharedRecord:
    """One key's token record, refreshed once for every process that shares the store.

    :meth:`obtain` returns a usable record and whether this process refreshed it: from
    the store when another process already did; else under the key's lease (taken
    before the refresh call), written back with a conditional write fenced by the
    lease; while another process holds the lease, by reading until its result lands.
    When the store does not answer, ``refresh`` runs here, as without a store.
    """

    def __init__(
        self,
        store: TokenStore,
        key: str,
        *,
        lease_ttl: float = LEASE_TTL,
        poll: float = POLL,
    ) -> None:
        self.guard = guard(store)
        self.key = key
        self._lease_ttl = lease_ttl
        self._poll = poll

    async def load(self) -> Record | _Unavailable | None:
        """The stored record (None: absent or unreadable)."""
        entry = await self.guard.get(self.key)
        if isinstance(entry, _Unavailable):
            return UNAVAILABLE
        return decode(self.key, entry)

    async def save(self, record: Record, ttl: float | None) -> None:
        """Write ``record`` whatever is stored (a sign-in's new tokens)."""
        with anyio.CancelScope(shield=True):
            await self.guard.set(self.key, encode(record), ttl=ttl)

    async def forget(self) -> None:
        """Delete the record (a sign-out)."""
        with anyio.CancelScope(shield=True):
            await self.guard.delete(self.key)

    async def obtain(
        self,
        *,
        usable: Callable[[Record], bool],
        refresh: Callable[[Record | None], Awaitable[Record]],
        ttl: Callable[[Record], float | None],
    ) -> tuple[Record, bool]:
        """A usable record and whether this process called ``refresh`` for it.

        ``refresh(latest)`` gets the newest stored record (usable or not: it may hold
        the newest refresh token) or None.
        """
        latest = await self.load()
        if isinstance(latest, _Unavailable):
            return await refresh(None), True
        if latest is not None and usable(latest):
            return latest, False
        # However busy the lease, a caller waits at most a lease and a half, then
        # refreshes by itself (a store that answers but never yields a result).
        give_up = time.monotonic() + self._lease_ttl * 1.5
        while True:
            lease = await self.guard.acquire(self.key, self._lease_ttl)
            if isinstance(lease, _Unavailable) or (lease is None and time.monotonic() > give_up):
                return await refresh(latest), True
            if lease is not None:
                return await self._refresh_holding(lease, latest, usable, refresh, ttl)
            # Another process refreshes: its result lands in the store.
            await anyio.sleep(self._poll)
            found = await self.load()
            if isinstance(found, _Unavailable):
                return await refresh(latest), True
            if found is not None:
                if usable(found):
                    return found, False
                latest = found

    async def _refresh_holding(
        self,
        lease: Lease,
        latest: Record | None,
        usable: Callable[[Record], bool],
        refresh: Callable[[Record | None], Awaitable[Record]],
        ttl: Callable[[Record], float | None],
    ) -> tuple[Record, bool]:
        try:
            # The holder before this one may have written just before letting go.
            entry = await self.guard.get(self.key)
            version: int | None = None
            if not isinstance(entry, _Unavailable):
                version = 0 if entry is None else entry.version
                found = decode(self.key, entry)
                if found is not None:
                    if usable(found):
                        return found, False
                    latest = found
            record = await refresh(latest)
            if version is not None:
                # The new tokens reach the store even if the caller is cancelled now.
                with anyio.CancelScope(shield=True):
                    written = await self.guard.compare_and_set(
                        self.key,
                        encode(record),
                        version=version,
                        ttl=ttl(record),
                        fence=lease.token,
                    )
                if written is None:
                    log.debug("a newer record of %r was stored meanwhile; kept it", self.key)
            return record, True
        finally:
            with anyio.CancelScope(shield=True):
                await self.guard.release(lease)
