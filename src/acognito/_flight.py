"""Single flight: however many callers ask at once, one does the work and all share its outcome.

Used for token refresh (a session's, an httpx auth's) and JWKS downloads. Two flavours:
:class:`SingleFlight` for tasks on one event loop (asyncio or trio) and
:class:`ThreadSingleFlight` for threads.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio
import anyio.lowlevel

T = TypeVar("T")

__all__ = ["SingleFlight", "ThreadSingleFlight"]


class _Flight(Generic[T]):
    __slots__ = ("abandoned", "error", "value")

    def __init__(self) -> None:
        self.value: T | None = None
        self.error: BaseException | None = None
        self.abandoned = False


class _TaskFlight(_Flight[T]):
    __slots__ = ("done",)

    def __init__(self) -> None:
        super().__init__()
        self.done = anyio.Event()


class _ThreadFlight(_Flight[T]):
    __slots__ = ("done",)

    def __init__(self) -> None:
        super().__init__()
        self.done = threading.Event()


def _own_copy(exc: BaseException) -> BaseException:
    """A copy of ``exc`` for one more caller: each raise keeps its own traceback."""
    try:
        twin = copy.copy(exc)
    except Exception:  # an exception that cannot be copied is shared
        return exc.with_traceback(None)
    twin.__cause__ = exc.__cause__
    twin.__suppress_context__ = exc.__suppress_context__
    return twin.with_traceback(None)


def _outcome(flight: _Flight[T], *, leader: bool) -> T:
    if flight.error is not None:
        raise flight.error if leader else _own_copy(flight.error)
    return flight.value  # type: ignore[return-value]


class SingleFlight(Generic[T]):
    """Run ``await work()`` once for every group of concurrent callers on one event loop.

    Every caller gets the work's value, or the work's exception (waiters get a copy each,
    so tracebacks do not pile up on one object). ``work`` should start by
    checking whether it is still needed (a caller may arrive just as a flight ends).

    With ``shield``, the work runs in a shielded cancel scope: cancelling the caller that
    started it neither loses the result (a rotated refresh token, say) nor strands the
    others; the work finishes, then the cancelled caller sees its cancellation. Without
    it, a cancelled leader abandons the flight and one of the waiters starts it again.
    """

    def __init__(self, *, shield: bool = False) -> None:
        self._shield = shield
        self._flight: _TaskFlight[T] | None = None

    @property
    def in_flight(self) -> bool:
        return self._flight is not None

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        while True:
            flight = self._flight
            if flight is None:
                return await self._lead(work)
            await flight.done.wait()
            if not flight.abandoned:
                return _outcome(flight, leader=False)

    async def _lead(self, work: Callable[[], Awaitable[T]]) -> T:
        flight: _TaskFlight[T] = _TaskFlight()
        self._flight = flight
        cancelled = anyio.get_cancelled_exc_class()
        try:
            with anyio.CancelScope(shield=self._shield):
                try:
                    flight.value = await work()
                except cancelled:
                    flight.abandoned = True
                    raise
                except BaseException as exc:  # every waiter must see the failure
                    flight.error = exc
        finally:
            self._flight = None
            flight.done.set()
        # A cancellation that arrived during shielded work lands here.
        await anyio.lowlevel.checkpoint_if_cancelled()
        return _outcome(flight, leader=True)


class ThreadSingleFlight(Generic[T]):
    """Run ``work()`` once for every group of concurrent threads.

    Blocking: the leader runs the work in its own thread, the others wait on an event.
    ``work`` should start by checking whether it is still needed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the slot, never held while working
        self._flight: _ThreadFlight[T] | None = None

    def run(self, work: Callable[[], T]) -> T:
        with self._lock:
            flight = self._flight
            leader = flight is None
            if flight is None:
                flight = self._flight = _ThreadFlight()
        if not leader:
            flight.done.wait()
            return _outcome(flight, leader=False)
        try:
            flight.value = work()
        except BaseException as exc:  # every waiting thread must see the failure
            flight.error = exc
        finally:
            with self._lock:
                self._flight = None
            flight.done.set()
        return _outcome(flight, leader=True)
