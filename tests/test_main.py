"""`python -m acognito demo`: the README's first command, and the first tools."""

from __future__ import annotations

import subprocess
import sys

import pytest

from acognito.cli import main
from acognito.cli.demo import run_demo

pytestmark = pytest.mark.anyio


async def test_demo_walks_every_step(anyio_backend) -> None:
    lines: list[str] = []
    await run_demo(lines.append)
    text = "\n".join(lines)
    for step in (
        f"under {anyio_backend}",
        "register('ada@example.com') -> confirmed=False",
        "authenticate(password) with SRP -> tokens issued",
        "confirm_sign_up(code from the local inbox) -> ok",
        # The local Cognito checks the SRP proof against the password, as Cognito does.
        "authenticate(wrong password) with SRP -> refused: NotAuthorizedException",
        "CognitoVerifier.verify(access token) -> valid",
        "verify(forged token) -> rejected: JwtInvalidSignatureError",
        "get_user() -> given_name='Ada'",
        "GET /hello with httpx + CognitoAuth -> 200",
        "the API checked 1 bearer token(s) with CognitoVerifier",
        "new access token: True",
        "refresh token rotated: the old one is retired (GetTokensFromRefreshToken)",
        "logout() -> signed out everywhere; tokens left in the session: none",
        "stopped the local Cognito",
        "acognito local",
        "acognito login --username <user>",
    ):
        assert step in text
    # Tokens are never printed, only their claims; nor the session's token holder.
    assert "eyJ" not in text
    assert "Tokens(" not in text
    # Each step shows its own time: cumulative times would never go down.
    times = [int(line.rsplit("(", 1)[1].split(" ms")[0]) for line in lines if line.endswith(" ms)")]
    assert len(times) >= 12
    assert any(later < earlier for earlier, later in zip(times, times[1:]))


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


async def test_login_command_against_the_local_cognito(
    cognito_admin, cognito_pool, tmp_path
) -> None:
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
        "--json",
    ]
    env_args = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    import os

    env = {
        **os.environ,
        **env_args,
        "ACOGNITO_CONFIG_DIR": str(tmp_path / "config"),
        "ACOGNITO_CACHE_DIR": str(tmp_path / "cache"),
    }
    run = await anyio.run_process(
        [sys.executable, "-m", "acognito", *args], input=b"Cli-Passw0rd!\n", env=env, check=False
    )
    assert run.returncode == 0, run.stderr
    claims = json.loads(run.stdout)
    assert claims["access"]["username"] == "cli-user"
    assert "Cli-Passw0rd!" not in run.stdout.decode()
    assert b"Signed in as cli-user" in run.stderr
    # moto accepts any SRP proof, so a wrong password is proven elsewhere (loopback
    # server); here an unknown user shows the typed error path of the command.
    unknown = [a if a != "cli-user" else "nobody" for a in args]
    bad = await anyio.run_process(
        [sys.executable, "-m", "acognito", *unknown], input=b"whatever\n", env=env, check=False
    )
    assert bad.returncode == 1
    assert json.loads(bad.stderr)["error"]["type"] == "UserNotFoundError"  # --json: JSON
    assert bad.stderr.count(b"\n") == 1  # one line, no traceback
