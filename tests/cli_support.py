"""Running ``python -m acognito`` as a subprocess against the local Cognito, for the
tests/test_cli_*.py files: isolated config and cache directories per test."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from acognito.testing import CognitoAdmin, LocalCognito, LocalPool

PASSWORD = "Cli-Passw0rd!"


@dataclass
class Run:
    """One finished command: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Cli:
    """Runs the CLI with its own config and cache directories and AWS test credentials."""

    home: Path
    backend: str = "asyncio"
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def config_dir(self) -> Path:
        return self.home / "config"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("ACOGNITO_", "XDG_", "AWS_"))
        }
        env.update(
            ACOGNITO_CONFIG_DIR=str(self.config_dir),
            ACOGNITO_CACHE_DIR=str(self.cache_dir),
            ACOGNITO_ASYNC_BACKEND=self.backend,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_MAX_ATTEMPTS="1",
        )
        env.update(self.extra_env)
        return env

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "acognito", *args]

    def __call__(self, *args: str, stdin: str = "", timeout: float = 60) -> Run:
        done = subprocess.run(
            self.argv(*args),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env(),
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def interact(
        self,
        *args: str,
        stdin: str = "",
        answer: Callable[[str], str | None],
        timeout: float = 60,
    ) -> Run:
        """Run a command that shows something before it asks (a TOTP secret, then the
        code of it): ``stdin`` is typed first; each stderr line goes to ``answer`` until
        it returns a line, which is typed; then stdin ends. Bounded by ``timeout``."""
        with subprocess.Popen(
            self.argv(*args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
        ) as proc:
            try:
                return _converse(proc, stdin, answer, time.monotonic() + timeout)
            except (queue.Empty, subprocess.TimeoutExpired):
                proc.kill()
                raise AssertionError(f"{args} did not finish in {timeout} s") from None

    def configure(self, pool: LocalPool, *, secret: bool = False, **extra: str) -> Run:
        client = pool.secret_client if secret else pool.public_client
        args = [
            "configure",
            "--pool-id",
            pool.user_pool_id,
            "--client-id",
            client.client_id,
            "--endpoint-url",
            pool.endpoint_url,
            "--region",
            pool.region,
        ]
        if secret:
            self.extra_env["CLI_TEST_SECRET"] = client.client_secret or ""
            args += ["--client-secret-env", "CLI_TEST_SECRET"]
        for key, value in extra.items():
            args += [f"--{key.replace('_', '-')}", value]
        run = self(*args)
        assert run.code == 0, run.err
        return run

    def cache_file(self, username: str, profile: str = "default") -> Path:
        """The token store's file of a sign-in (key ``tokens/<profile>/<user>``)."""
        from acognito.cli._fast import login_key
        from acognito.stores import file_format

        return file_format.path_for(self.cache_dir, login_key(profile, username))

    def cached(self, username: str, profile: str = "default") -> dict[str, Any]:
        """What the token cache holds for a sign-in (the store entry's JSON value)."""
        from acognito.cli._fast import login_key
        from acognito.stores import file_format

        value = file_format.read_json(self.cache_dir, login_key(profile, username))
        assert value is not None, f"{username} is not cached"
        return value

    def write_cached(self, username: str, value: dict[str, Any], profile: str = "default") -> None:
        """Change a cached sign-in in place (an expired token, a dead refresh token)."""
        from acognito.cli._fast import login_key
        from acognito.stores import FileTokenStore

        store = FileTokenStore(self.cache_dir)
        store.set_sync(login_key(profile, username), json.dumps(value).encode())


def _converse(
    proc: subprocess.Popen[str],
    stdin: str,
    answer: Callable[[str], str | None],
    deadline: float,
) -> Run:
    """Type ``stdin``, then ``answer``'s one reply to the stderr lines; collect output."""
    assert proc.stdin and proc.stdout and proc.stderr
    lines: queue.Queue[str | None] = queue.Queue()
    out: list[str] = []
    err: list[str] = []

    def pump_err() -> None:
        assert proc.stderr
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    def pump_out() -> None:
        assert proc.stdout
        out.append(proc.stdout.read())

    def type_in(text: str, *, then_close: bool = False) -> None:
        assert proc.stdin
        # The command may have ended already (an error): its output says so.
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(text)
            proc.stdin.flush()
            if then_close:
                proc.stdin.close()

    readers = [threading.Thread(target=pump, daemon=True) for pump in (pump_err, pump_out)]
    for reader in readers:
        reader.start()
    try:
        type_in(stdin)
        answered = False
        while (line := lines.get(timeout=max(0.0, deadline - time.monotonic()))) is not None:
            err.append(line)
            reply = None if answered else answer(line.rstrip("\n"))
            if reply is not None:
                answered = True
                type_in(reply + "\n", then_close=True)
        code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        if not proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
    for reader in readers:
        reader.join(timeout=10)
    return Run(code, "".join(out), "".join(err))


def make_pool(
    local: LocalCognito, users: dict[str, str] | None = None, **options: Any
) -> LocalPool:
    """A fresh pool (public + confidential client) with confirmed users, set up synchronously."""

    async def build() -> LocalPool:
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            pool = await admin.create_local_pool(**options)
            for name, password in (users or {}).items():
                # A verified e-mail, as real users have: the local Cognito, like Cognito,
                # sends forgot-password and resend codes only to a verified address.
                email = {"email": f"{name}@example.com", "email_verified": "true"}
                await admin.create_user(pool.user_pool_id, name, password, attributes=email)
            return pool

    return anyio.run(build)


def admin_call(local: LocalCognito, operation: str, **params: Any) -> dict[str, Any]:
    """One admin call on the local Cognito (set-up only, never what is being tested)."""

    async def call() -> dict[str, Any]:
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            return await admin.idp.call(operation, **params)

    return anyio.run(call)


def one_line_error(run: Run) -> str:
    """The single error line of a failed command (no traceback), besides progress."""
    # Progress lines ("signing in ...") may come first when a step is slow.
    lines = [line for line in run.err.splitlines() if line.strip() and not line.endswith(" ...")]
    assert len(lines) == 1, run.err
    assert "Traceback" not in run.err
    assert lines[0].startswith("acognito: error: "), lines[0]
    return lines[0]


def read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    """What a pseudo-terminal printed, up to ``needle`` (fails after ``timeout`` s)."""
    data = b""
    deadline = time.monotonic() + timeout
    while needle not in data:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {needle!r}; got {data!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
    return data


def spawn_in_pty(cli: Cli, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    """The CLI on a new pseudo-terminal (its own session, so signals reach it alone)."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        cli.argv(*args),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=cli.env(),
        start_new_session=True,
    )
    os.close(slave)
    return proc, master
