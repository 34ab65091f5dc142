"""Account commands (sign-up to changed password), admin commands (users, groups) and
``m2m token``, each run as a subprocess: output, exit code and the error path."""

from __future__ import annotations

import anyio
import pytest

from acognito.testing import CognitoAdmin
from cli_support import PASSWORD, Cli, make_pool, one_line_error
from oauth_domain import LocalDomain


@pytest.fixture
def pool(cognito_local):
    return make_pool(cognito_local, {"ann": PASSWORD})


@pytest.fixture
def cli(tmp_path, pool) -> Cli:
    cli = Cli(tmp_path)
    cli.configure(pool)
    return cli


def test_sign_up_confirm_and_login(cli, cognito_local, pool) -> None:
    run = cli("sign-up", "zoe", "-a", "email=zoe@example.com", "--json", stdin=PASSWORD + "\n")
    assert run.code == 0, run.err
    assert run.json()["confirmed"] is False and run.json()["sub"]
    assert "Next: acognito confirm-sign-up zoe <code>" in run.err
    taken = cli("sign-up", "zoe", stdin=PASSWORD + "\n")
    assert taken.code == 1
    assert "username exists: zoe [UsernameExistsException" in one_line_error(taken)
    bad_attr = cli("sign-up", "yan", "-a", "email", stdin=PASSWORD + "\n")
    assert bad_attr.code == 2
    assert "NAME=VALUE" in one_line_error(bad_attr)
    wrong = cli("confirm-sign-up", "zoe", "000000")  # the local Cognito checks codes
    assert wrong.code == 1
    assert "[CodeMismatchException" in one_line_error(wrong)
    assert "acognito resend-code zoe" in one_line_error(wrong)
    code = cognito_local.inbox.codes(pool.user_pool_id, purpose="sign_up")[-1].code
    confirmed = cli("confirm-sign-up", "zoe", code)
    assert confirmed.code == 0, confirmed.err
    assert "Confirmed zoe" in confirmed.err
    assert cli("login", "-u", "zoe", stdin=PASSWORD + "\n").code == 0


def test_resend_code(cli) -> None:
    signed_up = cli("sign-up", "pat", "--attribute", "email=pat@example.com", stdin=PASSWORD + "\n")
    assert signed_up.code == 0, signed_up.err
    run = cli("resend-code", "pat")
    assert run.code == 0, run.err


def test_forgot_and_confirm_forgot_password(cli, cognito_local, pool) -> None:
    run = cli("forgot-password", "ann")
    assert run.code == 0, run.err
    assert "Next: acognito confirm-forgot-password ann <code>" in run.err

    async def code() -> str:
        async with CognitoAdmin(cognito_local.endpoint_url, region=cognito_local.region) as admin:
            return await admin.forgot_password_code(pool.public_client.client_id, "ann")

    unknown = cli("confirm-forgot-password", "nobody", "123456", stdin="Reset-Passw0rd!\n")
    assert unknown.code == 1
    assert "NotFoundException" in one_line_error(unknown)
    done = cli("confirm-forgot-password", "ann", anyio.run(code), stdin="Reset-Passw0rd!\n")
    assert done.code == 0, done.err
    login = cli(
        "login", "-u", "ann", "--auth-flow", "USER_PASSWORD_AUTH", stdin="Reset-Passw0rd!\n"
    )
    assert login.code == 0, login.err


def test_change_password(cli) -> None:
    assert cli("login", "-u", "ann", stdin=PASSWORD + "\n").code == 0
    wrong = cli("change-password", stdin="not-it\nChanged-Passw0rd!\n")
    assert wrong.code == 1
    assert "[NotAuthorizedException" in one_line_error(wrong)
    assert "check the current password" in one_line_error(wrong)
    run = cli("change-password", stdin=f"{PASSWORD}\nChanged-Passw0rd!\n")
    assert run.code == 0, run.err
    login = cli(
        "login", "-u", "ann", "--auth-flow", "USER_PASSWORD_AUTH", stdin="Changed-Passw0rd!\n"
    )
    assert login.code == 0, login.err


def test_admin_users(cli) -> None:
    created = cli(
        "admin",
        "user",
        "create",
        "carl",
        "-a",
        "email=carl@example.com",
        "-a",
        "email_verified=true",
        "--json",
    )
    assert created.code == 0, created.err
    assert created.json()["status"] == "FORCE_CHANGE_PASSWORD"
    for n in range(3):
        assert (
            cli("admin", "user", "create", f"extra{n}", "-a", f"email=extra{n}@example.org").code
            == 0
        )
    got = cli("admin", "user", "get", "carl", "--json").json()
    assert got["attributes"]["email"] == "carl@example.com" and got["enabled"] is True
    listed = cli("admin", "user", "list")
    assert listed.code == 0
    assert listed.out.splitlines()[0].split() == [
        "USERNAME",
        "STATUS",
        "ENABLED",
        "EMAIL",
        "CREATED",
    ]
    assert "5 user(s)." in listed.err
    filtered = cli("admin", "user", "list", "--filter", 'email ^= "extra"', "--json").json()
    assert sorted(u["username"] for u in filtered) == ["extra0", "extra1", "extra2"]
    assert cli("admin", "user", "set-password", "carl", stdin="Carl-Passw0rd!\n").code == 0
    assert (
        cli(
            "login", "-u", "carl", "--auth-flow", "USER_PASSWORD_AUTH", stdin="Carl-Passw0rd!\n"
        ).code
        == 0
    )
    assert cli("admin", "user", "disable", "carl").code == 0
    assert cli("admin", "user", "get", "carl", "--json").json()["enabled"] is False
    refused = cli(
        "login", "-u", "carl", "--auth-flow", "USER_PASSWORD_AUTH", stdin="Carl-Passw0rd!\n"
    )
    assert refused.code == 1
    assert cli("admin", "user", "enable", "carl").code == 0
    assert cli("admin", "user", "reset-password", "carl").code == 0
    assert cli("admin", "user", "get", "carl", "--json").json()["status"] == "RESET_REQUIRED"
    assert cli("admin", "user", "delete", "carl").code == 0
    gone = cli("admin", "user", "get", "carl")
    assert gone.code == 1
    assert "User does not exist. [UserNotFoundException" in one_line_error(gone)


def test_admin_user_list_reads_every_page(cli, cognito_local, pool) -> None:
    async def many() -> None:
        async with CognitoAdmin(cognito_local.endpoint_url, region=cognito_local.region) as admin:
            for n in range(64):
                await admin.idp.call(
                    "admin_create_user",
                    UserPoolId=pool.user_pool_id,
                    Username=f"u{n:02d}",
                    MessageAction="SUPPRESS",
                )

    anyio.run(many)
    listed = cli("admin", "user", "list", "--json")
    assert listed.code == 0, listed.err
    assert len(listed.json()) == 65  # ann and 64 more: two pages of 60


def test_admin_groups(cli) -> None:
    made = cli(
        "admin", "group", "create", "editors", "--description", "may edit", "--precedence", "3"
    )
    assert made.code == 0, made.err
    twice = cli("admin", "group", "create", "editors")
    assert twice.code == 1
    assert "[GroupExistsException" in one_line_error(twice)
    assert cli("admin", "group", "list", "--json").json() == [
        {"group": "editors", "description": "may edit", "precedence": 3}
    ]
    assert cli("admin", "group", "get", "editors", "--json").json()["precedence"] == 3
    assert cli("admin", "group", "add-user", "editors", "ann").code == 0
    assert cli("admin", "user", "groups", "ann").out.split() == ["editors"]
    assert cli("login", "-u", "ann", stdin=PASSWORD + "\n").code == 0
    assert cli("whoami", "--json").json()["groups"] == ["editors"]
    assert cli("admin", "group", "remove-user", "editors", "ann").code == 0
    assert cli("admin", "user", "groups", "ann", "--json").json() == []
    assert cli("admin", "group", "delete", "editors").code == 0
    assert cli("admin", "group", "list", "--json").json() == []


def test_admin_needs_a_pool(tmp_path) -> None:
    run = Cli(tmp_path)("admin", "user", "list")
    assert run.code == 2
    assert "--pool-id" in one_line_error(run)


def test_m2m_token_is_fetched_then_cached(tmp_path, cognito_local) -> None:
    with LocalDomain(cognito_local) as server:
        client = server.add_client(scopes={"api/read", "api/write"}, grants={"client_credentials"})
        cli = Cli(tmp_path, extra_env={"M2M_SECRET": client.client_secret or ""})
        common = [
            "--pool-id",
            server.pool_id,
            "--client-id",
            client.client_id,
            "--domain",
            server.url,
            "--client-secret-env",
            "M2M_SECRET",
        ]
        run = cli("m2m", "token", *common, "--scopes", "api/read")
        assert run.code == 0, run.err
        token = run.out.strip()
        claims = server.verify_access_token(token)
        assert claims is not None and claims["scope"] == "api/read"
        again = cli("m2m", "token", *common, "--scopes", "api/read", "--json")
        assert again.json()["access_token"] == token
        assert server.counts["token:client_credentials"] == 1
        refused = cli("m2m", "token", *common, "--scopes", "api/admin")
        assert refused.code == 1
        assert "[invalid_scope]; ask only for scopes" in one_line_error(refused)
        no_secret = cli("m2m", "token", *common[:-2])
        assert no_secret.code == 2  # configuration: the client has no secret here
        assert "needs a client secret" in one_line_error(no_secret)
