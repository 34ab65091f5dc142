"""Machine-to-machine bearer auth for httpx: :class:`ClientCredentialsAuth`."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

import httpx

from .._lifecycle import AsyncClosing, Closing
from .._loop_thread import LoopThread
from ..errors import ConfigurationError
from ..events import Events, RefreshFailed, SignedIn, TokensRefreshed
from ..oauth import DEFAULT_TIMEOUT, OAuth2Client, SyncOAuth2Client
from ..oauth._params import scope_string
from ._base import BearerAuth
from ._cache import TokenCache
from ._core import DEFAULT_MARGIN_FRACTION, DEFAULT_REFRESH_MARGIN, Bearer, Grant, check_header

if TYPE_CHECKING:
    from ..events import AuthEvent
    from ..stores import TokenStore
    from ..stores._shared import Record, SharedRecord

__all__ = ["ClientCredentialsAuth"]


class ClientCredentialsAuth(BearerAuth, AsyncClosing, Closing):
    """Machine-to-machine bearer auth for httpx from the client_credentials grant.

    The access token is cached until ``refresh_margin`` seconds (at most a quarter of
    its lifetime) before expiry, fetched by one request while the others wait, and
    refreshed once when the API answers 401. Works with ``httpx.Client`` (threads) and
    ``httpx.AsyncClient`` (asyncio and trio). The token goes into ``http_header``
    (``Authorization``) after ``http_header_prefix`` (``"Bearer "``); a redirect to
    another origin never carries it.

    With ``store`` (a :class:`~acognito.stores.TokenStore`, such as
    :class:`~acognito.stores.RedisTokenStore`) every process that shares the store
    shares one token: it is fetched by one process per lifetime (under the store's
    lease), kept in this process until it is due (a warm request never reaches the
    store), and when the store fails the auth carries on by itself. The store key
    comes from the token endpoint, the client id and the scopes (:attr:`store_key`).
    ``events`` (an :class:`~acognito.events.Events` hub; one of its own by default)
    hears :class:`~acognito.events.SignedIn` for the first token,
    :class:`~acognito.events.TokensRefreshed` for each later one and
    :class:`~acognito.events.RefreshFailed`.
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
        http_header: str = "Authorization",
        http_header_prefix: str = "Bearer ",
        store: TokenStore | None = None,
        events: Events | None = None,
    ) -> None:
        if not client_secret:
            raise ConfigurationError("ClientCredentialsAuth needs the app client's secret")
        self._header, self._prefix = check_header(http_header, http_header_prefix)
        self._scope = scope_string(scopes)
        self._cache = TokenCache(
            fetch_async=self._fetch_async,
            fetch_sync=self._fetch_sync,
            refresh_margin=refresh_margin,
            clock=clock,
        )
        self._margin = float(refresh_margin)
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
        if events is not None and not isinstance(events, Events):
            raise ConfigurationError("events must be an acognito.events.Events hub")
        self._events = Events() if events is None else events
        self._issued = False
        self._shared: SharedRecord | None = None
        if store is not None:
            from ..stores._shared import SharedRecord

            self._shared = SharedRecord(store, self.store_key)
        self._portal: LoopThread | None = None
        self._portal_lock = threading.Lock()

    @property
    def client_id(self) -> str:
        """The app client the tokens are issued to."""
        return self._oauth.client_id

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes requested (empty: every custom scope the client may have)."""
        return tuple(self._scope.split()) if self._scope else ()

    @property
    def events(self) -> Events:
        """The hub this auth's lifecycle events go to."""
        return self._events

    @property
    def store(self) -> TokenStore | None:
        """The store shared with other processes, if any."""
        return None if self._shared is None else self._shared.guard.store

    @property
    def store_key(self) -> str:
        """The key of this auth's token in a store: from the token endpoint, the client
        id and the scopes (hashed: no secret, stable across processes)."""
        scopes = sorted(set((self._scope or "").split()))
        ident = json.dumps([self._oauth.token_endpoint, self.client_id, scopes])
        return "m2m:" + hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]

    # ------------------------------------------------------------------ fetching

    def _margin_for(self, lifetime: float) -> float:
        return min(self._margin, max(0.0, lifetime) * DEFAULT_MARGIN_FRACTION)

    def _grant(self, record: Record) -> Grant:
        """The cache's grant for a stored record: the remaining life, the margin of the
        whole one, so every process refreshes at the same moment."""
        remaining = float(record["expires_at"]) - time.time()
        margin = self._margin_for(float(record["lifetime"]))
        return Grant(str(record["access_token"]), remaining, margin)

    def _usable(self, stale: Bearer | None) -> Callable[[Record], bool]:
        def usable(record: Record) -> bool:
            try:
                token, expires_at = record["access_token"], float(record["expires_at"])
                margin = self._margin_for(float(record["lifetime"]))
            except (KeyError, TypeError, ValueError):
                return False
            if not isinstance(token, str) or (stale is not None and token == stale.token):
                return False
            return time.time() < expires_at - margin

        return usable

    @staticmethod
    def _record(token: str, expires_in: float | None, asked_at: float) -> Record:
        """The stored form of a token asked for at ``asked_at`` (epoch seconds): its
        expiry counted from the request, as this process's own copy counts it, so every
        process of the fleet finds it due at the same moment."""
        lifetime = float(expires_in) if expires_in else 3600.0
        return {
            "access_token": token,
            "expires_at": asked_at + lifetime,
            "lifetime": lifetime,
        }

    @staticmethod
    def _ttl(record: Record) -> float | None:
        return max(1.0, float(record["expires_at"]) - time.time())

    def _event(self, refreshed: bool) -> AuthEvent:
        """SignedIn for this auth's first token, TokensRefreshed for each later one."""
        first, self._issued = not self._issued, True
        if first:
            return SignedIn(type(self).__name__, self.client_id, None)
        return TokensRefreshed(type(self).__name__, self.client_id, None, from_store=not refreshed)

    async def _fetch_async(self, stale: Bearer | None = None) -> Grant:
        try:
            if self._shared is None:
                tokens = await self._oauth.client_credentials(self._scope)
                grant, refreshed = Grant(tokens.access_token, tokens.expires_in), True
            else:

                async def refresh(_: Record | None) -> Record:
                    asked_at = time.time()
                    tokens = await self._oauth.client_credentials(self._scope)
                    return self._record(tokens.access_token, tokens.expires_in, asked_at)

                grant, refreshed = await self._obtain_shared(stale, refresh)
        except Exception as exc:
            await self._events.emit(
                RefreshFailed(type(self).__name__, self.client_id, None, error=exc)
            )
            raise
        await self._events.emit(self._event(refreshed))
        return grant

    async def _obtain_shared(
        self, stale: Bearer | None, refresh: Callable[[Record | None], Awaitable[Record]]
    ) -> tuple[Grant, bool]:
        assert self._shared is not None
        record, refreshed = await self._shared.obtain(
            usable=self._usable(stale), refresh=refresh, ttl=self._ttl
        )
        return self._grant(record), refreshed

    def _fetch_sync(self, stale: Bearer | None = None) -> Grant:
        try:
            if self._shared is None:
                tokens = self._sync_oauth.client_credentials(self._scope)
                grant, refreshed = Grant(tokens.access_token, tokens.expires_in), True
            else:
                grant, refreshed = self._loop().portal.call(self._obtain_shared_sync, stale)
        except Exception as exc:
            self._events.emit_sync(
                RefreshFailed(type(self).__name__, self.client_id, None, error=exc)
            )
            raise
        self._events.emit_sync(self._event(refreshed))
        return grant

    async def _obtain_shared_sync(self, stale: Bearer | None) -> tuple[Grant, bool]:
        """The shared fetch for blocking callers, on this auth's private event loop."""
        import anyio.to_thread

        async def refresh(_: Record | None) -> Record:
            asked_at = time.time()
            tokens = await anyio.to_thread.run_sync(
                self._sync_oauth.client_credentials, self._scope
            )
            return self._record(tokens.access_token, tokens.expires_in, asked_at)

        return await self._obtain_shared(stale, refresh)

    def _loop(self) -> LoopThread:
        """The private event loop that reaches the store for ``httpx.Client`` requests."""
        with self._portal_lock:
            if self._portal is None:
                self._portal = LoopThread.start("acognito-m2m-loop")
            return self._portal

    # ------------------------------------------------------------------ public helpers

    async def get_access_token(self) -> str:
        """The current access token, fetched if needed (for non-httpx callers)."""
        return (await self._cache.aget()).token

    def get_access_token_sync(self) -> str:
        """Blocking :meth:`get_access_token`."""
        return self._cache.get().token

    def invalidate(self) -> None:
        """Drop the cached token (e.g. after rotating the client secret)."""
        self._cache.clear()

    def _stop_loop(self) -> None:
        with self._portal_lock:
            portal, self._portal = self._portal, None
        if portal is not None:
            portal.stop()

    async def aclose(self) -> None:
        """Close the HTTP clients this auth created for token requests."""
        import anyio.to_thread

        self._sync_oauth.close()
        await self._oauth.aclose()
        if self._portal is not None:
            await anyio.to_thread.run_sync(self._stop_loop)

    def close(self) -> None:
        """Close the blocking HTTP client this auth created (use :meth:`aclose` for both)."""
        self._sync_oauth.close()
        self._stop_loop()

    def __repr__(self) -> str:
        store = "" if self._shared is None else f", store={self._shared.guard.store!r}"
        return (
            f"ClientCredentialsAuth(token_endpoint={self._oauth.token_endpoint!r}, "
            f"client_id={self.client_id!r}, scopes={self.scopes!r}, client_secret='***'{store})"
        )
