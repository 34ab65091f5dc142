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
import secrets
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

from moto.cognitoidp.models import CognitoIdpUserPool, CognitoIdpUserPoolClient

from ._local_oauth_http import (
    Answer,
    OAuthProblem,
    callback_origins,
    client_config,
    cors_headers,
    json_answer,
    login_page,
    named_client,
    origin_of,
    preflight,
    redirect,
    s256,
    text_answer,
    unique,
    with_query,
)
from ._local_refresh import Refresh
from ._local_state import Fault, LocalState, pool_user, same
from ._local_testapi import BOOL, NUM, STR, Route, takes
from ._local_tokens import Tokens

__all__ = ["OAUTH_PATHS", "OAuthDomain"]

OAUTH_PATHS = frozenset(
    {"/oauth2/token", "/oauth2/authorize", "/oauth2/revoke", "/oauth2/userInfo", "/logout"}
)
_CODE_SECONDS = 300
_BAD_TOKEN = "Access token is expired, disabled, or deleted, or the user has globally signed out."  # noqa: S105


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str | None
    scope: str
    username: str
    nonce: str | None
    expires_at: float


class OAuthDomain:
    """The OAuth2 endpoints and their test hooks, over the shared :class:`LocalState`."""

    def __init__(self, state: LocalState, tokens: Tokens, refresh: Refresh) -> None:
        self.state = state
        self.tokens = tokens
        self.refresh = refresh
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
                return text_answer(status, "Internal Server Error")
            return json_answer(
                status, {"error": error, "error_description": "injected by the test"}
            )
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
            return preflight(self.state, origin, environ)
        handler = routes.get((method, path))
        if handler is None:
            return text_answer(405, "Method Not Allowed")
        try:
            with self.state.lock:
                answer = handler(environ, body)
        except OAuthProblem as problem:
            answer = json_answer(
                problem.status, {"error": problem.error, "error_description": problem.description}
            )
        if origin and path == "/oauth2/token":
            # A browser app (Swagger UI, a SPA) exchanges its code here: it may read the
            # answer when it runs on the origin of one of the client's callback URLs.
            with self.state.lock:
                allowed = callback_origins(self.state, named_client(environ, body))
            if origin_of(origin) in allowed:
                status, headers, payload = answer
                answer = status, [*headers, *cors_headers(origin)], payload
        return answer

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _form(environ: dict[str, Any], body: bytes) -> dict[str, str]:
        ctype = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise OAuthProblem(400, "invalid_request", "Content-Type must be form-urlencoded")
        return unique(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

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

    def _user_tokens(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        username: str,
        scope: str,
        origin: str,
        nonce: str | None,
        source: str,
    ) -> dict[str, Any]:
        user = pool_user(pool, username)
        if user is None or not user.enabled:
            raise OAuthProblem(400, "invalid_grant", "User does not exist or is disabled.")
        minted = self.tokens.mint(
            pool, client.id, user, origin, None, source=source, scope=scope,
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
        if not client.generate_secret or "client_credentials" not in client_config(
            client, "AllowedOAuthFlows"
        ):
            raise OAuthProblem(400, "unauthorized_client", "client may not use this grant")
        defined = {
            f"{server.identifier}/{scope['ScopeName']}"
            for server in pool.resource_servers.values()
            for scope in server.scopes or []
        }
        allowed = set(client_config(client, "AllowedOAuthScopes")) & defined
        requested = form.get("scope")
        scopes = sorted(allowed) if requested is None else requested.split()
        if not scopes or not set(scopes) <= allowed:
            raise OAuthProblem(400, "invalid_scope", "scope not allowed for this client")
        token, life = self.tokens.machine(pool, client, scopes)
        return json_answer(200, {"access_token": token, "expires_in": life, "token_type": "Bearer"})

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
            verifier and same(s256(verifier), record.challenge)
        ):
            raise OAuthProblem(400, "invalid_grant", "code_verifier does not match")
        origin = str(uuid.uuid4())
        answer = self._user_tokens(
            pool, client, record.username, record.scope, origin, record.nonce, "HostedAuth"
        )
        user = pool_user(pool, record.username)
        assert user is not None  # checked by _user_tokens
        refresh = self.tokens.new_refresh(pool, client, user.username, origin, None)
        self.refresh_scopes[refresh] = record.scope
        answer["refresh_token"] = refresh
        return json_answer(200, answer)

    def _refresh_grant(
        self, pool: CognitoIdpUserPool, client: CognitoIdpUserPoolClient, form: dict[str, str]
    ) -> Answer:
        token = form.get("refresh_token")
        if not token:
            raise OAuthProblem(400, "invalid_request", "refresh_token is required")
        flows = client_config(client, "ExplicitAuthFlows")
        if flows and "ALLOW_REFRESH_TOKEN_AUTH" not in flows:
            raise OAuthProblem(400, "unauthorized_client", "client may not refresh")
        try:
            user, origin, info = self.refresh.refreshable(pool, client, token)
        except Fault:
            raise OAuthProblem(400, "invalid_grant", "Invalid Refresh Token") from None
        if info is not None and (info.rotated_at is not None or info.device_key is not None):
            raise OAuthProblem(400, "invalid_grant", "Invalid Refresh Token")
        scope = self.refresh_scopes.get(token, "openid aws.cognito.signin.user.admin")
        return json_answer(
            200,
            self._user_tokens(pool, client, user.username, scope, origin, None, "RefreshTokens"),
        )

    # ------------------------------------------------------------ /oauth2/authorize

    def _authorize(self, environ: dict[str, Any], body: bytes) -> Answer:
        query = unique(parse_qsl(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True))
        self.last_authorize = dict(query)
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        try:
            pool, client = self._client(client_id)
        except OAuthProblem:
            return text_answer(400, "invalid client_id")  # nowhere safe to send an error
        if redirect_uri not in client_config(client, "CallbackURLs"):
            return text_answer(400, "redirect_mismatch")
        state = query.get("state")

        def back(**params: str) -> Answer:
            if state is not None:
                params["state"] = state
            return redirect(with_query(redirect_uri, params))

        if query.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if "code" not in client_config(client, "AllowedOAuthFlows"):
            return back(error="unauthorized_client")
        challenge, method = query.get("code_challenge"), query.get("code_challenge_method")
        if challenge is None and not client.generate_secret:
            return back(error="invalid_request", error_description="code_challenge required")
        if challenge is not None and method != "S256":
            return back(error="invalid_request", error_description="method must be S256")
        allowed = client_config(client, "AllowedOAuthScopes")
        scope = query.get("scope") or " ".join(allowed)
        if not set(scope.split()) <= set(allowed):
            return back(error="invalid_scope")
        if client_id in self.approvals:
            username = self.approvals[client_id]
            if username is None:
                return back(error="access_denied", error_description="denied by the test")
        elif environ.get("REQUEST_METHOD") == "POST":
            form = unique(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            typed, password = form.get("username", ""), form.get("password", "")
            user = pool_user(pool, typed)
            stored = "" if user is None else str(user.password or "")
            ok = bool(stored) and same(stored, password)
            if user is None or not ok or not user.enabled:
                return login_page(query, "Incorrect username or password.")
            if user.status != "CONFIRMED":
                return login_page(query, f"User status {user.status} is not supported locally.")
            username = user.username
        else:
            return login_page(query, None)
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
            self.refresh.revoke(params)
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
        return json_answer(200, info)

    def _logout(self, environ: dict[str, Any], body: bytes) -> Answer:
        query = unique(parse_qsl(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True))
        try:
            _, client = self._client(query.get("client_id", ""))
        except OAuthProblem:
            return text_answer(400, "invalid client_id")
        if "logout_uri" in query:
            if query["logout_uri"] not in client_config(client, "LogoutURLs"):
                return text_answer(400, "logout_uri not allowed")
            return redirect(query["logout_uri"])
        if query.get("redirect_uri") in client_config(client, "CallbackURLs"):
            return redirect(f"/oauth2/authorize?{urlencode(query)}")
        return text_answer(400, "redirect_uri not allowed")

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
