"""A fleet of worker processes sharing one machine-to-machine token through Redis.

Each worker has its own ``ClientCredentialsAuth`` with the same ``RedisTokenStore``: the
first to need a token fetches it (under the store's lease), the others read it from
Redis, and every worker then serves its requests from its own copy until the token is
due. The token is AES-GCM encrypted in Redis.

Configure a real pool and Redis with environment variables:

    ACOGNITO_DOMAIN         https://<prefix>.auth.<region>.amazoncognito.com
    ACOGNITO_CLIENT_ID      an app client with a secret and the client_credentials grant
    ACOGNITO_CLIENT_SECRET
    ACOGNITO_SCOPES         e.g. "orders/read" (optional)
    API_URL                 the resource server to call
    REDIS_URL               redis://host:6379/0
    TOKEN_ENCRYPTION_KEY    32 bytes, base64 (keep it in your secrets manager)

Without them the script runs offline: the shipped local Cognito (the ``local`` extra),
the repository's bearer-checked test API, and a redis-server of its own (Debian's
``redis-server`` package; tests/redis_server.py starts it on a free loopback port).
``--trio`` runs the workers on trio.

    python examples/redis_token_store.py [--trio]
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import anyio
import httpx

from acognito.auth import ClientCredentialsAuth
from acognito.stores import RedisTokenStore

WORKERS = 4
REQUESTS = 10


async def worker(config: dict[str, str]) -> None:
    """One process of the fleet: REQUESTS concurrent calls through a shared token."""
    key = base64.b64decode(config["encryption_key"])
    async with (
        RedisTokenStore(config["redis_url"], encryption_key=key) as store,
        ClientCredentialsAuth(
            config["domain"],
            config["client_id"],
            config["client_secret"],
            scopes=config["scopes"] or None,
            store=store,
        ) as auth,
        httpx.AsyncClient(auth=auth, base_url=config["api"]) as http,
    ):
        statuses: list[int] = []

        async def one(i: int) -> None:
            statuses.append((await http.get(f"/orders/{i}")).status_code)

        async with anyio.create_task_group() as tg:
            for i in range(REQUESTS):
                tg.start_soon(one, i)
        assert statuses == [200] * REQUESTS, statuses
        print(f"worker {os.getpid()}: {len(statuses)} requests, all 200")


def configuration(stack: ExitStack) -> tuple[dict[str, str], object]:
    """The pool, API and Redis to use; and a function counting token requests (or None)."""
    if os.environ.get("ACOGNITO_DOMAIN"):
        return {
            "domain": os.environ["ACOGNITO_DOMAIN"],
            "client_id": os.environ["ACOGNITO_CLIENT_ID"],
            "client_secret": os.environ["ACOGNITO_CLIENT_SECRET"],
            "scopes": os.environ.get("ACOGNITO_SCOPES", ""),
            "api": os.environ["API_URL"],
            "redis_url": os.environ["REDIS_URL"],
            "encryption_key": os.environ["TOKEN_ENCRYPTION_KEY"],
        }, None
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from acognito.testing import CognitoAdmin, LocalCognito
    from asgi_helpers import BearerTestApi, ThreadedAsgiServer
    from redis_server import RedisServer

    local = stack.enter_context(LocalCognito())
    redis = stack.enter_context(RedisServer())

    async def set_up() -> tuple[str, str, str]:
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            pool_id = await admin.create_pool()
            app = await admin.create_m2m_client(pool_id, identifier="orders", scopes=["read"])
        assert app.client_secret is not None
        return pool_id, app.client_id, app.client_secret

    pool_id, client_id, client_secret = anyio.run(set_up)

    class Pool:  # what BearerTestApi checks tokens against
        jwks_url = f"{local.endpoint_url}/{pool_id}/.well-known/jwks.json"
        issuer = f"https://cognito-idp.{local.region}.amazonaws.com/{pool_id}"

    api = stack.enter_context(ThreadedAsgiServer(BearerTestApi(Pool)))
    print(f"(no ACOGNITO_DOMAIN: the local Cognito, a test API and Redis at {redis.url})")

    def token_requests() -> int:
        counts = local.api.call("oauth/stats")["counts"]
        return int(counts.get("token:client_credentials", 0))

    return {
        "domain": local.oauth_domain_url(pool_id),
        "client_id": client_id,
        "client_secret": client_secret,
        "scopes": "orders/read",
        "api": api.url,
        "redis_url": redis.url,
        "encryption_key": base64.b64encode(os.urandom(32)).decode(),
    }, token_requests


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        backend = "trio" if "--trio" in sys.argv else "asyncio"
        anyio.run(worker, json.loads(sys.stdin.read()), backend=backend)
        return
    with ExitStack() as stack:
        config, token_requests = configuration(stack)
        flags = ["--trio"] if "--trio" in sys.argv else []
        workers = [
            subprocess.Popen(
                [sys.executable, __file__, "--worker", *flags],
                stdin=subprocess.PIPE,
                text=True,
            )
            for _ in range(WORKERS)
        ]
        for process in workers:
            assert process.stdin is not None
            process.stdin.write(json.dumps(config))
            process.stdin.close()
        assert all(process.wait(timeout=120) == 0 for process in workers)
        if callable(token_requests):
            made = token_requests()
            print(f"{WORKERS} workers x {REQUESTS} requests: {made} token request(s) to Cognito")
            if made > 1:  # Redis answered a worker later than the store's 250 ms bound
                print("(a worker did not hear from Redis in time and fetched by itself)")
            assert 1 <= made <= WORKERS, made


if __name__ == "__main__":
    main()
