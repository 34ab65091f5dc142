"""SRP sign-ins under load: event-loop lag and sign-ins per second, asyncio and trio.

Run: ``python benchmarks/bench_srp_signin.py [--quick] [--rounds R] [--waves W]``.
One moto server on loopback (``LocalCognito``: HTTP/1.1 keep-alive), one pool, 50
users. A scenario opens one ``AsyncCognito``, runs a warm-up wave, then ``W`` waves of
50 concurrent USER_SRP_AUTH sign-ins (one ``for_user`` child per user) while a ticker
task sleeps 1 ms in a loop and records its lag (actual sleep - 1 ms) and the loop
thread's CPU time between two wake-ups. Scenarios:

* acognito as shipped (gmpy2), on asyncio and on trio, ``R`` rounds interleaved with
* pycognito ``Cognito.authenticate`` (its SRP sign-in) one at a time;
* acognito with gmpy2 disabled (the builtin-``pow`` path): what the ``fast`` extra buys;
* counterfactual: the same SRP math called synchronously on the event loop by a small
  flow in this script (acognito's transport, no worker thread): why the limiter matters;
* diagnostics (full run): what-if runs that show where lag comes from.

Full (generation-2) garbage collections stop every thread of the process for tens of
milliseconds; the script records them and also reports the worst lag of the ticks that
did not overlap one.

moto accepts any SRP proof, but the client does all of its SRP math anyway, so the
client-side cost is real. moto runs on the same cores: the lag includes that contention.
Targets: worst lag <= 10 ms on asyncio and trio; sign-ins/s >= 5x pycognito's.
"""

from __future__ import annotations

import argparse
import functools
import gc
import inspect
import os
import platform
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402

from acognito import AsyncCognito, _threads, srp  # noqa: E402
from acognito._idp import IdpClient  # noqa: E402

TICK = 0.001
TARGET_LAG = 0.010
TARGET_VS_PYCOGNITO = 5.0
WAVE = 50

SignInFn = Callable[[str], Coroutine[Any, Any, None]]


class FullCollections:
    """Start and end (perf_counter) of every full garbage collection, any thread."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float]] = []
        self._start: float | None = None

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        elif self._start is not None:
            self.spans.append((self._start, time.perf_counter()))
            self._start = None

    def between(self, start: float, end: float) -> list[tuple[float, float]]:
        return [(a, b) for a, b in self.spans if b >= start and a <= end]


FULL_GC = FullCollections()


@dataclass
class Run:
    """One scenario run: sign-ins, wall and CPU time of the waves, ticker lags."""

    label: str
    backend: str
    signins: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    server_cpu: float | None = None
    #: Per tick: (wake-up time, lag, loop-thread CPU since the previous wake-up).
    ticks: list[tuple[float, float, float]] = field(default_factory=list)
    full_gcs: list[tuple[float, float]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.signins / self.wall

    @property
    def lags(self) -> list[float]:
        return [lag for _, lag, _ in self.ticks]

    @property
    def worst(self) -> float:
        return max(self.lags, default=float("nan"))

    @property
    def p99(self) -> float:
        return float(common.percentile(self.lags, 99))

    @property
    def worst_busy(self) -> float:
        """The most CPU the loop thread spent between two ticks (robust to the load)."""
        return max((busy for _, _, busy in self.ticks), default=float("nan"))

    @property
    def worst_outside_gc(self) -> float:
        """The worst lag of the ticks that overlap no full garbage collection."""

        def clear(end: float, lag: float) -> bool:
            start = end - lag - TICK
            return not any(b >= start and a <= end for a, b in self.full_gcs)

        return max((lag for end, lag, _ in self.ticks if clear(end, lag)), default=float("nan"))

    @property
    def longest_gc(self) -> float:
        return max((b - a for a, b in self.full_gcs), default=0.0)


async def ticker(run: Run) -> None:
    """Sleep 1 ms forever; record how late every wake-up is, and the loop thread's CPU.

    The lag is wall time: it also counts time the loop thread was runnable but not
    running (other processes, moto, the GIL). The loop thread's CPU time between two
    wake-ups is the part the event loop itself spent, robust to the machine's load.
    """
    while True:
        start, cpu = time.perf_counter(), time.thread_time()
        await anyio.sleep(TICK)
        end = time.perf_counter()
        run.ticks.append((end, end - start - TICK, time.thread_time() - cpu))


# --------------------------------------------------------------------------- sign-in flows


def acognito_flow(parent: AsyncCognito, password: str, auth_flow: Any) -> SignInFn:
    """``parent.for_user(name).authenticate(...)``."""

    async def sign_in(name: str) -> None:
        child = parent.for_user(name)
        await child.authenticate(password, auth_flow=auth_flow)
        if not child.access_token:
            raise RuntimeError("acognito sign-in returned no access token")

    return sign_in


def on_loop_flow(idp: IdpClient, bp: common.BenchPool) -> SignInFn:
    """The counterfactual: acognito's SRP functions called synchronously, on the loop."""
    pool_id, client_id = bp.pool.user_pool_id, bp.pool.public_client.client_id

    async def sign_in(name: str) -> None:
        small_a = srp.generate_small_a()
        big_a = srp.calculate_a(small_a)  # blocks the loop on purpose
        first = await idp.call(
            "initiate_auth",
            ClientId=client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": name, "SRP_A": format(big_a, "x")},
        )
        params = first["ChallengeParameters"]
        timestamp = srp.cognito_timestamp(datetime.now(timezone.utc))
        signature = srp.password_claim_signature(  # blocks the loop on purpose
            pool_id=pool_id,
            user_id_for_srp=params["USER_ID_FOR_SRP"],
            password=bp.password,
            small_a=small_a,
            srp_b=params["SRP_B"],
            salt=params["SALT"],
            secret_block=params["SECRET_BLOCK"],
            timestamp=timestamp,
        )
        second = await idp.call(
            "respond_to_auth_challenge",
            ClientId=client_id,
            ChallengeName="PASSWORD_VERIFIER",
            Session=first.get("Session", ""),
            ChallengeResponses={
                "USERNAME": params.get("USERNAME") or params["USER_ID_FOR_SRP"],
                "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
                "PASSWORD_CLAIM_SIGNATURE": signature,
                "TIMESTAMP": timestamp,
            },
        )
        if "AccessToken" not in second.get("AuthenticationResult", {}):
            raise RuntimeError("on-loop SRP sign-in returned no access token")

    return sign_in


async def waves(run: Run, bp: common.BenchPool, count: int, sign_in: SignInFn) -> None:
    """A warm-up wave, then ``count`` timed waves of 50 concurrent sign-ins with the ticker."""

    async def wave() -> None:
        async with anyio.create_task_group() as tg:
            for name in bp.usernames[:WAVE]:
                tg.start_soon(sign_in, name)

    await wave()
    async with anyio.create_task_group() as outer:
        outer.start_soon(ticker, run)
        await anyio.sleep(0.05)  # the ticker's first ticks, on a quiet loop
        run.ticks.clear()
        server0 = bp.server_cpu_seconds()
        with common.Clock() as clock:
            for _ in range(count):
                await wave()
        server1 = bp.server_cpu_seconds()
        outer.cancel_scope.cancel()
    run.signins, run.wall, run.cpu = count * WAVE, clock.wall, clock.cpu
    run.full_gcs = FULL_GC.between(clock.wall0, clock.wall0 + clock.wall)
    if server0 is not None and server1 is not None:
        run.server_cpu = server1 - server0


#: A cap so high it never binds: acognito without its in-flight cap.
NO_CAP = 1_000_000


def open_parent(bp: common.BenchPool, max_concurrency: int | None) -> AsyncCognito:
    """A parent session; ``max_concurrency`` overrides the cap on calls in flight.

    While ``AsyncCognito`` does not take ``max_concurrency`` itself, the what-if run sets
    it on the session's private ``IdpClient`` before its first call.
    """
    kwargs: dict[str, Any] = bp.pool.cognito_kwargs()
    takes_cap = "max_concurrency" in inspect.signature(AsyncCognito).parameters
    if max_concurrency is not None and takes_cap:
        kwargs["max_concurrency"] = max_concurrency
    parent = AsyncCognito(**kwargs)
    if max_concurrency is not None and not takes_cap:
        parent._idp._max_concurrency = max_concurrency
    return parent


async def acognito_scenario(
    run: Run,
    bp: common.BenchPool,
    count: int,
    auth_flow: str = "USER_SRP_AUTH",
    max_concurrency: int | None = None,
) -> None:
    async with open_parent(bp, max_concurrency) as parent:
        await waves(run, bp, count, acognito_flow(parent, bp.password, auth_flow))


async def on_loop_scenario(run: Run, bp: common.BenchPool, count: int) -> None:
    idp = IdpClient(
        region=bp.pool.region,
        endpoint_url=bp.pool.endpoint_url,
        access_key="testing",
        secret_key="testing",  # noqa: S106
    )
    await idp.open()
    try:
        await waves(run, bp, count, on_loop_flow(idp, bp))
    finally:
        await idp.close()


Scenario = Callable[[Run, common.BenchPool, int], Coroutine[Any, Any, None]]


async def idle_scenario(run: Run, bp: common.BenchPool, count: int) -> None:
    """The ticker alone for ``count`` half-seconds: the box's own noise floor."""
    async with anyio.create_task_group() as outer:
        outer.start_soon(ticker, run)
        await anyio.sleep(0.05)
        run.ticks.clear()
        with common.Clock() as clock:
            await anyio.sleep(0.5 * count)
        outer.cancel_scope.cancel()
    run.wall, run.cpu = clock.wall, clock.cpu
    run.full_gcs = FULL_GC.between(clock.wall0, clock.wall0 + clock.wall)


def run_scenario(
    label: str, backend: str, bp: common.BenchPool, count: int, scenario: Scenario | None = None
) -> Run:
    run = Run(label, backend)
    anyio.run(scenario or acognito_scenario, run, bp, count, backend=backend)
    return run


class CpuThreads:
    """acognito's CPU limiter size (``acognito._threads.CPU_THREADS``) for the block.

    The limiter is made once per event loop, from the value at that time.
    """

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def __enter__(self) -> None:
        self.saved = _threads.CPU_THREADS
        _threads.CPU_THREADS = self.threads

    def __exit__(self, *exc: object) -> None:
        _threads.CPU_THREADS = self.saved


class PureArith:
    """acognito.srp on its builtin-``pow`` path for the duration of the block."""

    def __enter__(self) -> None:
        self.saved = srp._ARITH
        srp._ARITH = srp._PURE_ARITH

    def __exit__(self, *exc: object) -> None:
        srp._ARITH = self.saved


def pycognito_round(make: Callable[[], Any], bp: common.BenchPool, count: int) -> Run:
    run = Run("pycognito SRP, one at a time", "sync")
    cognito = make()
    server0 = bp.server_cpu_seconds()
    with common.Clock() as clock:
        for i in range(count):
            name = bp.usernames[i % len(bp.usernames)]
            cognito.username = name
            cognito.authenticate(bp.password)
            if not cognito.access_claims or cognito.access_claims.get("username") != name:
                raise RuntimeError("pycognito SRP sign-in did not verify the expected token")
    server1 = bp.server_cpu_seconds()
    run.signins, run.wall, run.cpu = count, clock.wall, clock.cpu
    if server0 is not None and server1 is not None:
        run.server_cpu = server1 - server0
    return run


# --------------------------------------------------------------------------- report


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


def row(label: str, runs: list[Run]) -> list[str]:
    """Medians over runs (rate, lags, loop CPU, CPU per op); the worst single tick; GCs."""
    if runs[0].backend == "sync":
        lag_cells = ["-"] * 6
    else:
        gcs = sum(len(r.full_gcs) for r in runs)
        lag_cells = [
            ms(common.median([r.worst for r in runs])),
            ms(max(r.worst for r in runs)),
            ms(common.median([r.p99 for r in runs])),
            ms(common.median([r.worst_busy for r in runs])),
            ms(common.median([r.worst_outside_gc for r in runs])),
            f"{gcs} / {ms(max(r.longest_gc for r in runs))}" if gcs else "0",
        ]
    if not all(r.signins for r in runs):  # the idle run: lag only
        return [label, "-", *lag_cells, "-", "-", str(len(runs))]
    servers = [r.server_cpu / r.signins for r in runs if r.server_cpu is not None]
    return [
        label,
        f"{common.median([r.rate for r in runs]):.1f}",
        *lag_cells,
        ms(common.median([r.cpu / r.signins for r in runs])),
        ms(common.median(servers)) if len(servers) == len(runs) else "n/a",
        str(len(runs)),
    ]


HEADERS = [
    "scenario",
    "sign-ins/s",
    "worst lag",
    "max worst",
    "p99 lag",
    "loop CPU",
    "worst no-GC",
    "full GCs",
    "CPU/op",
    "moto/op",
    "runs",
]

LEGEND = """\
(times in ms, medians over runs. 'worst lag': each run's worst tick; 'max worst': the
 single worst tick of all runs; 'loop CPU': the most CPU the loop thread spent between
 two ticks (the loop's own share of the worst lag, robust to the machine's load);
 'worst no-GC': the worst lag among ticks that overlap no full garbage collection;
 'full GCs': how many generation-2 collections ran during the timed waves / the longest;
 CPU/op: this process's CPU per sign-in, all threads; moto/op: the server's)"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and waves (< 1 min)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of the main scenarios")
    parser.add_argument("--waves", type=int, default=None, help="waves of 50 per acognito run")
    parser.add_argument("--pycognito", type=int, default=None, help="pycognito sign-ins per round")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.quick else 3)
    count = args.waves or (2 if args.quick else 4)
    side_count = 1 if args.quick else 2
    py_count = args.pycognito or (6 if args.quick else 12)
    gc.callbacks.append(FULL_GC)

    print("acognito SRP sign-in benchmark: 50 concurrent USER_SRP_AUTH sign-ins, 1 ms ticker")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {load:.2f}; "
        f"gmpy2 {'yes' if srp.HAS_GMPY2 else 'NO'}; acognito CPU_THREADS={_threads.CPU_THREADS}"
    )
    print(
        f"{rounds} rounds x {count} waves of {WAVE} for acognito (gmpy2), interleaved with "
        f"{py_count} pycognito sign-ins;\n{side_count} waves for the pure-Python and "
        "counterfactual runs. Each run starts with a warm-up wave."
    )
    print(
        "moto (same machine, same cores, HTTP/1.1 keep-alive) accepts any SRP proof; the client\n"
        "still does all of its SRP math. Lag figures include the CPU contention with moto and\n"
        "anything else running."
    )

    main_runs: dict[str, list[Run]] = {}
    side_runs: dict[str, list[Run]] = {}
    diag_runs: dict[str, list[Run]] = {}
    other_threads = 2 if _threads.CPU_THREADS == 1 else 1
    with common.bench_pool(WAVE) as bp:
        make = bp.pycognito_factory()
        warm = make()  # pycognito warm-up: connection, JWKS, botocore caches
        warm.username = bp.usernames[0]
        warm.authenticate(bp.password)
        jobs: list[tuple[str, Callable[[], Run]]] = [
            ("acognito asyncio", lambda: run_scenario("acognito", "asyncio", bp, count)),
            ("acognito trio", lambda: run_scenario("acognito", "trio", bp, count)),
            ("pycognito one at a time", lambda: pycognito_round(make, bp, py_count)),
        ]
        for r in range(rounds):
            order = jobs[r % len(jobs) :] + jobs[: r % len(jobs)]
            for name, job in order:
                main_runs.setdefault(name, []).append(job())
            print(f"  round {r + 1}/{rounds} done", flush=True)

        for backend in ("asyncio", "trio"):
            with PureArith():
                run = run_scenario("acognito pure", backend, bp, side_count)
            side_runs[f"acognito pure-Python {backend}"] = [run]
        run = run_scenario("counterfactual", "asyncio", bp, side_count, on_loop_scenario)
        side_runs["COUNTERFACTUAL math on loop asyncio"] = [run]
        print("  side runs done", flush=True)

        if not args.quick:
            password = functools.partial(acognito_scenario, auth_flow="USER_PASSWORD_AUTH")
            uncapped = functools.partial(password, max_concurrency=NO_CAP)
            for backend in ("asyncio", "trio"):
                diag_runs[f"idle ticker {backend}"] = [
                    run_scenario("idle", backend, bp, 2, idle_scenario)
                ]
                diag_runs[f"password, no SRP {backend}"] = [
                    run_scenario("password", backend, bp, side_count, password)
                ]
                diag_runs[f"password, no in-flight cap {backend}"] = [
                    run_scenario("uncapped", backend, bp, side_count, uncapped)
                ]
                with CpuThreads(other_threads):
                    diag_runs[f"CPU_THREADS={other_threads} {backend}"] = [
                        run_scenario("threads", backend, bp, side_count)
                    ]
            with common.bench_pool(WAVE, keep_alive=False) as closing:
                for backend in ("asyncio", "trio"):
                    diag_runs[f"moto closes connections {backend}"] = [
                        run_scenario("close", backend, closing, side_count)
                    ]
            print("  diagnostic runs done", flush=True)

    print()
    rows = [row(name, runs) for name, runs in {**main_runs, **side_runs}.items()]
    common.print_table(HEADERS, rows)
    print(LEGEND)

    py_rate = common.median([r.rate for r in main_runs["pycognito one at a time"]])
    print()
    print("Targets:")
    for backend in ("asyncio", "trio"):
        runs = main_runs[f"acognito {backend}"]
        worst = common.median([r.worst for r in runs])
        rate = common.median([r.rate for r in runs])
        ratio = rate / py_rate
        print(
            f"  {backend:7s} worst lag {ms(worst)} ms (median of {len(runs)} runs; max "
            f"{ms(max(r.worst for r in runs))}) <= 10 ms: {common.verdict(worst <= TARGET_LAG)}"
        )
        print(
            f"  {backend:7s} {rate:.1f} sign-ins/s = {ratio:.1f}x pycognito ({py_rate:.1f}/s) "
            f">= 5x: {common.verdict(ratio >= TARGET_VS_PYCOGNITO)}"
        )
    gcs = [
        gc_
        for name in ("acognito asyncio", "acognito trio")
        for r in main_runs[name]
        for gc_ in r.full_gcs
    ]
    if gcs:
        print(
            f"  full garbage collections during those waves: {len(gcs)}, the longest "
            f"{ms(max(b - a for a, b in gcs))} ms (they stop every thread; see 'worst no-GC')"
        )
    print()
    print(
        "What the side runs show: the pure-Python rows are acognito without the 'fast' extra\n"
        "(math ~8x dearer and holding the GIL); the COUNTERFACTUAL row runs the same gmpy2\n"
        "math synchronously on the event loop (no worker thread, no token verification)."
    )
    if diag_runs:
        print()
        print("Diagnostics (where the lag comes from; what-if runs, not acognito's defaults):")
        common.print_table(HEADERS, [row(name, runs) for name, runs in diag_runs.items()])
        print(
            "'idle ticker': the ticker alone for 1 s, no sign-ins: the box's own noise floor.\n"
            "'password, no SRP': 50 concurrent USER_PASSWORD_AUTH sign-ins, no SRP math: the\n"
            "  transport's own lag (aiobotocore request building, signing, parsing).\n"
            "'password, no in-flight cap': the same with acognito's cap on calls in flight lifted\n"
            "  (max_concurrency, default: the connection pool size): every waiting call builds\n"
            "  and signs its request in one burst on the loop.\n"
            f"'CPU_THREADS={other_threads}': acognito's SRP limiter with {other_threads} "
            f"thread(s) instead of {_threads.CPU_THREADS}.\n"
            "'moto closes connections': moto's own server (LocalCognito(keep_alive=False)),\n"
            "  'Connection: close' on every response: a new TCP connection per call."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
