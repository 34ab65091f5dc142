"""The verifier's cold import, side by side with its floor.

Run: ``python benchmarks/bench_import.py [--quick] [--rounds R]``. Each round starts
fresh interpreters, alternating (floor, acognito, floor, acognito, ...), and each child
times its own import with ``time.perf_counter`` (interpreter start-up is left out):

- the floor: ``import json, httpx`` and cryptography's RSA public-key module, what any
  verifier of Cognito's RS256 tokens over httpx must load;
- ``from acognito import CognitoVerifier``: the same job, acognito's way.

The figure is the median of the per-round ratios (acognito / floor), and the medians of
each. Target: <= 1.3x (issue #22). Run it on a quiet machine: the ratio moves less with
the load than the milliseconds do.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from _common import median, print_table, verdict

TARGET_RATIO = 1.3

FLOOR = (
    "import json, httpx\n"
    "from cryptography.hazmat.primitives.asymmetric import rsa, padding\n"
    "from cryptography.hazmat.primitives import hashes\n"
)
SUBJECT = "from acognito import CognitoVerifier\n"


def _timed(code: str) -> float:
    """Seconds one fresh interpreter spends running ``code`` (imports only)."""
    script = f"import time\n_t = time.perf_counter()\n{code}print(time.perf_counter() - _t)\n"
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=41, help="pairs of runs (default 41)")
    parser.add_argument("--quick", action="store_true", help="15 rounds")
    args = parser.parse_args()
    rounds = 15 if args.quick else args.rounds

    for code in (FLOOR, SUBJECT):  # warm the file-system cache and the .pyc files
        _timed(code)
    floors, subjects, ratios = [], [], []
    for index in range(rounds):
        order = [(FLOOR, floors), (SUBJECT, subjects)]
        if index % 2:
            order.reverse()
        for code, into in order:
            into.append(_timed(code))
        ratios.append(subjects[-1] / floors[-1])

    ratio = median(ratios)
    print(f"{rounds} rounds, fresh interpreters, alternating; {sys.version.split()[0]}")
    floor_ms, subject_ms = median(floors) * 1000, median(subjects) * 1000
    print_table(
        ["import", "median ms", "ratio"],
        [
            ["json + httpx + cryptography RSA (floor)", f"{floor_ms:.1f}", "1.00"],
            ["from acognito import CognitoVerifier", f"{subject_ms:.1f}", f"{ratio:.2f}"],
        ],
    )
    ok = ratio <= TARGET_RATIO
    print(f"target <= {TARGET_RATIO}x the floor: {verdict(ok)} ({ratio:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
