"""The one home of "build it once, on first use, off the event loop".

aiobotocore clients and ``httpx.AsyncClient`` objects do ~100 ms of blocking set-up
(SSL contexts, service models). :class:`Lazy` builds such a resource once, shared by
every concurrent caller (single flight), with the creation shielded from cancellation
so a cancelled first caller never leaks a half-made client, and disposes it on close,
including one that finished building after close was called.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio
import anyio.to_thread

__all__ = ["Lazy", "in_thread"]

T = TypeVar("T")


def in_thread(factory: Callable[[], T]) -> Callable[[], Awaitable[T]]:
    """An async factory that runs the blocking ``factory`` in a worker thread."""

    async def build() -> T:
        return await anyio.to_thread.run_sync(factory)

    return build


class Lazy(Generic[T]):
    """A resource made by ``create`` on first :meth:`get` and released by :meth:`aclose`.

    ``dispose`` releases a resource this object made; ``closed_error`` builds the
    exception raised by :meth:`get` after close. A failed creation is not cached: the
    next caller tries again.
    """

    def __init__(
        self,
        create: Callable[[], Awaitable[T]],
        *,
        dispose: Callable[[T], Awaitable[object]],
        closed_error: Callable[[], Exception],
    ) -> None:
        self._create = create
        self._dispose = dispose
        self._closed_error = closed_error
        self._value: T | None = None
        self._pending: anyio.Event | None = None
        self._closed = False

    @property
    def value(self) -> T | None:
        """The resource if it has been made, else ``None`` (never creates it)."""
        return self._value

    @property
    def closed(self) -> bool:
        return self._closed

    async def get(self) -> T:
        """The resource, made now if needed (once, however many callers wait)."""
        while True:
            if self._closed:
                raise self._closed_error()
            if self._value is not None:
                return self._value
            pending = self._pending
            if pending is not None:
                await pending.wait()
                continue
            pending = self._pending = anyio.Event()
            try:
                with anyio.CancelScope(shield=True):
                    value = await self._create()
                    if self._closed:
                        await self._dispose(value)
                    else:
                        self._value = value
            finally:
                self._pending = None
                pending.set()

    async def aclose(self) -> None:
        """Release the resource (if made); later :meth:`get` calls raise."""
        self._closed = True
        value, self._value = self._value, None
        if value is not None:
            with anyio.CancelScope(shield=True):
                await self._dispose(value)
