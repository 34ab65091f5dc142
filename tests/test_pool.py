"""The pool: what sessions of one pool share, per event loop, and when it is released.

Against the moto server (real HTTP through aiobotocore). JWKS downloads are counted at
a loopback server that serves moto's JWKS; aiobotocore clients are counted through
botocore's own ``creating-client-class`` event on the session they are made from.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import pytest
from aiobotocore.session import AioSession

import acognito
from acognito import AsyncCognito, CognitoPool, aclose_pools
from acognito.errors import ConfigurationError, SessionClosedError
from acognito.testing import DEFAULT_PASSWORD

pytestmark = pytest.mark.anyio


class CountingJwks:
    """A loopback JWKS endpoint that serves ``source``'s document and counts requests;
    ``status`` other than 200 makes it answer that status instead (a JWKS outage)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.requests = 0
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.requests += 1
                if outer.status != 200:
                    body = b'{"message": "unavailable"}'
                    self.send_response(outer.status)
                else:
                    with urllib.request.urlopen(outer.source, timeout=5) as answer:  # noqa: S310
                        body = answer.read()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/jwks.json"

    def __enter__(self) -> CountingJwks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def counting_jwks(cognito_pool: Any) -> Iterator[CountingJwks]:
    source = f"{cognito_pool.endpoint_url}/{cognito_pool.user_pool_id}/.well-known/jwks.json"
    with CountingJwks(source) as server:
        yield server


def counted_session() -> tuple[AioSession, list[str]]:
    """An aiobotocore session that records every client class botocore creates."""
    session = AioSession()
    made: list[str] = []
    session.register(
        "creating-client-class.cognito-idp", lambda **kwargs: made.append("cognito-idp")
    )
    return session, made


async def test_a_hundred_sessions_share_one_client_and_one_jwks_download(
    cognito_admin: Any, cognito_pool: Any, counting_jwks: CountingJwks
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "una", DEFAULT_PASSWORD)
    aio_session, made = counted_session()
    kwargs = dict(cognito_pool.cognito_kwargs(), session=aio_session, jwks_uri=counting_jwks.url)
    seen: list[dict[str, Any] | None] = []
    pools: set[int] = set()

    async def one_user() -> None:
        async with AsyncCognito(**kwargs, username="una") as cognito:
            await cognito.authenticate(DEFAULT_PASSWORD, auth_flow="USER_PASSWORD_AUTH")
            seen.append(cognito.access_claims)
            assert cognito.pool is not None
            pools.add(id(cognito.pool))

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(one_user)
        for _ in range(100):  # one after another: open, sign in, close
            await one_user()
    assert len(seen) == 200 and all(c and c["username"] == "una" for c in seen)
    assert made == ["cognito-idp"]
    assert counting_jwks.requests == 1
    assert len(pools) == 1
    # Closing every session kept the pool (and its client) for the next one ...
    cognito = AsyncCognito(**kwargs, username="una")
    await cognito.authenticate(DEFAULT_PASSWORD, auth_flow="USER_PASSWORD_AUTH")
    pool = cognito.pool
    assert pool is not None and not pool.closed and pool.idp.is_open
    assert pool.sessions == 1
    await cognito.close()
    assert pool.sessions == 0 and not pool.closed
    assert made == ["cognito-idp"] and counting_jwks.requests == 1
    # ... until the pools of this loop are closed.
    await aclose_pools()
    assert pool.closed and pool.idp.closed and pool.jwks_cache.closed
    with pytest.raises(SessionClosedError):
        await cognito.get_user()


async def test_an_explicit_pool_hands_out_sessions_and_closes_what_they_share(
    cognito_admin: Any, cognito_pool: Any, counting_jwks: CountingJwks
) -> None:
    for name in ("vic", "wes"):
        await cognito_admin.create_user(cognito_pool.user_pool_id, name, DEFAULT_PASSWORD)
    aio_session, made = counted_session()
    kwargs = dict(cognito_pool.cognito_kwargs(), session=aio_session, jwks_uri=counting_jwks.url)
    async with CognitoPool(**kwargs) as pool:
        assert "testing" not in repr(pool)  # no credentials in repr
        async with pool.session("vic") as vic, pool.session(username="wes") as wes:
            await vic.authenticate(DEFAULT_PASSWORD, auth_flow="USER_PASSWORD_AUTH")
            await wes.authenticate(DEFAULT_PASSWORD, auth_flow="USER_PASSWORD_AUTH")
            assert pool.sessions == 2
            assert vic._idp is wes._idp is pool.idp
            child = vic.for_user("wes")  # the same thing, spelled as in pycognito days
            assert child.pool is pool
        assert pool.sessions == 0 and not pool.closed
    assert pool.closed and pool.idp.closed and pool.jwks_cache.closed
    assert made == ["cognito-idp"] and counting_jwks.requests == 1
    with pytest.raises(SessionClosedError):
        await vic.get_user()


def test_two_event_loops_never_share_a_client(cognito_local: Any) -> None:
    """Two loops at once (two threads) with one configuration: two pools, two clients;
    each is closed when its loop ends; a session taken to another loop is refused."""
    kwargs: dict[str, Any] = {
        "user_pool_id": "us-east-1_twoloops",
        "client_id": "client1",
        "endpoint_url": cognito_local.endpoint_url,
        "access_key": "testing",
        "secret_key": "testing",
    }
    barrier = threading.Barrier(2, timeout=60)
    found: dict[str, tuple[Any, Any, AsyncCognito]] = {}

    async def on_loop(name: str) -> None:
        cognito = AsyncCognito(**kwargs, username="nobody")
        async with cognito:
            pool = cognito.pool
            assert pool is not None
            await anyio.to_thread.run_sync(barrier.wait)  # both loops hold a pool now
            found[name] = (pool, pool.idp.client, cognito)

    errors: list[BaseException] = []

    def run(name: str, backend: str) -> None:
        try:
            anyio.run(on_loop, name, backend=backend)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=("a", "asyncio")),
        threading.Thread(target=run, args=("b", "trio")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not errors and set(found) == {"a", "b"}
    (pool_a, client_a, session_a), (pool_b, client_b, _) = found["a"], found["b"]
    assert pool_a is not pool_b and client_a is not client_b
    assert pool_a.closed and pool_b.closed  # each loop's end closed its pool
    assert pool_a.idp.closed and pool_b.idp.closed

    async def elsewhere() -> None:
        with pytest.raises(ConfigurationError, match="another event loop"):
            await session_a.get_user()

    session_a.access_token = "a.b.c"
    anyio.run(elsewhere, backend="asyncio")


_LEFT_OPEN = """
import asyncio, json, os, sys
import trio
from acognito import AsyncCognito

kwargs = json.loads(os.environ["ACOGNITO_TEST_KWARGS"])

async def main():
    cognito = AsyncCognito(**kwargs, username="lea")  # never closed
    await cognito.authenticate(os.environ["ACOGNITO_TEST_PASSWORD"], auth_flow="USER_PASSWORD_AUTH")
    assert cognito.access_claims["username"] == "lea"
    async with AsyncCognito(**kwargs, username="lea") as other:  # closed: pool stays
        await other.authenticate(os.environ["ACOGNITO_TEST_PASSWORD"], auth_flow="USER_PASSWORD_AUTH")
    return cognito.pool

pools = [asyncio.run(main()), trio.run(main)]
import gc; gc.collect()
assert all(p.closed and p.idp.closed for p in pools), pools
print("ok")
"""


async def test_pools_close_at_loop_end_without_resource_warnings(
    cognito_admin: Any, cognito_pool: Any
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "lea", DEFAULT_PASSWORD)
    env = dict(
        os.environ,
        ACOGNITO_TEST_KWARGS=json.dumps(cognito_pool.cognito_kwargs()),
        ACOGNITO_TEST_PASSWORD=DEFAULT_PASSWORD,
    )
    with anyio.fail_after(120):
        done = await anyio.run_process(
            [sys.executable, "-W", "error", "-c", _LEFT_OPEN],
            env=env,
            check=False,
        )
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert done.stdout.decode().strip() == "ok"
    for sign in ("ResourceWarning", "Unclosed", "Exception ignored", "never retrieved"):
        assert sign not in err, err


def test_importing_the_verifier_leaves_aiobotocore_out() -> None:
    code = (
        "import sys\n"
        "from acognito import CognitoVerifier, CognitoAuth, ClientCredentialsAuth\n"
        "import acognito.oauth\n"
        "heavy = sorted(m for m in ('aiobotocore', 'botocore') if m in sys.modules)\n"
        "print(','.join(heavy) or 'none')\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "none", done.stdout + done.stderr


def test_the_package_lists_and_resolves_every_public_name() -> None:
    assert set(acognito.__all__) <= set(dir(acognito))
    for name in acognito.__all__:
        assert getattr(acognito, name) is not None
    with pytest.raises(AttributeError):
        _ = acognito.NoSuchThing  # type: ignore[attr-defined]


def test_pool_configuration_is_checked_up_front() -> None:
    with pytest.raises(ConfigurationError, match="client_id"):
        CognitoPool("eu-west-1_abc", "client\n")
    with pytest.raises(ConfigurationError, match="endpoint_url"):
        CognitoPool("eu-west-1_abc", "client1", endpoint_url="localhost:1234")


async def test_implicit_pools_stay_bounded_and_inline_configs_share_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aiobotocore.config import AioConfig

    import acognito._pools

    monkeypatch.setattr(acognito._pools, "MAX_IMPLICIT_POOLS", 3)
    kwargs: dict[str, Any] = {
        "user_pool_id": "us-east-1_bounded",
        "endpoint_url": "http://127.0.0.1:9",
        "access_key": "testing",
        "secret_key": "testing",
    }
    shared = []
    for _ in range(3):  # a config written inline per session: equal values, one pool
        config = AioConfig(read_timeout=3, retries={"max_attempts": 1})
        async with AsyncCognito(**kwargs, client_id="inline", botocore_config=config) as c:
            shared.append(c.pool)
    assert shared[0] is shared[1] is shared[2]
    pools = []
    for i in range(6):  # a configuration per request (here: six app clients)
        async with AsyncCognito(**kwargs, client_id=f"client{i}") as c:
            pools.append(c.pool)
    open_pools = [p for p in [*shared[:1], *pools] if p is not None and not p.closed]
    assert len(open_pools) == 3
    assert pools[-1] in open_pools and all(p.idp.closed for p in pools if p.closed)
    async with AsyncCognito(**kwargs, client_id="busy") as busy:  # in use: never evicted
        for i in range(5):
            async with AsyncCognito(**kwargs, client_id=f"other{i}"):
                pass
        assert busy.pool is not None and not busy.pool.closed
    await aclose_pools()


def test_a_plain_http_emulator_endpoint_may_serve_its_jwks_over_http() -> None:
    """A container-network emulator (``http://moto:5000``) is the user's explicit choice;
    an explicit plain-http ``jwks_uri`` to a remote host is still refused."""
    from acognito.errors import ConfigurationError
    from acognito.pool import CognitoPool

    pool = CognitoPool("eu-west-1_AbC123", "client1", endpoint_url="http://moto.internal:5000")
    assert pool.jwks_cache.allow_http
    assert pool.id_verifier.jwks_uri == (
        "http://moto.internal:5000/eu-west-1_AbC123/.well-known/jwks.json"
    )
    assert not CognitoPool("eu-west-1_AbC123", "client1").jwks_cache.allow_http
    with pytest.raises(ConfigurationError, match="plain http"):
        CognitoPool(
            "eu-west-1_AbC123",
            "client1",
            jwks_uri="http://jwks.example.com/eu-west-1_AbC123/.well-known/jwks.json",
        )


async def test_an_admin_only_session_gets_its_own_pool_without_verifiers(cognito_pool) -> None:
    kwargs = cognito_pool.cognito_kwargs()
    async with (
        AsyncCognito(**kwargs) as app,
        AsyncCognito(**{**kwargs, "client_id": None}) as admin,
    ):
        assert app.pool is not None
        assert admin.pool is not None
        assert app.pool is not admin.pool  # the pool key includes the (absent) client id
        assert admin.pool.client_id is None
        assert (admin.pool.id_verifier, admin.pool.access_verifier) == (None, None)
        assert app.pool.id_verifier is not None
        assert "client_id=None" in repr(admin.pool)
        await admin.admin_create_user("quin", DEFAULT_PASSWORD, {"MessageAction": "SUPPRESS"})
        assert [u.username for u in await admin.get_users()] == ["quin"]
