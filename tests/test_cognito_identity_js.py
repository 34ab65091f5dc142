"""AWS's own JavaScript client signs in to the shipped local Cognito as it does to Cognito.

amazon-cognito-identity-js (npm) runs USER_SRP_AUTH, confirms the new device itself
(ConfirmDevice), then signs in again with DEVICE_SRP_AUTH; a wrong password and a wrong
device secret are refused. The package is installed into a cache directory on first use
(``ACOGNITO_COGNITO_JS_DIR`` or ``~/.cache/acognito-tests/amazon-cognito-identity-js-<v>``).
Skipped only when node or npm is not installed; a failed install fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from acognito.testing import CognitoAdmin, LocalCognito

pytestmark = pytest.mark.anyio

VERSION = "6.3.21"
SCRIPT = Path(__file__).parent / "js" / "cognito_identity_js_check.js"
PASSWORD = "Js-Passw0rd!"


def _modules() -> Path:
    configured = os.environ.get("ACOGNITO_COGNITO_JS_DIR")
    if configured:
        return Path(configured) / "node_modules"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "acognito-tests" / f"amazon-cognito-identity-js-{VERSION}" / "node_modules"


@pytest.fixture(scope="module")
def node_modules() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        # A developer's machine may lack Node; CI has it, so there a skip would hide a gap.
        if os.environ.get("CI"):
            pytest.fail("node/npm not installed: cannot run amazon-cognito-identity-js")
        pytest.skip("node/npm not installed: cannot run amazon-cognito-identity-js")
    modules = _modules()
    if not (modules / "amazon-cognito-identity-js" / "package.json").exists():
        modules.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--prefix", str(modules.parent), "--no-audit", "--no-fund",
             f"amazon-cognito-identity-js@{VERSION}"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            pytest.fail(f"npm install amazon-cognito-identity-js failed:\n{done.stderr[-2000:]}")
    return modules


async def test_aws_js_client_signs_in_with_srp_and_device_srp(
    node_modules: Path, cognito_local: LocalCognito, cognito_admin: CognitoAdmin
) -> None:
    import anyio

    pool = await cognito_admin.create_local_pool(device_tracking=True)
    await cognito_admin.create_user(pool.user_pool_id, "jess", PASSWORD)
    client_id = pool.public_client.client_id
    api = cognito_local.api
    mark = len(api.requests())
    api.record_requests(True)
    try:
        with anyio.fail_after(120):
            run = await anyio.run_process(
                ["node", str(SCRIPT), str(node_modules), cognito_local.endpoint_url,
                 pool.user_pool_id, client_id, "jess", PASSWORD],
                check=False,
            )  # fmt: skip
        steps = [
            (r.operation, r.params.get("AuthFlow") or r.params.get("ChallengeName"), r.error_code)
            for r in api.requests(mark)
            if r.params.get("ClientId") == client_id or r.operation == "ConfirmDevice"
        ]
    finally:
        api.record_requests(False)
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    out = json.loads(run.stdout)
    assert out["wrongPassword"]["ok"] is False
    assert out["wrongPassword"]["code"] == "NotAuthorizedException"
    assert out["first"]["ok"] is True and out["first"]["username"] == "jess"
    device_key = out["first"]["deviceKey"]
    assert device_key and device_key.startswith("us-east-1_")
    assert out["second"] == {
        "ok": True,
        "deviceKey": device_key,
        "username": "jess",
        "tokenDevice": device_key,
    }
    assert out["wrongDevice"]["ok"] is False
    assert out["wrongDevice"]["code"] == "NotAuthorizedException"
    assert ("ConfirmDevice", None, None) in steps
    assert ("RespondToAuthChallenge", "DEVICE_SRP_AUTH", None) in steps
    assert ("RespondToAuthChallenge", "DEVICE_PASSWORD_VERIFIER", None) in steps
    # The wrong device secret fails the device's own proof, after a good password proof.
    assert steps[-1] == (
        "RespondToAuthChallenge",
        "DEVICE_PASSWORD_VERIFIER",
        "NotAuthorizedException",
    )
    (record,) = api.devices(pool.user_pool_id, "jess")
    assert record.confirmed and record.remembered
