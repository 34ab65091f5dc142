"""FastAPI: a security dependency that verifies Cognito bearer tokens.

One line per route::

    bearer = CognitoBearer(verifier, domain="https://myapp.auth.eu-west-1.amazoncognito.com")

    @app.get("/me")
    async def me(claims: CognitoClaims = Depends(bearer)) -> dict[str, str]: ...

``Depends(bearer)`` returns the verified :class:`~.core.CognitoClaims` or answers as
RFC 6750 says (401, 403 with ``scope=``, 503 for a JWKS outage: see
:mod:`acognito.integrations.core`). ``bearer.requires(scopes=[...], groups=[...])`` is a
stricter dependency, and ``Security(bearer, scopes=[...])`` works as in FastAPI: the
scopes are required *and* documented. ``bearer`` publishes an OpenAPI security scheme:
with ``domain`` (the pool's managed login), an OAuth2 authorization-code flow, so Swagger
UI's *Authorize* signs in through managed login (PKCE: see
:meth:`CognitoBearer.swagger_ui_init_oauth`); without it, an HTTP bearer scheme.
Requires the ``fastapi`` extra.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any

try:
    from fastapi import HTTPException, Request, Security
    from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
    from fastapi.openapi.models import OAuth2 as OAuth2Model
    from fastapi.openapi.models import OAuthFlowAuthorizationCode, OAuthFlows
    from fastapi.security import SecurityScopes
    from fastapi.security.base import SecurityBase
except ImportError as exc:
    raise ImportError(
        "acognito.integrations.fastapi needs FastAPI: pip install 'acognito[fastapi]'"
    ) from exc

from ..errors import ConfigurationError
from .core import BearerGuard, CognitoClaims, CognitoDenied, TokenVerifier

__all__ = ["CognitoBearer", "CognitoClaims"]

#: The scopes Swagger UI offers by default with a managed-login domain.
DEFAULT_OAUTH_SCOPES: Mapping[str, str] = {
    "openid": "Sign in (OpenID Connect)",
    "email": "Your e-mail address",
    "profile": "Your profile",
}


class CognitoBearer(SecurityBase):
    """Verify the request's ``Authorization: Bearer`` token; a FastAPI dependency.

    ``verifier`` is a :class:`~acognito.CognitoVerifier` (usually ``token_use="access"``)
    or a :class:`~acognito.MultiPoolVerifier`. ``scopes``: every one is required;
    ``groups``: at least one. ``domain`` is the pool's managed-login (OAuth2) domain,
    ``oauth_scopes`` the scopes Swagger UI offers there. ``scheme_name`` names the scheme
    in OpenAPI (one scheme however many routes and stricter copies use it).
    """

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        scopes: str | Iterable[str] = (),
        groups: str | Iterable[str] = (),
        domain: str | None = None,
        oauth_scopes: Mapping[str, str] | None = None,
        scheme_name: str = "Cognito",
        description: str | None = None,
        realm: str = "api",
    ) -> None:
        self.guard = BearerGuard(verifier, scopes=scopes, groups=groups, realm=realm)
        self.scheme_name = scheme_name
        self.domain = domain.rstrip("/") if domain is not None else None
        if self.domain is not None:
            if not self.domain.startswith(("https://", "http://")):
                raise ConfigurationError("domain must be the managed-login URL (https://...)")
            offered = dict(DEFAULT_OAUTH_SCOPES if oauth_scopes is None else oauth_scopes)
            for scope in sorted(self.guard.scopes):
                offered.setdefault(scope, scope)
            self.model: Any = OAuth2Model(
                flows=OAuthFlows(
                    authorizationCode=OAuthFlowAuthorizationCode(
                        authorizationUrl=f"{self.domain}/oauth2/authorize",
                        tokenUrl=f"{self.domain}/oauth2/token",
                        refreshUrl=f"{self.domain}/oauth2/token",
                        scopes=offered,
                    )
                ),
                description=description or "Sign in with Amazon Cognito (managed login).",
            )
        else:
            self.model = HTTPBearerModel(
                bearerFormat="JWT", description=description or "An Amazon Cognito access token."
            )

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> CognitoClaims:
        try:
            return await self.guard.authenticate(
                request.headers.get("authorization"), scopes=security_scopes.scopes
            )
        except CognitoDenied as denied:
            answer = denied.answer
            raise HTTPException(
                answer.status, detail=answer.description, headers=dict(answer.headers)
            ) from None

    def requires(
        self, *, scopes: str | Iterable[str] = (), groups: str | Iterable[str] = ()
    ) -> Callable[..., Coroutine[Any, Any, CognitoClaims]]:
        """A stricter dependency: this bearer's requirements plus ``scopes`` (all, and
        listed on the route's OpenAPI security requirement) and ``groups`` (any)."""
        stricter = self._copy(self.guard.require(groups=groups))
        wanted = [scopes] if isinstance(scopes, str) else list(scopes)
        self.guard.require(scopes=wanted)  # validates the names now, not per request

        async def dependency(
            claims: CognitoClaims = Security(stricter, scopes=wanted),  # noqa: B008
        ) -> CognitoClaims:
            return claims

        return dependency

    def swagger_ui_init_oauth(
        self, client_id: str, *, scopes: Iterable[str] = ("openid",)
    ) -> dict[str, Any]:
        """``FastAPI(swagger_ui_init_oauth=...)`` for *Authorize* through managed login:
        a public app client, the authorization-code grant with PKCE. Register
        ``{app}/docs/oauth2-redirect`` as one of the client's callback URLs."""
        return {
            "clientId": client_id,
            "usePkceWithAuthorizationCodeGrant": True,
            "scopes": " ".join(scopes),
        }

    def _copy(self, guard: BearerGuard) -> CognitoBearer:
        twin = object.__new__(CognitoBearer)
        twin.__dict__.update(self.__dict__)
        twin.guard = guard
        return twin

    def __repr__(self) -> str:
        return f"CognitoBearer(scheme_name={self.scheme_name!r}, guard={self.guard!r})"
