"""Protect an ASGI API with Cognito access tokens: a framework-neutral dependency.

``require_user(scope)`` is what a web framework's dependency (FastAPI ``Depends``,
Starlette middleware, ...) would call: it reads the bearer token, verifies it with one
shared CognitoVerifier (JWKS fetched once, verified tokens cached) and returns the
claims, or raises. Here a bare ASGI app uses it, served by hypercorn on loopback, and a
client signs in on the embedded local Cognito and calls it.

    pip install 'acognito[examples]'    # the local Cognito and hypercorn
    python examples/asgi_bearer_auth.py [--trio]
"""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

import anyio
import anyio.to_thread
import httpx

from acognito import AsyncCognito, CognitoVerifier, TokenVerificationError
from acognito.testing import CognitoAdmin, LocalCognito

PASSWORD = "Asgi-Example-Passw0rd!"


class Unauthorized(Exception):
    pass


def bearer_token(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return value[7:].decode("latin-1")
    raise Unauthorized("no bearer token")


def make_app(verifier: CognitoVerifier) -> Any:
    async def require_user(scope: dict[str, Any]) -> dict[str, Any]:
        try:
            return await verifier.verify(bearer_token(scope))
        except TokenVerificationError as exc:  # typed: expired, wrong client, forged...
            raise Unauthorized(type(exc).__name__) from None

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # nothing to set up: acknowledge start and stop
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        try:
            claims = await require_user(scope)
            status, body = 200, {"hello": claims["username"], "scope": claims.get("scope")}
        except Unauthorized as exc:
            status, body = 401, {"error": str(exc)}
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

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


async def main(backend: str) -> None:
    local = LocalCognito()
    await anyio.to_thread.run_sync(local.start)
    try:
        async with CognitoAdmin(local.endpoint_url) as admin:
            pool = await admin.create_local_pool()
            await admin.create_user(pool.user_pool_id, "lovelace", PASSWORD)

        verifier = CognitoVerifier(
            pool.user_pool_id,
            client_id=pool.public_client.client_id,
            token_use="access",
            jwks_uri=pool.jwks_uri,  # an emulator serves the JWKS here; AWS derives it
        )
        port, stop = free_port(), anyio.Event()
        async with verifier, anyio.create_task_group() as tg:
            tg.start_soon(serve, make_app(verifier), port, stop, backend)
            async with AsyncCognito(**pool.cognito_kwargs(), username="lovelace") as cognito:
                await cognito.authenticate(PASSWORD)
                headers = {"Authorization": f"Bearer {cognito.access_token}"}
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                    for _ in range(50):  # wait for the server to listen
                        try:
                            ok = await http.get("/", headers=headers)
                            break
                        except httpx.ConnectError:
                            await anyio.sleep(0.05)
                    print("with a token:", ok.status_code, ok.json())
                    assert ok.status_code == 200, ok.text
                    bad = await http.get("/", headers={"Authorization": "Bearer not.a.token"})
                    print("with garbage:", bad.status_code, bad.json())
                    assert bad.status_code == 401, bad.text
            stop.set()
    finally:
        await anyio.to_thread.run_sync(local.stop)


if __name__ == "__main__":
    backend = "trio" if "--trio" in sys.argv else "asyncio"
    anyio.run(main, backend, backend=backend)
