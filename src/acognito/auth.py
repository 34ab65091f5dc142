"""httpx authentication that attaches Cognito bearer tokens and keeps them fresh.

:class:`CognitoAuth` sends a signed-in user's tokens (from an
:class:`~acognito.AsyncCognito` session, or from a password it signs in with);
:class:`ClientCredentialsAuth` gets machine-to-machine tokens from the pool's OAuth2
domain. Both share one caching and refresh machine (:class:`_TokenCache`): one token
request at a time however many requests need it (single flight), for threads
(``httpx.Client``) and for tasks (``httpx.AsyncClient`` on asyncio or trio).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import math
import re
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, NamedTuple

import anyio
import anyio.to_thread
import httpx
import sniffio
from anyio.from_thread import BlockingPortal

from ._flight import SingleFlight, ThreadSingleFlight
from ._lifecycle import AsyncClosing, Closing
from ._secret import redact
from .cognito import AsyncCognito, AuthFlow
from .errors import (
    ConfigurationError,
    JwtParseError,
    NotAuthorizedError,
    RefreshTokenReuseError,
    SessionClosedError,
    TokenRefreshError,
)
from .oauth import DEFAULT_TIMEOUT, OAuth2Client, SyncOAuth2Client, _scope_string
from .tokens import Tokens, peek_claims

__all__ = ["ClientCredentialsAuth", "CognitoAuth", "TokenType"]

log = logging.getLogger("acognito.auth")

#: Refresh this many seconds before expiry (capped by a fraction of the lifetime).
DEFAULT_REFRESH_MARGIN: Final = 300.0
#: For short-lived tokens the margin is at most this fraction of their lifetime.
DEFAULT_MARGIN_FRACTION: Final = 0.25


class _Grant(NamedTuple):
    """What a fetcher returns: the bearer value and its lifetime in seconds (None: unknown).

    ``margin`` (seconds before expiry to refresh) overrides the cache's own rule when
    the fetcher knows better, e.g. from the token's full lifetime.
    """

    token: str
    lifetime: float | None
    margin: float | None = None


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
        self._async_flight: SingleFlight[_Bearer] = SingleFlight()
        self._sync_flight: ThreadSingleFlight[_Bearer] = ThreadSingleFlight()

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
        margin = grant.margin
        if margin is None:
            margin = min(self._margin, lifetime * self._fraction)
        bearer = _Bearer(grant.token, started + lifetime - margin, started + lifetime)
        self._current = bearer
        return bearer

    async def aget(self, stale: _Bearer | None = None) -> _Bearer:
        """A fresh token for a task; at most one fetch runs on the loop at a time."""
        fetch = self._fetch_async
        if fetch is None:
            raise ConfigurationError("this auth has no asynchronous token source")
        current = self.fresh(stale)
        if current is not None:
            return current

        async def refresh() -> _Bearer:
            # A flight that ended just before this one may already have the token.
            current = self.fresh(stale)
            if current is not None:
                return current
            started = self._clock()
            return self.publish(await fetch(), started)

        return await self._async_flight.run(refresh)

    def get(self, stale: _Bearer | None = None) -> _Bearer:
        """A fresh token for a thread; at most one thread fetches at a time."""
        fetch = self._fetch_sync
        if fetch is None:
            raise ConfigurationError("this auth has no synchronous token source")
        current = self.fresh(stale)
        if current is not None:
            return current

        def refresh() -> _Bearer:
            current = self.fresh(stale)
            if current is not None:
                return current
            started = self._clock()
            return self.publish(fetch(), started)

        return self._sync_flight.run(refresh)


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
    _header: str = "Authorization"
    _prefix: str = "Bearer "

    def _attach(self, request: httpx.Request, bearer: _Bearer) -> None:
        request.headers[self._header] = self._prefix + bearer.token

    def _check_sync(self) -> None:
        """Called before each blocking request: raise if this auth cannot serve it."""

    def _check_async(self) -> None:
        """Called before each async request: raise if this auth cannot serve it here."""

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Blocking flow for ``httpx.Client``: no event loop needed."""
        self._check_sync()
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
        self._check_async()
        bearer = self._cache.fresh() or await self._cache.aget()
        self._attach(request, bearer)
        response = yield request
        if response.status_code == 401 and _replayable(request):
            self._attach(request, await self._cache.aget(stale=bearer))
            yield request

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise NotImplementedError("use sync_auth_flow or async_auth_flow")  # pragma: no cover


class ClientCredentialsAuth(_BearerAuth, AsyncClosing, Closing):
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

    def __repr__(self) -> str:
        return (
            f"ClientCredentialsAuth(token_endpoint={self._oauth.token_endpoint!r}, "
            f"client_id={self.client_id!r}, scopes={self.scopes!r}, client_secret='***')"
        )


# --------------------------------------------------------------------------- user tokens


class TokenType(str, Enum):
    """Which of the user's tokens :class:`CognitoAuth` sends (pycognito's names and values)."""

    ACCESS_TOKEN = "access_token"  # noqa: S105 - a name, not a secret
    ID_TOKEN = "id_token"  # noqa: S105 - a name, not a secret


#: An RFC 9110 field name: one or more token characters.
_FIELD_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
#: A field-value prefix: visible ASCII and spaces, no control characters.
_FIELD_PREFIX = re.compile(r"^[\x20-\x7e]*$")
#: Refresh-token failures that a fresh sign-in with the password can cure.
_REFRESH_REJECTED = (NotAuthorizedError, RefreshTokenReuseError)

_UNBOUND, _ASYNC, _SYNC = "unbound", "async", "sync"


def _token_type(value: TokenType | str) -> TokenType:
    try:
        return TokenType(getattr(value, "value", value))
    except ValueError:
        raise ConfigurationError("auth_token_type must be 'access_token' or 'id_token'") from None


def _running_loop() -> object:
    """The event loop (asyncio) or run (trio) of the calling task, as an identity."""
    library = sniffio.current_async_library()
    if library == "asyncio":
        return asyncio.get_running_loop()
    if library == "trio":
        import trio

        return trio.lowlevel.current_trio_token()
    raise ConfigurationError(f"CognitoAuth runs on asyncio or trio, not {library}")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class _PrivateLoop:
    """An asyncio event loop in a daemon thread, reached through an anyio blocking portal.

    A daemon thread, unlike anyio's ``start_blocking_portal`` (a thread pool), so that
    a program that forgets ``close()`` still exits instead of waiting for the loop.
    """

    def __init__(self, portal: BlockingPortal, thread: threading.Thread) -> None:
        self.portal = portal
        self.thread = thread

    @classmethod
    def start(cls) -> _PrivateLoop:
        ready: Future[BlockingPortal] = Future()

        async def serve() -> None:
            async with BlockingPortal() as portal:
                ready.set_result(portal)
                await portal.sleep_until_stopped()

        def run() -> None:
            try:
                anyio.run(serve, backend="asyncio")
            except BaseException as exc:
                if ready.done():
                    raise
                ready.set_exception(exc)  # the starting thread raises it

        thread = threading.Thread(target=run, name="acognito-auth-loop", daemon=True)
        thread.start()
        return cls(ready.result(), thread)

    def stop(self) -> None:
        """Stop the loop (cancelling what still runs on it) and wait for its thread."""
        with contextlib.suppress(RuntimeError):  # already stopped
            self.portal.call(self.portal.stop, True)
        self.thread.join()


class CognitoAuth(_BearerAuth, AsyncClosing, Closing):
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
        if not isinstance(cognito, AsyncCognito):
            raise ConfigurationError(
                "CognitoAuth(cognito) takes an AsyncCognito; "
                "use CognitoAuth.from_password(...) to sign in with a password"
            )
        if not isinstance(http_header, str) or not _FIELD_NAME.match(http_header):
            raise ConfigurationError("http_header must be a valid HTTP header name")
        if not isinstance(http_header_prefix, str) or not _FIELD_PREFIX.match(http_header_prefix):
            raise ConfigurationError("http_header_prefix must be printable ASCII")
        if (
            isinstance(refresh_margin, bool)
            or not isinstance(refresh_margin, (int, float))
            or not math.isfinite(refresh_margin)
        ):
            raise ConfigurationError("refresh_margin must be a finite number of seconds")
        self._cognito = cognito
        self._token_type = _token_type(auth_token_type)
        self._header = http_header
        self._prefix = http_header_prefix
        self._margin = float(refresh_margin)
        self._clock = clock
        self._cache = _TokenCache(
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
        self._portal: _PrivateLoop | None = None
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
        if loop is not None and loop() is _running_loop():
            return
        self._bind_async()

    def _bind_async(self) -> None:
        if self._closed:
            raise SessionClosedError("this CognitoAuth is closed")
        current = _running_loop()
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
            self._portal = _PrivateLoop.start()
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
        exp = _number(claims.get("exp"))
        iat = _number(claims.get("iat"))
        if exp is None and self._token_type is TokenType.ACCESS_TOKEN:
            exp = self._cognito.tokens.expires_at_timestamp
        if exp is None:
            return math.inf, self._margin
        whole = exp - iat if iat is not None else exp - self._clock()
        return exp, min(self._margin, max(0.0, whole) * DEFAULT_MARGIN_FRACTION)

    async def _fetch(self) -> _Grant:
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
        return _Grant(token, exp - self._clock(), margin)

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

    def _fetch_sync(self) -> _Grant:
        loop = self._portal
        if loop is None:
            raise SessionClosedError("this CognitoAuth is closed")
        try:
            return loop.portal.call(self._fetch)
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
