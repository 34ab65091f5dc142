"""Importing the verifier, the httpx auths or the OAuth client must not load aiobotocore.

Each import runs in a fresh interpreter. The package is set up without running
``acognito/__init__.py`` so that these modules are judged on their own imports (the
package's ``__init__`` has its own test); then ``sys.modules`` is inspected.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import acognito

SRC = str(Path(acognito.__file__).resolve().parent)

SCRIPT = """
import importlib, json, sys, types
package = types.ModuleType("acognito")
package.__path__ = [{src!r}]
sys.modules["acognito"] = package
importlib.import_module({module!r})
heavy = sorted(
    name for name in sys.modules
    if name.split(".")[0] in ("aiobotocore", "botocore", "aiohttp")
    or name in ("acognito.cognito", "acognito._idp")
)
print(json.dumps(heavy))
"""


@pytest.mark.parametrize(
    "module", ["acognito.auth", "acognito.oauth", "acognito.verify", "acognito.tokens"]
)
def test_import_does_not_load_aiobotocore(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(src=SRC, module=module)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == []


@pytest.mark.parametrize(
    ("module", "seen"),
    [("acognito.cognito", "acognito.cognito"), ("aiobotocore.session", "aiobotocore")],
)
def test_the_check_sees_heavy_modules_when_they_are_imported(module: str, seen: str) -> None:
    """The negative control: the scan does report the modules it guards against.

    (``acognito.cognito`` itself now defers aiobotocore to the first client, so the
    session module and aiobotocore are checked as two separate names.)
    """
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(src=SRC, module=module)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert seen in json.loads(done.stdout)
