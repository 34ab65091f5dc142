"""Starlette: Cognito bearer tokens through Starlette's own authentication seam.

One line::

    app = Starlette(routes=..., middleware=[cognito_middleware(verifier)])

then ``request.user`` is a :class:`CognitoUser` (its ``claims`` verified),
``request.auth.scopes`` holds ``"authenticated"``, the token's scopes and ``group:<name>``
for each of the user's groups, so Starlette's ``@requires("api/read")`` and
``@requires("group:admin")`` work. A request without a token passes as anonymous
(``optional=False`` answers it 401 instead); a bad token is always answered 401, an
app-wide ``scopes``/``groups`` requirement 403, a JWKS outage 503, as RFC 6750 says
(:mod:`acognito.integrations.core`). Starlette's ``@requires`` refuses with a bare 403;
:func:`requires_cognito` is the same check with RFC 6750's answers (``scope=`` included).
Requires the ``starlette`` extra.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

try:
    from starlette.authentication import (
        AuthCredentials,
        AuthenticationBackend,
        AuthenticationError,
        BaseUser,
    )
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.requests import HTTPConnection
    from starlette.responses import JSONResponse, Response
except ImportError as exc:
    raise ImportError(
        "acognito.integrations.starlette needs Starlette: pip install 'acognito[starlette]'"
    ) from exc

from ..errors import JwtParseError, TokenVerificationError
from .core import (
    Answer,
    BearerGuard,
    CognitoClaims,
    CognitoDenied,
    Requirements,
    TokenVerifier,
    answer_for,
    bearer_token,
)

_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = [
    "CognitoAuthBackend",
    "CognitoAuthError",
    "CognitoClaims",
    "CognitoUser",
    "cognito_middleware",
    "on_auth_error",
    "requires_cognito",
    "response_for",
]


class CognitoUser(BaseUser):
    """The user of a verified token; :attr:`claims` holds every claim."""

    def __init__(self, claims: CognitoClaims) -> None:
        self.claims = claims

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.claims.username or self.claims.sub

    @property
    def identity(self) -> str:
        return self.claims.sub

    def __repr__(self) -> str:
        return f"CognitoUser(sub={self.claims.sub!r}, username={self.claims.username!r})"


class CognitoAuthError(AuthenticationError):
    """A request :class:`CognitoAuthBackend` refused; :attr:`answer` is what to send."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(f"{answer.status} {answer.kind}")
        self.answer = answer


def auth_scopes(claims: CognitoClaims) -> list[str]:
    """``request.auth.scopes`` for ``claims``: ``authenticated``, the token's scopes and
    ``group:<name>`` per group."""
    return [
        "authenticated",
        *sorted(claims.scopes),
        *(f"group:{name}" for name in sorted(claims.groups)),
    ]


class CognitoAuthBackend(AuthenticationBackend):
    """Starlette's ``AuthenticationBackend`` over :class:`~.core.BearerGuard`.

    ``scopes`` (all) and ``groups`` (any) apply to every request with a token;
    ``optional`` lets requests without a token through as anonymous.
    """

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        scopes: str | Iterable[str] = (),
        groups: str | Iterable[str] = (),
        realm: str = "api",
        optional: bool = True,
    ) -> None:
        self.guard = BearerGuard(verifier, scopes=scopes, groups=groups, realm=realm)
        self.optional = optional

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        token = bearer_token(conn.headers.get("authorization"))
        if token is None and self.optional:
            return None
        try:
            claims = await self.guard.verify_token(token)
        except CognitoDenied as denied:
            raise CognitoAuthError(denied.answer) from denied.__cause__
        return AuthCredentials(auth_scopes(claims)), CognitoUser(claims)


def response_for(answer: Answer) -> Response:
    """The Starlette response for an :class:`~.core.Answer`."""
    return JSONResponse(answer.body, status_code=answer.status, headers=dict(answer.headers))


def on_auth_error(conn: HTTPConnection, exc: AuthenticationError) -> Response:
    """``AuthenticationMiddleware(on_error=...)``: the RFC 6750 answer for a refusal."""
    if isinstance(exc, CognitoAuthError):
        return response_for(exc.answer)
    # Another backend's refusal: an invalid credential, said the same way.
    return response_for(answer_for(JwtParseError("refused")))


def cognito_middleware(
    verifier: TokenVerifier,
    *,
    scopes: str | Iterable[str] = (),
    groups: str | Iterable[str] = (),
    realm: str = "api",
    optional: bool = True,
) -> Middleware:
    """``AuthenticationMiddleware`` with a :class:`CognitoAuthBackend` and RFC 6750 errors."""
    backend = CognitoAuthBackend(
        verifier, scopes=scopes, groups=groups, realm=realm, optional=optional
    )
    return Middleware(AuthenticationMiddleware, backend=backend, on_error=on_auth_error)


def requires_cognito(
    *, scopes: str | Iterable[str] = (), groups: str | Iterable[str] = (), realm: str = "api"
) -> Callable[[_F], _F]:
    """Decorate an HTTP endpoint (sync or async, ``request`` first): the request's Cognito
    user must have every one of ``scopes`` and be in at least one of ``groups``. Answers
    401 without a user and 403 (``insufficient_scope``, ``scope=``) otherwise."""
    requirements = Requirements(scopes=scopes, groups=groups)
    answer_for(None, realm=realm)  # a bad realm fails here, not per request

    def refusal(request: HTTPConnection) -> Response | None:
        user = request.user
        if not isinstance(user, CognitoUser):
            return response_for(requirements.answer(None, realm=realm))
        try:
            requirements.check(user.claims)
        except TokenVerificationError as exc:
            return response_for(requirements.answer(exc, realm=realm))
        return None

    def decorate(endpoint: _F) -> _F:
        if inspect.iscoroutinefunction(endpoint):

            @functools.wraps(endpoint)
            async def async_wrapper(request: HTTPConnection, *args: Any, **kwargs: Any) -> Any:
                refused = refusal(request)
                if refused is not None:
                    return refused
                return await endpoint(request, *args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(endpoint)
        def wrapper(request: HTTPConnection, *args: Any, **kwargs: Any) -> Any:
            refused = refusal(request)
            if refused is not None:
                return refused
            return endpoint(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
