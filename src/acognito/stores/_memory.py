""":class:`MemoryTokenStore`: the default store, a dictionary in this process."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

from ._base import Entry, Lease

__all__ = ["MemoryTokenStore"]

#: Expired entries are swept once every this many writes.
_SWEEP_EVERY = 256


class _Slot:
    __slots__ = ("expires_at", "fence", "value", "version")

    def __init__(self, value: bytes, version: int, fence: int, expires_at: float | None) -> None:
        self.value = value
        self.version = version
        self.fence = fence
        self.expires_at = expires_at


class MemoryTokenStore:
    """Tokens kept in this process only: what every session and auth has without ``store=``.

    Safe to share between tasks and threads (every method holds a lock for a few
    dictionary operations, never across an ``await``). It holds plain values (they
    never leave the process). ``clock`` (``time.time``) is for tests.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._slots: dict[str, _Slot] = {}
        self._leases: dict[str, Lease] = {}
        self._fences: dict[str, itertools.count[int]] = {}
        self._writes = 0

    def __repr__(self) -> str:
        return f"MemoryTokenStore(keys={len(self._slots)})"

    def _live(self, key: str) -> _Slot | None:
        slot = self._slots.get(key)
        if slot is not None and slot.expires_at is not None and slot.expires_at <= self._clock():
            del self._slots[key]
            return None
        return slot

    def _expiry(self, ttl: float | None) -> float | None:
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self._sweep()
        return None if ttl is None else self._clock() + ttl

    def _sweep(self) -> None:
        """Drop expired values and lapsed leases nobody reads again (every few hundred
        writes: a long-lived process does not keep what it abandoned)."""
        now = self._clock()
        for key in [
            k for k, s in self._slots.items() if s.expires_at is not None and s.expires_at <= now
        ]:
            del self._slots[key]
        for key in [k for k, lease in self._leases.items() if lease.expires_at <= now]:
            del self._leases[key]

    async def get(self, key: str) -> Entry | None:
        with self._lock:
            slot = self._live(key)
            return None if slot is None else Entry(slot.value, slot.version)

    async def set(self, key: str, value: bytes, *, ttl: float | None = None) -> int:
        with self._lock:
            slot = self._live(key)
            version = 1 if slot is None else slot.version + 1
            fence = 0 if slot is None else slot.fence
            self._slots[key] = _Slot(bytes(value), version, fence, self._expiry(ttl))
            return version

    async def delete(self, key: str) -> None:
        with self._lock:
            self._slots.pop(key, None)

    async def compare_and_set(
        self,
        key: str,
        value: bytes,
        *,
        version: int,
        ttl: float | None = None,
        fence: int | None = None,
    ) -> int | None:
        with self._lock:
            slot = self._live(key)
            current = 0 if slot is None else slot.version
            last_fence = 0 if slot is None else slot.fence
            if current != version or (fence is not None and fence < last_fence):
                return None
            new_fence = last_fence if fence is None else fence
            self._slots[key] = _Slot(bytes(value), current + 1, new_fence, self._expiry(ttl))
            return current + 1

    async def acquire(self, key: str, *, ttl: float) -> Lease | None:
        with self._lock:
            now = self._clock()
            held = self._leases.get(key)
            if held is not None and held.expires_at > now:
                return None
            counter = self._fences.setdefault(key, itertools.count(1))
            lease = Lease(key, next(counter), now + ttl)
            self._leases[key] = lease
            return lease

    async def release(self, lease: Lease) -> None:
        with self._lock:
            if self._leases.get(lease.key) == lease:
                del self._leases[lease.key]
