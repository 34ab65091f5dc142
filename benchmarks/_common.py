"""Shared helpers for the benchmark scripts: clocks, medians, tables, a local Cognito.

Each script stays runnable on its own (``python benchmarks/bench_x.py``); these helpers
only remove repetition: timing a block (wall and process CPU), printing aligned tables,
PASS/MISS verdicts, and a moto-backed pool with users that is always torn down.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio

from acognito.testing import CognitoAdmin, LocalCognito, LocalPool

#: The password every benchmark user gets (moto accepts it; Cognito's default policy too).
PASSWORD = "Bench-Passw0rd!"  # noqa: S105 - a local test fixture


@dataclass
class Sample:
    """One timed run: how many operations, wall seconds, process CPU seconds."""

    count: int
    wall: float
    cpu: float

    @property
    def rate(self) -> float:
        """Operations per wall-clock second."""
        return self.count / self.wall

    @property
    def cpu_per_op(self) -> float:
        """Process CPU seconds (all threads of this process) per operation."""
        return self.cpu / self.count


class Clock:
    """Wall (perf_counter) and process CPU time (process_time) of a block.

    ``with Clock() as c: ...`` then ``c.sample(count)``.
    """

    def __enter__(self) -> Clock:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0

    def sample(self, count: int) -> Sample:
        return Sample(count, self.wall, self.cpu)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows under headers, first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:]))
        return "  ".join([first, *rest]).rstrip()

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def quiet_import_pycognito() -> Any:
    """``pycognito.Cognito``, imported without its (and its dependencies') warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pycognito import Cognito

    return Cognito


@dataclass(frozen=True)
class BenchPool:
    """A moto server with one pool and ``len(usernames)`` confirmed users."""

    local: LocalCognito
    pool: LocalPool
    usernames: tuple[str, ...]
    password: str

    def jwks(self) -> dict[str, Any]:
        """The pool's JWKS as moto serves it (one HTTP GET, for peers that need it pinned)."""
        with urllib.request.urlopen(self.pool.jwks_uri, timeout=10) as resp:  # noqa: S310
            data: dict[str, Any] = json.loads(resp.read())
        return data

    def server_cpu_seconds(self) -> float | None:
        """User + system CPU seconds the moto process has used so far (Linux), else None."""
        proc = getattr(self.local, "_proc", None)  # LocalCognito exposes no pid
        if proc is None:
            return None
        try:
            with open(f"/proc/{proc.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def pycognito_factory(self) -> Callable[[], Any]:
        """A maker of ``pycognito.Cognito`` sessions on this pool that verify tokens as usual.

        pycognito finds moto through ``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`` and gets
        moto's JWKS through ``COGNITO_JWKS`` (its own hydration variable). Passing
        ``boto3_client_kwargs={"endpoint_url": ...}`` instead would make it expect the
        tokens' ``iss`` to be ``{endpoint}/{pool}``, while moto writes the AWS issuer, and
        every verification would fail. (This sets both variables for the process.)
        """
        os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"] = self.pool.endpoint_url
        os.environ["COGNITO_JWKS"] = json.dumps(self.jwks())
        cognito_cls = quiet_import_pycognito()
        pool = self.pool

        def make() -> Any:
            return cognito_cls(
                pool.user_pool_id,
                pool.public_client.client_id,
                user_pool_region=pool.region,
                access_key="testing",
                secret_key="testing",  # noqa: S106
            )

        return make


@contextmanager
def bench_pool(
    users: int, *, password: str = PASSWORD, keep_alive: bool = True, response_delay: float = 0.0
) -> Iterator[BenchPool]:
    """Start moto on loopback, create a pool and ``users`` users; stop moto on exit.

    ``keep_alive=False`` runs moto's own server, which closes every connection;
    ``response_delay`` (seconds) holds every response, a stand-in for network latency.
    """
    with LocalCognito(keep_alive=keep_alive, response_delay=response_delay) as local:

        async def setup() -> tuple[LocalPool, tuple[str, ...]]:
            async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
                pool = await admin.create_local_pool()
                names = tuple(f"bench-user-{i:03d}" for i in range(users))
                for name in names:
                    await admin.create_user(pool.user_pool_id, name, password)
                return pool, names

        pool, names = anyio.run(setup)
        yield BenchPool(local, pool, names, password)


def _flow_cost(run_by_hand: Callable[[], None], run_auth: Callable[[], None]) -> dict[str, float]:
    """Median seconds per call of two no-I/O loops, 15 rounds of 2000 calls each."""
    by_hand, with_auth = [], []
    for _ in range(15):
        for fn, out in ((run_by_hand, by_hand), (run_auth, with_auth)):
            start = time.perf_counter()
            for _ in range(2000):
                fn()
            out.append((time.perf_counter() - start) / 2000)
    return {"flow_static": statistics.median(by_hand), "flow_auth": statistics.median(with_auth)}


def auth_flow_cost_sync(auth: Any, url: str, header: str) -> dict[str, float]:
    """An httpx auth's sync flow alone (no I/O) against httpx's no-auth flow plus the
    ``Authorization`` header set by hand: ``{"flow_static": s, "flow_auth": s}``."""
    import httpx

    request = httpx.Request("GET", url)
    no_auth = httpx.Auth()

    def by_hand() -> None:
        request.headers["Authorization"] = header
        flow = no_auth.sync_auth_flow(request)
        next(flow)
        flow.close()

    def with_auth() -> None:
        flow = auth.sync_auth_flow(request)
        next(flow)
        flow.close()

    return _flow_cost(by_hand, with_auth)


async def auth_flow_cost_async(auth: Any, url: str, header: str) -> dict[str, float]:
    """The async twin of :func:`auth_flow_cost_sync` (the flow's first step only)."""
    import httpx

    request = httpx.Request("GET", url)
    no_auth = httpx.Auth()
    by_hand, with_auth = [], []
    for _ in range(15):
        start = time.perf_counter()
        for _ in range(2000):
            request.headers["Authorization"] = header
            flow = no_auth.async_auth_flow(request)
            await flow.__anext__()
            await flow.aclose()
        by_hand.append((time.perf_counter() - start) / 2000)
        start = time.perf_counter()
        for _ in range(2000):
            flow = auth.async_auth_flow(request)
            await flow.__anext__()
            await flow.aclose()
        with_auth.append((time.perf_counter() - start) / 2000)
    return {"flow_static": statistics.median(by_hand), "flow_auth": statistics.median(with_auth)}
