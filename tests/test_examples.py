"""Every script in examples/ runs to completion, on asyncio and on trio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# script -> (arguments for asyncio, arguments for trio)
RUNS: dict[str, tuple[list[str], list[str]]] = {
    "quickstart.py": ([], ["--trio"]),
    "mfa_totp.py": ([], ["--trio"]),
    "asgi_bearer_auth.py": ([], ["--trio"]),
    "verify_tokens.py": ([], ["--trio"]),
    "client_credentials.py": ([], ["--trio"]),
    "pkce_login.py": ([], ["--trio"]),
    "remembered_device.py": ([], ["--trio"]),
    "httpx_auth.py": ([], ["--trio"]),
    "sign_in_steps.py": ([], ["--trio"]),
    "identity_credentials.py": ([], ["--trio"]),
    "sign_up_auto_sign_in.py": ([], ["--trio"]),
    "sign_out_and_rotation.py": ([], ["--trio"]),
    "email_mfa.py": ([], ["--trio"]),
    "passkeys.py": ([], ["--trio"]),
    "redis_token_store.py": ([], ["--trio"]),
    # API protection, one per framework (#17); the blocking ones sign in on trio with --trio.
    "fastapi_api.py": ([], ["--trio"]),
    "starlette_api.py": ([], ["--trio"]),
    "flask_api.py": ([], ["--trio"]),
    "django_api.py": ([], ["--trio"]),
    "lambda_authorizer.py": ([], ["--trio"]),
    "server_signin_managed_login.py": ([], ["--trio"]),
    "server_signin_form.py": ([], ["--trio"]),
}


def test_every_example_is_exercised() -> None:
    present = {p.name for p in EXAMPLES.glob("*.py")}
    assert present == set(RUNS), f"examples not run here: {sorted(present - set(RUNS))}"


@pytest.mark.parametrize("backend", [0, 1], ids=["asyncio", "trio"])
@pytest.mark.parametrize("script", sorted(RUNS))
def test_example_runs(script: str, backend: int) -> None:
    args = RUNS[script][backend]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert out.stdout.strip()
    assert "eyJ" not in out.stdout  # no token is ever printed
