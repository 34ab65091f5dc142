"""A real ``redis-server`` for the tests: started on a free loopback port in a temporary
directory, stopped (or killed, paused, restarted) by the test.

Debian's ``redis-server`` package provides the binary. Without it a test that needs it
is skipped with a reason that names the package, except under ``CI=true``, where it
fails: CI installs the package (.ci/run) and must run these tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

__all__ = ["RedisServer", "need_redis_server"]


def need_redis_server() -> str:
    """The redis-server binary, or skip (fail under CI=true) naming the Debian package."""
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    if binary is None:
        message = "needs redis-server (Debian package redis-server: apt-get install redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must install it (.ci/run)")
        pytest.skip(message)
    return binary


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process on 127.0.0.1 with its own temporary directory."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or need_redis_server()
        self.port = _free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="acognito-redis-")
        self.directory = Path(self._dir.name)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server (on the same port after a stop) and wait until it answers."""
        for attempt in range(5):
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--bind", "127.0.0.1",
                    "--port", str(self.port),
                    "--dir", str(self.directory),
                    "--save", "",
                    "--appendonly", "no",
                    "--daemonize", "no",
                    "--protected-mode", "no",
                    "--loglevel", "warning",
                    "--logfile", str(self.directory / "redis.log"),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._wait_ready():
                return self
            self.process.kill()
            self.process.wait()
            if attempt == 0 and self.process.returncode is not None:
                self.port = _free_port()  # the port was taken meanwhile: another one
        log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"redis-server did not start: {log}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            if self.ping():
                return True
            time.sleep(0.02)
        return False

    def ping(self, timeout: float = 1.0) -> bool:
        """Whether the server answers PING now."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *args: str) -> bytes:
        """Send one command (RESP) and return the raw first reply chunk."""
        payload = f"*{len(args)}\r\n".encode() + b"".join(
            f"${len(a.encode())}\r\n".encode() + a.encode() + b"\r\n" for a in args
        )
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(payload)
            return sock.recv(65536)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait for it."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        if process.pid and _stopped(process):
            os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """Kill the server as a crash would (SIGKILL)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections open, nothing answered (slow Redis)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stopped(process: subprocess.Popen[bytes]) -> bool:
    try:
        with open(f"/proc/{process.pid}/stat", encoding="ascii") as handle:
            return handle.read().split(") ", 1)[1].startswith("T")
    except (OSError, IndexError):
        return False
