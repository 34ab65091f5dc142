"""A loopback OAuth2 test server for a Cognito user-pool domain, and a bearer-checked test API.

``LoopbackOAuthServer`` is a real HTTP server on 127.0.0.1 (port 0) in a background
thread, so it serves asyncio tests, trio tests and blocking clients alike. It
implements the server side of the pool's OAuth2 domain honestly:

- ``POST /oauth2/token``: client_credentials (scopes checked against the client's
  allowed scopes), authorization_code (single-use codes bound to client_id,
  redirect_uri and the PKCE S256 challenge), refresh_token; HTTP Basic client
  authentication compared in constant time, public clients by ``client_id``.
- ``GET /oauth2/authorize``: auto-approves the configured test user and redirects with
  ``code`` and ``state``; checks client_id, redirect_uri, response_type=code, S256.
- ``POST /oauth2/revoke``, ``GET|POST /oauth2/userInfo`` (bearer token checked, errors in
  ``WWW-Authenticate`` as Cognito answers them), ``GET /logout``,
  ``GET /{pool_id}/.well-known/jwks.json``.

Tokens are real RS256 JWTs from :class:`acognito.testing.TokenIssuer`; client
credentials access tokens carry ``client_id``, ``scope``, ``token_use=access`` and no
``username``, as Cognito's do. ``counts`` counts requests per endpoint; ``delays`` and
:meth:`LoopbackOAuthServer.fail_next` inject slowness and failures.

``BearerTestApi`` is an ASGI test API that accepts only valid access tokens from that
server; :func:`serve_asgi` runs it with hypercorn on the running backend (asyncio or
trio) and :class:`ThreadedAsgiServer` in a thread for blocking clients.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

import anyio
import sniffio
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypercorn.config import Config

from acognito.testing import TokenIssuer
from asgi_helpers import read_body, serve_lifespan

__all__ = [
    "BearerTestApi",
    "LoopbackOAuthServer",
    "TestClientApp",
    "ThreadedAsgiServer",
    "serve_asgi",
]

_INVALID_TOKEN_TEXT = (
    "Access token is expired, disabled, or deleted, or the user has globally signed out."
)


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class TestClientApp:
    """An app client registered on the test server."""

    __test__ = False  # not a pytest test class

    client_id: str
    client_secret: str | None = None
    scopes: frozenset[str] = frozenset()
    grants: frozenset[str] = frozenset({"authorization_code", "refresh_token"})
    redirect_uris: frozenset[str] = frozenset()
    logout_uris: frozenset[str] = frozenset()


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str | None
    scope: str
    username: str
    nonce: str | None
    expires: float


@dataclass
class _Refresh:
    client_id: str
    username: str
    scope: str
    origin_jti: str
    revoked: bool = False


@dataclass
class _Failure:
    status: int
    error: str | None


@dataclass
class _State:
    clients: dict[str, TestClientApp] = field(default_factory=dict)
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    codes: dict[str, _Code] = field(default_factory=dict)
    refresh_tokens: dict[str, _Refresh] = field(default_factory=dict)
    revoked_origins: set[str] = field(default_factory=set)


class LoopbackOAuthServer:
    """The OAuth2 test server (see the module docstring). Use as a context manager."""

    def __init__(
        self,
        issuer: TokenIssuer | None = None,
        *,
        client_credentials_lifetime: int = 3600,
        user_token_lifetime: int = 3600,
        require_pkce: bool = True,
    ) -> None:
        self.issuer = issuer or TokenIssuer()
        self._public_key = self.issuer.private_key.public_key()
        self.client_credentials_lifetime = client_credentials_lifetime
        self.user_token_lifetime = user_token_lifetime
        self.require_pkce = require_pkce
        self.authorize_user: str | None = None
        #: seconds to wait before answering, per path (``/oauth2/token`` ...)
        self.delays: dict[str, float] = {}
        self.counts: Counter[str] = Counter()
        self.last_authorize_params: dict[str, str] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._state = _State()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # configuration ---------------------------------------------------------------

    def add_client(
        self,
        client_id: str | None = None,
        *,
        secret: bool | str = True,
        scopes: Iterable[str] = (),
        grants: Iterable[str] = ("authorization_code", "refresh_token"),
        redirect_uris: Iterable[str] = (),
        logout_uris: Iterable[str] = (),
    ) -> TestClientApp:
        """Register an app client (a confidential one unless ``secret=False``).

        ``secret`` may be the secret itself; ``True`` generates one.
        """
        if isinstance(secret, str):
            client_secret: str | None = secret
        else:
            client_secret = secrets.token_urlsafe(36) if secret else None
        client = TestClientApp(
            client_id=client_id or secrets.token_hex(13),
            client_secret=client_secret,
            scopes=frozenset(scopes),
            grants=frozenset(grants),
            redirect_uris=frozenset(redirect_uris),
            logout_uris=frozenset(logout_uris),
        )
        with self._lock:
            self._state.clients[client.client_id] = client
        return client

    def add_user(self, username: str, **attributes: str) -> None:
        """Register a user; :attr:`authorize_user` picks who ``/oauth2/authorize`` signs in."""
        with self._lock:
            self._state.users[username] = dict(attributes)

    def fail_next(self, path: str, status: int, error: str | None = None, times: int = 1) -> None:
        """Answer the next ``times`` requests to ``path`` with ``status``.

        With ``error`` the body is Cognito's JSON error; without, a non-JSON text body.
        """
        with self._lock:
            queue = self._failures.setdefault(path, deque())
            for _ in range(times):
                queue.append(_Failure(status, error))

    def revoke_all(self) -> None:
        """Revoke every refresh token issued so far (as an admin global sign-out would)."""
        with self._lock:
            for record in self._state.refresh_tokens.values():
                record.revoked = True
                self._state.revoked_origins.add(record.origin_jti)

    # lifecycle -------------------------------------------------------------------

    def start(self) -> LoopbackOAuthServer:
        server = self

        class Handler(_Handler):
            oauth = server

        httpd = _QuietThreadingServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LoopbackOAuthServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The domain URL (what a real pool calls its domain)."""
        assert self._httpd is not None, "test server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def jwks_path(self) -> str:
        return f"/{self.issuer.user_pool_id}/.well-known/jwks.json"

    # token checks (shared with the test API) ------------------------------------

    def verify_access_token(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid, unrevoked access token from this server, else None."""
        try:
            head_b64, body_b64, sig_b64 = token.split(".")
            header = json.loads(_b64url_decode(head_b64))
            if header.get("alg") != "RS256" or header.get("kid") != self.issuer.kid:
                return None
            self._public_key.verify(
                _b64url_decode(sig_b64),
                f"{head_b64}.{body_b64}".encode("ascii"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
            claims = json.loads(_b64url_decode(body_b64))
        except (ValueError, InvalidSignature, UnicodeError):
            return None
        if not isinstance(claims, dict):
            return None
        if claims.get("token_use") != "access" or claims.get("iss") != self.issuer.issuer:
            return None
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= time.time():
            return None
        with self._lock:
            if claims.get("origin_jti") in self._state.revoked_origins:
                return None
        return claims

    # request handling (called from the handler threads) -------------------------

    def _take_failure(self, path: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(path)
            return queue.popleft() if queue else None

    def _client_credentials_token(self, client: TestClientApp, scope: str) -> str:
        now = int(time.time())
        claims = {
            "sub": client.client_id,
            "token_use": "access",
            "scope": scope,
            "auth_time": now,
            "iss": self.issuer.issuer,
            "exp": now + self.client_credentials_lifetime,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client.client_id,
        }
        return self.issuer.sign(claims)

    def _user_tokens(
        self, client_id: str, username: str, scope: str, origin: str, nonce: str | None
    ) -> dict[str, Any]:
        lifetime = self.user_token_lifetime
        with self._lock:
            attributes = dict(self._state.users.get(username, {}))
        answer: dict[str, Any] = {
            "access_token": self.issuer.access_token(
                client_id=client_id,
                username=username,
                scope=scope,
                lifetime=lifetime,
                origin_jti=origin,
            ),
            "token_type": "Bearer",
            "expires_in": lifetime,
        }
        if "openid" in scope.split():
            extra: dict[str, Any] = {"origin_jti": origin, **attributes}
            if nonce is not None:
                extra["nonce"] = nonce
            answer["id_token"] = self.issuer.id_token(
                client_id=client_id, username=username, lifetime=lifetime, **extra
            )
        return answer


class _QuietThreadingServer(ThreadingHTTPServer):
    """Does not print tracebacks for clients that hung up (timeouts, cancelled tasks)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _OAuthProblem(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(error)
        self.status, self.error, self.description = status, error, description


class _Handler(BaseHTTPRequestHandler):
    oauth: LoopbackOAuthServer
    protocol_version = "HTTP/1.1"
    server_version = "LoopbackOAuthTestServer/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # plumbing ----------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json;charset=UTF-8", headers)

    def _redirect(self, location: str) -> None:
        self._send(302, headers={"Location": location})

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise _OAuthProblem(400, "invalid_request", "Content-Type must be form-urlencoded")
        return self._unique(parse_qsl(raw, keep_blank_values=True))

    @staticmethod
    def _unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in pairs:
            if key in out:
                raise _OAuthProblem(400, "invalid_request", f"duplicate parameter {key}")
            out[key] = value
        return out

    def _route(self, method: str) -> None:
        path = urlsplit(self.path).path
        oauth = self.oauth
        with oauth._lock:
            oauth.counts[path] += 1
        delay = oauth.delays.get(path, 0.0)
        if delay:
            time.sleep(delay)
        failure = oauth._take_failure(path)
        if failure is not None:
            if method == "POST":
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if failure.error is None:
                self._send(failure.status, b"Internal Server Error", "text/plain")
            else:
                body = {"error": failure.error, "error_description": "injected by the test"}
                self._json(failure.status, body)
            return
        routes = {
            ("POST", "/oauth2/token"): self._token,
            ("GET", "/oauth2/authorize"): self._authorize,
            ("POST", "/oauth2/revoke"): self._revoke,
            ("GET", "/oauth2/userInfo"): self._userinfo,
            ("POST", "/oauth2/userInfo"): self._userinfo,
            ("GET", "/logout"): self._logout,
            ("GET", oauth.jwks_path): self._jwks,
        }
        handler = routes.get((method, path))
        if handler is None:
            if method == "POST":
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._send(404, b"Not Found", "text/plain")
            return
        try:
            handler()
        except _OAuthProblem as problem:
            body = {"error": problem.error, "error_description": problem.description}
            self._json(problem.status, body)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    # client authentication ----------------------------------------------------------

    def _authenticate(self, form: dict[str, str]) -> TestClientApp:
        state = self.oauth._state
        header = self.headers.get("Authorization")
        if header is not None:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "basic":
                raise _OAuthProblem(400, "invalid_client", "unsupported client authentication")
            try:
                raw = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeError):
                raise _OAuthProblem(400, "invalid_client", "malformed Basic credentials")
            enc_id, sep, enc_secret = raw.partition(":")
            if not sep:
                raise _OAuthProblem(400, "invalid_client", "malformed Basic credentials")
            client_id, secret = unquote_plus(enc_id), unquote_plus(enc_secret)
            with self.oauth._lock:
                client = state.clients.get(client_id)
            expected = client.client_secret if client and client.client_secret else "\0" * 48
            matches = hmac.compare_digest(secret.encode(), expected.encode())
            if client is None or client.client_secret is None or not matches:
                raise _OAuthProblem(400, "invalid_client", "Client authentication failed")
            if "client_id" in form and form["client_id"] != client_id:
                raise _OAuthProblem(400, "invalid_client", "client_id does not match")
            return client
        client_id = form.get("client_id", "")
        with self.oauth._lock:
            client = state.clients.get(client_id)
        if client is None:
            raise _OAuthProblem(400, "invalid_client", "Client authentication failed")
        if client.client_secret is not None:
            raise _OAuthProblem(400, "invalid_client", "client secret required")
        return client

    # endpoints ------------------------------------------------------------------------

    def _token(self) -> None:
        form = self._form()
        client = self._authenticate(form)
        grant = form.get("grant_type")
        with self.oauth._lock:
            self.oauth.counts[f"token:{grant}"] += 1
        if grant == "client_credentials":
            self._grant_client_credentials(client, form)
        elif grant == "authorization_code":
            self._grant_code(client, form)
        elif grant == "refresh_token":
            self._grant_refresh(client, form)
        else:
            raise _OAuthProblem(400, "unsupported_grant_type", "unsupported grant_type")

    def _grant_client_credentials(self, client: TestClientApp, form: dict[str, str]) -> None:
        if client.client_secret is None or "client_credentials" not in client.grants:
            raise _OAuthProblem(400, "unauthorized_client", "client may not use this grant")
        requested = form.get("scope")
        if requested is None:
            scopes = sorted(client.scopes)
        else:
            scopes = requested.split()
            if not scopes or not set(scopes) <= client.scopes:
                raise _OAuthProblem(400, "invalid_scope", "scope not allowed for this client")
        token = self.oauth._client_credentials_token(client, " ".join(scopes))
        self._json(
            200,
            {
                "access_token": token,
                "expires_in": self.oauth.client_credentials_lifetime,
                "token_type": "Bearer",
            },
        )

    def _grant_code(self, client: TestClientApp, form: dict[str, str]) -> None:
        code, redirect_uri = form.get("code"), form.get("redirect_uri")
        if not code or not redirect_uri:
            raise _OAuthProblem(400, "invalid_request", "code and redirect_uri are required")
        with self.oauth._lock:
            record = self.oauth._state.codes.pop(code, None)  # single use, even on failure
        if record is None or record.expires < time.monotonic():
            raise _OAuthProblem(400, "invalid_grant", "Authorization code expired or invalid")
        if record.client_id != client.client_id or record.redirect_uri != redirect_uri:
            raise _OAuthProblem(400, "invalid_grant", "code was issued to another client or URI")
        verifier = form.get("code_verifier")
        if record.challenge is not None and not (
            verifier and hmac.compare_digest(_s256(verifier), record.challenge)
        ):
            raise _OAuthProblem(400, "invalid_grant", "code_verifier does not match")
        origin = str(uuid.uuid4())
        answer = self.oauth._user_tokens(
            client.client_id, record.username, record.scope, origin, record.nonce
        )
        refresh = secrets.token_urlsafe(64)
        with self.oauth._lock:
            self.oauth._state.refresh_tokens[refresh] = _Refresh(
                client.client_id, record.username, record.scope, origin
            )
        answer["refresh_token"] = refresh
        self._json(200, answer)

    def _grant_refresh(self, client: TestClientApp, form: dict[str, str]) -> None:
        token = form.get("refresh_token")
        if not token:
            raise _OAuthProblem(400, "invalid_request", "refresh_token is required")
        if "refresh_token" not in client.grants:
            raise _OAuthProblem(400, "unauthorized_client", "client may not refresh")
        with self.oauth._lock:
            record = self.oauth._state.refresh_tokens.get(token)
        if record is None or record.revoked or record.client_id != client.client_id:
            raise _OAuthProblem(400, "invalid_grant", "Invalid Refresh Token")
        answer = self.oauth._user_tokens(
            client.client_id, record.username, record.scope, record.origin_jti, None
        )
        self._json(200, answer)

    def _authorize(self) -> None:
        query = self._unique(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        oauth = self.oauth
        oauth.last_authorize_params = dict(query)
        with oauth._lock:
            client = oauth._state.clients.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        # Without a known client and a registered redirect URI there is nowhere safe to
        # send an error: answer it here (Cognito shows an error page).
        if client is None:
            self._send(400, b"invalid client_id", "text/plain")
            return
        if redirect_uri not in client.redirect_uris:
            self._send(400, b"redirect_mismatch", "text/plain")
            return
        state = query.get("state")

        def back(**params: str) -> None:
            if state is not None:
                params["state"] = state
            sep = "&" if "?" in redirect_uri else "?"
            self._redirect(redirect_uri + sep + urlencode(params))

        if query.get("response_type") != "code":
            back(error="unsupported_response_type")
            return
        challenge = query.get("code_challenge")
        method = query.get("code_challenge_method")
        if challenge is None and oauth.require_pkce:
            back(error="invalid_request", error_description="code_challenge required")
            return
        if challenge is not None and method != "S256":
            back(error="invalid_request", error_description="code_challenge_method must be S256")
            return
        scope = query.get("scope", "openid")
        if not set(scope.split()) <= client.scopes:
            back(error="invalid_scope")
            return
        username = oauth.authorize_user
        if username is None:
            back(error="access_denied", error_description="no test user signs in")
            return
        code = secrets.token_urlsafe(32)
        with oauth._lock:
            oauth._state.codes[code] = _Code(
                client.client_id,
                redirect_uri,
                challenge,
                scope,
                username,
                query.get("nonce"),
                time.monotonic() + 300,
            )
        back(code=code)

    def _revoke(self) -> None:
        form = self._form()
        client = self._authenticate(form)
        token = form.get("token")
        if not token:
            raise _OAuthProblem(400, "invalid_request", "token is required")
        if token.count(".") == 2:
            raise _OAuthProblem(400, "unsupported_token_type", "only refresh tokens are revoked")
        with self.oauth._lock:
            record = self.oauth._state.refresh_tokens.get(token)
            if record is not None:
                if record.client_id != client.client_id:
                    raise _OAuthProblem(400, "invalid_request", "token of another client")
                record.revoked = True
                self.oauth._state.revoked_origins.add(record.origin_jti)
        self._send(200)  # RFC 7009: unknown tokens are answered 200 too

    def _userinfo(self) -> None:
        if self.command == "POST":
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            self._send(
                400,
                headers={
                    "WWW-Authenticate": 'error="invalid_request", '
                    'error_description="Bad OAuth2 request at UserInfo Endpoint"'
                },
            )
            return
        claims = self.oauth.verify_access_token(token.strip())
        if claims is None or "openid" not in str(claims.get("scope", "")).split():
            self._send(
                401,
                headers={
                    "WWW-Authenticate": f'Bearer error="invalid_token", '
                    f'error_description="{_INVALID_TOKEN_TEXT}"'
                },
            )
            return
        username = claims.get("username", "")
        with self.oauth._lock:
            attributes = dict(self.oauth._state.users.get(username, {}))
        self._json(200, {"sub": claims["sub"], "username": username, **attributes})

    def _logout(self) -> None:
        query = self._unique(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        with self.oauth._lock:
            client = self.oauth._state.clients.get(query.get("client_id", ""))
        if client is None:
            self._send(400, b"invalid client_id", "text/plain")
            return
        if "logout_uri" in query:
            if query["logout_uri"] not in client.logout_uris:
                self._send(400, b"logout_uri not allowed", "text/plain")
                return
            self._redirect(query["logout_uri"])
            return
        if query.get("redirect_uri") in client.redirect_uris:
            self._redirect(f"/oauth2/authorize?{urlencode(query)}")
            return
        self._send(400, b"redirect_uri not allowed", "text/plain")

    def _jwks(self) -> None:
        self._json(200, self.oauth.issuer.jwks())


# --------------------------------------------------------------------------- test API


class BearerTestApi:
    """An ASGI test API that answers 200 only to a valid access token from ``oauth``.

    Counts ``requests`` and ``rejected``; ``reject_all`` makes it answer 401 to
    everything (a token the API distrusts), ``reject_next`` to the next N requests.
    Echoes the claims and the request body.
    """

    def __init__(self, oauth: LoopbackOAuthServer) -> None:
        self.oauth = oauth
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
            claims = self.oauth.verify_access_token(token)
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
