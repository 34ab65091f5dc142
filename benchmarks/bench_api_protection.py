"""API protection, side by side in one run: a FastAPI route unprotected, protected by
acognito's ``CognitoBearer``, and protected by fastapi-cognito; then a Lambda
authorizer's cold start.

Run: ``python benchmarks/bench_api_protection.py [--quick] [--rounds R] [--requests N]``.

fastapi-cognito requires ``httpx2``, which changes aiobotocore's choice of HTTP backend,
so it is never installed in the project's own environment (``.[dev]``). This script
makes its own venv (``benchmarks/.venv-api-bench``: acognito from this checkout with the
``fastapi`` extra, plus fastapi-cognito) on first run and re-runs itself there; pass
``--python PATH`` to use another interpreter that has them.

Two harnesses, the apps taking turns in random order every 50 requests (25 served),
medians per request reported, counted in CPU time of the one thread that runs the app
(and, served, the server and the client too): on a shared, loaded machine wall time
measures the other tenants; it is printed for the cold starts. The harnesses: **served**
(each app behind hypercorn on loopback, one keep-alive httpx client sending requests one
after another: what a client sees) and **ASGI** (one
ASGI call straight into the app, no server or client: the app alone, its routing, its
dependency and its response; a no-op FastAPI dependency is timed too, as the floor of
any ``Depends``).

1. **Repeated token** (the same bearer token on every request, as a client sends it):
   CognitoBearer's time per request <= 1.15x the unprotected route's (served; the ASGI
   ratio is printed beside it).
2. **Distinct tokens** (a fresh token per request, so every request verifies an RS256
   signature): CognitoBearer's requests/s >= 1.5x fastapi-cognito's. Both verify against
   the same JWKS, fetched before timing from a loopback server.
3. **Lambda cold start** (a fresh interpreter per run, interleaved; the child's CPU
   time, user + system): ``import
   acognito.integrations.aws_lambda`` + building the verifier and authorizer + the
   first decision with ``COGNITO_JWKS`` set <= 1.3x the floor: ``import json, httpx``
   and cryptography's RSA + one raw RS256 verify (base64, JSON, PKCS#1 v1.5).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv-api-bench"
POOL = "us-east-1_ApiBench1"
CLIENT = "api-bench-client"


# --------------------------------------------------------------------------- the venv


def ensure_environment(python: str | None) -> None:
    """Re-run in an interpreter that has fastapi-cognito (making the venv if needed)."""
    try:
        import fastapi_cognito  # noqa: F401
    except ImportError:
        pass
    else:
        return
    if python is None:
        python = str(VENV / "bin" / "python")
        if not Path(python).exists():
            print(f"making {VENV} (fastapi-cognito needs httpx2: kept out of .[dev]) ...")
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            subprocess.run(
                [
                    python,
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "-e",
                    f"{ROOT}[fastapi]",
                    "fastapi-cognito",
                    "hypercorn",
                ],
                check=True,
            )
    args = [a for a in sys.argv[1:]]
    os.execv(python, [python, str(Path(__file__).resolve()), *args, "--in-venv"])


# --------------------------------------------------------------------------- the apps


def serve_jwks(jwks: dict[str, Any]) -> tuple[ThreadingHTTPServer, str]:
    body = json.dumps(jwks).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/{POOL}/.well-known/jwks.json"


def make_apps(jwks_url: str) -> dict[str, Any]:
    from fastapi import Depends, FastAPI, Request
    from fastapi_cognito import CognitoAuth, CognitoSettings
    from pydantic_settings import BaseSettings

    from acognito import CognitoVerifier
    from acognito.integrations.fastapi import CognitoBearer, CognitoClaims

    plain = FastAPI()

    @plain.get("/orders")
    async def plain_orders() -> dict[str, Any]:
        return {"orders": []}

    async def nothing(request: Request) -> None:
        return None

    # (this module's annotations are strings, and Request is a local name here)
    nothing.__annotations__ = {"request": Request, "return": None}

    noop = FastAPI()

    @noop.get("/orders")
    async def noop_orders(claims: Any = Depends(nothing)) -> dict[str, Any]:  # noqa: B008
        return {"orders": []}

    verifier = CognitoVerifier(POOL, client_id=CLIENT, token_use="access", jwks_uri=jwks_url)
    bearer = CognitoBearer(verifier)
    ours = FastAPI()

    @ours.get("/orders")
    async def our_orders(claims: CognitoClaims = Depends(bearer)) -> dict[str, Any]:  # noqa: B008
        return {"orders": []}

    class Settings(BaseSettings):
        check_expiration: bool = True
        jwt_header_name: str = "Authorization"
        jwt_header_prefix: str = "Bearer"
        userpools: dict[str, Any] = {
            "bench": {
                "region": "us-east-1",
                "userpool_id": POOL,
                "app_client_id": CLIENT,
                "jwks_url": jwks_url,
            }
        }

    auth = CognitoAuth(settings=CognitoSettings.from_global_settings(Settings()))
    theirs = FastAPI()

    @theirs.get("/orders")
    async def their_orders(claims: Any = Depends(auth.auth_required)) -> dict[str, Any]:  # noqa: B008
        return {"orders": []}

    return {
        "unprotected": plain,
        "no-op Depends": noop,
        "CognitoBearer": ours,
        "fastapi-cognito": theirs,
    }


async def call(app: Any, token: str | None) -> int:
    """One GET /orders straight through the ASGI interface; the status code."""
    headers = [(b"host", b"api")]
    if token is not None:
        headers.append((b"authorization", b"Bearer " + token.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/orders",
        "raw_path": b"/orders",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("api", 80),
    }
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


#: What the per-request figures count: this thread's CPU time. Everything timed (the ASGI
#: app, and for the served harness hypercorn and the httpx client too) runs in this one
#: thread, so on a shared, loaded machine CPU time is what the code costs, while wall time
#: mostly measures the other tenants (it is printed too, for reference).
clock = time.thread_time


async def per_request(app: Any, tokens: list[str | None]) -> float:
    """CPU seconds per request over ``tokens`` (each one request)."""
    start = clock()
    for token in tokens:
        status = await call(app, token)
        if status != 200:
            raise AssertionError(f"GET /orders answered {status}")
    return (clock() - start) / len(tokens)


async def served(apps: dict[str, Any], token: str, rounds: int, count: int) -> dict[str, float]:
    """Median seconds per request of each app behind hypercorn, one keep-alive client."""
    import socket

    import anyio
    import httpx
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    ports = {}
    for name in apps:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports[name] = sock.getsockname()[1]
    stop = anyio.Event()
    times: dict[str, list[float]] = {name: [] for name in apps}
    headers = {"Authorization": f"Bearer {token}"}
    async with anyio.create_task_group() as tg:
        for name, app in apps.items():
            config = Config()
            config.bind = [f"127.0.0.1:{ports[name]}"]
            config.accesslog = None
            config.errorlog = None
            tg.start_soon(lambda a=app, c=config: serve(a, c, shutdown_trigger=stop.wait))
        clients = {
            name: httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")
            for name, port in ports.items()
        }
        try:
            for name, client in clients.items():  # wait for each server; warm up
                for _ in range(200):
                    try:
                        await client.get("/orders", headers=headers)
                        break
                    except httpx.ConnectError:
                        await anyio.sleep(0.05)
                for _ in range(50):
                    await client.get("/orders", headers=headers)
            chunk = 25
            for _ in range(rounds):
                for _ in range(max(1, count // chunk)):
                    for name in random.sample(list(apps), len(apps)):
                        client = clients[name]
                        start = clock()
                        for _ in range(chunk):
                            resp = await client.get("/orders", headers=headers)
                            if resp.status_code != 200:
                                raise AssertionError(f"{name}: {resp.status_code}")
                        times[name].append((clock() - start) / chunk)
        finally:
            for client in clients.values():
                await client.aclose()
            stop.set()
    return {name: statistics.median(v) for name, v in times.items()}


# --------------------------------------------------------------------------- cold start

FLOOR = """
import base64, json, os
import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
jwk = json.loads(os.environ["COGNITO_JWKS"])["keys"][0]
def b64(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
key = rsa.RSAPublicNumbers(int.from_bytes(b64(jwk["e"]), "big"),
                           int.from_bytes(b64(jwk["n"]), "big")).public_key()
head, body, sig = os.environ["TOKEN"].split(".")
key.verify(b64(sig), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
assert json.loads(b64(body))["client_id"]
"""

LAMBDA = """
import os
import acognito.integrations.aws_lambda as aws_lambda
from acognito import CognitoVerifier
verifier = CognitoVerifier(os.environ["POOL"], client_id=os.environ["CLIENT"], token_use="access")
authorizer = aws_lambda.ApiGatewayAuthorizer(verifier)
event = {"type": "TOKEN", "authorizationToken": "Bearer " + os.environ["TOKEN"], "methodArn": "arn"}
assert authorizer.rest(event)["policyDocument"]["Statement"][0]["Effect"] == "Allow"
"""


def cold_starts(runs: int, env: dict[str, str]) -> dict[str, list[float]]:
    """CPU seconds (user + system) of each fresh interpreter, and wall seconds."""
    import resource

    times: dict[str, list[float]] = {"floor": [], "lambda": [], "floor wall": [], "lambda wall": []}
    for _ in range(runs):
        for name, code in random.sample([("floor", FLOOR), ("lambda", LAMBDA)], 2):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env=env, check=True)
            times[f"{name} wall"].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            times[name].append(cpu)
    return times


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and requests")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=400, help="per app and round")
    parser.add_argument("--cold-runs", type=int, default=25)
    parser.add_argument("--python", help="an interpreter with fastapi-cognito installed")
    parser.add_argument("--in-venv", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.in_venv:
        ensure_environment(args.python)
    if args.quick:
        args.rounds, args.requests, args.cold_runs = 5, 200, 10

    import anyio

    from acognito.testing import TokenIssuer

    issuer = TokenIssuer(POOL)
    server, jwks_url = serve_jwks(issuer.jwks())
    apps = make_apps(jwks_url)
    repeated = issuer.access_token(client_id=CLIENT, username="repeat")
    count = args.requests
    print(f"python {sys.version.split()[0]} at {sys.executable}")
    print(f"{args.rounds} rounds x {count} requests per app, taking turns every 50\n")

    async def run() -> dict[str, dict[str, list[float]]]:
        for app in apps.values():  # warm-up: JWKS fetched, caches filled, code paths hot
            await per_request(app, [repeated] * 50)
        same: dict[str, list[float]] = {name: [] for name in apps}
        fresh: dict[str, list[float]] = {
            name: [] for name in apps if name in ("CognitoBearer", "fastapi-cognito")
        }
        chunk = 50  # the apps take turns every 50 requests: drift hits them alike
        for _ in range(args.rounds):
            for _ in range(max(1, count // chunk)):
                for name in random.sample(list(apps), len(apps)):
                    same[name].append(await per_request(apps[name], [repeated] * chunk))
            for _ in range(max(1, count // chunk)):
                for name in random.sample(list(fresh), len(fresh)):
                    tokens = [
                        issuer.access_token(client_id=CLIENT, username=f"u{i}")
                        for i in range(chunk)
                    ]
                    fresh[name].append(await per_request(apps[name], tokens))
        return {"same": same, "fresh": fresh}

    measured = anyio.run(run)
    over_http = anyio.run(
        served,
        {k: v for k, v in apps.items() if k != "no-op Depends"},
        repeated,
        args.rounds,
        count // 2,
    )
    server.shutdown()
    same = {name: statistics.median(v) for name, v in measured["same"].items()}
    fresh = {name: statistics.median(v) for name, v in measured["fresh"].items()}

    print("per-request figures are CPU time of the one thread running app, server and client")
    print("\nrepeated token, served (hypercorn + keep-alive httpx client), per request")
    for name, seconds in over_http.items():
        ratio = seconds / over_http["unprotected"]
        print(f"  {name:16} {seconds * 1e6:8.1f} us   {ratio:5.2f}x unprotected")
    print("\nrepeated token, ASGI call (the app alone), per request")
    for name, seconds in same.items():
        ratio = seconds / same["unprotected"]
        print(f"  {name:16} {seconds * 1e6:8.1f} us   {ratio:5.2f}x unprotected")
    print("\ndistinct tokens (an RS256 verify each), per request and requests/s")
    for name, seconds in fresh.items():
        print(f"  {name:16} {seconds * 1e6:8.1f} us   {1 / seconds:8.0f} req/s")

    env = {
        **os.environ,
        "COGNITO_JWKS": json.dumps(issuer.jwks()),
        "TOKEN": repeated,
        "POOL": POOL,
        "CLIENT": CLIENT,
    }
    cold = cold_starts(args.cold_runs, env)
    floor, ours = statistics.median(cold["floor"]), statistics.median(cold["lambda"])
    floor_wall = statistics.median(cold["floor wall"])
    ours_wall = statistics.median(cold["lambda wall"])
    print(f"\nLambda cold start, {args.cold_runs} fresh interpreters each, interleaved (CPU; wall)")
    print(
        f"  floor (json, httpx, cryptography RSA, one RS256 verify) {floor * 1e3:7.1f} ms"
        f"  ({floor_wall * 1e3:.0f} ms wall)"
    )
    print(
        f"  import aws_lambda + first decision (COGNITO_JWKS)      {ours * 1e3:7.1f} ms"
        f"  ({ours_wall * 1e3:.0f} ms wall, {ours_wall / floor_wall:.2f}x)"
    )

    r1 = over_http["CognitoBearer"] / over_http["unprotected"]
    r1_asgi = same["CognitoBearer"] / same["unprotected"]
    r1_floor = same["no-op Depends"] / same["unprotected"]
    r2 = fresh["fastapi-cognito"] / fresh["CognitoBearer"]
    r3 = ours / floor
    checks = [
        ("repeated token <= 1.15x unprotected (served)", r1, r1 <= 1.15),
        ("distinct tokens req/s >= 1.5x fastapi-cognito", r2, r2 >= 1.5),
        ("Lambda cold start <= 1.3x floor", r3, r3 <= 1.3),
    ]
    print()
    for label, ratio, ok in checks:
        print(f"  {'PASS' if ok else 'MISS'}  {label}: {ratio:.2f}x")
    print(
        f"  (ASGI only: CognitoBearer {r1_asgi:.2f}x unprotected, where a no-op Depends "
        f"is {r1_floor:.2f}x)"
    )
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
