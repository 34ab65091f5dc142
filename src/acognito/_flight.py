"""Single flight: however many tasks ask at once, one does the work and all share its outcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio
import anyio.lowlevel

T = TypeVar("T")

__all__ = ["SingleFlight"]


class _Flight(Generic[T]):
    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.value: T | None = None
        self.error: BaseException | None = None


class SingleFlight(Generic[T]):
    """Run ``await work()`` once for every group of concurrent callers.

    The first caller starts the work inside a shielded cancel scope, so cancelling it
    neither loses the result (a rotated refresh token, say) nor leaves the others
    waiting forever: the work finishes, everyone gets its value or its exception, and
    the cancelled caller then sees its cancellation. Callers that arrive after the
    flight ended start a new one.
    """

    def __init__(self) -> None:
        self._flight: _Flight[T] | None = None

    @property
    def in_flight(self) -> bool:
        return self._flight is not None

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        flight = self._flight
        if flight is not None:
            await flight.done.wait()
            return self._outcome(flight)
        flight = self._flight = _Flight()
        try:
            with anyio.CancelScope(shield=True):
                try:
                    flight.value = await work()
                except BaseException as exc:  # every waiter must see the failure
                    flight.error = exc
        finally:
            self._flight = None
            flight.done.set()
        # A checkpoint so a cancellation that arrived during the shielded work lands now.
        await anyio.lowlevel.checkpoint_if_cancelled()
        return self._outcome(flight)

    @staticmethod
    def _outcome(flight: _Flight[T]) -> T:
        if flight.error is not None:
            # The same exception reaches every waiter; start each raise with a clean trace.
            raise flight.error.with_traceback(None)
        return flight.value  # type: ignore[return-value]
