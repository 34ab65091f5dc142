"""The command line's manners: help, version, exit codes, one-line errors, Ctrl-C under a
pseudo-terminal, and a quiet broken pipe. Every command runs as a subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from acognito import __version__
from acognito.cli.app import build_parser
from acognito.testing import TokenIssuer
from cli_support import Cli, one_line_error
from cli_support import read_until as _read_until
from cli_support import spawn_in_pty as _spawn_in_pty


@pytest.fixture
def cli(tmp_path) -> Cli:
    return Cli(tmp_path)


def _all_parsers(parser, path=()):
    yield path, parser
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield from _all_parsers(sub, (*path, name))


def test_version(cli) -> None:
    run = cli("--version")
    assert run.code == 0
    assert run.out.strip() == f"acognito {__version__}"


def test_every_command_and_option_is_described_without_rst() -> None:
    seen = 0
    for path, parser in _all_parsers(build_parser()):
        seen += 1
        help_text = parser.format_help()
        assert "``" not in help_text, path
        assert parser.description, f"{' '.join(path)} has no description"
        for action in parser._actions:
            groups = ("command", "action", "kind", "local_action")
            if action.option_strings or action.dest not in groups:
                assert action.help, f"{' '.join(path)} {action.option_strings or action.dest}"
    assert seen > 30


def test_the_cli_page_documents_every_command() -> None:
    """docs/cli.md names each command as it is typed (``passkey add``, ``admin user list``)."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    missing = [
        " ".join(path)
        for path, parser in _all_parsers(build_parser())
        if path and parser.get_default("run") is not None and " ".join(path) not in page
    ]
    assert missing == []


def test_help_of_a_command_runs(cli) -> None:
    run = cli("token", "--help")
    assert run.code == 0
    assert "Authorization: Bearer $(acognito token)" in run.out


def test_usage_errors_exit_2(cli) -> None:
    assert cli("nope").code == 2
    assert cli("login", "--auth-flow", "MAGIC").code == 2
    run = cli("token")
    assert run.code == 2
    line = one_line_error(run)
    assert "nobody is signed in, and there are no profiles yet" in line
    assert "acognito configure --pool-id ID --client-id ID" in line


def test_missing_jwks_file_is_one_line(cli, tmp_path) -> None:
    run = cli(
        "verify", "a.b.c", "--pool-id", "eu-west-1_Cli1", "--jwks-file", str(tmp_path / "nope.json")
    )
    assert run.code == 2
    line = one_line_error(run)
    assert "no such file" in line and "FileNotFoundError" not in line


def test_unset_secret_variable_is_an_error_not_an_empty_secret(cli) -> None:
    run = cli(
        "login",
        "--pool-id",
        "eu-west-1_Cli1",
        "--client-id",
        "abc123",
        "--username",
        "ann",
        "--client-secret-env",
        "CLI_NOT_SET_ANYWHERE",
        "--password-stdin",
        stdin="whatever\n",
    )
    assert run.code == 2
    line = one_line_error(run)
    assert "CLI_NOT_SET_ANYWHERE" in line and "not set" in line


def test_unreachable_endpoint_is_one_line(cli) -> None:
    run = cli(
        "login",
        "--pool-id",
        "eu-west-1_Cli1",
        "--client-id",
        "abc123",
        "--username",
        "ann",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--password-stdin",
        stdin="whatever\n",
    )
    assert run.code == 1
    one_line_error(run)


def test_broken_pipe_is_quiet(cli, tmp_path) -> None:
    # A token far bigger than a pipe buffer: the write fails once `head` has gone.
    token = TokenIssuer("eu-west-1_Cli1").access_token(
        client_id="c", username="ann", padding="x" * 300_000
    )
    (tmp_path / "token").write_text(token)
    argv = subprocess.list2cmdline(cli.argv("decode", "-"))
    shell = f"{argv} < {tmp_path / 'token'} | head -c 10; exit ${{PIPESTATUS[0]}}"
    done = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, env=cli.env(), timeout=60
    )
    assert len(done.stdout) == 10
    assert "Error" not in done.stderr and "Traceback" not in done.stderr
    assert done.returncode == 141


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_ctrl_c_at_the_password_prompt_exits_130_at_once(tmp_path, backend) -> None:
    import termios

    cli = Cli(tmp_path, backend=backend)
    proc, master = _spawn_in_pty(
        cli, "login", "--pool-id", "eu-west-1_Cli1", "--client-id", "abc123", "--username", "ann"
    )
    try:
        seen = _read_until(master, b"password for ann: ", 30)
        assert not termios.tcgetattr(master)[3] & termios.ECHO  # getpass turned echo off
        sent = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        code = proc.wait(timeout=5)
        took = time.monotonic() - sent
        rest = _read_until(master, b"interrupted", 5)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 130
    assert took < 2, took
    text = (seen + rest).decode(errors="replace")
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    # The terminal gets its echo back.
    assert termios.tcgetattr(master)[3] & termios.ECHO
    os.close(master)


class _LoginPage(BaseHTTPRequestHandler):
    """A pool's domain that shows a login page for every authorize request."""

    def do_GET(self) -> None:
        body = b"<!doctype html><title>Sign in</title>"
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def login_page():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LoginPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_ctrl_c_while_waiting_exits_130(tmp_path, login_page) -> None:
    # The hosted-UI login waits for the browser: Ctrl-C there ends it too, quietly.
    cli = Cli(tmp_path)
    proc, master = _spawn_in_pty(
        cli,
        "login",
        "--hosted-ui",
        "--no-browser",
        "--domain",
        login_page,
        "--pool-id",
        "eu-west-1_Cli1",
        "--client-id",
        "abc123",
    )
    try:
        seen = _read_until(master, b"waiting for the browser", 30)
        os.kill(proc.pid, signal.SIGINT)
        code = proc.wait(timeout=5)
        rest = _read_until(master, b"interrupted", 5)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert code == 130
    text = (seen + rest).decode(errors="replace")
    assert re.search(re.escape(login_page) + r"/oauth2/authorize\?", text)
    assert "Traceback" not in text


def _without_extras(cli, tmp_path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The CLI as a plain install runs it: platformdirs, keyring, segno and fido2
    unimportable."""
    code = (
        "import sys\n"
        "for name in ('platformdirs', 'keyring', 'segno', 'fido2'):\n"
        "    sys.modules[name] = None\n"
        "from acognito.cli import main\n"
        f"sys.exit(main({list(args)!r}))\n"
    )
    env = cli.env()
    del env["ACOGNITO_CONFIG_DIR"], env["ACOGNITO_CACHE_DIR"]
    env["HOME"] = str(tmp_path / "home")
    return subprocess.run(
        [sys.executable, "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_works_without_the_cli_extra(cli, tmp_path) -> None:
    made = _without_extras(
        cli,
        tmp_path,
        "configure",
        "--pool-id",
        "eu-west-1_Cli1",
        "--client-id",
        "abc123",
        "--client-secret-keyring",
        "acognito:abc123",
    )
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "home" / ".config" / "acognito" / "config").exists()
    run = _without_extras(cli, tmp_path, "login", "--username", "ann", stdin="pw\n")
    assert run.returncode == 2
    assert "'keyring' is not installed; pip install 'acognito[cli]'" in run.stderr
    assert "Traceback" not in run.stderr
    passkey = _without_extras(cli, tmp_path, "passkey", "add")
    assert passkey.returncode == 1
    assert "passkeys need python-fido2: pip install 'acognito[cli]'" in passkey.stderr
    assert "Traceback" not in passkey.stderr


def test_totp_uri_without_segno() -> None:
    from acognito.cli.mfa import otpauth_uri

    uri = otpauth_uri("ABCDEF", "ada@example.com", "My App")
    assert (
        uri
        == "otpauth://totp/My%20App:ada@example.com?secret=ABCDEF&issuer=My%20App&algorithm=SHA1&digits=6&period=30"
    )


def test_ctrl_c_in_the_demo_still_stops_the_local_cognito(tmp_path) -> None:
    # Ctrl-C cancels the command (no KeyboardInterrupt mid-task), so its clean-up runs.
    import socket

    cli = Cli(tmp_path)
    proc, master = _spawn_in_pty(cli, "demo")
    try:
        seen = _read_until(master, b"endpoint http://127.0.0.1:", 60)
        seen += _read_until(master, b"\n", 5)
        os.kill(proc.pid, signal.SIGINT)
        code = proc.wait(timeout=15)
        rest = _read_until(master, b"interrupted", 5)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert code == 130
    text = (seen + rest).decode(errors="replace")
    assert "Traceback" not in text
    assert "stopped the local Cognito" in text
    port = int(re.search(r"endpoint http://127\.0\.0\.1:(\d+)", text).group(1))
    with socket.socket() as sock, pytest.raises(OSError):
        sock.settimeout(2)
        sock.connect(("127.0.0.1", port))


def test_local_without_the_local_extra_says_what_to_install(cli, tmp_path) -> None:
    # A moto without its server (as a plain install has no moto at all): nothing starts,
    # so nothing is said to stop.
    shim = tmp_path / "shim" / "moto"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("")
    cli.extra_env["PYTHONPATH"] = str(shim.parent)
    run = cli("local")
    assert run.code == 2
    assert one_line_error(run) == (
        "acognito: error: the local Cognito needs moto's server: pip install 'acognito[local]'"
    )
    assert "Stopped" not in run.err
