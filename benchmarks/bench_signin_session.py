"""Latency of a protected page with a server-side session, next to a bearer token.

One app per framework (Starlette on asyncio, and on trio; Flask), served in-process
(httpx's ASGI/WSGI transports: the app's own cost, no sockets), signed in once through
the shipped local Cognito's managed login. Three contenders, interleaved request by
request so that they share the machine's noise:

- ``public``: the same middleware, a page that needs no user, no cookie (the floor);
- ``session``: the protected page with the session cookie (the store read, the cookie's
  signature, the access and id tokens verified through the verifier's cache);
- ``bearer``: the protected page with ``Authorization: Bearer <access token>``.

Prints the median and p90 per request (microseconds) and the ratio session/bearer.

Run: ``python benchmarks/bench_signin_session.py [--requests N] [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import median, percentile, print_table  # noqa: E402

from acognito.integrations.signin import ServerSignIn, WebRequest  # noqa: E402
from acognito.testing import CognitoAdmin, LocalCognito  # noqa: E402

APP = "http://127.0.0.1:8000"


def starlette_app(signin: ServerSignIn) -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from acognito.integrations.signin.starlette import SignInMiddleware, login_required

    async def public(request: Any) -> PlainTextResponse:
        return PlainTextResponse("public")

    @login_required
    async def private(request: Any) -> PlainTextResponse:
        return PlainTextResponse(f"hello {request.user.display_name}")

    return Starlette(
        routes=[Route("/public", public), Route("/private", private)],
        middleware=[Middleware(SignInMiddleware, signin=signin)],
    )


def flask_app(signin: ServerSignIn) -> Any:
    import flask

    from acognito.integrations.signin.flask import CognitoSignIn, current_user, login_required

    app = flask.Flask("bench")
    CognitoSignIn(app, signin=signin)

    @app.get("/public")
    def public() -> str:
        return "public"

    @app.get("/private")
    @login_required
    def private() -> str:
        user = current_user()
        return f"hello {user.username if user else ''}"

    return app


async def sign_in(signin: ServerSignIn) -> tuple[str, str]:
    """A managed login (the local domain approves at once): the cookie, the access token."""
    start = await signin.login(WebRequest("GET", "/login"))
    login = start.cookies[0]
    async with httpx.AsyncClient() as http:
        hop = await http.get(str(start.location))
    back = urlsplit(hop.headers["location"])
    done = await signin.handle(
        WebRequest("GET", back.path, back.query, headers={"cookie": f"{login.name}={login.value}"})
    )
    cookie = done.cookies[0]
    sid = signin.session_id(
        WebRequest("GET", "/", headers={"cookie": f"{cookie.name}={cookie.value}"})
    )
    assert sid is not None
    loaded = await signin.sessions.load(sid)
    return f"{cookie.name}={cookie.value}", str(loaded.record["access_token"])  # type: ignore[union-attr]


def contenders(cookie: str, token: str) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        "public": ("/public", {}),
        "session": ("/private", {"cookie": cookie}),
        "bearer": ("/private", {"authorization": f"Bearer {token}"}),
    }


def report(framework: str, times: dict[str, list[float]], rows: list[list[object]]) -> None:
    for name, values in times.items():
        us = [v * 1e6 for v in values]
        rows.append([framework, name, f"{median(us):.0f}", f"{percentile(us, 90):.0f}", len(us)])
    ratio = median(times["session"]) / median(times["bearer"])
    rows.append([framework, "session / bearer", f"{ratio:.2f}x", "", ""])


async def bench_asgi(make: Callable[[], ServerSignIn], requests: int) -> dict[str, list[float]]:
    signin = make()
    app = starlette_app(signin)
    cookie, token = await sign_in(signin)
    cases = contenders(cookie, token)
    times: dict[str, list[float]] = {name: [] for name in cases}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=APP) as client:
        for name, (path, headers) in cases.items():  # warm: caches, the JWKS
            assert (await client.get(path, headers=headers)).status_code == 200, name
        for _ in range(requests):
            for name, (path, headers) in cases.items():
                start = time.perf_counter()
                response = await client.get(path, headers=headers)
                times[name].append(time.perf_counter() - start)
                assert response.status_code == 200
    await signin.aclose()
    return times


def bench_flask(make: Callable[[], ServerSignIn], requests: int) -> dict[str, list[float]]:
    from acognito.integrations.signin._blocking import run

    signin = make()
    app = flask_app(signin)
    cookie, token = run(sign_in, signin)
    cases = contenders(cookie, token)
    times: dict[str, list[float]] = {name: [] for name in cases}
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=APP) as client:
        for name, (path, headers) in cases.items():
            assert client.get(path, headers=headers).status_code == 200, name
        for _ in range(requests):
            for name, (path, headers) in cases.items():
                start = time.perf_counter()
                response = client.get(path, headers=headers)
                times[name].append(time.perf_counter() - start)
                assert response.status_code == 200
    run(signin.aclose)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="300 requests per contender")
    args = parser.parse_args()
    requests = 300 if args.quick else args.requests
    with LocalCognito() as local:

        async def set_up() -> tuple[str, str]:
            async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
                pool_id = await admin.create_pool()
                await admin.create_user(pool_id, "bea", attributes={"email": "bea@example.com"})
                client = await admin.create_hosted_ui_client(pool_id, [f"{APP}/auth/callback"])
            local.api.oauth_approve(client.client_id, "bea")
            return pool_id, client.client_id

        pool_id, client_id = anyio.run(set_up)

        def make() -> ServerSignIn:
            return ServerSignIn(
                pool_id,
                client_id,
                domain=local.oauth_domain_url(pool_id),
                app_url=APP,
                jwks_uri=f"{local.endpoint_url}/{pool_id}/.well-known/jwks.json",
            )

        rows: list[list[object]] = []
        report("starlette (asyncio)", anyio.run(bench_asgi, make, requests), rows)
        report("starlette (trio)", anyio.run(bench_asgi, make, requests, backend="trio"), rows)
        report("flask", bench_flask(make, requests), rows)
    print(f"protected page: server-side session vs bearer token, {requests} requests each")
    print_table(["framework", "contender", "median us", "p90 us", "n"], rows)


if __name__ == "__main__":
    main()
