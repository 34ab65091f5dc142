"""A fault-injecting HTTP proxy on 127.0.0.1, in front of a real local Cognito server.

Test infrastructure for tests/test_faults.py. Every request the client sends goes
through the proxy (the user-pool API as AWS JSON 1.1 ``POST /``, and the JWKS as
``GET /{pool}/.well-known/jwks.json``); rules switch faults on per kind of request:

- ``answer``: reply with an HTTP error (a 5xx, or a 400 ``ThrottlingException`` in
  the JSON 1.1 error shape botocore parses) without asking the server;
- ``reset``: let the server answer, send the client half of the response, then reset
  the connection (the server did the work; the client never learns the outcome);
- ``hold``: keep the request until released (or for ``seconds``), then forward it or
  drop it: a slow server, and the hook the cancellation sweep cancels on;
- ``stall``: let the server answer, send the headers and half the body, then wait
  until released (or ``seconds``) before sending the rest: a response cut mid-body;
- ``down()`` / ``up()``: stop listening and drop every connection, then listen again
  on the same port: the server restarting between calls.

Requests may arrive in absolute form (``POST http://host:port/ HTTP/1.1``), which
aiobotocore's httpx session sends on trio; the proxy forwards them in origin form.
Every request is recorded (kind, operation, what the proxy did), so tests count the
attempts the retry policy made. Every refresh token the server hands out is recorded
too, with the token it replaced (a refresh with rotation), whether or not the client
received the answer: :meth:`FaultProxy.newest_refresh_token` follows that chain, which
is what "no token lost" is checked against, whatever server is behind the proxy.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

Kind = Literal["idp", "jwks", "other"]
Action = Literal["answer", "reset", "hold", "stall"]

JSON_11 = "application/x-amz-json-1.1"
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
}

#: Rows (fault, server, backend, outcome) the fault suite adds; conftest.py prints them.
FAULT_TABLE: list[tuple[str, str, str, str]] = []

#: Bounds every wait inside the proxy, so a test that forgets to release never hangs it.
MAX_HOLD_SECONDS = 30.0


class _Reset(Exception):
    """The handler reset the client's connection on purpose."""


@dataclass
class Rule:
    """One switched-on fault: which requests it catches, what it does, how many times."""

    kind: Kind
    action: Action
    operation: str | None = None
    times: int | None = None  # None: until cleared
    status: int = 500
    code: str = "InternalErrorException"
    seconds: float = MAX_HOLD_SECONDS
    forward: bool = True
    skip: int = 0  # let this many matching requests through first
    hits: int = 0
    skipped: int = 0

    def matches(self, kind: Kind, operation: str | None) -> bool:
        if self.kind != kind or (self.times is not None and self.hits >= self.times):
            return False
        return self.operation is None or self.operation == operation


@dataclass(frozen=True)
class Seen:
    """A request the proxy received and what it did with it."""

    kind: Kind
    operation: str | None
    action: str  # "forwarded", "answer 500", "reset", "held", "held, then forwarded"


@dataclass
class _Hold:
    """A held request the test can wait for and release."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class FaultProxy:
    """An HTTP/1.1 proxy on 127.0.0.1 (a fixed port once started) in front of ``upstream``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._seen: list[Seen] = []
        self._hold = _Hold()
        self._issued: set[str] = set()
        self._successor: dict[str, str] = {}
        self._port = 0
        self._httpd: _ProxyServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> FaultProxy:
        self.up()
        return self

    def stop(self) -> None:
        self.release()
        self.down()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def up(self) -> None:
        """Listen (again, on the same port after :meth:`down`)."""
        if self._httpd is not None:
            return
        httpd = _ProxyServer(("127.0.0.1", self._port), self)
        self._port = int(httpd.server_address[1])
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fault-proxy",
            daemon=True,
        )
        thread.start()
        self._httpd, self._thread = httpd, thread

    def down(self) -> None:
        """Stop listening and reset every open connection: new connections are refused."""
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.reset_connections()
        if thread is not None:
            thread.join(10)

    @property
    def is_up(self) -> bool:
        return self._httpd is not None

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("the fault proxy was never started")
        return f"http://127.0.0.1:{self._port}"

    # ------------------------------------------------------------ faults

    def add(self, kind: Kind, action: Action, **options: Any) -> Rule:
        """Switch a fault on; see :class:`Rule` for the options. Returns the rule."""
        rule = Rule(kind=kind, action=action, **options)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Switch every fault off and let any held request go on."""
        with self._lock:
            self._rules.clear()
        self.release()

    def release(self) -> None:
        """Let the held request (if any) go on; later holds wait again."""
        with self._lock:
            hold, self._hold = self._hold, _Hold()
        hold.release.set()

    def wait_held(self, timeout: float = 10.0) -> bool:
        """Block until a request is held (True), or ``timeout`` passes (False)."""
        with self._lock:
            hold = self._hold
        return hold.arrived.wait(timeout)

    # ------------------------------------------------------------ inspection

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def count(self, kind: Kind | None = None, operation: str | None = None) -> int:
        """Requests received (whatever the proxy did with them), by kind and operation."""
        return sum(
            1
            for s in self.seen
            if (kind is None or s.kind == kind) and (operation is None or s.operation == operation)
        )

    def issued(self, token: str) -> bool:
        """Whether the server handed out this refresh token (through the proxy)."""
        with self._lock:
            return token in self._issued

    def newest_refresh_token(self, token: str) -> str:
        """The end of ``token``'s rotation chain: the newest refresh token the server
        issued in exchange for it (or for its successors); ``token`` when none."""
        with self._lock:
            seen = {token}
            while token in self._successor:
                token = self._successor[token]
                if token in seen:  # pragma: no cover - a server answering in a loop
                    break
                seen.add(token)
            return token

    def _note_tokens(self, request: bytes, response: bytes) -> None:
        """Record a refresh token in an answer, and the one the request sent."""
        try:
            sent, got = json.loads(request or b"{}"), json.loads(response or b"{}")
        except ValueError:
            return
        if not isinstance(sent, dict) or not isinstance(got, dict):
            return
        new = (got.get("AuthenticationResult") or {}).get("RefreshToken")
        if not isinstance(new, str):
            return
        old = sent.get("RefreshToken") or (sent.get("AuthParameters") or {}).get("REFRESH_TOKEN")
        with self._lock:
            self._issued.add(new)
            if isinstance(old, str) and old != new:
                self._successor[old] = new

    def forget(self) -> None:
        with self._lock:
            self._seen.clear()

    @contextlib.contextmanager
    def counting(self) -> Iterator[list[Seen]]:
        """The requests seen inside the block (a list filled in when the block ends)."""
        mark = len(self.seen)
        got: list[Seen] = []
        try:
            yield got
        finally:
            got.extend(self.seen[mark:])

    # ------------------------------------------------------------ used by the handler

    def _decide(self, kind: Kind, operation: str | None) -> tuple[Rule | None, _Hold]:
        with self._lock:
            for rule in self._rules:
                if rule.matches(kind, operation):
                    if rule.skipped < rule.skip:
                        rule.skipped += 1
                        continue
                    rule.hits += 1
                    return rule, self._hold
            return None, self._hold

    def _record(self, kind: Kind, operation: str | None, action: str) -> None:
        with self._lock:
            self._seen.append(Seen(kind, operation, action))

    def __repr__(self) -> str:
        state = self.url if self.is_up else "down"
        return f"FaultProxy({state} -> {self.upstream})"


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], proxy: FaultProxy) -> None:
        self.proxy = proxy
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def reset_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            _reset(conn)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: the faults this proxy makes end connections abruptly on purpose."""


def _reset(conn: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed server's kernel would."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        conn.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            with contextlib.suppress(OSError, ValueError):
                super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def handle(self) -> None:
        with contextlib.suppress(_Reset, OSError, ValueError):
            super().handle()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet."""

    def do_GET(self) -> None:
        self._proxy()

    def do_POST(self) -> None:
        self._proxy()

    # ------------------------------------------------------------ one request

    def _classify(self) -> tuple[Kind, str | None]:
        target = self.headers.get("X-Amz-Target", "")
        if self.command == "POST" and target.startswith(TARGET_PREFIX):
            return "idp", target[len(TARGET_PREFIX) :]
        if self.command == "GET" and self._origin_path().endswith("/.well-known/jwks.json"):
            return "jwks", None
        return "other", None

    def _origin_path(self) -> str:
        """The request target in origin form (absolute form is allowed in HTTP/1.1)."""
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path or "/"
        return f"{path}?{parts.query}" if parts.query else path

    def _proxy(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        kind, operation = self._classify()
        proxy = self.server.proxy
        rule, hold = proxy._decide(kind, operation)
        if rule is None:
            proxy._record(kind, operation, "forwarded")
            self._forward_and_reply(body)
        elif rule.action == "answer":
            proxy._record(kind, operation, f"answer {rule.status}")
            self._answer(kind, rule)
        elif rule.action == "reset":
            proxy._record(kind, operation, "reset")
            status, headers, payload = self._forward(body)
            self._reply(status, headers, payload, cut=True)
        elif rule.action == "stall":
            proxy._record(kind, operation, "stalled")
            status, headers, payload = self._forward(body)
            self._reply(status, headers, payload, stall=(hold, rule.seconds))
        else:  # hold
            proxy._record(kind, operation, "held, then forwarded" if rule.forward else "held")
            hold.arrived.set()
            hold.release.wait(min(rule.seconds, MAX_HOLD_SECONDS))
            if not rule.forward:
                raise _Reset
            self._forward_and_reply(body)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        upstream = urllib.parse.urlsplit(self.server.proxy.upstream)
        conn = http.client.HTTPConnection(
            upstream.hostname or "127.0.0.1", upstream.port, timeout=30
        )
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn.request(self.command, self._origin_path(), body=body or None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            self.server.proxy._note_tokens(body, payload)
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            return response.status, kept, payload
        except OSError:
            raise _Reset from None  # the server is gone: the client sees a reset
        finally:
            conn.close()

    def _forward_and_reply(self, body: bytes) -> None:
        self._reply(*self._forward(body))

    def _reply(
        self,
        status: int,
        headers: list[tuple[str, str]],
        payload: bytes,
        *,
        cut: bool = False,
        stall: tuple[_Hold, float] | None = None,
    ) -> None:
        self.send_response(status)
        for key, value in headers:
            if key.lower() not in ("server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if stall is not None:
            hold, seconds = stall
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            hold.arrived.set()
            hold.release.wait(min(seconds, MAX_HOLD_SECONDS))
            self.wfile.write(payload[len(payload) // 2 :])
            self.wfile.flush()
            return
        if not cut:
            self.wfile.write(payload)
            self.wfile.flush()
            return
        # Half the body, then a reset: the response is lost mid-way.
        self.wfile.write(payload[: len(payload) // 2])
        self.wfile.flush()
        time.sleep(0.01)
        _reset(self.connection)
        raise _Reset

    def _answer(self, kind: Kind, rule: Rule) -> None:
        if kind == "idp":
            body = json.dumps({"__type": rule.code, "message": f"injected {rule.code}"}).encode()
            headers = [("Content-Type", JSON_11), ("x-amzn-ErrorType", f"{rule.code}:")]
        else:
            body = json.dumps({"message": "Service Unavailable"}).encode()
            headers = [("Content-Type", "application/json")]
        headers.append(("x-amzn-RequestId", f"fault-{time.monotonic_ns()}"))
        self._reply(rule.status, headers, body)
