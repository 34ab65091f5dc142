"""Bearer auth for httpx from a Cognito user's tokens: :class:`CognitoAuth`.

The session (:class:`~acognito.AsyncCognito`) is imported only when an auth is built,
so ``import acognito.auth`` does not load aiobotocore.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from .._lifecycle import AsyncClosing, Closing
from .._secret import redact
from ..errors import (
    ConfigurationError,
    JwtParseError,
    NotAuthorizedError,
    RefreshTokenReuseError,
    SessionClosedError,
    TokenRefreshError,
)
from ..tokens import Tokens, claim_time, peek_claims
from ._base import BearerAuth
from ._cache import TokenCache
from ._core import (
    DEFAULT_MARGIN_FRACTION,
    DEFAULT_REFRESH_MARGIN,
    Bearer,
    Grant,
    check_header,
    check_margin,
)
from ._loop import PrivateLoop, running_loop

if TYPE_CHECKING:
    from ..cognito import AsyncCognito, AuthFlow

__all__ = ["CognitoAuth", "TokenType"]

log = logging.getLogger("acognito.auth")


class TokenType(str, Enum):
    """Which of the user's tokens :class:`CognitoAuth` sends (pycognito's names and values)."""

    ACCESS_TOKEN = "access_token"  # noqa: S105 - a name, not a secret
    ID_TOKEN = "id_token"  # noqa: S105 - a name, not a secret


#: Refresh-token failures that a fresh sign-in with the password can cure.
_REFRESH_REJECTED = (NotAuthorizedError, RefreshTokenReuseError)

_UNBOUND, _ASYNC, _SYNC = "unbound", "async", "sync"


def _token_type(value: TokenType | str) -> TokenType:
    try:
        return TokenType(getattr(value, "value", value))
    except ValueError:
        raise ConfigurationError("auth_token_type must be 'access_token' or 'id_token'") from None


class CognitoAuth(BearerAuth, AsyncClosing, Closing):
    """Bearer auth for httpx from a Cognito user's tokens, refreshed before they expire.

    ``CognitoAuth(cognito)`` sends the tokens of a signed-in
    :class:`~acognito.AsyncCognito` you own (``httpx.AsyncClient`` only, on the event
    loop the session lives on). :meth:`from_password` builds its own session and signs
    in with SRP on first use; it also serves the blocking ``httpx.Client``, from any
    number of threads, through a private event loop in a background thread.

    The access token (or the id token, ``auth_token_type``) goes into
    ``http_header`` (``Authorization``) after ``http_header_prefix`` (``"Bearer "``).
    It is refreshed ``refresh_margin`` seconds before expiry (at most a quarter of its
    lifetime), by one request while the others wait; when the API still answers 401
    the token is refreshed once and the request sent once more. A failed refresh
    raises the typed error (e.g. :class:`~acognito.errors.NotAuthorizedError`,
    :class:`~acognito.errors.CognitoConnectionError`) in every waiting request.
    """

    def __init__(
        self,
        cognito: AsyncCognito,
        *,
        auth_token_type: TokenType | str = TokenType.ACCESS_TOKEN,
        http_header: str = "Authorization",
        http_header_prefix: str = "Bearer ",
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from ..cognito import AsyncCognito  # the session module loads aiobotocore

        if not isinstance(cognito, AsyncCognito):
            raise ConfigurationError(
                "CognitoAuth(cognito) takes an AsyncCognito; "
                "use CognitoAuth.from_password(...) to sign in with a password"
            )
        self._header, self._prefix = check_header(http_header, http_header_prefix)
        self._margin = check_margin(refresh_margin)
        self._cognito = cognito
        self._token_type = _token_type(auth_token_type)
        self._clock = clock
        self._cache = TokenCache(
            fetch_async=self._fetch,
            fetch_sync=self._fetch_sync,
            refresh_margin=refresh_margin,
            clock=clock,
        )
        self._owns_cognito = False
        self._password: str | None = None
        self._auth_flow: AuthFlow = "USER_SRP_AUTH"
        #: The token value last handed to the cache: if the session still holds it when
        #: the cache asks again, it was rejected or is due, so it must be renewed.
        self._handed_out: str | None = None
        self._mode = _UNBOUND
        self._loop: weakref.ReferenceType[Any] | None = None
        self._bind_lock = threading.Lock()
        self._portal: PrivateLoop | None = None
        self._closed = False

    @classmethod
    def from_password(
        cls,
        user_pool_id: str,
        client_id: str,
        username: str,
        password: str,
        *,
        client_secret: str | None = None,
        user_pool_region: str | None = None,
        endpoint_url: str | None = None,
        auth_flow: AuthFlow = "USER_SRP_AUTH",
        auth_token_type: TokenType | str = TokenType.ACCESS_TOKEN,
        http_header: str = "Authorization",
        http_header_prefix: str = "Bearer ",
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
        **session_options: Any,
    ) -> CognitoAuth:
        """An auth that owns its session and signs ``username`` in on first use (SRP).

        ``session_options`` go to :class:`~acognito.AsyncCognito` (``botocore_config``,
        ``access_key``, ``jwks_url``, ``refresh_token_rotation``, ...). When Cognito
        rejects the refresh token (expired, revoked), the auth signs in again.
        """
        if not isinstance(password, str) or not password:
            raise ConfigurationError("password is required")
        if not isinstance(username, str) or not username:
            raise ConfigurationError("username is required")
        if auth_flow not in ("USER_SRP_AUTH", "USER_PASSWORD_AUTH", "USER_AUTH"):
            raise ConfigurationError(f"unsupported auth_flow {auth_flow!r}")
        from ..cognito import AsyncCognito

        cognito = AsyncCognito(
            user_pool_id,
            client_id,
            user_pool_region=user_pool_region,
            username=username,
            client_secret=client_secret,
            endpoint_url=endpoint_url,
            **session_options,
        )
        auth = cls(
            cognito,
            auth_token_type=auth_token_type,
            http_header=http_header,
            http_header_prefix=http_header_prefix,
            refresh_margin=refresh_margin,
            clock=clock,
        )
        auth._owns_cognito = True
        auth._password = password
        auth._auth_flow = auth_flow
        return auth

    # ------------------------------------------------------------------ properties

    @property
    def cognito(self) -> AsyncCognito:
        """The session the tokens come from (created by :meth:`from_password`, or yours)."""
        return self._cognito

    @property
    def auth_token_type(self) -> TokenType:
        """Which token is sent: the access token or the id token."""
        return self._token_type

    @property
    def http_header(self) -> str:
        return self._header

    @property
    def http_header_prefix(self) -> str:
        return self._prefix

    @property
    def refresh_margin(self) -> float:
        return self._margin

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ binding

    def _check_async(self) -> None:
        loop = self._loop
        if loop is not None and loop() is running_loop():
            return
        self._bind_async()

    def _bind_async(self) -> None:
        if self._closed:
            raise SessionClosedError("this CognitoAuth is closed")
        current = running_loop()
        with self._bind_lock:
            if self._mode == _UNBOUND:
                self._loop = weakref.ref(current)
                self._mode = _ASYNC
                return
            if self._mode == _ASYNC and self._loop is not None and self._loop() is current:
                return
            if self._mode == _SYNC:
                raise ConfigurationError(
                    "this CognitoAuth serves blocking httpx.Client requests (its session "
                    "lives on a private event loop); create another one for httpx.AsyncClient"
                )
        raise ConfigurationError(
            "this CognitoAuth belongs to another event loop (its Cognito session lives "
            "there); create one CognitoAuth per event loop"
        )

    def _check_sync(self) -> None:
        if self._mode == _SYNC and not self._closed:
            return
        with self._bind_lock:
            if self._closed:
                raise SessionClosedError("this CognitoAuth is closed")
            if self._mode == _SYNC:
                return
            if self._mode == _ASYNC:
                raise ConfigurationError(
                    "this CognitoAuth serves httpx.AsyncClient on an event loop; "
                    "create another one (CognitoAuth.from_password) for httpx.Client"
                )
            if not self._owns_cognito:
                raise ConfigurationError(
                    "CognitoAuth(cognito) is for httpx.AsyncClient: the AsyncCognito lives "
                    "on your event loop. For httpx.Client use CognitoAuth.from_password(...), "
                    "which runs its own session on a private event loop"
                )
            # The session's aiobotocore client must stay on one loop: give it its own,
            # in a background thread, for as long as this auth lives.
            self._portal = PrivateLoop.start()
            self._mode = _SYNC

    # ------------------------------------------------------------------ fetching

    def _select(self, tokens: Tokens) -> str | None:
        if self._token_type is TokenType.ID_TOKEN:
            return tokens.id_token
        return tokens.access_token

    def _expiry(self, token: str) -> tuple[float, float]:
        """When ``token`` expires (epoch seconds; inf if unknown) and the margin to use.

        The margin is ``refresh_margin`` capped at a quarter of the token's whole
        lifetime (``exp - iat``), so short-lived tokens are not refreshed constantly.
        """
        try:
            claims = peek_claims(token)
        except JwtParseError:
            claims = {}
        exp = claim_time(claims, "exp")
        iat = claim_time(claims, "iat")
        if exp is None and self._token_type is TokenType.ACCESS_TOKEN:
            exp = self._cognito.tokens.expires_at_timestamp
        if exp is None:
            return math.inf, self._margin
        whole = exp - iat if iat is not None else exp - self._clock()
        return exp, min(self._margin, max(0.0, whole) * DEFAULT_MARGIN_FRACTION)

    async def _fetch(self, stale: Bearer | None = None) -> Grant:
        """A token for the cache: the session's, renewed when due or already handed out."""
        if self._closed:
            raise SessionClosedError("this CognitoAuth is closed")
        cognito = self._cognito
        token = self._select(cognito.tokens)
        if token is None or token == self._handed_out or self._due(token):
            await self._obtain(cognito, token)
            token = self._select(cognito.tokens)
            if token is None:
                raise TokenRefreshError(f"Cognito returned no {self._token_type.value}")
        self._handed_out = token
        exp, margin = self._expiry(token)
        return Grant(token, exp - self._clock(), margin)

    def _due(self, token: str) -> bool:
        exp, margin = self._expiry(token)
        return self._clock() + margin >= exp

    async def _obtain(self, cognito: AsyncCognito, current: str | None) -> None:
        """New tokens: refresh; with a password, sign in (first use, refresh rejected)."""
        if cognito.refresh_token:
            try:
                await cognito.renew_access_token()
                return
            except _REFRESH_REJECTED:
                if self._password is None:
                    raise
                log.debug("refresh token rejected; signing in again")
        if self._password is not None:
            await cognito.authenticate(self._password, auth_flow=self._auth_flow)
            return
        if current is None and self._handed_out is None:
            raise ConfigurationError(
                "the AsyncCognito session has no tokens: sign in before using CognitoAuth, "
                "or use CognitoAuth.from_password(...)"
            )
        raise TokenRefreshError(
            f"the {self._token_type.value} needs renewing and the session has no refresh token"
        )

    def _fetch_sync(self, stale: Bearer | None = None) -> Grant:
        loop = self._portal
        if loop is None:
            raise SessionClosedError("this CognitoAuth is closed")
        try:
            return loop.portal.call(self._fetch, stale)
        except RuntimeError:
            if self._closed:  # closed by another thread while this request waited
                raise SessionClosedError("this CognitoAuth is closed") from None
            raise

    # ------------------------------------------------------------------ public helpers

    async def get_token(self) -> str:
        """The token this auth would send now, fetched or renewed if needed."""
        self._check_async()
        return (await self._cache.aget()).token

    def get_token_sync(self) -> str:
        """Blocking :meth:`get_token` (for :meth:`from_password` auths)."""
        self._check_sync()
        return self._cache.get().token

    def invalidate(self) -> None:
        """Drop the cached token: the next request renews it (e.g. after a permission change)."""
        self._cache.clear()

    # ------------------------------------------------------------------ lifecycle

    def _stop_portal(self) -> None:
        loop, self._portal = self._portal, None
        if loop is None:
            return
        try:
            if self._owns_cognito:
                loop.portal.call(self._cognito.close)
        finally:
            loop.stop()

    async def aclose(self) -> None:
        """Release what this auth created: its session (from :meth:`from_password`) and its
        private event loop. A session you passed in stays open."""
        if self._closed:
            return
        self._closed = True
        self._cache.clear()
        if self._mode == _SYNC:
            await anyio.to_thread.run_sync(self._stop_portal)
        elif self._owns_cognito:
            await self._cognito.close()

    def close(self) -> None:
        """Blocking :meth:`aclose`, for auths used with ``httpx.Client`` (or never used).

        A session of its own that lives on an event loop needs ``await aclose()``.
        """
        if self._closed:
            return
        if self._mode == _ASYNC and self._owns_cognito:
            raise ConfigurationError(
                "this CognitoAuth's session lives on an event loop: use await auth.aclose()"
            )
        self._closed = True
        self._cache.clear()
        self._stop_portal()

    def __repr__(self) -> str:
        cognito = self._cognito
        return (
            f"CognitoAuth(user_pool_id={cognito.user_pool_id!r}, client_id={cognito.client_id!r}, "
            f"username={cognito.username!r}, auth_token_type={self._token_type.value!r}, "
            f"http_header={self._header!r}, mode={self._mode!r}, "
            f"password={redact(self._password)}, owns_session={self._owns_cognito})"
        )
