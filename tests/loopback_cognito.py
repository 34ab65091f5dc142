"""A loopback Cognito TEST SERVER: the user-pool API, honestly, on 127.0.0.1.

Test infrastructure, not a product. It answers real botocore/aiobotocore requests
(AWS JSON 1.1 over HTTP) for the operations the moto emulator lacks or does not
check: real SRP proofs (checked with tests/srp_server.py), SECRET_HASH, remembered
devices and device SRP, refresh with rotation, RevokeToken, GlobalSignOut, USER_AUTH,
custom auth, TOTP and SMS MFA, new-password challenges, codes, DeleteUser. Tokens are
RS256 JWTs from a per-pool key, published at ``/{pool_id}/.well-known/jwks.json``.

    with LoopbackCognitoServer() as server:
        pool_id = server.create_pool(username_attributes=["email"])
        client_id, secret = server.create_client(pool_id, secret=True)
        server.create_user(pool_id, "ann@example.com", "Passw0rd!")
        ...  # point a client at server.endpoint_url

Codes that Cognito would e-mail or text land in ``server.last_code(...)``; every
request is in ``server.requests`` (operation, status, error code).
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from loopback_cognito_account import AccountOps
from loopback_cognito_auth import AuthOps
from loopback_cognito_model import (
    FORGOT_PASSWORD,
    SIGN_UP,
    SMS_MFA,
    DeviceSnapshot,
    Fault,
    RequestRecord,
    SentCode,
    UserSnapshot,
    secret_hash,
    verify_purpose,
)

__all__ = [
    "FORGOT_PASSWORD",
    "SIGN_UP",
    "SMS_MFA",
    "DeviceSnapshot",
    "LoopbackCognitoServer",
    "RequestRecord",
    "SentCode",
    "UserSnapshot",
    "secret_hash",
    "verify_purpose",
]

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
JSON_11 = "application/x-amz-json-1.1"


class _Backend(AuthOps, AccountOps):
    """All operations over one shared state."""

    def handle(self, operation: str, params: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """Run ``operation``; return (HTTP status, JSON body). Records the request."""
        handler = getattr(self, f"op_{operation}", None) if operation.isidentifier() else None
        with self.lock:
            try:
                if handler is None:
                    raise Fault(
                        "UnknownOperationException",
                        f"The loopback Cognito test server does not implement {operation}",
                    )
                status, body = 200, handler(params)
                code = None
            except Fault as fault:
                status, body, code = (
                    400,
                    {"__type": fault.code, "message": fault.message},
                    fault.code,
                )
            except Exception:
                # A bug in the test server: answered as a 400 (botocore retries 5xx,
                # replaying non-idempotent calls) and kept for the tests to assert on.
                self.internal_errors.append(f"{operation}: {traceback.format_exc()}")
                code = "InternalErrorException"
                status, body = 400, {"__type": code, "message": f"test server bug in {operation}"}
            self.requests.append(RequestRecord(operation, status, code, self.clock(), dict(params)))
        return status, body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without NODELAY, Nagle's
        # algorithm and delayed ACKs add ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: request lines would go to stderr in every test run."""

    def _route(self) -> str:
        """The request path; HTTP/1.1 allows the absolute form, which httpx sends."""
        return urllib.parse.urlsplit(self.path).path or "/"

    def _send(self, status: int, body: Mapping[str, Any], content_type: str = JSON_11) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if status >= 400 and "__type" in body:
            self.send_header("x-amzn-ErrorType", f"{body['__type']}:")
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        target = self.headers.get("X-Amz-Target", "")
        if self._route() != "/" or not target.startswith(TARGET_PREFIX):
            self._send(
                400,
                {
                    "__type": "UnknownOperationException",
                    "message": "POST / with X-Amz-Target expected",
                },
            )
            return
        try:
            params = json.loads(raw or b"{}")
        except ValueError:
            params = None
        if not isinstance(params, dict):
            self._send(
                400, {"__type": "SerializationException", "message": "Body is not a JSON object"}
            )
            return
        status, body = self.server.backend.handle(target[len(TARGET_PREFIX) :], params)
        self._send(status, body)

    def do_GET(self) -> None:
        parts = self._route().strip("/").split("/")
        jwks = None
        if len(parts) == 3 and parts[1:] == [".well-known", "jwks.json"]:
            jwks = self.server.backend.jwks(parts[0])
        if jwks is None:
            self._send(404, {"message": "Not found"}, "application/json")
        else:
            self._send(200, jwks, "application/json")


class _HttpServer(ThreadingHTTPServer):
    # Connection threads are joined by server_close(); stop() first shuts their
    # sockets so that idle keep-alive connections let go at once.
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], backend: _Backend) -> None:
        self.backend = backend
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._conn_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (or stop() shutting its socket) is no test-server bug.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class LoopbackCognitoServer:
    """A loopback Cognito TEST SERVER on 127.0.0.1 (an OS-assigned port), in a thread.

    Use it as a context manager, or ``start()`` / ``stop()``. The set-up and
    inspection methods below work in-process, with or without the HTTP side running.
    """

    def __init__(self, *, host: str = "127.0.0.1", clock: Callable[[], float] = time.time) -> None:
        self.host = host
        self._backend = _Backend(clock)
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> LoopbackCognitoServer:
        if self._httpd is not None:
            return self
        httpd = _HttpServer((self.host, 0), self._backend)
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="loopback-cognito-test-server",
            daemon=True,
        )
        try:
            thread.start()
        except BaseException:
            httpd.server_close()
            raise
        self._httpd, self._thread = httpd, thread
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.drop_connections()
        httpd.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> LoopbackCognitoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the loopback Cognito test server is not running")
        return int(self._httpd.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def jwks_url(self, pool_id: str) -> str:
        return f"{self.endpoint_url}/{pool_id}/.well-known/jwks.json"

    def issuer_url(self, pool_id: str) -> str:
        """The ``iss`` of the pool's tokens (the AWS form unless create_pool set one)."""
        return self._backend.issuer(pool_id).issuer

    # ------------------------------------------------------------ set-up

    def create_pool(
        self,
        *,
        username_attributes: tuple[str, ...] | list[str] = (),
        device_tracking: bool = False,
        device_remember_on_prompt: bool = False,
        mfa: str = "OFF",
        region: str = "us-east-1",
        issuer: str | None = None,
        prevent_user_existence_errors: bool = False,
    ) -> str:
        """A new user pool; returns its id (``{region}_{9 characters}``)."""
        return self._backend.create_pool(
            username_attributes=username_attributes,
            device_tracking=device_tracking,
            device_remember_on_prompt=device_remember_on_prompt,
            mfa=mfa,
            region=region,
            issuer=issuer,
            prevent_user_existence_errors=prevent_user_existence_errors,
        )

    def create_client(
        self,
        pool_id: str,
        *,
        secret: bool = False,
        explicit_auth_flows: tuple[str, ...] | list[str] | None = None,
        enable_token_revocation: bool = True,
        refresh_token_rotation: bool = False,
        retry_grace_seconds: int = 0,
        access_token_validity: int = 3600,
        id_token_validity: int | None = None,
        refresh_token_validity: int = 30 * 86400,
        auth_session_validity: int = 180,
    ) -> tuple[str, str | None]:
        """A new app client; returns (client_id, client_secret or None). Validities in seconds."""
        return self._backend.create_client(
            pool_id,
            secret=secret,
            explicit_auth_flows=explicit_auth_flows,
            enable_token_revocation=enable_token_revocation,
            refresh_token_rotation=refresh_token_rotation,
            retry_grace_seconds=retry_grace_seconds,
            access_token_validity=access_token_validity,
            id_token_validity=id_token_validity,
            refresh_token_validity=refresh_token_validity,
            auth_session_validity=auth_session_validity,
        )

    def create_user(
        self,
        pool_id: str,
        username_or_email: str,
        password: str,
        *,
        attributes: Mapping[str, str] | None = None,
        confirmed: bool = True,
        status: str | None = None,
        enabled: bool = True,
        groups: tuple[str, ...] | list[str] = (),
    ) -> str:
        """A new user; returns the pool user name (a sub UUID in an email/phone pool).

        No password policy here; ``status`` may be CONFIRMED, UNCONFIRMED,
        FORCE_CHANGE_PASSWORD or RESET_REQUIRED. Given e-mail and phone attributes
        are marked verified unless ``attributes`` says otherwise.
        """
        return self._backend.create_user(
            pool_id,
            username_or_email,
            password,
            attributes=attributes,
            confirmed=confirmed,
            status=status,
            enabled=enabled,
            groups=groups,
        )

    def update_user(
        self,
        pool_id: str,
        username: str,
        *,
        status: str | None = None,
        enabled: bool | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        self._backend.update_user(
            pool_id, username, status=status, enabled=enabled, attributes=attributes
        )

    def set_custom_auth(
        self, pool_id: str, answer: str, *, parameters: Mapping[str, str] | None = None
    ) -> None:
        """Turn CUSTOM_AUTH on: CUSTOM_CHALLENGE carries ``parameters``; ANSWER is ``answer``."""
        self._backend.set_custom_auth(pool_id, answer, parameters=parameters)

    def enable_totp(self, pool_id: str, username: str, *, preferred: bool = True) -> str:
        """Give the user a verified, enabled TOTP MFA; returns its base32 secret."""
        return self._backend.enable_totp(pool_id, username, preferred=preferred)

    def enable_sms_mfa(self, pool_id: str, username: str, *, preferred: bool = True) -> None:
        self._backend.enable_sms_mfa(pool_id, username, preferred=preferred)

    # ------------------------------------------------------------ inspection

    def last_code(self, pool_id: str, username: str, purpose: str) -> str:
        """The newest code sent to the user for ``purpose``: SIGN_UP, FORGOT_PASSWORD,
        SMS_MFA or verify_purpose("email"). ``username`` may be an alias."""
        return self._backend.last_code(pool_id, username, purpose)

    @property
    def sent_codes(self) -> list[SentCode]:
        with self._backend.lock:
            return list(self._backend.outbox)

    def user(self, pool_id: str, username: str) -> UserSnapshot:
        return self._backend.user(pool_id, username)

    def has_user(self, pool_id: str, username: str) -> bool:
        return self._backend.has_user(pool_id, username)

    def totp_secret(self, pool_id: str, username: str) -> str | None:
        return self._backend.totp_secret(pool_id, username)

    def devices(self, pool_id: str, username: str) -> list[DeviceSnapshot]:
        return self._backend.devices(pool_id, username)

    def refresh_token_status(self, token: str) -> str:
        """``active``, ``rotated``, ``revoked``, ``expired`` or ``unknown``."""
        return self._backend.refresh_token_status(token)

    def jwks(self, pool_id: str) -> dict[str, Any]:
        jwks = self._backend.jwks(pool_id)
        if jwks is None:
            raise LookupError(pool_id)
        return jwks

    @property
    def requests(self) -> list[RequestRecord]:
        with self._backend.lock:
            return list(self._backend.requests)

    def count(self, operation: str) -> int:
        """How many ``operation`` requests reached the server (answered or failed)."""
        with self._backend.lock:
            return sum(1 for r in self._backend.requests if r.operation == operation)

    def clear_requests(self) -> None:
        with self._backend.lock:
            self._backend.requests.clear()

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of test-server bugs (each answered as a 400 InternalErrorException)."""
        with self._backend.lock:
            return list(self._backend.internal_errors)

    def __repr__(self) -> str:
        where = self.endpoint_url if self.running else "stopped"
        return f"LoopbackCognitoServer({where})"
