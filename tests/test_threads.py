"""acognito._threads: the order CPU work and Cognito calls get their turn in, one-time loads.

A cold burst of sign-ins used to finish all at once: the JWKS load (joserfc's import)
queued on the one-thread CPU limiter behind every pending SRP job, and first come, first
served ran every sign-in's first step before any second step. These tests hold the
worker thread (or the in-flight slot) with a job that waits on an event, queue the work
whose order matters behind it, and read the order; no timing is asserted.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import anyio.to_thread
import pytest

from acognito import _threads
from acognito._idp import IdpClient
from acognito._threads import Gate, run_cpu
from acognito.jwks import JwksCache
from acognito.jwks._cache import _PARSE_OFF_LOOP_BYTES
from acognito.testing import LocalCognito
from auth_test_servers import CannedServer

pytestmark = pytest.mark.anyio


async def _hold_the_cpu_thread(tg: Any, release: threading.Event) -> None:
    """Start a CPU job that occupies every CPU thread until ``release`` is set."""
    started = anyio.Event()

    async def hold() -> None:
        def wait() -> None:
            anyio.from_thread.run_sync(started.set)
            release.wait(30)

        await run_cpu(wait)

    for _ in range(_threads.CPU_THREADS):
        tg.start_soon(hold)
    with anyio.fail_after(10):
        await started.wait()
    # Every thread busy once each holder has started: wait until none is free.
    while _threads.cpu_limiter().borrowed_tokens < _threads.CPU_THREADS:  # noqa: ASYNC110 - no event
        await anyio.sleep(0.001)


async def _queued(gate_waiting: Callable[[], int], count: int) -> None:
    """Let the event loop run until ``count`` jobs wait for a turn."""
    with anyio.fail_after(10):
        while gate_waiting() < count:  # noqa: ASYNC110 - no event to wait on
            await anyio.sleep(0.001)


async def test_a_tasks_later_cpu_work_goes_ahead_of_tasks_first_work() -> None:
    """A sign-in under way (its second job: the password signature) is served before a
    sign-in that has not started (its first job), whatever order they queued in."""
    order: list[str] = []
    release = threading.Event()
    first_step_done = anyio.Event()
    go_on = anyio.Event()

    async def under_way() -> None:
        await run_cpu(order.append, "under-way: step 1")
        first_step_done.set()
        await go_on.wait()
        await run_cpu(order.append, "under-way: step 2")

    async def new(name: str) -> None:
        await run_cpu(order.append, f"{name}: step 1")

    async with anyio.create_task_group() as tg:
        tg.start_soon(under_way)
        with anyio.fail_after(10):
            await first_step_done.wait()
        await _hold_the_cpu_thread(tg, release)
        tg.start_soon(new, "new-1")
        await _queued(lambda: _threads.cpu_queue().waiting, 1)
        tg.start_soon(new, "new-2")
        await _queued(lambda: _threads.cpu_queue().waiting, 2)
        go_on.set()
        await _queued(lambda: _threads.cpu_queue().waiting, 3)
        release.set()
    assert order == ["under-way: step 1", "under-way: step 2", "new-1: step 1", "new-2: step 1"]


async def test_a_task_started_by_one_that_did_cpu_work_starts_fresh() -> None:
    """The mark is the task's own: a child of a task that signed in has started nothing,
    so it queues with the new work, in arrival order."""
    order: list[str] = []
    release = threading.Event()
    await run_cpu(order.append, "parent")  # this task has had CPU work

    async def child(name: str) -> None:
        await run_cpu(order.append, name)

    async with anyio.create_task_group() as tg:
        await _hold_the_cpu_thread(tg, release)
        tg.start_soon(child, "child-1")
        await _queued(lambda: _threads.cpu_queue().waiting, 1)
        tg.start_soon(child, "child-2")
        await _queued(lambda: _threads.cpu_queue().waiting, 2)
        release.set()
    assert order == ["parent", "child-1", "child-2"]


async def test_a_waiter_cancelled_as_its_turn_comes_passes_the_slot_on() -> None:
    """The slot handed to a waiter that is cancelled before it resumes goes to the next
    waiter (trio cancels at the wait; on asyncio the waiter may resume first): no leak."""
    gate = Gate(1)
    await gate.acquire(continuing=False)
    served = anyio.Event()
    scope = anyio.CancelScope()

    async def next_in_line() -> None:
        await gate.acquire(continuing=False)
        served.set()
        gate.release()

    async def cancelled() -> None:
        with scope:
            await gate.acquire(continuing=True)
            # On asyncio the hand-over can win the race with the cancel; then it is ours.
            gate.release()

    async with anyio.create_task_group() as tg:
        tg.start_soon(next_in_line)
        await _queued(lambda: gate.waiting, 1)
        tg.start_soon(cancelled)
        await _queued(lambda: gate.waiting, 2)
        gate.release()  # handed to the continuing waiter first...
        scope.cancel()  # ...which is cancelled before it resumes
        with anyio.fail_after(10):
            await served.wait()
    assert gate.waiting == 0
    await gate.acquire(continuing=False)  # the slot came back: nothing leaked
    gate.release()


async def test_cancelling_a_queued_waiter_leaves_the_order_intact() -> None:
    gate = Gate(1)
    await gate.acquire(continuing=False)
    order: list[str] = []

    async def wait(name: str, continuing: bool) -> None:
        await gate.acquire(continuing=continuing)
        order.append(name)
        gate.release()

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait, "a", False)
        await _queued(lambda: gate.waiting, 1)
        with anyio.CancelScope() as scope:
            scope.cancel()
            await gate.acquire(continuing=True)
        tg.start_soon(wait, "b", True)
        await _queued(lambda: gate.waiting, 2)
        gate.release()
    assert order == ["b", "a"]


# ------------------------------------------------------------------ Cognito calls


@pytest.fixture(scope="module")
def local() -> Any:
    with LocalCognito() as server:
        yield server


async def test_a_tasks_second_call_goes_ahead_of_tasks_first_calls(local: LocalCognito) -> None:
    """The in-flight cap serves a sign-in's answer to its challenge before the first call
    of sign-ins queued earlier."""
    idp = IdpClient(
        region=local.region,
        endpoint_url=local.endpoint_url,
        access_key="testing",
        secret_key="testing",  # noqa: S106
        max_concurrency=1,
    )
    order: list[str] = []
    first_done = anyio.Event()
    go_on = anyio.Event()

    async def call(name: str) -> None:
        await idp.call("list_user_pools", MaxResults=1)
        order.append(name)

    async def under_way() -> None:
        await call("under-way: 1")
        first_done.set()
        await go_on.wait()
        await call("under-way: 2")

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(under_way)
            with anyio.fail_after(20):
                await first_done.wait()
            gate = idp._in_flight()
            await gate.acquire(continuing=False)  # the one slot, held by the test
            tg.start_soon(call, "new-1")
            await _queued(lambda: gate.waiting, 1)
            tg.start_soon(call, "new-2")
            await _queued(lambda: gate.waiting, 2)
            go_on.set()
            await _queued(lambda: gate.waiting, 3)
            gate.release()
    finally:
        await idp.close()
    assert order == ["under-way: 1", "under-way: 2", "new-1", "new-2"]


# ------------------------------------------------------------------ one-time loads


@pytest.fixture
def large_jwks_server() -> Iterator[CannedServer]:
    """A JWKS endpoint whose document is over the size parsed off the event loop."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    numbers = rsa.generate_private_key(65537, 2048).public_key().public_numbers()

    def b64(value: int) -> str:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    key = {"kty": "RSA", "alg": "RS256", "use": "sig", "n": b64(numbers.n), "e": b64(numbers.e)}
    body = json.dumps({"keys": [{**key, "kid": "k1"}]}, indent=1).encode()
    body += b" " * (_PARSE_OFF_LOOP_BYTES + 1024 - len(body))  # still one JSON document
    with CannedServer() as server:
        server.body = body
        yield server


async def test_a_jwks_parsed_off_the_loop_does_not_queue_behind_cpu_work(
    large_jwks_server: CannedServer,
) -> None:
    """With every CPU thread busy until the keys are in, the JWKS load (a document large
    enough to be parsed in a worker thread) still completes: it does not wait its turn
    behind per-request work."""
    release = threading.Event()
    async with JwksCache(use_env=False) as cache, anyio.create_task_group() as tg:
        await _hold_the_cpu_thread(tg, release)
        try:
            with anyio.fail_after(20):
                await cache.hydrate(f"{large_jwks_server.url}/.well-known/jwks.json")
        finally:
            release.set()
    assert cache.kids(f"{large_jwks_server.url}/.well-known/jwks.json") == ["k1"]
