"""The local Cognito's test API, server side: ``/_acognito/<route>`` (server process only).

Plain JSON over HTTP, usable from any language (docs/testing.md lists every route and
its keys). Each route declares its method and the keys it takes, in the body of a POST
or the query of a GET; an unknown key, a missing one or one of the wrong type is a 400
that names it, never silently ignored. A POST must say ``Content-Type:
application/json``: a cross-site web page cannot send that header without a CORS
preflight (which this API never grants), so no page can steer the server; the GETs stay
usable with plain curl.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ._local_state import Fault, LocalState, is_loopback, pool_user
from ._local_triggers import TRIGGERS

__all__ = ["Key", "Route", "TestApiError", "TestApiRoutes"]

_INBOX_FILTERS = ("pool_id", "username", "purpose")
_CUSTOM_AUTH = ("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse")

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class TestApiError(Exception):
    """An answer other than 200: ``status`` and a ``message`` (plus extra members)."""

    __test__ = False

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


@dataclass(frozen=True)
class Key:
    """One key a route takes: its JSON type(s) and whether it must be there."""

    types: tuple[type, ...]
    required: bool = False
    nullable: bool = False

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.nullable
        if isinstance(value, bool) and bool not in self.types:
            return False  # JSON true is no number
        return isinstance(value, self.types)


STR, NUM, BOOL, OBJ = (str,), (int, float), (bool,), (dict,)


def takes(types: tuple[type, ...], *, required: bool = False, nullable: bool = False) -> Key:
    return Key(types, required, nullable)


@dataclass(frozen=True)
class Route:
    """A route of the test API: its method, the keys it takes and its handler."""

    method: str
    handler: Handler
    keys: Mapping[str, Key] = field(default_factory=dict)


def loopback_url(url: str) -> str:
    """``url`` if it is ``http://`` on a loopback host; else a 400 (a trigger URL is
    where the server sends users' attributes and passwords: never off this machine)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not is_loopback(parts.hostname or ""):
        raise TestApiError(400, "a trigger URL must be http:// on a loopback host (127.0.0.1)")
    return url


def check(route: str, spec: Route, given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` checked against the route's keys; a 400 naming what is wrong."""
    where = "query" if spec.method == "GET" else "body"
    unknown = sorted(k for k in given if k not in spec.keys)
    if unknown:
        raise TestApiError(
            400,
            f"{spec.method} /_acognito/{route}: unknown key(s) in the {where}: "
            f"{', '.join(unknown)} (it takes: {', '.join(sorted(spec.keys)) or 'none'})",
            unknown=unknown,
        )
    missing = sorted(k for k, s in spec.keys.items() if s.required and given.get(k) is None)
    if missing:
        raise TestApiError(
            400,
            f"{spec.method} /_acognito/{route}: missing key(s): {', '.join(missing)}",
            missing=missing,
        )
    if spec.method == "POST":
        wrong = sorted(k for k, v in given.items() if not spec.keys[k].accepts(v))
        if wrong:
            raise TestApiError(
                400,
                f"{spec.method} /_acognito/{route}: wrong type for key(s): {', '.join(wrong)}",
                wrong=wrong,
            )
    return dict(given)


class TestApiRoutes:
    """The routes over the shared :class:`LocalState`; the OAuth2 domain and the
    triggers add theirs through :meth:`add`."""

    __test__ = False

    def __init__(self, state: LocalState) -> None:
        self.state = state
        self.routes: dict[str, dict[str, Route]] = {}
        s, text, flag = takes(STR), takes(STR, required=True), takes(BOOL)
        self.add("inbox", Route("GET", self._inbox, {"pool_id": s, "username": s, "purpose": s}))
        self.add("devices", Route("GET", self._devices, {"pool_id": s, "username": s}))
        self.add("refresh-token", Route("POST", self._refresh_status, {"token": text}))
        self.add("requests", Route("GET", self._requests, {"since": s}))
        self.add("requests", Route("POST", self._record, {"record": flag, "clear": flag}))
        self.add(
            "custom-auth",
            Route(
                "POST",
                self._custom_auth,
                {
                    "pool_id": takes(STR, required=True),
                    "answer": takes(STR, required=True),
                    "parameters": takes(OBJ, nullable=True),
                },
            ),
        )
        self.add(
            "custom-auth-triggers",
            Route(
                "POST",
                self._custom_auth_triggers,
                {"pool_id": takes(STR, required=True), "url": takes(STR, nullable=True)},
            ),
        )
        self.add(
            "triggers",
            Route(
                "POST",
                self._triggers,
                {
                    "pool_id": text,
                    "trigger": takes(STR, nullable=True),
                    "url": takes(STR, nullable=True),
                    "version": takes((str, int), nullable=True),
                },
            ),
        )
        self.add("shape-violations", Route("GET", self._shape_violations, {"since": s}))
        user = {"pool_id": takes(STR, required=True), "username": takes(STR, required=True)}
        self.add(
            "user-mfa",
            Route(
                "POST",
                self._user_mfa,
                {
                    **user,
                    "totp": takes(BOOL),
                    "sms": takes(BOOL),
                    "preferred": takes(STR, nullable=True),
                    "status": takes(STR),
                },
            ),
        )
        self.add("totp-secret", Route("GET", self._totp_secret, user))
        operation = {"operation": takes(STR, required=True)}
        self.add("hold", Route("POST", self._hold, operation))
        self.add("release", Route("POST", self._release, operation))
        self.add("internal-errors", Route("GET", self._internal_errors))
        self.add("clock", Route("POST", self._clock, {"advance": takes(NUM, required=True)}))

    def add(self, route: str, spec: Route) -> None:
        methods = self.routes.setdefault(route, {})
        if spec.method in methods:
            raise ValueError(f"two handlers for {spec.method} /_acognito/{route}")
        methods[spec.method] = spec

    # ------------------------------------------------------------ serving

    def serve(
        self, route: str, method: str, query: Mapping[str, str], ctype: str, raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Answer one request: (status, JSON body)."""
        try:
            return 200, self._serve(route, method, query, ctype, raw)
        except TestApiError as error:
            return error.status, {"message": error.message, **error.extra}
        except Fault as fault:
            return 400, {"message": fault.message, "code": fault.code}

    def _serve(
        self, route: str, method: str, query: Mapping[str, str], ctype: str, raw: bytes
    ) -> dict[str, Any]:
        methods = self.routes.get(route)
        if methods is None:
            raise TestApiError(404, f"no such test API: /_acognito/{route}")
        spec = methods.get(method)
        if spec is None:
            allowed = ", ".join(sorted(methods))
            raise TestApiError(405, f"/_acognito/{route} answers {allowed}, not {method}")
        if method == "GET":
            return spec.handler(check(route, spec, query))
        if ctype.split(";")[0].strip().lower() != "application/json":
            raise TestApiError(
                415, f"POST /_acognito/{route} needs the header Content-Type: application/json"
            )
        if query:
            raise TestApiError(400, f"POST /_acognito/{route} takes its keys in the JSON body")
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise TestApiError(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise TestApiError(400, "the body must be a JSON object")
        return spec.handler(check(route, spec, body))

    # ------------------------------------------------------------ routes

    def _inbox(self, q: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            codes = [
                asdict(c)
                for c in self.state.inbox
                if all(q.get(k) in (None, getattr(c, k)) for k in _INBOX_FILTERS)
            ]
        return {"codes": codes}

    def _devices(self, q: dict[str, Any]) -> dict[str, Any]:
        username = q.get("username")
        with self.state.lock:
            devices = [
                {k: v for k, v in asdict(d).items() if k not in ("salt_hex", "verifier")}
                for d in self.state.devices_of(str(q.get("pool_id") or "")).values()
                if username in (None, d.username)
            ]
        return {"devices": devices}

    def _refresh_status(self, b: dict[str, Any]) -> dict[str, Any]:
        """``active``, ``rotated``, ``revoked``, ``expired`` or ``unknown``."""
        token = b["token"]
        state = self.state
        for backend in state.backends():
            for pool in list(backend.user_pools.values()):
                if token in pool.refresh_tokens:
                    if pool.refresh_tokens[token] is None:
                        return {"status": "revoked"}
                    with state.lock:
                        info = state.refresh.get(token)
                    if info is not None and info.rotated_at is not None:
                        return {"status": "rotated"}
                    if info is not None and state.now() >= info.expires_at:
                        return {"status": "expired"}
                    return {"status": "active"}
        return {"status": "unknown"}

    def _requests(self, q: dict[str, Any]) -> dict[str, Any]:
        since = str(q.get("since") or "0")
        if not since.isdigit():
            raise TestApiError(400, "since must be a whole number")
        with self.state.lock:
            rows = self.state.requests[int(since) :]
            return {"requests": rows, "total": len(self.state.requests)}

    def _record(self, b: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            self.state.recording = bool(b.get("record"))
            if b.get("clear"):
                self.state.requests.clear()
        return {}

    def _custom_auth(self, b: dict[str, Any]) -> dict[str, Any]:
        parameters = {str(k): str(v) for k, v in dict(b.get("parameters") or {}).items()}
        with self.state.lock:
            self.state.custom_auth[b["pool_id"]] = (b["answer"], parameters)
        return {}

    def _custom_auth_triggers(self, b: dict[str, Any]) -> dict[str, Any]:
        """The three auth challenge triggers at one URL (or none)."""
        for name in _CUSTOM_AUTH:
            self._triggers({"pool_id": b["pool_id"], "trigger": name, "url": b.get("url")})
        return {}

    def _triggers(self, b: dict[str, Any]) -> dict[str, Any]:
        """One of the pool's Lambda triggers at a loopback URL (null: none; the pool then
        has only its registered ones), or, without ``trigger``, no registration at all
        (the server's own triggers serve the pool again)."""
        name, url, pool_id = b.get("trigger"), b.get("url"), b["pool_id"]
        if name is None:
            if url is not None or b.get("version") is not None:
                raise TestApiError(400, "url and version go with a trigger")
            with self.state.lock:
                self.state.trigger_urls.pop(pool_id, None)
                self.state.token_versions.pop(pool_id, None)
            return {}
        if name not in TRIGGERS:
            raise TestApiError(400, f"no trigger {name!r}: one of {', '.join(sorted(TRIGGERS))}")
        version = str(b.get("version") or "1").upper().removeprefix("V").split("_")[0]
        if version not in ("1", "2", "3") or (version != "1" and name != "PreTokenGeneration"):
            raise TestApiError(400, "version is for PreTokenGeneration: 1, 2 or 3 (V1_0 ...)")
        with self.state.lock:
            urls = self.state.trigger_urls.setdefault(pool_id, {})
            if url:
                urls[name] = loopback_url(url)
                if name == "PreTokenGeneration":
                    self.state.token_versions[pool_id] = version
            else:
                urls.pop(name, None)
        return {}

    def _shape_violations(self, q: dict[str, Any]) -> dict[str, Any]:
        since = str(q.get("since") or "0")
        if not since.isdigit():
            raise TestApiError(400, "since must be a whole number")
        with self.state.lock:
            found = self.state.shape_violations
            return {"violations": found[int(since) :], "total": len(found)}

    def _user(self, b: Mapping[str, Any]) -> Any:
        _, pool = self.state.pool(b["pool_id"])
        user = pool_user(pool, b["username"])
        if user is None:
            raise TestApiError(404, "no such user")
        return user

    def _user_mfa(self, b: dict[str, Any]) -> dict[str, Any]:
        user = self._user(b)
        state = self.state
        if "totp" in b:
            user.software_token_mfa_enabled = b["totp"]
            user.token_verified = b["totp"]
            with state.lock:  # on without an association: a secret of its own
                if b["totp"]:
                    state.totp.assign(user)
                else:
                    state.totp.forget(user)
        if "sms" in b:
            user.sms_mfa_enabled = b["sms"]
        if "preferred" in b:
            user.preferred_mfa_setting = str(b["preferred"] or "")
        if "status" in b:
            user.status = b["status"]
        return {}

    def _totp_secret(self, q: dict[str, Any]) -> dict[str, Any]:
        user = self._user(q)
        with self.state.lock:
            return {
                "secret": self.state.totp.confirmed(user),
                "pending": self.state.totp.pending(user),
            }

    def _hold(self, b: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            self.state.holds[b["operation"]] = threading.Event()
        return {}

    def _release(self, b: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            gate = self.state.holds.pop(b["operation"], None)
        if gate is not None:
            gate.set()
        return {}

    def _internal_errors(self, q: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            return {"errors": list(self.state.internal_errors)}

    def _clock(self, b: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            self.state.clock_offset += float(b["advance"])
            return {"offset": self.state.clock_offset}
