"""Passkeys and passwordless sign-in at the command line, as subprocesses against the
local Cognito: ``passkey add/list/delete``, ``login --passkey`` and ``--first-factor``.

The security key is the virtual CTAP2 key of ``acognito.testing`` kept in a file
(``ACOGNITO_SECURITY_KEY=virtual:PATH``), driven through python-fido2's client exactly
as a USB key would be; the local Cognito verifies every registration and assertion.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from acognito.testing import VirtualSecurityKey
from cli_support import PASSWORD, Cli, make_pool, one_line_error, read_until, spawn_in_pty

PIN = "9137"


@pytest.fixture(scope="module")
def pool(cognito_local):
    return make_pool(cognito_local, {"kim": PASSWORD, "lou": PASSWORD, "max": PASSWORD})


def _keyed(
    tmp_path, backend: str = "asyncio", pin: str | None = PIN
) -> tuple[Cli, VirtualSecurityKey]:
    path = tmp_path / "security-key.json"
    key = VirtualSecurityKey(path, pin=pin)
    cli = Cli(tmp_path, backend=backend, extra_env={"ACOGNITO_SECURITY_KEY": f"virtual:{path}"})
    return cli, key


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_passkey_add_list_login_and_delete(tmp_path, pool, backend) -> None:
    cli, _ = _keyed(tmp_path, backend)
    cli.configure(pool)
    assert cli("login", "-u", "kim", stdin=PASSWORD + "\n").code == 0
    added = cli("passkey", "add", stdin=PIN + "\n")
    assert added.code == 0, added.err
    assert "Touch your security key." in added.err and "Passkey registered for kim" in added.err
    assert PIN not in added.out + added.err
    credential_id = added.out.strip()
    assert VirtualSecurityKey(tmp_path / "security-key.json").credential_count == 1
    listed = cli("passkey", "list", "--json")
    assert listed.code == 0, listed.err
    (row,) = listed.json()
    assert row["credential_id"] == credential_id
    assert row["transports"] == ["usb"] and row["attachment"] == "cross-platform"
    assert cli("logout").code == 0

    login = cli("login", "-u", "kim", "--passkey", stdin=PIN + "\n")
    assert login.code == 0, login.err
    assert "password" not in login.err  # no password was asked
    assert "Touch your security key." in login.err and "Signed in as kim" in login.err
    assert cli("token").code == 0

    deleted = cli("passkey", "delete", credential_id)
    assert deleted.code == 0, deleted.err
    assert cli("passkey", "list", "--json").json() == []
    again = cli("login", "-u", "kim", "--passkey", stdin=PIN + "\n")
    assert again.code == 1
    line = one_line_error(again)
    assert "[InvalidParameterException" in line and "acognito passkey add" in line


def test_a_wrong_pin_is_one_line_and_counts(tmp_path, pool) -> None:
    cli, _ = _keyed(tmp_path)
    cli.configure(pool)
    assert cli("login", "-u", "lou", stdin=PASSWORD + "\n").code == 0
    wrong = cli("passkey", "add", stdin="0000\n")
    assert wrong.code == 1
    line = one_line_error(wrong)
    assert "the security key refused the PIN [pin_invalid]" in line and "0000" not in line
    none = cli("passkey", "add", stdin="")
    assert none.code == 1
    assert "wants its PIN and none was given" in one_line_error(none)
    key = VirtualSecurityKey(tmp_path / "security-key.json")
    assert key.pin_retries == 7 and key.credential_count == 0
    assert cli("passkey", "list", "--json").json() == []


def test_a_key_with_built_in_verification_asks_no_pin(tmp_path, pool) -> None:
    cli, _ = _keyed(tmp_path, pin=None)
    cli.configure(pool)
    assert cli("login", "-u", "max", stdin=PASSWORD + "\n").code == 0
    assert cli("passkey", "add").code == 0
    assert cli("logout").code == 0
    login = cli("login", "-u", "max", "--first-factor", "WEB_AUTHN")
    assert login.code == 0, login.err
    assert "PIN" not in login.err and "Signed in as max" in login.err


def test_passkey_usage_errors(tmp_path, pool) -> None:
    cli = Cli(tmp_path, extra_env={"ACOGNITO_SECURITY_KEY": "usb-please"})
    cli.configure(pool)
    both = cli("login", "-u", "kim", "--passkey", "--auth-flow", "USER_PASSWORD_AUTH")
    assert both.code == 2 and "USER_AUTH" in one_line_error(both)
    clash = cli("login", "-u", "kim", "--passkey", "--first-factor", "EMAIL_OTP")
    assert clash.code == 2 and "--passkey" in one_line_error(clash)
    assert cli("login", "-u", "kim", stdin=PASSWORD + "\n").code == 0
    bad_key = cli("passkey", "add")
    assert bad_key.code == 2 and "virtual:PATH" in one_line_error(bad_key)
    cli.extra_env.pop("ACOGNITO_SECURITY_KEY")
    assert cli("logout").code == 0
    signed_out = cli("passkey", "list")
    assert signed_out.code == 2 and "acognito login" in one_line_error(signed_out)


def _wait_for_code(cognito_local, pool_id: str, username: str, purpose: str) -> str:
    """The code the command's sign-in made the local Cognito send (bounded wait)."""
    deadline = time.monotonic() + 60
    while not cognito_local.inbox.codes(pool_id, username, purpose):
        assert time.monotonic() < deadline, f"no {purpose} code for {username} within 60 s"
        time.sleep(0.05)
    return str(cognito_local.inbox.last_code(pool_id, username, purpose))


def test_login_with_an_email_code_asks_no_password(tmp_path, cognito_local, pool) -> None:
    cli = Cli(tmp_path)
    cli.configure(pool)
    with subprocess.Popen(
        cli.argv("login", "-u", "lou", "--first-factor", "EMAIL_OTP"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env(),
    ) as proc:
        code = _wait_for_code(cognito_local, pool.user_pool_id, "lou", "email_otp")
        out, err = proc.communicate(f"{code}\n".encode(), timeout=60)
    text = err.decode()
    assert proc.returncode == 0, text
    assert "password" not in text and "Signed in as lou" in text


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_ctrl_c_while_the_key_waits_for_a_touch_exits_130_at_once(tmp_path, pool, backend) -> None:
    cli, _ = _keyed(tmp_path, backend, pin=None)
    VirtualSecurityKey(tmp_path / "security-key.json", touch_delay=120)  # a slow finger
    cli.configure(pool)
    assert cli("login", "-u", "lou", stdin=PASSWORD + "\n").code == 0
    proc, master = spawn_in_pty(cli, "passkey", "add")
    try:
        seen = read_until(master, b"Touch your security key.", 60)
        sent = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        code = proc.wait(timeout=10)
        took = time.monotonic() - sent
        rest = read_until(master, b"interrupted", 5)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert code == 130 and took < 3, (code, took)
    text = (seen + rest).decode(errors="replace")
    assert "Traceback" not in text
    assert VirtualSecurityKey(tmp_path / "security-key.json").credential_count == 0


@pytest.mark.parametrize("factor", ["PASSWORD", "PASSWORD_SRP"])
def test_login_with_a_password_first_factor(tmp_path, pool, factor) -> None:
    cli = Cli(tmp_path)
    cli.configure(pool)
    login = cli("login", "-u", "max", "--first-factor", factor, stdin=PASSWORD + "\n")
    assert login.code == 0, login.err
    assert "Signed in as max" in login.err
    wrong = cli("login", "-u", "max", "--first-factor", factor, stdin="Wrong-Passw0rd!\n")
    assert wrong.code == 1 and "[NotAuthorizedException" in one_line_error(wrong)
