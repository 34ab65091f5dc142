"""examples/pytest_project, a user's own test suite on acognito's fixtures, passes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1] / "examples" / "pytest_project"


def test_the_example_user_project_passes_on_both_backends() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    summary = re.search(r"(\d+) passed", out.stdout)
    assert summary is not None, out.stdout[-2000:]
    # Four tests, each on asyncio and trio; nothing skipped or failed.
    assert int(summary.group(1)) == 8
    assert "skipped" not in out.stdout and "failed" not in out.stdout
