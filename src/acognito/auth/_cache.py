"""The token cache both bearer auths share: a refresh deadline and single-flight refresh."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from .._flight import SingleFlight, ThreadSingleFlight
from ..errors import ConfigurationError
from ..tokens import expiry_of
from ._core import DEFAULT_MARGIN_FRACTION, DEFAULT_REFRESH_MARGIN, Bearer, Grant, check_margin

__all__ = ["TokenCache"]


def _unverified_lifetime(token: str) -> float | None:
    """Seconds until the JWT's ``exp`` claim, read without verification (for caching only)."""
    exp = expiry_of(token)
    return None if exp is None else exp - time.time()


class TokenCache:
    """A bearer token with a refresh deadline and single-flight refresh.

    ``fetch_async`` / ``fetch_sync`` obtain a new :class:`Grant` (told which token a
    server rejected, if any, so a shared store does not hand that one back). :meth:`aget` (tasks)
    and :meth:`get` (threads) return the cached token while it is fresh; otherwise one
    caller fetches and every concurrent caller waits for and shares that outcome: the
    token, or the same typed error. A cancelled fetcher abandons its flight and a waiter
    starts a new one. ``stale`` asks for a token other than the one a server rejected,
    so a burst of 401s costs one refresh. The async side belongs to one event loop at a
    time (like the ``httpx.AsyncClient`` it fetches with); the sync side serves any
    number of threads.
    """

    def __init__(
        self,
        *,
        fetch_async: Callable[[Bearer | None], Awaitable[Grant]] | None,
        fetch_sync: Callable[[Bearer | None], Grant] | None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        margin_fraction: float = DEFAULT_MARGIN_FRACTION,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._margin = check_margin(refresh_margin)
        if not 0 <= margin_fraction < 1:
            raise ConfigurationError("margin_fraction must be >= 0 and < 1")
        self._fetch_async = fetch_async
        self._fetch_sync = fetch_sync
        self._fraction = float(margin_fraction)
        self._clock = clock
        self._current: Bearer | None = None
        self._async_flight: SingleFlight[Bearer] = SingleFlight()
        self._sync_flight: ThreadSingleFlight[Bearer] = ThreadSingleFlight()

    def fresh(self, stale: Bearer | None = None) -> Bearer | None:
        """The cached token if it is not ``stale`` and not due for refresh, else None."""
        current = self._current
        if current is None or current is stale or self._clock() >= current.refresh_at:
            return None
        return current

    def clear(self) -> None:
        """Forget the cached token; the next request fetches a new one."""
        self._current = None

    def publish(self, grant: Grant, started: float) -> Bearer:
        """Cache ``grant`` as fetched at clock time ``started`` and return it."""
        lifetime = grant.lifetime
        if lifetime is None:
            lifetime = _unverified_lifetime(grant.token)
        lifetime = max(0.0, lifetime or 0.0)
        margin = grant.margin
        if margin is None:
            margin = min(self._margin, lifetime * self._fraction)
        bearer = Bearer(grant.token, started + lifetime - margin, started + lifetime)
        self._current = bearer
        return bearer

    async def aget(self, stale: Bearer | None = None) -> Bearer:
        """A fresh token for a task; at most one fetch runs on the loop at a time."""
        current = self.fresh(stale)
        if current is not None:
            return current
        fetch = self._fetch_async
        if fetch is None:
            raise ConfigurationError("this auth has no asynchronous token source")

        async def refresh() -> Bearer:
            # A flight that ended just before this one may already have the token.
            current = self.fresh(stale)
            if current is not None:
                return current
            started = self._clock()
            return self.publish(await fetch(stale), started)

        return await self._async_flight.run(refresh)

    def get(self, stale: Bearer | None = None) -> Bearer:
        """A fresh token for a thread; at most one thread fetches at a time."""
        fetch = self._fetch_sync
        if fetch is None:
            raise ConfigurationError("this auth has no synchronous token source")
        current = self.fresh(stale)
        if current is not None:
            return current

        def refresh() -> Bearer:
            current = self.fresh(stale)
            if current is not None:
                return current
            started = self._clock()
            return self.publish(fetch(stale), started)

        return self._sync_flight.run(refresh)
