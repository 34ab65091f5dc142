"""A loopback JWKS server for tests: real HTTP on 127.0.0.1, counted, breakable.

Shared by the JWKS cache tests, the verifiers' tests (OIDC discovery, ALB keys by kid)
and the framework integrations' outage cases (stop it: the JWKS is gone).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        owner: JwksTestServer = self.server.owner  # type: ignore[attr-defined]
        with owner.lock:
            owner.requests += 1
            owner.paths.append(self.path)
            delay = owner.delays.pop(0) if owner.delays else owner.delay
            status = owner.status
            body = owner.body if owner.body is not None else json.dumps(owner.jwks).encode()
            content_type = "application/json"
            path = self.path.split("?", 1)[0]
            if path in owner.documents:
                content_type, body = owner.documents[path]
            elif owner.only_documents:
                status, body = 404, b"not found"
            send_length = owner.send_length
            declared = owner.declared_length
            body_delay = owner.body_delay
            location = owner.location
        owner.request_seen.set()
        if delay:
            owner.stopping.wait(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if location is not None:
                self.send_header("Location", location)
            if declared is not None:
                self.send_header("Content-Length", str(declared))
            elif send_length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body_delay:
                self.wfile.write(body[:10])
                self.wfile.flush()
                owner.stopping.wait(body_delay)
            self.wfile.write(body)
        except OSError:  # the client went away (a cancelled or timed-out fetch)
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class JwksTestServer:
    """A loopback JWKS test server: serves a JWKS over real HTTP, counts requests.

    ``rotate()`` swaps the document; ``status``, ``body`` (raw bytes), ``delay`` /
    ``delays`` (per request, consumed in order, before the headers), ``body_delay``
    (after them), ``send_length`` and ``declared_length`` make it fail, stall, stream
    without a Content-Length or lie about it; ``location`` sends a Location header
    (with ``status`` 3xx: a redirect). ``documents`` maps a path to ``(content type,
    body)`` served instead of the JWKS (a discovery document, an ALB's PEM keys); with
    ``only_documents`` any other path answers 404.
    """

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.requests = 0
        self.paths: list[str] = []
        self.status = 200
        self.body: bytes | None = None
        self.delay = 0.0
        self.delays: list[float] = []
        self.send_length = True
        self.declared_length: int | None = None
        self.body_delay = 0.0
        self.location: str | None = None
        self.documents: dict[str, tuple[str, bytes]] = {}
        self.only_documents = False
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.request_seen = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/us-east-1_TestPool1/.well-known/jwks.json"

    def rotate(self, jwks: dict[str, Any]) -> None:
        with self.lock:
            self.jwks = jwks

    def start(self) -> JwksTestServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
