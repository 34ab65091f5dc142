"""Launch moto server on loopback as a local Cognito user-pool endpoint."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import inspect
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from acognito.errors import ConfigurationError

from ._test_api import Inbox, LocalCognitoError, TestApi
from .triggers import TRIGGER_NAMES, LambdaTriggers, Trigger

__all__ = ["CHECK_SHAPES_ENV", "LocalCognito", "LocalCognitoError"]

#: The environment variable that turns shape checks on (``1``) for every LocalCognito.
CHECK_SHAPES_ENV = "ACOGNITO_LOCAL_CHECK_SHAPES"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _moto_server_installed() -> bool:
    """Whether moto's server mode and its web stack are installed, without importing them.

    (``find_spec`` of a submodule would import its package, and ``moto`` alone is large.)
    """
    try:
        if not all(importlib.util.find_spec(name) for name in ("flask", "werkzeug", "flask_cors")):
            return False
        moto = importlib.util.find_spec("moto")
    except (ImportError, ValueError):
        return False
    places = (moto.submodule_search_locations or []) if moto is not None else []
    return any(os.path.exists(os.path.join(place, "server.py")) for place in places)


class _TriggerHost:
    """Loopback HTTP server in the test process that runs the pools' trigger callables.

    The local Cognito runs in another process; it posts each Lambda event here and gets
    the callable's ``response`` back, or ``{"error": ...}`` when it raised. Each event
    runs in a thread of its own; an async callable on an event loop of that thread."""

    def __init__(self) -> None:
        self.triggers: dict[str, dict[str, Trigger]] = {}
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size)
                if self.headers.get("Content-Type") != "application/json":
                    answer: dict[str, Any] = {"error": "not a Lambda event"}
                else:
                    answer = host.run(body)
                try:
                    payload = json.dumps(answer).encode()
                except (TypeError, ValueError):
                    payload = json.dumps({"error": "the response is not JSON"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="acognito-triggers", daemon=True
        )
        self.thread.start()

    def run(self, raw: bytes) -> dict[str, Any]:
        """Call the trigger an event is for: ``{"response": ...}`` or ``{"error": ...}``."""
        try:
            body = json.loads(raw)
            call = self.triggers[str(body["event"]["userPoolId"])][str(body["trigger"])]
            response = call(body["event"])
            if inspect.isawaitable(response):
                response = _run_awaitable(response)
        except Exception as exc:  # a failing Lambda, reported back to the server
            return {"error": str(exc) or type(exc).__name__}
        # Anything but a mapping is no Lambda response: the server says so, as Cognito does.
        return {"response": dict(response) if isinstance(response, Mapping) else None}

    @property
    def url(self) -> str:
        port = self.server.server_address[1]
        return f"http://127.0.0.1:{port}/trigger"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _run_awaitable(awaitable: Any) -> Any:
    """An async trigger's result, on an event loop of this (the host's) thread."""
    import asyncio

    async def wait() -> Any:
        return await awaitable

    return asyncio.run(wait())


_LIVE: set[LocalCognito] = set()


def live_servers() -> list[LocalCognito]:
    """The LocalCognito servers this process started and has not stopped."""
    return list(_LIVE)


@atexit.register
def _stop_all() -> None:  # pragma: no cover - interpreter shutdown safety net
    for server in list(_LIVE):
        server.stop()


class LocalCognito:
    """A local Cognito on ``127.0.0.1``: moto server with acognito's honest extensions.

    ``with LocalCognito() as local:`` starts it on a free port, waits until it answers
    and stops it (terminate, then kill) on exit, whatever happened in between. It needs
    the ``local`` extra (``pip install acognito[local]``). moto keeps the pools, clients,
    users and groups; the extensions check SRP and device SRP proofs and SECRET_HASH,
    keep remembered devices, rotate and revoke refresh tokens, and put every code a
    user would get by mail or SMS in :attr:`inbox`; :attr:`api` is its test API.

    ``enable_totp`` makes the emulator check TOTP codes, each user's against the
    random secret AssociateSoftwareToken handed them (``api.totp_secret`` reads it);
    off, any code passes. ``keep_alive`` (the default) serves with HTTP/1.1 persistent
    connections, like real Cognito; ``False`` runs moto's own server instead, which
    closes the connection after every response and has NONE of the extensions (for
    comparisons only; it hands every user moto's fixed ``MOTO_TOTP_SECRET``).
    ``response_delay`` holds every response that many seconds, a stand-in for the round
    trip to a real region.

    ``trigger_timeout`` is how long a Lambda trigger may take (Cognito's 5 s; the pytest
    fixtures give 30 s, for loaded CI machines); ``triggers`` (``"module:attr"`` naming a
    :class:`~acognito.testing.LambdaTriggers` or a mapping of LambdaConfig names to
    callables) are imported and run in the server's process, for every pool.
    ``check_shapes`` holds every answer against botocore's model of the operation (None:
    on when ``ACOGNITO_LOCAL_CHECK_SHAPES=1``); ``state_dir`` keeps pools, clients,
    users, devices, passkeys and revocations there across restarts.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        port: int | None = None,
        region: str = "us-east-1",
        enable_totp: bool = True,
        keep_alive: bool = True,
        response_delay: float = 0.0,
        startup_timeout: float = 30.0,
        trigger_timeout: float = 5.0,
        triggers: str | None = None,
        check_shapes: bool | None = None,
        state_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if not response_delay >= 0:
            raise ConfigurationError("response_delay must be >= 0 seconds")
        if response_delay and not keep_alive:
            raise ConfigurationError("response_delay needs keep_alive=True (acognito's runner)")
        if not trigger_timeout > 0:
            raise ConfigurationError("trigger_timeout must be > 0 seconds")
        if not keep_alive and (triggers or check_shapes or state_dir is not None):
            raise ConfigurationError("triggers, check_shapes and state_dir need keep_alive=True")
        if triggers is not None and ":" not in triggers:
            raise ConfigurationError("triggers is 'module:attr'")
        self.response_delay = float(response_delay)
        self.region = region
        self._port = port
        self._enable_totp = enable_totp
        self.keep_alive = keep_alive
        self._startup_timeout = startup_timeout
        self.trigger_timeout = float(trigger_timeout)
        self._server_triggers = triggers
        if check_shapes is None:
            check_shapes = os.environ.get(CHECK_SHAPES_ENV, "") == "1" and keep_alive
        self.check_shapes = bool(check_shapes)
        self.state_dir = None if state_dir is None else os.fspath(state_dir)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._triggers: _TriggerHost | None = None
        #: Shape violations already reported (the pytest plugin's cursor).
        self.shape_violations_seen = 0

    @property
    def port(self) -> int:
        if self._port is None or self._proc is None:
            raise LocalCognitoError("the local Cognito server is not running")
        return self._port

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``: pass it as ``endpoint_url`` to :class:`AsyncCognito`."""
        return f"http://{self.host}:{self.port}"

    def oauth_domain_url(self, user_pool_id: str | None = None) -> str:
        """The OAuth2 domain of a pool: the endpoint itself, for every pool (the app
        client in each request picks the pool), e.g. for :class:`~acognito.oauth.OAuth2Client`."""
        return self.endpoint_url

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def api(self) -> TestApi:
        """The test API of this server: devices, TOTP secrets, refresh tokens, the clock."""
        return TestApi(self.endpoint_url)

    @property
    def inbox(self) -> Inbox:
        """The codes this server "sent" by mail or SMS: ``local.inbox.last_code(...)``."""
        return Inbox(self.api)

    def _host(self) -> _TriggerHost:
        if self._triggers is None:
            self._triggers = _TriggerHost()
        return self._triggers

    def set_triggers(self, pool_id: str, triggers: LambdaTriggers) -> None:
        """Run ``pool_id``'s Lambda triggers as these callables: the pool's triggers are
        then exactly these (the server's own ``triggers`` no longer serve it). They run
        in this process, a thread each, reached over loopback. One that raises fails the
        operation with Cognito's error for it (UserLambdaValidationException, "PreSignUp
        failed with error ..."), one that overruns ``trigger_timeout`` with
        UnexpectedLambdaException."""
        named = triggers.by_name()
        host = self._host()
        host.triggers[pool_id] = dict(named)
        for name in TRIGGER_NAMES:
            body: dict[str, Any] = {"pool_id": pool_id, "trigger": name, "url": None}
            if name in named:
                body["url"] = host.url
                if name == "PreTokenGeneration":
                    body["version"] = triggers.pre_token_generation_version
            self.api.call("triggers", body)

    def clear_triggers(self, pool_id: str) -> None:
        """Forget ``pool_id``'s registered triggers (the server's own ``triggers``, if it
        was started with some, serve it again)."""
        self.api.call("triggers", {"pool_id": pool_id})
        if self._triggers is not None:
            self._triggers.triggers.pop(pool_id, None)

    def set_custom_auth_triggers(
        self, pool_id: str, *, define: Trigger, create: Trigger, verify: Trigger
    ) -> None:
        """Run CUSTOM_AUTH in ``pool_id`` through your own auth challenge triggers.

        Each is a function taking Cognito's Lambda event (DefineAuthChallenge,
        CreateAuthChallenge, VerifyAuthChallengeResponse) and returning its ``response``
        dict; it runs in this process, in a thread. One that raises fails the sign-in with
        UserLambdaValidationException, as a failing Lambda does. The pool's other
        triggers stay as they are."""
        host = self._host()
        host.triggers.setdefault(pool_id, {}).update(
            {
                "DefineAuthChallenge": define,
                "CreateAuthChallenge": create,
                "VerifyAuthChallengeResponse": verify,
            }
        )
        self.api.set_custom_auth_trigger_url(pool_id, host.url)

    def clear_custom_auth_triggers(self, pool_id: str) -> None:
        """No more auth challenge triggers for ``pool_id`` (``api.set_custom_auth``
        answers, if set)."""
        self.api.set_custom_auth_trigger_url(pool_id, None)
        if self._triggers is not None:
            mine = self._triggers.triggers.get(pool_id, {})
            for name in (
                "DefineAuthChallenge",
                "CreateAuthChallenge",
                "VerifyAuthChallengeResponse",
            ):
                mine.pop(name, None)

    def client_kwargs(self) -> dict[str, str]:
        """Keyword arguments that point an :class:`AsyncCognito` at this server."""
        return {
            "endpoint_url": self.endpoint_url,
            "user_pool_region": self.region,
            "access_key": "testing",
            "secret_key": "testing",
        }

    def start(self) -> LocalCognito:
        """Start the server (blocking; at most ``startup_timeout`` seconds)."""
        if self.running:
            return self
        # Only look for moto here: importing it would add ~20,000 objects to this
        # process's heap (slower full garbage collections) for a server run elsewhere.
        if not _moto_server_installed():
            raise LocalCognitoError(
                "the local Cognito needs moto's server: pip install 'acognito[local]'"
            )
        attempts = 1 if self._port is not None else 3
        last: Exception | None = None
        for _ in range(attempts):
            port = self._port if self._port is not None else _free_port()
            try:
                self._spawn(port)
                return self
            except LocalCognitoError as exc:
                last = exc
                self.stop()
        assert last is not None
        raise last

    def _spawn(self, port: int) -> None:
        env = dict(os.environ)
        if self._enable_totp:
            env["MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"] = "true"
        # The server itself needs no AWS account; keep real credentials out of it.
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            env.pop(key, None)
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        module = "acognito.testing._moto_runner" if self.keep_alive else "moto.server"
        argv = [sys.executable, "-m", module, "-H", self.host, "-p", str(port)]
        if self.keep_alive:  # our runner exits with us, even if we are killed outright
            argv += ["--parent-pid", str(os.getpid())]
        if self.response_delay:
            argv += ["--delay", repr(self.response_delay)]
        if self.keep_alive:
            argv += ["--trigger-timeout", repr(self.trigger_timeout)]
        if self._server_triggers is not None:
            argv += ["--triggers", self._server_triggers]
        if self.check_shapes:
            argv += ["--check-shapes"]
        if self.state_dir is not None:
            argv += ["--state", self.state_dir]
        self._proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        self._port = port
        _LIVE.add(self)
        deadline = time.monotonic() + self._startup_timeout
        url = f"http://{self.host}:{port}/moto-api/"
        # Only our own process prints this once it holds the port; another server
        # already answering on it must not pass for ours.
        bound = f"Running on http://{self.host}:{port}"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise LocalCognitoError(
                    f"moto server exited with code {self._proc.returncode}: {self._tail()}"
                )
            if bound not in self._tail():
                time.sleep(0.05)
                continue
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        raise LocalCognitoError(f"moto server did not answer on port {port}: {self._tail()}")

    def _tail(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        data: bytes = self._log.read()
        return data.decode("utf-8", "replace")[-2000:]

    def reset(self) -> None:
        """Forget every pool, user and client (``POST /moto-api/reset``)."""
        req = urllib.request.Request(  # noqa: S310 - our endpoint
            f"{self.endpoint_url}/moto-api/reset",
            method="POST",
            data=b"{}",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10):  # noqa: S310 - loopback
            pass

    def stop(self) -> None:
        """Stop the server and wait for the process to end. Safe to call twice."""
        proc, self._proc = self._proc, None
        _LIVE.discard(self)
        host, self._triggers = self._triggers, None
        if host is not None:
            host.close()
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None

    def __enter__(self) -> LocalCognito:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"{self.host}:{self._port}" if self.running else "stopped"
        return f"LocalCognito({where}, region={self.region!r})"
