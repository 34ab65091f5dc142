"""httpx authentication that attaches Cognito bearer tokens and keeps them fresh.

:class:`ClientCredentialsAuth` gets machine-to-machine tokens from the pool's OAuth2
domain. The caching and refresh machinery (:class:`_TokenCache`) is shared with the
other auth classes in this module: one token request at a time however many requests
need it (single flight), for threads (``httpx.Client``) and for tasks
(``httpx.AsyncClient`` on asyncio or trio).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Final, NamedTuple

import anyio
import httpx

from .errors import ConfigurationError
from .oauth import DEFAULT_TIMEOUT, OAuth2Client, SyncOAuth2Client, _scope_string

__all__ = ["ClientCredentialsAuth"]

#: Refresh this many seconds before expiry (capped by a fraction of the lifetime).
DEFAULT_REFRESH_MARGIN: Final = 300.0
#: For short-lived tokens the margin is at most this fraction of their lifetime.
DEFAULT_MARGIN_FRACTION: Final = 0.25


class _Grant(NamedTuple):
    """What a fetcher returns: the bearer value and its lifetime in seconds (None: unknown)."""

    token: str
    lifetime: float | None


@dataclass(frozen=True, eq=False)
class _Bearer:
    """An immutable cached token: published whole, so no request sees half an update.

    ``refresh_at`` and ``expires_at`` are readings of the cache's clock.
    """

    token: str
    refresh_at: float
    expires_at: float

    def __repr__(self) -> str:
        return f"_Bearer(token='***', refresh_at={self.refresh_at!r})"


class _AsyncFlight:
    """One token fetch in progress on the event loop; waiters share its outcome."""

    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.result: _Bearer | None = None
        self.error: Exception | None = None


class _SyncFlight:
    """One token fetch in progress in some thread; other threads share its outcome."""

    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: _Bearer | None = None
        self.error: Exception | None = None


def _unverified_lifetime(token: str) -> float | None:
    """Seconds until the JWT's ``exp`` claim, read without verification (for caching only)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = claims["exp"]
    except (IndexError, ValueError, KeyError, TypeError):
        return None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    return float(exp) - time.time()


class _TokenCache:
    """A bearer token with a refresh deadline and single-flight refresh.

    ``fetch_async`` / ``fetch_sync`` obtain a new :class:`_Grant`. :meth:`aget` (tasks)
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
        fetch_async: Callable[[], Awaitable[_Grant]] | None,
        fetch_sync: Callable[[], _Grant] | None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        margin_fraction: float = DEFAULT_MARGIN_FRACTION,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if refresh_margin < 0 or not 0 <= margin_fraction < 1:
            raise ConfigurationError("refresh_margin >= 0 and 0 <= margin_fraction < 1")
        self._fetch_async = fetch_async
        self._fetch_sync = fetch_sync
        self._margin = float(refresh_margin)
        self._fraction = float(margin_fraction)
        self._clock = clock
        self._current: _Bearer | None = None
        self._lock = threading.Lock()  # guards the flight slots, never held across I/O
        self._async_flight: _AsyncFlight | None = None
        self._sync_flight: _SyncFlight | None = None

    def fresh(self, stale: _Bearer | None = None) -> _Bearer | None:
        """The cached token if it is not ``stale`` and not due for refresh, else None."""
        current = self._current
        if current is None or current is stale or self._clock() >= current.refresh_at:
            return None
        return current

    def clear(self) -> None:
        """Forget the cached token; the next request fetches a new one."""
        self._current = None

    def publish(self, grant: _Grant, started: float) -> _Bearer:
        """Cache ``grant`` as fetched at clock time ``started`` and return it."""
        lifetime = grant.lifetime
        if lifetime is None:
            lifetime = _unverified_lifetime(grant.token)
        lifetime = max(0.0, lifetime or 0.0)
        margin = min(self._margin, lifetime * self._fraction)
        bearer = _Bearer(grant.token, started + lifetime - margin, started + lifetime)
        self._current = bearer
        return bearer

    async def aget(self, stale: _Bearer | None = None) -> _Bearer:
        """A fresh token for a task; at most one fetch runs on the loop at a time."""
        if self._fetch_async is None:
            raise ConfigurationError("this auth has no asynchronous token source")
        while True:
            current = self.fresh(stale)
            if current is not None:
                return current
            with self._lock:
                flight = self._async_flight
                leader = flight is None
                if flight is None:
                    flight = self._async_flight = _AsyncFlight()
            if leader:
                await self._lead_async(flight, self._fetch_async)
            else:
                await flight.done.wait()
            if flight.error is not None:
                raise flight.error
            if flight.result is not None:
                return flight.result
            # The fetching task was cancelled: try again, possibly as the new leader.

    async def _lead_async(
        self, flight: _AsyncFlight, fetch: Callable[[], Awaitable[_Grant]]
    ) -> None:
        started = self._clock()
        try:
            grant = await fetch()
        except Exception as exc:
            flight.error = exc
        else:
            flight.result = self.publish(grant, started)
        finally:
            # Runs on success, failure and cancellation alike: no waiter is left behind
            # and no flight stays registered.
            with self._lock:
                if self._async_flight is flight:
                    self._async_flight = None
            flight.done.set()

    def get(self, stale: _Bearer | None = None) -> _Bearer:
        """A fresh token for a thread; at most one thread fetches at a time."""
        if self._fetch_sync is None:
            raise ConfigurationError("this auth has no synchronous token source")
        while True:
            current = self.fresh(stale)
            if current is not None:
                return current
            with self._lock:
                current = self.fresh(stale)
                if current is not None:
                    return current
                flight = self._sync_flight
                leader = flight is None
                if flight is None:
                    flight = self._sync_flight = _SyncFlight()
            if leader:
                self._lead_sync(flight, self._fetch_sync)
            else:
                flight.done.wait()
            if flight.error is not None:
                raise flight.error
            if flight.result is not None:
                return flight.result

    def _lead_sync(self, flight: _SyncFlight, fetch: Callable[[], _Grant]) -> None:
        started = self._clock()
        try:
            grant = fetch()
        except Exception as exc:
            flight.error = exc
        else:
            flight.result = self.publish(grant, started)
        finally:
            with self._lock:
                if self._sync_flight is flight:
                    self._sync_flight = None
            flight.done.set()


def _replayable(request: httpx.Request) -> bool:
    """Whether the request body is in memory, so the request can be sent again."""
    try:
        _ = request.content
    except httpx.RequestNotRead:
        return False
    return True


class _BearerAuth(httpx.Auth):
    """httpx auth flow shared by the bearer auths: attach, and on a 401 refresh and retry once.

    A request whose body is a stream that was not read into memory is not retried (its
    body cannot be sent twice); its 401 response is returned as it is.
    """

    requires_request_body = False
    requires_response_body = False

    _cache: _TokenCache

    @staticmethod
    def _attach(request: httpx.Request, bearer: _Bearer) -> None:
        request.headers["Authorization"] = f"Bearer {bearer.token}"

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Blocking flow for ``httpx.Client``: no event loop needed."""
        bearer = self._cache.get()
        self._attach(request, bearer)
        response = yield request
        if response.status_code == 401 and _replayable(request):
            self._attach(request, self._cache.get(stale=bearer))
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Flow for ``httpx.AsyncClient`` on asyncio or trio."""
        bearer = self._cache.fresh() or await self._cache.aget()
        self._attach(request, bearer)
        response = yield request
        if response.status_code == 401 and _replayable(request):
            self._attach(request, await self._cache.aget(stale=bearer))
            yield request

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise NotImplementedError("use sync_auth_flow or async_auth_flow")  # pragma: no cover


class ClientCredentialsAuth(_BearerAuth):
    """Machine-to-machine bearer auth for httpx from the client_credentials grant.

    The access token is cached until ``refresh_margin`` seconds (at most a quarter of
    its lifetime) before expiry, fetched by one request while the others wait, and
    refreshed once when the API answers 401. Works with ``httpx.Client`` (threads) and
    ``httpx.AsyncClient`` (asyncio and trio).
    """

    def __init__(
        self,
        domain_url: str,
        client_id: str,
        client_secret: str,
        *,
        scopes: str | Iterable[str] | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.AsyncClient | None = None,
        sync_http_client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not client_secret:
            raise ConfigurationError("ClientCredentialsAuth needs the app client's secret")
        self._scope = _scope_string(scopes)
        self._oauth = OAuth2Client(
            domain_url,
            client_id,
            client_secret=client_secret,
            http_client=http_client,
            timeout=timeout,
        )
        self._sync_oauth = SyncOAuth2Client(
            domain_url,
            client_id,
            client_secret=client_secret,
            http_client=sync_http_client,
            timeout=timeout,
        )
        self._cache = _TokenCache(
            fetch_async=self._fetch_async,
            fetch_sync=self._fetch_sync,
            refresh_margin=refresh_margin,
            clock=clock,
        )

    @property
    def client_id(self) -> str:
        """The app client the tokens are issued to."""
        return self._oauth.client_id

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes requested (empty: every custom scope the client may have)."""
        return tuple(self._scope.split()) if self._scope else ()

    async def _fetch_async(self) -> _Grant:
        tokens = await self._oauth.client_credentials(self._scope)
        return _Grant(tokens.access_token, tokens.expires_in)

    def _fetch_sync(self) -> _Grant:
        tokens = self._sync_oauth.client_credentials(self._scope)
        return _Grant(tokens.access_token, tokens.expires_in)

    async def get_access_token(self) -> str:
        """The current access token, fetched if needed (for non-httpx callers)."""
        return (await self._cache.aget()).token

    def get_access_token_sync(self) -> str:
        """Blocking :meth:`get_access_token`."""
        return self._cache.get().token

    def invalidate(self) -> None:
        """Drop the cached token (e.g. after rotating the client secret)."""
        self._cache.clear()

    async def aclose(self) -> None:
        """Close the HTTP clients this auth created for token requests."""
        self._sync_oauth.close()
        await self._oauth.aclose()

    def close(self) -> None:
        """Close the blocking HTTP client this auth created (use :meth:`aclose` for both)."""
        self._sync_oauth.close()

    async def __aenter__(self) -> ClientCredentialsAuth:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __enter__(self) -> ClientCredentialsAuth:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"ClientCredentialsAuth(token_endpoint={self._oauth.token_endpoint!r}, "
            f"client_id={self.client_id!r}, scopes={self.scopes!r}, client_secret='***')"
        )
