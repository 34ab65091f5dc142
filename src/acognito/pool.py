"""What the users of one pool share: the aiobotocore client, the JWKS cache, the verifiers.

A :class:`CognitoPool` holds, per event loop and configuration (pool, app client,
region, endpoint, credentials, botocore config), everything that costs to build:
the aiobotocore client (~100 ms of set-up), the JWKS cache with its HTTP client, and
the id and access token verifiers. Sessions (:class:`~acognito.AsyncCognito`) borrow
them and keep only who the user is.

``AsyncCognito(...)`` on its own borrows from an *implicit* pool: one per running
event loop and configuration, made on first use and closed when the event loop ends
(or by :func:`aclose_pools`). So ``async with AsyncCognito(...)`` per request is the
fast path: closing a session keeps the client and keys for the next one. Nothing is
shared across event loops; a session used from another loop is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import anyio
from anyio.lowlevel import RunVar

from ._client_options import aio_config, read_client_kwargs
from ._idp import IdpClient, check_max_concurrency
from ._ids import check_client_id, check_region, parse_pool_id
from ._lifecycle import AsyncClosing
from .errors import ConfigurationError, SessionClosedError
from .jwks import JwksCache
from .verify import CognitoVerifier

if TYPE_CHECKING:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession

    from .cognito import AsyncCognito
    from .devices import DeviceCredentials

__all__ = ["MAX_IMPLICIT_POOLS", "CognitoPool", "aclose_pools"]


def _optional_text(value: object, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigurationError(f"{what} must be a string or None; got {type(value).__name__}")
    return value


def _http_url(value: object, what: str) -> str | None:
    """``value`` without trailing slashes, if it is an absolute http(s) URL."""
    text = _optional_text(value, what)
    if text is None:
        return None
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise ConfigurationError(
            f"{what} must be an http(s) URL such as 'http://127.0.0.1:4566'; got {shown!r}"
        )
    return text.rstrip("/")


def _config_key(config: object) -> object:
    """A botocore config's identity by value, so ``AioConfig(...)`` written inline per
    session still shares one pool. botocore rewrites ``retries`` in place when a client
    is made (``max_attempts`` -> ``total_max_attempts``); both spellings key alike."""
    options = getattr(config, "_user_provided_options", None)
    if config is None or not isinstance(options, dict):
        return config
    items = []
    for name, value in sorted(options.items()):
        if name == "retries" and isinstance(value, Mapping):
            value = dict(value)
            total, retries = value.pop("total_max_attempts", None), value.pop("max_attempts", None)
            value["total"] = total if total is not None or retries is None else retries + 1
            value = sorted(value.items())
        items.append((name, repr(value)))
    return (type(config), tuple(items))


class _Settings:
    """A pool's validated configuration; equal settings share one implicit pool.

    Secrets (client secret, AWS keys) take part in the identity only through a
    digest, and never appear in ``repr``.
    """

    def __init__(
        self,
        user_pool_id: object,
        client_id: object,
        *,
        user_pool_region: object = None,
        client_secret: object = None,
        access_key: object = None,
        secret_key: object = None,
        session: AioSession | None = None,
        botocore_config: AioConfig | None = None,
        boto3_client_kwargs: Mapping[str, Any] | None = None,
        endpoint_url: object = None,
        jwks_url: object = None,
        issuer: object = None,
        max_concurrency: int | None = None,
    ) -> None:
        # An explicit argument wins over the same setting in ``boto3_client_kwargs``.
        extra = read_client_kwargs(boto3_client_kwargs)
        user_pool_region = user_pool_region or extra.get("user_pool_region")
        if access_key is None and secret_key is None:
            access_key, secret_key = extra.get("access_key"), extra.get("secret_key")
        session_token = _optional_text(extra.get("session_token"), "aws_session_token")
        endpoint_url = endpoint_url or extra.get("endpoint_url")
        botocore_config = aio_config(
            botocore_config if botocore_config is not None else extra.get("botocore_config")
        )
        region, self.user_pool_id = parse_pool_id(user_pool_id)
        #: ``None`` for an admin-only session: operations that need an app client refuse.
        self.client_id: str | None = None if client_id is None else check_client_id(client_id)
        if user_pool_region is not None:
            region = check_region(user_pool_region)
        self.region = region
        self.client_secret = _optional_text(client_secret, "client_secret")
        if self.client_secret is not None and self.client_id is None:
            raise ConfigurationError("client_secret needs the client_id it belongs to")
        access_key = _optional_text(access_key, "access_key")
        secret_key = _optional_text(secret_key, "secret_key")
        if (access_key is None) != (secret_key is None):
            raise ConfigurationError("access_key and secret_key go together")
        if session_token is not None and access_key is None:
            raise ConfigurationError("aws_session_token needs aws_access_key_id and its secret")
        self.access_key, self.secret_key = access_key, secret_key
        self.session_token = session_token
        self.session = session
        self.botocore_config = botocore_config
        self.max_concurrency = check_max_concurrency(max_concurrency)
        self.endpoint_url = _http_url(endpoint_url, "endpoint_url")
        issuer = _optional_text(issuer, "issuer")
        self.issuer = issuer or (
            f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"
        )
        explicit_jwks = _http_url(jwks_url, "jwks_url")
        self.jwks_url = explicit_jwks or (
            f"{self.endpoint_url}/{self.user_pool_id}/.well-known/jwks.json"
            if self.endpoint_url
            else f"{self.issuer}/.well-known/jwks.json"
        )
        #: A plain-http ``endpoint_url`` is an emulator the user chose (maybe on a container
        #: network): its JWKS may be fetched over http too. An explicit ``jwks_url`` gets
        #: no such pass; JWKS over plain http elsewhere is for loopback hosts only.
        self.jwks_allow_http = explicit_jwks is None and bool(
            self.endpoint_url and self.endpoint_url.lower().startswith("http://")
        )
        digest = hashlib.sha256()
        for secret in (self.client_secret, access_key, secret_key, session_token):
            digest.update(b"\x00" if secret is None else b"\x01" + secret.encode() + b"\x00")
        self.key = (
            self.user_pool_id,
            self.client_id,
            self.region,
            self.endpoint_url,
            self.jwks_url,
            self.issuer,
            digest.digest(),
            session,
            _config_key(botocore_config),
            max_concurrency,
        )

    def __repr__(self) -> str:
        return f"_Settings({self.user_pool_id!r}, {self.client_id!r}, region={self.region!r})"


def make_verifier(
    settings: _Settings,
    token_use: Literal["id", "access"],
    jwks_cache: JwksCache,
    jwks: Mapping[str, Any] | None = None,
) -> CognitoVerifier:
    """A verifier of the pool's ``token_use`` tokens for its app client."""
    if settings.client_id is None:
        raise ConfigurationError("verifying tokens needs the app client's client_id")
    return CognitoVerifier(
        settings.user_pool_id,
        client_id=settings.client_id,
        token_use=token_use,
        jwks=jwks,
        jwks_uri=settings.jwks_url,
        issuer=settings.issuer,
        jwks_cache=jwks_cache,
    )


class _LoopPools:
    """The pools living on one event loop, closed when that loop ends.

    A started async generator is the hook: asyncio (``asyncio.run``, anyio) and trio
    both close the async generators still alive when their loop ends, so its
    ``finally`` runs on the loop, while connections can still be closed cleanly.
    """

    def __init__(self) -> None:
        self.implicit: dict[tuple[Any, ...], CognitoPool] = {}
        self.live: dict[int, CognitoPool] = {}
        self._keeper: AsyncIterator[None] | None = None

    async def watch(self) -> None:
        """Start the loop-end hook (once per loop)."""
        if self._keeper is None:
            self._keeper = keeper = self._close_at_loop_end()
            await keeper.__anext__()

    async def _close_at_loop_end(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            with anyio.CancelScope(shield=True):
                await self.aclose()

    async def aclose(self) -> None:
        self.implicit.clear()
        while self.live:
            _, pool = self.live.popitem()
            await pool.aclose()


_LOOP_POOLS: RunVar[_LoopPools] = RunVar("acognito_pools")


def _loop_pools(create: bool = True) -> _LoopPools | None:
    """This event loop's pools (``None`` outside an event loop, or when none yet)."""
    try:
        return _LOOP_POOLS.get()
    except LookupError:
        if not create:
            return None
        pools = _LoopPools()
        _LOOP_POOLS.set(pools)
        return pools
    except Exception:  # not on an event loop anyio knows (sniffio cannot tell)
        return None


#: Implicit pools kept per event loop; beyond it the least recently used idle one is
#: closed (a service that makes a new ``session=`` per request must not pile up clients).
MAX_IMPLICIT_POOLS = 16


async def _implicit_pool(settings: _Settings) -> CognitoPool:
    """The running loop's shared pool for ``settings``, made on first use."""
    pools = _loop_pools()
    if pools is None:
        raise ConfigurationError("AsyncCognito runs on an asyncio or trio event loop")
    pool = pools.implicit.pop(settings.key, None)
    if pool is None or pool.closed:
        pool = CognitoPool._from_settings(settings, implicit=True)
    pools.implicit[settings.key] = pool  # last: the most recently used
    await pool._bind()
    idle = [p for p in pools.implicit.values() if p is not pool and not p.sessions]
    for old in idle[: max(0, len(pools.implicit) - MAX_IMPLICIT_POOLS)]:
        await old.aclose()
    return pool


async def aclose_pools() -> None:
    """Close every pool of the running event loop now (the implicit ones included).

    Pools are also closed when the event loop ends (``asyncio.run``, ``anyio.run``,
    ``trio.run``); call this when a loop lives on (a test harness, a worker that
    changes configuration) and its connections should go now.
    """
    pools = _loop_pools(create=False)
    if pools is not None:
        await pools.aclose()


class CognitoPool(AsyncClosing):
    """One user pool and app client on one event loop: the resources sessions share.

    ``async with CognitoPool(pool_id, client_id, ...) as pool:`` then
    ``async with pool.session(username="bob") as cognito:`` per user. The arguments are
    :class:`~acognito.AsyncCognito`'s pool-wide ones. The aiobotocore client is built
    on first use (off the event loop) with timeouts of
    :data:`~acognito._idp.CONNECT_TIMEOUT` / :data:`~acognito._idp.READ_TIMEOUT`
    seconds unless ``botocore_config`` says otherwise. The pool belongs to the event
    loop it is first used on; it is closed by :meth:`aclose`, or when that loop ends.
    """

    def __init__(
        self,
        user_pool_id: str,
        client_id: str | None,
        *,
        user_pool_region: str | None = None,
        client_secret: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        session: AioSession | None = None,
        botocore_config: AioConfig | None = None,
        boto3_client_kwargs: Mapping[str, Any] | None = None,
        endpoint_url: str | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        settings = _Settings(
            user_pool_id,
            client_id,
            user_pool_region=user_pool_region,
            client_secret=client_secret,
            access_key=access_key,
            secret_key=secret_key,
            session=session,
            botocore_config=botocore_config,
            boto3_client_kwargs=boto3_client_kwargs,
            endpoint_url=endpoint_url,
            jwks_url=jwks_url,
            issuer=issuer,
            max_concurrency=max_concurrency,
        )
        self._setup(settings, implicit=False)

    @classmethod
    def _from_settings(cls, settings: _Settings, *, implicit: bool) -> CognitoPool:
        pool = object.__new__(cls)
        pool._setup(settings, implicit=implicit)
        return pool

    def _setup(self, settings: _Settings, *, implicit: bool) -> None:
        self.settings = settings
        self.implicit = implicit
        self.idp = IdpClient(
            region=settings.region,
            endpoint_url=settings.endpoint_url,
            access_key=settings.access_key,
            secret_key=settings.secret_key,
            session_token=settings.session_token,
            session=settings.session,
            botocore_config=settings.botocore_config,
            max_concurrency=settings.max_concurrency,
        )
        self.jwks_cache = JwksCache(allow_http=settings.jwks_allow_http)
        # An admin-only pool (no app client) has nothing to check ``aud``/``client_id`` against.
        self.id_verifier: CognitoVerifier | None = None
        self.access_verifier: CognitoVerifier | None = None
        if settings.client_id is not None:
            self.id_verifier = make_verifier(settings, "id", self.jwks_cache)
            self.access_verifier = make_verifier(settings, "access", self.jwks_cache)
        self._home: _LoopPools | None = None
        self._borrowers = 0
        self._closed = False

    # ------------------------------------------------------------------ identity

    @property
    def user_pool_id(self) -> str:
        return self.settings.user_pool_id

    @property
    def client_id(self) -> str | None:
        return self.settings.client_id

    @property
    def sessions(self) -> int:
        """How many open sessions borrow this pool now."""
        return self._borrowers

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ event loop

    async def _bind(self) -> None:
        """Tie the pool to the running event loop (first use) or check it is that loop."""
        if self._home is None:
            home = _loop_pools()
            if home is None:
                raise ConfigurationError("CognitoPool runs on an asyncio or trio event loop")
            self._home = home
            home.live[id(self)] = self
            await home.watch()
        else:
            self.check_loop()
        if self._closed:
            raise SessionClosedError("this Cognito pool is closed")

    def check_loop(self) -> None:
        """Raise :class:`ConfigurationError` unless running on the pool's own event loop."""
        if self._home is not None and _loop_pools(create=False) is not self._home:
            raise ConfigurationError(
                "this Cognito session belongs to another event loop: its connections "
                "live there; make a new AsyncCognito (or CognitoPool) on this loop"
            )

    def _borrow(self) -> None:
        self._borrowers += 1

    def _release(self) -> None:
        self._borrowers = max(0, self._borrowers - 1)

    async def open(self) -> None:
        """Bind to the running loop and build the aiobotocore client now."""
        await self._bind()
        await self.idp.open()

    async def __aenter__(self) -> CognitoPool:
        await self.open()
        return self

    @property
    def client(self) -> Any:
        """The pool's aiobotocore ``cognito-idp`` client, once open (``async with`` or a
        first call; :meth:`get_client` opens it). For botocore's ``Stubber`` or a call
        acognito has no method for; it stays the pool's: do not close it."""
        client = self.idp.client
        if client is None:
            raise ConfigurationError(
                "the aiobotocore client is made when the pool opens: use `async with` "
                "or `await get_client()` first"
            )
        return client

    async def get_client(self) -> Any:
        """The pool's aiobotocore client, opening the pool first if needed."""
        await self.open()
        return self.idp.client

    async def aclose(self) -> None:
        """Close the aiobotocore client and the JWKS cache's HTTP client.

        Sessions still borrowing the pool are refused afterwards
        (:class:`~acognito.errors.SessionClosedError`).
        """
        self._closed = True
        if self._home is not None:
            self._home.live.pop(id(self), None)
            if self._home.implicit.get(self.settings.key) is self:
                del self._home.implicit[self.settings.key]
        with anyio.CancelScope(shield=True):
            await self.idp.close()
            await self.jwks_cache.aclose()

    close = aclose

    # ------------------------------------------------------------------ sessions

    def session(
        self,
        username: str | None = None,
        *,
        id_token: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        device: DeviceCredentials | None = None,
        refresh_token_rotation: bool = False,
        refresh_margin: float = 60.0,
        verify_on_sign_in: bool = True,
    ) -> AsyncCognito:
        """A session for one user on this pool: cheap, it borrows the pool's client
        and keys. Close it (or ``async with``) when done; the pool stays open."""
        from .cognito import AsyncCognito

        return AsyncCognito._on_pool(
            self,
            username=username,
            id_token=id_token,
            access_token=access_token,
            refresh_token=refresh_token,
            device=device,
            refresh_token_rotation=refresh_token_rotation,
            refresh_margin=refresh_margin,
            verify_on_sign_in=verify_on_sign_in,
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self._borrowers} sessions"
        kind = "implicit" if self.implicit else "explicit"
        return (
            f"CognitoPool(user_pool_id={self.user_pool_id!r}, client_id={self.client_id!r}, "
            f"region={self.settings.region!r}, {kind}, {state})"
        )
