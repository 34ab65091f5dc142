"""A cold burst: when does the first of 200 first sign-ins finish?

Run: ``python benchmarks/bench_cold_burst.py [--quick] [--rounds R] [--signins N]``.

One local Cognito (``LocalCognito``), one pool, 50 users. Each round starts fresh
interpreters (nothing imported, no client, no JWKS: a process just started by a
deployment) and, in each, ``N`` (200) USER_SRP_AUTH sign-ins at once, each in its own
``async with AsyncCognito(...)`` (the README's pattern), tokens verified on sign-in (the
default). Every sign-in's completion time is taken from the start of the burst.

* **cold**: the burst is the process's first work;
* **warm**: the same process signed one user in first (client made, joserfc imported,
  JWKS cached), then the burst.

Prints per mode the median over rounds of: the burst's wall time, the first completion
and the median completion, each as a fraction of the burst. A burst in which nothing
finishes before nearly all the SRP math is done finishes "all at once": the first
completion lands near 100 %.

Target: cold, the first completion at <= 30 % of the burst (the one-time loads, joserfc's
import and the JWKS parsing, must not queue behind the burst's SRP math).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402

TARGET_FIRST = 0.30

CHILD = r"""
import json, sys, time
import anyio

def main():
    args = json.loads(sys.argv[1])
    from acognito import AsyncCognito

    kwargs, names, password = args["kwargs"], args["names"], args["password"]

    async def one(name, done, t0):
        async with AsyncCognito(**kwargs, username=name) as cognito:
            await cognito.authenticate(password)
            if not cognito.access_claims:
                raise RuntimeError("no verified access token")
        done.append(time.perf_counter() - t0)

    async def run():
        if args["warm"]:
            await one(names[0], [], time.perf_counter())
        done = []
        t0 = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for i in range(args["signins"]):
                tg.start_soon(one, names[i % len(names)], done, t0)
        return time.perf_counter() - t0, sorted(done)

    total, done = anyio.run(run, backend=args["backend"])
    print(json.dumps({"total": total, "done": done}))

main()
"""


def burst(bp: common.BenchPool, signins: int, *, warm: bool, backend: str) -> dict[str, float]:
    """One fresh interpreter, one burst: the wall time and the completion fractions."""
    args = {
        "kwargs": bp.pool.cognito_kwargs(),
        "names": list(bp.usernames),
        "password": bp.password,
        "signins": signins,
        "warm": warm,
        "backend": backend,
    }
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", CHILD, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the burst process failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    total, done = result["total"], result["done"]
    return {
        "total": total,
        "first": done[0] / total,
        "median": common.median(done) / total,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--signins", type=int, default=200)
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 7)

    with common.bench_pool(50) as bp:
        results: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
        for _ in range(rounds):  # interleaved: the box's load hits both alike
            for mode in ("cold", "warm"):
                results[mode].append(
                    burst(bp, args.signins, warm=mode == "warm", backend=args.backend)
                )
    print(f"{args.signins} sign-ins at once (USER_SRP_AUTH, a session each), {args.backend}, ")
    print(f"median of {rounds} rounds, each in a fresh interpreter")
    rows = []
    for mode, runs in results.items():
        rows.append(
            [
                mode,
                f"{common.median([r['total'] for r in runs]):.2f} s",
                f"{common.median([r['first'] for r in runs]):.0%}",
                f"{common.median([r['median'] for r in runs]):.0%}",
                " ".join(f"{r['first']:.0%}" for r in runs),
            ]
        )
    common.print_table(["burst", "wall", "first done", "median done", "first, each round"], rows)
    cold_first = common.median([r["first"] for r in results["cold"]])
    ok = cold_first <= TARGET_FIRST
    print(
        f"\ncold: first completion at {cold_first:.0%} of the burst (target <= 30%): "
        f"{common.verdict(ok)}"
    )
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - start:.0f} s)")
    raise SystemExit(code)
