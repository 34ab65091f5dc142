"""Starlette and FastAPI (any ASGI app): server-side sign-in as one middleware.

::

    signin = ServerSignIn(POOL_ID, CLIENT_ID, domain=DOMAIN,
                          app_url="https://app.example.com",
                          secret=os.environ["SESSION_SECRET"])
    app = Starlette(routes=..., middleware=[Middleware(SignInMiddleware, signin=signin)])

The middleware answers ``/login``, the callback and ``/logout`` itself, and sets
``request.user`` (a :class:`SignedInUser`, or Starlette's ``UnauthenticatedUser``) and
``request.auth.scopes`` (``authenticated``, the token's scopes, ``group:<name>``) for
every other request, as Starlette's ``AuthenticationMiddleware`` would: a bearer token
is judged by the token, otherwise the session cookie. :func:`login_required` sends an
anonymous browser to sign in; :func:`visit_of` gives the session (its CSRF token, its
tokens). Requires the ``starlette`` extra (``fastapi`` for FastAPI).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl

try:
    from starlette.authentication import AuthCredentials, UnauthenticatedUser
    from starlette.requests import HTTPConnection
    from starlette.responses import Response
except ImportError as exc:
    raise ImportError(
        "acognito.integrations.signin.starlette needs Starlette: pip install 'acognito[starlette]'"
    ) from exc

from ...errors import ConfigurationError
from ..starlette import CognitoUser, auth_scopes
from ._core import ServerSignIn, Visit, WebSession, WebUser
from ._http import SAFE_METHODS, WebAnswer, WebRequest, page

__all__ = [
    "ServerSignIn",
    "SignInMiddleware",
    "SignedInUser",
    "csrf_token",
    "login_required",
    "response_for",
    "visit_of",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_F = TypeVar("_F", bound=Callable[..., Any])
_VISIT = "acognito.visit"
_SIGNIN = "acognito.signin"
_FORM_TYPE = "application/x-www-form-urlencoded"


class SignedInUser(CognitoUser):
    """``request.user`` of a signed-in request: :attr:`claims` (the access token's),
    :attr:`id_claims` (the session's id token's; None for a bearer token), :attr:`via`
    (``"session"`` or ``"bearer"``) and :attr:`email`."""

    def __init__(self, user: WebUser) -> None:
        super().__init__(user.claims)
        self.web = user

    @property
    def id_claims(self) -> Any:
        return self.web.id_claims

    @property
    def via(self) -> str:
        return self.web.via

    @property
    def email(self) -> str | None:
        return self.web.email

    def __repr__(self) -> str:
        return f"SignedInUser(sub={self.claims.sub!r}, via={self.via!r})"


def _request(scope: Scope, form: dict[str, str] | None = None) -> WebRequest:
    headers: dict[str, str] = {}
    forwarded: list[str] = []
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name == "x-forwarded-for":
            forwarded.append(value)
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    if "cookie" in headers:  # browsers send one Cookie header; HTTP/2 may split it
        headers["cookie"] = headers["cookie"].replace(", ", "; ")
    client = scope.get("client")
    return WebRequest(
        method=str(scope.get("method", "GET")).upper(),
        path=str(scope.get("path", "/")),
        query_string=bytes(scope.get("query_string", b"")).decode("latin-1"),
        headers=headers,
        peer=client[0] if client else None,
        forwarded_for=tuple(forwarded),
        form=form,
    )


def _raw_headers(
    answer: WebAnswer, extra: Sequence[tuple[str, str]] = ()
) -> list[tuple[bytes, bytes]]:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in [*answer.all_headers(), *extra]
    ]


async def _send_answer(send: Send, answer: WebAnswer) -> None:
    headers = _raw_headers(answer, [("Content-Length", str(len(answer.body)))])
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None past ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _form(body: bytes) -> dict[str, str]:
    form: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(name, value)
    return form


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class SignInMiddleware:
    """ASGI middleware: the sign-in routes, and ``request.user`` for everything else.

    ``max_form_bytes`` bounds the urlencoded body read to find a state-changing
    request's ``csrf_token`` field when it sends no ``X-CSRF-Token`` header (the body
    is handed on to the app unchanged).
    """

    def __init__(self, app: ASGIApp, signin: ServerSignIn, *, max_form_bytes: int = 1 << 20):
        self.app = app
        self.signin = signin
        self.max_form_bytes = max_form_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing_at_shutdown(send))
            return
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope[_SIGNIN] = self.signin
        request = _request(scope)
        if scope["type"] == "http" and self.signin.route(request) is not None:
            if request.method == "POST":
                body = await _read_body(receive, 64 * 1024)
                if body is None:
                    await _send_answer(send, page(413, "Too large", "The request is too large."))
                    return
                if _is_form(request):
                    request = _request(scope, _form(body))
            answer = await self.signin.handle(request)
            if answer is not None:
                await _send_answer(send, answer)
                return
        if (
            scope["type"] == "http"
            and request.method not in SAFE_METHODS
            and self.signin.session_cookie in request.cookies
            and request.csrf_token is None
            and _is_form(request)
        ):
            body = await _read_body(receive, self.max_form_bytes)
            if body is None:
                await _send_answer(send, page(413, "Too large", "The request is too large."))
                return
            request = _request(scope, _form(body))
            receive = _replay(body, receive)
        visit = await self.signin.visit(request)
        if visit.refusal is not None:
            visit.refusal.cookies += visit.cookies
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await _send_answer(send, visit.refusal)
            return
        scope[_VISIT] = visit
        if visit.user is not None:
            scope["user"] = SignedInUser(visit.user)
            scope["auth"] = AuthCredentials(auth_scopes(visit.user.claims))
        else:
            scope["user"] = UnauthenticatedUser()
            scope["auth"] = AuthCredentials()
        if not visit.cookies or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [(b"set-cookie", cookie.header().encode("latin-1")) for cookie in visit.cookies]

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cookies)

    def _closing_at_shutdown(self, send: Send) -> Send:
        async def closing(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.signin.aclose()  # the HTTP clients, on the loop that made them
            await send(message)

        return closing


def _is_form(request: WebRequest) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower() == _FORM_TYPE


def visit_of(conn: HTTPConnection) -> Visit:
    """What :class:`SignInMiddleware` found for this request (user, session, client IP)."""
    visit: Visit | None = conn.scope.get(_VISIT)
    if visit is None:
        raise ConfigurationError("SignInMiddleware is not installed on this app")
    return visit


def session_of(conn: HTTPConnection) -> WebSession | None:
    """The request's signed-in session (None: anonymous, or a bearer token)."""
    return visit_of(conn).session


def csrf_token(conn: HTTPConnection) -> str:
    """The session's CSRF token, for a form's hidden ``csrf_token`` field ("" when the
    request has no session)."""
    session = visit_of(conn).session
    return session.csrf_token if session is not None else ""


def response_for(answer: WebAnswer) -> Response:
    """A Starlette response for a :class:`~._http.WebAnswer`."""
    response = Response(answer.body, status_code=answer.status)
    for name, value in answer.all_headers():
        response.headers.append(name, value)
    return response


def login_required(endpoint: _F) -> _F:
    """Decorate an endpoint (``request`` first, sync or async): an anonymous GET goes to
    the login route and comes back after; other methods are answered 401."""

    def refusal(request: HTTPConnection) -> Response | None:
        if isinstance(request.scope.get("user"), SignedInUser):
            return None
        signin: ServerSignIn | None = request.scope.get(_SIGNIN)
        if signin is None:
            raise ConfigurationError("SignInMiddleware is not installed on this app")
        return response_for(signin.login_redirect(_request(request.scope)))

    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def async_wrapper(request: HTTPConnection, *args: Any, **kwargs: Any) -> Any:
            refused = refusal(request)
            return refused if refused is not None else await endpoint(request, *args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(endpoint)
    def wrapper(request: HTTPConnection, *args: Any, **kwargs: Any) -> Any:
        refused = refusal(request)
        return refused if refused is not None else endpoint(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
