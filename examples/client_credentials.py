"""Call an API with machine-to-machine tokens (client_credentials) through httpx.

Configure a real pool with environment variables:

    ACOGNITO_DOMAIN         https://<prefix>.auth.<region>.amazoncognito.com (or a custom domain)
    ACOGNITO_CLIENT_ID      an app client with a secret and the client_credentials grant
    ACOGNITO_CLIENT_SECRET
    ACOGNITO_SCOPES         e.g. "orders/read orders/write" (optional)
    API_URL                 the resource server to call

Without them the script runs offline against the shipped local Cognito's OAuth2 domain
(``acognito.testing.LocalCognito``, the ``local`` extra: an M2M client with a resource
server ``orders``) and the repository's bearer-checked test API (tests/asgi_helpers.py,
served by hypercorn: ``pip install 'acognito[examples]'`` brings both). ``--trio`` runs
the async part on trio instead of asyncio.

    python examples/client_credentials.py [--trio]
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from pathlib import Path

import anyio
import httpx

from acognito.auth import ClientCredentialsAuth


def configuration(stack: ExitStack) -> dict[str, str]:
    """The pool to use: from the environment, or the local Cognito and the test API."""
    if os.environ.get("ACOGNITO_DOMAIN"):
        return {
            "domain": os.environ["ACOGNITO_DOMAIN"],
            "client_id": os.environ["ACOGNITO_CLIENT_ID"],
            "client_secret": os.environ["ACOGNITO_CLIENT_SECRET"],
            "scopes": os.environ.get("ACOGNITO_SCOPES", ""),
            "api": os.environ["API_URL"],
        }
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from acognito.testing import CognitoAdmin, LocalCognito
    from asgi_helpers import BearerTestApi, ThreadedAsgiServer

    local = stack.enter_context(LocalCognito())

    async def set_up() -> tuple[str, str, str]:
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            pool_id = await admin.create_pool()
            app = await admin.create_m2m_client(
                pool_id, identifier="orders", scopes=("read", "write")
            )
        assert app.client_secret is not None
        return pool_id, app.client_id, app.client_secret

    pool_id, client_id, client_secret = anyio.run(set_up)

    class Pool:  # what BearerTestApi checks tokens against: the pool's JWKS and issuer
        jwks_url = f"{local.endpoint_url}/{pool_id}/.well-known/jwks.json"
        issuer = f"https://cognito-idp.{local.region}.amazonaws.com/{pool_id}"

    api = stack.enter_context(ThreadedAsgiServer(BearerTestApi(Pool)))
    domain = local.oauth_domain_url(pool_id)
    print(f"(no ACOGNITO_DOMAIN: using the local Cognito's OAuth2 domain at {domain})")
    return {
        "domain": domain,
        "client_id": client_id,
        "client_secret": client_secret,
        "scopes": "orders/read",
        "api": api.url,
    }


async def call_concurrently(config: dict[str, str]) -> None:
    """Twenty concurrent requests: one token request is made, the others wait for it."""
    async with (
        ClientCredentialsAuth(
            config["domain"],
            config["client_id"],
            config["client_secret"],
            scopes=config["scopes"] or None,
        ) as auth,
        httpx.AsyncClient(auth=auth, base_url=config["api"]) as http,
    ):
        statuses: list[int] = []

        async def one(i: int) -> None:
            statuses.append((await http.get(f"/orders/{i}")).status_code)

        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(one, i)
        print(f"async: {len(statuses)} requests, statuses {sorted(set(statuses))}; {auth!r}")
        assert statuses == [200] * 20, statuses


def call_from_threads(config: dict[str, str]) -> None:
    """The same auth works with a blocking httpx.Client, no event loop involved."""
    with (
        ClientCredentialsAuth(
            config["domain"],
            config["client_id"],
            config["client_secret"],
            scopes=config["scopes"] or None,
        ) as auth,
        httpx.Client(auth=auth, base_url=config["api"]) as http,
    ):
        response = http.get("/orders/latest")
        print(f"sync: {response.status_code} {response.json() if response.is_success else ''}")
        assert response.status_code == 200, response.status_code


def main() -> None:
    backend = "trio" if "--trio" in sys.argv else "asyncio"
    with ExitStack() as stack:
        config = configuration(stack)
        anyio.run(call_concurrently, config, backend=backend)
        call_from_threads(config)


if __name__ == "__main__":
    main()
