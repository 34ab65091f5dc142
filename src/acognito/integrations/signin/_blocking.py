"""Blocking frameworks (Flask, Django) run the sign-in core on acognito's loop thread.

The core is async (the store, the OAuth2 domain, the verifier, the user-pool API); a
WSGI worker thread hands each request's work to the process's one background event loop
(:func:`acognito._loop_thread.shared_loop`, the one ``acognito.sync`` uses) and waits for
it. One loop for every thread means one refresh in flight per session however many
threads ask. A sign-in dropped without ``aclose()`` (a WSGI app has no shutdown hook)
has its HTTP clients closed on that loop (:func:`close_when_dropped`).
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ..._loop_thread import LoopThread, shared_loop

__all__ = ["close_when_dropped", "run"]

T = TypeVar("T")


def run(func: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``await func(*args)`` on the loop thread, from a thread that runs no loop."""
    return shared_loop().run(func, *args)


def _close_soon(
    loop: LoopThread, acloses: tuple[Callable[[], Awaitable[Any]], ...], pid: int
) -> None:
    if pid != os.getpid():
        return  # a forked child: the loop and the connections are the parent's
    for aclose in acloses:
        loop.close_soon(aclose)


def close_when_dropped(owner: object, *acloses: Callable[[], Awaitable[Any]]) -> None:
    """When ``owner`` is garbage collected, await each of ``acloses`` on the loop thread
    (they must not hold ``owner``)."""
    weakref.finalize(owner, _close_soon, shared_loop(), acloses, os.getpid())
