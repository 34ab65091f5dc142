"""The async OAuth2 client: :class:`OAuth2Client` on ``httpx.AsyncClient`` (asyncio and trio)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

import httpx

from .._lazy import Lazy, in_thread
from .._lifecycle import AsyncClosing
from ..errors import SessionClosedError
from ._models import AuthorizationRequest, OAuthTokens
from ._protocol import Answer, BodyLimit, Call, OAuth2Core

__all__ = ["OAuth2Client"]


async def _dispose(client: httpx.AsyncClient) -> None:
    await client.aclose()


def _closed() -> Exception:
    return SessionClosedError("this OAuth2Client is closed")


class OAuth2Client(OAuth2Core[httpx.AsyncClient], AsyncClosing):
    """Async client for the pool's OAuth2 domain (asyncio and trio, through httpx/anyio).

    Pass ``http_client`` to share an ``httpx.AsyncClient`` (it is not closed here);
    otherwise one is created on first use, in a worker thread because building its SSL
    context blocks for ~100 ms, and closed by :meth:`aclose`.
    """

    def _setup_http(self, http_client: httpx.AsyncClient | None) -> None:
        self._shared = http_client
        self._lazy: Lazy[httpx.AsyncClient] = Lazy(
            in_thread(httpx.AsyncClient), dispose=_dispose, closed_error=_closed
        )

    async def aclose(self) -> None:
        """Close the ``httpx.AsyncClient`` this object created (a shared one stays open)."""
        self._closed = True
        await self._lazy.aclose()

    async def _client(self) -> httpx.AsyncClient:
        if self._closed:
            raise _closed()
        if self._shared is not None:
            return self._shared
        return await self._lazy.get()

    async def _send(self, call: Call) -> Answer:
        client = await self._client()
        kwargs: dict[str, Any] = self._request_kwargs(call)
        try:
            async with client.stream(call.method, call.url, **kwargs) as response:
                body = BodyLimit(call)
                body.start(response.headers)
                chunks = response.aiter_bytes()
                async for chunk in chunks:
                    if not body.fits(chunk):
                        break
                else:
                    return body.answer(response)
                # Too large. Close the connection, then let httpx's nested generators
                # run to their (immediate) end: left suspended, trio warns about them.
                await response.aclose()
                with contextlib.suppress(httpx.HTTPError):
                    async for _ in chunks:
                        pass  # pragma: no cover - a closed stream yields nothing
                raise body.too_large()
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, call) from exc

    async def client_credentials(self, scopes: str | Iterable[str] | None = None) -> OAuthTokens:
        """Machine-to-machine access token (needs a client secret).

        Without ``scopes`` Cognito grants every custom scope the client may request.
        """
        call = self._client_credentials_call(scopes)
        return self._tokens(await self._send(call), call)

    async def exchange_code(
        self, code: str, redirect_uri: str, code_verifier: str | None
    ) -> OAuthTokens:
        """Redeem an authorization code and its PKCE verifier for id, access, refresh tokens."""
        call = self._exchange_call(code, redirect_uri, code_verifier)
        return self._tokens(await self._send(call), call)

    async def complete_authorization(
        self, request: AuthorizationRequest, redirect_url: str
    ) -> OAuthTokens:
        """Check the redirect against ``request`` (state, error) and redeem its code."""
        code = request.code_from_redirect(redirect_url)
        return await self.exchange_code(code, request.redirect_uri, request.code_verifier)

    async def refresh(self, refresh_token: str) -> OAuthTokens:
        """New id and access tokens from a refresh token (kept in the result if not rotated)."""
        call = self._refresh_call(refresh_token)
        return self._tokens(await self._send(call), call, keep_refresh=refresh_token)

    async def revoke(self, token: str) -> None:
        """Revoke a refresh token and the access tokens issued from it (``/oauth2/revoke``)."""
        call = self._revoke_call(token)
        self._revoked(await self._send(call), call)

    async def user_info(self, access_token: str) -> dict[str, Any]:
        """The user's attributes allowed by the access token's scopes (``/oauth2/userInfo``)."""
        call = self._userinfo_call(access_token)
        return self._user_info(await self._send(call), call)
