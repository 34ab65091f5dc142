"""Profiles, the token cache and the sign-in commands, each run as a subprocess against
the local Cognito: output, exit code and the error path."""

from __future__ import annotations

import base64
import json
import re
import stat
import time
from collections.abc import Callable

import pytest

from acognito.testing import TokenIssuer, totp
from cli_support import PASSWORD, Cli, admin_call, make_pool, one_line_error


@pytest.fixture(scope="module")
def pool(cognito_local):
    return make_pool(cognito_local, {"ann": PASSWORD, "bob": PASSWORD})


@pytest.fixture
def cli(tmp_path) -> Cli:
    return Cli(tmp_path)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _expire(token: str) -> str:
    """The same token with its exp moved an hour into the past (signature now wrong,
    which does not matter: the cache only reads exp before refreshing)."""
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["exp"] = int(time.time()) - 3600
    raw = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{raw}.{sig}"


# ------------------------------------------------------------------------ profiles


def test_configure_profile_commands(cli, pool) -> None:
    cli.configure(pool, secret=True)
    text = cli.config_dir.joinpath("config").read_text()
    assert "client_secret_env = CLI_TEST_SECRET" in text
    assert pool.secret_client.client_secret not in text  # the source, never the secret
    assert _mode(cli.config_dir / "config") == 0o600
    other = cli(
        "configure",
        "--profile",
        "other",
        "--pool-id",
        pool.user_pool_id,
        "--client-id",
        pool.public_client.client_id,
    )
    assert other.code == 0
    listing = cli("profile", "list", "--json").json()
    assert [(row["name"], row["default"]) for row in listing] == [
        ("default", True),
        ("other", False),
    ]
    assert cli("profile", "use", "other").code == 0
    shown = cli("profile", "show", "--json").json()
    assert shown["name"] == "other" and shown["client_id"] == pool.public_client.client_id
    assert cli("profile", "delete", "other").code == 0
    missing = cli("profile", "show", "other")
    assert missing.code == 2
    assert "acognito configure --profile other" in one_line_error(missing)


def test_configure_refuses_a_bad_pool_id(cli) -> None:
    run = cli("configure", "--pool-id", "not a pool", "--client-id", "abc")
    assert run.code == 2
    assert "pool" in one_line_error(run)


def test_xdg_dirs_are_honoured(tmp_path, pool) -> None:
    cli = Cli(tmp_path)
    env = cli.env()
    del env["ACOGNITO_CONFIG_DIR"], env["ACOGNITO_CACHE_DIR"]
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    import subprocess

    args = cli.argv(
        "configure",
        "--pool-id",
        pool.user_pool_id,
        "--client-id",
        pool.public_client.client_id,
        "--endpoint-url",
        pool.endpoint_url,
    )
    assert subprocess.run(args, env=env, capture_output=True, timeout=60).returncode == 0
    login = subprocess.run(
        cli.argv("login", "-u", "ann"),
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert login.returncode == 0, login.stderr
    assert (tmp_path / "xdg-config" / "acognito" / "config").exists()
    assert (tmp_path / "xdg-cache" / "acognito" / "tokens" / "default" / "ann.json").exists()


# ------------------------------------------------------------------------ login / token


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_login_token_whoami_logout_global(tmp_path, pool, backend) -> None:
    cli = Cli(tmp_path, backend=backend)
    cli.configure(pool)
    login = cli("login", "--username", "ann", stdin=PASSWORD + "\n")
    assert login.code == 0, login.err
    assert login.out == ""  # data only with --json; the news is on stderr
    assert "Signed in as ann (profile default); access token expires in 59 minutes" in login.err
    assert PASSWORD not in login.out + login.err
    cache = cli.cache_file("ann")
    assert _mode(cache) == 0o600 and _mode(cache.parent) == 0o700
    token = cli("token")
    assert token.code == 0 and token.err == ""
    access = token.out.strip()
    assert access == cli.cached("ann")["access_token"]
    assert cli("token", "--id").out.strip() == cli.cached("ann")["id_token"]
    who = cli("whoami", "--json")
    assert who.code == 0, who.err
    assert who.json()["username"] == "ann" and who.json()["pool_id"] == pool.user_pool_id
    out = cli("logout", "--global")
    assert out.code == 0, out.err
    assert "Signed out ann everywhere" in out.err
    assert not cache.exists()
    after = cli("token")
    assert after.code == 2
    assert "acognito login" in one_line_error(after)


def test_token_refreshes_an_expired_cached_token_without_a_prompt(cli, pool) -> None:
    cli.configure(pool, secret=True)
    assert cli("login", "-u", "bob", stdin=PASSWORD + "\n").code == 0
    cache = cli.cache_file("bob")
    saved = cli.cached("bob")
    saved["access_token"] = _expire(saved["access_token"])
    cli.write_cached("bob", saved)
    # stdin is empty: any prompt would fail the command.
    run = cli("token")
    assert run.code == 0, run.err
    fresh = run.out.strip()
    claims = json.loads(base64.urlsafe_b64decode(fresh.split(".")[1] + "=="))
    assert claims["exp"] > time.time() + 3000 and claims["username"] == "bob"
    stored = cli.cached("bob")
    assert stored["access_token"] == fresh
    assert stored["refresh_token"] == saved["refresh_token"]
    assert _mode(cache) == 0o600
    assert [p.name for p in cache.parent.iterdir()] == ["bob.json"]


def test_token_after_the_refresh_token_is_revoked_says_log_in(cli, pool) -> None:
    cli.configure(pool)
    assert cli("login", "-u", "ann", stdin=PASSWORD + "\n").code == 0
    saved = cli.cached("ann")
    saved["access_token"] = _expire(saved["access_token"])
    saved["refresh_token"] = "not-a-refresh-token"
    cli.write_cached("ann", saved)
    run = cli("token")
    assert run.code == 1
    line = one_line_error(run)
    assert "the sign-in of ann has expired or was revoked" in line
    assert line.endswith("; sign in again: acognito login --profile default --username ann")


def test_wrong_password_is_refused(cli, pool) -> None:
    # moto checks USER_PASSWORD_AUTH passwords; it accepts any SRP proof (see the next test).
    cli.configure(pool)
    run = cli("login", "-u", "ann", "--auth-flow", "USER_PASSWORD_AUTH", stdin="wrong-password\n")
    assert run.code == 1
    assert one_line_error(run).startswith(
        "acognito: error: Incorrect username or password. [NotAuthorizedException, request id "
    )
    assert not cli.cache_file("ann").exists()


def test_wrong_password_is_refused_with_srp(cli, pool) -> None:
    cli.configure(pool)
    run = cli("login", "-u", "ann", stdin="wrong-password\n")
    assert run.code == 1


def test_unknown_user_and_empty_stdin(cli, pool) -> None:
    cli.configure(pool)
    unknown = cli("login", "-u", "nobody", "--auth-flow", "USER_PASSWORD_AUTH", stdin="x\n")
    assert unknown.code == 1
    assert "User does not exist. [UserNotFoundException" in one_line_error(unknown)
    empty = cli("login", "-u", "ann")
    assert empty.code == 2
    assert "no password: stdin ended" in one_line_error(empty)


def test_new_password_challenge_is_answered(cli, cognito_local, pool) -> None:
    admin_call(
        cognito_local,
        "admin_create_user",
        UserPoolId=pool.user_pool_id,
        Username="newbie",
        TemporaryPassword="Temp-Passw0rd!",
        MessageAction="SUPPRESS",
    )
    cli.configure(pool)
    run = cli("login", "-u", "newbie", stdin="Temp-Passw0rd!\nBrand-New-Passw0rd!\n")
    assert run.code == 0, run.err
    assert "must choose a new password" in run.err
    assert "Signed in as newbie" in run.err
    again = cli(
        "login", "-u", "newbie", "--auth-flow", "USER_PASSWORD_AUTH", stdin="Brand-New-Passw0rd!\n"
    )
    assert again.code == 0, again.err


def _code_with_time_to_spare(secret: str, spare: float = 10.0) -> str:
    left = 30 - time.time() % 30
    if left < spare:
        time.sleep(left + 0.1)
    return totp(secret)


def _authenticator(shown: list[str]) -> Callable[[str], str | None]:
    """An authenticator app for ``Cli.interact``: it takes the secret a TOTP set-up
    shows (the ``  secret: ...`` line, kept in ``shown``) and answers its code."""

    def answer(line: str) -> str | None:
        found = re.fullmatch(r"\s*secret: (\S+)", line)
        if found is None:
            return None
        shown.append(found[1])
        return _code_with_time_to_spare(found[1])

    return answer


def test_totp_setup_then_login_asks_for_the_code(cli, cognito_local) -> None:
    pool = make_pool(cognito_local, {"tess": PASSWORD}, mfa="OPTIONAL")
    cli.configure(pool)
    assert cli("login", "-u", "tess", stdin=PASSWORD + "\n").code == 0
    shown: list[str] = []
    setup = cli.interact("mfa", "setup-totp", answer=_authenticator(shown))
    assert setup.code == 0, setup.err
    secret = cognito_local.api.totp_secret(pool.user_pool_id, "tess")
    assert shown == [secret]  # the CLI shows tess's own secret, the one sign-ins check
    assert "Scan this QR code" in setup.err and f"secret: {secret}" in setup.err
    assert "TOTP is set up and preferred for tess" in setup.err
    wrong = cli("login", "-u", "tess", stdin=f"{PASSWORD}\n000000\n")
    assert wrong.code == 1
    assert "[CodeMismatchException, request id" in one_line_error(wrong)
    run = cli("login", "-u", "tess", stdin=f"{PASSWORD}\n{_code_with_time_to_spare(secret)}\n")
    assert run.code == 0, run.err
    assert "Signed in as tess" in run.err


def test_login_sets_up_totp_when_the_pool_requires_mfa(cli, cognito_local) -> None:
    pool = make_pool(cognito_local, {"uma": PASSWORD, "ugo": PASSWORD}, mfa="ON")
    cli.configure(pool)
    wrong = cli("login", "-u", "ugo", stdin=f"{PASSWORD}\n000000\n")
    assert wrong.code == 1 and "Traceback" not in wrong.err
    last = wrong.err.strip().splitlines()[-1]
    assert "[EnableSoftwareTokenMFAException, request id" in last, wrong.err
    assert not cli.cache_file("ugo").exists()
    shown: list[str] = []
    run = cli.interact("login", "-u", "uma", stdin=PASSWORD + "\n", answer=_authenticator(shown))
    assert run.code == 0, run.err
    assert "Set up an authenticator app" in run.err
    assert "Scan this QR code" in run.err or "otpauth://totp/acognito:uma?" in run.err
    secret = cognito_local.api.totp_secret(pool.user_pool_id, "uma")
    assert shown == [secret]  # uma's own secret, not ugo's (still pending) one
    assert secret != cognito_local.api.totp_secret(pool.user_pool_id, "ugo", pending=True)
    assert f"secret: {secret}" in run.err
    assert "Signed in as uma" in run.err
    assert secret not in run.out and cli.cache_file("uma").exists()
    # Set up now: the next sign-in asks for a code from the app.
    again = cli("login", "-u", "uma", stdin=f"{PASSWORD}\n{_code_with_time_to_spare(secret)}\n")
    assert again.code == 0, again.err
    assert "Set up an authenticator app" not in again.err
    assert "Signed in as uma" in again.err


def test_login_without_segno_prints_the_otpauth_uri(cli, cognito_local, tmp_path) -> None:
    pool = make_pool(cognito_local, {"ivy": PASSWORD}, mfa="ON")
    cli.configure(pool)
    blocker = tmp_path / "no-segno"
    blocker.mkdir()
    (blocker / "segno.py").write_text("raise ImportError('segno is not installed here')\n")
    cli.extra_env["PYTHONPATH"] = str(blocker)  # 'import segno' fails in the CLI
    shown: list[str] = []
    run = cli.interact("login", "-u", "ivy", stdin=PASSWORD + "\n", answer=_authenticator(shown))
    assert run.code == 0, run.err
    assert shown == [cognito_local.api.totp_secret(pool.user_pool_id, "ivy")]
    assert f"otpauth://totp/acognito:ivy?secret={shown[0]}" in run.err
    assert "Signed in as ivy" in run.err


def test_login_asks_for_the_sign_up_code_of_an_unconfirmed_user(cli, cognito_local) -> None:
    pool = make_pool(cognito_local)
    admin_call(
        cognito_local,
        "sign_up",
        ClientId=pool.public_client.client_id,
        Username="new",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "new@example.com"}],
    )
    code = cognito_local.inbox.last_code(pool.user_pool_id, "new", "sign_up")
    cli.configure(pool)
    run = cli("login", "-u", "new", stdin=f"{PASSWORD}\n{code}\n")
    assert run.code == 0, run.err
    assert "has not confirmed the sign-up" in run.err and "Signed in as new" in run.err


def test_refresh_command(cli, pool) -> None:
    cli.configure(pool)
    assert cli("login", "-u", "ann", stdin=PASSWORD + "\n").code == 0
    before = cli.cached("ann")
    time.sleep(1.1)  # a new iat, so a new token
    run = cli("refresh", "--json")
    assert run.code == 0, run.err
    assert run.json()["username"] == "ann"
    after = cli.cached("ann")
    assert after["access_token"] != before["access_token"]


def test_refresh_rotates_when_the_client_does(cli, cognito_local, pool) -> None:
    admin_call(
        cognito_local,
        "update_user_pool_client",
        UserPoolId=pool.user_pool_id,
        ClientId=pool.public_client.client_id,
        ExplicitAuthFlows=[
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
    )
    cli.configure(pool, refresh_rotation="on")
    assert cli("login", "-u", "ann", stdin=PASSWORD + "\n").code == 0
    run = cli("refresh", "--json")
    assert run.code == 0, run.err
    assert run.json()["refresh_token_rotated"] is True


def test_logout_revokes_the_refresh_token(cli, pool) -> None:
    cli.configure(pool)
    assert cli("login", "-u", "ann", stdin=PASSWORD + "\n").code == 0
    refresh = cli.cached("ann")["refresh_token"]
    run = cli("logout")
    assert not cli.cache_file("ann").exists()
    assert run.code == 0, run.err
    # The revoked refresh token no longer works.
    cli("login", "-u", "ann", stdin=PASSWORD + "\n")
    saved = cli.cached("ann")
    saved["access_token"], saved["refresh_token"] = _expire(saved["access_token"]), refresh
    cli.write_cached("ann", saved)
    assert cli("token").code == 1


# ------------------------------------------------------------------------ decode / verify


def test_decode_shows_expired_foreign_tokens_unverified(cli) -> None:
    issuer = TokenIssuer("eu-west-1_Foreign")
    token = issuer.access_token(client_id="someone", username="eve", now=int(time.time()) - 7200)
    run = cli("decode", token)
    assert run.code == 0
    assert "UNVERIFIED" in run.err
    assert '"username": "eve"' in run.out
    assert "expiry: EXPIRED 1 hour" in run.out  # "... 1 second ago" under load
    as_json = cli("decode", "--json", "-", stdin=token + "\n").json()
    assert as_json["verified"] is False and as_json["claims"]["username"] == "eve"
    bad = cli("decode", "not-a-jwt")
    assert bad.code == 1
    assert "not a compact JWS" in one_line_error(bad) and "[JwtParseError]" in one_line_error(bad)


def test_verify_against_the_local_pool(cli, pool) -> None:
    cli.configure(pool)
    assert cli("login", "-u", "ann", stdin=PASSWORD + "\n").code == 0
    token = cli("token").out.strip()
    ok = cli("verify", token, "--token-use", "access")
    assert ok.code == 0, ok.err
    assert ok.json()["username"] == "ann"
    wrong_use = cli("verify", token, "--token-use", "id")
    assert wrong_use.code == 1
    assert "[JwtInvalidTokenUseError]" in one_line_error(wrong_use)
    assert token not in wrong_use.err


def test_a_sign_in_with_pool_options_needs_no_saved_profile(cli, pool) -> None:
    flags = [
        "--pool-id",
        pool.user_pool_id,
        "--client-id",
        pool.public_client.client_id,
        "--endpoint-url",
        pool.endpoint_url,
    ]
    cli("configure", "--profile", "other", *flags)  # some profile exists, not "adhoc"
    run = cli("login", "--profile", "adhoc", "-u", "ann", *flags, stdin=PASSWORD + "\n")
    assert run.code == 0, run.err
    token = cli("token", "--profile", "adhoc")
    assert token.code == 0, token.err
    missing = cli("token", "--profile", "nobody-here")
    assert missing.code == 2
    line = one_line_error(missing)
    assert "no profile 'nobody-here'" in line
    assert "acognito configure --profile nobody-here" in line
