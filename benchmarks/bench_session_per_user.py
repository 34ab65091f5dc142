"""A session per user, as services write it: loop lag, sign-ins/s, first-call CPU, import.

Run: ``python benchmarks/bench_session_per_user.py [--quick] [--rounds R] [--waves W]``.
One moto server on loopback (``LocalCognito``), one pool, 50 users. Side by side:

* **a session per user** (the README's pattern): each of 50 concurrent USER_SRP_AUTH
  sign-ins in its own ``async with AsyncCognito(...)``, on asyncio and on trio, while a
  ticker sleeps 1 ms in a loop and records how late it wakes (the loop's lag). The
  first wave of a fresh event loop (cold: client, JWKS) is reported on its own, then
  ``W`` warm waves;
* one parent session and ``for_user`` per user (the tuned pattern), same waves;
* pycognito's ``Cognito.authenticate``, one at a time;
* the CPU of the first sign-in of a fresh session against the same call on a session
  that already signed in (warm), on a warm event loop (median of pairs);
* the import of ``from acognito import CognitoVerifier`` against ``json``, ``httpx`` and
  ``cryptography``'s RSA, each in fresh interpreters (median of several).

Targets: worst lag <= 10 ms on asyncio and trio; sign-ins/s >= 5x pycognito; first call
of a fresh session <= 1.2x the CPU of a warm one; import <= 1.3x the floor.
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402

from acognito import AsyncCognito  # noqa: E402

TICK = 0.001
WAVE = 50
TARGET_LAG = 0.010
TARGET_VS_PYCOGNITO = 5.0
TARGET_FIRST_CALL = 1.2
TARGET_IMPORT = 1.3

IMPORT_ACOGNITO = "from acognito import CognitoVerifier"
IMPORT_FLOOR = (
    "import json, httpx\n"
    "from cryptography.hazmat.primitives import hashes\n"
    "from cryptography.hazmat.primitives.asymmetric import padding, rsa"
)


class FullCollections:
    """Start and end (perf_counter) of every full garbage collection of the process."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float]] = []
        self._start: float | None = None

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        elif self._start is not None:
            self.spans.append((self._start, time.perf_counter()))
            self._start = None

    def overlaps(self, start: float, end: float) -> bool:
        return any(b >= start and a <= end for a, b in self.spans)


FULL_GC = FullCollections()


@dataclass
class Run:
    label: str
    backend: str
    signins: int = 0
    wall: float = 0.0
    lags: list[float] = field(default_factory=list)
    cold_lags: list[float] = field(default_factory=list)
    #: (wake-up time, lag) of the warm waves' ticks, to set full collections apart.
    ticks: list[tuple[float, float]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.signins / self.wall if self.wall else float("nan")

    @property
    def worst(self) -> float:
        return max(self.lags, default=float("nan"))

    @property
    def cold_worst(self) -> float:
        return max(self.cold_lags, default=float("nan"))

    @property
    def worst_outside_gc(self) -> float:
        """The worst lag of the ticks that overlap no full garbage collection."""
        clear = [lag for end, lag in self.ticks if not FULL_GC.overlaps(end - lag - TICK, end)]
        return max(clear, default=float("nan"))

    @property
    def full_gcs(self) -> int:
        if not self.ticks:
            return 0
        first, last = self.ticks[0][0], self.ticks[-1][0]
        return sum(1 for a, b in FULL_GC.spans if b >= first and a <= last)


async def ticker(lags: list[float], ticks: list[tuple[float, float]] | None = None) -> None:
    while True:
        start = time.perf_counter()
        await anyio.sleep(TICK)
        end = time.perf_counter()
        lags.append(end - start - TICK)
        if ticks is not None:
            ticks.append((end, end - start - TICK))


SignIn = Callable[[str], Awaitable[None]]


def per_user(bp: common.BenchPool) -> SignIn:
    """The README's pattern: a session of its own for every user."""
    kwargs = bp.pool.cognito_kwargs()

    async def sign_in(name: str) -> None:
        async with AsyncCognito(**kwargs, username=name) as cognito:
            await cognito.authenticate(bp.password)
            if not cognito.access_claims:
                raise RuntimeError("no verified access token")

    return sign_in


async def measured_waves(run: Run, count: int, sign_in: SignIn, names: tuple[str, ...]) -> None:
    async def wave() -> None:
        async with anyio.create_task_group() as tg:
            for name in names[:WAVE]:
                tg.start_soon(sign_in, name)

    async with anyio.create_task_group() as outer:
        outer.start_soon(ticker, run.cold_lags)
        await anyio.sleep(0.05)
        run.cold_lags.clear()
        await wave()  # cold: the first sessions of this event loop
        outer.cancel_scope.cancel()
    async with anyio.create_task_group() as outer:
        outer.start_soon(ticker, run.lags, run.ticks)
        await anyio.sleep(0.05)
        run.lags.clear()
        run.ticks.clear()
        with common.Clock() as clock:
            for _ in range(count):
                await wave()
        outer.cancel_scope.cancel()
    run.signins, run.wall = count * WAVE, clock.wall


async def per_user_scenario(run: Run, bp: common.BenchPool, count: int) -> None:
    await measured_waves(run, count, per_user(bp), bp.usernames)


async def idle_scenario(run: Run, bp: common.BenchPool, count: int) -> None:
    """The ticker alone for a second: this machine's own noise floor."""
    async with anyio.create_task_group() as outer:
        outer.start_soon(ticker, run.lags, run.ticks)
        await anyio.sleep(0.05)
        run.lags.clear()
        run.ticks.clear()
        await anyio.sleep(1.0)
        outer.cancel_scope.cancel()


async def for_user_scenario(run: Run, bp: common.BenchPool, count: int) -> None:
    async with AsyncCognito(**bp.pool.cognito_kwargs()) as parent:

        async def sign_in(name: str) -> None:
            child = parent.for_user(name)
            await child.authenticate(bp.password)
            await child.close()

        await measured_waves(run, count, sign_in, bp.usernames)


def run_scenario(
    label: str,
    backend: str,
    bp: common.BenchPool,
    count: int,
    scenario: Callable[[Run, common.BenchPool, int], Awaitable[None]],
) -> Run:
    run = Run(label, backend)
    anyio.run(scenario, run, bp, count, backend=backend)
    return run


def pycognito_rate(bp: common.BenchPool, count: int) -> float:
    make = bp.pycognito_factory()
    cognito = make()
    cognito.username = bp.usernames[0]
    cognito.authenticate(bp.password)  # warm-up
    with common.Clock() as clock:
        for i in range(count):
            cognito.username = bp.usernames[i % len(bp.usernames)]
            cognito.authenticate(bp.password)
    return count / clock.wall


async def first_call_cpu(bp: common.BenchPool, pairs: int) -> tuple[float, float]:
    """Median process CPU of one SRP sign-in: a fresh session's first, and a warm one's."""
    kwargs = bp.pool.cognito_kwargs()
    name = bp.usernames[0]
    async with AsyncCognito(**kwargs, username=name) as warm:
        await warm.authenticate(bp.password)  # the loop's client and keys: warm
        fresh_cpu, warm_cpu = [], []
        for _ in range(pairs):
            start = time.process_time()
            async with AsyncCognito(**kwargs, username=name) as fresh:
                await fresh.authenticate(bp.password)
            fresh_cpu.append(time.process_time() - start)
            start = time.process_time()
            await warm.authenticate(bp.password)
            warm_cpu.append(time.process_time() - start)
    return common.median(fresh_cpu), common.median(warm_cpu)


def import_seconds(statement: str) -> float:
    code = (
        "import time\n"
        "t = time.perf_counter()\n"
        + "\n".join(statement.splitlines())
        + "\nprint(time.perf_counter() - t)"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return float(out.stdout.strip().splitlines()[-1])


def import_ratio(runs: int) -> tuple[float, float]:
    ours, floor = [], []
    for _ in range(runs):  # interleaved: the box's load hits both alike
        ours.append(import_seconds(IMPORT_ACOGNITO))
        floor.append(import_seconds(IMPORT_FLOOR))
    return common.median(ours), common.median(floor)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and waves")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of each scenario")
    parser.add_argument("--waves", type=int, default=None, help="warm waves of 50 per run")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    count = args.waves or (2 if args.quick else 4)
    pairs, import_runs = (5, 5) if args.quick else (15, 9)

    print(
        f"Session per user: {rounds} round(s), {count} warm wave(s) of {WAVE}; Python "
        f"{sys.version.split()[0]}"
    )
    runs: dict[str, list[Run]] = {}
    gc.callbacks.append(FULL_GC)
    with common.bench_pool(WAVE) as bp:
        py_rates = []
        for r in range(rounds):
            for backend in ("asyncio", "trio"):
                runs.setdefault(f"session per user {backend}", []).append(
                    run_scenario("per user", backend, bp, count, per_user_scenario)
                )
                runs.setdefault(f"one parent + for_user {backend}", []).append(
                    run_scenario("for_user", backend, bp, count, for_user_scenario)
                )
                runs.setdefault(f"idle ticker {backend}", []).append(
                    run_scenario("idle", backend, bp, count, idle_scenario)
                )
            py_rates.append(pycognito_rate(bp, 3 * WAVE // 5))
            print(f"  round {r + 1}/{rounds} done", flush=True)
        py_rate = common.median(py_rates)
        cpu = {
            backend: anyio.run(first_call_cpu, bp, pairs, backend=backend)
            for backend in ("asyncio", "trio")
        }
    ours, floor = import_ratio(import_runs)

    print()
    headers = [
        "scenario",
        "sign-ins/s",
        "x pycognito",
        "worst lag",
        "worst no-GC",
        "full GCs",
        "cold-wave lag",
        "runs",
    ]
    rows = []
    for name, rs in runs.items():
        idle = not rs[0].signins
        rate = common.median([r.rate for r in rs])
        rows.append(
            [
                name,
                "-" if idle else f"{rate:.1f}",
                "-" if idle else f"{rate / py_rate:.1f}",
                ms(common.median([r.worst for r in rs])),
                ms(common.median([r.worst_outside_gc for r in rs])),
                str(sum(r.full_gcs for r in rs)),
                "-" if idle else ms(common.median([r.cold_worst for r in rs])),
                str(len(rs)),
            ]
        )
    rows.append(
        ["pycognito, one at a time", f"{py_rate:.1f}", "1.0", "-", "-", "-", "-", str(rounds)]
    )
    common.print_table(headers, rows)
    print("(lags in ms, medians over runs: 'worst lag' over the warm waves; 'worst no-GC' the")
    print(" worst of the ticks that overlap no full garbage collection (they stop every thread);")
    print(" 'full GCs' how many ran during the warm waves, all runs; 'cold-wave lag' over the")
    print(" first wave of a fresh event loop, when the pool's client and keys are made; 'idle")
    print(" ticker' the ticker alone for 1 s: this machine's noise floor)")

    print()
    print("Targets:")
    for backend in ("asyncio", "trio"):
        rs = runs[f"session per user {backend}"]
        worst = common.median([r.worst for r in rs])
        ratio = common.median([r.rate for r in rs]) / py_rate
        print(
            f"  {backend:7s} session per user: worst lag {ms(worst)} ms <= 10 ms: "
            f"{common.verdict(worst <= TARGET_LAG)}"
        )
        print(
            f"  {backend:7s} session per user: {ratio:.1f}x pycognito >= 5x: "
            f"{common.verdict(ratio >= TARGET_VS_PYCOGNITO)}"
        )
        fresh, warm = cpu[backend]
        first = fresh / warm
        print(
            f"  {backend:7s} first sign-in of a fresh session {ms(fresh)} ms CPU vs warm "
            f"{ms(warm)} ms = {first:.2f}x <= 1.2x: {common.verdict(first <= TARGET_FIRST_CALL)}"
        )
    ratio = ours / floor
    print(
        f"  import: `{IMPORT_ACOGNITO}` {ms(ours)} ms vs json+httpx+cryptography RSA "
        f"{ms(floor)} ms = {ratio:.2f}x <= 1.3x: {common.verdict(ratio <= TARGET_IMPORT)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
