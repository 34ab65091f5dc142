"""A fleet sharing one machine-to-machine token through RedisTokenStore.

8 worker processes, each sending 50 concurrent requests through its own
``ClientCredentialsAuth`` for 3 token lifetimes, against the shipped local Cognito's
token endpoint (an M2M client whose access tokens live ``--lifetime`` seconds) and a
loopback API. Three phases in one run, side by side:

- ``no store``: every process fetches its own token (at least 8 per lifetime);
- ``RedisTokenStore``: the fleet shares one (about 1 per lifetime: one at the start,
  then one each time the token is 75 % through its life);
- ``Redis killed``: as above, but the redis-server is killed (SIGKILL) halfway through
  and started again a lifetime later: no request may fail.

Token requests are counted by the local Cognito (its test API's OAuth2 counts). Redis
round trips per warm request are counted in each worker: the store calls made while a
request was served from the process's own copy of the token (no fetch started or
ended during it) must be 0; Redis's own command count gives the round trips of the
whole run.

Run: ``python benchmarks/bench_fleet.py [--quick] [--workers 8] [--concurrency 50]
[--lifetime 6] [--lifetimes 3]`` (needs Debian's ``redis-server``; about 90 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from _common import print_table, verdict  # noqa: E402

from acognito.auth import ClientCredentialsAuth  # noqa: E402
from acognito.events import AuthEvent  # noqa: E402
from acognito.stores import RedisTokenStore  # noqa: E402
from acognito.stores._shared import guard  # noqa: E402

KEY = bytes(range(32))


# --------------------------------------------------------------------------- the API


async def _api_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """HTTP/1.1 keep-alive: 200 to a bearer JWT, 401 to anything else."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            auth = ""
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "authorization":
                    auth = value.strip()
                elif name.lower() == "content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            ok = auth.startswith("Bearer ") and auth.count(".") == 2
            status = b"200 OK" if ok else b"401 Unauthorized"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def serve_api(port_file: str) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_api_connection, "127.0.0.1", 0, backlog=1024)
        Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))  # noqa: ASYNC240
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# --------------------------------------------------------------------------- a worker


async def work(config: dict[str, Any]) -> dict[str, Any]:
    store = None
    if config["redis_url"]:
        store = RedisTokenStore(config["redis_url"], encryption_key=KEY)
    fetches = 0
    fetch_times: list[float] = []

    def count(event: AuthEvent) -> None:
        nonlocal fetches
        fetches += 1

    auth = ClientCredentialsAuth(
        config["domain"], config["client_id"], config["client_secret"], store=store
    )
    auth.events.subscribe(count)
    ok = failed = warm = warm_store_calls = 0
    errors: list[str] = []
    limits = httpx.Limits(max_connections=config["concurrency"])
    async with httpx.AsyncClient(auth=auth, base_url=config["api"], limits=limits) as http:
        # Ready (imports done, clients made): the parent answers with the start time.
        print("ready", flush=True)
        start_at = float(await anyio.to_thread.run_sync(sys.stdin.readline))
        end = start_at + config["duration"]
        late = time.time() - start_at
        await anyio.sleep(max(0.0, -late))

        async def user() -> None:
            nonlocal ok, failed, warm, warm_store_calls
            flight = auth._cache._async_flight  # a token fetch of this process under way
            while time.time() < end:
                fetches_before = fetches
                busy = flight.in_flight
                calls_before = guard(store).calls if store is not None else 0
                started = time.perf_counter()
                try:
                    response = await http.get("/orders")
                except Exception as exc:
                    failed += 1
                    errors.append(type(exc).__name__)
                else:
                    if response.status_code == 200:
                        ok += 1
                    else:
                        failed += 1
                        errors.append(str(response.status_code))
                busy = busy or flight.in_flight or fetches != fetches_before
                if fetches != fetches_before:
                    fetch_times.append(time.perf_counter() - started)
                if not busy:  # served from this process's own copy, no fetch alongside
                    warm += 1
                    if store is not None:
                        warm_store_calls += guard(store).calls - calls_before
                await anyio.sleep(config["pause"])

        async with anyio.create_task_group() as tg:
            for _ in range(config["concurrency"]):
                tg.start_soon(user)
    await auth.aclose()
    if store is not None:
        outages = guard(store).outages
        await store.aclose()
    else:
        outages = 0
    return {
        "ok": ok,
        "failed": failed,
        "errors": sorted(set(errors))[:5],
        "warm": warm,
        "warm_store_calls": warm_store_calls,
        "fetches": fetches,
        "outages": outages,
        "late": late,
        "slowest_fetch": max(fetch_times, default=0.0),
    }


# --------------------------------------------------------------------------- the run


def redis_commands(redis: Any) -> int:
    raw = redis.command("INFO", "stats").decode("latin-1")
    for line in raw.splitlines():
        if line.startswith("total_commands_processed:"):
            return int(line.split(":")[1])
    return 0


def run_phase(
    name: str, config: dict[str, Any], args: argparse.Namespace, local: Any, redis: Any
) -> dict[str, Any]:
    local.api.oauth_reset()
    duration = args.lifetime * args.lifetimes
    phase = dict(config, duration=duration)
    if name == "no store":
        phase["redis_url"] = None
    commands_before = redis_commands(redis) if phase["redis_url"] else 0
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", json.dumps(phase)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(args.workers)
    ]
    for proc in procs:  # every worker is up before any starts
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    start_at = time.time() + 0.5
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{start_at}\n")
        proc.stdin.flush()
    killed_at = restarted_at = None
    if name == "Redis killed":
        time.sleep(max(0.0, start_at + duration / 2 - time.time()))
        redis.kill()
        killed_at = time.time() - start_at
        time.sleep(args.lifetime)
        redis.start()
        restarted_at = time.time() - start_at
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=duration + 120)
        if proc.returncode != 0:
            raise SystemExit(f"a worker failed in phase {name!r}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    counts = local.api.call("oauth/stats")["counts"]
    token_requests = int(counts.get("token:client_credentials", 0))
    total = sum(r["ok"] + r["failed"] for r in results)
    # A restarted Redis starts counting again: no figure for that phase.
    commands = None
    if phase["redis_url"] and killed_at is None:
        commands = redis_commands(redis) - commands_before
    return {
        "phase": name,
        "token_requests": token_requests,
        "per_lifetime": token_requests / args.lifetimes,
        "requests": total,
        "failed": sum(r["failed"] for r in results),
        "errors": sorted({e for r in results for e in r["errors"]}),
        "warm": sum(r["warm"] for r in results),
        "warm_store_calls": sum(r["warm_store_calls"] for r in results),
        "redis_commands": commands,
        "outages": sum(r["outages"] for r in results),
        "late": max(r["late"] for r in results),
        "slowest_fetch": max(r["slowest_fetch"] for r in results),
        "killed_at": killed_at,
        "restarted_at": restarted_at,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--lifetime", type=int, default=6, help="token lifetime, seconds")
    parser.add_argument("--lifetimes", type=int, default=3)
    parser.add_argument(
        "--pause", type=float, default=1.0, help="seconds each request loop rests between requests"
    )
    parser.add_argument("--quick", action="store_true", help="4 workers x 20, 5 s tokens")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(anyio.run(work, json.loads(args.worker))))
        return
    if args.quick:
        args.workers, args.concurrency, args.lifetime = 4, 20, 5

    from acognito.testing import CognitoAdmin, LocalCognito
    from redis_server import RedisServer

    with LocalCognito() as local, RedisServer() as redis:

        async def set_up() -> tuple[str, str, str]:
            async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
                pool_id = await admin.create_pool()
                app = await admin.create_m2m_client(
                    pool_id,
                    identifier="orders",
                    scopes=["read"],
                    AccessTokenValidity=args.lifetime,
                    TokenValidityUnits={"AccessToken": "seconds"},
                )
            assert app.client_secret is not None
            return pool_id, app.client_id, app.client_secret

        pool_id, client_id, client_secret = anyio.run(set_up)
        port_file = redis.directory / "api.port"
        api = subprocess.Popen([sys.executable, __file__, "--api", str(port_file)])
        try:
            while not port_file.exists() or not port_file.read_text():
                time.sleep(0.05)
            config = {
                "domain": local.oauth_domain_url(pool_id),
                "client_id": client_id,
                "client_secret": client_secret,
                "api": f"http://127.0.0.1:{port_file.read_text()}",
                "redis_url": redis.url,
                "concurrency": args.concurrency,
                "pause": args.pause,
            }
            print(
                f"{args.workers} workers x {args.concurrency} concurrent requests, "
                f"{args.lifetimes} token lifetimes of {args.lifetime} s each phase"
            )
            rows = [
                run_phase(name, config, args, local, redis)
                for name in ("no store", "RedisTokenStore", "Redis killed")
            ]
        finally:
            api.terminate()
            api.wait()

    print_table(
        [
            "phase",
            "token requests",
            "per lifetime",
            "requests",
            "failed",
            "warm",
            "store calls in warm",
            "Redis cmds",
            "Redis cmds/request",
            "outages",
            "worst start",
            "slowest token wait",
        ],
        [
            [
                r["phase"],
                r["token_requests"],
                f"{r['per_lifetime']:.2f}",
                r["requests"],
                r["failed"],
                r["warm"],
                r["warm_store_calls"],
                "-" if r["redis_commands"] is None else r["redis_commands"],
                "-"
                if r["redis_commands"] is None
                else f"{r['redis_commands'] / max(1, r['requests']):.4f}",
                r["outages"],
                f"{r['late']:+.2f} s",
                f"{r['slowest_fetch'] * 1000:.0f} ms",
            ]
            for r in rows
        ],
    )
    bare, shared, killed = rows
    if killed["killed_at"] is not None:
        print(
            f"Redis killed at {killed['killed_at']:.1f} s, started again at "
            f"{killed['restarted_at']:.1f} s; outages seen by workers: {killed['outages']}"
        )
    if any(r["errors"] for r in rows):
        print("errors:", {r["phase"]: r["errors"] for r in rows if r["errors"]})
    # One token at the start, then one each 75 % of a lifetime: lifetimes / 0.75 + 1.
    expected = args.lifetimes / 0.75 + 1
    checks = [
        (
            f"RedisTokenStore: ~1 token request per lifetime (<= {expected:.0f} in "
            f"{args.lifetimes} lifetimes)",
            shared["token_requests"] <= expected,
        ),
        (
            f"no store: >= {args.workers} token requests per lifetime",
            bare["per_lifetime"] >= args.workers,
        ),
        (
            "Redis round trips per warm request: 0",
            shared["warm_store_calls"] == 0 and killed["warm_store_calls"] == 0,
        ),
        ("Redis killed mid-run: 0 failed requests", killed["failed"] == 0),
        ("no failed request in any phase", all(r["failed"] == 0 for r in rows)),
    ]
    for text, ok in checks:
        print(f"{verdict(ok)}  {text}")
    if not all(ok for _, ok in checks):
        raise SystemExit(1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--api":
        serve_api(sys.argv[2])
    else:
        main()
