"""Harness of the server-side sign-in tests: one headless Chromium owned by a thread,
the app servers (Starlette and FastAPI under hypercorn on asyncio and on trio, Flask and
Django under werkzeug's threaded WSGI server) and a pool of the shipped local Cognito
with a managed-login app client per server.

Playwright's sync API belongs to the thread that started it, so :class:`BrowserThread`
starts Chromium in a thread of its own and runs each test's browser work there
(``browser.run(fn)``); the test thread meanwhile reads the store and the local Cognito.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import shutil
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import pytest

from acognito.integrations.signin import ServerSignIn
from acognito.stores import MemoryTokenStore, TokenStore
from acognito.stores._shared import decode, encode
from acognito.testing import LocalCognito
from oauth_domain import DomainClient, LocalDomain

T = TypeVar("T")

CHROMIUM = os.environ.get("ACOGNITO_TEST_CHROMIUM", "/usr/bin/chromium")
BROWSER_MISSING = (
    not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM))
    or importlib.util.find_spec("playwright") is None
)
# A developer without Chromium sees these tests skipped with the reason; CI installs it
# (.ci/run), and there a missing browser fails the run instead.
needs_browser = pytest.mark.skipif(
    BROWSER_MISSING and not os.environ.get("CI"),
    reason="needs Chromium (apt-get install chromium) and playwright (pip install playwright)",
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class BrowserThread:
    """One headless Chromium, owned by one thread; :meth:`run` hands it work."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[Any], Any], Future[Any]] | None] = queue.Queue()
        started: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._serve, args=(started,), name="chromium", daemon=True
        )
        self._thread.start()
        started.result(timeout=60)

    def _serve(self, started: Future[None]) -> None:
        from playwright.sync_api import sync_playwright

        try:
            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except BaseException as exc:
            started.set_exception(exc)
            return
        started.set_result(None)
        try:
            while (job := self._jobs.get()) is not None:
                work, done = job
                try:
                    done.set_result(work(browser))
                except BaseException as exc:
                    done.set_exception(exc)
        finally:
            browser.close()
            playwright.stop()

    def run(self, work: Callable[[Any], T], timeout: float = 90) -> T:
        """``work(browser)`` in the browser's thread; its result (or its exception)."""
        done: Future[T] = Future()
        self._jobs.put((work, done))
        return done.result(timeout=timeout)

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=30)


# --------------------------------------------------------------------------- servers


def listening_socket() -> tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock, int(sock.getsockname()[1])


class AsgiThread:
    """hypercorn serving ``app`` on ``backend`` (asyncio or trio), in a thread of its own."""

    def __init__(self, app: Any, sock: socket.socket, backend: str) -> None:
        from anyio.from_thread import BlockingPortal
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"fd://{sock.detach()}"]
        config.accesslog = None
        config.errorlog = None
        config.graceful_timeout = 1.0
        ready: Future[tuple[BlockingPortal, anyio.Event]] = Future()

        async def main() -> None:
            if backend == "trio":
                from hypercorn.trio import serve
            else:
                from hypercorn.asyncio import serve  # type: ignore[assignment]
            stop = anyio.Event()
            async with BlockingPortal() as portal:
                ready.set_result((portal, stop))
                await serve(app, config, shutdown_trigger=stop.wait)

        def target() -> None:
            try:
                anyio.run(main, backend=backend)
            except BaseException as exc:
                if not ready.done():
                    ready.set_exception(exc)
                raise

        self.backend = backend
        self._thread = threading.Thread(target=target, name=f"asgi-{backend}", daemon=True)
        self._thread.start()
        self.portal, self._stop = ready.result(timeout=30)

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """``await func(*args)`` on the server's own loop."""
        return self.portal.call(func, *args)

    def close(self) -> None:
        self.portal.call(self._stop.set)
        self._thread.join(timeout=15)


class WsgiThread:
    """werkzeug's threaded WSGI server for ``app``, in a thread of its own."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        from werkzeug.serving import make_server

        port = sock.getsockname()[1]
        self._server = make_server("127.0.0.1", port, app, threaded=True, fd=sock.detach())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        from acognito.integrations.signin._blocking import run

        return run(func, *args)

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=15)


# --------------------------------------------------------------------------- sites


@dataclass
class Site:
    """One app server signed in through ``pool``: its URL, its sign-in, its client."""

    name: str
    url: str
    signin: ServerSignIn
    client: DomainClient
    server: Any
    store: TokenStore = field(repr=False)

    def session_records(self) -> dict[str, dict[str, Any]]:
        """Every session record in the store (MemoryTokenStore), by store key."""
        assert isinstance(self.store, MemoryTokenStore)
        prefix = self.signin.sessions.prefix + "/session/"
        found = {}
        for key in list(self.store._slots):
            if key.startswith(prefix):
                entry = self.server.call(self.store.get, key)
                record = decode(key, entry)
                if record is not None:
                    found[key] = record
        return found

    def record(self, sid: str) -> dict[str, Any] | None:
        key = self.signin.sessions.key(sid)
        return decode(key, self.server.call(self.store.get, key))

    def rewrite(self, sid: str, **fields: Any) -> None:
        """Change fields of session ``sid``'s stored record (forced expiry, ...)."""
        key = self.signin.sessions.key(sid)
        record = self.record(sid)
        assert record is not None
        record.update(fields)
        self.server.call(lambda: self.store.set(key, encode(record), ttl=None))

    def sid_of(self, cookie_value: str) -> str:
        sid = self.signin.cookies.session_id({self.signin.session_cookie: cookie_value})
        assert sid is not None
        return sid


class Pool:
    """A pool of the local Cognito with one user, and an app client per site."""

    def __init__(self, local: LocalCognito) -> None:
        self.local = local
        self.domain = LocalDomain(local)
        self.username = "wendy"
        self.password = "Web-Sign1n-Passw0rd!"
        self.email = "wendy@example.com"
        self.domain.add_user(self.username, self.password, email=self.email)

    def client_for(self, origin: str) -> DomainClient:
        client = self.domain.add_client(
            secret=False,
            scopes={"openid", "email", "profile"},
            redirect_uris={f"{origin}/auth/callback"},
            logout_uris={f"{origin}/signed-out"},
        )
        self.domain.api.oauth_interactive(client.client_id)
        return client

    def signin(self, origin: str, client: DomainClient, **options: Any) -> ServerSignIn:
        return ServerSignIn(
            self.domain.pool_id,
            client.client_id,
            domain=self.domain.url,
            app_url=origin,
            logout_uri=f"{origin}/signed-out",
            jwks_uri=self.domain.jwks_url,
            issuer=self.domain.issuer,
            **options,
        )

    def close(self) -> None:
        self.domain.close()


def start_site(pool: Pool, name: str, **options: Any) -> Site:
    """``name`` is ``starlette-asyncio``, ``starlette-trio``, ``fastapi-asyncio``,
    ``fastapi-trio``, ``flask`` or ``django``: the app of :mod:`signin_apps` signed in
    through ``pool``'s managed login (a client of its own)."""
    sock, port = listening_socket()
    origin = f"http://127.0.0.1:{port}"
    client = pool.client_for(origin)
    store = options.pop("store", None) or MemoryTokenStore()
    signin = pool.signin(origin, client, store=store, **options)
    return serve_site(name, sock, signin, client)


def serve_site(name: str, sock: socket.socket, signin: ServerSignIn, client: Any = None) -> Site:
    """Serve :mod:`signin_apps`' app for ``name``'s framework (and backend) with ``signin``."""
    import signin_apps

    origin = signin.origin
    framework, _, backend = name.partition("-")
    server: Any
    if framework in ("starlette", "fastapi"):
        app = getattr(signin_apps, f"{framework}_app")(signin)
        server = AsgiThread(app, sock, backend)
    elif framework == "flask":
        server = WsgiThread(signin_apps.flask_app(signin), sock)
    elif framework == "django":
        server = WsgiThread(django_app(signin), sock)
    else:
        raise ValueError(name)
    return Site(name, origin, signin, client, server, signin.store)


_django_override: Any = None


def django_app(signin: ServerSignIn) -> Any:
    """Django's WSGI handler for :mod:`signin_apps`' views, with ``signin``; settings are
    overridden until :func:`stop_site` (Django's settings are one per process)."""
    global _django_override
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="tests-only",  # noqa: S106
            INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
            DATABASES={},
        )
        django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    import signin_apps

    signin_apps.urlpatterns[:] = signin_apps.django_urlpatterns()
    _django_override = override_settings(
        ROOT_URLCONF="signin_apps",
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        MIDDLEWARE=["acognito.integrations.signin.django.SignInMiddleware"],
        ACOGNITO_SIGNIN={"SIGNIN": signin},
        DEBUG=False,
    )
    _django_override.enable()
    return WSGIHandler()


def stop_site(site: Site) -> None:
    global _django_override
    site.server.call(site.signin.aclose)
    site.server.close()
    if site.name == "django" and _django_override is not None:
        _django_override.disable()
        _django_override = None
