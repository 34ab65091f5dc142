"""A user session kept in a store, across processes and restarts (issue #18's done-when).

- 8 processes hold one user session on an app client that rotates refresh tokens and
  refresh at once: exactly one GetTokensFromRefreshToken call reaches the local Cognito
  (counted in its request log), every process ends with the newest refresh token, and
  the stored value is unreadable without the key.
- A service restarted mid-rotation restores its session from the store and refreshes
  with no sign-in; each event fires once.

Real worker processes, a real redis-server, the shipped local Cognito; asyncio and trio.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.to_thread
import pytest
from aiobotocore.config import AioConfig

from acognito import AsyncCognito
from acognito.events import AuthEvent, Events, SignedIn, SignedOut, TokensRefreshed
from acognito.stores import RedisTokenStore, StoredTokensNotFoundError, UndecryptableValueWarning
from local_server import LocalServer
from redis_server import RedisServer

pytestmark = pytest.mark.anyio

#: The store's bound for these tests of what a store does (not of its faults): wide, so
#: a machine loaded by parallel test runs does not turn a slow answer into an outage.
SLACK = 5.0
PROCESSES = 8
REGION = "us-east-1"
USER = "rita"
PASSWORD = "Passw0rd!"
KEY = bytes(range(32))

WORKER = r"""
import hashlib, json, sys
import anyio
from acognito import AsyncCognito
from acognito.stores import RedisTokenStore

config = json.loads(sys.argv[1])

async def main():
    key = bytes.fromhex(config["key"])
    async with RedisTokenStore(config["redis"], encryption_key=key, timeout=5.0) as store:
        session = await AsyncCognito.restore(
            store, config["store_key"], config["pool_id"], config["client_id"],
            username=config["username"], endpoint_url=config["endpoint"],
            user_pool_region="us-east-1", access_key="testing", secret_key="testing",
            refresh_token_rotation=True,
        )
        async with session:
            print("ready", flush=True)
            await anyio.to_thread.run_sync(sys.stdin.readline)  # the go
            await session.renew_access_token()
            digest = hashlib.sha256(session.refresh_token.encode()).hexdigest()
            print(json.dumps({"refresh": digest}), flush=True)

anyio.run(main, backend=config["backend"])
"""


def run_workers(config: dict[str, Any]) -> list[dict[str, str]]:
    """Start the processes, let each restore the session, then tell them all to refresh."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for worker in workers:  # every process holds the session before any refreshes
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [w.communicate(timeout=120)[0] for w in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert all(w.returncode == 0 for w in workers)
    return [json.loads(out.strip().splitlines()[-1]) for out in outputs]


def digest(token: str | None) -> str:
    assert token
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisTokenStore]:
    async with RedisTokenStore(redis_url, encryption_key=KEY, timeout=SLACK) as store:
        yield store


class Pool:
    def __init__(self, server: LocalServer, **client: Any) -> None:
        self.server = server
        self.pool_id = server.create_pool(region=REGION)
        self.client_id, _ = server.create_client(
            self.pool_id, refresh_token_rotation=True, **client
        )
        server.create_user(self.pool_id, USER, PASSWORD)

    def options(self) -> dict[str, Any]:
        return {
            "username": USER,
            "user_pool_region": REGION,
            "endpoint_url": self.server.endpoint_url,
            "access_key": "testing",
            "secret_key": "testing",
            "botocore_config": AioConfig(retries={"total_max_attempts": 1}),
            "refresh_token_rotation": True,
        }

    def count(self, operation: str, what: str | None = None) -> int:
        return sum(
            1
            for r in self.server.requests
            if r.operation == operation
            and r.params.get("ClientId") == self.client_id
            and (what is None or what in (r.params.get("AuthFlow"), r.params.get("ChallengeName")))
        )

    @property
    def sign_ins(self) -> int:
        return self.count("InitiateAuth", "USER_SRP_AUTH") + self.count(
            "InitiateAuth", "USER_PASSWORD_AUTH"
        )


async def test_eight_processes_refresh_one_rotating_session_once(
    local_server: LocalServer,
    store: RedisTokenStore,
    redis_server: RedisServer,
    anyio_backend: str,
) -> None:
    pool = Pool(local_server)
    async with AsyncCognito(
        pool.pool_id, pool.client_id, store=store, store_key="svc/rita", **pool.options()
    ) as first:
        await first.authenticate(PASSWORD)
        signed_in_with = first.refresh_token
    config = {
        "key": KEY.hex(),
        "redis": redis_server.url,
        "store_key": "svc/rita",
        "pool_id": pool.pool_id,
        "client_id": pool.client_id,
        "username": USER,
        "endpoint": local_server.endpoint_url,
        "backend": anyio_backend,
    }
    before = pool.count("GetTokensFromRefreshToken")
    results = await anyio.to_thread.run_sync(run_workers, config)
    assert pool.count("GetTokensFromRefreshToken") - before == 1
    assert pool.sign_ins == 1  # the first one only: the workers restored
    newest = {r["refresh"] for r in results}
    assert len(newest) == 1 and newest != {digest(signed_in_with)}
    stored = await store.get("svc/rita")
    assert stored is not None
    assert hashlib.sha256(json.loads(stored.value)["refresh_token"].encode()).hexdigest() in newest
    raw = redis_server.command("HGET", "acognito:v:svc/rita", "d")
    assert b"eyJ" not in raw and len(raw) > 100
    async with RedisTokenStore(redis_server.url, encryption_key=bytes(32), timeout=SLACK) as wrong:
        with pytest.warns(UndecryptableValueWarning):
            assert await wrong.get("svc/rita") is None


async def test_a_restarted_service_restores_and_refreshes_without_signing_in(
    local_server: LocalServer, store: RedisTokenStore
) -> None:
    # Access tokens live 5 s and the session refreshes 60 s before expiry: always due.
    pool = Pool(local_server, access_token_validity=5)
    heard: list[AuthEvent] = []
    hub = Events()
    hub.subscribe(heard.append)
    async with AsyncCognito(
        pool.pool_id, pool.client_id, store=store, events=hub, **pool.options()
    ) as before:
        await before.authenticate(PASSWORD)
        await before.renew_access_token()  # rotation: the store holds the new token
        key = before.store_key
        rotated = before.refresh_token
    assert key is not None
    assert [type(e) for e in heard] == [SignedIn, TokensRefreshed]
    assert heard[1].rotated  # type: ignore[attr-defined]
    sign_ins, refreshes = pool.sign_ins, pool.count("GetTokensFromRefreshToken")

    # The restarted service: nothing in memory, the key and the store only.
    heard.clear()
    after = await AsyncCognito.restore(
        store, key, pool.pool_id, pool.client_id, events=hub, **pool.options()
    )
    async with after:
        assert pool.sign_ins == sign_ins
        assert pool.count("GetTokensFromRefreshToken") == refreshes + 1
        assert after.refresh_token not in (None, rotated)
        assert after.access_claims is not None and after.access_claims["username"] == USER
        assert [type(e) for e in heard] == [TokensRefreshed]
        await after.logout()
    assert [type(e) for e in heard] == [TokensRefreshed, SignedOut]
    assert heard[1].revoked  # type: ignore[attr-defined]
    assert await store.get(key) is None  # signed out: the record is gone
    with pytest.raises(StoredTokensNotFoundError):
        await AsyncCognito.restore(store, key, pool.pool_id, pool.client_id, **pool.options())
    for event in heard:
        assert "eyJ" not in repr(event)


async def test_without_a_store_nothing_is_written(
    local_server: LocalServer, redis_server: RedisServer, redis_url: str
) -> None:
    pool = Pool(local_server)
    async with AsyncCognito(pool.pool_id, pool.client_id, **pool.options()) as session:
        assert session.store is None and session.store_key is None
        await session.authenticate(PASSWORD)
        await session.renew_access_token()
    assert redis_server.command("DBSIZE").strip() == b":0"


def test_the_blocking_session_keeps_tokens_and_calls_subscribers_in_its_thread(
    local_server: LocalServer, tmp_path: Any
) -> None:
    import threading

    from acognito.stores import FileTokenStore
    from acognito.sync import Cognito

    pool = Pool(local_server)
    store = FileTokenStore(tmp_path)
    heard: list[tuple[str, str]] = []
    hub = Events()
    hub.subscribe(lambda e: heard.append((type(e).__name__, threading.current_thread().name)))

    async def async_subscriber(event: AuthEvent) -> None:
        heard.append(("async " + type(event).__name__, threading.current_thread().name))

    hub.subscribe(async_subscriber)
    options = pool.options()
    username = options.pop("username")

    def service() -> None:
        with Cognito(
            pool.pool_id, pool.client_id, username=username, store=store, events=hub, **options
        ) as cognito:
            cognito.authenticate(PASSWORD)
            key = cognito.store_key
        assert key is not None
        restored = Cognito.restore(store, key, pool.pool_id, pool.client_id, events=hub, **options)
        with restored:
            assert restored.access_claims is not None
            restored.renew_access_token()
            restored.logout()

    caller = threading.Thread(target=service, name="the-caller")
    caller.start()
    caller.join(120)
    assert not caller.is_alive()
    assert heard == [
        ("SignedIn", "the-caller"),
        ("async SignedIn", "the-caller"),
        ("TokensRefreshed", "the-caller"),
        ("async TokensRefreshed", "the-caller"),
        ("SignedOut", "the-caller"),
        ("async SignedOut", "the-caller"),
    ]
    assert list(tmp_path.glob("**/*.json")) == []  # signed out: the record is gone


async def test_pool_sessions_and_their_children_take_the_store_and_the_hub(
    local_server: LocalServer, store: RedisTokenStore
) -> None:
    from acognito import CognitoPool
    from acognito.stores._session import user_key

    pool = Pool(local_server)
    local_server.create_user(pool.pool_id, "sam", PASSWORD)
    options = pool.options()
    options.pop("username")
    rotation = options.pop("refresh_token_rotation")
    heard: list[AuthEvent] = []
    hub = Events()
    hub.subscribe(heard.append)
    async with CognitoPool(pool.pool_id, pool.client_id, **options) as shared:
        async with shared.session(
            USER, store=store, events=hub, refresh_token_rotation=rotation
        ) as session:
            assert session.store is store
            assert session.store_key == user_key(pool.pool_id, pool.client_id, USER)
            await session.authenticate(PASSWORD)
            async with session.for_user("sam") as child:
                assert child.events is hub and child.store is store
                assert child.store_key == user_key(pool.pool_id, pool.client_id, "sam")
                await child.authenticate(PASSWORD)
    assert [(type(e), e.username) for e in heard] == [(SignedIn, USER), (SignedIn, "sam")]
    assert await store.get(user_key(pool.pool_id, pool.client_id, USER)) is not None
    assert await store.get(user_key(pool.pool_id, pool.client_id, "sam")) is not None


async def test_restoring_from_a_store_that_does_not_answer_says_so() -> None:
    from acognito.stores import StoreUnavailableError

    with RedisServer() as down:
        url = down.url
    async with RedisTokenStore(url, encryption_key=KEY) as store:
        with pytest.raises(StoreUnavailableError):
            await AsyncCognito.restore(store, "svc/x", "us-east-1_abc", "client", username="x")
