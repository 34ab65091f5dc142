"""Machine-to-machine bearer auth for httpx: :class:`ClientCredentialsAuth`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import httpx

from .._lifecycle import AsyncClosing, Closing
from ..errors import ConfigurationError
from ..oauth import DEFAULT_TIMEOUT, OAuth2Client, SyncOAuth2Client
from ..oauth._params import scope_string
from ._base import BearerAuth
from ._cache import TokenCache
from ._core import DEFAULT_REFRESH_MARGIN, Grant, check_header

__all__ = ["ClientCredentialsAuth"]


class ClientCredentialsAuth(BearerAuth, AsyncClosing, Closing):
    """Machine-to-machine bearer auth for httpx from the client_credentials grant.

    The access token is cached until ``refresh_margin`` seconds (at most a quarter of
    its lifetime) before expiry, fetched by one request while the others wait, and
    refreshed once when the API answers 401. Works with ``httpx.Client`` (threads) and
    ``httpx.AsyncClient`` (asyncio and trio). The token goes into ``http_header``
    (``Authorization``) after ``http_header_prefix`` (``"Bearer "``); a redirect to
    another origin never carries it.
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

    @property
    def client_id(self) -> str:
        """The app client the tokens are issued to."""
        return self._oauth.client_id

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes requested (empty: every custom scope the client may have)."""
        return tuple(self._scope.split()) if self._scope else ()

    async def _fetch_async(self) -> Grant:
        tokens = await self._oauth.client_credentials(self._scope)
        return Grant(tokens.access_token, tokens.expires_in)

    def _fetch_sync(self) -> Grant:
        tokens = self._sync_oauth.client_credentials(self._scope)
        return Grant(tokens.access_token, tokens.expires_in)

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

    def __repr__(self) -> str:
        return (
            f"ClientCredentialsAuth(token_endpoint={self._oauth.token_endpoint!r}, "
            f"client_id={self.client_id!r}, scopes={self.scopes!r}, client_secret='***')"
        )
