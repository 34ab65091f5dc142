"""Starlette through Starlette itself: AuthenticationMiddleware with CognitoAuthBackend,
request.user, request.auth.scopes with group:<name>, Starlette's own @requires; every
case of tests/api_support.py on asyncio and trio."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from acognito import CognitoVerifier
from acognito.integrations.starlette import CognitoUser, cognito_middleware, requires_cognito
from acognito.testing import LocalCognito, TokenIssuer
from api_support import (
    CASES,
    Case,
    World,
    build_world,
    check_answer,
    edge_jwks_server,
    tokens_for,
    write_answer_table,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def world(cognito_local: LocalCognito) -> Iterator[World]:
    yield build_world(cognito_local)
    write_answer_table()


@requires_cognito()
async def me(request: Request) -> JSONResponse:
    user: CognitoUser = request.user
    return JSONResponse({"username": user.display_name, "scopes": request.auth.scopes})


@requires_cognito(scopes=["api/read"])
def read(request: Request) -> JSONResponse:  # a sync endpoint: Starlette's thread pool
    return JSONResponse({"ok": True})


@requires_cognito(groups=["admin", "ops"])
async def admin(request: Request) -> JSONResponse:
    return JSONResponse({"groups": sorted(request.user.claims.groups)})


# Starlette's own @requires works on request.auth.scopes (a bare 403 when refused).
@requires(["authenticated", "group:admin"])
async def starlette_admin(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


@requires("api/read")
async def starlette_read(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def anyone(request: Request) -> JSONResponse:
    return JSONResponse({"signed_in": request.user.is_authenticated})


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"user": websocket.user.display_name})
    await websocket.close()


def make_app(verifier: object, **options: object) -> Starlette:
    routes = [
        Route("/me", me),
        Route("/read", read),
        Route("/admin", admin),
        Route("/anyone", anyone),
        Route("/starlette/admin", starlette_admin),
        Route("/starlette/read", starlette_read),
        WebSocketRoute("/ws", ws),
    ]
    return Starlette(routes=routes, middleware=[cognito_middleware(verifier, **options)])  # type: ignore[arg-type]


async def ask(app: Starlette, path: str, token: str) -> httpx.Response:
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
        app = make_app(verifier)
        if case.name == "JWKS outage":
            server.stop()
        async with verifier:
            resp = await ask(app, case.path, tokens.get(case.token, ""))
    finally:
        server.stop()
    check_answer(case, "starlette", resp.status_code, resp.headers, resp.content)


async def test_request_auth_scopes_hold_scopes_and_groups(world: World) -> None:
    server = edge_jwks_server(world)
    try:
        async with world.verifier(server.url) as verifier:
            app = make_app(verifier)
            resp = await ask(app, "/me", world.admin_access)
    finally:
        server.stop()
    assert resp.status_code == 200
    assert resp.json() == {
        "username": "boss",
        "scopes": ["authenticated", "aws.cognito.signin.user.admin", "group:admin"],
    }


async def test_without_a_token_the_request_is_anonymous_unless_required() -> None:
    issuer = TokenIssuer("us-east-1_Anon1")
    verifier = CognitoVerifier(
        issuer.user_pool_id, client_id="c", token_use="access", jwks=issuer.jwks()
    )
    resp = await ask(make_app(verifier), "/anyone", "")
    assert resp.json() == {"signed_in": False}
    # A bad token is refused even where anonymous requests pass.
    bad = await ask(make_app(verifier), "/anyone", "not-a-token")
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["www-authenticate"]
    required = await ask(make_app(verifier, optional=False), "/anyone", "")
    assert required.status_code == 401
    assert required.headers["www-authenticate"] == 'Bearer realm="api"'


async def test_app_wide_requirements_answer_403_with_the_scope() -> None:
    issuer = TokenIssuer("us-east-1_Wide1")
    verifier = CognitoVerifier(
        issuer.user_pool_id, client_id="c", token_use="access", jwks=issuer.jwks()
    )
    app = make_app(verifier, scopes=["api/read"], groups=["staff"], realm="orders")
    ok = issuer.access_token(client_id="c", scope="api/read", groups=["staff"])
    assert (await ask(app, "/anyone", ok)).json() == {"signed_in": True}
    resp = await ask(app, "/anyone", issuer.access_token(client_id="c", groups=["staff"]))
    assert resp.status_code == 403
    assert resp.headers["www-authenticate"].startswith(
        'Bearer realm="orders", error="insufficient_scope"'
    )
    assert resp.headers["www-authenticate"].endswith('scope="api/read"')
    no_group = await ask(app, "/anyone", issuer.access_token(client_id="c", scope="api/read"))
    assert no_group.status_code == 403


async def websocket_exchange(app: Starlette, token: str) -> list[dict[str, object]]:
    """One WebSocket session straight through the ASGI interface: what the app sent."""
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    scope = {"type": "websocket", "path": "/ws", "headers": headers, "query_string": b""}
    inbox = [{"type": "websocket.connect"}]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return inbox.pop(0) if inbox else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    return sent


async def test_websockets_see_the_user() -> None:
    issuer = TokenIssuer("us-east-1_Ws1")
    verifier = CognitoVerifier(
        issuer.user_pool_id, client_id="c", token_use="access", jwks=issuer.jwks()
    )
    token = issuer.access_token(client_id="c", username="wendy")
    sent = await websocket_exchange(make_app(verifier), token)
    assert sent[0]["type"] == "websocket.accept"
    assert sent[1]["text"] == '{"user":"wendy"}'
    # A bad token: the middleware closes the socket instead of accepting it.
    refused = await websocket_exchange(make_app(verifier), "not-a-token")
    assert [m["type"] for m in refused] == ["websocket.close"]


async def test_starlette_s_own_requires_sees_scopes_and_groups(world: World) -> None:
    server = edge_jwks_server(world)
    tokens = tokens_for(world)
    try:
        async with world.verifier(server.url) as verifier:
            app = make_app(verifier)
            assert (await ask(app, "/starlette/admin", world.admin_access)).status_code == 200
            assert (await ask(app, "/starlette/admin", world.access)).status_code == 403
            assert (await ask(app, "/starlette/read", tokens["reader"])).status_code == 200
            assert (await ask(app, "/starlette/read", world.access)).status_code == 403
    finally:
        server.stop()
