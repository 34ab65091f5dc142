"""`python -m acognito demo`: the README's first command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from acognito.__main__ import main, run_demo

pytestmark = pytest.mark.anyio


async def test_demo_walks_every_step(anyio_backend) -> None:
    lines: list[str] = []
    await run_demo(lines.append)
    text = "\n".join(lines)
    for step in (
        f"under {anyio_backend}",
        "register('ada@example.com') -> confirmed=False",
        "authenticate(password) with SRP -> tokens issued",
        "CognitoVerifier.verify(access token) -> valid",
        "verify(forged token) -> rejected: JwtInvalidSignatureError",
        "get_user() -> given_name='Ada'",
        "GET /hello with httpx + CognitoAuth -> 200",
        "the API checked 1 bearer token(s) with CognitoVerifier",
        "new tokens: True",
        "logout() -> signed out everywhere",
        "stopped the local Cognito",
    ):
        assert step in text
    # Tokens are never printed, only their claims.
    assert "eyJ" not in text


def test_demo_command_exits_zero() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "acognito", "demo", "--backend", "trio"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "stopped the local Cognito" in out.stdout


def test_cli_rejects_unknown_command(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["nope"])
    assert info.value.code == 2


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acognito", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_verify_command_with_a_jwks_file(tmp_path) -> None:
    import json

    from acognito.testing import TokenIssuer

    issuer = TokenIssuer("eu-west-1_Cli1")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    token = issuer.access_token(client_id="cli-client", username="ann")
    common = ["--pool-id", "eu-west-1_Cli1", "--jwks-file", str(jwks), "--token-use", "access"]
    ok = _cli("verify", token, "--client-id", "cli-client", *common)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["username"] == "ann"
    from_stdin = _cli("verify", "-", "--client-id", "cli-client", *common, stdin=token + "\n")
    assert from_stdin.returncode == 0
    wrong = _cli("verify", token, "--client-id", "someone-else", *common)
    assert wrong.returncode == 1
    assert "JwtInvalidClientIdError" in wrong.stderr
    assert token not in wrong.stderr + wrong.stdout


async def test_login_command_against_the_local_cognito(cognito_admin, cognito_pool) -> None:
    import json

    import anyio

    await cognito_admin.create_user(cognito_pool.user_pool_id, "cli-user", "Cli-Passw0rd!")
    args = [
        "login",
        "--pool-id",
        cognito_pool.user_pool_id,
        "--client-id",
        cognito_pool.public_client.client_id,
        "--username",
        "cli-user",
        "--endpoint-url",
        cognito_pool.endpoint_url,
        "--password-stdin",
    ]
    env_args = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    import os

    env = {**os.environ, **env_args}
    run = await anyio.run_process(
        [sys.executable, "-m", "acognito", *args], input=b"Cli-Passw0rd!\n", env=env, check=False
    )
    assert run.returncode == 0, run.stderr
    claims = json.loads(run.stdout)
    assert claims["access"]["username"] == "cli-user"
    assert "Cli-Passw0rd!" not in run.stdout.decode()
    # A wrong password is refused in tests/test_local_cognito.py; here an unknown
    # user shows the typed error path of the command.
    unknown = [a if a != "cli-user" else "nobody" for a in args]
    bad = await anyio.run_process(
        [sys.executable, "-m", "acognito", *unknown], input=b"whatever\n", env=env, check=False
    )
    assert bad.returncode == 1
    assert b"UserNotFoundError" in bad.stderr
