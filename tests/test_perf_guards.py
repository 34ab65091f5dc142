"""Guards for the performance choices: the in-flight cap, the CPU limiter, shared models.

Each choice was measured (benchmarks/README.md); these tests keep the mechanism in
place against the local Cognito (moto on loopback), on asyncio and trio.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import anyio
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from acognito import _idp as _idp_module
from acognito import _threads
from acognito._idp import IdpClient
from acognito.errors import ConfigurationError, ResourceNotFoundError
from loop_timing import collector_paused

pytestmark = pytest.mark.anyio

OP = "ListUserPools"


def _idp(local: Any, **kwargs: Any) -> IdpClient:
    return IdpClient(
        region=local.region,
        endpoint_url=local.endpoint_url,
        access_key="testing",
        secret_key="testing",
        **kwargs,
    )


class InFlight:
    """Counts calls botocore has started working on (parameters built) and not finished."""

    def __init__(self, idp: IdpClient) -> None:
        self.now = self.most = 0
        events = idp.client.meta.events
        events.register(f"before-parameter-build.cognito-idp.{OP}", self.start)
        events.register(f"after-call.cognito-idp.{OP}", self.end)
        events.register(f"after-call-error.cognito-idp.{OP}", self.end)

    def start(self, **_: Any) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def end(self, **_: Any) -> None:
        self.now -= 1


async def _burst(idp: IdpClient, calls: int) -> InFlight:
    await idp.open()
    seen = InFlight(idp)
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(calls):
                tg.start_soon(lambda: idp.call("list_user_pools", MaxResults=1))
    return seen


async def test_calls_beyond_the_cap_wait_before_botocore_builds_them(cognito_local) -> None:
    idp = _idp(cognito_local, max_concurrency=3)
    try:
        seen = await _burst(idp, 12)
    finally:
        await idp.close()
    assert seen.most == 3
    assert seen.now == 0


async def test_the_default_cap_is_the_connection_pool_size(cognito_local) -> None:
    idp = _idp(cognito_local, botocore_config=AioConfig(max_pool_connections=4))
    assert idp.max_concurrency is None  # not known before the client exists
    try:
        seen = await _burst(idp, 12)
        assert idp.max_concurrency == 4
    finally:
        await idp.close()
    assert seen.most == 4


async def test_without_the_cap_every_waiting_call_is_built_at_once(cognito_local) -> None:
    """The control: the hook does see a burst when nothing holds the calls back."""
    idp = _idp(
        cognito_local, botocore_config=AioConfig(max_pool_connections=4), max_concurrency=100
    )
    try:
        seen = await _burst(idp, 12)
    finally:
        await idp.close()
    assert seen.most == 12


async def test_failed_and_cancelled_calls_give_their_slot_back(cognito_local) -> None:
    idp = _idp(cognito_local, max_concurrency=1)
    try:
        with pytest.raises(ResourceNotFoundError):
            await idp.call("describe_user_pool", UserPoolId="us-east-1_missing")
        with anyio.move_on_after(0):
            await idp.call("list_user_pools", MaxResults=1)
        with anyio.fail_after(10):
            response = await idp.call("list_user_pools", MaxResults=1)
        assert "UserPools" in response
    finally:
        await idp.close()


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "4"])
def test_max_concurrency_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="max_concurrency"):
        IdpClient(region="us-east-1", max_concurrency=bad)


def test_one_cpu_thread_on_two_cores_or_fewer() -> None:
    assert [_threads.default_cpu_threads(n) for n in (1, 2, 3, 4, 64)] == [1, 1, 2, 2, 2]
    assert _threads.default_cpu_threads() == _threads.CPU_THREADS
    assert _threads._usable_cores() >= 1


async def test_the_cpu_limiter_has_cpu_threads_tokens() -> None:
    assert _threads.cpu_limiter().total_tokens == _threads.CPU_THREADS
    assert _threads.cpu_limiter() is _threads.cpu_limiter()


async def test_sessions_acognito_creates_share_parsed_models(cognito_local) -> None:
    first, second = _idp(cognito_local), _idp(cognito_local)
    own_session = AioSession()
    own = _idp(cognito_local, session=own_session)
    try:
        for idp in (first, second, own):
            await idp.open()
        loader = first._session.get_component("data_loader")
        assert second._session.get_component("data_loader") is loader
        # A caller's own session keeps its own loader.
        assert own._session is own_session
        assert own_session.get_component("data_loader") is not loader
        assert "UserPools" in await own.call("list_user_pools", MaxResults=1)
        assert "UserPools" in await second.call("list_user_pools", MaxResults=1)
    finally:
        for idp in (first, second, own):
            await idp.close()


async def test_a_dropped_client_leaves_no_cap_behind(cognito_local) -> None:
    idp = _idp(cognito_local, max_concurrency=2)
    await idp.call("list_user_pools", MaxResults=1)
    await idp.close()
    table = _idp_module._IN_FLIGHT.get()
    assert table[idp].slots == 2
    before = len(table)
    ref = weakref.ref(idp)
    del idp
    gc.collect()
    assert ref() is None
    assert len(table) == before - 1


# ---------------------------------------------------------------- loop timing without GC noise


def _full_collections_while(work: Any) -> int:
    """How many automatic full (generation 2) collections ran during ``work()``."""
    seen: list[int] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            seen.append(1)

    gc.callbacks.append(record)
    try:
        work()
    finally:
        gc.callbacks.remove(record)
    return len(seen)


def _survivors() -> list[Any]:
    """Allocate enough surviving containers that the collector starts a full collection.

    CPython skips a full collection until the objects that survived the younger ones reach
    a quarter of those a full collection last kept: in the full suite that is the whole
    heap, so the count follows the heap's size (200,000 alone suffices only when small).
    """
    kept: list[Any] = []
    for i in range(max(200_000, len(gc.get_objects()) // 2)):
        kept.append([i])
    return kept


def test_a_loop_timing_window_sees_no_full_collection() -> None:
    """collector_paused keeps process-wide full GCs out of loop-hygiene measurements.

    test_srp_math_stays_off_the_event_loop failed about 1 run in 5 in the full suite when
    a 150-300 ms full collection started on the loop's thread inside its window.
    """
    assert gc.isenabled(), "an earlier test left the cyclic collector disabled"
    old = gc.get_threshold()
    base = [[i] for i in range(100_000)]
    gc.collect()
    try:
        gc.set_threshold(700, 1, 1)
        # The control: without the pause this allocation does trigger full collections.
        assert _full_collections_while(_survivors) > 0
        gc.collect()
        with collector_paused():
            assert not gc.isenabled()
            assert _full_collections_while(_survivors) == 0
        assert gc.isenabled()
    finally:
        gc.set_threshold(*old)
        del base


def test_collector_paused_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
