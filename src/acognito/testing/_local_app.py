"""The local Cognito's WSGI layer, in front of moto's application (server process only).

Requests for the user-pool operations we extend (``X-Amz-Target:
AWSCognitoIdentityProviderService.<Op>``) are answered here, reading and writing moto's
own pools, clients and users in-process; operations moto lacks answer at once with
UnsupportedOperationException ("... is not supported by the local Cognito"), never a
500 that botocore would retry; the rest goes to moto untouched. ``/_acognito/...`` is a
small JSON test API over HTTP: the code inbox, devices, refresh tokens, TOTP secrets,
the clock.
"""

from __future__ import annotations

import datetime
import io
import json
import sys
import traceback
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.utils import camelcase_to_underscores

from ._local_oauth import OAUTH_PATHS, OAuthDomain, answer_wsgi
from ._local_state import HEADERS, Fault, LocalState, is_loopback, unsupported
from ._local_testapi import TestApiRoutes
from ._local_webauthn import WebAuthnOps

__all__ = ["LocalCognitoApp"]

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
_JSON_11 = "application/x-amz-json-1.1"
_API = "/_acognito/"

StartResponse = Callable[..., Any]


class LocalCognitoApp:
    """WSGI middleware: our extensions first, moto's application behind them."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.state = LocalState()
        self.ops = WebAuthnOps(self.state)
        self.oauth = OAuthDomain(self.state, self.ops)
        self.test_api = TestApiRoutes(self.state)
        for route, spec in self.oauth.routes().items():
            self.test_api.add(f"oauth/{route}", spec)
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]] | None] = {}

    def handler(self, operation: str) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
        """Our handler for ``operation``; None when moto answers it (cached per name)."""
        try:
            return self._handlers[operation]
        except KeyError:
            pass
        found: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        if operation.isidentifier():
            found = getattr(self.ops, f"op_{operation}", None)
            if found is None and not hasattr(
                CognitoIdpResponse, camelcase_to_underscores(operation)
            ):
                found = _unsupported(operation)
        self._handlers[operation] = found
        return found

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        host = str(environ.get("HTTP_HOST") or "")
        if host and not is_loopback(_hostname(host)):
            # DNS rebinding: a page whose name resolves to 127.0.0.1 sends its own name.
            message = f"Host {host!r} is not a loopback name: the local Cognito answers only those"
            return _json(start_response, 403, {"message": message}, "application/json")
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").startswith(
            "/moto-api/"
        ):
            ctype = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
            if ctype != "application/json":  # no cross-site page can reset the server
                message = "POST /moto-api/... needs the header Content-Type: application/json"
                return _json(start_response, 415, {"message": message}, "application/json")
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(TARGET_PREFIX):
            operation = target[len(TARGET_PREFIX) :]
            if self.state.recording:
                return self._recorded(operation, environ, start_response)
            return self._operation(operation, environ, start_response)
        path = environ.get("PATH_INFO", "")
        if path in OAUTH_PATHS:
            method = str(environ.get("REQUEST_METHOD", "GET"))
            answer = self.oauth.serve(path, method, environ, _read(environ))
            return answer_wsgi(answer, start_response)
        if path.startswith(_API):
            return self._test_api(path[len(_API) :], environ, start_response)
        if path == "/moto-api/reset":
            self.state.reset()
            self.oauth.reset()
        if path.endswith("/.well-known/jwks.json"):
            try:
                self.state.pool(path.strip("/").split("/")[0])
            except Fault:
                return _json(
                    start_response, 404, {"message": "no such user pool"}, "application/json"
                )
        return self.app(environ, start_response)

    # ------------------------------------------------------------ the user-pool API

    def _operation(
        self, operation: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        if self.state.holds:
            gate = self.state.holds.get(operation)
            if gate is not None:
                gate.wait(self.state.HOLD_SECONDS)  # bounded: a test that forgets releases
        handler = self.handler(operation)
        if handler is not None:
            return self._answer(handler, environ, start_response)
        return self.app(environ, start_response)

    def _recorded(
        self, operation: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Serve one operation and log it (operation, parameters, status, error code)."""
        raw = _read(environ)
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        statuses: list[int] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info)

        result = self._operation(operation, environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status = statuses[-1] if statuses else 500
        code = None
        try:
            params = json.loads(raw or b"{}")
            if status >= 400:
                code = str(json.loads(body).get("__type", "")).split("#")[-1] or None
        except (ValueError, AttributeError):
            params = {}
        with self.state.lock:
            self.state.requests.append(
                {"operation": operation, "status": status, "error_code": code, "params": params}
            )
        return [body]

    def _answer(
        self,
        handler: Callable[[dict[str, Any]], dict[str, Any]],
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        try:
            params = json.loads(_read(environ) or b"{}")
        except ValueError:
            params = None
        if not isinstance(params, dict):
            return _json(start_response, 400, _error("SerializationException", "Not a JSON object"))
        try:
            # One operation at a time: check-then-change steps (rotation, single-use
            # sessions) stay atomic; the SRP math holds the GIL anyway.
            with self.state.lock:
                body = handler(params)
            extra = body.pop(HEADERS, None) or {}
        except Fault as fault:
            return _json(start_response, 400, _error(fault.code, fault.message))
        except Exception:  # a bug here: a 400 (no retries), its trace kept and on stderr
            trace = traceback.format_exc()
            sys.stderr.write(trace)
            with self.state.lock:
                self.state.internal_errors.append(trace)
            return _json(
                start_response, 400, _error("InternalErrorException", "local Cognito error")
            )
        return _json(start_response, 200, body, headers=extra)

    # ------------------------------------------------------------ the test API

    def _test_api(
        self, route: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        method = str(environ.get("REQUEST_METHOD", "GET"))
        ctype = str(environ.get("CONTENT_TYPE") or "")
        raw = _read(environ) if method == "POST" else b""
        status, body = self.test_api.serve(route, method, query, ctype, raw)
        return _json(start_response, status, body, "application/json")


def _unsupported(operation: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def refuse(params: dict[str, Any]) -> dict[str, Any]:
        raise unsupported(operation)

    return refuse


def _hostname(host: str) -> str:
    """The name in a Host header, without its port (``[::1]:80`` -> ``[::1]``)."""
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _read(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    data: bytes = stream.read()
    return data


def _json_default(value: Any) -> Any:
    """Dates as epoch seconds, as the AWS JSON protocol sends them."""
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _error(code: str, message: str) -> dict[str, Any]:
    return {"__type": code, "message": message}


def _json(
    start_response: StartResponse,
    status: int,
    body: dict[str, Any],
    content_type: str = _JSON_11,
    headers: dict[str, str] | None = None,
) -> list[bytes]:
    payload = json.dumps(body, default=_json_default).encode()
    reason = {
        200: "OK",
        400: "Bad Request",
        403: "Forbidden",
        404: "Not Found",
        405: "Method Not Allowed",
        415: "Unsupported Media Type",
    }.get(status, "")
    head = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(payload))),
        ("x-amzn-RequestId", str(uuid.uuid4())),
        *(headers or {}).items(),
    ]
    if status >= 400 and "__type" in body:
        head.append(("x-amzn-ErrorType", f"{body['__type']}:"))
    start_response(f"{status} {reason}", head)
    return [payload]
