"""Bits of the ASGI protocol shared by the tests' bearer-checking test APIs, and servers.

``BearerTestApi`` is an ASGI test API that accepts only valid access tokens of a local
Cognito pool; :func:`serve_asgi` runs an ASGI app with hypercorn on the running backend
(asyncio or trio) and :class:`ThreadedAsgiServer` in a thread for blocking clients.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import sniffio
from hypercorn.config import Config
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def serve_lifespan(
    receive: Receive, send: Send, on_shutdown: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Acknowledge startup and shutdown (running ``on_shutdown`` first), then return."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if on_shutdown is not None:
                await on_shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def read_body(receive: Receive) -> bytes:
    """The whole request body, however many messages it comes in."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


# --------------------------------------------------------------------------- test API


class BearerTestApi:
    """An ASGI test API that answers 200 only to a valid access token of ``domain``'s pool
    (signature over the pool's published JWKS, issuer, ``token_use``, expiry).

    Counts ``requests`` and ``rejected``; ``reject_all`` makes it answer 401 to
    everything (a token the API distrusts), ``reject_next`` to the next N requests.
    Echoes the claims and the request body.
    """

    def __init__(self, domain: Any) -> None:
        with urllib.request.urlopen(domain.jwks_url, timeout=10) as resp:  # noqa: S310 - loopback
            self._keys = KeySet.import_key_set(json.loads(resp.read()))
        self._issuer = str(domain.issuer)
        self.requests = 0
        self.rejected = 0
        self.reject_all = False
        self.reject_next = 0
        self.tokens_seen: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        self.requests += 1
        headers = dict(scope["headers"])
        auth = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = auth.partition(" ")
        claims = None
        if scheme == "Bearer" and token:
            self.tokens_seen[token] += 1
            claims = self.verify_access_token(token)
        rejected_on_purpose = self.reject_all or self.reject_next > 0
        if self.reject_next > 0:
            self.reject_next -= 1
        if claims is None or rejected_on_purpose:
            self.rejected += 1
            await self._answer(send, 401, {"message": "Unauthorized"}, invalid=True)
            return
        data = {
            "client_id": claims.get("client_id"),
            "scope": claims.get("scope"),
            "path": scope["path"],
            "body": body.decode("utf-8", "replace"),
        }
        await self._answer(send, 200, data)

    def verify_access_token(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid access token of the pool, else None."""
        try:
            decoded = jwt.decode(token, self._keys, algorithms=["RS256"])
        except (JoseError, ValueError):
            return None
        claims = dict(decoded.claims)
        if claims.get("token_use") != "access" or claims.get("iss") != self._issuer:
            return None
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= time.time():
            return None
        return claims

    @staticmethod
    async def _answer(send: Any, status: int, data: Any, *, invalid: bool = False) -> None:
        payload = json.dumps(data).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        if invalid:
            headers.append((b"www-authenticate", b'Bearer error="invalid_token"'))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def _listening_socket() -> tuple[int, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    port = sock.getsockname()[1]
    return sock.detach(), port  # hypercorn owns the descriptor from here on


def _hypercorn_config(fd: int) -> Config:
    config = Config()
    config.bind = [f"fd://{fd}"]
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = 1.0
    config.backlog = 512
    return config


@asynccontextmanager
async def serve_asgi(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with hypercorn on the running backend (asyncio or trio); yield its URL."""
    fd, port = _listening_socket()
    config = _hypercorn_config(fd)
    stop = anyio.Event()
    if sniffio.current_async_library() == "trio":
        from hypercorn.trio import serve
    else:
        from hypercorn.asyncio import serve  # type: ignore[assignment]
    async with anyio.create_task_group() as tg:
        tg.start_soon(partial(serve, app, config, shutdown_trigger=stop.wait))
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            stop.set()


class ThreadedAsgiServer:
    """Hypercorn on its own asyncio loop in a thread, for blocking clients and benchmarks."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def __enter__(self) -> ThreadedAsgiServer:
        from hypercorn.asyncio import serve

        fd, port = _listening_socket()
        config = _hypercorn_config(fd)
        ready = threading.Event()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            ready.set()
            await serve(self.app, config, shutdown_trigger=self._stop.wait)

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
        self._thread.start()
        ready.wait(5)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
