"""Off-loop work: one small, dedicated thread limiter per event loop.

SRP big-integer math, RSA verification of many tokens and client construction run
in worker threads so the event loop keeps its latency. anyio's default pool has 40
threads; with GIL-holding work that many threads make the loop lag, so acognito uses
its own limiter of two threads (one per core on the boxes we measured).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar

T = TypeVar("T")

#: Threads acognito uses for CPU work, per event loop.
CPU_THREADS = 2

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
