"""The private event loop every acognito.sync object runs its async core on."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import anyio
from anyio.from_thread import BlockingPortal

T = TypeVar("T")


class _Loop:
    """One asyncio loop in a daemon thread, shared by every sync object of the process.

    A daemon thread so that a program that never closes its objects still exits.
    """

    def __init__(self) -> None:
        ready: Future[tuple[BlockingPortal, asyncio.AbstractEventLoop]] = Future()

        async def serve() -> None:
            async with BlockingPortal() as portal:
                ready.set_result((portal, asyncio.get_running_loop()))
                await portal.sleep_until_stopped()

        def run() -> None:
            try:
                anyio.run(serve, backend="asyncio")
            except BaseException as exc:  # pragma: no cover - start-up failure
                if not ready.done():
                    ready.set_exception(exc)

        self.thread = threading.Thread(target=run, name="acognito-sync-loop", daemon=True)
        self.thread.start()
        self.portal, self.loop = ready.result()
        self._pending: set[asyncio.Task[Any]] = set()

    def run(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Await ``func(*args, **kwargs)`` on the loop and return (or raise) its outcome."""
        if threading.current_thread() is self.thread:
            raise RuntimeError("acognito.sync objects cannot be called from their own loop")
        return self.portal.call(lambda: func(*args, **kwargs))

    def build(self, factory: Callable[[], T]) -> T:
        """Build an object on the loop thread (so it belongs to that loop)."""
        return self.portal.call(factory)

    def close_soon(self, aclose: Callable[[], Awaitable[Any]]) -> None:
        """Schedule ``aclose()`` without waiting; safe from any thread, the loop's included."""

        def spawn() -> None:
            task = asyncio.ensure_future(aclose())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

        with contextlib.suppress(RuntimeError):  # the loop is gone (interpreter exit)
            self.loop.call_soon_threadsafe(spawn)


_shared: _Loop | None = None
_shared_lock = threading.Lock()


def _loop() -> _Loop:
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.thread.is_alive():
            _shared = _Loop()
        return _shared
