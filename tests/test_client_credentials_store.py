"""ClientCredentialsAuth with store= and events: one token for every auth sharing a store,
no store round trip on a warm request, and the store's faults never failing a request.

Against the local Cognito's OAuth2 domain, a bearer-checked API, and a real
redis-server (stopped, frozen and restarted by the fault tests). Separate auth objects
stand in for separate processes here (each has its own local cache); the fleet
benchmark (benchmarks/bench_fleet.py) runs real processes. Asyncio and trio.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from acognito.auth import ClientCredentialsAuth
from acognito.errors import OAuthError
from acognito.events import AuthEvent, Events, RefreshFailed, SignedIn, TokensRefreshed
from acognito.stores import MemoryTokenStore, RedisTokenStore, TokenStore
from acognito.stores._shared import guard
from acognito.testing import LocalCognito
from asgi_helpers import BearerTestApi, serve_asgi
from oauth_domain import DomainClient, LocalDomain
from redis_server import RedisServer

pytestmark = pytest.mark.anyio

#: The store's bound for the tests of what a store does (not of its faults): wide, so a
#: machine loaded by parallel test runs does not turn a slow answer into an outage.
SLACK = 5.0

GRANTS = "token:client_credentials"
KEY = bytes(range(32))


@pytest.fixture
def server(cognito_local: LocalCognito) -> Iterator[LocalDomain]:
    with LocalDomain(cognito_local) as srv:
        yield srv


@pytest.fixture
def m2m(server: LocalDomain) -> DomainClient:
    return server.add_client(scopes={"api/read"}, grants={"client_credentials"})


@pytest.fixture
async def api_url(server: LocalDomain) -> AsyncIterator[str]:
    async with serve_asgi(BearerTestApi(server)) as url:
        yield url


@pytest.fixture
async def make_auth(
    server: LocalDomain, m2m: DomainClient
) -> AsyncIterator[Callable[..., ClientCredentialsAuth]]:
    made: list[ClientCredentialsAuth] = []

    def make(**kwargs: Any) -> ClientCredentialsAuth:
        assert m2m.client_secret
        kwargs.setdefault("scopes", ["api/read"])
        auth = ClientCredentialsAuth(server.url, m2m.client_id, m2m.client_secret, **kwargs)
        made.append(auth)
        return auth

    yield make
    for auth in made:
        await auth.aclose()


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisTokenStore]:
    async with RedisTokenStore(redis_url, encryption_key=KEY, timeout=SLACK) as store:
        yield store


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


async def call_many(auth: ClientCredentialsAuth, url: str, n: int) -> list[int]:
    statuses: list[int] = []
    async with httpx.AsyncClient(auth=auth, base_url=url) as http:

        async def one(i: int) -> None:
            statuses.append((await http.get(f"/r/{i}")).status_code)

        async with anyio.create_task_group() as tg:
            for i in range(n):
                tg.start_soon(one, i)
    return statuses


def stores() -> list[str]:
    return ["memory", "redis"]


@pytest.fixture(params=stores())
def store(request: pytest.FixtureRequest) -> TokenStore:
    if request.param == "memory":
        return MemoryTokenStore()
    return request.getfixturevalue("redis_store")  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- one token


async def test_auths_sharing_a_store_share_one_token(
    store: TokenStore,
    make_auth: Callable[..., ClientCredentialsAuth],
    server: LocalDomain,
    api_url: str,
) -> None:
    auths = [make_auth(store=store) for _ in range(4)]
    results: list[list[int]] = [[] for _ in auths]

    async def burst(i: int) -> None:
        results[i] = await call_many(auths[i], api_url, 10)

    async with anyio.create_task_group() as tg:
        for i in range(len(auths)):
            tg.start_soon(burst, i)
    assert all(r == [200] * 10 for r in results)
    assert server.counts[GRANTS] == 1
    tokens = {await a.get_access_token() for a in auths}
    assert len(tokens) == 1
    # The key: from the domain, client and scopes; the same for every auth.
    assert len({a.store_key for a in auths}) == 1 and auths[0].store_key.startswith("m2m:")
    other_scopes = make_auth(store=store, scopes=[])
    assert other_scopes.store_key != auths[0].store_key


async def test_a_warm_request_makes_no_store_round_trip(
    redis_store: RedisTokenStore, make_auth: Callable[..., ClientCredentialsAuth], api_url: str
) -> None:
    auth = make_auth(store=redis_store)
    assert await call_many(auth, api_url, 5) == [200] * 5
    before = guard(redis_store).calls
    assert await call_many(auth, api_url, 50) == [200] * 50
    assert guard(redis_store).calls == before


async def test_a_due_token_is_refreshed_once_for_all(
    redis_store: RedisTokenStore,
    make_auth: Callable[..., ClientCredentialsAuth],
    server: LocalDomain,
    m2m: DomainClient,
    api_url: str,
) -> None:
    server.set_lifetime(m2m, 4)  # refreshed 1 s before expiry (a quarter of its life)
    auths = [make_auth(store=redis_store) for _ in range(3)]
    for auth in auths:
        assert await call_many(auth, api_url, 3) == [200] * 3
    assert server.counts[GRANTS] == 1
    first = await auths[0].get_access_token()
    with anyio.fail_after(30):
        while await auths[0].get_access_token() == first:  # noqa: ASYNC110
            await anyio.sleep(0.1)
    for auth in auths:
        assert await call_many(auth, api_url, 3) == [200] * 3
    assert server.counts[GRANTS] == 2
    assert len({await a.get_access_token() for a in auths}) == 1


async def test_a_rejected_token_is_not_read_back_from_the_store(
    redis_store: RedisTokenStore,
    make_auth: Callable[..., ClientCredentialsAuth],
    server: LocalDomain,
) -> None:
    auth = make_auth(store=redis_store)
    bearer = await auth._cache.aget()
    newer = await auth._cache.aget(stale=bearer)  # what a 401 asks for
    assert newer.token != bearer.token
    assert server.counts[GRANTS] == 2
    # Another process now reads the newer one.
    assert await make_auth(store=redis_store).get_access_token() == newer.token


async def test_the_stored_token_is_encrypted(
    redis_store: RedisTokenStore,
    make_auth: Callable[..., ClientCredentialsAuth],
    redis_server: RedisServer,
) -> None:
    auth = make_auth(store=redis_store)
    token = await auth.get_access_token()
    raw = redis_server.command("HGET", f"acognito:v:{auth.store_key}", "d")
    assert len(raw) > 100 and token.encode() not in raw and b"eyJ" not in raw


def test_blocking_requests_share_the_store(
    server: LocalDomain, m2m: DomainClient, api_url_sync: str
) -> None:
    store = MemoryTokenStore()
    assert m2m.client_secret
    first, second = (
        ClientCredentialsAuth(server.url, m2m.client_id, m2m.client_secret, store=store)
        for _ in range(2)
    )
    with httpx.Client(auth=first, base_url=api_url_sync) as http:
        assert http.get("/a").status_code == 200
    with httpx.Client(auth=second, base_url=api_url_sync) as http:
        assert http.get("/b").status_code == 200
    assert server.counts[GRANTS] == 1
    first.close()
    second.close()


@pytest.fixture
def api_url_sync(server: LocalDomain) -> Iterator[str]:
    from asgi_helpers import ThreadedAsgiServer

    with ThreadedAsgiServer(BearerTestApi(server)) as api:
        yield api.url


# --------------------------------------------------------------------------- faults


async def test_redis_down_from_the_start_fails_no_request(
    own_redis: RedisServer,
    make_auth: Callable[..., ClientCredentialsAuth],
    server: LocalDomain,
    api_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    own_redis.stop()
    async with RedisTokenStore(own_redis.url, encryption_key=KEY) as store:
        with caplog.at_level(logging.WARNING, "acognito.stores"):
            auths = [make_auth(store=store) for _ in range(3)]
            for auth in auths:
                assert await call_many(auth, api_url, 10) == [200] * 10
        assert server.counts[GRANTS] == 3  # each carried on by itself
        outage = [r for r in caplog.records if "unavailable" in r.getMessage()]
        assert len(outage) == 1  # one warning per outage


async def test_frozen_redis_costs_a_bounded_wait(
    own_redis: RedisServer,
    make_auth: Callable[..., ClientCredentialsAuth],
    server: LocalDomain,
    api_url: str,
) -> None:
    async with RedisTokenStore(own_redis.url, encryption_key=KEY) as store:
        auth = make_auth(store=store)
        own_redis.pause()
        try:
            assert await call_many(auth, api_url, 10) == [200] * 10
        finally:
            own_redis.resume()
        assert server.counts[GRANTS] == 1
        assert not guard(store).available


async def test_redis_restarted_mid_run_then_used_again(
    own_redis: RedisServer,
    make_auth: Callable[..., ClientCredentialsAuth],
    server: LocalDomain,
    m2m: DomainClient,
    api_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.set_lifetime(m2m, 4)
    async with RedisTokenStore(own_redis.url, encryption_key=KEY) as store:
        one, two = make_auth(store=store), make_auth(store=store)
        assert await call_many(one, api_url, 5) == [200] * 5
        assert await call_many(two, api_url, 5) == [200] * 5
        assert server.counts[GRANTS] == 1
        with caplog.at_level(logging.WARNING, "acognito.stores"):
            own_redis.kill()
            first = await one.get_access_token()
            with anyio.fail_after(30):  # while Redis is down the tokens come due
                while await one.get_access_token() == first:  # noqa: ASYNC110
                    await anyio.sleep(0.1)
            with anyio.fail_after(30):  # the other process's copy comes due too
                while await two.get_access_token() == first:  # noqa: ASYNC110
                    await anyio.sleep(0.1)
            assert await call_many(two, api_url, 5) == [200] * 5
            assert server.counts[GRANTS] == 3  # each by itself while the store was down
            own_redis.start()
            with anyio.fail_after(30):  # back: the next due token is shared again
                while guard(store).available is False or server.counts[GRANTS] < 4:
                    await call_many(one, api_url, 1)
                    await anyio.sleep(0.1)
            shared = await one.get_access_token()
            with anyio.fail_after(30):
                while await two.get_access_token() != shared:  # noqa: ASYNC110
                    await anyio.sleep(0.1)
        messages = [r.getMessage() for r in caplog.records]
        assert sum("unavailable" in m for m in messages) == 1
        assert sum("is back" in m for m in messages) == 1


async def test_cancelled_while_holding_the_lease(
    redis_store: RedisTokenStore,
    make_auth: Callable[..., ClientCredentialsAuth],
    server: LocalDomain,
) -> None:
    server.delays["/oauth2/token"] = 0.5
    auth = make_auth(store=redis_store)
    with anyio.move_on_after(0.2) as scope:
        await auth.get_access_token()
    assert scope.cancelled_caught
    server.delays["/oauth2/token"] = 0
    # The lease was given back: another process gets a token at once, not after 10 s.
    with anyio.fail_after(5):
        token = await make_auth(store=redis_store).get_access_token()
    assert token
    assert await redis_store.acquire(auth.store_key, ttl=1) is not None


# --------------------------------------------------------------------------- events


async def test_events_fire_and_a_raising_subscriber_fails_nothing(
    make_auth: Callable[..., ClientCredentialsAuth],
    server: LocalDomain,
    api_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = Events()
    seen: list[AuthEvent] = []
    awaited: list[AuthEvent] = []

    def broken(event: AuthEvent) -> None:
        raise RuntimeError("subscriber bug")

    async def slow(event: AuthEvent) -> None:
        await anyio.lowlevel.checkpoint()
        awaited.append(event)

    hub.subscribe(broken)
    hub.subscribe(seen.append)
    stop = hub.subscribe(slow)
    auth = make_auth(events=hub)
    with caplog.at_level(logging.ERROR, "acognito.events"):
        assert await call_many(auth, api_url, 5) == [200] * 5
    assert [type(e) for e in seen] == [SignedIn] and awaited == seen
    assert "subscriber bug" in caplog.text and "broken" in caplog.text
    token = await auth.get_access_token()
    auth.invalidate()
    assert await auth.get_access_token() != token
    assert isinstance(seen[-1], TokensRefreshed) and not seen[-1].from_store
    for event in seen:
        assert "eyJ" not in repr(event) and token not in repr(event)
    stop()
    server.fail_next("/oauth2/token", 400, "invalid_client")
    auth.invalidate()
    with pytest.raises(OAuthError):
        await auth.get_access_token()
    assert isinstance(seen[-1], RefreshFailed) and isinstance(seen[-1].error, OAuthError)
    assert len(awaited) == 2  # unsubscribed before the failure
    assert auth.events is hub


async def test_a_token_read_from_the_store_is_an_event_too(
    make_auth: Callable[..., ClientCredentialsAuth],
) -> None:
    store = MemoryTokenStore()
    events_one, events_two = Events(), Events()
    one_seen: list[AuthEvent] = []
    two_seen: list[AuthEvent] = []
    events_one.subscribe(one_seen.append)
    events_two.subscribe(two_seen.append)
    one = make_auth(store=store, events=events_one)
    two = make_auth(store=store, events=events_two)
    await one.get_access_token()
    await two.get_access_token()
    assert [type(e) for e in one_seen] == [SignedIn] == [type(e) for e in two_seen]
    one.invalidate()
    two.invalidate()
    token = await two.get_access_token()  # from the store: the token is still good
    assert token == await one.get_access_token()
    assert isinstance(two_seen[-1], TokensRefreshed) and two_seen[-1].from_store
