"""Off-loop work: one small, dedicated thread limiter per event loop.

SRP big-integer math, RSA verification of many tokens and client construction run
in worker threads so the event loop keeps its latency. anyio's default pool has 40
threads; with GIL-holding work that many threads make the loop lag, so acognito uses
its own small limiter: one thread on machines with one or two cores, two otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar

T = TypeVar("T")


def _usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        try:
            return max(1, len(affinity(0)))
        except OSError:
            pass
    return max(1, os.cpu_count() or 1)


def default_cpu_threads(cores: int | None = None) -> int:
    """One worker thread on one or two cores, two on more.

    On two cores the event-loop thread and one math thread already fill the machine; a
    second math thread mostly competes with the loop for the GIL and the cores (measured,
    50 concurrent SRP sign-ins on 2 cores: worst loop lag 5-8 ms with one thread, 7-13 ms
    with two, for 0-17 % more sign-ins/s).
    """
    return 1 if (cores if cores is not None else _usable_cores()) <= 2 else 2


#: Threads acognito uses for CPU work, per event loop (read when a loop first needs it).
CPU_THREADS = default_cpu_threads()

_limiter: RunVar[anyio.CapacityLimiter] = RunVar("acognito_cpu_limiter")


def cpu_limiter() -> anyio.CapacityLimiter:
    """The limiter for acognito's CPU work on the running event loop."""
    try:
        return _limiter.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(CPU_THREADS)
        _limiter.set(limiter)
        return limiter


async def run_cpu(func: Callable[..., T], *args: object) -> T:
    """Run ``func(*args)`` in a worker thread under acognito's CPU limiter.

    Cancellation waits for the thread to finish (the work is short and must not be
    abandoned half done), then re-raises.
    """
    return await anyio.to_thread.run_sync(func, *args, limiter=cpu_limiter())
