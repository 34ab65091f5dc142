"""Faults and bad input at the session (issue 11): nothing lost, only named errors.

Against real loopback servers: the shipped local Cognito (acognito.testing.LocalCognito,
whose app client here rotates refresh tokens; their status is read through its test API),
a JWKS endpoint that can answer 503, a port nobody listens on, and a server
that accepts connections and never answers.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from aiobotocore.config import AioConfig

from acognito import AsyncCognito
from acognito._idp import CONNECT_TIMEOUT, READ_TIMEOUT, _default_config
from acognito.errors import CognitoConnectionError, ConfigurationError, JwksFetchError
from local_server import LocalServer
from test_pool import CountingJwks

pytestmark = pytest.mark.anyio

PASSWORD = "Passw0rd!"
NO_RETRIES = AioConfig(retries={"total_max_attempts": 1})


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    """One local Cognito (a process) for the module, both backends."""
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def rotating(server: LocalServer) -> Iterator[tuple[str, str, CountingJwks]]:
    """A pool whose client rotates refresh tokens, and a JWKS endpoint in front of it."""
    pool_id = server.create_pool()
    client_id, _ = server.create_client(pool_id, refresh_token_rotation=True)
    server.create_user(pool_id, "rae", PASSWORD)
    with CountingJwks(server.jwks_url(pool_id)) as jwks:
        yield pool_id, client_id, jwks
    assert server.internal_errors == []  # no bug in the local Cognito's own extensions


def on(server: LocalServer, pool_id: str, client_id: str, **kwargs: Any) -> AsyncCognito:
    return AsyncCognito(
        pool_id,
        client_id,
        endpoint_url=server.endpoint_url,
        access_key="testing",
        secret_key="testing",
        botocore_config=NO_RETRIES,
        refresh_token_rotation=True,
        **kwargs,
    )


# ---------------------------------------------------------------- defect 1: rotated token kept


async def test_a_rotated_refresh_token_survives_a_jwks_outage(
    server: LocalServer, rotating: tuple[str, str, CountingJwks]
) -> None:
    pool_id, client_id, jwks = rotating
    async with on(server, pool_id, client_id, username="rae") as signer:
        await signer.authenticate(PASSWORD)
        old = signer.refresh_token or ""
    # A session restored from the refresh token alone: its keys are not cached yet.
    jwks.status = 503
    async with on(server, pool_id, client_id, refresh_token=old, jwks_uri=jwks.url) as c:
        with pytest.raises(JwksFetchError, match="503"):
            await c.renew_access_token()
        rotated = c.refresh_token or ""
        assert server.refresh_token_status(old) == "rotated"
        assert rotated != old and server.refresh_token_status(rotated) == "active"
        assert c.access_token is None and c.access_claims is None  # unverified: not kept
        jwks.status = 200  # the outage ends: the kept token still works
        await c.renew_access_token()
        assert c.access_claims is not None and c.access_claims["username"] == "rae"
        assert server.refresh_token_status(rotated) == "rotated"


async def test_a_sign_in_during_a_jwks_outage_keeps_its_refresh_token(
    server: LocalServer, rotating: tuple[str, str, CountingJwks]
) -> None:
    pool_id, client_id, jwks = rotating
    jwks.status = 503
    async with on(server, pool_id, client_id, username="rae", jwks_uri=jwks.url) as c:
        with pytest.raises(JwksFetchError):
            await c.authenticate(PASSWORD)
        kept = c.refresh_token or ""
        assert kept and server.refresh_token_status(kept) == "active"
        assert c.access_token is None
        jwks.status = 200
        await c.renew_access_token()
        assert c.access_claims is not None and c.access_claims["username"] == "rae"


# ---------------------------------------------------------------- defect 8: bad input


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"client_id": "client\n"}, "client_id"),
        ({"client_secret": 5}, "client_secret"),
        ({"username": 5}, "username"),
        ({"endpoint_url": 5}, "endpoint_url"),
        ({"endpoint_url": "localhost:1234"}, "endpoint_url"),
        ({"endpoint_url": "http://127.0.0.1:abc"}, "endpoint_url"),
        ({"user_pool_region": "nope nope"}, "user_pool_region"),
        ({"jwks_uri": "ftp://example.com/keys"}, "jwks_uri"),
        ({"refresh_margin": "soon"}, "refresh_margin"),
        ({"access_key": 5, "secret_key": "x"}, "access_key"),
    ],
)
def test_bad_input_is_a_configuration_error_naming_the_parameter(
    kwargs: dict[str, Any], named: str
) -> None:
    args: dict[str, Any] = {"user_pool_id": "eu-west-1_abc", "client_id": "client1"}
    args.update(kwargs)
    with pytest.raises(ConfigurationError, match=named) as info:
        AsyncCognito(**args)
    others = {"jwks_uri", "endpoint_url", "client_id"} - {named}  # no other parameter named
    assert not any(other in str(info.value) for other in others)


def test_a_sync_with_says_use_async_with() -> None:
    cognito = AsyncCognito("eu-west-1_abc", "client1")
    with pytest.raises(ConfigurationError, match="async with"):
        with cognito:  # type: ignore[attr-defined]
            pass  # pragma: no cover


# ---------------------------------------------------------------- unreachable servers


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_server_that_is_down_is_named_with_its_region() -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    async with AsyncCognito(
        "eu-west-1_abc",
        "client1",
        username="bob",
        endpoint_url=endpoint,
        botocore_config=NO_RETRIES,
    ) as c:
        with pytest.raises(CognitoConnectionError) as info:
            await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
    assert endpoint in str(info.value) and "eu-west-1" in str(info.value)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections, reads, never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def test_default_timeouts_are_bounded() -> None:
    config = _default_config()
    assert (config.connect_timeout, config.read_timeout) == (CONNECT_TIMEOUT, READ_TIMEOUT)
    assert CONNECT_TIMEOUT <= 5 and READ_TIMEOUT <= 10
    retries = dict(config.retries)  # botocore rewrites max_attempts as total_max_attempts
    assert retries.get("total_max_attempts", retries.get("max_attempts", 0) + 1) == 3


async def test_a_server_that_never_answers_fails_in_seconds(silent_server: str) -> None:
    started = time.monotonic()
    with anyio.fail_after(20):
        async with AsyncCognito(
            "eu-west-1_abc",
            "client1",
            username="bob",
            endpoint_url=silent_server,
            botocore_config=AioConfig(read_timeout=1),  # the default is 10 s per try
        ) as c:
            with pytest.raises(CognitoConnectionError) as info:
                await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
    assert time.monotonic() - started < 10  # 3 tries of 1 s, plus back-off
    assert silent_server in str(info.value) and "in time" in str(info.value)
