"""FastAPI through FastAPI itself: CognitoBearer as Depends, .requires(), Security scopes,
the OpenAPI scheme; every case of tests/api_support.py on asyncio and trio."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Security

from acognito import CognitoVerifier
from acognito.errors import ConfigurationError
from acognito.integrations.fastapi import CognitoBearer, CognitoClaims
from acognito.testing import LocalCognito, TokenIssuer
from api_support import (
    CASES,
    EDGE_CLIENT,
    Case,
    World,
    build_world,
    check_answer,
    edge_jwks_server,
    tokens_for,
    write_answer_table,
)

pytestmark = pytest.mark.anyio

PROFILES = {"plain": {"plan": "free"}}


@pytest.fixture(scope="module")
def world(cognito_local: LocalCognito) -> Iterator[World]:
    yield build_world(cognito_local)
    write_answer_table()


def make_app(bearer: CognitoBearer) -> FastAPI:
    app = FastAPI()

    @app.get("/me")
    async def me(claims: CognitoClaims = Depends(bearer)) -> dict[str, Any]:
        # An unknown user is a normal case, never a 500.
        return {"username": claims.username, "profile": PROFILES.get(claims.username or "")}

    @app.get("/read")
    def read(claims: CognitoClaims = Security(bearer, scopes=["api/read"])) -> dict[str, Any]:
        return {"scopes": sorted(claims.scopes)}  # a sync route: FastAPI's thread pool

    @app.get("/admin")
    async def admin(
        claims: CognitoClaims = Depends(bearer.requires(groups=["admin", "ops"])),
    ) -> dict[str, Any]:
        return {"groups": sorted(claims.groups)}

    return app


async def ask(app: FastAPI, path: str, token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as client:
        return await client.get(path, headers=headers)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_each_case(world: World, case: Case) -> None:
    tokens = tokens_for(world)
    server = edge_jwks_server(world)
    try:
        verifier = world.verifier(server.url)
        app = make_app(CognitoBearer(verifier))
        if case.name == "JWKS outage":
            server.stop()
        async with verifier:
            resp = await ask(app, case.path, tokens.get(case.token, ""))
    finally:
        server.stop()
    check_answer(case, "fastapi", resp.status_code, resp.headers, resp.content)
    if case.status == 200 and case.path == "/me":
        assert resp.json()["username"] in ("plain", "nobody-we-know")


async def test_the_claims_are_typed_and_the_body_is_the_route_s(world: World) -> None:
    server = edge_jwks_server(world)
    try:
        async with world.verifier(server.url) as verifier:
            app = make_app(CognitoBearer(verifier))
            me = await ask(app, "/me", world.access)
            admin = await ask(app, "/admin", world.admin_access)
    finally:
        server.stop()
    assert me.json() == {"username": "plain", "profile": {"plan": "free"}}
    assert admin.json() == {"groups": ["admin"]}


async def test_scopes_are_all_required_groups_any_of() -> None:
    issuer = TokenIssuer("us-east-1_Scopes1")
    verifier = CognitoVerifier(
        issuer.user_pool_id, client_id="c", token_use="access", jwks=issuer.jwks()
    )
    bearer = CognitoBearer(verifier, scopes=["api/read"])
    app = FastAPI()

    @app.get("/write")
    async def write(
        claims: CognitoClaims = Depends(bearer.requires(scopes=["api/write"], groups=["a", "b"])),
    ) -> str:
        return claims.sub

    def token(scope: str, groups: list[str] | None = None) -> str:
        return issuer.access_token(client_id="c", scope=scope, groups=groups)

    both = "api/read api/write"
    assert (await ask(app, "/write", token(both, ["b"]))).status_code == 200
    assert (await ask(app, "/write", token(both, ["c", "a"]))).status_code == 200
    refused = await ask(app, "/write", token("api/write", ["a"]))  # api/read missing
    assert refused.status_code == 403
    assert 'scope="api/read api/write"' in refused.headers["www-authenticate"]
    assert (await ask(app, "/write", token("api/read", ["a"]))).status_code == 403
    assert (await ask(app, "/write", token(both, ["c"]))).status_code == 403
    assert (await ask(app, "/write", token(both))).status_code == 403


async def test_openapi_publishes_one_oauth2_scheme_with_the_managed_login() -> None:
    issuer = TokenIssuer("us-east-1_OpenApi1")
    verifier = CognitoVerifier(
        issuer.user_pool_id, client_id="c", token_use="access", jwks=issuer.jwks()
    )
    domain = "https://myapp.auth.us-east-1.amazoncognito.com"
    app = make_app(CognitoBearer(verifier, domain=domain))
    schema = (await ask(app, "/openapi.json", "")).json()
    scheme = schema["components"]["securitySchemes"]
    assert list(scheme) == ["Cognito"]
    flow = scheme["Cognito"]["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == f"{domain}/oauth2/authorize"
    assert flow["tokenUrl"] == f"{domain}/oauth2/token"
    assert "openid" in flow["scopes"]
    paths = schema["paths"]
    assert paths["/me"]["get"]["security"] == [{"Cognito": []}]
    assert paths["/read"]["get"]["security"] == [{"Cognito": ["api/read"]}]
    assert paths["/admin"]["get"]["security"] == [{"Cognito": []}]


async def test_without_a_domain_the_scheme_is_http_bearer() -> None:
    issuer = TokenIssuer("us-east-1_OpenApi2")
    verifier = CognitoVerifier(
        issuer.user_pool_id, client_id="c", token_use="access", jwks=issuer.jwks()
    )
    app = make_app(CognitoBearer(verifier, scheme_name="Bearer"))
    scheme = (await ask(app, "/openapi.json", "")).json()["components"]["securitySchemes"]
    assert scheme == {
        "Bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An Amazon Cognito access token.",
        }
    }


def test_swagger_ui_settings_use_pkce() -> None:
    issuer = TokenIssuer("us-east-1_OpenApi3")
    verifier = CognitoVerifier(
        issuer.user_pool_id, client_id="c", token_use="access", jwks=issuer.jwks()
    )
    bearer = CognitoBearer(verifier, domain="https://x.auth.eu-west-1.amazoncognito.com")
    assert bearer.swagger_ui_init_oauth("abc") == {
        "clientId": "abc",
        "usePkceWithAuthorizationCodeGrant": True,
        "scopes": "openid",
    }


@pytest.mark.parametrize(
    "options",
    [
        {"scopes": ['bad"scope']},
        {"groups": [""]},
        {"realm": 'a"b'},
        {"domain": "myapp.auth.amazoncognito.com"},
    ],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any]) -> None:
    issuer = TokenIssuer("us-east-1_Opts1")
    verifier = CognitoVerifier(
        issuer.user_pool_id, client_id=EDGE_CLIENT, token_use="access", jwks=issuer.jwks()
    )
    with pytest.raises(ConfigurationError):
        CognitoBearer(verifier, **options)
    with pytest.raises(ConfigurationError):
        CognitoBearer(object())  # type: ignore[arg-type]
