"""Password sign-ins per second: acognito vs pycognito vs bare aiobotocore, one run.

Run: ``python benchmarks/bench_signin.py [--quick] [--rounds R] [--signins N]``.
One moto server on loopback, one pool, ``--users`` users. Every contender signs in
``--signins`` times per round against that same server; the order of the contenders
rotates every round and the medians over the rounds are printed with their ratios.

* acognito: ``AsyncCognito.for_user(name).authenticate(pw, auth_flow="USER_PASSWORD_AUTH")``,
  20 at a time on asyncio, every child sharing one open parent session;
* acognito no-verify (only when ``verify_on_sign_in`` exists): the same without the token
  check, to show what verification costs;
* bare aiobotocore: the same InitiateAuth USER_PASSWORD_AUTH call, 20 at a time on one
  aiobotocore client with its default config: the raw limit of the transport;
* pycognito sequential: ``Cognito.admin_authenticate`` (AdminInitiateAuth ADMIN_NO_SRP_AUTH,
  pycognito's only password-sending flow) one at a time on one ``Cognito``;
* pycognito threads: the same from 20 threads, one ``Cognito`` per thread.

moto runs behind acognito's keep-alive runner (``LocalCognito``): every contender keeps
its connections open, as it would against real Cognito. ``--rtt MS`` holds every
response MS milliseconds (a stand-in for the round trip to a real region);
``--moto-closes`` runs moto's own server instead, which closes every connection.
Targets: acognito >= 3x pycognito sequential; acognito within 15 % of bare aiobotocore.
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import os
import platform
import sys
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from aiobotocore.session import get_session

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402

from acognito import AsyncCognito  # noqa: E402

TARGET_VS_PYCOGNITO = 3.0
TARGET_VS_BARE = 0.85  # within 15 %: acognito's rate >= 85 % of bare aiobotocore's

ACOGNITO = "acognito"
ACOGNITO_NV = "acognito no-verify"
BARE = "bare aiobotocore"
PY_SEQ = "pycognito sequential"
PY_THREADS = "pycognito threads"


async def run_concurrent(
    count: int, concurrency: int, names: tuple[str, ...], sign_in: Callable[[str], Awaitable[None]]
) -> None:
    """``count`` sign-ins, at most ``concurrency`` in flight, users taken in turn."""
    ticket = itertools.count()

    async def worker() -> None:
        while (i := next(ticket)) < count:
            await sign_in(names[i % len(names)])

    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker)


class Bench:
    """The contenders, opened once and kept warm between rounds."""

    def __init__(self, bp: common.BenchPool, concurrency: int) -> None:
        self.bp = bp
        self.concurrency = concurrency
        self.kwargs = bp.pool.cognito_kwargs()
        self.has_verify_flag = "verify_on_sign_in" in inspect.signature(AsyncCognito).parameters
        self.acognito_verifies: bool | None = None

    # ------------------------------------------------------------------ async side

    async def open(self, stack: Any) -> None:
        self.parent = await stack.enter_async_context(AsyncCognito(**self.kwargs))
        if self.has_verify_flag:
            self.parent_nv = await stack.enter_async_context(
                AsyncCognito(**self.kwargs, verify_on_sign_in=False)
            )
        self.bare = await stack.enter_async_context(
            get_session().create_client(
                "cognito-idp",
                region_name=self.bp.pool.region,
                endpoint_url=self.bp.pool.endpoint_url,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",  # noqa: S106
            )
        )

    def _acognito_sign_in(self, parent: AsyncCognito) -> Callable[[str], Awaitable[None]]:
        password = self.bp.password

        async def sign_in(name: str) -> None:
            child = parent.for_user(name)
            await child.authenticate(password, auth_flow="USER_PASSWORD_AUTH")
            if not child.access_token:
                raise RuntimeError("acognito sign-in returned no access token")
            if self.acognito_verifies is None and parent is self.parent:
                self.acognito_verifies = child.access_claims is not None

        return sign_in

    async def _bare_sign_in(self, name: str) -> None:
        resp = await self.bare.initiate_auth(
            ClientId=self.bp.pool.public_client.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": name, "PASSWORD": self.bp.password},
        )
        if "AccessToken" not in resp.get("AuthenticationResult", {}):
            raise RuntimeError("bare aiobotocore sign-in returned no access token")

    async def acognito(self, count: int) -> None:
        await run_concurrent(
            count, self.concurrency, self.bp.usernames, self._acognito_sign_in(self.parent)
        )

    async def acognito_nv(self, count: int) -> None:
        await run_concurrent(
            count, self.concurrency, self.bp.usernames, self._acognito_sign_in(self.parent_nv)
        )

    async def bare_aiobotocore(self, count: int) -> None:
        await run_concurrent(count, self.concurrency, self.bp.usernames, self._bare_sign_in)

    # ------------------------------------------------------------------ pycognito (threads)

    def open_pycognito(self) -> None:
        make = self.bp.pycognito_factory()
        self.py_seq = make()
        self.py_each = [make() for _ in range(self.concurrency)]
        self.executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="pycognito")

    def _py_sign_in(self, cognito: Any, name: str) -> None:
        cognito.username = name
        cognito.admin_authenticate(self.bp.password)
        if not cognito.access_claims or cognito.access_claims.get("username") != name:
            raise RuntimeError("pycognito sign-in did not verify the expected user's token")

    def pycognito_sequential(self, count: int) -> None:
        names = self.bp.usernames
        for i in range(count):
            self._py_sign_in(self.py_seq, names[i % len(names)])

    def pycognito_threads(self, count: int) -> None:
        ticket = itertools.count()
        names = self.bp.usernames

        def worker(cognito: Any) -> None:
            while (i := next(ticket)) < count:
                self._py_sign_in(cognito, names[i % len(names)])

        futures = [self.executor.submit(worker, c) for c in self.py_each]
        for future in futures:
            future.result()


def contenders(bench: Bench) -> list[tuple[str, Callable[[int], Awaitable[None]]]]:
    def in_thread(fn: Callable[[int], None]) -> Callable[[int], Awaitable[None]]:
        async def run(count: int) -> None:
            await anyio.to_thread.run_sync(fn, count)

        return run

    items: list[tuple[str, Callable[[int], Awaitable[None]]]] = [(ACOGNITO, bench.acognito)]
    if bench.has_verify_flag:
        items.append((ACOGNITO_NV, bench.acognito_nv))
    items += [
        (BARE, bench.bare_aiobotocore),
        (PY_SEQ, in_thread(bench.pycognito_sequential)),
        (PY_THREADS, in_thread(bench.pycognito_threads)),
    ]
    return items


def rotations(items: list[Any], rounds: int) -> Iterator[list[Any]]:
    for r in range(rounds):
        k = r % len(items)
        yield items[k:] + items[:k]


async def measure(bench: Bench, args: argparse.Namespace) -> Results:
    from contextlib import AsyncExitStack

    results: Results = {}
    async with AsyncExitStack() as stack:
        await bench.open(stack)
        await anyio.to_thread.run_sync(bench.open_pycognito)
        try:
            items = contenders(bench)
            for _name, run in items:  # warm-up: connections, JWKS, caches
                await run(args.warmup)
            for r, order in enumerate(rotations(items, args.rounds), 1):
                for name, run in order:
                    server0 = bench.bp.server_cpu_seconds()
                    with common.Clock() as clock:
                        await run(args.signins)
                    server1 = bench.bp.server_cpu_seconds()
                    server = None if server0 is None or server1 is None else server1 - server0
                    results.setdefault(name, []).append((clock.sample(args.signins), server))
                print(f"  round {r}/{args.rounds} done", flush=True)
        finally:
            bench.executor.shutdown(wait=True)
    return results


Results = dict[str, list[tuple[common.Sample, "float | None"]]]


def report(results: Results, rtt: float = 0.0) -> None:
    med_rate = {n: common.median([s.rate for s, _ in v]) for n, v in results.items()}
    med_cpu = {n: common.median([s.cpu_per_op for s, _ in v]) for n, v in results.items()}
    med_srv: dict[str, float | None] = {}
    for name, samples in results.items():
        per_op = [srv / s.count for s, srv in samples if srv is not None]
        med_srv[name] = common.median(per_op) if len(per_op) == len(samples) else None
    rows = []
    for name, samples in results.items():
        rates = [s.rate for s, _ in samples]
        srv = med_srv[name]
        rows.append(
            [
                name,
                f"{med_rate[name]:.0f}",
                f"{min(rates):.0f}-{max(rates):.0f}",
                f"{med_cpu[name] * 1e3:.2f}",
                "n/a" if srv is None else f"{srv * 1e3:.2f}",
            ]
        )
    print()
    headers = ["contender", "sign-ins/s", "range", "client CPU ms/op", "moto CPU ms/op"]
    common.print_table(headers, rows)

    a = med_rate[ACOGNITO]
    r_seq, r_thr, r_bare = a / med_rate[PY_SEQ], a / med_rate[PY_THREADS], a / med_rate[BARE]
    ok_seq, ok_bare = r_seq >= TARGET_VS_PYCOGNITO, r_bare >= TARGET_VS_BARE
    print()
    print("Ratios of the medians (sign-ins/s):")
    print(
        f"  acognito / pycognito sequential = {r_seq:.2f}x  target >= 3x: {common.verdict(ok_seq)}"
    )
    print(f"  acognito / pycognito threads    = {r_thr:.2f}x  (no target)")
    print(
        f"  acognito / bare aiobotocore     = {r_bare:.3f}x target >= 0.85x (within 15 %): "
        f"{common.verdict(ok_bare)}"
    )
    if ACOGNITO_NV in med_rate:
        r_nv = med_rate[ACOGNITO_NV] / med_rate[BARE]
        print(f"  acognito no-verify / bare       = {r_nv:.3f}x (information)")

    print()
    print("Client CPU per sign-in (this process's CPU time / sign-ins):")
    cpu_a, cpu_b = med_cpu[ACOGNITO] * 1e3, med_cpu[BARE] * 1e3
    print(f"  acognito {cpu_a:.2f} ms vs bare aiobotocore {cpu_b:.2f} ms = {cpu_a / cpu_b:.2f}x")
    if ACOGNITO_NV in med_cpu:
        cpu_nv = med_cpu[ACOGNITO_NV] * 1e3
        print(f"  acognito no-verify {cpu_nv:.2f} ms = {cpu_nv / cpu_b:.2f}x bare")

    srv = med_srv[BARE]
    if srv is not None and not rtt:
        cores = os.cpu_count() or 1
        by_moto = 1 / srv
        by_cores = cores / (med_cpu[ACOGNITO] + srv)
        ceiling = min(by_moto, by_cores)
        print()
        print(
            f"moto spends ~{srv * 1e3:.1f} ms of CPU per sign-in in one Python process (routing,\n"
            f"two RS256 token signatures): no client passes ~{by_moto:.0f} sign-ins/s; and\n"
            f"acognito + moto need {(med_cpu[ACOGNITO] + srv) * 1e3:.1f} ms of CPU per sign-in "
            f"on {cores} cores: <= {by_cores:.0f}/s.\n"
            f"Ceiling ~{ceiling:.0f}/s = {ceiling / med_rate[PY_SEQ]:.1f}x pycognito sequential "
            "on this box, whatever the client does\n(a sequential client waits for the server; "
            "here the server's wait is CPU, not network)."
        )


DESCRIPTION = """\
What each contender does per sign-in:
  {acog}: InitiateAuth USER_PASSWORD_AUTH (1 round trip), {c} concurrent for_user children
    of one open AsyncCognito (aiohttp on asyncio); verifies id + access token: {verifies}
  {bare}: the same InitiateAuth call, {c} concurrent on one client (default config, aiohttp,
    10 pooled connections like acognito's); no token verification
  {seq}: Cognito.admin_authenticate = AdminInitiateAuth ADMIN_NO_SRP_AUTH,
    1 round trip, one at a time on one reused Cognito (username swapped), then PyJWT
    RS256-verifies the access + id tokens (JWKS pinned through COGNITO_JWKS).
    Why this flow: pycognito has no USER_PASSWORD_AUTH method; its other sign-in is SRP
    (2 round trips + ~60-90 ms of pure-Python math), which measures SRP, not this.
  {thr}: the same from {c} threads, one Cognito (own boto3 client) per thread
Server: {server}"""


def server_description(args: argparse.Namespace) -> str:
    if args.moto_closes:
        return (
            "moto's own server: 'Connection: close' on every response, a new TCP\n"
            "connection for every call of every contender."
        )
    text = "moto behind acognito's runner, HTTP/1.1 keep-alive (connections reused)"
    if args.rtt:
        text += f",\n  every response held {args.rtt:g} ms (a stand-in for the network round trip)"
    return text + "."


def describe(bench: Bench, args: argparse.Namespace) -> None:
    verifies = bench.acognito_verifies
    print()
    print(
        DESCRIPTION.format(
            acog=ACOGNITO,
            bare=BARE,
            seq=PY_SEQ,
            thr=PY_THREADS,
            c=args.concurrency,
            verifies="yes (detected)" if verifies else "no (detected)",
            server=server_description(args),
        )
    )
    if bench.has_verify_flag:
        print(f"  {ACOGNITO_NV}: acognito with verify_on_sign_in=False")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 rounds x 75 sign-ins (< 1 min)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 10)")
    parser.add_argument(
        "--signins", type=int, default=None, help="per contender per round (default 150)"
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--rtt", type=float, default=0.0, help="ms moto holds each response (network stand-in)"
    )
    parser.add_argument(
        "--moto-closes", action="store_true", help="moto's own server: Connection: close"
    )
    args = parser.parse_args()
    if args.rtt and args.moto_closes:
        parser.error("--rtt needs the keep-alive runner (drop --moto-closes)")
    args.rounds = args.rounds or (4 if args.quick else 10)
    args.signins = args.signins or (75 if args.quick else 150)
    args.warmup = 2 * args.concurrency

    print("acognito sign-in benchmark: password sign-ins per second against one local moto server")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs; moto runs on the same machine "
        "and competes for the same cores"
    )
    print(
        f"{args.rounds} rounds x {args.signins} sign-ins per contender, order rotated each round, "
        f"{args.users} users, warm-up {args.warmup} sign-ins each"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at start: {load:.2f} (other processes on the box add noise)")
    print(f"server: {server_description(args)}")
    with common.bench_pool(
        args.users, keep_alive=not args.moto_closes, response_delay=args.rtt / 1000
    ) as bp:
        bench = Bench(bp, args.concurrency)
        results = anyio.run(measure, bench, args)
        describe(bench, args)
        report(results, args.rtt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
