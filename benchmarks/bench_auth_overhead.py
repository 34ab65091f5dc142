"""Per-request overhead of ClientCredentialsAuth against a static ``Authorization`` header.

Both variants send the same requests through the same httpx client to the same local
API (a bearer-checked test API and the local Cognito's OAuth2 domain, served by a child
process so the client side is measured alone). The two variants alternate request by
request; the figures are medians of the per-request times. Also timed without any
I/O: the auth flow alone against setting the header by hand. Target: <= 10 % overhead.

Run: ``python benchmarks/bench_auth_overhead.py [--requests N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import auth_flow_cost_async, auth_flow_cost_sync  # noqa: E402

from acognito.auth import ClientCredentialsAuth  # noqa: E402
from acognito.oauth import OAuth2Client, SyncOAuth2Client  # noqa: E402

TARGET = 0.10


def serve() -> None:
    """Child process: run the local Cognito and the API; print where they are."""
    from acognito.testing import CognitoAdmin, LocalCognito
    from asgi_helpers import BearerTestApi, ThreadedAsgiServer

    with LocalCognito() as local:

        async def set_up() -> tuple[str, str, str]:
            async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
                pool_id = await admin.create_pool()
                app = await admin.create_m2m_client(pool_id, scopes=("read",))
            assert app.client_secret is not None
            return pool_id, app.client_id, app.client_secret

        pool_id, client_id, client_secret = anyio.run(set_up)

        class Pool:  # the pool whose tokens the API accepts (JWKS and issuer)
            jwks_url = f"{local.endpoint_url}/{pool_id}/.well-known/jwks.json"
            issuer = f"https://cognito-idp.{local.region}.amazonaws.com/{pool_id}"

        local.api.oauth_reset()
        with ThreadedAsgiServer(BearerTestApi(Pool)) as running:
            info = {
                "oauth": local.oauth_domain_url(pool_id),
                "api": running.url,
                "client_id": client_id,
                "client_secret": client_secret,
            }
            print(json.dumps(info), flush=True)
            sys.stdin.read()  # until the parent closes our stdin
            counts = local.api.oauth_counts()
            print(json.dumps({"token_requests": counts.get("/oauth2/token", 0)}), flush=True)


async def bench_async(info: dict[str, Any], requests: int) -> dict[str, float]:
    auth = ClientCredentialsAuth(
        info["oauth"], info["client_id"], info["client_secret"], scopes="api/read"
    )
    async with OAuth2Client(
        info["oauth"], info["client_id"], client_secret=info["client_secret"]
    ) as oauth:
        static = {"Authorization": f"Bearer {(await oauth.client_credentials()).access_token}"}
    url = info["api"] + "/bench"
    async with httpx.AsyncClient() as http:

        async def run_static() -> None:
            response = await http.get(url, headers=static)
            assert response.status_code == 200

        async def run_auth() -> None:
            response = await http.get(url, auth=auth)
            assert response.status_code == 200

        for _ in range(200):  # warm: connections, token cached, code paths hot
            await run_static()
            await run_auth()
        per: dict[str, list[float]] = {"static": [], "auth": []}
        clock = time.perf_counter
        for i in range(requests):
            # Alternate which variant goes first so drift and caching favour neither.
            pair = (("static", run_static), ("auth", run_auth))
            for name, fn in pair if i % 2 == 0 else pair[::-1]:
                start = clock()
                await fn()
                per[name].append(clock() - start)
        # The auth flow alone, no I/O, against what httpx runs without an auth (its base
        # Auth flow) plus setting the header by hand.
        flow_cost = await auth_flow_cost_async(auth, url, static["Authorization"])
    await auth.aclose()
    return {
        "static": statistics.median(per["static"]),
        "auth": statistics.median(per["auth"]),
        **flow_cost,
    }


def bench_sync(info: dict[str, Any], requests: int) -> dict[str, float]:
    auth = ClientCredentialsAuth(
        info["oauth"], info["client_id"], info["client_secret"], scopes="api/read"
    )
    with SyncOAuth2Client(
        info["oauth"], info["client_id"], client_secret=info["client_secret"]
    ) as oauth:
        static = {"Authorization": f"Bearer {oauth.client_credentials().access_token}"}
    url = info["api"] + "/bench"
    per: dict[str, list[float]] = {"static": [], "auth": []}
    with httpx.Client() as http:

        def run_static() -> None:
            assert http.get(url, headers=static).status_code == 200

        def run_auth() -> None:
            assert http.get(url, auth=auth).status_code == 200

        for _ in range(200):
            run_static()
            run_auth()
        clock = time.perf_counter
        for i in range(requests):
            pair = (("static", run_static), ("auth", run_auth))
            for name, fn in pair if i % 2 == 0 else pair[::-1]:
                start = clock()
                fn()
                per[name].append(clock() - start)
        flow_cost = auth_flow_cost_sync(auth, url, static["Authorization"])
    auth.close()
    return {
        "static": statistics.median(per["static"]),
        "auth": statistics.median(per["auth"]),
        **flow_cost,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="per variant and mode")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return

    child = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        info = json.loads(child.stdout.readline())
        results = {
            "asyncio": anyio.run(bench_async, info, args.requests, backend="asyncio"),
            "trio": anyio.run(bench_async, info, args.requests, backend="trio"),
            "sync": bench_sync(info, args.requests),
        }
        child.stdin.close()
        token_requests = json.loads(child.stdout.readline())["token_requests"]
    finally:
        if child.poll() is None:
            child.terminate()
        child.wait(timeout=10)

    print("ClientCredentialsAuth vs a static Authorization header, same httpx client, local API")
    print(
        f"{args.requests} sequential requests per variant and mode, the variants alternating "
        "request by request; medians of the per-request times"
    )
    print()
    header = (
        f"{'mode':<8} {'static header':>14} {'ClientCredentialsAuth':>22} "
        f"{'ratio':>7} {'overhead':>9}"
    )
    print(header)
    print("-" * len(header))
    verdicts = []
    for mode, r in results.items():
        ratio = r["auth"] / r["static"]
        verdicts.append(ratio - 1 <= TARGET)
        print(
            f"{mode:<8} {r['static'] * 1e6:>11.1f} us {r['auth'] * 1e6:>19.1f} us "
            f"{ratio:>7.3f} {100 * (ratio - 1):>+8.1f}%"
        )
    print()
    print("the auth flow alone (no I/O), per request, against httpx's no-auth flow:")
    for mode, r in results.items():
        print(
            f"  {mode:<8} no auth + header by hand {r['flow_static'] * 1e6:6.2f} us, "
            f"auth flow {r['flow_auth'] * 1e6:6.2f} us "
            f"({(r['flow_auth'] - r['flow_static']) * 1e6:+.2f} us)"
        )
    print()
    print(f"token requests made by the auths and the static-token set-up: {token_requests}")
    met = all(verdicts)
    print(f"target: overhead <= {TARGET:.0%} in every mode: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
