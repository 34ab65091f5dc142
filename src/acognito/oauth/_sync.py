"""The blocking OAuth2 client: :class:`SyncOAuth2Client` on ``httpx.Client``, no event loop."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import httpx

from .._lifecycle import Closing
from ..errors import SessionClosedError
from ._models import AuthorizationRequest, OAuthTokens
from ._protocol import Answer, BodyLimit, Call, OAuth2Core

__all__ = ["SyncOAuth2Client"]


class SyncOAuth2Client(OAuth2Core[httpx.Client], Closing):
    """Blocking twin of :class:`OAuth2Client` on an ``httpx.Client``, safe to share across threads.

    Used by the synchronous httpx auth flows; needs no event loop.
    """

    def _setup_http(self, http_client: httpx.Client | None) -> None:
        self._http = http_client
        self._create_lock = threading.Lock()

    def close(self) -> None:
        """Close the ``httpx.Client`` this object created (a shared one stays open)."""
        with self._create_lock:
            self._closed = True
            client, self._http = self._http, None
        if client is not None and self._owns_http:
            client.close()

    def _client(self) -> httpx.Client:
        client = self._http
        if client is not None and not self._closed:
            return client
        with self._create_lock:
            if self._closed:
                raise SessionClosedError("this SyncOAuth2Client is closed")
            if self._http is None:
                self._http = httpx.Client()
            return self._http

    def _send(self, call: Call) -> Answer:
        client = self._client()
        kwargs: dict[str, Any] = self._request_kwargs(call)
        try:
            with client.stream(call.method, call.url, **kwargs) as response:
                body = BodyLimit(call)
                body.start(response.headers)
                for chunk in response.iter_bytes():
                    if not body.fits(chunk):
                        raise body.too_large()
                return body.answer(response)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, call) from exc

    def client_credentials(self, scopes: str | Iterable[str] | None = None) -> OAuthTokens:
        """Machine-to-machine access token (needs a client secret)."""
        call = self._client_credentials_call(scopes)
        return self._tokens(self._send(call), call)

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None) -> OAuthTokens:
        """Redeem an authorization code (with its PKCE verifier) for tokens."""
        call = self._exchange_call(code, redirect_uri, code_verifier)
        return self._tokens(self._send(call), call)

    def complete_authorization(
        self, request: AuthorizationRequest, redirect_url: str
    ) -> OAuthTokens:
        """Check the redirect against ``request`` (state, error) and redeem its code."""
        code = request.code_from_redirect(redirect_url)
        return self.exchange_code(code, request.redirect_uri, request.code_verifier)

    def refresh(self, refresh_token: str) -> OAuthTokens:
        """New id and access tokens from a refresh token (kept in the result if not rotated)."""
        call = self._refresh_call(refresh_token)
        return self._tokens(self._send(call), call, keep_refresh=refresh_token)

    def revoke(self, token: str) -> None:
        """Revoke a refresh token and the access tokens issued from it."""
        call = self._revoke_call(token)
        self._revoked(self._send(call), call)

    def user_info(self, access_token: str) -> dict[str, Any]:
        """The user's attributes allowed by the access token's scopes."""
        call = self._userinfo_call(access_token)
        return self._user_info(self._send(call), call)
