"""Protect a FastAPI app with Cognito in one line: ``Depends(CognitoBearer(verifier))``.

The app has three routes: ``/me`` (any signed-in user), ``/orders`` (the ``admin``
group) and ``/docs`` (Swagger UI, whose *Authorize* signs in through the pool's managed
login). It is served by hypercorn on loopback; users sign in on the embedded local
Cognito and call it. A user the app knows nothing about gets 200 (no profile), never a
500; a request without a token 401, a user outside the group 403.

    pip install 'acognito[fastapi,examples]'
    python examples/fastapi_api.py [--trio]
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import anyio
import anyio.to_thread
import httpx
from fastapi import Depends, FastAPI

from acognito import AsyncCognito, CognitoVerifier
from acognito.integrations.fastapi import CognitoBearer, CognitoClaims
from acognito.testing import CognitoAdmin, LocalCognito

PASSWORD = "Fastapi-Example-Passw0rd!"
PROFILES = {"ada": {"plan": "pro"}}  # the app's own data: not every user has a row


def make_app(verifier: CognitoVerifier, domain: str, client_id: str) -> FastAPI:
    bearer = CognitoBearer(verifier, domain=domain)  # the OpenAPI scheme: managed login
    app = FastAPI(swagger_ui_init_oauth=bearer.swagger_ui_init_oauth(client_id))

    @app.get("/me")
    async def me(claims: CognitoClaims = Depends(bearer)) -> dict[str, Any]:
        return {"user": claims.username, "profile": PROFILES.get(claims.username or "")}

    @app.get("/orders")
    async def orders(
        claims: CognitoClaims = Depends(bearer.requires(groups=["admin"])),
    ) -> dict[str, Any]:
        return {"orders": [], "seen_by": claims.username}

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def serve(app: Any, port: int, stop: anyio.Event, backend: str) -> None:
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    if backend == "trio":
        from hypercorn.trio import serve as hypercorn_serve
    else:
        from hypercorn.asyncio import serve as hypercorn_serve
    await hypercorn_serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]


async def sign_in(pool: Any, username: str) -> str:
    async with AsyncCognito(**pool.cognito_kwargs(), username=username) as cognito:
        await cognito.authenticate(PASSWORD)
        assert cognito.access_token is not None
        return cognito.access_token


async def main(backend: str) -> None:
    local = LocalCognito()
    await anyio.to_thread.run_sync(local.start)
    try:
        async with CognitoAdmin(local.endpoint_url) as admin:
            pool = await admin.create_local_pool()
            await admin.create_group(pool.user_pool_id, "admin")
            for name in ("ada", "grace"):  # grace has no profile row in this app
                await admin.create_user(pool.user_pool_id, name, PASSWORD)
            await admin.add_to_group(pool.user_pool_id, "ada", "admin")

        verifier = CognitoVerifier(
            pool.user_pool_id,
            client_id=pool.public_client.client_id,
            token_use="access",
            jwks_uri=pool.jwks_uri,  # an emulator serves the JWKS here; AWS derives it
        )
        app = make_app(verifier, local.oauth_domain_url(), pool.public_client.client_id)
        port, stop = free_port(), anyio.Event()
        async with verifier, anyio.create_task_group() as tg:
            tg.start_soon(serve, app, port, stop, backend)
            ada, grace = await sign_in(pool, "ada"), await sign_in(pool, "grace")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                for _ in range(100):  # wait for the server to listen
                    try:
                        await http.get("/openapi.json")
                        break
                    except httpx.ConnectError:
                        await anyio.sleep(0.05)
                for who, token, path, expected in [
                    ("ada", ada, "/me", 200),
                    ("grace", grace, "/me", 200),
                    ("grace", grace, "/orders", 403),
                    ("ada", ada, "/orders", 200),
                    ("nobody", None, "/me", 401),
                ]:
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    resp = await http.get(path, headers=headers)
                    www = resp.headers.get("www-authenticate", "-")
                    print(f"{who:7} GET {path:8} -> {resp.status_code} {resp.json()} {www}")
                    assert resp.status_code == expected, resp.text
                scheme = (await http.get("/openapi.json")).json()["components"]
                print("OpenAPI scheme:", list(scheme["securitySchemes"]))
            stop.set()
    finally:
        await anyio.to_thread.run_sync(local.stop)


if __name__ == "__main__":
    backend = "trio" if "--trio" in sys.argv else "asyncio"
    anyio.run(main, backend, backend=backend)
