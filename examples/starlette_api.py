"""Protect a Starlette app with Cognito: one middleware, then ``request.user``,
``request.auth.scopes`` (scopes and ``group:<name>``) and ``@requires`` work.

Users sign in on the embedded local Cognito; the app is called in-process through httpx's
ASGI transport. A user the app knows nothing about gets 200, never a 500.

    pip install 'acognito[starlette,local]'
    python examples/starlette_api.py [--trio]
"""

from __future__ import annotations

import sys
from typing import Any

import anyio
import anyio.to_thread
import httpx
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from acognito import AsyncCognito, CognitoVerifier
from acognito.integrations.starlette import cognito_middleware, requires_cognito
from acognito.testing import CognitoAdmin, LocalCognito

PASSWORD = "Starlette-Example-Passw0rd!"
PROFILES = {"ada": {"plan": "pro"}}


@requires("authenticated")  # Starlette's own decorator, on request.auth.scopes
async def me(request: Request) -> JSONResponse:
    name = request.user.display_name
    return JSONResponse(
        {"user": name, "scopes": request.auth.scopes, "profile": PROFILES.get(name)}
    )


@requires_cognito(groups=["admin"])  # the same check, answered as RFC 6750 says
async def orders(request: Request) -> JSONResponse:
    return JSONResponse({"orders": []})


def make_app(verifier: CognitoVerifier) -> Starlette:
    routes = [Route("/me", me), Route("/orders", orders)]
    return Starlette(routes=routes, middleware=[cognito_middleware(verifier)])


async def sign_in(pool: Any, username: str) -> str:
    async with AsyncCognito(**pool.cognito_kwargs(), username=username) as cognito:
        await cognito.authenticate(PASSWORD)
        assert cognito.access_token is not None
        return cognito.access_token


async def main() -> None:
    local = LocalCognito()
    await anyio.to_thread.run_sync(local.start)
    try:
        async with CognitoAdmin(local.endpoint_url) as admin:
            pool = await admin.create_local_pool()
            await admin.create_group(pool.user_pool_id, "admin")
            for name in ("ada", "grace"):
                await admin.create_user(pool.user_pool_id, name, PASSWORD)
            await admin.add_to_group(pool.user_pool_id, "ada", "admin")
        async with CognitoVerifier(
            pool.user_pool_id,
            client_id=pool.public_client.client_id,
            token_use="access",
            jwks_uri=pool.jwks_uri,  # an emulator serves the JWKS here; AWS derives it
        ) as verifier:
            ada, grace = await sign_in(pool, "ada"), await sign_in(pool, "grace")
            transport = httpx.ASGITransport(app=make_app(verifier))
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                for who, token, path, expected in [
                    ("ada", ada, "/me", 200),
                    ("grace", grace, "/me", 200),
                    ("grace", grace, "/orders", 403),
                    ("ada", ada, "/orders", 200),
                    ("forger", "not.a.token", "/me", 401),
                ]:
                    resp = await http.get(path, headers={"Authorization": f"Bearer {token}"})
                    www = resp.headers.get("www-authenticate", "-")
                    print(f"{who:7} GET {path:8} -> {resp.status_code} {resp.json()} {www}")
                    assert resp.status_code == expected, resp.text
    finally:
        await anyio.to_thread.run_sync(local.stop)


if __name__ == "__main__":
    anyio.run(main, backend="trio" if "--trio" in sys.argv else "asyncio")
