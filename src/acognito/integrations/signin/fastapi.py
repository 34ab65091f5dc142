"""FastAPI: the request's signed-in user as dependencies, over :class:`SignInMiddleware`.

::

    app = FastAPI()
    app.add_middleware(SignInMiddleware, signin=signin)

    @app.get("/")
    async def home(user: WebUser = Depends(require_user)) -> dict[str, str]: ...

:func:`require_user` sends an anonymous browser to sign in (GET) or answers 401;
:func:`optional_user` is the user or None; :func:`current_session` the signed-in session
(its CSRF token, its tokens) or None. The middleware is the Starlette one: it answers
the sign-in routes and judges a bearer token by the token, otherwise the session
cookie. Requires the ``fastapi`` extra.
"""

from __future__ import annotations

try:
    from fastapi import HTTPException, Request
except ImportError as exc:
    raise ImportError(
        "acognito.integrations.signin.fastapi needs FastAPI: pip install 'acognito[fastapi]'"
    ) from exc

from ._core import ServerSignIn, WebSession, WebUser
from .starlette import SignInMiddleware, csrf_token, visit_of

__all__ = [
    "ServerSignIn",
    "SignInMiddleware",
    "WebUser",
    "csrf_token",
    "current_session",
    "optional_user",
    "require_user",
]


async def optional_user(request: Request) -> WebUser | None:
    """The request's user, or None."""
    return visit_of(request).user


async def current_session(request: Request) -> WebSession | None:
    """The request's signed-in session, or None (anonymous, or a bearer token)."""
    return visit_of(request).session


async def require_user(request: Request) -> WebUser:
    """The request's user; an anonymous GET is redirected to sign in (and back), any
    other anonymous request answered 401."""
    user = visit_of(request).user
    if user is not None:
        return user
    signin: ServerSignIn = request.scope["acognito.signin"]
    from .starlette import _request

    answer = signin.login_redirect(_request(request.scope))
    headers = dict(answer.headers)
    raise HTTPException(answer.status, detail="Sign-in required.", headers=headers)
