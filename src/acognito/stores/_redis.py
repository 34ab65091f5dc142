""":class:`RedisTokenStore`: tokens shared by a fleet through Redis or Valkey.

On redis-py's asyncio client (the ``redis`` extra). Each key is a hash (``d`` the
value, ``v`` its version, ``f`` the fence of the last fenced write) under
``<prefix>v:<key>``; its lease is ``<prefix>l:<key>`` (``SET NX PX``) and its fencing
counter ``<prefix>n:<key>``. Conditional writes, leases and releases are Lua scripts, so
each is atomic and one round trip. Values are AES-GCM encrypted with the store key as
associated data.

redis-py's asyncio client lives on an asyncio event loop: on asyncio the store keeps a
client per loop; on trio it runs the client on a private asyncio loop in a daemon
thread and waits for it from a worker thread.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ConfigurationError
from ._base import Entry, Lease, StoreUnavailableError

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Coroutine

    from ._crypto import EncryptionKey, Sealer

__all__ = ["DEFAULT_PREFIX", "DEFAULT_TIMEOUT", "RedisTokenStore"]

T = TypeVar("T")

#: Every key this store writes starts with this, unless told otherwise.
DEFAULT_PREFIX = "acognito:"
#: Seconds one store call may take before it counts as failed.
DEFAULT_TIMEOUT = 0.25

# KEYS[1] the value hash. ARGV: value, expected version (-1: any), fence ('' none),
# time to live in ms ('' none). Returns the new version, or false.
_WRITE = """
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
local expected = tonumber(ARGV[2])
if expected >= 0 and cur ~= expected then return false end
local fence = last
if ARGV[3] ~= '' then
  fence = tonumber(ARGV[3])
  if fence < last then return false end
end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'v', cur + 1, 'f', fence)
if ARGV[4] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
else
  redis.call('PERSIST', KEYS[1])
end
return cur + 1
"""
# KEYS[1] the lease, KEYS[2] the fencing counter. ARGV[1] time to live in ms.
_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
return token
"""
# KEYS[1] the lease. ARGV[1] the token it must still hold.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class _AsyncioThread:
    """An asyncio event loop in a daemon thread, for redis-py's client under trio."""

    def __init__(self) -> None:
        import asyncio

        self.loop: asyncio.AbstractEventLoop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="acognito-redis-loop", daemon=True
        )
        self.thread.start()

    def call(self, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``factory()`` on the loop and wait for it (from another thread)."""
        import asyncio

        return asyncio.run_coroutine_threadsafe(factory(), self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


def _library() -> str:
    import sniffio

    return sniffio.current_async_library()


class RedisTokenStore:
    """A :class:`~acognito.stores.TokenStore` in Redis (or Valkey), shared by a fleet.

    ``url_or_client``: a URL (``redis://host:6379/0``, ``rediss://...``,
    ``unix:///path``) or a ``redis.asyncio.Redis`` you made (used as it is; on trio it
    runs on the store's private asyncio loop, so do not use it elsewhere too).

    ``encryption_key`` (32 bytes, or a mapping of key id to 32 bytes, the first
    encrypting and every one decrypting) keeps values AES-GCM encrypted; a shared store
    refuses to hold tokens in plain text unless ``allow_plaintext=True``. Every key
    starts with ``prefix``. Each call gives up after ``timeout`` seconds and raises
    :class:`~acognito.stores.StoreUnavailableError`, as does every Redis failure.
    """

    def __init__(
        self,
        url_or_client: Any,
        *,
        encryption_key: EncryptionKey | None = None,
        prefix: str = DEFAULT_PREFIX,
        allow_plaintext: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        try:
            import redis.asyncio  # noqa: F401 - the extra must be installed
        except ImportError:
            raise ImportError(
                "RedisTokenStore needs redis-py: pip install 'acognito[redis]'"
            ) from None
        if encryption_key is None and not allow_plaintext:
            raise ConfigurationError(
                "a shared store keeps tokens encrypted: give RedisTokenStore an "
                "encryption_key (32 bytes, e.g. os.urandom(32) kept in your secrets "
                "manager), or allow_plaintext=True to store them readable"
            )
        if not isinstance(prefix, str):
            raise ConfigurationError("prefix must be a string")
        if not 0 < timeout <= 30:
            raise ConfigurationError("timeout must be > 0 and <= 30 seconds")
        self._url: str | None = None
        self._client: Any = None
        if isinstance(url_or_client, str):
            self._url = url_or_client
        else:
            self._client = url_or_client
        self._prefix = prefix
        self._timeout = float(timeout)
        self._sealer: Sealer | None = None
        if encryption_key is not None:
            from ._crypto import Sealer

            self._sealer = Sealer(encryption_key)
        self._clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._private: _AsyncioThread | None = None
        self._private_client: Any = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def timeout(self) -> float:
        """Seconds one call may take (acognito's sessions and auths wait no longer)."""
        return self._timeout

    @property
    def encrypted(self) -> bool:
        """Whether values are encrypted in Redis."""
        return self._sealer is not None

    def __repr__(self) -> str:
        where = "client" if self._url is None else _safe_url(self._url)
        return f"RedisTokenStore({where!r}, prefix={self._prefix!r}, encrypted={self.encrypted})"

    # ------------------------------------------------------------------ clients

    def _make_client(self) -> Any:
        if self._client is not None:
            return self._client
        import redis.asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        assert self._url is not None
        return redis.asyncio.from_url(
            self._url,
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            retry=Retry(NoBackoff(), 0),
        )

    def _asyncio_client(self) -> Any:
        import asyncio

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = self._make_client()
        return client

    def _portal(self) -> _AsyncioThread:
        with self._lock:
            if self._closed:
                raise StoreUnavailableError("this RedisTokenStore is closed")
            if self._private is None:
                self._private = _AsyncioThread()
            return self._private

    async def _call(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """Run ``work(client)`` on a client of this event loop, bounded by the timeout."""
        if self._closed:
            raise StoreUnavailableError("this RedisTokenStore is closed")
        if _library() == "asyncio":
            return await self._bounded(work, self._asyncio_client())
        import anyio.lowlevel
        import anyio.to_thread

        portal = self._portal()

        async def on_private_loop() -> T:
            if self._private_client is None:
                self._private_client = self._make_client()
            return await self._bounded(work, self._private_client)

        try:
            return await anyio.to_thread.run_sync(portal.call, on_private_loop)
        except RuntimeError as exc:  # the private loop was stopped (closed)
            raise StoreUnavailableError("this RedisTokenStore is closed") from exc
        finally:
            # A cancellation that came while the thread worked wins over its outcome.
            await anyio.lowlevel.checkpoint_if_cancelled()

    async def _bounded(self, work: Callable[[Any], Awaitable[T]], client: Any) -> T:
        import asyncio

        from redis.exceptions import RedisError

        try:
            return await asyncio.wait_for(work(client), self._timeout)
        except (TimeoutError, asyncio.TimeoutError):
            raise StoreUnavailableError(
                f"Redis did not answer within {self._timeout * 1000:.0f} ms"
            ) from None
        except (RedisError, OSError) as exc:
            raise StoreUnavailableError(f"Redis failed: {type(exc).__name__}") from None

    # ------------------------------------------------------------------ values

    def _vkey(self, key: str) -> str:
        return f"{self._prefix}v:{key}"

    def _seal(self, key: str, value: bytes) -> bytes:
        return value if self._sealer is None else self._sealer.seal(key, value)

    def _open(self, key: str, data: bytes) -> bytes | None:
        return data if self._sealer is None else self._sealer.open(key, data)

    async def get(self, key: str) -> Entry | None:
        async def work(client: Any) -> list[Any]:
            return list(await client.hmget(self._vkey(key), ["d", "v"]))

        data, version = await self._call(work)
        if data is None or version is None:
            return None
        plain = self._open(key, bytes(data))
        return None if plain is None else Entry(plain, int(version))

    async def _write(
        self, key: str, value: bytes, expected: int, ttl: float | None, fence: int | None
    ) -> int | None:
        sealed = self._seal(key, bytes(value))
        args = [
            sealed,
            str(expected),
            "" if fence is None else str(int(fence)),
            "" if ttl is None else str(max(1, int(ttl * 1000))),
        ]

        async def work(client: Any) -> Any:
            return await client.eval(_WRITE, 1, self._vkey(key), *args)

        result = await self._call(work)
        return None if result is None else int(result)

    async def set(self, key: str, value: bytes, *, ttl: float | None = None) -> int:
        version = await self._write(key, value, -1, ttl, None)
        assert version is not None
        return version

    async def compare_and_set(
        self,
        key: str,
        value: bytes,
        *,
        version: int,
        ttl: float | None = None,
        fence: int | None = None,
    ) -> int | None:
        if version < 0:
            raise ConfigurationError("version is 0 (absent) or more")
        return await self._write(key, value, version, ttl, fence)

    async def delete(self, key: str) -> None:
        async def work(client: Any) -> Any:
            return await client.delete(self._vkey(key))

        await self._call(work)

    # ------------------------------------------------------------------ leases

    async def acquire(self, key: str, *, ttl: float) -> Lease | None:
        started = time.time()
        lease_key, counter = f"{self._prefix}l:{key}", f"{self._prefix}n:{key}"
        ms = str(max(1, int(ttl * 1000)))

        async def work(client: Any) -> Any:
            return await client.eval(_ACQUIRE, 2, lease_key, counter, ms)

        token = await self._call(work)
        return None if token is None else Lease(key, int(token), started + ttl)

    async def release(self, lease: Lease) -> None:
        lease_key = f"{self._prefix}l:{lease.key}"

        async def work(client: Any) -> Any:
            return await client.eval(_RELEASE, 1, lease_key, str(lease.token))

        await self._call(work)

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        """Close the connections this store opened (a client you passed stays open)."""
        import anyio.to_thread

        with self._lock:
            self._closed = True
            private, self._private = self._private, None
            clients = list(self._clients.items())
            self._clients.clear()
        if self._client is None and _library() == "asyncio":
            import asyncio

            loop = asyncio.get_running_loop()
            for owner, client in clients:
                if owner is loop:
                    await client.aclose()
        if private is not None:
            client = self._private_client
            self._private_client = None

            def stop() -> None:
                try:
                    if client is not None and self._client is None:
                        private.call(client.aclose)
                finally:
                    private.stop()

            await anyio.to_thread.run_sync(stop)

    async def __aenter__(self) -> RedisTokenStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _safe_url(url: str) -> str:
    """The URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "redis://?"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))
