"""The TokenStore protocol, one contract run against every store that ships.

MemoryTokenStore and FileTokenStore here; RedisTokenStore (against a real
redis-server) runs the same contract in tests/test_stores_redis.py. Every test runs on
asyncio and on trio.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from acognito.errors import ConfigurationError
from acognito.stores import (
    FileTokenStore,
    Lease,
    MemoryTokenStore,
    TokenStore,
    UndecryptableValueWarning,
)
from acognito.stores import file_format as fmt

pytestmark = pytest.mark.anyio

#: The store's bound for the tests of what a store does (not of its faults): wide, so a
#: machine loaded by parallel test runs does not turn a slow answer into an outage.
SLACK = 5.0

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


class Clock:
    """Epoch seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


StoreFactory = Callable[..., Any]


@pytest.fixture(params=["memory", "file"])
def make_clocked_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """The stores whose clock a test can move (Redis keeps time itself: its own tests)."""

    def make(clock: Clock | None = None, **options: Any) -> TokenStore:
        extra = {} if clock is None else {"clock": clock}
        if request.param == "memory":
            return MemoryTokenStore(**extra)
        return FileTokenStore(tmp_path / "tokens", **extra, **options)

    return make


@pytest.fixture(params=["memory", "file", "redis", "redis-encrypted"])
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    made: list[Any] = []

    def make() -> TokenStore:
        if request.param == "memory":
            return MemoryTokenStore()
        if request.param == "file":
            return FileTokenStore(tmp_path / "tokens")
        from acognito.stores import RedisTokenStore

        url = request.getfixturevalue("redis_url")
        if request.param == "redis":
            store = RedisTokenStore(url, allow_plaintext=True, timeout=SLACK)
        else:
            store = RedisTokenStore(url, encryption_key={"k1": KEY_A}, timeout=SLACK)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()


# --------------------------------------------------------------------------- the contract


async def test_get_set_delete_and_versions(make_store: StoreFactory) -> None:
    store = make_store()
    assert isinstance(store, TokenStore)
    assert await store.get("k") is None
    assert await store.set("k", b'{"a":1}') == 1
    entry = await store.get("k")
    assert entry is not None and entry.value == b'{"a":1}' and entry.version == 1
    assert await store.set("k", b"\x00\xffbinary") == 2
    entry = await store.get("k")
    assert entry is not None and entry.value == b"\x00\xffbinary" and entry.version == 2
    await store.delete("k")
    assert await store.get("k") is None
    await store.delete("k")  # absent: nothing happens
    assert "value=" not in repr(entry) and "binary" not in repr(entry)


async def test_ttl_makes_a_key_absent(make_clocked_store: StoreFactory) -> None:
    clock = Clock()
    store = make_clocked_store(clock)
    await store.set("k", b"v", ttl=30)
    await store.set("forever", b"v")
    clock.now += 29
    assert await store.get("k") is not None
    clock.now += 2
    assert await store.get("k") is None
    assert await store.get("forever") is not None
    # An expired key is absent for a conditional write too.
    assert await store.compare_and_set("k", b"w", version=0) == 1


async def test_compare_and_set_refuses_a_stale_version(make_store: StoreFactory) -> None:
    store = make_store()
    assert await store.compare_and_set("k", b"one", version=1) is None  # absent is 0
    assert await store.compare_and_set("k", b"one", version=0) == 1
    assert await store.compare_and_set("k", b"two", version=0) is None
    assert await store.compare_and_set("k", b"two", version=1) == 2
    entry = await store.get("k")
    assert entry is not None and (entry.value, entry.version) == (b"two", 2)


async def test_a_write_fenced_by_an_older_lease_is_refused(make_store: StoreFactory) -> None:
    store = make_store()
    assert await store.compare_and_set("k", b"by 5", version=0, fence=5) == 1
    assert await store.compare_and_set("k", b"by 4", version=1, fence=4) is None
    assert await store.compare_and_set("k", b"by 6", version=1, fence=6) == 2
    assert await store.compare_and_set("k", b"unfenced", version=2) == 3
    entry = await store.get("k")
    assert entry is not None and entry.value == b"unfenced"


async def test_the_lease_lock(make_clocked_store: StoreFactory) -> None:
    clock = Clock()
    store = make_clocked_store(clock)
    first = await store.acquire("k", ttl=10)
    assert isinstance(first, Lease) and first.key == "k"
    assert await store.acquire("k", ttl=10) is None  # held
    assert await store.acquire("other", ttl=10) is not None  # one lease per key
    await store.release(first)
    second = await store.acquire("k", ttl=10)
    assert second is not None and second.token > first.token
    # A holder that crashed: its lease lapses by itself.
    clock.now += 11
    third = await store.acquire("k", ttl=10)
    assert third is not None and third.token > second.token
    # The lapsed holder giving its lease back leaves the new holder's alone.
    await store.release(second)
    assert await store.acquire("k", ttl=10) is None
    await store.release(third)
    assert await store.acquire("k", ttl=10) is not None


async def test_only_one_of_many_concurrent_writers_wins(make_store: StoreFactory) -> None:
    store = make_store()
    await store.set("k", b"start")
    won: list[int] = []

    async def writer(i: int) -> None:
        if await store.compare_and_set("k", f"w{i}".encode(), version=1) is not None:
            won.append(i)

    async with anyio.create_task_group() as tg:
        for i in range(10):
            tg.start_soon(writer, i)
    assert len(won) == 1
    entry = await store.get("k")
    assert entry is not None and entry.value == f"w{won[0]}".encode()


# --------------------------------------------------------------------------- the file store


async def test_file_store_writes_0600_json_that_the_stdlib_reader_reads(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens")
    record = {"access_token": "header.payload.sig", "expires_at": 1.5}
    value = json.dumps(record, separators=(",", ":")).encode()
    await store.set("profile/ann", value, ttl=3600)
    path = store.path("profile/ann")
    assert path == tmp_path / "tokens" / "profile" / "ann.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    doc = json.loads(path.read_text())
    assert doc["acognito_store"] == 1 and doc["encoding"] == "json"
    assert doc["value"] == record  # plain, readable text, like aws sso's cache
    assert fmt.read_value(tmp_path / "tokens", "profile/ann") == value
    assert fmt.read_json(tmp_path / "tokens", "profile/ann") == record
    assert fmt.read_value(tmp_path / "tokens", "nobody") is None
    # No temporary file is left behind.
    assert sorted(p.name for p in path.parent.iterdir()) == ["ann.json"]
    assert sorted(p.name for p in path.parent.parent.iterdir()) == [".lock", "profile"]
    assert "header" not in repr(fmt.read_record(path))


async def test_file_store_keeps_any_bytes_and_long_keys(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path)
    for key, value in [
        ("text", b"plain text"),
        ("spaced", b'{"a": 1}'),  # not compact JSON: kept as text, byte for byte
        ("binary", b"\x00\xff\x80"),
        ("k" * 300, b"long key"),
        ("ünïcode/ключ", b"{}"),
    ]:
        await store.set(key, value)
        entry = await store.get(key)
        assert entry is not None and entry.value == value, key
        assert fmt.read_value(tmp_path, key) == value
    assert fmt.file_name("k" * 300).startswith("sha256-")
    # Every part is quoted like urllib.parse.quote(part, safe=""); no part climbs out.
    from urllib.parse import quote

    for part in ("m2m:abc", "ann@example.com", "sp ace", "ünï", "a~b_c.d-e", "%41"):
        assert fmt.file_name(part) == quote(part, safe=""), part
    for key in ("..", "../x", "a/../b", ".", "/a", "a//b", "a/"):
        path = fmt.path_for(tmp_path, key)
        assert path.resolve().is_relative_to(tmp_path.resolve()), key  # noqa: ASYNC240
        assert ".." not in path.relative_to(tmp_path).parts, key
        await store.set(key, b"v")
        assert fmt.read_value(tmp_path, key) == b"v", key
    names = {fmt.file_name(k) for k in ("", "%", "%25", ".", "%2E", "a/", "a/%")[1:]}
    assert len(names) == 6  # distinct keys, distinct files


async def test_the_reader_expires_like_the_store(tmp_path: Path) -> None:
    clock = Clock()
    store = FileTokenStore(tmp_path, clock=clock)
    await store.set("k", b"{}", ttl=60)
    assert fmt.read_value(tmp_path, "k", now=clock.now + 59) == b"{}"
    assert fmt.read_value(tmp_path, "k", now=clock.now + 61) is None


async def test_a_malformed_file_reads_as_a_miss_with_a_warning(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path)
    await store.set("k", b"secret-value")
    store.path("k").write_text('{"format": "acognito-token-store/1", "key": "k"')
    with pytest.warns(UndecryptableValueWarning) as caught:
        assert await store.get("k") is None
    assert "secret-value" not in str(caught[0].message)
    with pytest.raises(ValueError, match="not UTF-8 JSON"):
        fmt.read_value(tmp_path, "k")
    # The next write replaces it.
    with pytest.warns(UndecryptableValueWarning):
        assert await store.set("k", b"new") == 1
    entry = await store.get("k")
    assert entry is not None and entry.value == b"new"


async def test_a_file_moved_under_another_key_is_not_read(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path)
    await store.set("ann", b"ann's tokens")
    os.replace(store.path("ann"), store.path("bob"))
    with pytest.warns(UndecryptableValueWarning, match="another key"):
        assert await store.get("bob") is None
    assert fmt.read_value(tmp_path, "bob") is None


async def test_file_store_encrypted(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path, encryption_key=KEY_A)
    assert store.encrypted
    await store.set("ann", b'{"refresh_token":"secret-rt"}')
    text = store.path("ann").read_text()
    assert "secret-rt" not in text and json.loads(text)["encoding"] == "sealed"
    entry = await store.get("ann")
    assert entry is not None and entry.value == b'{"refresh_token":"secret-rt"}'
    with pytest.raises(ValueError, match="encrypted"):
        fmt.read_value(tmp_path, "ann")
    # Another key, no key, or a value moved under another store key: a miss, a warning.
    with pytest.warns(UndecryptableValueWarning, match="not among"):
        assert await FileTokenStore(tmp_path, encryption_key={"new": KEY_B}).get("ann") is None
    with pytest.warns(UndecryptableValueWarning, match="does not open"):
        assert await FileTokenStore(tmp_path, encryption_key={"default": KEY_B}).get("ann") is None
    with pytest.warns(UndecryptableValueWarning, match="has no key"):
        assert await FileTokenStore(tmp_path).get("ann") is None
    os.replace(store.path("ann"), store.path("bob"))
    doc = json.loads(store.path("bob").read_text())
    doc["key"] = "bob"
    store.path("bob").write_text(json.dumps(doc))
    with pytest.warns(UndecryptableValueWarning) as caught:
        assert await store.get("bob") is None
    assert "secret-rt" not in str(caught[0].message)
    # A plain value where an encrypting store expects a sealed one is not trusted.
    await FileTokenStore(tmp_path).set("planted", b'{"refresh_token":"x"}')
    with pytest.warns(UndecryptableValueWarning, match="plain text"):
        assert await store.get("planted") is None


async def test_encryption_keys_rotate(tmp_path: Path) -> None:
    old = FileTokenStore(tmp_path, encryption_key={"2024": KEY_A})
    await old.set("ann", b"sealed by 2024")
    rotated = FileTokenStore(tmp_path, encryption_key={"2025": KEY_B, "2024": KEY_A})
    entry = await rotated.get("ann")
    assert entry is not None and entry.value == b"sealed by 2024"
    await rotated.set("ann", b"sealed by 2025")
    with pytest.warns(UndecryptableValueWarning, match="2025"):
        assert await old.get("ann") is None
    assert (await FileTokenStore(tmp_path, encryption_key={"2025": KEY_B}).get("ann")) is not None


@pytest.mark.parametrize(
    "bad",
    [b"short", {"k": b"short"}, {}, {"": KEY_A}, "a string key", {"k": "not bytes"}],
    ids=repr,
)
def test_bad_encryption_keys_are_refused(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ConfigurationError):
        FileTokenStore(tmp_path, encryption_key=bad)  # type: ignore[arg-type]


def test_a_corrupted_envelope_reads_as_a_miss() -> None:
    from acognito.stores._crypto import Sealer

    sealer = Sealer(KEY_A)
    sealed = sealer.seal("k", b"value")
    assert sealer.open("k", sealed) == b"value"
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    for broken in (flipped, sealed[:20], b"", b"\x02" + sealed[1:], b"\x01\x05\xff\xfe"):
        with pytest.warns(UndecryptableValueWarning):
            assert sealer.open("k", broken) is None
    assert "KEY" not in repr(sealer) and repr(sealer) == "Sealer(key_ids=('default',))"


_WRITER = """
import sys, anyio
from acognito.stores import FileTokenStore

async def main():
    store = FileTokenStore(sys.argv[1])
    won = 0
    for _ in range(20):
        entry = await store.get("shared")
        version = 0 if entry is None else entry.version
        if await store.compare_and_set("shared", sys.argv[2].encode(), version=version):
            won += 1
    lease = await store.acquire("lock", ttl=60)
    print(won, lease.token if lease else 0)

anyio.run(main)
"""


def test_processes_sharing_a_directory_never_lose_a_write(tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), f"p{i}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    wins = sum(int(out[0]) for out in outputs)
    record = fmt.read_record(fmt.path_for(tmp_path, "shared"))
    assert record is not None and record.version == wins  # every successful write counted
    tokens = [int(out[1]) for out in outputs]
    assert sorted(tokens).count(0) == 3 and max(tokens) == 1  # one process got the lease


def test_the_file_format_reader_imports_only_the_standard_library() -> None:
    code = (
        "import sys; before = set(sys.modules)\n"
        "import acognito.stores.file_format\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "std = set(sys.stdlib_module_names)\n"
        "print(sorted(m for m in new if m not in std and m != 'acognito'))\n"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('acognito')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == "[]", out[0]
    assert out[1] == "['acognito', 'acognito.stores', 'acognito.stores.file_format']", out[1]


async def test_the_memory_store_sweeps_what_nobody_reads_again() -> None:
    from acognito.stores._memory import _SWEEP_EVERY

    clock = Clock()
    store = MemoryTokenStore(clock=clock)
    for i in range(100):
        await store.set(f"abandoned/{i}", b"v", ttl=60)
        await store.acquire(f"abandoned/{i}", ttl=60)
    await store.set("kept", b"v")
    clock.now += 61
    for i in range(_SWEEP_EVERY):
        await store.set("busy", str(i).encode(), ttl=600)
    assert sorted(store._slots) == ["busy", "kept"]
    assert store._leases == {}
