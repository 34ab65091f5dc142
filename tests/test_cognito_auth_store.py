"""CognitoAuth with store=: a user's tokens shared by several processes' auths, refreshed
once under the store's lease on a client that rotates refresh tokens, and picked up by a
process that starts later without signing in. Events fire once each.

Against the shipped local Cognito and a real redis-server, on asyncio and trio. Each
auth has its own session and cache, as separate processes would; the fleet rotation
test with real processes is tests/test_fleet_rotation.py (phase 2).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest
from aiobotocore.config import AioConfig

from acognito.auth import CognitoAuth
from acognito.events import AuthEvent, Events, SignedIn, TokensRefreshed
from acognito.stores import RedisTokenStore, UndecryptableValueWarning
from local_server import LocalClock, LocalServer
from redis_server import RedisServer

pytestmark = pytest.mark.anyio

#: The store's bound for the tests of what a store does (not of its faults): wide, so a
#: machine loaded by parallel test runs does not turn a slow answer into an outage.
SLACK = 5.0

REGION = "us-east-1"
USER = "alice"
PASSWORD = "Passw0rd!"
KEY = bytes(range(32))
LIFETIME = 300  # seconds: the access token's life on this client


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def clock(local_server: LocalServer) -> Iterator[LocalClock]:
    shifted = LocalClock(local_server)
    yield shifted
    shifted.rewind()


class Pool:
    def __init__(self, server: LocalServer, clock: LocalClock) -> None:
        self.server = server
        self.clock = clock
        self.pool_id = server.create_pool(region=REGION)
        self.client_id, _ = server.create_client(
            self.pool_id, refresh_token_rotation=True, access_token_validity=LIFETIME
        )
        server.create_user(self.pool_id, USER, PASSWORD)

    def auth(self, store: Any, **kwargs: Any) -> CognitoAuth:
        return CognitoAuth.from_password(
            self.pool_id,
            self.client_id,
            USER,
            PASSWORD,
            user_pool_region=REGION,
            endpoint_url=self.server.endpoint_url,
            access_key="testing",
            secret_key="testing",
            botocore_config=AioConfig(retries={"total_max_attempts": 1}),
            jwks=self.server.jwks(self.pool_id),
            refresh_token_rotation=True,
            clock=self.clock,
            store=store,
            **kwargs,
        )

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
        return self.count("RespondToAuthChallenge", "PASSWORD_VERIFIER")

    @property
    def refreshes(self) -> int:
        return self.count("GetTokensFromRefreshToken") + self.count(
            "InitiateAuth", "REFRESH_TOKEN_AUTH"
        )


@pytest.fixture
def pool(local_server: LocalServer, clock: LocalClock) -> Pool:
    return Pool(local_server, clock)


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisTokenStore]:
    async with RedisTokenStore(redis_url, encryption_key=KEY, timeout=SLACK) as store:
        yield store


async def test_auths_share_one_sign_in_and_one_rotating_refresh(
    pool: Pool, store: RedisTokenStore, redis_server: RedisServer
) -> None:
    heard: list[list[AuthEvent]] = [[] for _ in range(4)]
    auths = []
    for i in range(4):
        hub = Events()
        hub.subscribe(heard[i].append)
        auths.append(pool.auth(store, events=hub))
    try:
        first = await auths[0].get_token()
        for auth in auths[1:]:
            assert await auth.get_token() == first  # read from the store: no sign-in
        assert pool.sign_ins == 1
        assert [type(e) for e in heard[0]] == [SignedIn]
        for events in heard[1:]:
            assert [type(e) for e in events] == [TokensRefreshed]
            assert isinstance(events[0], TokensRefreshed) and events[0].from_store
        old_refresh = auths[0].cognito.refresh_token
        # The token comes due for every process at once: one refresh reaches Cognito.
        pool.clock.advance(LIFETIME)
        tokens: list[str] = [""] * 4

        async def renew(i: int) -> None:
            tokens[i] = await auths[i].get_token()

        async with anyio.create_task_group() as tg:
            for i in range(4):
                tg.start_soon(renew, i)
        assert pool.refreshes == 1 and pool.sign_ins == 1
        assert len(set(tokens)) == 1 and tokens[0] != first
        newest = {a.cognito.refresh_token for a in auths}
        assert len(newest) == 1 and old_refresh not in newest  # rotated, everyone has it
        refreshed = [e for events in heard for e in events[1:]]
        assert len(refreshed) == 4 and all(isinstance(e, TokensRefreshed) for e in refreshed)
        by_cognito = [e for e in refreshed if isinstance(e, TokensRefreshed) and not e.from_store]
        assert len(by_cognito) == 1 and by_cognito[0].rotated
        for e in refreshed:
            assert "eyJ" not in repr(e)
        # The stored value is unreadable without the key.
        raw = redis_server.command("HGET", f"acognito:v:{auths[0].store_key}", "d")
        assert b"eyJ" not in raw and newest.pop().encode() not in raw  # type: ignore[union-attr]
        async with RedisTokenStore(
            redis_server.url, encryption_key=bytes(32), timeout=SLACK
        ) as wrong:
            with pytest.warns(UndecryptableValueWarning):
                assert await wrong.get(auths[0].store_key or "") is None
    finally:
        for auth in auths:
            await auth.aclose()


async def test_a_restarted_process_restores_and_refreshes_without_signing_in(
    pool: Pool, store: RedisTokenStore
) -> None:
    before = pool.auth(store)
    await before.get_token()
    pool.clock.advance(LIFETIME)  # mid-rotation: the first process refreshed, then died
    await before.get_token()
    rotated = before.cognito.refresh_token
    await before.aclose()
    assert (pool.sign_ins, pool.refreshes) == (1, 1)
    pool.clock.advance(LIFETIME)
    after = pool.auth(store)  # the restarted service: same key, no tokens in memory
    try:
        seen: list[AuthEvent] = []
        after.events.subscribe(seen.append)
        await after.get_token()
        assert pool.sign_ins == 1  # restored from the store, refreshed with its token
        assert pool.refreshes == 2
        assert after.cognito.refresh_token not in (None, rotated)
        assert [type(e) for e in seen] == [TokensRefreshed] and seen[0].rotated  # type: ignore[attr-defined]
    finally:
        await after.aclose()


def test_blocking_requests_hear_events_in_their_own_thread(pool: Pool) -> None:
    import threading

    heard: list[tuple[str, str]] = []

    def subscriber(event: AuthEvent) -> None:
        heard.append((type(event).__name__, threading.current_thread().name))

    async def async_subscriber(event: AuthEvent) -> None:
        heard.append(("async " + type(event).__name__, threading.current_thread().name))

    auth = pool.auth(None)
    auth.events.subscribe(subscriber)
    auth.events.subscribe(async_subscriber)
    try:

        def call() -> None:
            auth.get_token_sync()
            auth.invalidate()
            auth.get_token_sync()

        caller = threading.Thread(target=call, name="the-caller")
        caller.start()
        caller.join(60)
        assert heard == [
            ("SignedIn", "the-caller"),
            ("async SignedIn", "the-caller"),
            ("TokensRefreshed", "the-caller"),
            ("async TokensRefreshed", "the-caller"),
        ]
    finally:
        auth.close()


async def test_a_failed_refresh_is_an_event_and_the_error_is_raised(pool: Pool) -> None:
    from acognito import AsyncCognito
    from acognito.errors import NotAuthorizedError
    from acognito.events import RefreshFailed

    async with AsyncCognito(
        pool.pool_id,
        pool.client_id,
        username=USER,
        user_pool_region=REGION,
        endpoint_url=pool.server.endpoint_url,
        access_key="testing",
        secret_key="testing",
        botocore_config=AioConfig(retries={"total_max_attempts": 1}),
        jwks=pool.server.jwks(pool.pool_id),
        refresh_token_rotation=True,
    ) as cognito:
        await cognito.authenticate(PASSWORD)
        auth = CognitoAuth(cognito, clock=pool.clock)
        heard: list[AuthEvent] = []
        auth.events.subscribe(heard.append)
        await auth.get_token()
        pool.server.boto.admin_user_global_sign_out(UserPoolId=pool.pool_id, Username=USER)
        pool.clock.advance(LIFETIME)
        with pytest.raises(NotAuthorizedError):
            await auth.get_token()
        assert [type(e) for e in heard] == [RefreshFailed]
        failed = heard[0]
        assert isinstance(failed, RefreshFailed) and isinstance(failed.error, NotAuthorizedError)
        assert failed.username == USER and "eyJ" not in repr(failed)
