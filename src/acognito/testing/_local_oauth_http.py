"""HTTP pieces of the local Cognito's OAuth2 domain: answers, RFC 6749 problems, CORS on
``/oauth2/token`` and the login page (server process only).

CORS: a browser app (Swagger UI's Authorize, a single-page app) exchanges its code at
``/oauth2/token`` itself. The endpoint answers its preflight for the origins of the
callback URLs registered on the server (a preflight names no client yet) and adds
``Access-Control-Allow-Origin`` to an answer only for the origins of the callback URLs
of the client the request names.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

from moto.cognitoidp.models import CognitoIdpUserPoolClient

from ._local_state import Fault, LocalState

__all__ = [
    "Answer",
    "OAuthProblem",
    "answer_wsgi",
    "callback_origins",
    "client_config",
    "cors_headers",
    "json_answer",
    "login_page",
    "named_client",
    "origin_of",
    "preflight",
    "redirect",
    "s256",
    "text_answer",
    "unique",
    "with_query",
]

Answer = tuple[int, list[tuple[str, str]], bytes]


class OAuthProblem(Exception):
    """An RFC 6749 error answer: ``{"error": ..., "error_description": ...}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(error)
        self.status, self.error, self.description = status, error, description


#: Request headers a browser may send to ``/oauth2/token`` (beyond the CORS-safelisted).
CORS_HEADERS = frozenset({"authorization", "content-type", "x-requested-with"})


def origin_of(url: str) -> str:
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


def cors_headers(origin: str) -> list[tuple[str, str]]:
    return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise OAuthProblem(400, "invalid_request", f"duplicate parameter {key}")
        out[key] = value
    return out


def json_answer(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> Answer:
    payload = json.dumps(body).encode()
    return status, [("Content-Type", "application/json;charset=UTF-8"), *(headers or [])], payload


def text_answer(status: int, text: str, ctype: str = "text/plain") -> Answer:
    return status, [("Content-Type", f"{ctype};charset=UTF-8")], text.encode()


def redirect(location: str) -> Answer:
    return 302, [("Location", location)], b""


def with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


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


def login_page(query: dict[str, str], error: str | None) -> Answer:
    shown = f'<p role="alert" id="error">{html.escape(error)}</p>' if error else ""
    page = _PAGE.format(error=shown, query=html.escape(urlencode(query)))
    status, headers, payload = text_answer(200, page, "text/html")
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


def client_config(client: CognitoIdpUserPoolClient, key: str) -> list[str]:
    """A list setting of an app client (CallbackURLs, AllowedOAuthScopes ...)."""
    return [str(v) for v in client.extended_config.get(key) or []]


def preflight(state: LocalState, origin: str, environ: dict[str, Any]) -> Answer:
    """CORS preflight of ``/oauth2/token``: granted to the origins of registered
    callback URLs (the request names no client yet: any client's)."""
    asked = str(environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD") or "")
    wanted = [
        h.strip().lower()
        for h in str(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS") or "").split(",")
        if h.strip()
    ]
    with state.lock:
        allowed = callback_origins(state, None)
    if (
        not origin
        or origin_of(origin) not in allowed
        or asked != "POST"
        or not set(wanted) <= CORS_HEADERS
    ):
        return 403, [("Vary", "Origin")], b""
    headers = [
        *cors_headers(origin),
        ("Access-Control-Allow-Methods", "POST"),
        ("Access-Control-Allow-Headers", ", ".join(sorted(CORS_HEADERS))),
        ("Access-Control-Max-Age", "600"),
    ]
    return 204, headers, b""


def named_client(environ: dict[str, Any], body: bytes) -> str:
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


def callback_origins(state: LocalState, client_id: str | None) -> set[str]:
    """Origins of the callback URLs of ``client_id`` (None: of every client)."""
    if client_id is not None:
        try:
            _, _, client = state.client(client_id)
        except Fault:
            return set()
        clients = [client]
    else:
        clients = [
            c
            for backend in state.backends()
            for pool in list(backend.user_pools.values())
            for c in list(pool.clients.values())
        ]
    return {origin_of(url) for c in clients for url in client_config(c, "CallbackURLs")} - {""}
