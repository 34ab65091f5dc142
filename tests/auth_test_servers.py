"""Test servers for the httpx auth tests: a token-verifying API, a slow proxy, a silent port.

``VerifiedTestApi`` is an ASGI test API that accepts a request only when its bearer
token verifies with a real :class:`acognito.CognitoVerifier` (signature from the pool's
JWKS URL, issuer, client, ``token_use``, expiry); it records every token it saw.
``DelayingProxy`` is a TCP forwarder on loopback that holds each chunk from the client
for ``delay`` seconds (a slow network in front of a test server). ``SilentServer``
accepts connections and never answers (a hung endpoint). ``ShiftedClock`` is a wall
clock the test moves forward; share it between the Cognito test server, the API's
verifier and the auth so that all three agree on when a token expires.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from acognito import CognitoVerifier
from acognito.errors import TokenVerificationError
from asgi_helpers import read_body, serve_lifespan

__all__ = [
    "CannedServer",
    "DelayingProxy",
    "HeaderRecorder",
    "ShiftedClock",
    "SilentServer",
    "VerifiedTestApi",
    "refused_url",
]


class ShiftedClock:
    """``time.time()`` plus an offset the test moves with :meth:`advance`."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def __call__(self) -> float:
        return time.time() + self.offset


class VerifiedTestApi:
    """An ASGI test API that answers 200 only to a token ``verifier`` accepts.

    ``header`` / ``prefix`` say where the token is read from. ``tokens_seen`` counts
    every token presented, ``accepted`` the verified ones; ``reject_all`` and
    ``reject_next`` make it answer 401 on purpose (an API that distrusts a valid token).
    The verifier is closed on lifespan shutdown, on the loop that served it.
    """

    def __init__(
        self,
        verifier: CognitoVerifier,
        *,
        header: str = "authorization",
        prefix: str = "Bearer ",
    ) -> None:
        self.verifier = verifier
        self.header = header.lower().encode("latin-1")
        self.prefix = prefix
        self.requests = 0
        self.rejected = 0
        self.reject_all = False
        self.reject_next = 0
        self.tokens_seen: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send, self.verifier.aclose)
            return
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        self.requests += 1
        value = dict(scope["headers"]).get(self.header, b"").decode("latin-1")
        claims = None
        if value.startswith(self.prefix) and len(value) > len(self.prefix):
            token = value[len(self.prefix) :]
            self.tokens_seen[token] += 1
            try:
                claims = await self.verifier.verify(token)
            except TokenVerificationError as exc:
                self.failures[type(exc).__name__] += 1
            else:
                self.accepted[token] += 1
        on_purpose = self.reject_all or self.reject_next > 0
        if self.reject_next > 0:
            self.reject_next -= 1
        if claims is None or on_purpose:
            self.rejected += 1
            await _answer(send, 401, {"message": "Unauthorized"}, invalid=True)
            return
        data = {
            "sub": claims.get("sub"),
            "username": claims.get("username") or claims.get("cognito:username"),
            "token_use": claims.get("token_use"),
            "path": scope["path"],
            "body": body.decode("utf-8", "replace"),
        }
        await _answer(send, 200, data)


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


def refused_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


class _Listener:
    """A listening loopback socket with an accept thread; subclasses handle connections."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.accepted = 0
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Any:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        sock.settimeout(0.05)
        self._sock, self.port = sock, sock.getsockname()[1]
        self._spawn(self._accept_loop)
        return self

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _keep(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.append(conn)

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self._lock:
                self.accepted += 1
            self._keep(conn)
            self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in threads:
            thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()


class SilentServer(_Listener):
    """Accepts TCP connections on loopback and never answers (a hung endpoint)."""

    def _handle(self, conn: socket.socket) -> None:
        """Keep the connection open and unread until the server stops."""


class DelayingProxy(_Listener):
    """A TCP forwarder to ``upstream_url`` that holds each client chunk ``delay`` seconds,
    or, after :meth:`hold`, until the test releases it (``held`` is set once one waits)."""

    def __init__(self, upstream_url: str) -> None:
        super().__init__()
        host, _, port = upstream_url.removeprefix("http://").partition(":")
        self.upstream = (host, int(port))
        self.delay = 0.0
        self.held = threading.Event()
        self._gate: threading.Event | None = None

    def hold(self) -> threading.Event:
        """Hold every client chunk from now on until the returned event is set: a request
        that is provably on the wire, for as long as the test needs (no timing guess)."""
        self.held.clear()
        self._gate = threading.Event()
        return self._gate

    def _handle(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        self._keep(upstream)
        self._spawn(self._pump, conn, upstream, True)
        self._spawn(self._pump, upstream, conn, False)

    def _pump(self, src: socket.socket, dst: socket.socket, delayed: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                gate = self._gate
                if delayed and gate is not None:
                    self.held.set()
                    gate.wait(30)
                elif delayed and self.delay:
                    time.sleep(self.delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)


class _QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up early (the size-cap tests) is expected: stay quiet."""


class _ThreadedServer:
    """A ThreadingHTTPServer on loopback in a daemon thread, as a context manager."""

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def __enter__(self) -> Any:
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class HeaderRecorder(_ThreadedServer):
    """Records the headers of every request; ``/redirect?to=URL`` answers 302 to ``URL``.

    ``seen`` maps each path to the (lower-cased) headers of the requests that reached it.
    """

    def __init__(self) -> None:
        self.seen: dict[str, list[dict[str, str]]] = {}
        self._lock = threading.Lock()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(_QuietHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with recorder._lock:
                    recorder.seen.setdefault(parts.path, []).append(headers)
                if parts.path == "/redirect":
                    target = parse_qs(parts.query)["to"][0]
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


class CannedServer(_ThreadedServer):
    """Answers every request with ``status``, ``headers`` and ``body`` as set by the test.

    With ``chunked`` the body goes out in 64 KiB chunks with no Content-Length (a body
    whose size is only known by reading it). ``requests`` counts what arrived.
    """

    def __init__(self) -> None:
        self.status = 200
        self.headers: dict[str, str] = {"Content-Type": "application/json"}
        self.body = b"{}"
        self.chunked = False
        self.requests = 0

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        canned = self

        class Handler(_QuietHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                canned.requests += 1
                self.send_response(canned.status)
                for key, value in canned.headers.items():
                    self.send_header(key, value)
                body = canned.body
                if canned.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        for i in range(0, len(body), 65536):
                            chunk = body[i : i + 65536]
                            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                        self.wfile.write(b"0\r\n\r\n")
                    except OSError:  # the client stopped reading: that is the point
                        self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

        return Handler
