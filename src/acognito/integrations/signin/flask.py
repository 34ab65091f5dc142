"""Flask: server-side sign-in as one extension.

::

    app.config.update(
        COGNITO_USER_POOL_ID=..., COGNITO_CLIENT_ID=..., COGNITO_DOMAIN=...,
        COGNITO_APP_URL="https://app.example.com",   # callback: /auth/callback
        SECRET_KEY=os.environ["SECRET_KEY"],   # or COGNITO_SESSION_SECRET
    )
    signin = CognitoSignIn(app)

    @app.get("/")
    @login_required
    def home(): return f"Hello {flask.g.cognito_user.username}"

The extension answers ``/login``, the callback and ``/logout`` before any view, and
puts the request's user in ``flask.g.cognito_user`` (a
:class:`~acognito.integrations.signin.WebUser`, or None): a bearer token is judged by the
token, otherwise the session cookie. Templates get ``cognito_user`` and
``csrf_token``. The sign-in core is async; Flask's threads hand it to one private event
loop per process (see :mod:`._blocking`). Requires the ``flask`` extra.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

try:
    import flask
except ImportError as exc:
    raise ImportError(
        "acognito.integrations.signin.flask needs Flask: pip install 'acognito[flask]'"
    ) from exc

from ...errors import ConfigurationError
from ._blocking import close_when_dropped, run
from ._core import ServerSignIn, Visit, WebSession, WebUser
from ._http import SAFE_METHODS, WebAnswer, WebRequest

__all__ = ["CognitoSignIn", "ServerSignIn", "csrf_token", "login_required", "response_for"]

_F = TypeVar("_F", bound=Callable[..., Any])
_EXTENSION = "acognito.signin"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def response_for(answer: WebAnswer) -> flask.Response:
    """A Flask response for a :class:`~._http.WebAnswer`."""
    response = flask.Response(answer.body, status=answer.status)
    response.headers.pop("Content-Type", None)
    for name, value in answer.all_headers():
        response.headers.add(name, value)
    return response


def _request(signin: ServerSignIn, *, with_form: bool) -> WebRequest:
    request = flask.request
    form = None
    if with_form and request.mimetype in _FORM_TYPES:
        form = {name: request.form[name] for name in request.form}
    forwarded = request.headers.getlist("X-Forwarded-For")
    return WebRequest(
        method=request.method,
        path=request.path,
        query_string=request.query_string.decode("latin-1"),
        headers={name.lower(): value for name, value in request.headers.items()},
        peer=request.remote_addr,
        forwarded_for=tuple(forwarded),
        form=form,
    )


class CognitoSignIn:
    """The Flask extension: builds a :class:`~acognito.integrations.signin.ServerSignIn`
    from ``app.config`` (or takes ``signin``) and runs it for every request.

    Config keys: ``COGNITO_USER_POOL_ID``, ``COGNITO_CLIENT_ID``, ``COGNITO_APP_URL``
    (required), ``COGNITO_DOMAIN`` (managed login) and/or ``COGNITO_FORM_PATH`` (the
    sign-in form), ``COGNITO_SESSION_SECRET`` (default: the app's ``SECRET_KEY``), and
    ``COGNITO_`` + any other argument of
    :class:`~acognito.integrations.signin.ServerSignIn` in capitals
    (``COGNITO_CLIENT_SECRET``, ``COGNITO_STORE``, ``COGNITO_TRUSTED_PROXIES``, ...).
    """

    def __init__(self, app: flask.Flask | None = None, *, signin: ServerSignIn | None = None):
        self._given = signin
        self.signin: ServerSignIn
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask) -> None:
        if self._given is not None:
            self.signin = self._given
        else:
            config = {
                key.removeprefix("COGNITO_"): value
                for key, value in app.config.items()
                if key.startswith("COGNITO_")
            }
            self.signin = ServerSignIn.from_settings(
                config, default_secret=app.config.get("SECRET_KEY")
            )
        close_when_dropped(self.signin, *self.signin._closers())
        app.extensions[_EXTENSION] = self
        app.before_request(self._before)
        app.after_request(self._after)
        app.context_processor(self._template_context)

    def _before(self) -> flask.Response | None:
        signin = self.signin
        plain = _request(signin, with_form=False)
        if signin.route(plain) is not None:
            request = _request(signin, with_form=plain.method == "POST")
            answer = run(signin.handle, request)
            if answer is not None:
                return response_for(answer)
        needs_form = (
            plain.method not in SAFE_METHODS
            and signin.session_cookie in plain.cookies
            and plain.csrf_token is None
        )
        request = _request(signin, with_form=True) if needs_form else plain
        visit = run(signin.visit, request)
        flask.g.acognito_visit = visit
        flask.g.cognito_user = visit.user
        if visit.refusal is not None:
            visit.refusal.cookies += visit.cookies
            visit.cookies = []
            return response_for(visit.refusal)
        return None

    @staticmethod
    def _after(response: flask.Response) -> flask.Response:
        visit = flask.g.get("acognito_visit")
        if isinstance(visit, Visit):
            for cookie in visit.cookies:
                response.headers.add("Set-Cookie", cookie.header())
        return response

    @staticmethod
    def _template_context() -> dict[str, Any]:
        return {"cognito_user": flask.g.get("cognito_user"), "csrf_token": csrf_token()}

    def __repr__(self) -> str:
        return f"CognitoSignIn({getattr(self, 'signin', None)!r})"


def _extension() -> CognitoSignIn:
    extension = flask.current_app.extensions.get(_EXTENSION)
    if not isinstance(extension, CognitoSignIn):
        raise ConfigurationError("this app has no CognitoSignIn(app)")
    return extension


def current_user() -> WebUser | None:
    """The request's user (None: anonymous)."""
    user = flask.g.get("cognito_user")
    return user if isinstance(user, WebUser) else None


def current_session() -> WebSession | None:
    """The request's signed-in session (None: anonymous, or a bearer token)."""
    visit = flask.g.get("acognito_visit")
    return visit.session if isinstance(visit, Visit) else None


def csrf_token() -> str:
    """The session's CSRF token, for a form's hidden ``csrf_token`` field ("" without a
    session)."""
    session = current_session()
    return session.csrf_token if session is not None else ""


def login_required(view: _F) -> _F:
    """Decorate a view: an anonymous GET goes to the login route (and comes back after);
    other methods are answered 401."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            signin = _extension().signin
            return response_for(signin.login_redirect(_request(signin, with_form=False)))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
