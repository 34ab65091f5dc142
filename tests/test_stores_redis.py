"""RedisTokenStore against a real redis-server: time to live, leases, encryption at
rest, and faults (the server stopped, frozen, restarted). The shared contract runs in
tests/test_stores.py. Every test runs on asyncio and on trio."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from acognito.errors import ConfigurationError
from acognito.stores import RedisTokenStore, StoreUnavailableError, UndecryptableValueWarning
from redis_server import RedisServer

pytestmark = pytest.mark.anyio

#: The store's bound for the tests of what a store does (not of its faults): wide, so a
#: machine loaded by parallel test runs does not turn a slow answer into an outage.
SLACK = 5.0

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisTokenStore]:
    async with RedisTokenStore(
        redis_url, encryption_key={"k1": KEY_A}, prefix="t:", timeout=SLACK
    ) as store:
        yield store


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own, to stop and restart."""
    with RedisServer() as server:
        yield server


async def eventually_absent(store: RedisTokenStore, key: str) -> None:
    with anyio.fail_after(10):
        while await store.get(key) is not None:  # noqa: ASYNC110
            await anyio.sleep(0.02)


async def test_a_shared_store_refuses_plain_text_unless_told(redis_url: str) -> None:
    with pytest.raises(ConfigurationError, match="encryption_key"):
        RedisTokenStore(redis_url)
    async with RedisTokenStore(redis_url, allow_plaintext=True, timeout=SLACK) as plain:
        assert not plain.encrypted
        await plain.set("k", b"readable")
        entry = await plain.get("k")
        assert entry is not None and entry.value == b"readable"


async def test_values_are_encrypted_at_rest(
    store: RedisTokenStore, redis_server: RedisServer
) -> None:
    await store.set("user:ann", b'{"refresh_token":"secret-rt"}')
    raw = redis_server.command("HGET", "t:v:user:ann", "d")
    assert b"secret-rt" not in raw and len(raw) > 40
    entry = await store.get("user:ann")
    assert entry is not None and entry.value == b'{"refresh_token":"secret-rt"}'
    # The ciphertext copied under another user's key does not decrypt there.
    redis_server.command("COPY", "t:v:user:ann", "t:v:user:bob")
    with pytest.warns(UndecryptableValueWarning) as caught:
        assert await store.get("user:bob") is None
    assert "secret" not in str(caught[0].message)
    # A store without the key reads a miss, with a warning; key rotation keeps reading.
    async with RedisTokenStore(
        redis_server.url, encryption_key={"k2": KEY_B}, prefix="t:", timeout=SLACK
    ) as other:
        with pytest.warns(UndecryptableValueWarning):
            assert await other.get("user:ann") is None
    async with RedisTokenStore(
        redis_server.url, encryption_key={"k2": KEY_B, "k1": KEY_A}, prefix="t:", timeout=SLACK
    ) as rotated:
        entry = await rotated.get("user:ann")
        assert entry is not None and entry.value.startswith(b'{"refresh')
    # A corrupted value is a miss too.
    redis_server.command("HSET", "t:v:user:ann", "d", "garbage")
    with pytest.warns(UndecryptableValueWarning):
        assert await store.get("user:ann") is None


async def test_ttl_and_lease_expiry_are_redis_time(store: RedisTokenStore) -> None:
    await store.set("short", b"v", ttl=0.05)
    await store.set("long", b"v", ttl=60)
    await eventually_absent(store, "short")
    assert await store.get("long") is not None
    lease = await store.acquire("lock", ttl=0.05)
    assert lease is not None
    with anyio.fail_after(10):  # a crashed holder's lease lapses by itself
        while (second := await store.acquire("lock", ttl=10)) is None:  # noqa: ASYNC110
            await anyio.sleep(0.02)
    assert second.token > lease.token
    await store.release(lease)  # the lapsed lease does not release the new one
    assert await store.acquire("lock", ttl=10) is None


async def test_the_prefix_is_kept(store: RedisTokenStore, redis_server: RedisServer) -> None:
    await store.set("x", b"v")
    lease = await store.acquire("x", ttl=10)
    assert lease is not None
    keys = redis_server.command("KEYS", "*")
    assert b"t:v:x" in keys and b"t:l:x" in keys and b"t:n:x" in keys


def test_the_repr_hides_the_password() -> None:
    store = RedisTokenStore("redis://user:hunter2@db:6379/0", encryption_key=KEY_A)
    assert "hunter2" not in repr(store) and "db:6379" in repr(store)
    assert str(bytes(KEY_A)) not in repr(store)


async def test_a_stopped_server_is_unavailable_then_back(own_server: RedisServer) -> None:
    async with RedisTokenStore(own_server.url, encryption_key=KEY_A) as store:
        await store.set("k", b"v")
        own_server.stop()
        with pytest.raises(StoreUnavailableError):
            await store.get("k")
        own_server.start()  # an empty Redis: the restart lost what it held
        with anyio.fail_after(10):
            while True:
                try:
                    assert await store.get("k") is None
                    break
                except StoreUnavailableError:
                    await anyio.sleep(0.05)
        await store.set("k", b"again")
        assert (await store.get("k")) is not None


async def test_a_frozen_server_times_out(own_server: RedisServer) -> None:
    async with RedisTokenStore(own_server.url, encryption_key=KEY_A, timeout=0.2) as store:
        await store.set("k", b"v")
        own_server.pause()
        try:
            with pytest.raises(StoreUnavailableError, match="200 ms"):
                await store.get("k")
            with pytest.raises(StoreUnavailableError):
                await store.acquire("k", ttl=5)
        finally:
            own_server.resume()
        with anyio.fail_after(10):
            while True:
                try:
                    entry = await store.get("k")
                    break
                except StoreUnavailableError:
                    await anyio.sleep(0.05)
        assert entry is not None and entry.value == b"v"


async def test_cancelled_calls_leave_the_store_consistent(own_server: RedisServer) -> None:
    async with RedisTokenStore(own_server.url, encryption_key=KEY_A) as store:
        await store.set("k", b"v1")
        own_server.pause()
        try:
            with anyio.move_on_after(0.05) as scope:
                await store.compare_and_set("k", b"v2", version=1)
            assert scope.cancelled_caught
        finally:
            own_server.resume()
        # The write either happened whole or not at all; the store keeps answering.
        with anyio.fail_after(10):
            while True:
                try:
                    entry = await store.get("k")
                    break
                except StoreUnavailableError:
                    await anyio.sleep(0.05)
        assert entry is not None and (entry.value, entry.version) in ((b"v1", 1), (b"v2", 2))
        assert await store.compare_and_set("k", b"v3", version=entry.version) is not None


def test_without_the_binary_tests_skip_naming_the_package_except_on_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil

    import redis_server

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(redis_server.os.path, "exists", lambda path: False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Debian package redis-server"):
        redis_server.need_redis_server()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        redis_server.need_redis_server()
