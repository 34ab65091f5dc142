"""Event-loop plumbing for :class:`~acognito.auth.CognitoAuth`.

``running_loop`` names the caller's loop (asyncio or trio) so the auth can stay bound to
one; :class:`PrivateLoop` is the event loop in a daemon thread that serves a blocking
``httpx.Client`` (the session's aiobotocore client must live on one loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future

import anyio
import sniffio
from anyio.from_thread import BlockingPortal

from ..errors import ConfigurationError

__all__ = ["PrivateLoop", "running_loop"]


def running_loop() -> object:
    """The event loop (asyncio) or run (trio) of the calling task, as an identity."""
    library = sniffio.current_async_library()
    if library == "asyncio":
        return asyncio.get_running_loop()
    if library == "trio":
        import trio

        return trio.lowlevel.current_trio_token()
    raise ConfigurationError(f"CognitoAuth runs on asyncio or trio, not {library}")


class PrivateLoop:
    """An asyncio event loop in a daemon thread, reached through an anyio blocking portal.

    A daemon thread, unlike anyio's ``start_blocking_portal`` (a thread pool), so that
    a program that forgets ``close()`` still exits instead of waiting for the loop.
    """

    def __init__(self, portal: BlockingPortal, thread: threading.Thread) -> None:
        self.portal = portal
        self.thread = thread

    @classmethod
    def start(cls) -> PrivateLoop:
        ready: Future[BlockingPortal] = Future()

        async def serve() -> None:
            async with BlockingPortal() as portal:
                ready.set_result(portal)
                await portal.sleep_until_stopped()

        def run() -> None:
            try:
                anyio.run(serve, backend="asyncio")
            except BaseException as exc:
                if ready.done():
                    raise
                ready.set_exception(exc)  # the starting thread raises it

        thread = threading.Thread(target=run, name="acognito-auth-loop", daemon=True)
        thread.start()
        return cls(ready.result(), thread)

    def stop(self) -> None:
        """Stop the loop (cancelling what still runs on it) and wait for its thread."""
        with contextlib.suppress(RuntimeError):  # already stopped
            self.portal.call(self.portal.stop, True)
        self.thread.join()
