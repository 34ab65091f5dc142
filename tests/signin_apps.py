"""The same small web app in each framework, over the server-side sign-in: what the
browser tests drive.

Pages: ``/`` (public: who is signed in), ``/private`` (needs a user: the user's name and
e-mail, and a sign-out form carrying the CSRF token), ``/api/me`` (JSON: who and how
they were judged, bearer or session), ``/action`` (a state-changing POST of the app's
own, CSRF-checked by the middleware), ``/signed-out`` (where ``/logout`` lands).
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request  # at module level: FastAPI resolves the string annotations here

from acognito.integrations.signin import ServerSignIn, WebUser

_LOGOUT_FORM = (
    '<form method="post" action="/logout">'
    '<input type="hidden" name="csrf_token" value="{token}">'
    '<button id="logout" type="submit">Sign out</button></form>'
)
_ACTION_FORM = (
    '<form method="post" action="/action">'
    '<input type="hidden" name="csrf_token" value="{token}">'
    '<button id="act" type="submit">Act</button></form>'
)


def private_page(user: WebUser, token: str) -> str:
    name = html.escape(user.username or "")
    email = html.escape(user.email or "")
    return (
        "<!doctype html><html><head><title>Private</title></head><body>"
        f'<p id="who">Hello {name}</p><p id="email">{email}</p>'
        + _LOGOUT_FORM.format(token=html.escape(token))
        + _ACTION_FORM.format(token=html.escape(token))
        + "</body></html>"
    )


def home_page(user: WebUser | None) -> str:
    who = "anonymous" if user is None else html.escape(user.username or "")
    return f'<!doctype html><html><head><title>Home</title></head><body><p id="who">{who}</p></body></html>'


SIGNED_OUT = '<!doctype html><html><head><title>Signed out</title></head><body><p id="bye">Signed out</p></body></html>'


def me(user: WebUser | None) -> dict[str, Any]:
    if user is None:
        return {"user": None}
    return {"user": user.username, "via": user.via, "email": user.email}


# --------------------------------------------------------------------------- Starlette


def starlette_app(signin: ServerSignIn) -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
    from starlette.routing import Route

    from acognito.integrations.signin.starlette import (
        SignInMiddleware,
        csrf_token,
        login_required,
        visit_of,
    )

    async def home(request: Request) -> HTMLResponse:
        return HTMLResponse(home_page(visit_of(request).user))

    @login_required
    async def private(request: Request) -> HTMLResponse:
        user = visit_of(request).user
        assert user is not None
        return HTMLResponse(private_page(user, csrf_token(request)))

    async def api_me(request: Request) -> JSONResponse:
        return JSONResponse(me(visit_of(request).user))

    @login_required
    async def action(request: Request) -> PlainTextResponse:
        # The middleware read the body for the CSRF token and handed it on unchanged.
        form = parse_qs((await request.body()).decode())
        return PlainTextResponse(f"acted with {len(form)} fields")

    async def signed_out(request: Request) -> HTMLResponse:
        return HTMLResponse(SIGNED_OUT)

    return Starlette(
        routes=[
            Route("/", home),
            Route("/private", private),
            Route("/api/me", api_me),
            Route("/action", action, methods=["POST"]),
            Route("/signed-out", signed_out),
        ],
        middleware=[Middleware(SignInMiddleware, signin=signin)],
    )


# --------------------------------------------------------------------------- FastAPI


def fastapi_app(signin: ServerSignIn) -> Any:
    from fastapi import Depends, FastAPI
    from fastapi.responses import HTMLResponse, PlainTextResponse

    from acognito.integrations.signin.fastapi import (
        SignInMiddleware,
        csrf_token,
        optional_user,
        require_user,
    )

    app = FastAPI()
    app.add_middleware(SignInMiddleware, signin=signin)

    @app.get("/", response_class=HTMLResponse)
    async def home(user: WebUser | None = Depends(optional_user)) -> str:
        return home_page(user)

    @app.get("/private", response_class=HTMLResponse)
    async def private(request: Request, user: WebUser = Depends(require_user)) -> str:
        return private_page(user, csrf_token(request))

    @app.get("/api/me")
    async def api_me(user: WebUser | None = Depends(optional_user)) -> dict[str, Any]:
        return me(user)

    @app.post("/action", response_class=PlainTextResponse)
    async def action(request: Request, user: WebUser = Depends(require_user)) -> str:
        form = parse_qs((await request.body()).decode())
        return f"acted with {len(form)} fields"

    @app.get("/signed-out", response_class=HTMLResponse)
    async def signed_out() -> str:
        return SIGNED_OUT

    return app


# --------------------------------------------------------------------------- Flask


def flask_app(signin: ServerSignIn) -> Any:
    import flask

    from acognito.integrations.signin.flask import (
        CognitoSignIn,
        csrf_token,
        current_user,
        login_required,
    )

    app = flask.Flask("signin-test")
    CognitoSignIn(app, signin=signin)

    @app.get("/")
    def home() -> str:
        return home_page(current_user())

    @app.get("/private")
    @login_required
    def private() -> str:
        user = current_user()
        assert user is not None
        return private_page(user, csrf_token())

    @app.get("/api/me")
    def api_me() -> Any:
        return flask.jsonify(me(current_user()))

    @app.post("/action")
    @login_required
    def action() -> str:
        return f"acted with {len(flask.request.form)} fields"

    @app.get("/signed-out")
    def signed_out() -> str:
        return SIGNED_OUT

    return app


# --------------------------------------------------------------------------- Django


def django_urlpatterns() -> list[Any]:
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    from acognito.integrations.signin.django import csrf_token, login_required

    def home(request: HttpRequest) -> HttpResponse:
        return HttpResponse(home_page(request.cognito_user))  # type: ignore[attr-defined]

    @login_required
    def private(request: HttpRequest) -> HttpResponse:
        return HttpResponse(private_page(request.cognito_user, csrf_token(request)))  # type: ignore[attr-defined]

    def api_me(request: HttpRequest) -> JsonResponse:
        return JsonResponse(me(request.cognito_user))  # type: ignore[attr-defined]

    @csrf_exempt  # the sign-in middleware checks CSRF for session requests
    @login_required
    def action(request: HttpRequest) -> HttpResponse:
        return HttpResponse(f"acted with {len(request.POST)} fields")

    def signed_out(request: HttpRequest) -> HttpResponse:
        return HttpResponse(SIGNED_OUT)

    return [
        path("", home),
        path("private", private),
        path("api/me", api_me),
        path("action", action),
        path("signed-out", signed_out),
    ]


urlpatterns: list[Any] = []  # filled by the Django server fixture (ROOT_URLCONF = this module)
