"""Shared test set-up: every async test runs on asyncio and on trio."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# Every local Cognito of the suite (in this process, its subprocesses and their servers)
# holds its answers against botocore's model of Cognito; a test that drew an answer
# outside it fails (acognito.testing.plugin).
os.environ.setdefault("ACOGNITO_LOCAL_CHECK_SHAPES", "1")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the fault suite's table (tests/test_faults.py), when it ran.

    With ``ACOGNITO_FAULT_REPORT=path`` the table is also written to that file.
    """
    from fault_proxy import FAULT_TABLE

    if not FAULT_TABLE:
        return
    rows = [("fault", "server", "backend", "outcome"), *sorted(set(FAULT_TABLE))]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    terminalreporter.section("fault suite")
    for line in lines:
        terminalreporter.write_line(line)
    target = os.environ.get("ACOGNITO_FAULT_REPORT")
    if target:
        Path(target).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def redis_server() -> Any:
    """A real redis-server on a free loopback port for the session (tests/redis_server.py);
    skipped without the binary (naming the Debian package), never under CI=true."""
    from redis_server import RedisServer

    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: Any) -> str:
    """The session's redis-server, emptied for this test."""
    if not redis_server.ping():
        redis_server.restart()
    redis_server.command("FLUSHALL")
    return str(redis_server.url)
