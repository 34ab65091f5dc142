"""The httpx ``Auth`` both bearer auths are: the core's flow run by the sync or async driver."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator

import httpx

from ._cache import TokenCache
from ._core import bearer_flow, drive_async, drive_sync

__all__ = ["BearerAuth"]


class BearerAuth(httpx.Auth):
    """Attach a cached bearer token; on a 401 refresh it once and resend.

    Subclasses set ``_cache``, ``_header`` and ``_prefix``, and may check before each
    request that they can serve it (:meth:`_check_sync`, :meth:`_check_async`).
    """

    requires_request_body = False
    requires_response_body = False

    _cache: TokenCache
    _header: str = "Authorization"
    _prefix: str = "Bearer "

    def _check_sync(self) -> None:
        """Called before each blocking request: raise if this auth cannot serve it."""

    def _check_async(self) -> None:
        """Called before each async request: raise if this auth cannot serve it here."""

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Blocking flow for ``httpx.Client``: no event loop needed."""
        self._check_sync()
        flow = bearer_flow(request, self._header, self._prefix, is_async=False)
        return drive_sync(flow, self._cache.get)

    def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Flow for ``httpx.AsyncClient`` on asyncio or trio."""
        self._check_async()
        flow = bearer_flow(request, self._header, self._prefix, is_async=True)
        return drive_async(flow, self._cache.aget)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise NotImplementedError("use sync_auth_flow or async_auth_flow")  # pragma: no cover
