"""Django: server-side sign-in as one middleware, configured from settings.

Settings::

    ACOGNITO_SIGNIN = {
        "USER_POOL_ID": "eu-west-1_AbC123xyz",
        "CLIENT_ID": "app-client-id",
        "DOMAIN": "https://myapp.auth.eu-west-1.amazoncognito.com",
        "APP_URL": "https://app.example.com",       # callback: APP_URL + "/auth/callback"
        # SESSION_SECRET defaults to SECRET_KEY; see ServerSignIn.from_settings for more
    }
    MIDDLEWARE = [..., "acognito.integrations.signin.django.SignInMiddleware"]

The middleware answers ``/login``, the callback and ``/logout`` before any view (so
Django's own CSRF middleware never sees them; ``/logout`` has its own check), and gives
every other request ``request.cognito_user`` (a
:class:`~acognito.integrations.signin.WebUser`, or None) and, when signed in,
``request.user`` (:class:`acognito.integrations.django.CognitoUser`): a bearer token is
judged by the token, otherwise the session cookie. Keys missing from
``ACOGNITO_SIGNIN`` are read from ``ACOGNITO`` (the API-protection settings). Django gets
the managed-login routes; the server-rendered form sign-in is for ASGI apps and Flask.
Requires the ``django`` extra.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

try:
    from django.conf import settings
    from django.http import HttpRequest, HttpResponse
except ImportError as exc:
    raise ImportError(
        "acognito.integrations.signin.django needs Django: pip install 'acognito[django]'"
    ) from exc

from ...errors import ConfigurationError
from ..django import CognitoUser
from ._blocking import close_when_dropped, run
from ._core import ServerSignIn, Visit, WebUser
from ._http import SAFE_METHODS, WebAnswer, WebRequest

__all__ = [
    "SignInMiddleware",
    "context",
    "csrf_token",
    "get_signin",
    "login_required",
    "reset",
    "response_for",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_lock = threading.Lock()
_signin: ServerSignIn | None = None
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def get_signin() -> ServerSignIn:
    """The :class:`~acognito.integrations.signin.ServerSignIn` of the settings (once per
    process): ``ACOGNITO_SIGNIN`` over ``ACOGNITO``, ``SECRET_KEY`` as the default
    session secret."""
    global _signin
    found = _signin
    if found is not None:
        return found
    with _lock:
        if _signin is None:
            config: dict[str, Any] = {}
            for name in ("ACOGNITO", "ACOGNITO_SIGNIN"):
                part = getattr(settings, name, None)
                if part is not None and not isinstance(part, dict):
                    raise ConfigurationError(f"settings.{name} must be a dict")
                config.update(part or {})
            given = config.get("SIGNIN")
            made = (
                given
                if isinstance(given, ServerSignIn)
                else ServerSignIn.from_settings(
                    config, default_secret=getattr(settings, "SECRET_KEY", None)
                )
            )
            close_when_dropped(made, *made._closers())
            _signin = made
        return made


def reset(**_: Any) -> None:
    """Forget the sign-in, so the next request reads the settings again (connected to
    Django's ``setting_changed`` signal, for tests that override settings)."""
    global _signin
    with _lock:
        _signin = None


def _connect_reset() -> None:
    from django.test.signals import setting_changed

    def on_change(setting: str = "", **kwargs: Any) -> None:
        if setting in ("ACOGNITO", "ACOGNITO_SIGNIN", "SECRET_KEY"):
            reset()

    setting_changed.connect(on_change, weak=False, dispatch_uid="acognito-signin-settings")


_connect_reset()


def response_for(answer: WebAnswer) -> HttpResponse:
    """A Django response for a :class:`~._http.WebAnswer`."""
    response = HttpResponse(answer.body, status=answer.status)
    del response["Content-Type"]
    for name, value in answer.headers:
        response[name] = value
    if answer.content_type is not None:
        response["Content-Type"] = answer.content_type
    for cookie in answer.cookies:
        _set_cookie(response, cookie)
    return response


def _set_cookie(response: HttpResponse, cookie: Any) -> None:
    response.set_cookie(
        cookie.name,
        cookie.value,
        max_age=cookie.max_age,
        path=cookie.path,
        secure=cookie.secure,
        httponly=True,
        samesite="Lax",
    )


def _request(request: HttpRequest, *, with_form: bool) -> WebRequest:
    form = None
    if with_form and request.content_type in _FORM_TYPES:
        form = {name: request.POST[name] for name in request.POST}
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    return WebRequest(
        method=str(request.method or "GET").upper(),
        path=request.path,
        query_string=str(request.META.get("QUERY_STRING", "")),
        headers={name.lower(): value for name, value in request.headers.items()},
        peer=request.META.get("REMOTE_ADDR"),
        forwarded_for=(forwarded,) if forwarded else (),
        form=form,
    )


class SignInMiddleware:
    """The sign-in routes, and the request's user for everything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        signin = get_signin()
        plain = _request(request, with_form=False)
        if signin.route(plain) is not None:
            answer = run(signin.handle, _request(request, with_form=plain.method == "POST"))
            if answer is not None:
                return response_for(answer)
        needs_form = (
            plain.method not in SAFE_METHODS
            and signin.session_cookie in plain.cookies
            and plain.csrf_token is None
        )
        visit = run(signin.visit, _request(request, with_form=True) if needs_form else plain)
        request.cognito_visit = visit
        request.cognito_user = visit.user
        if visit.refusal is not None:
            visit.refusal.cookies += visit.cookies
            return response_for(visit.refusal)
        if visit.user is not None:
            request.user = CognitoUser(visit.user.claims)
        response = self.get_response(request)
        for cookie in visit.cookies:
            _set_cookie(response, cookie)
        return response


def _visit(request: HttpRequest) -> Visit:
    visit = getattr(request, "cognito_visit", None)
    if visit is None:
        raise ConfigurationError("SignInMiddleware is not in settings.MIDDLEWARE")
    return visit  # type: ignore[no-any-return]


def csrf_token(request: HttpRequest) -> str:
    """The session's CSRF token, for a form's hidden ``csrf_token`` field."""
    session = _visit(request).session
    return session.csrf_token if session is not None else ""


def context(request: HttpRequest) -> dict[str, Any]:
    """A template context processor: ``cognito_user`` and ``cognito_csrf_token``."""
    visit = getattr(request, "cognito_visit", None)
    if visit is None:
        return {}
    user: WebUser | None = visit.user
    return {"cognito_user": user, "cognito_csrf_token": csrf_token(request)}


def login_required(view: _F) -> _F:
    """Decorate a view: an anonymous GET goes to the login route (and comes back after);
    other methods are answered 401."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if _visit(request).user is None:
            return response_for(get_signin().login_redirect(_request(request, with_form=False)))
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
