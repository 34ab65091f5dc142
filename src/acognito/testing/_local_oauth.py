"""The local Cognito's OAuth2 domain: ``/oauth2/token``, ``/oauth2/authorize`` (a login
page), ``/oauth2/revoke``, ``/oauth2/userInfo`` and ``/logout`` (server process only).

The domain URL of every pool is the server's endpoint itself: the app client named in
a request picks the pool. Clients, their OAuth settings (AllowedOAuthFlows,
AllowedOAuthScopes, CallbackURLs, LogoutURLs) and resource servers are moto's own;
tokens are minted like the user-pool ones (moto's pool key), so they verify against the
pool's JWKS. Errors have the RFC 6749 shape. Test hooks (request counts, injected
failures and delays, non-interactive sign-in) are steered through the test API.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

from joserfc import jwt
from moto.cognitoidp.models import CognitoIdpUserPool, CognitoIdpUserPoolClient

from ._local_mfa import MfaOps
from ._local_state import Fault, LocalState, pool_user, same
from ._local_testapi import BOOL, NUM, STR, Route, takes

__all__ = ["OAUTH_PATHS", "OAuthDomain"]

OAUTH_PATHS = frozenset(
    {"/oauth2/token", "/oauth2/authorize", "/oauth2/revoke", "/oauth2/userInfo", "/logout"}
)
_CODE_SECONDS = 300
_BAD_TOKEN = "Access token is expired, disabled, or deleted, or the user has globally signed out."  # noqa: S105

Answer = tuple[int, list[tuple[str, str]], bytes]


class OAuthProblem(Exception):
    """An RFC 6749 error answer: ``{"error": ..., "error_description": ...}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(error)
        self.status, self.error, self.description = status, error, description


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str | None
    scope: str
    username: str
    nonce: str | None
    expires_at: float


#: Request headers a browser may send to ``/oauth2/token`` (beyond the CORS-safelisted).
_CORS_HEADERS = frozenset({"authorization", "content-type", "x-requested-with"})


def _origin(url: str) -> str:
    """The origin of ``url`` (scheme://host[:port], default ports left out), or ""."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def _cors_headers(origin: str) -> list[tuple[str, str]]:
    return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise OAuthProblem(400, "invalid_request", f"duplicate parameter {key}")
        out[key] = value
    return out


def _json(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> Answer:
    payload = json.dumps(body).encode()
    return status, [("Content-Type", "application/json;charset=UTF-8"), *(headers or [])], payload


def _text(status: int, text: str, ctype: str = "text/plain") -> Answer:
    return status, [("Content-Type", f"{ctype};charset=UTF-8")], text.encode()


def _redirect(location: str) -> Answer:
    return 302, [("Location", location)], b""


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


class OAuthDomain:
    """The OAuth2 endpoints and their test hooks, over the shared :class:`LocalState`."""

    def __init__(self, state: LocalState, ops: MfaOps) -> None:
        self.state = state
        self.ops = ops
        self.reset()

    def reset(self) -> None:
        """Forget codes, counts, injected failures and delays, and approvals."""
        with self.state.lock:
            self.codes: dict[str, _Code] = {}
            self.refresh_scopes: dict[str, str] = {}
            self.counts: Counter[str] = Counter()
            self.last_authorize: dict[str, str] = {}
            self.failures: dict[str, deque[tuple[int, str | None]]] = {}
            self.delays: dict[str, float] = {}
            #: client id -> the user signed in without the form, or None to deny
            self.approvals: dict[str, str | None] = {}

    # ------------------------------------------------------------ WSGI entry

    def serve(self, path: str, method: str, environ: dict[str, Any], body: bytes) -> Answer:
        """Answer one request to an OAuth2 path (after counts, delays and failures)."""
        with self.state.lock:
            self.counts[path] += 1
            delay = self.delays.get(path, 0.0)
            queue = self.failures.get(path)
            failure = queue.popleft() if queue else None
        if delay:
            time.sleep(delay)  # a worker thread of the server; the lock is not held
        if failure is not None:
            status, error = failure
            if error is None:
                return _text(status, "Internal Server Error")
            return _json(status, {"error": error, "error_description": "injected by the test"})
        routes: dict[tuple[str, str], Callable[[dict[str, Any], bytes], Answer]] = {
            ("POST", "/oauth2/token"): self._token,
            ("GET", "/oauth2/authorize"): self._authorize,
            ("POST", "/oauth2/authorize"): self._authorize,
            ("POST", "/oauth2/revoke"): self._revoke,
            ("GET", "/oauth2/userInfo"): self._user_info,
            ("POST", "/oauth2/userInfo"): self._user_info,
            ("GET", "/logout"): self._logout,
        }
        origin = str(environ.get("HTTP_ORIGIN") or "")
        if method == "OPTIONS" and path == "/oauth2/token":
            return self._preflight(origin, environ)
        handler = routes.get((method, path))
        if handler is None:
            return _text(405, "Method Not Allowed")
        try:
            with self.state.lock:
                answer = handler(environ, body)
        except OAuthProblem as problem:
            answer = _json(
                problem.status, {"error": problem.error, "error_description": problem.description}
            )
        if origin and path == "/oauth2/token":
            # A browser app (Swagger UI, a SPA) exchanges its code here: it may read the
            # answer when it runs on the origin of one of the client's callback URLs.
            with self.state.lock:
                allowed = self._callback_origins(self._named_client(environ, body))
            if _origin(origin) in allowed:
                status, headers, payload = answer
                answer = status, [*headers, *_cors_headers(origin)], payload
        return answer

    def _preflight(self, origin: str, environ: dict[str, Any]) -> Answer:
        """CORS preflight of ``/oauth2/token``: granted to the origins of registered
        callback URLs (the request names no client yet: any client's)."""
        asked = str(environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD") or "")
        wanted = [
            h.strip().lower()
            for h in str(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS") or "").split(",")
            if h.strip()
        ]
        with self.state.lock:
            allowed = self._callback_origins(None)
        if (
            not origin
            or _origin(origin) not in allowed
            or asked != "POST"
            or not set(wanted) <= _CORS_HEADERS
        ):
            return 403, [("Vary", "Origin")], b""
        headers = [
            *_cors_headers(origin),
            ("Access-Control-Allow-Methods", "POST"),
            ("Access-Control-Allow-Headers", ", ".join(sorted(_CORS_HEADERS))),
            ("Access-Control-Max-Age", "600"),
        ]
        return 204, headers, b""

    def _named_client(self, environ: dict[str, Any], body: bytes) -> str:
        """The client id a token request names (HTTP Basic or the form), unchecked."""
        scheme, _, value = str(environ.get("HTTP_AUTHORIZATION") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                raw = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeError):
                return ""
            return unquote_plus(raw.partition(":")[0])
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return next((v for k, v in pairs if k == "client_id"), "")

    def _callback_origins(self, client_id: str | None) -> set[str]:
        """Origins of the callback URLs of ``client_id`` (None: of every client)."""
        if client_id is not None:
            try:
                _, _, client = self.state.client(client_id)
            except Fault:
                return set()
            clients = [client]
        else:
            clients = [
                c
                for backend in self.state.backends()
                for pool in list(backend.user_pools.values())
                for c in list(pool.clients.values())
            ]
        return {_origin(url) for c in clients for url in self._config(c, "CallbackURLs")} - {""}

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _form(environ: dict[str, Any], body: bytes) -> dict[str, str]:
        ctype = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise OAuthProblem(400, "invalid_request", "Content-Type must be form-urlencoded")
        return _unique(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    def _client(self, client_id: str) -> tuple[CognitoIdpUserPool, CognitoIdpUserPoolClient]:
        try:
            _, pool, client = self.state.client(client_id)
        except Fault:
            raise OAuthProblem(400, "invalid_client", "Client authentication failed") from None
        return pool, client

    def _authenticate(
        self, environ: dict[str, Any], form: dict[str, str]
    ) -> tuple[CognitoIdpUserPool, CognitoIdpUserPoolClient]:
        """The client of a token or revoke request: HTTP Basic, or client_id (+ secret)."""
        header = str(environ.get("HTTP_AUTHORIZATION") or "")
        failed = OAuthProblem(400, "invalid_client", "Client authentication failed")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "basic":
                raise OAuthProblem(400, "invalid_client", "unsupported client authentication")
            try:
                raw = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeError):
                raise OAuthProblem(400, "invalid_client", "malformed Basic credentials") from None
            enc_id, sep, enc_secret = raw.partition(":")
            if not sep:
                raise OAuthProblem(400, "invalid_client", "malformed Basic credentials")
            client_id = unquote_plus(enc_id)
            secret: str | None = unquote_plus(enc_secret)
            if form.get("client_id", client_id) != client_id:
                raise OAuthProblem(400, "invalid_client", "client_id does not match")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret")
        pool, client = self._client(client_id)
        if client.generate_secret:
            if secret is None or not same(secret, client.secret):
                raise failed
        elif secret:
            raise failed
        return pool, client

    @staticmethod
    def _config(client: CognitoIdpUserPoolClient, key: str) -> list[str]:
        return [str(v) for v in client.extended_config.get(key) or []]

    def _user_tokens(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        username: str,
        scope: str,
        origin: str,
        nonce: str | None,
    ) -> dict[str, Any]:
        user = pool_user(pool, username)
        if user is None or not user.enabled:
            raise OAuthProblem(400, "invalid_grant", "User does not exist or is disabled.")
        minted = self.state.mint(
            pool, client.id, user, origin, None, scope=scope,
            with_id="openid" in scope.split(), nonce=nonce,
        )  # fmt: skip
        answer = {
            "access_token": minted["AccessToken"],
            "token_type": "Bearer",
            "expires_in": minted["ExpiresIn"],
        }
        if "IdToken" in minted:
            answer["id_token"] = minted["IdToken"]
        return answer

    # ------------------------------------------------------------ /oauth2/token

    def _token(self, environ: dict[str, Any], body: bytes) -> Answer:
        form = self._form(environ, body)
        pool, client = self._authenticate(environ, form)
        grant = form.get("grant_type", "")
        self.counts[f"token:{grant}"] += 1
        if grant == "client_credentials":
            return self._client_credentials(pool, client, form)
        if grant == "authorization_code":
            return self._code_grant(pool, client, form)
        if grant == "refresh_token":
            return self._refresh_grant(pool, client, form)
        raise OAuthProblem(400, "unsupported_grant_type", "unsupported grant_type")

    def _client_credentials(
        self, pool: CognitoIdpUserPool, client: CognitoIdpUserPoolClient, form: dict[str, str]
    ) -> Answer:
        if not client.generate_secret or "client_credentials" not in self._config(
            client, "AllowedOAuthFlows"
        ):
            raise OAuthProblem(400, "unauthorized_client", "client may not use this grant")
        defined = {
            f"{server.identifier}/{scope['ScopeName']}"
            for server in pool.resource_servers.values()
            for scope in server.scopes or []
        }
        allowed = set(self._config(client, "AllowedOAuthScopes")) & defined
        requested = form.get("scope")
        scopes = sorted(allowed) if requested is None else requested.split()
        if not scopes or not set(scopes) <= allowed:
            raise OAuthProblem(400, "invalid_scope", "scope not allowed for this client")
        now = int(self.state.now())
        life = self.state.validity(pool, client.id, "AccessToken")
        claims = {
            "sub": client.id,
            "token_use": "access",
            "scope": " ".join(scopes),
            "auth_time": now,
            "iss": f"https://cognito-idp.{pool.region}.amazonaws.com/{pool.id}",
            "exp": now + life,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client.id,
        }
        token = jwt.encode({"kid": "dummy", "alg": "RS256"}, claims, pool.json_web_key)
        return _json(200, {"access_token": token, "expires_in": life, "token_type": "Bearer"})

    def _code_grant(
        self, pool: CognitoIdpUserPool, client: CognitoIdpUserPoolClient, form: dict[str, str]
    ) -> Answer:
        code, redirect_uri = form.get("code"), form.get("redirect_uri")
        if not code or not redirect_uri:
            raise OAuthProblem(400, "invalid_request", "code and redirect_uri are required")
        record = self.codes.pop(code, None)  # single use, even when the exchange fails
        if record is None or record.expires_at < self.state.now():
            raise OAuthProblem(400, "invalid_grant", "Authorization code expired or invalid")
        if record.client_id != client.id or not same(record.redirect_uri, redirect_uri):
            raise OAuthProblem(400, "invalid_grant", "code was issued to another client or URI")
        verifier = form.get("code_verifier")
        if record.challenge is not None and not (
            verifier and same(_s256(verifier), record.challenge)
        ):
            raise OAuthProblem(400, "invalid_grant", "code_verifier does not match")
        origin = str(uuid.uuid4())
        answer = self._user_tokens(
            pool, client, record.username, record.scope, origin, record.nonce
        )
        user = pool_user(pool, record.username)
        assert user is not None  # checked by _user_tokens
        refresh = self.state.new_refresh(pool, client, user.username, origin, None)
        self.refresh_scopes[refresh] = record.scope
        answer["refresh_token"] = refresh
        return _json(200, answer)

    def _refresh_grant(
        self, pool: CognitoIdpUserPool, client: CognitoIdpUserPoolClient, form: dict[str, str]
    ) -> Answer:
        token = form.get("refresh_token")
        if not token:
            raise OAuthProblem(400, "invalid_request", "refresh_token is required")
        flows = self._config(client, "ExplicitAuthFlows")
        if flows and "ALLOW_REFRESH_TOKEN_AUTH" not in flows:
            raise OAuthProblem(400, "unauthorized_client", "client may not refresh")
        try:
            user, origin, info = self.ops.refreshable(pool, client, token)
        except Fault:
            raise OAuthProblem(400, "invalid_grant", "Invalid Refresh Token") from None
        if info is not None and (info.rotated_at is not None or info.device_key is not None):
            raise OAuthProblem(400, "invalid_grant", "Invalid Refresh Token")
        scope = self.refresh_scopes.get(token, "openid aws.cognito.signin.user.admin")
        return _json(200, self._user_tokens(pool, client, user.username, scope, origin, None))

    # ------------------------------------------------------------ /oauth2/authorize

    def _authorize(self, environ: dict[str, Any], body: bytes) -> Answer:
        query = _unique(parse_qsl(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True))
        self.last_authorize = dict(query)
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        try:
            pool, client = self._client(client_id)
        except OAuthProblem:
            return _text(400, "invalid client_id")  # nowhere safe to send an error
        if redirect_uri not in self._config(client, "CallbackURLs"):
            return _text(400, "redirect_mismatch")
        state = query.get("state")

        def back(**params: str) -> Answer:
            if state is not None:
                params["state"] = state
            return _redirect(_with_query(redirect_uri, params))

        if query.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if "code" not in self._config(client, "AllowedOAuthFlows"):
            return back(error="unauthorized_client")
        challenge, method = query.get("code_challenge"), query.get("code_challenge_method")
        if challenge is None and not client.generate_secret:
            return back(error="invalid_request", error_description="code_challenge required")
        if challenge is not None and method != "S256":
            return back(error="invalid_request", error_description="method must be S256")
        allowed = self._config(client, "AllowedOAuthScopes")
        scope = query.get("scope") or " ".join(allowed)
        if not set(scope.split()) <= set(allowed):
            return back(error="invalid_scope")
        if client_id in self.approvals:
            username = self.approvals[client_id]
            if username is None:
                return back(error="access_denied", error_description="denied by the test")
        elif environ.get("REQUEST_METHOD") == "POST":
            form = _unique(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            typed, password = form.get("username", ""), form.get("password", "")
            user = pool_user(pool, typed)
            stored = "" if user is None else str(user.password or "")
            ok = bool(stored) and same(stored, password)
            if user is None or not ok or not user.enabled:
                return _login_page(query, "Incorrect username or password.")
            if user.status != "CONFIRMED":
                return _login_page(query, f"User status {user.status} is not supported locally.")
            username = user.username
        else:
            return _login_page(query, None)
        code = secrets.token_urlsafe(32)
        self.codes[code] = _Code(
            client.id, redirect_uri, challenge, scope, username, query.get("nonce"),
            self.state.now() + _CODE_SECONDS,
        )  # fmt: skip
        return back(code=code)

    # ------------------------------------------------------------ revoke, userInfo, logout

    def _revoke(self, environ: dict[str, Any], body: bytes) -> Answer:
        form = self._form(environ, body)
        _, client = self._authenticate(environ, form)
        token = form.get("token")
        if not token:
            raise OAuthProblem(400, "invalid_request", "token is required")
        params = {"Token": token, "ClientId": client.id}
        if client.generate_secret:
            params["ClientSecret"] = client.secret
        try:
            self.ops.op_RevokeToken(params)
        except Fault as fault:
            if fault.code == "UnsupportedTokenTypeException":
                raise OAuthProblem(400, "unsupported_token_type", fault.message) from None
            raise OAuthProblem(400, "invalid_request", fault.message) from None
        self.refresh_scopes.pop(token, None)
        return 200, [], b""

    def _user_info(self, environ: dict[str, Any], body: bytes) -> Answer:
        scheme, _, token = str(environ.get("HTTP_AUTHORIZATION") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            challenge = (
                'error="invalid_request", '
                'error_description="Bad OAuth2 request at UserInfo Endpoint"'
            )
            return 400, [("WWW-Authenticate", challenge)], b""
        try:
            _, _, user, claims = self.state.access(token.strip())
        except Fault:
            claims = None
        if claims is None or "openid" not in str(claims.get("scope", "")).split():
            challenge = f'Bearer error="invalid_token", error_description="{_BAD_TOKEN}"'
            return 401, [("WWW-Authenticate", challenge)], b""
        info = {k: v for k, v in user.attribute_lookup.items() if isinstance(v, str)}
        info.update({"sub": user.id, "username": user.username})
        return _json(200, info)

    def _logout(self, environ: dict[str, Any], body: bytes) -> Answer:
        query = _unique(parse_qsl(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True))
        try:
            _, client = self._client(query.get("client_id", ""))
        except OAuthProblem:
            return _text(400, "invalid client_id")
        if "logout_uri" in query:
            if query["logout_uri"] not in self._config(client, "LogoutURLs"):
                return _text(400, "logout_uri not allowed")
            return _redirect(query["logout_uri"])
        if query.get("redirect_uri") in self._config(client, "CallbackURLs"):
            return _redirect(f"/oauth2/authorize?{urlencode(query)}")
        return _text(400, "redirect_uri not allowed")

    # ------------------------------------------------------------ test API

    def routes(self) -> dict[str, Route]:
        """Its test API routes, ``/_acognito/oauth/<route>``."""
        text, opt_text = takes(STR, required=True), takes(STR, nullable=True)
        number = takes(NUM, required=True)
        return {
            "stats": Route("GET", self._stats),
            "fail": Route(
                "POST",
                self._fail,
                {
                    "path": text,
                    "status": number,
                    "error": opt_text,
                    "times": takes(NUM),
                },
            ),
            "delay": Route("POST", self._delay, {"path": text, "seconds": number}),
            "approve": Route(
                "POST",
                self._approve,
                {"client_id": text, "username": opt_text, "interactive": takes(BOOL)},
            ),
            "client": Route(
                "POST",
                self._set_client,
                {"client_id": text, "secret": opt_text, "new_client_id": opt_text},
            ),
            "reset": Route("POST", self._reset_route),
        }

    def _stats(self, q: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            return {"counts": dict(self.counts), "last_authorize": dict(self.last_authorize)}

    def _fail(self, b: dict[str, Any]) -> dict[str, Any]:
        error = b.get("error")
        with self.state.lock:
            queue = self.failures.setdefault(b["path"], deque())
            for _ in range(int(b.get("times", 1))):
                queue.append((int(b["status"]), error))
        return {}

    def _delay(self, b: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            self.delays[b["path"]] = float(b["seconds"])
        return {}

    def _approve(self, b: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            if b.get("interactive"):
                self.approvals.pop(b["client_id"], None)
            else:
                self.approvals[b["client_id"]] = b.get("username")
        return {}

    def _set_client(self, b: dict[str, Any]) -> dict[str, Any]:
        """Cognito picks ids and secrets; odd ones test how clients encode them."""
        with self.state.lock:
            _, pool, client = self.state.client(b["client_id"])
            if b.get("secret") is not None:
                client.secret = b["secret"]
            new_id = b.get("new_client_id")
            if new_id is not None:
                del pool.clients[client.id]
                client.id = new_id
                pool.clients[client.id] = client
        return {}

    def _reset_route(self, b: dict[str, Any]) -> dict[str, Any]:
        self.reset()
        return {}


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in (local Cognito)</title></head>
<body><main><h1>Sign in</h1>{error}
<form method="post" action="/oauth2/authorize?{query}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" name="signInSubmitButton">Sign in</button>
</form><p>acognito.testing local Cognito: the managed login page, in miniature.</p>
</main></body></html>
"""


def _login_page(query: dict[str, str], error: str | None) -> Answer:
    shown = f'<p role="alert" id="error">{html.escape(error)}</p>' if error else ""
    page = _PAGE.format(error=shown, query=html.escape(urlencode(query)))
    status, headers, payload = _text(200, page, "text/html")
    return status, [*headers, ("Cache-Control", "no-store")], payload


def answer_wsgi(answer: Answer, start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Send an :data:`Answer` through WSGI's ``start_response``."""
    status, headers, payload = answer
    reason = {
        200: "OK",
        204: "No Content",
        302: "Found",
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
    }.get(status, "")
    start_response(f"{status} {reason}", [*headers, ("Content-Length", str(len(payload)))])
    return [payload]
