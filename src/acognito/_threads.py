"""Off-loop work: one small, dedicated thread limiter per event loop, and a side door.

SRP big-integer math, RSA verification of many tokens and client construction run
in worker threads so the event loop keeps its latency. anyio's default pool has 40
threads; with GIL-holding work that many threads make the loop lag, so acognito uses
its own small limiter for per-request work (:func:`run_cpu`): one thread on machines
with one or two cores, two otherwise.

One-time loads (an import, a key set parsed once) go through :func:`run_load`
instead: queued on the CPU limiter they would wait behind every per-request job of a
burst (200 SRP sign-ins started at once on a cold process), and every sign-in of the
burst needs them, so none would finish before all the burst's math was done.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar
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
_queue: RunVar[Gate] = RunVar("acognito_cpu_queue")
#: The task that last had CPU work: its later CPU work continues an operation.
_CPU_WORKER: ContextVar[int | None] = ContextVar("acognito_cpu_worker", default=None)


def cpu_limiter() -> anyio.CapacityLimiter:
    """The thread limiter for acognito's CPU work on the running event loop."""
    try:
        return _limiter.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(CPU_THREADS)
        _limiter.set(limiter)
        return limiter


def under_way(var: ContextVar[int | None]) -> bool:
    """Whether the running task marked ``var`` (with :func:`mark_under_way`) before.

    The mark is the task's id, not a flag: a task inherits its parent's context, and a
    task started by one that signed in earlier has started nothing itself.
    """
    return var.get() == anyio.get_current_task().id


def mark_under_way(var: ContextVar[int | None]) -> None:
    """Mark the running task in ``var``: its operation is under way.

    Called from a coroutine the task awaits, so the mark lands in the task's own context.
    """
    var.set(anyio.get_current_task().id)


class Gate:
    """``slots`` holders at a time; work that continues an operation goes ahead of new work.

    A burst of SRP sign-ins queues two CPU jobs per sign-in: the first step's ``A``,
    then, after a round trip, the password signature (and two calls to Cognito). First
    come, first served runs every sign-in's first step before any second step, so no
    sign-in of the burst finishes until nearly all of them do. With ``continuing=True``
    for a task's later work (its operation is under way), sign-ins finish one after
    another from early in the burst, for the same total work. Work under way is bounded
    by the operations in progress, so new operations are never starved.
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._free = slots
        self._new: deque[anyio.Event] = deque()
        self._continuing: deque[anyio.Event] = deque()

    @property
    def waiting(self) -> int:
        """Holders waiting for a slot."""
        return len(self._new) + len(self._continuing)

    async def acquire(self, *, continuing: bool) -> None:
        """Wait for a slot (cancellable while waiting); :meth:`release` it after."""
        if self._free and not self.waiting:
            self._free -= 1
            return
        waiter = anyio.Event()
        queue = self._continuing if continuing else self._new
        queue.append(waiter)
        try:
            await waiter.wait()
        except BaseException:
            try:
                queue.remove(waiter)
            except ValueError:  # the slot was handed over as we were cancelled: pass it on
                self.release()
            raise

    def release(self) -> None:
        """Give the slot to the next waiter (continuing work first), or free it."""
        queue = self._continuing or self._new
        if queue:
            queue.popleft().set()
        else:
            self._free += 1


def cpu_queue() -> Gate:
    """The gate in front of :func:`cpu_limiter` on the running event loop."""
    try:
        return _queue.get()
    except LookupError:
        queue = Gate(CPU_THREADS)
        _queue.set(queue)
        return queue


async def run_cpu(func: Callable[..., T], *args: object) -> T:
    """Run ``func(*args)`` in a worker thread under acognito's CPU limiter.

    The calling task's second and later jobs go ahead of tasks' first jobs
    (:class:`Gate`). Cancellation waits for the thread to finish (the work is short
    and must not be abandoned half done), then re-raises.
    """
    queue = cpu_queue()
    await queue.acquire(continuing=under_way(_CPU_WORKER))
    mark_under_way(_CPU_WORKER)
    try:
        return await anyio.to_thread.run_sync(func, *args, limiter=cpu_limiter())
    finally:
        queue.release()


async def run_load(func: Callable[..., T], *args: object) -> T:
    """Run the one-time load ``func(*args)`` in a worker thread, beside the CPU limiter.

    For work done once per process or per resource that many requests wait for (an
    import, parsing a JWKS): it takes a thread of anyio's default pool, so it starts at
    once instead of queueing behind per-request work. Cancellation waits for the thread.
    """
    return await anyio.to_thread.run_sync(func, *args)
