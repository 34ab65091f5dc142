"""A newcomer's first session with the command line, as issue #23 found it and as it
must be now: ``acognito local`` runs in a pseudo-terminal (the person's first terminal)
while the other commands run beside it (the second terminal), against the same config
and cache directories.

One test walks it in order and asserts each finding of the issue: one answer to "who is
signed in" after two sign-ins and a sign-out, ``status``, ``token`` (its fast path),
``whoami``, ``verify`` (the pool from the recorded profile), the local inbox, typos with
"did you mean" and each command's own usage, an admin-created user with a password and
a temporary one and their first sign-ins, interactive ``configure`` asking the endpoint
and the region, the hosted UI's pre-flight naming the callback URL, errors that say what
to do (also as JSON), uniform ``--json``, and the getting-started script run as written.
The whole session is kept as a transcript (``transcript.txt`` in the test's directory;
``ACOGNITO_TRANSCRIPT=PATH`` copies it there).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli_support import Cli, Run, read_until, spawn_in_pty

ROOT = Path(__file__).resolve().parents[1]


class Session:
    """The second terminal: runs commands and keeps what a person would have seen."""

    def __init__(self, cli: Cli, transcript: list[str]) -> None:
        self.cli = cli
        self.transcript = transcript

    def __call__(self, *args: str, stdin: str = "", shown: str | None = None) -> Run:
        run = self.cli(*args, stdin=stdin)
        typed = shown or shlex.join(("acognito", *args))
        self.note(f"$ {typed}", run.out + run.err + (f"[exit {run.code}]\n" if run.code else ""))
        return run

    def note(self, first: str, text: str) -> None:
        self.transcript.append(first + "\n" + text.rstrip("\n") + "\n")


def _first_script() -> str:
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    found = re.search(r"## A first script.*?```python\n(.*?)```", page, re.S)
    assert found is not None
    return found.group(1)


def _interactive_configure(cli: Cli, endpoint: str, pool_id: str, client_id: str) -> str:
    """``configure`` at a terminal asks the pool, client, region and endpoint."""
    proc, master = spawn_in_pty(cli, "configure", "--profile", "typed")
    seen = b""
    try:
        for question, answer in (
            (b"user pool id: ", pool_id),
            (b"app client id: ", client_id),
            (b"region (Enter: from the pool id): ", ""),
            (b"endpoint URL (Enter: AWS; a local Cognito's URL otherwise): ", endpoint),
        ):
            seen += read_until(master, question, 30)
            os.write(master, answer.encode() + b"\r")
        seen += read_until(master, b"endpoint_url: ", 30)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return seen.decode(errors="replace").replace("\r\n", "\n")


def test_a_newcomers_first_session(tmp_path) -> None:  # noqa: PLR0915 - one story, in order
    transcript: list[str] = []
    cli = Cli(tmp_path)
    say = Session(cli, transcript)
    server, master = spawn_in_pty(cli, "local", "--profile", "loc")
    try:
        raw = read_until(master, b"Serving; Ctrl-C stops it.", 120).decode(errors="replace")
        # What the terminal shows once the progress line is wiped: no \r, no escapes.
        started = re.sub(r"[^\n]*\r|\x1b\[K", "", raw.replace("\r\n", "\n"))
        say.note("$ acognito local --profile loc    # the first terminal", started)
        info = json.loads(started[started.index("{") : started.index("}") + 1])
        exports = re.search(r"Scripts and boto3: export (.*)", started)
        assert exports is not None
        # `local --profile` wrote the profile (it used to be accepted and ignored).
        assert "Saved this pool as profile 'loc'." in started

        # configure: make it the default, and keep the hosted UI's callback port.
        made = say("configure", "--profile", "loc", "--use", "--callback-port", "8765")
        assert made.code == 0, made.err
        assert "callback_port: 8765" in made.out

        # Two users signed in: demo, and zoe after a sign-up confirmed from the inbox.
        demo = say("login", stdin=info["password"] + "\n", shown="acognito login  # demo")
        assert demo.code == 0 and "Signed in as demo (profile loc)" in demo.err
        signed = say("sign-up", "zoe", "-a", "email=zoe@example.com", stdin="Zoe-Passw0rd!1\n")
        assert signed.code == 0, signed.err
        code = say("local", "inbox", "--last", "-u", "zoe").out.strip()
        assert re.fullmatch(r"\d{6}", code), code
        assert say("confirm-sign-up", "zoe", code).code == 0
        zoe = say("login", "-u", "zoe", stdin="Zoe-Passw0rd!1\n")
        assert zoe.code == 0 and "Signed in as zoe (profile loc)" in zoe.err

        # One logged out: the other stays signed in, and every command agrees.
        out = say("logout")
        assert "Signed out zoe" in out.err
        assert "Still signed in with profile loc: demo (current)." in out.err
        listed = say("profile", "list", "--json").json()
        assert listed[0]["signed_in"] == ["demo"] and listed[0]["current"] == "demo"
        assert listed[0]["default"] is True  # a boolean, not a "*" marker

        status = say("status")
        assert status.code == 0
        assert status.out.startswith("default profile: loc (chosen with 'profile use')\n")
        assert f"  pool      {info['user_pool_id']}  ({info['endpoint_url']})" in status.out
        assert (
            "  domain    " in status.out and "callback http://localhost:8765/callback" in status.out
        )
        assert re.search(
            r"  signed in demo \(current\): access token expires in 59 minutes", status.out
        )
        assert "zoe" not in status.out
        as_json = say("status", "--json").json()["profiles"][0]["users"][0]
        assert as_json["username"] == "demo" and as_json["access_token"]["expires_at"].endswith("Z")

        token = say("token", shown="acognito token | cut -c1-40")
        assert token.code == 0 and token.err == ""
        assert token.out.strip() == cli.cached("demo", "loc")["access_token"]
        transcript[-1] = transcript[-1].replace(token.out.strip(), token.out.strip()[:40])

        who = say("whoami")
        assert who.code == 0 and who.out.startswith("username: demo\n")
        whoj = say("whoami", "--json").json()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", whoj["expires_at"])
        assert 3000 < whoj["expires_in"] <= 3600  # a number, not "expires in 59 minutes"

        checked = say("verify", token.out.strip(), "--token-use", "access",
                      shown='acognito verify "$(acognito token)" --token-use access')  # fmt: skip
        assert checked.code == 0, checked.err  # the pool came from the recorded profile
        assert checked.json()["username"] == "demo"
        transcript[-1] = transcript[-1][:600] + "...\n"

        # A typo: "did you mean", and the command's own usage.
        typo = say("logni")
        assert typo.code == 2
        assert typo.err.splitlines()[-1] == (
            "acognito: error: unknown command 'logni'; did you mean 'login'?"
        )
        option = say("login", "--usernmae", "demo")
        assert option.err.startswith("usage: acognito login ")
        assert option.err.splitlines()[-1].endswith("did you mean '--username'?")
        nope = say("--profile", "nope", "token")
        assert nope.code == 2 and "create it: acognito configure --profile nope" in nope.err

        # An admin creates users with passwords; each signs in the first time.
        help_text = say("admin", "user", "create", "--help").out
        assert "--client-secret" not in help_text and "--domain" not in help_text
        assert "--password-stdin" in help_text
        made = say("admin", "user", "create", "carl", "-a", "email=carl@example.com")
        assert made.code == 0, made.err
        temporary = re.search(r"temporary_password: (\S+)", made.out)
        assert temporary is not None  # printed once, on stdout
        assert "shown only this once" in made.err and "acognito login --username carl" in made.err
        first = say(
            "login", "-u", "carl", stdin=f"{temporary[1]}\nCarl-Own-Passw0rd!\n",
            shown="printf 'TEMPORARY\\nNEW\\n' | acognito login -u carl",
        )  # fmt: skip
        assert first.code == 0, first.err
        assert "must choose a new password" in first.err and "Signed in as carl" in first.err
        nia = say("admin", "user", "create", "nia", "--password-stdin", stdin="Nia-Passw0rd!1\n")
        assert "they can sign in now" in nia.err
        assert say("login", "-u", "nia", stdin="Nia-Passw0rd!1\n").code == 0
        # Admin commands need no app client, and have the missing ones now.
        bare = say("admin", "user", "list", "--pool-id", info["user_pool_id"], "--endpoint-url",
                   info["endpoint_url"], "--profile", "nothing-here")  # fmt: skip
        assert bare.code == 0, bare.err
        assert say("admin", "group", "create", "crew").code == 0
        assert say("admin", "group", "add-user", "crew", "nia").code == 0
        assert "nia" in say("admin", "group", "members", "crew").out
        assert say("admin", "user", "update-attributes", "nia", "-a", "name=Nia").code == 0

        # Errors that say what to do.
        say("admin", "user", "disable", "nia")
        disabled = say("login", "-u", "nia", "--auth-flow", "USER_PASSWORD_AUTH",
                       stdin="Nia-Passw0rd!1\n")  # fmt: skip
        assert disabled.err.startswith("acognito: error: User is disabled. [NotAuthorizedException")
        assert disabled.err.rstrip().endswith("acognito admin user enable nia")
        say("admin", "user", "enable", "nia")
        wrong = say("login", "-u", "nia", "--auth-flow", "USER_PASSWORD_AUTH", "--json",
                    stdin="wrong\n")  # fmt: skip
        assert (
            wrong.code == 1 and json.loads(wrong.err)["error"]["code"] == "NotAuthorizedException"
        )
        cli.extra_env.update(AWS_PROFILE="nope", AWS_CONFIG_FILE=str(tmp_path / "no-aws"))
        profile = say("admin", "user", "list", shown="AWS_PROFILE=nope acognito admin user list")
        del cli.extra_env["AWS_PROFILE"]
        assert profile.code == 2 and "aws configure list-profiles" in profile.err
        cli.extra_env.update(AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="", HOME=str(tmp_path))
        creds = say("admin", "user", "list", shown="acognito admin user list  # no AWS credentials")
        assert creds.code == 2 and "the local Cognito takes any credentials" in creds.err
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "HOME", "AWS_CONFIG_FILE"):
            del cli.extra_env[name]

        # The managed login's port: a callback URL the client lacks fails at once, named.
        hosted = say("login", "--hosted-ui", "--no-browser")
        assert hosted.code == 2
        assert (
            "register http://localhost:8765/callback as a callback URL of app client" in hosted.err
        )

        # configure at a terminal asks the endpoint and the region too.
        typed = _interactive_configure(cli, info["endpoint_url"], info["user_pool_id"],
                                       info["client_id"])  # fmt: skip
        say.note("$ acognito configure --profile typed    # at a terminal", typed)
        assert f"endpoint_url: {info['endpoint_url']}" in typed

        # The getting-started script, as written, against this local Cognito.
        env = {**cli.env(), **dict(part.split("=", 1) for part in exports[1].split())}
        env["COGNITO_PASSWORD"] = info["password"]
        script = subprocess.run(
            [sys.executable, "-c", _first_script()], env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        say.note(
            "$ python first_script.py    # docs/getting-started.md", script.stdout + script.stderr
        )
        assert script.returncode == 0, script.stderr
        assert script.stdout.splitlines() == ["signed in as demo", "e-mail: demo@example.com"]
    finally:
        os.kill(server.pid, signal.SIGINT)
        code = server.wait(timeout=60)
        rest = read_until(master, b"interrupted", 10).decode(errors="replace")
        os.close(master)
        say.note("^C    # the first terminal", rest.strip())
        text = "\n".join(transcript)
        (tmp_path / "transcript.txt").write_text(text, encoding="utf-8")
        if os.environ.get("ACOGNITO_TRANSCRIPT"):
            Path(os.environ["ACOGNITO_TRANSCRIPT"]).write_text(text, encoding="utf-8")
    assert code == 130 and "Stopped the local Cognito." in rest
    assert "Traceback" not in text
    time.sleep(0)  # the transcript is complete
