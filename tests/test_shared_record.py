"""The fleet's lease dance (acognito.stores._shared) on a MemoryTokenStore: one refresh
for many callers, a crashed holder's lease lapsing, a waiter that never hears back, a
failing store, and cancellation. asyncio and trio."""

from __future__ import annotations

import anyio
import pytest

from acognito.stores import Entry, Lease, MemoryTokenStore
from acognito.stores._shared import GuardedStore, Record, SharedRecord

pytestmark = pytest.mark.anyio


def fresh(record: Record) -> bool:
    return bool(record.get("fresh"))


async def test_many_callers_one_refresh() -> None:
    store = MemoryTokenStore()
    calls = 0

    async def refresh(latest: Record | None) -> Record:
        nonlocal calls
        calls += 1
        await anyio.sleep(0.05)
        return {"fresh": True, "n": calls}

    results: list[tuple[Record, bool]] = []

    async def one() -> None:
        # Each caller has its own SharedRecord, as separate processes would.
        shared = SharedRecord(store, "k", poll=0.005)
        results.append(await shared.obtain(usable=fresh, refresh=refresh, ttl=lambda _: None))

    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(one)
    assert calls == 1
    assert [r for r, _ in results] == [{"fresh": True, "n": 1}] * 8
    assert sorted(refreshed for _, refreshed in results) == [False] * 7 + [True]


async def test_the_refresh_starts_from_the_newest_stored_record() -> None:
    store = MemoryTokenStore()
    await store.set("k", b'{"fresh":false,"refresh_token":"newest"}')
    seen: list[Record | None] = []

    async def refresh(latest: Record | None) -> Record:
        seen.append(latest)
        return {"fresh": True}

    await SharedRecord(store, "k").obtain(usable=fresh, refresh=refresh, ttl=lambda _: None)
    assert seen == [{"fresh": False, "refresh_token": "newest"}]


async def test_a_crashed_holders_lease_lapses() -> None:
    store = MemoryTokenStore()
    assert await store.acquire("k", ttl=0.2) is not None  # a holder that died
    shared = SharedRecord(store, "k", poll=0.01)

    async def refresh(latest: Record | None) -> Record:
        return {"fresh": True}

    with anyio.fail_after(10):
        record, refreshed = await shared.obtain(usable=fresh, refresh=refresh, ttl=lambda _: None)
    assert refreshed and record == {"fresh": True}
    entry = await store.get("k")
    assert entry is not None and entry.value == b'{"fresh":true}'


class ForeverHeld(MemoryTokenStore):
    """A store whose lease someone else always holds."""

    async def acquire(self, key: str, *, ttl: float) -> Lease | None:
        return None


async def test_a_waiter_that_never_hears_back_refreshes_by_itself() -> None:
    shared = SharedRecord(ForeverHeld(), "k", lease_ttl=0.1, poll=0.01)

    async def refresh(latest: Record | None) -> Record:
        return {"fresh": True}

    with anyio.fail_after(10):
        _, refreshed = await shared.obtain(usable=fresh, refresh=refresh, ttl=lambda _: None)
    assert refreshed


class Broken(MemoryTokenStore):
    async def get(self, key: str) -> Entry | None:
        raise ConnectionResetError("the store fell over")


async def test_a_failing_store_means_refreshing_here(caplog: pytest.LogCaptureFixture) -> None:
    store = Broken()
    calls = 0

    async def refresh(latest: Record | None) -> Record:
        nonlocal calls
        calls += 1
        return {"fresh": True}

    shared = SharedRecord(store, "k")
    for _ in range(3):
        record, refreshed = await shared.obtain(usable=fresh, refresh=refresh, ttl=lambda _: None)
        assert refreshed and record == {"fresh": True}
    assert calls == 3
    assert shared.guard.outages == 1 and not shared.guard.available
    assert sum("unavailable" in r.getMessage() for r in caplog.records) == 1


class Slow(MemoryTokenStore):
    async def get(self, key: str) -> Entry | None:
        await anyio.sleep(5)
        return None


async def test_a_slow_store_costs_at_most_its_bound() -> None:
    guard = GuardedStore(Slow(), timeout=0.05)
    with anyio.fail_after(2):  # not the store's 5 s
        result = await guard.get("k")
    assert result is not None and not guard.available


async def test_cancelled_holder_gives_the_lease_back() -> None:
    store = MemoryTokenStore()
    started = anyio.Event()

    async def slow_refresh(latest: Record | None) -> Record:
        started.set()
        await anyio.sleep(30)
        return {"fresh": True}

    async with anyio.create_task_group() as tg:

        async def holder() -> None:
            await SharedRecord(store, "k").obtain(
                usable=fresh, refresh=slow_refresh, ttl=lambda _: None
            )

        tg.start_soon(holder)
        await started.wait()
        tg.cancel_scope.cancel()
    assert await store.get("k") is None  # nothing half-written
    assert await store.acquire("k", ttl=1) is not None  # and the lease is free
