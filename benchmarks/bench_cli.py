"""The command line's start-up, side by side: ``acognito token`` against a bare interpreter.

Run: ``python benchmarks/bench_cli.py [--quick] [--rounds R]``. A local Cognito, a
profile and a signed-in user are set up in a temporary directory; then each command runs
as a whole new process, the way a shell runs it inside ``$(...)`` before every ``curl``,
alternating with the floor (floor, token, floor, token ...; then floor, whoami ...):

- ``python -c pass``: the floor (the interpreter alone, with this environment's
  site-packages);
- ``acognito token`` with a fresh cached token: its fast path, which imports the standard
  library and the token store's file reader only;
- ``acognito whoami``: verifies the cached tokens (JWKS over HTTP) and asks Cognito for
  the user's attributes (GetUser): the full command line.

Wall and CPU time (of the child, from ``getrusage(RUSAGE_CHILDREN)``) are medians over
the rounds, with the ratio to the floor taken pair by pair. Target: ``acognito token`` <= 60 ms
(median wall). The machine's load moves every figure; the ratios move less.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import PASSWORD, bench_pool, median, print_table, verdict

TARGET_TOKEN_SECONDS = 0.060


def _children_cpu() -> float:
    """CPU seconds of every child reaped so far (the delta around one run is its own)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """One whole process: (wall seconds, CPU seconds of the child, stdout)."""
    cpu = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{argv[1:]} failed ({proc.returncode}): {err.decode()[-500:]}")
    return wall, _children_cpu() - cpu, out.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (about 10 s)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 30, quick 10)")
    args = parser.parse_args()
    rounds = args.rounds or (10 if args.quick else 30)
    script = shutil.which("acognito", path=str(Path(sys.executable).parent))
    if script is None:
        raise SystemExit("the acognito script is not installed next to this interpreter")
    home = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        with bench_pool(1) as bench:
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("ACOGNITO_")},
                "ACOGNITO_CONFIG_DIR": str(home / "config"),
                "ACOGNITO_CACHE_DIR": str(home / "cache"),
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
            }
            user = bench.usernames[0]
            login = subprocess.run(
                [
                    script,
                    "login",
                    "--endpoint-url",
                    bench.local.endpoint_url,
                    "--pool-id",
                    bench.pool.user_pool_id,
                    "--client-id",
                    bench.pool.public_client.client_id,
                    "--username",
                    user,
                ],
                input=PASSWORD + "\n",
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if login.returncode != 0:
                raise SystemExit(f"login failed: {login.stderr}")
            commands = {
                "python -c pass (floor)": [sys.executable, "-c", "pass"],
                "acognito token": [script, "token"],
                "acognito whoami": [script, "whoami", "--json"],
            }
            walls: dict[str, list[float]] = {name: [] for name in commands}
            cpus: dict[str, list[float]] = {name: [] for name in commands}
            for name, argv in commands.items():  # one warm-up each (disk cache, pyc files)
                _run(argv, env)
            # The floor and token in pairs, then whoami apart: its second of CPU (and the
            # local server's work) would otherwise crowd the short runs beside it.
            phases = [(["python -c pass (floor)", "acognito token"], rounds)]
            phases.append((["python -c pass (floor)", "acognito whoami"], max(3, rounds // 4)))
            paired: dict[str, list[float]] = {name: [] for name in commands}
            for names, count in phases:
                for _ in range(count):
                    floor = None
                    for name in names:
                        wall, cpu, out = _run(commands[name], env)
                        if name.startswith("python"):
                            floor = wall
                            if names[1] != "acognito token":
                                continue  # the floor is counted in the token phase
                        else:
                            assert floor is not None
                            paired[name].append(wall / floor)
                        cpus[name].append(cpu)
                        walls[name].append(wall)
                        if name == "acognito whoami":
                            assert json.loads(out)["username"] == user
    finally:
        shutil.rmtree(home, ignore_errors=True)
    rows = []
    for name in commands:
        ratio = median(paired[name]) if paired[name] else 1.0
        rows.append(
            [
                name,
                len(walls[name]),
                f"{median(walls[name]) * 1000:.1f}",
                f"{min(walls[name]) * 1000:.1f}",
                f"{median(cpus[name]) * 1000:.1f}",
                f"{ratio:.2f}x",
            ]
        )
    print("each command a new process; floor and command alternate, the ratio per pair")
    print_table(
        ["command", "runs", "wall ms median", "wall ms min", "cpu ms median", "wall / floor"], rows
    )
    token = median(walls["acognito token"])
    print(
        f"acognito token <= {TARGET_TOKEN_SECONDS * 1000:.0f} ms: "
        f"{verdict(token <= TARGET_TOKEN_SECONDS)} ({token * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    main()
