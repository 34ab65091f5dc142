"""Blocking frameworks (Flask, Django) run the sign-in core on one private event loop.

The core is async (the store, the OAuth2 domain, the verifier); a WSGI worker thread
hands each request's work to one asyncio loop in a daemon thread shared by the process
and waits for it. One loop for every thread means one refresh in flight per session
however many threads ask. After ``fork()`` the child starts its own loop on first use.
A sign-in dropped without ``aclose()`` (a WSGI app has no shutdown hook) has its HTTP
clients closed on that loop (:func:`close_when_dropped`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ...auth._loop import PrivateLoop

__all__ = ["close_when_dropped", "run"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: PrivateLoop | None = None
_asyncio_loop: asyncio.AbstractEventLoop | None = None
_pid = 0
_pending: set[asyncio.Task[Any]] = set()


async def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def _private_loop() -> PrivateLoop:
    global _loop, _asyncio_loop, _pid
    with _lock:
        if _loop is None or _pid != os.getpid() or not _loop.thread.is_alive():
            _loop = PrivateLoop.start()
            _asyncio_loop = _loop.portal.call(_running_loop)
            _pid = os.getpid()
        return _loop


def run(func: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``await func(*args)`` on the private loop, from a thread that runs no loop."""
    return _private_loop().portal.call(func, *args)


def _close_soon(acloses: tuple[Callable[[], Awaitable[Any]], ...], pid: int) -> None:
    loop = _asyncio_loop
    if loop is None or pid != os.getpid():
        return  # never used here, or a forked child: nothing of ours is open

    async def close_all() -> None:
        for aclose in acloses:
            with contextlib.suppress(Exception):
                await aclose()

    def spawn() -> None:
        task = asyncio.ensure_future(close_all())
        _pending.add(task)
        task.add_done_callback(_pending.discard)

    with contextlib.suppress(RuntimeError):  # the loop is gone (interpreter exit)
        loop.call_soon_threadsafe(spawn)


def close_when_dropped(owner: object, *acloses: Callable[[], Awaitable[Any]]) -> None:
    """When ``owner`` is garbage collected, await each of ``acloses`` on the private
    loop (they must not hold ``owner``)."""
    weakref.finalize(owner, _close_soon, acloses, os.getpid())
