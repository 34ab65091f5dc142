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
from .._loop_thread import LoopThread, running_loop
from .._secret import redact
from ..errors import (
    ConfigurationError,
    JwtParseError,
    NotAuthorizedError,
    RefreshTokenReuseError,
    SessionClosedError,
    TokenRefreshError,
)
from ..events import AuthEvent, Events, RefreshFailed, SignedIn, TokensRefreshed
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

if TYPE_CHECKING:
    from ..cognito import AsyncCognito, AuthFlow
    from ..stores import TokenStore
    from ..stores._shared import Record, SharedRecord

__all__ = ["CognitoAuth", "TokenType"]

log = logging.getLogger("acognito.auth")


class TokenType(str, Enum):
    """Which of the user's tokens :class:`CognitoAuth` sends (pycognito's names and values)."""

    ACCESS_TOKEN = "access_token"  # noqa: S105 - a name, not a secret
    ID_TOKEN = "id_token"  # noqa: S105 - a name, not a secret


#: Refresh-token failures that a fresh sign-in with the password can cure.
_REFRESH_REJECTED = (NotAuthorizedError, RefreshTokenReuseError)

_UNBOUND, _ASYNC, _SYNC = "unbound", "async", "sync"


_SOURCE = "CognitoAuth"


def _reportable(exc: Exception) -> bool:
    """Whether a failed fetch is a failed refresh (not a misuse of the auth)."""
    return not isinstance(exc, (ConfigurationError, SessionClosedError))


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

    With ``store`` (a :class:`~acognito.stores.TokenStore`) the user's tokens are kept
    there under ``store_key`` (by default from the pool, the client and the user name):
    every process sharing the store refreshes them once (under the store's lease,
    taken before the refresh call), a rotated refresh token is never overwritten by an
    older one, and a process that starts later begins with the stored tokens instead of
    signing in. ``events`` (an :class:`~acognito.events.Events` hub; one of its own by
    default) hears :class:`~acognito.events.SignedIn`,
    :class:`~acognito.events.TokensRefreshed` and :class:`~acognito.events.RefreshFailed`.
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
        store: TokenStore | None = None,
        store_key: str | None = None,
        events: Events | None = None,
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
        self._portal: LoopThread | None = None
        self._closed = False
        if events is not None and not isinstance(events, Events):
            raise ConfigurationError("events must be an acognito.events.Events hub")
        self._events = Events() if events is None else events
        self._shared: SharedRecord | None = None
        if store is not None:
            from ..stores._shared import SharedRecord

            self._shared = SharedRecord(store, store_key or self._default_store_key())
        elif store_key is not None:
            raise ConfigurationError("store_key needs a store")

    def _default_store_key(self) -> str:
        from ..stores._session import user_key

        cognito = self._cognito
        if not cognito.username:
            raise ConfigurationError(
                "a CognitoAuth with a store needs the session's username or a store_key"
            )
        return user_key(cognito.user_pool_id, cognito.client_id, cognito.username)

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
        store: TokenStore | None = None,
        store_key: str | None = None,
        events: Events | None = None,
        **session_options: Any,
    ) -> CognitoAuth:
        """An auth that owns its session and signs ``username`` in on first use (SRP).

        ``session_options`` go to :class:`~acognito.AsyncCognito` (``botocore_config``,
        ``access_key``, ``jwks_uri``, ``refresh_token_rotation``, ...). When Cognito
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
            store=store,
            store_key=store_key,
            events=events,
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

    @property
    def events(self) -> Events:
        """The hub this auth's lifecycle events go to."""
        return self._events

    @property
    def store_key(self) -> str | None:
        """The key of the user's tokens in the store (None without a store)."""
        return None if self._shared is None else self._shared.key

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
            self._portal = LoopThread.start("acognito-auth-loop")
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
        """A token for the cache (async requests); the events, then, in this task."""
        try:
            grant, event = await self._fetch_core(stale)
        except Exception as exc:
            if _reportable(exc):
                await self._events.emit(self._failed(exc))
            raise
        if event is not None:
            await self._events.emit(event)
        return grant

    def _failed(self, exc: Exception) -> RefreshFailed:
        cognito = self._cognito
        return RefreshFailed(_SOURCE, cognito.client_id, cognito.username, error=exc)

    async def _fetch_core(self, stale: Bearer | None) -> tuple[Grant, AuthEvent | None]:
        """A token for the cache: the session's, renewed when due or already handed out,
        and the event to tell of it (None: nothing changed)."""
        if self._closed:
            raise SessionClosedError("this CognitoAuth is closed")
        cognito = self._cognito
        token = self._select(cognito.tokens)
        event: AuthEvent | None = None
        if token is None or token == self._handed_out or self._due(token):
            if self._shared is None:
                event = await self._obtain(cognito, token)
            else:
                event = await self._obtain_shared(cognito, token)
            token = self._select(cognito.tokens)
            if token is None:
                raise TokenRefreshError(f"Cognito returned no {self._token_type.value}")
        self._handed_out = token
        exp, margin = self._expiry(token)
        return Grant(token, exp - self._clock(), margin), event

    # ------------------------------------------------------------------ the store

    def _usable(self, current: str | None) -> Callable[[Record], bool]:
        """Whether a stored record holds a token to send instead of ``current``."""

        def usable(record: Record) -> bool:
            token = record.get(self._token_type.value)
            if not isinstance(token, str) or token in (current, self._handed_out):
                return False
            try:  # a stored token must say when it expires
                if claim_time(peek_claims(token), "exp") is None:
                    return False
            except JwtParseError:
                return False
            return not self._due(token)

        return usable

    def _record(self, tokens: Tokens) -> Record:
        from ..stores._session import record_of

        return record_of(tokens)

    def _adopt(self, cognito: AsyncCognito, record: Record) -> None:
        """Put a stored record's tokens into the session."""
        for name in ("id_token", "access_token", "refresh_token"):
            value = record.get(name)
            if isinstance(value, str) and value:
                setattr(cognito, name, value)

    async def _obtain_shared(self, cognito: AsyncCognito, current: str | None) -> AuthEvent | None:
        """New tokens through the store: another process's, or refreshed here under the
        store's lease (starting from the newest refresh token stored)."""
        assert self._shared is not None
        events: list[AuthEvent | None] = []

        async def refresh(latest: Record | None) -> Record:
            stored_rt = None if latest is None else latest.get("refresh_token")
            if isinstance(stored_rt, str) and stored_rt and stored_rt != cognito.refresh_token:
                self._adopt(cognito, latest or {})  # another process rotated it
            events.append(await self._obtain(cognito, self._select(cognito.tokens)))
            return self._record(cognito.tokens)

        record, refreshed = await self._shared.obtain(
            usable=self._usable(current), refresh=refresh, ttl=lambda _: None
        )
        if refreshed:
            return events[-1] if events else None
        old_refresh = cognito.refresh_token
        self._adopt(cognito, record)
        return TokensRefreshed(
            _SOURCE,
            cognito.client_id,
            cognito.username,
            rotated=cognito.refresh_token != old_refresh,
            from_store=True,
            tokens=cognito.tokens,
        )

    def _due(self, token: str) -> bool:
        exp, margin = self._expiry(token)
        return self._clock() + margin >= exp

    async def _obtain(self, cognito: AsyncCognito, current: str | None) -> AuthEvent:
        """New tokens: refresh; with a password, sign in (first use, refresh rejected).
        The event that tells of them."""
        old_refresh = cognito.refresh_token
        if old_refresh:
            try:
                await cognito.renew_access_token()
                return TokensRefreshed(
                    _SOURCE,
                    cognito.client_id,
                    cognito.username,
                    rotated=cognito.refresh_token != old_refresh,
                    tokens=cognito.tokens,
                )
            except _REFRESH_REJECTED:
                if self._password is None:
                    raise
                log.debug("refresh token rejected; signing in again")
        if self._password is not None:
            await cognito.authenticate(self._password, auth_flow=self._auth_flow)
            return SignedIn(_SOURCE, cognito.client_id, cognito.username, tokens=cognito.tokens)
        if current is None and self._handed_out is None:
            raise ConfigurationError(
                "the AsyncCognito session has no tokens: sign in before using CognitoAuth, "
                "or use CognitoAuth.from_password(...)"
            )
        raise TokenRefreshError(
            f"the {self._token_type.value} needs renewing and the session has no refresh token"
        )

    def _fetch_sync(self, stale: Bearer | None = None) -> Grant:
        """A token for the cache (blocking requests): fetched on the private loop, the
        events delivered here, in the calling thread."""
        loop = self._portal
        if loop is None:
            raise SessionClosedError("this CognitoAuth is closed")
        try:
            grant, event = loop.portal.call(self._fetch_core, stale)
        except RuntimeError:
            if self._closed:  # closed by another thread while this request waited
                raise SessionClosedError("this CognitoAuth is closed") from None
            raise
        except Exception as exc:
            if _reportable(exc):
                self._events.emit_sync(self._failed(exc))
            raise
        if event is not None:
            self._events.emit_sync(event)
        return grant

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
