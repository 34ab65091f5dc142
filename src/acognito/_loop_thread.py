"""The one home of the background event loop that blocking code runs acognito on.

:class:`LoopThread` is an asyncio event loop in a daemon thread, reached through an
anyio blocking portal: a daemon thread (unlike anyio's ``start_blocking_portal``, a
thread pool) so that a program that never closes its objects still exits.
:func:`shared_loop` is the one such loop every ``acognito.sync`` object of the process
uses; a blocking ``CognitoAuth`` starts one of its own. :func:`running_loop` names the
caller's loop (asyncio or trio), so an object can stay bound to one.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import sniffio
from anyio.from_thread import BlockingPortal

from .errors import ConfigurationError

__all__ = ["LoopThread", "running_loop", "shared_loop"]

T = TypeVar("T")


def running_loop() -> object:
    """The event loop (asyncio) or run (trio) of the calling task, as an identity."""
    library = sniffio.current_async_library()
    if library == "asyncio":
        return asyncio.get_running_loop()
    if library == "trio":
        import trio

        return trio.lowlevel.current_trio_token()
    raise ConfigurationError(f"acognito runs on asyncio or trio, not {library}")


class LoopThread:
    """An asyncio event loop in a daemon thread; :meth:`start` makes one."""

    def __init__(
        self, portal: BlockingPortal, loop: asyncio.AbstractEventLoop, thread: threading.Thread
    ) -> None:
        self.portal = portal
        self.loop = loop
        self.thread = thread
        self._pending: set[asyncio.Task[Any]] = set()

    @classmethod
    def start(cls, name: str = "acognito-loop") -> LoopThread:
        """Start the thread and its loop; returns once the loop serves."""
        ready: Future[tuple[BlockingPortal, asyncio.AbstractEventLoop]] = Future()

        async def serve() -> None:
            async with BlockingPortal() as portal:
                ready.set_result((portal, asyncio.get_running_loop()))
                await portal.sleep_until_stopped()

        def run() -> None:
            try:
                # asyncio itself (not anyio.run): this thread is asyncio whatever the
                # caller's event loop is, and anyio's primitives run on it as they are.
                asyncio.run(serve())
            except BaseException as exc:
                if ready.done():
                    raise
                ready.set_exception(exc)  # the starting thread raises it

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        portal, loop = ready.result()
        return cls(portal, loop, thread)

    def run(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Await ``func(*args, **kwargs)`` on the loop and return (or raise) its outcome."""
        if threading.current_thread() is self.thread:
            raise RuntimeError("acognito's blocking objects cannot be called from their own loop")
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

    async def drain(self) -> None:
        """Wait (on the loop) for the closes :meth:`close_soon` scheduled so far."""
        if self._pending:
            await asyncio.gather(*self._pending)

    def stop(self) -> None:
        """Stop the loop (cancelling what still runs on it) and wait for its thread."""
        with contextlib.suppress(RuntimeError):  # already stopped
            self.portal.call(self.portal.stop, True)
        self.thread.join()


_shared: LoopThread | None = None
_shared_lock = threading.Lock()


def shared_loop() -> LoopThread:
    """The process's one loop thread for ``acognito.sync`` objects, started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.thread.is_alive():
            _shared = LoopThread.start("acognito-sync-loop")
        return _shared
