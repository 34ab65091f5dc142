"""Run every ``benchmarks/bench_*.py`` script in turn, each in its own process.

Usage, from the repository root: ``python -m benchmarks [--quick] [NAME ...]``.

A process per script keeps one's threads, servers and caches from skewing the next;
they run with this interpreter. ``--quick`` is passed to the scripts that accept it;
``NAME`` arguments keep only the scripts whose file name contains one of them. The exit
status is non-zero when any script failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if names:
        found = [p for p in found if any(name in p.name for name in names)]
    return found


def supports_quick(script: Path) -> bool:
    """True when the script defines a ``--quick`` option."""
    return '"--quick"' in script.read_text(encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="pass --quick where supported")
    parser.add_argument("names", nargs="*", help="run only scripts whose name contains one")
    args = parser.parse_args()

    selected = scripts(args.names)
    if not selected:
        print("no benchmark script matches", file=sys.stderr)
        return 2
    failed: list[str] = []
    summary: list[tuple[str, float, int, str]] = []
    for script in selected:
        argv = [sys.executable, str(script)]
        note = ""
        if args.quick:
            if supports_quick(script):
                argv.append("--quick")
            else:
                note = " (no --quick: full run)"
        print(f"\n=== {script.name}{note} ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call(argv, cwd=HERE.parent)  # noqa: S603 - our own scripts
        elapsed = time.perf_counter() - start
        summary.append((script.name, elapsed, code, note))
        if code != 0:
            failed.append(script.name)
    print("\n=== summary ===")
    for name, elapsed, code, note in summary:
        status = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"  {name:28s} {elapsed:6.1f} s  {status}{note}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
