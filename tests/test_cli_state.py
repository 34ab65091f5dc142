"""One truth about who is signed in: profiles, the signed-in users of each and the token
cache agree, whichever command asks (``status``, ``profile list``, ``token``, ``whoami``,
``verify``); ``acognito token``'s fast path imports only the standard library; and no
command prints a token, a refresh token or a password on stderr. Every command runs as a
subprocess against the local Cognito."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cli_support import PASSWORD, Cli, make_pool, one_line_error


@pytest.fixture(scope="module")
def pool(cognito_local):
    return make_pool(cognito_local, {"demo": PASSWORD, "zoe": PASSWORD, "max": PASSWORD})


@pytest.fixture
def cli(tmp_path) -> Cli:
    return Cli(tmp_path)


def _flags(pool) -> list[str]:
    return [
        "--endpoint-url",
        pool.endpoint_url,
        "--pool-id",
        pool.user_pool_id,
        "--client-id",
        pool.public_client.client_id,
    ]


def test_logging_one_user_out_leaves_the_others(cli, pool) -> None:
    cli.configure(pool)
    for name in ("demo", "zoe"):
        assert cli("login", "-u", name, stdin=PASSWORD + "\n").code == 0
    listing = cli("profile", "list", "--json").json()
    assert listing == [
        {
            "current": "zoe",
            "client_id": pool.public_client.client_id,
            "default": True,
            "name": "default",
            "pool_id": pool.user_pool_id,
            "signed_in": ["demo", "zoe"],
        }
    ]
    out = cli("logout")  # the current user: zoe
    assert out.code == 0, out.err
    assert "Signed out zoe" in out.err
    assert "Still signed in with profile default: demo (current)." in out.err
    # Every command now agrees: demo is signed in, and is the current user.
    token = cli("token")
    assert token.code == 0, token.err
    assert token.out.strip() == cli.cached("demo")["access_token"]
    assert cli("whoami", "--json").json()["username"] == "demo"
    assert cli("profile", "list", "--json").json()[0]["signed_in"] == ["demo"]
    users = cli("status", "--json").json()["profiles"][0]["users"]
    assert [(u["username"], u["current"]) for u in users] == [("demo", True)]
    assert cli("token", "-u", "zoe").code == 2
    # Signing zoe in again makes her current again.
    assert cli("login", "-u", "zoe", stdin=PASSWORD + "\n").code == 0
    assert cli("whoami", "--json").json()["username"] == "zoe"
    assert cli("token", "-u", "demo").out.strip() == cli.cached("demo")["access_token"]


def test_a_flag_login_records_the_default_profile(cli, pool) -> None:
    run = cli("login", *_flags(pool), "-u", "demo", stdin=PASSWORD + "\n")
    assert run.code == 0, run.err
    assert f"Saved profile 'default' ({pool.user_pool_id})." in run.err
    shown = cli("profile", "show", "--json").json()
    assert shown["pool_id"] == pool.user_pool_id
    assert shown["endpoint_url"] == pool.endpoint_url
    # verify needs the pool: it comes from the recorded profile.
    token = cli("token").out.strip()
    checked = cli("verify", token, "--token-use", "access")
    assert checked.code == 0, checked.err
    assert cli("status", "--json").json()["profiles"][0]["users"][0]["username"] == "demo"


def test_a_flag_login_never_repoints_a_default_of_another_pool(cli, cognito_local, pool) -> None:
    other = make_pool(cognito_local, {"ann": PASSWORD})
    cli.configure(other)
    assert cli("login", "-u", "ann", stdin=PASSWORD + "\n").code == 0
    refused = cli("login", *_flags(pool), "-u", "demo", stdin=PASSWORD + "\n")
    assert refused.code == 2
    line = one_line_error(refused)
    assert f"profile 'default' is for pool {other.user_pool_id}" in line
    assert "add --profile NEW_NAME" in line
    assert "password" not in refused.err  # refused before asking for it
    assert cli("profile", "show", "--json").json()["pool_id"] == other.user_pool_id
    assert cli("whoami", "--json").json()["username"] == "ann"
    # Named, it is a new profile; the default one is untouched.
    named = cli("login", "--profile", "two", *_flags(pool), "-u", "demo", stdin=PASSWORD + "\n")
    assert named.code == 0, named.err
    assert "Saved profile 'two'" in named.err
    assert cli("token", "--profile", "two").code == 0
    assert cli("whoami", "--json").json()["username"] == "ann"
    # Named explicitly, an existing profile is repointed, and its old sign-ins forgotten.
    moved = cli("login", "--profile", "default", *_flags(pool), "-u", "zoe", stdin=PASSWORD + "\n")
    assert moved.code == 0, moved.err
    assert "Forgot the cached sign-in(s) of ann in profile 'default'" in moved.err
    assert "Updated profile 'default'" in moved.err
    assert cli("profile", "list", "--json").json()[0]["signed_in"] == ["zoe"]


def test_an_unknown_profile_says_so_and_how_to_make_it(cli, pool) -> None:
    cli.configure(pool)
    for args in (("--profile", "nope", "token"), ("token", "--profile", "nope")):
        run = cli(*args)
        assert run.code == 2
        line = one_line_error(run)
        assert "no profile 'nope' (known: default)" in line
        assert "acognito configure --profile nope" in line
        assert "acognito login" not in line
    near = cli("whoami", "--profile", "defualt")
    assert "no profile 'defualt'; did you mean 'default'?" in one_line_error(near)
    login = cli("login", "--profile", "nope", "-u", "demo", stdin=PASSWORD + "\n")
    assert login.code == 2 and "acognito configure --profile nope" in one_line_error(login)


def test_status_shows_profiles_users_expiries_and_endpoints(cli, pool) -> None:
    cli.configure(pool)
    cli("configure", "--profile", "empty", *_flags(pool))
    assert cli("login", "-u", "max", stdin=PASSWORD + "\n").code == 0
    human = cli("status")
    assert human.code == 0, human.err
    lines = human.out.splitlines()
    assert lines[0] == "default profile: default (the default name)"
    assert "default (default)" in lines
    assert f"  pool      {pool.user_pool_id}  ({pool.endpoint_url})" in lines
    assert any(
        line.startswith("  signed in max (current): access token expires in 59 minutes")
        for line in lines
    ), human.out
    assert "  signed in nobody (acognito login --profile empty)" in lines
    doc = cli("status", "--json").json()
    assert [p["name"] for p in doc["profiles"]] == ["default", "empty"]
    user = doc["profiles"][0]["users"][0]
    assert user["username"] == "max" and user["current"] is True
    assert 3500 < user["access_token"]["expires_in"] <= 3600
    assert user["access_token"]["expires_at"].endswith("Z")
    assert user["refreshable"] is True
    assert doc["profiles"][1]["users"] == []
    assert cli.cached("max")["access_token"] not in human.out + json.dumps(doc)


def test_local_profile_and_inbox(tmp_path, cognito_local) -> None:
    """``acognito local --profile NAME`` writes the profile; ``local inbox`` reads the
    codes it sends, through its test API."""
    import os
    import signal

    from cli_support import read_until, spawn_in_pty

    cli = Cli(tmp_path)
    proc, master = spawn_in_pty(cli, "local", "--profile", "loc")
    try:
        seen = read_until(master, b"Serving; Ctrl-C stops it.", 90)
        text = seen.decode(errors="replace")
        assert "Saved this pool as profile 'loc'." in text
        shown = cli("profile", "show", "loc", "--json").json()
        assert shown["endpoint_url"].startswith("http://127.0.0.1:")
        assert shown["username"] == "demo"
        login = cli("login", "--profile", "loc", stdin="Local-Passw0rd!\n")
        assert login.code == 0, login.err
        signed = cli(
            "sign-up", "--profile", "loc", "newbie", "-a", "email=newbie@example.com",
            stdin="Newbie-Passw0rd!1\n",
        )  # fmt: skip
        assert signed.code == 0, signed.err
        last = cli("local", "inbox", "--profile", "loc", "--last", "-u", "newbie")
        assert last.code == 0, last.err
        code = last.out.strip()
        assert code.isdigit() and len(code) == 6
        table = cli("local", "inbox", "--profile", "loc")
        assert "newbie@example.com" in table.out and code in table.out
        rows = cli("local", "inbox", "--profile", "loc", "--json").json()
        assert rows[-1]["purpose"] == "sign_up" and rows[-1]["at"].endswith("Z")
        confirmed = cli("confirm-sign-up", "--profile", "loc", "newbie", code)
        assert confirmed.code == 0, confirmed.err
        none = cli("local", "inbox", "--profile", "loc", "--last", "-u", "nobody")
        assert none.code == 2 and "no code matches" in one_line_error(none)
    finally:
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        os.close(master)
    # The server is gone: the inbox says where it looked and what to do.
    gone = cli("local", "inbox", "--profile", "loc")
    assert gone.code == 1
    line = one_line_error(gone)
    assert "cannot read the inbox at http://127.0.0.1:" in line
    assert "is 'acognito local' still running?" in line


def test_the_inbox_needs_a_local_endpoint(cli, pool) -> None:
    cli("configure", "--pool-id", "eu-west-1_Real1", "--client-id", "abc123")
    run = cli("local", "inbox")
    assert run.code == 2
    assert "has no endpoint URL: the inbox is the local Cognito's" in one_line_error(run)


# ------------------------------------------------------------------------ the fast path


def test_token_imports_only_the_standard_library_when_fresh(cli, pool) -> None:
    cli.configure(pool)
    assert cli("login", "-u", "demo", stdin=PASSWORD + "\n").code == 0
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from acognito.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(m for m in new if m.split('.')[0] not in sys.stdlib_module_names),"
        " file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    for args in (["token"], ["--profile", "default", "token", "-u", "demo", "--json"]):
        run = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            env=cli.env(),
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        loaded = eval(run.stderr.strip().splitlines()[-1])  # noqa: S307 - our own print
        assert loaded == [
            "acognito",
            "acognito.cli",
            "acognito.cli._fast",
            "acognito.stores",
            "acognito.stores.file_format",
        ]
    # The fast path and the full one print the same document.
    fast = cli("token", "--json").json()
    full_path = "import sys; from acognito.cli.app import main; sys.exit(main(['token', '--json']))"
    done = subprocess.run(
        [sys.executable, "-c", full_path], capture_output=True, text=True, env=cli.env(), timeout=60
    )
    assert done.returncode == 0, done.stderr
    full = json.loads(done.stdout)
    assert fast["token"] == full["token"] == cli.cached("demo")["access_token"]
    assert {k: v for k, v in fast.items() if k != "expires_in"} == {
        k: v for k, v in full.items() if k != "expires_in"
    }


def test_a_token_near_expiry_takes_the_full_path_and_refreshes(cli, pool) -> None:
    cli.configure(pool)
    assert cli("login", "-u", "demo", stdin=PASSWORD + "\n").code == 0
    before = cli.cached("demo")["access_token"]
    run = cli("token", "--min-valid", "7200")  # expires within two hours: refresh
    assert run.code == 0, run.err
    assert run.out.strip() != before and run.out.strip() == cli.cached("demo")["access_token"]


# ------------------------------------------------------------------------ no secrets


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug-logs"])
def test_no_token_or_password_on_stderr_across_every_command(
    tmp_path, cognito_local, debug
) -> None:
    """Every command a person runs: tokens, refresh tokens and passwords go to stdout
    when asked for, never to stderr, nor to a log (``ACOGNITO_DEBUG=1`` puts every
    logger, botocore's and httpx's too, at DEBUG on stderr)."""
    pool = make_pool(cognito_local, {"ivy": PASSWORD})
    cli = Cli(tmp_path, extra_env={"ACOGNITO_DEBUG": "1"} if debug else {})
    cli.configure(pool)
    runs = [cli("login", "-u", "ivy", stdin=PASSWORD + "\n")]
    cached = cli.cached("ivy")
    secrets = [PASSWORD, cached["access_token"], cached["id_token"], cached["refresh_token"]]
    token = cached["access_token"]
    new_password = "Ivy-N3w-Passw0rd!"
    runs += [
        cli("token"),
        cli("token", "--id"),
        cli("token", "--json"),
        cli("whoami"),
        cli("whoami", "--json"),
        cli("status"),
        cli("status", "--json"),
        cli("profile", "list"),
        cli("decode"),
        cli("decode", token),
        cli("verify", token),
        cli("refresh"),
        cli("refresh", "--json"),
        cli("change-password", stdin=f"{PASSWORD}\n{new_password}\n"),
        cli("admin", "user", "get", "ivy"),
        cli("admin", "user", "set-password", "ivy", stdin=f"{new_password}\n"),
        cli("admin", "user", "create", "ned"),
        cli("admin", "user", "create", "nia", "--password-stdin", stdin=f"{new_password}\n"),
        cli("admin", "user", "create", "noa", "--temporary-password-stdin", stdin="Temp-Pw0rd!x\n"),
        cli("login", "-u", "ivy", "--auth-flow", "USER_PASSWORD_AUTH", stdin="wrong\n"),
        cli("login", "-u", "nia", stdin=f"{new_password}\n"),
        cli("logout"),
        cli("logout", "--global"),
    ]
    made = runs[-7].out  # the generated temporary password: on stdout, once
    temporary = made.split("temporary_password: ")[1].split()[0]
    fresh = [json.loads(p.read_text()) for p in (cli.cache_dir / "tokens").glob("*/*.json")]
    secrets += [temporary, new_password, "Temp-Pw0rd!x"]
    secrets += [str(e["value"].get(k)) for e in fresh for k in ("access_token", "refresh_token")]
    for run in runs:
        for secret in secrets:
            assert secret not in run.err, (secret[:12], run.err[:300])
    assert temporary in made and "shown only this once" in runs[-7].err
    if debug:  # the logs were on: botocore's request and response lines among them
        assert "DEBUG:botocore.endpoint:" in runs[0].err


def test_usage_errors_are_json_with_json(cli) -> None:
    run = cli("login", "--usernmae", "x", "--json")
    assert run.code == 2 and run.out == ""
    doc = json.loads(run.err)
    assert doc["error"]["message"] == "no option '--usernmae'; did you mean '--username'?"
    assert doc["error"]["exit_code"] == 2 and doc["error"]["hint"] == "acognito login --help"
    refused = cli("token", "--json")
    assert refused.code == 2 and json.loads(refused.err)["error"]["type"] == "UsageError"
