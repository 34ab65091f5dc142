"""Run moto server with HTTP/1.1 keep-alive: ``python -m acognito.testing._moto_runner``.

moto's own ``moto.server`` serves through werkzeug's development handler, which answers
every request with ``Connection: close``: each client call then pays for a new TCP
connection and a new server thread. This runner serves the same moto application
(``DomainDispatcherApplication(create_backend_app)``, moto's request handler) through a
handler that keeps connections open: one thread per client connection, reused for every
request on it, responses sent whole with a ``Content-Length`` in one write.

Same command line as ``moto.server`` for what :class:`LocalCognito` uses (``-H HOST
-p PORT``); it prints werkzeug's ``Running on http://HOST:PORT`` once bound.
``--delay SECONDS`` holds every response that long (a stand-in for the network round
trip to a real region); ``--log-requests`` turns werkzeug's access log back on.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any, cast

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple
from werkzeug.wsgi import LimitedStream

from ._local_app import LocalCognitoApp
from ._local_persist import StateFileError
from .triggers import LambdaTriggers

__all__ = ["CachingDispatcher", "KeepAliveMotoHandler", "main"]

#: Seconds an idle client connection is kept open. Clients drop theirs sooner
#: (aiobotocore after 12 s, httpx after 5 s), so the server rarely closes one first.
IDLE_TIMEOUT = 75.0

#: Response headers that describe one connection, not the response: the handler sets them.
#: ``Server`` and ``Date`` too: ``send_response`` writes its own, and moto adds a second
#: ``server`` (two of them fail strict parsers, such as aiohttp's under ``python -X dev``);
#: moto's stray ``status`` header is no header of HTTP.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date", "status"}
)


class CachingDispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend serves a host.

    moto's own lookup lists moto's package directory on disk for every request (about
    a sixth of its CPU per Cognito call, under a lock all threads share); the answer
    for a host cannot change while the server runs.
    """

    def __init__(self, create_app: Any) -> None:
        super().__init__(create_app)
        self._backend_for_host: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        try:
            return self._backend_for_host[host]
        except KeyError:
            backend = super().get_backend_for_host(host)
            self._backend_for_host[host] = backend
            return backend


class KeepAliveMotoHandler(MotoRequestHandler):
    """moto's WSGI request handler, speaking HTTP/1.1 with persistent connections.

    The response body is collected before anything is sent (moto's Cognito answers are
    a few kB), so every response carries an exact ``Content-Length`` and the connection
    can serve the next request; the unread rest of a request body is drained first.
    """

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    # Buffered writes: status line, headers and body leave in one send.
    wbufsize = -1
    #: Log a line per request (werkzeug's access log); errors are always logged.
    log_requests = False
    #: Seconds to hold every response before sending it (a simulated network delay).
    response_delay = 0.0

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.log_requests:
            super().log_request(code, size)

    def setup(self) -> None:
        super().setup()
        # Small request/response exchanges on a kept connection: no Nagle delay.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run_wsgi(self) -> None:
        """Serve one request: call the app, then send its whole response at once."""
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        environ = self.make_environ()
        body_in = self._bounded_input(environ)
        status = "500 INTERNAL SERVER ERROR"
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        def start_response(
            new_status: str, new_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            nonlocal status, headers
            status, headers = new_status, list(new_headers)
            return chunks.append

        try:
            result: Iterable[bytes] = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
            return
        except Exception:
            self.log_error("Error on request:\n%s", traceback.format_exc())
            status, headers = "500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")]
            chunks = [b"Internal Server Error"]
            self.close_connection = True
        if not self.close_connection and not self._drain(body_in):
            self.close_connection = True
        if self.response_delay > 0:
            time.sleep(self.response_delay)  # this connection's own thread; no GIL held
        self._send(environ, status, headers, b"".join(chunks))

    def _bounded_input(self, environ: dict[str, Any]) -> Any:
        """Limit ``wsgi.input`` to this request's body, so the next request stays intact.

        Chunked bodies are already self-delimiting (werkzeug decodes them); a body with
        neither a length nor chunking is empty in HTTP/1.1.
        """
        if environ.get("wsgi.input_terminated"):
            return environ["wsgi.input"]
        try:
            length = max(0, int(environ.get("CONTENT_LENGTH") or 0))
        except ValueError:
            length = 0
            self.close_connection = True
        stream = LimitedStream(cast(IO[bytes], self.rfile), length)
        environ["wsgi.input"] = stream
        return stream

    @staticmethod
    def _drain(body_in: Any) -> bool:
        """Read what the app left of the request body; False if that failed."""
        try:
            while body_in.read(65536):
                pass
        except Exception:
            return False
        return True

    def _send(
        self, environ: dict[str, Any], status: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        head = environ["REQUEST_METHOD"] == "HEAD"
        self.send_response(code, reason)
        for name, value in headers:
            lowered = name.lower()
            # A HEAD response keeps the length the app declared for the body it omits.
            if lowered in _HOP_BY_HOP and not (head and lowered == "content-length"):
                continue
            self.send_header(name, value)
        if not head and not (100 <= code < 200 or code in (204, 304)):
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)
        self.wfile.flush()


def load_triggers(spec: str) -> LambdaTriggers:
    """``module:attr`` (attr may be dotted): a LambdaTriggers, or a mapping of names."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError("give module:attr")
    found: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        found = getattr(found, part)
    if isinstance(found, LambdaTriggers):
        return found
    if isinstance(found, Mapping):
        return LambdaTriggers.from_mapping(found)
    raise TypeError(f"{spec} is a {type(found).__name__}, not LambdaTriggers or a mapping")


def _stop(signum: int, frame: Any) -> None:
    sys.exit(0)


def _exit_with_parent(parent_pid: int, every: float = 0.5) -> None:
    """Stop serving once ``parent_pid`` is gone, however it ended (even SIGKILL, where
    its own clean-up never runs): no orphan server outlives the program that started it.
    The server runs in its own session (Ctrl-C reaches the parent only), so this
    watch is what ties the two lifetimes together."""

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent_pid:  # re-parented: the parent has exited
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse ``-H HOST -p PORT`` and serve moto until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m acognito.testing._moto_runner")
    parser.add_argument("-H", "--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("-p", "--port", type=int, default=5000, help="port to bind")
    parser.add_argument(
        "--log-requests", action="store_true", help="print a line per request (off: faster)"
    )
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds to hold each response (network delay)"
    )
    parser.add_argument(
        "--plain-moto",
        action="store_true",
        help="serve moto alone, without acognito's honest extensions",
    )
    parser.add_argument(
        "--trigger-timeout",
        type=float,
        default=5.0,
        help="seconds a Lambda trigger may take (Cognito's: 5)",
    )
    parser.add_argument(
        "--triggers",
        metavar="MODULE:ATTR",
        default=None,
        help="Lambda triggers for every pool: a LambdaTriggers (or a mapping of names)",
    )
    parser.add_argument(
        "--check-shapes",
        action="store_true",
        help="hold every answer against botocore's model (for tests)",
    )
    parser.add_argument(
        "--state", metavar="DIR", default=None, help="keep the pools and users in DIR"
    )
    parser.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        help="exit when this process (the one that started the server) is gone",
    )
    args = parser.parse_args(argv)
    if args.parent_pid is not None:
        _exit_with_parent(args.parent_pid)
    if args.delay < 0:
        parser.error("--delay must be >= 0")
    if not args.trigger_timeout > 0:
        parser.error("--trigger-timeout must be > 0")
    triggers = None
    if args.triggers is not None:
        try:
            triggers = load_triggers(args.triggers)
        except (ImportError, AttributeError, TypeError, ValueError) as exc:
            parser.error(f"--triggers {args.triggers}: {exc}")
    KeepAliveMotoHandler.log_requests = args.log_requests
    KeepAliveMotoHandler.response_delay = args.delay
    # moto builds some URLs (e.g. presigned ones) from this variable, as moto.server sets it.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    moto_app = CachingDispatcher(create_backend_app)
    moto_app.debug = True  # type: ignore[attr-defined]
    app: Any = moto_app
    if not args.plain_moto:
        try:
            app = LocalCognitoApp(
                moto_app,
                trigger_timeout=args.trigger_timeout,
                callables=None if triggers is None else triggers.by_name(),
                token_version="1" if triggers is None else triggers.event_version,
                check_shapes=args.check_shapes,
                state_dir=args.state,
            )
        except (StateFileError, OSError) as exc:
            parser.error(f"--state {args.state}: {exc}")
        store = app.store
        if store is not None:
            atexit.register(store.stop)  # SIGTERM and SIGINT exit through here
    run_simple(args.host, args.port, app, threaded=True, request_handler=KeepAliveMotoHandler)


if __name__ == "__main__":
    main()
