"""Call an API as a Cognito user through httpx: CognitoAuth with AsyncClient and Client.

Runs offline: it starts the embedded local Cognito (moto server, ``acognito[local]``),
creates a pool, an app client and a user, and serves a tiny API on 127.0.0.1 that
accepts only requests whose bearer token verifies with :class:`acognito.CognitoVerifier`.
Then:

* ``httpx.AsyncClient`` (asyncio, or trio with ``--trio``): twenty concurrent requests
  through one ``CognitoAuth.from_password``; the first signs in with SRP, the others
  wait for it; ``invalidate()`` then forces one refresh;
* ``httpx.Client`` from eight threads, no event loop in sight: the auth runs its own
  session on a private event loop in a background thread.

    python examples/httpx_auth.py [--trio]
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx

from acognito import CognitoVerifier
from acognito.auth import CognitoAuth
from acognito.errors import TokenVerificationError
from acognito.testing import CognitoAdmin, LocalCognito, LocalPool

USERNAME = "ann"
PASSWORD = "Example-Passw0rd!"  # a throw-away local user


async def create_pool(endpoint_url: str) -> LocalPool:
    """A pool with an app client and one confirmed user on the local Cognito."""
    async with CognitoAdmin(endpoint_url) as admin:
        pool = await admin.create_local_pool()
        await admin.create_user(pool.user_pool_id, USERNAME, PASSWORD)
    return pool


@contextmanager
def tiny_api(pool: LocalPool) -> Iterator[tuple[str, Counter[str]]]:
    """An HTTP API on 127.0.0.1 that answers 200 to a verified access token, else 401."""
    verifier = CognitoVerifier(
        pool.user_pool_id,
        client_id=pool.public_client.client_id,
        token_use="access",
        # The pool's keys, fetched once: verify_sync() then never does I/O.
        jwks=httpx.get(pool.jwks_uri).json(),
    )
    tokens_seen: Counter[str] = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            status, body = 401, {"message": "Unauthorized"}
            if scheme == "Bearer" and token:
                tokens_seen[token[-12:]] += 1
                try:
                    claims = verifier.verify_sync(token)
                except TokenVerificationError as exc:
                    body = {"message": type(exc).__name__}
                else:
                    status, body = 200, {"hello": claims["username"], "path": self.path}
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tokens_seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def call_async(pool: LocalPool, api_url: str) -> None:
    """Twenty concurrent requests: one SRP sign-in; then a forced refresh."""
    async with (
        CognitoAuth.from_password(
            username=USERNAME, password=PASSWORD, **pool.cognito_kwargs()
        ) as auth,
        httpx.AsyncClient(auth=auth, base_url=api_url) as http,
    ):
        answers: list[httpx.Response] = []

        async def one(i: int) -> None:
            answers.append(await http.get(f"/orders/{i}"))

        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(one, i)
        print(
            f"  {len(answers)} concurrent requests: statuses "
            f"{sorted({r.status_code for r in answers})}, API says {answers[0].json()}"
        )
        assert len(answers) == 20
        assert {r.status_code for r in answers} == {200}
        before = await auth.get_token()
        auth.invalidate()  # e.g. after the user's groups changed: get fresh tokens
        response = await http.get("/orders/after-refresh")
        after = await auth.get_token()
        print(f"  after invalidate(): status {response.status_code}, new token: {before != after}")
        assert response.status_code == 200
        assert before != after
        print(f"  {auth!r}")


def call_from_threads(pool: LocalPool, api_url: str) -> None:
    """A blocking client shared by eight threads: one sign-in for all of them."""
    with (
        CognitoAuth.from_password(
            username=USERNAME, password=PASSWORD, **pool.cognito_kwargs()
        ) as auth,
        httpx.Client(auth=auth, base_url=api_url) as http,
    ):

        def work(i: int) -> int:
            return http.get(f"/thread/{i}").status_code

        with ThreadPoolExecutor(8) as threads:
            statuses = list(threads.map(work, range(8)))
        print(f"  8 threads: statuses {sorted(set(statuses))}; {auth!r}")
        assert statuses == [200] * 8


def main() -> None:
    backend = "trio" if "--trio" in sys.argv[1:] else "asyncio"
    with LocalCognito() as local:
        print(f"local Cognito (moto server) at {local.endpoint_url}")
        pool = anyio.run(create_pool, local.endpoint_url)
        with tiny_api(pool) as (api_url, tokens_seen):
            print(f"httpx.AsyncClient on {backend}:")
            anyio.run(call_async, pool, api_url, backend=backend)
            print("httpx.Client from threads:")
            call_from_threads(pool, api_url)
            print(
                f"the API saw {len(tokens_seen)} distinct tokens in "
                f"{sum(tokens_seen.values())} requests"
            )
            # One sign-in for the 20 concurrent requests, one after invalidate(), one
            # for the eight threads.
            assert (len(tokens_seen), sum(tokens_seen.values())) == (3, 29), tokens_seen


if __name__ == "__main__":
    main()
