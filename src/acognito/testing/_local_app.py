"""The local Cognito's WSGI layer, in front of moto's application (server process only).

The handlers are composed here, each over the one :class:`LocalState`, and one dispatch
table maps every user-pool operation we answer (``X-Amz-Target:
AWSCognitoIdentityProviderService.<Op>``) to its handler, reading and writing moto's own
pools, clients and users in-process. Operations moto lacks answer at once with
UnsupportedOperationException ("... is not supported by the local Cognito"), never a
500 that botocore would retry; the rest goes to moto untouched. ``/oauth2/...`` is the
OAuth2 domain; ``/_acognito/...`` the test API. Only loopback ``Host`` names are served.
"""

from __future__ import annotations

import datetime
import io
import json
import sys
import traceback
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.utils import camelcase_to_underscores

from ._local_account import Account
from ._local_choice import Choice
from ._local_codes import Codes
from ._local_custom import Custom
from ._local_devices import Devices
from ._local_mfa import Mfa
from ._local_oauth import OAUTH_PATHS, OAuthDomain
from ._local_oauth_http import answer_wsgi
from ._local_password import PasswordSteps
from ._local_persist import StateStore
from ._local_refresh import Refresh
from ._local_shapes import SHAPE_VIOLATION, ShapeChecker
from ._local_signin import SignIn
from ._local_srp import Srp
from ._local_state import HEADERS, Fault, LocalState, is_loopback, unsupported
from ._local_testapi import TestApiRoutes
from ._local_tokens import Tokens
from ._local_triggers import DEFAULT_TIMEOUT, Callables, TriggerRunner
from ._local_webauthn import WebAuthn

__all__ = ["LocalCognitoApp", "compose"]

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
_JSON_11 = "application/x-amz-json-1.1"
_API = "/_acognito/"
_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
}

StartResponse = Callable[..., Any]
Op = Callable[[Mapping[str, Any]], dict[str, Any]]
T = TypeVar("T")


def one_table(*tables: Mapping[str, T]) -> dict[str, T]:
    """The tables as one; a name in two of them is a wiring bug (no overrides)."""
    merged: dict[str, T] = {}
    for table in tables:
        for name, entry in table.items():
            if name in merged:
                raise ValueError(f"{name} has two handlers")
            merged[name] = entry
    return merged


@dataclass
class Handlers:
    """The composed local Cognito: the dispatch table, the OAuth2 domain, the triggers."""

    operations: dict[str, Op]
    oauth: OAuthDomain
    triggers: TriggerRunner


def compose(
    state: LocalState,
    *,
    trigger_timeout: float = DEFAULT_TIMEOUT,
    callables: Callables | None = None,
    token_version: str = "1",  # noqa: S107 - an event version
) -> Handlers:
    """Every handler, each given what it uses; one table from operation to handler."""
    triggers = TriggerRunner(
        state, timeout=trigger_timeout, callables=callables, token_version=token_version
    )
    tokens = Tokens(state, triggers)
    codes = Codes(state, triggers)
    mfa = Mfa(state, codes, tokens)
    steps = PasswordSteps(state, mfa, tokens)
    srp = Srp(state, steps, tokens)
    refresh = Refresh(state, tokens)
    devices = Devices(state)
    account = Account(state, codes, triggers, mfa)
    webauthn = WebAuthn(state, tokens)
    custom = Custom(state, triggers, srp, tokens)
    choice = Choice(state, srp, steps, mfa, tokens, [webauthn])
    responders = one_table(
        mfa.responders(), custom.responders(), choice.responders(), webauthn.responders()
    )
    signin = SignIn(state, triggers, account, srp, steps, refresh, custom, choice, responders)
    operations = one_table(
        signin.operations(),
        refresh.operations(),
        devices.operations(),
        account.operations(),
        mfa.operations(),
        webauthn.operations(),
    )
    return Handlers(operations, OAuthDomain(state, tokens, refresh), triggers)


class LocalCognitoApp:
    """WSGI middleware: our handlers first, moto's application behind them."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        *,
        trigger_timeout: float = DEFAULT_TIMEOUT,
        callables: Callables | None = None,
        token_version: str = "1",  # noqa: S107 - an event version
        check_shapes: bool = False,
        state_dir: str | None = None,
    ) -> None:
        self.app = app
        self.state = LocalState()
        #: Where the state lives across restarts (``--state``), None: in memory only.
        self.store: StateStore | None = None
        if state_dir is not None:
            self.store = StateStore(state_dir, self.state)
            self.store.load()
            self.store.start()
        handlers = compose(
            self.state,
            trigger_timeout=trigger_timeout,
            callables=callables,
            token_version=token_version,
        )
        self.operations = handlers.operations
        self.oauth = handlers.oauth
        self.test_api = TestApiRoutes(self.state)
        for route, spec in self.oauth.routes().items():
            self.test_api.add(f"oauth/{route}", spec)
        self.checker = ShapeChecker() if check_shapes else None
        self._moto_has: dict[str, bool] = {}

    def handler(self, operation: str) -> Op | None:
        """Our handler for ``operation``; None when moto answers it."""
        found = self.operations.get(operation)
        if found is not None or not operation.isidentifier():
            return found
        has = self._moto_has.get(operation)
        if has is None:
            has = self._moto_has[operation] = hasattr(
                CognitoIdpResponse, camelcase_to_underscores(operation)
            )
        return None if has else _unsupported(operation)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        answer = self._serve(environ, start_response)
        if self.store is not None and environ.get("REQUEST_METHOD") != "GET":
            self.store.changed()
        return answer

    def _serve(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        host = str(environ.get("HTTP_HOST") or "")
        if host and not is_loopback(_hostname(host)):
            # DNS rebinding: a page whose name resolves to 127.0.0.1 sends its own name.
            message = f"Host {host!r} is not a loopback name: the local Cognito answers only those"
            return _json(start_response, 403, {"message": message}, "application/json")
        path = str(environ.get("PATH_INFO", ""))
        if environ.get("REQUEST_METHOD") == "POST" and path.startswith("/moto-api/"):
            ctype = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
            if ctype != "application/json":  # no cross-site page can reset the server
                message = "POST /moto-api/... needs the header Content-Type: application/json"
                return _json(start_response, 415, {"message": message}, "application/json")
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if target.startswith(TARGET_PREFIX):
            operation = target[len(TARGET_PREFIX) :]
            if self.state.recording or self.checker is not None:
                return self._watched(operation, environ, start_response)
            return self._operation(operation, environ, start_response)
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
        if self.store is not None:
            with self.state.lock:  # moto changes what the saver reads: not at once
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)

    def _watched(
        self, operation: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Serve one operation, then log it (recording on) and hold its answer against
        botocore's model (shape checks on): a violation is kept and answered as
        AcognitoShapeViolation, which no client expects."""
        raw = _read(environ)
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        captured: list[tuple[str, list[tuple[str, str]]]] = []
        written: list[bytes] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.append((status, headers))
            return written.append

        result = self._operation(operation, environ, capture)
        try:
            body = b"".join([*written, *result])
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status_line, headers = captured[-1] if captured else ("500 INTERNAL SERVER ERROR", [])
        status = int(status_line.split(" ", 1)[0])
        if self.state.recording:
            self._record(operation, raw, status, body)
        deliberate = self.operations.get(operation) is None and self.handler(operation) is not None
        if self.checker is not None and not deliberate:
            problems = self.checker.violations(operation, status, body)
            if problems:
                with self.state.lock:
                    self.state.shape_violations.extend(problems)
                return _json(start_response, 400, _error(SHAPE_VIOLATION, "; ".join(problems)))
        start_response(status_line, headers)
        return [body]

    def _record(self, operation: str, raw: bytes, status: int, body: bytes) -> None:
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

    def _answer(
        self, handler: Op, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        try:
            params = json.loads(_read(environ) or b"{}")
        except ValueError:
            params = None
        if not isinstance(params, dict):
            return _json(start_response, 400, _error("SerializationException", "Not a JSON object"))
        try:
            # One operation at a time: check-then-change steps (rotation, single-use
            # sessions) stay atomic; the SRP math holds the GIL anyway. A trigger lets
            # the lock go while it runs (_local_triggers).
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


def _unsupported(operation: str) -> Op:
    def refuse(params: Mapping[str, Any]) -> dict[str, Any]:
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
    head = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(payload))),
        ("x-amzn-RequestId", str(uuid.uuid4())),
        *(headers or {}).items(),
    ]
    if status >= 400 and "__type" in body:
        head.append(("x-amzn-ErrorType", f"{body['__type']}:"))
    start_response(f"{status} {_REASONS.get(status, '')}", head)
    return [payload]
