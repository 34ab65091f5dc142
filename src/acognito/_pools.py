"""What the sessions of one pool share on one event loop, and each loop's registry.

A :class:`SharedPool` holds, per event loop and configuration (:class:`Settings`:
pool, app client, region, endpoint, credentials, botocore config), everything that
costs to build: the aiobotocore client (~100 ms of set-up), the JWKS cache with its
HTTP client, and the id and access token verifiers. Sessions borrow them and keep only
who the user is. It makes sessions through the factory it is given, so this module
never imports the session.

``AsyncCognito(...)`` on its own borrows an *implicit* pool (:func:`implicit_pool`):
one per running event loop and configuration, made on first use and closed when the
event loop ends (or by :func:`aclose_pools`). ``acognito.pool.CognitoPool`` is the
pool a service makes and holds itself. Nothing is shared across event loops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
from anyio.lowlevel import RunVar

from ._idp import IdpClient
from ._lifecycle import AsyncClosing
from ._settings import Settings, UserOptions
from .errors import ConfigurationError, SessionClosedError
from .jwks import JwksCache
from .verify import CognitoVerifier

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["MAX_IMPLICIT_POOLS", "SessionFactory", "SharedPool", "aclose_pools", "implicit_pool"]

S = TypeVar("S")

#: How a pool makes a session for one user: ``(pool, username, options) -> session``.
SessionFactory = Callable[["SharedPool[S]", "str | None", UserOptions], S]

#: Implicit pools kept per event loop; beyond it the least recently used idle one is
#: closed (a service that makes a new ``session=`` per request must not pile up clients).
MAX_IMPLICIT_POOLS = 16


class SharedPool(AsyncClosing, Generic[S]):
    """One user pool and app client on one event loop: the resources sessions share.

    The aiobotocore client is built on first use (off the event loop) with timeouts of
    ``acognito._idp.CONNECT_TIMEOUT`` / ``READ_TIMEOUT`` seconds unless
    ``botocore_config`` says otherwise. The pool belongs to the event loop it is first
    used on; it is closed by :meth:`aclose`, or when that loop ends.
    """

    def __init__(
        self, settings: Settings, *, implicit: bool, make_session: SessionFactory[S]
    ) -> None:
        self.settings = settings
        self.implicit = implicit
        self._make_session = make_session
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
            self.id_verifier = settings.verifier("id", self.jwks_cache)
            self.access_verifier = settings.verifier("access", self.jwks_cache)
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

    # ------------------------------------------------------------------ sessions

    def session(self, username: str | None = None, **options: Unpack[UserOptions]) -> S:
        """A session for one user on this pool: cheap, it borrows the pool's client
        and keys. Close it (or ``async with``) when done; the pool stays open.

        ``options`` are the user's tokens and remembered ``device`` (to start signed
        in), ``refresh_token_rotation``, ``refresh_margin``, ``verify_on_sign_in``,
        ``store``, ``store_key`` and ``events``, as :class:`~acognito.AsyncCognito`
        takes them.
        """
        return self._make_session(self, username, options)

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

    async def _aopen(self) -> None:
        await self.open()

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

    async def close(self) -> None:
        """Another name for :meth:`aclose`."""
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self._borrowers} sessions"
        kind = "implicit" if self.implicit else "explicit"
        return (
            f"CognitoPool(user_pool_id={self.user_pool_id!r}, client_id={self.client_id!r}, "
            f"region={self.settings.region!r}, {kind}, {state})"
        )


class _LoopPools:
    """The pools living on one event loop, closed when that loop ends.

    A started async generator is the hook: asyncio (``asyncio.run``, anyio) and trio
    both close the async generators still alive when their loop ends, so its
    ``finally`` runs on the loop, while connections can still be closed cleanly.
    """

    def __init__(self) -> None:
        self.implicit: dict[tuple[Any, ...], SharedPool[Any]] = {}
        self.live: dict[int, SharedPool[Any]] = {}
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


async def implicit_pool(settings: Settings, make_session: SessionFactory[S]) -> SharedPool[S]:
    """The running loop's shared pool for ``settings``, made on first use."""
    pools = _loop_pools()
    if pools is None:
        raise ConfigurationError("AsyncCognito runs on an asyncio or trio event loop")
    pool: SharedPool[S] | None = pools.implicit.pop(settings.key, None)
    if pool is None or pool.closed:
        pool = SharedPool(settings, implicit=True, make_session=make_session)
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
