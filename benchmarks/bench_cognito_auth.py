"""CognitoAuth: one refresh for a burst on an expired token, and its per-request overhead.

A child process runs the shipped local Cognito (acognito.testing.LocalCognito through
tests/local_server.py: real SRP, refresh, request log) and a local API that verifies
every bearer token with CognitoVerifier (tests/auth_test_servers.py, served by
hypercorn), so the client side is measured alone. Both processes share a shifted wall
clock, moved together to expire tokens.

1. Burst: one CognitoAuth signs in, the clock moves past the access token's expiry,
   then 1,000 requests start at once (asyncio and trio; 32 threads x 10 requests for
   ``httpx.Client``). PASS when exactly one refresh reached the test server and every
   request carried the new token (the API's record), with no 401.
2. Overhead: the same httpx client sends sequential requests, alternating one with
   ``auth=CognitoAuth`` and one with a static ``Authorization`` header holding the same
   token; medians of the per-request times and their ratio (target <= 10 %), on
   asyncio, trio and the blocking client. For reference, pycognito's RequestsSrpAuth
   against a static header on a ``requests.Session`` (pycognito is sync-only), and the
   auth flow alone without I/O.

Run: ``python benchmarks/bench_cognito_auth.py [--requests N] [--burst N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import auth_flow_cost_async, auth_flow_cost_sync, verdict  # noqa: E402

from acognito.auth import CognitoAuth  # noqa: E402
from auth_test_servers import ShiftedClock  # noqa: E402

TARGET = 0.10
USER = "bench-user"
PASSWORD = "Bench-Passw0rd!"  # noqa: S105 - a local test fixture
HOUR = 3600.0


# --------------------------------------------------------------------------- child process


def serve() -> None:
    """Child: the Cognito test server and the verifying API; commands on stdin, one a line."""
    from acognito import CognitoVerifier
    from asgi_helpers import ThreadedAsgiServer
    from auth_test_servers import VerifiedTestApi
    from local_server import LocalClock, LocalServer

    with LocalServer() as server:
        clock = LocalClock(server)  # moves the local Cognito's clock too
        pool_id = server.create_pool(region="us-east-1")
        client_id, _ = server.create_client(pool_id)
        server.create_user(pool_id, USER, PASSWORD)
        verifier = CognitoVerifier(
            pool_id,
            client_id=client_id,
            token_use="access",
            jwks_uri=server.jwks_url(pool_id),
            issuer=server.issuer_url(pool_id),
            clock=clock,
        )
        api = VerifiedTestApi(verifier)
        with ThreadedAsgiServer(api) as running:
            info = {
                "endpoint": server.endpoint_url,
                "pool_id": pool_id,
                "client_id": client_id,
                "api": running.url,
                "jwks": server.jwks(pool_id),
            }
            print(json.dumps(info), flush=True)
            for line in sys.stdin:
                command, _, arg = line.strip().partition(" ")
                if command == "advance":
                    clock.advance(float(arg))
                    reply: Any = "ok"
                elif command == "reset":
                    server.local.api.record_requests(True, clear=True)
                    api.tokens_seen.clear()
                    api.requests = api.rejected = 0
                    reply = "ok"
                else:  # counts
                    refreshes = sum(
                        1
                        for r in server.requests
                        if r.operation == "InitiateAuth"
                        and r.params.get("AuthFlow") == "REFRESH_TOKEN_AUTH"
                    )
                    reply = {
                        "refreshes": refreshes,
                        "sign_ins": server.count("RespondToAuthChallenge"),
                        "requests": api.requests,
                        "rejected": api.rejected,
                        "tokens_seen": dict(api.tokens_seen),
                    }
                print(json.dumps(reply), flush=True)


class Child:
    """The parent's handle on the child process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        assert self.proc.stdout is not None
        self.info: dict[str, Any] = json.loads(self.proc.stdout.readline())
        self.clock = ShiftedClock()  # moved in step with the child's

    def ask(self, command: str) -> Any:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def advance(self, seconds: float) -> None:
        self.ask(f"advance {seconds}")
        self.clock.advance(seconds)

    def auth(self) -> CognitoAuth:
        info = self.info
        return CognitoAuth.from_password(
            info["pool_id"],
            info["client_id"],
            USER,
            PASSWORD,
            user_pool_region="us-east-1",
            endpoint_url=info["endpoint"],
            access_key="testing",
            secret_key="testing",  # noqa: S106 - the test server ignores it
            jwks=info["jwks"],
            clock=self.clock,
        )

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def burst_verdict(
    counts: dict[str, Any], new_token: str, n: int, statuses: list[int]
) -> dict[str, Any]:
    seen = counts["tokens_seen"]
    ok = (
        counts["refreshes"] == 1
        and seen == {new_token: n}
        and counts["rejected"] == 0
        and statuses == [200] * n
    )
    return {
        "requests": n,
        "refreshes": counts["refreshes"],
        "with_new_token": seen.get(new_token, 0),
        "other_tokens": sum(v for k, v in seen.items() if k != new_token),
        "rejected": counts["rejected"],
        "ok": ok,
    }


# --------------------------------------------------------------------------- async side


async def bench_async(child: Child, requests: int, burst: int) -> dict[str, Any]:
    auth = child.auth()
    url = child.info["api"] + "/bench"
    result: dict[str, Any] = {}
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100)) as http:
        # 1. The burst on an expired token.
        assert (await http.get(url, auth=auth)).status_code == 200  # signs in
        child.advance(HOUR + 1)
        child.ask("reset")
        statuses: list[int] = []

        async def one() -> None:
            statuses.append((await http.get(url, auth=auth)).status_code)

        start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(burst):
                tg.start_soon(one)
        result["burst_seconds"] = time.perf_counter() - start
        token = auth.cognito.access_token
        assert token is not None
        result["burst"] = burst_verdict(child.ask("counts"), token, burst, statuses)

        # 2. Per-request overhead against a static header with the same token.
        static = {"Authorization": f"Bearer {await auth.get_token()}"}

        async def run_static() -> None:
            assert (await http.get(url, headers=static)).status_code == 200

        async def run_auth() -> None:
            assert (await http.get(url, auth=auth)).status_code == 200

        result.update(await _alternate(run_static, run_auth, requests))
        result.update(await auth_flow_cost_async(auth, url, static["Authorization"]))
    await auth.aclose()
    return result


async def _alternate(
    run_static: Callable[[], Any], run_auth: Callable[[], Any], requests: int
) -> dict[str, float]:
    for _ in range(200):  # warm: connections, verified-token cache, code paths
        await run_static()
        await run_auth()
    per: dict[str, list[float]] = {"static": [], "auth": []}
    clock = time.perf_counter
    for i in range(requests):
        pair = (("static", run_static), ("auth", run_auth))
        for name, fn in pair if i % 2 == 0 else pair[::-1]:
            start = clock()
            await fn()
            per[name].append(clock() - start)
    return {"static": statistics.median(per["static"]), "auth": statistics.median(per["auth"])}


# --------------------------------------------------------------------------- blocking side


def bench_sync(child: Child, requests: int) -> dict[str, Any]:
    auth = child.auth()
    url = child.info["api"] + "/bench"
    result: dict[str, Any] = {}
    threads, each = 32, 10
    with httpx.Client(limits=httpx.Limits(max_connections=threads)) as http:
        assert http.get(url, auth=auth).status_code == 200  # signs in on the private loop
        child.advance(HOUR + 1)
        child.ask("reset")

        def work(_: int) -> list[int]:
            return [http.get(url, auth=auth).status_code for _ in range(each)]

        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            statuses = [s for batch in pool.map(work, range(threads)) for s in batch]
        result["burst_seconds"] = time.perf_counter() - start
        token = auth.cognito.access_token
        assert token is not None
        result["burst"] = burst_verdict(child.ask("counts"), token, threads * each, statuses)

        static = {"Authorization": f"Bearer {auth.get_token_sync()}"}

        def run_static() -> None:
            assert http.get(url, headers=static).status_code == 200

        def run_auth() -> None:
            assert http.get(url, auth=auth).status_code == 200

        result.update(_alternate_sync(run_static, run_auth, requests))
        result.update(auth_flow_cost_sync(auth, url, static["Authorization"]))
    auth.close()
    return result


def _alternate_sync(
    run_static: Callable[[], None], run_auth: Callable[[], None], requests: int
) -> dict[str, float]:
    for _ in range(200):
        run_static()
        run_auth()
    per: dict[str, list[float]] = {"static": [], "auth": []}
    clock = time.perf_counter
    for i in range(requests):
        pair = (("static", run_static), ("auth", run_auth))
        for name, fn in pair if i % 2 == 0 else pair[::-1]:
            start = clock()
            fn()
            per[name].append(clock() - start)
    return {"static": statistics.median(per["static"]), "auth": statistics.median(per["auth"])}


def bench_pycognito(child: Child, requests: int, token: dict[str, str]) -> dict[str, float]:
    """pycognito's RequestsSrpAuth (built on already issued tokens) vs a static header."""
    import requests as requests_lib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pycognito import Cognito
        from pycognito.utils import RequestsSrpAuth

    info = child.info
    cognito = Cognito(
        info["pool_id"],
        info["client_id"],
        user_pool_region="us-east-1",
        username=USER,
        access_key="testing",
        secret_key="testing",  # noqa: S106
        id_token=token["id"],
        access_token=token["access"],
        refresh_token=token["refresh"],
        boto3_client_kwargs={"endpoint_url": info["endpoint"]},
    )
    auth = RequestsSrpAuth(cognito=cognito)
    url = info["api"] + "/bench"
    static = {"Authorization": f"Bearer {token['access']}"}
    with requests_lib.Session() as http:

        def run_static() -> None:
            assert http.get(url, headers=static).status_code == 200

        def run_auth() -> None:
            assert http.get(url, auth=auth).status_code == 200

        return _alternate_sync(run_static, run_auth, requests)


# --------------------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="per variant and mode")
    parser.add_argument("--burst", type=int, default=1000, help="concurrent requests")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return

    child = Child()
    try:
        results = {
            "asyncio": anyio.run(bench_async, child, args.requests, args.burst, backend="asyncio"),
            "trio": anyio.run(bench_async, child, args.requests, args.burst, backend="trio"),
            "sync": bench_sync(child, args.requests),
        }
        # pycognito's auth on tokens issued now (valid for its real clock and the API's).
        token = anyio.run(_fresh_tokens, child.auth())
        pyc = bench_pycognito(child, args.requests, token)
    finally:
        child.close()

    print("CognitoAuth, loopback Cognito test server + a verifying API (child process)")
    print()
    print("1. Requests started at once on an expired access token")
    header = (
        f"{'mode':<8} {'requests':>9} {'refreshes':>10} {'new token':>10} "
        f"{'other':>6} {'401s':>5} {'seconds':>8}  verdict"
    )
    print(header)
    print("-" * len(header))
    burst_ok = []
    for mode, r in results.items():
        b = r["burst"]
        burst_ok.append(b["ok"])
        print(
            f"{mode:<8} {b['requests']:>9} {b['refreshes']:>10} {b['with_new_token']:>10} "
            f"{b['other_tokens']:>6} {b['rejected']:>5} {r['burst_seconds']:>8.2f}  "
            f"{verdict(b['ok'])}"
        )
    print("(sync: 32 threads x 10 requests on one httpx.Client)")
    print()
    print(
        f"2. Per-request cost, {args.requests} sequential requests per variant and mode, "
        "alternating; medians"
    )
    header = (
        f"{'mode':<10} {'static header':>14} {'auth':>12} {'ratio':>7} {'overhead':>9}  verdict"
    )
    print(header)
    print("-" * len(header))
    overhead_ok = []
    rows = [(f"{mode}", r) for mode, r in results.items()]
    for mode, r in rows:
        ratio = r["auth"] / r["static"]
        ok = ratio - 1 <= TARGET
        overhead_ok.append(ok)
        print(
            f"{mode:<10} {r['static'] * 1e6:>11.1f} us {r['auth'] * 1e6:>9.1f} us "
            f"{ratio:>7.3f} {100 * (ratio - 1):>+8.1f}%  {verdict(ok)}"
        )
    ratio = pyc["auth"] / pyc["static"]
    print(
        f"{'pycognito':<10} {pyc['static'] * 1e6:>11.1f} us {pyc['auth'] * 1e6:>9.1f} us "
        f"{ratio:>7.3f} {100 * (ratio - 1):>+8.1f}%  (RequestsSrpAuth on requests.Session; "
        "reference, no target)"
    )
    print()
    print("the auth flow alone (no I/O), per request, vs httpx's no-auth flow + header by hand:")
    for mode, r in results.items():
        print(
            f"  {mode:<8} by hand {r['flow_static'] * 1e6:6.2f} us, CognitoAuth "
            f"{r['flow_auth'] * 1e6:6.2f} us ({(r['flow_auth'] - r['flow_static']) * 1e6:+.2f} us)"
        )
    print()
    print(f"burst: exactly one refresh, every request with the new token: {verdict(all(burst_ok))}")
    print(f"overhead <= {TARGET:.0%} in every mode: {verdict(all(overhead_ok))}")


async def _fresh_tokens(auth: CognitoAuth) -> dict[str, str]:
    await auth.get_token()
    cognito = auth.cognito
    assert cognito.id_token
    assert cognito.access_token
    assert cognito.refresh_token
    tokens = {
        "id": cognito.id_token,
        "access": cognito.access_token,
        "refresh": cognito.refresh_token,
    }
    await auth.aclose()
    return tokens


if __name__ == "__main__":
    main()
