"""The shared homes: identifier parsing (_ids) and build-once resources (_lazy)."""

from __future__ import annotations

import anyio
import pytest

from acognito._ids import check_client_id, check_region, parse_pool_id, pool_name
from acognito._lazy import Lazy, in_thread
from acognito.errors import ConfigurationError, SessionClosedError


def test_pool_id_parsing() -> None:
    assert parse_pool_id("eu-west-1_AbC123") == ("eu-west-1", "eu-west-1_AbC123")
    assert pool_name("eu-west-1_AbC123") == "AbC123"
    assert parse_pool_id("local_Pool1") == ("local", "local_Pool1")
    with pytest.raises(ConfigurationError, match="eu-west-1_AbC123"):
        parse_pool_id("local_Pool1", strict_region=True)
    for bad in ("eu-west-1_AbC123\n", "nounderscore", "", 5, None, "a_b c", "é_x", "a_" + "x" * 41):
        with pytest.raises(ConfigurationError):
            parse_pool_id(bad)


def test_client_id_and_region() -> None:
    assert check_client_id("abc+_1") == "abc+_1"
    for bad in ("client\n", "", "x" * 129, 5, "a b"):
        with pytest.raises(ConfigurationError, match="client_id"):
            check_client_id(bad)
    assert check_region("us-gov-west-1") == "us-gov-west-1"
    for bad in ("nope nope", "eu-west-1\n", 3, "EU-WEST-1"):
        with pytest.raises(ConfigurationError, match="user_pool_region"):
            check_region(bad)


@pytest.mark.anyio
async def test_lazy_builds_once_for_concurrent_callers() -> None:
    made: list[object] = []
    disposed: list[object] = []

    def build() -> object:
        made.append(object())
        return made[-1]

    async def dispose(value: object) -> None:
        disposed.append(value)

    lazy: Lazy[object] = Lazy(
        in_thread(build), dispose=dispose, closed_error=lambda: SessionClosedError("closed")
    )
    got: list[object] = []

    async def one() -> None:
        got.append(await lazy.get())

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(one)
    assert len(made) == 1
    assert got == made * 20
    await lazy.aclose()
    assert disposed == made
    with pytest.raises(SessionClosedError):
        await lazy.get()


@pytest.mark.anyio
async def test_lazy_retries_after_a_failed_build_and_survives_cancellation() -> None:
    attempts = 0

    async def create() -> str:
        nonlocal attempts
        attempts += 1
        await anyio.sleep(0.05)
        if attempts == 1:
            raise OSError("first build fails")
        return "client"

    async def dispose(value: str) -> None:
        pass

    lazy: Lazy[str] = Lazy(create, dispose=dispose, closed_error=lambda: RuntimeError("closed"))
    with anyio.fail_after(10):
        with pytest.raises(OSError, match="first build fails"):
            await lazy.get()
        # A caller cancelled mid-build does not lose the resource for the next caller.
        with anyio.move_on_after(0.01):
            await lazy.get()
        assert await lazy.get() == "client"
    assert attempts == 2


@pytest.mark.anyio
async def test_lazy_disposes_what_finished_after_close() -> None:
    disposed: list[str] = []
    started = anyio.Event()

    async def create() -> str:
        started.set()
        await anyio.sleep(0.05)
        return "late"

    async def dispose(value: str) -> None:
        disposed.append(value)

    lazy: Lazy[str] = Lazy(create, dispose=dispose, closed_error=lambda: RuntimeError("closed"))

    async def getter() -> None:
        with pytest.raises(RuntimeError, match="closed"):
            await lazy.get()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(getter)
            await started.wait()
            await lazy.aclose()
    assert disposed == ["late"]
