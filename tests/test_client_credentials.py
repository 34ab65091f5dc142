"""ClientCredentialsAuth against the local Cognito's OAuth2 domain and a bearer-checked test API.

Async tests run on asyncio and trio with the API served by hypercorn on the same
backend; the blocking tests use ``httpx.Client`` from threads with no event loop.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx
import pytest

from acognito.auth import ClientCredentialsAuth
from acognito.errors import (
    CognitoConnectionError,
    ConfigurationError,
    InvalidClientOAuthError,
    InvalidScopeOAuthError,
    OAuthError,
)
from acognito.testing import LocalCognito
from asgi_helpers import BearerTestApi, ThreadedAsgiServer, serve_asgi
from auth_test_servers import CannedServer, HeaderRecorder, SilentServer
from oauth_domain import DomainClient, LocalDomain

pytestmark = pytest.mark.anyio

TOKEN = "/oauth2/token"
GRANTS = "token:client_credentials"


class FakeClock:
    """A monotonic clock the test moves by hand (the token endpoint stays real)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server(cognito_local: LocalCognito) -> Iterator[LocalDomain]:
    with LocalDomain(cognito_local) as srv:
        yield srv


@pytest.fixture
def m2m(server: LocalDomain) -> DomainClient:
    return server.add_client(scopes={"api/read", "api/write"}, grants={"client_credentials"})


@pytest.fixture
def api(server: LocalDomain) -> BearerTestApi:
    return BearerTestApi(server)


@pytest.fixture
async def api_url(api: BearerTestApi) -> AsyncIterator[str]:
    async with serve_asgi(api) as url:
        yield url


@pytest.fixture
def make_auth(
    server: LocalDomain, m2m: DomainClient
) -> Iterator[Callable[..., ClientCredentialsAuth]]:
    made: list[ClientCredentialsAuth] = []

    def make(**kwargs: object) -> ClientCredentialsAuth:
        assert m2m.client_secret
        kwargs.setdefault("scopes", ["api/read"])
        auth = ClientCredentialsAuth(server.url, m2m.client_id, m2m.client_secret, **kwargs)  # type: ignore[arg-type]
        made.append(auth)
        return auth

    yield make
    for auth in made:
        auth.close()


@pytest.fixture
async def auth(
    make_auth: Callable[..., ClientCredentialsAuth],
) -> AsyncIterator[ClientCredentialsAuth]:
    auth = make_auth()
    yield auth
    await auth.aclose()


async def gather(n: int, fn: Callable[[int], object]) -> list[object]:
    """Run ``fn(i)`` for i in range(n) concurrently; return each result or exception."""
    results: list[object] = [None] * n

    async def one(i: int) -> None:
        try:
            results[i] = await fn(i)  # type: ignore[misc]
        except Exception as exc:
            results[i] = exc

    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    return results


def _refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# --------------------------------------------------------------------------- caching


async def test_attaches_a_cached_token(
    auth: ClientCredentialsAuth,
    api: BearerTestApi,
    api_url: str,
    server: LocalDomain,
    m2m: DomainClient,
) -> None:
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        for _ in range(5):
            response = await http.get("/things")
            assert response.status_code == 200
    body = response.json()
    assert body["client_id"] == m2m.client_id
    assert body["scope"] == "api/read"
    assert server.counts[GRANTS] == 1
    assert len(api.tokens_seen) == 1
    assert api.requests == 5


async def test_200_concurrent_requests_make_one_token_request(
    auth: ClientCredentialsAuth, api: BearerTestApi, api_url: str, server: LocalDomain
) -> None:
    server.delays[TOKEN] = 0.2  # every request arrives while the token is being fetched
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        results = await gather(200, lambda i: http.get(f"/item/{i}"))
    statuses = [r.status_code for r in results if isinstance(r, httpx.Response)]
    assert statuses == [200] * 200
    assert server.counts[TOKEN] == 1
    assert len(api.tokens_seen) == 1


async def test_refetches_only_near_expiry(
    make_auth: Callable[..., ClientCredentialsAuth],
    api: BearerTestApi,
    api_url: str,
    server: LocalDomain,
) -> None:
    clock = FakeClock()
    auth = make_auth(clock=clock)
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        await http.get("/a")
        first = await auth.get_access_token()
        clock.now += 3600 - 300 - 1  # 1 h token, 5 min margin: still fresh
        await http.get("/b")
        assert server.counts[GRANTS] == 1
        clock.now += 1
        response = await http.get("/c")
        assert response.status_code == 200
        assert server.counts[GRANTS] == 2
        assert await auth.get_access_token() != first
    assert len(api.tokens_seen) == 2
    await auth.aclose()


async def test_short_tokens_use_a_fraction_of_their_lifetime(
    make_auth: Callable[..., ClientCredentialsAuth],
    server: LocalDomain,
    m2m: DomainClient,
) -> None:
    server.set_lifetime(m2m, 100)  # margin becomes 25 s, not 300 s
    clock = FakeClock()
    auth = make_auth(clock=clock)
    await auth.get_access_token()
    clock.now += 74
    await auth.get_access_token()
    assert server.counts[GRANTS] == 1
    clock.now += 1
    await auth.get_access_token()
    assert server.counts[GRANTS] == 2
    await auth.aclose()


async def test_invalidate_forces_a_new_token(
    auth: ClientCredentialsAuth, server: LocalDomain
) -> None:
    first = await auth.get_access_token()
    assert await auth.get_access_token() == first
    auth.invalidate()
    assert await auth.get_access_token() != first
    assert server.counts[GRANTS] == 2


# --------------------------------------------------------------------------- failures


async def test_failed_fetch_reaches_every_waiter_and_holds_no_lock(
    auth: ClientCredentialsAuth, api: BearerTestApi, api_url: str, server: LocalDomain
) -> None:
    server.delays[TOKEN] = 0.2
    server.fail_next(TOKEN, 400, "invalid_client")
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        results = await gather(50, lambda i: http.get(f"/item/{i}"))
        assert all(isinstance(r, InvalidClientOAuthError) for r in results), results[:3]
        assert server.counts[TOKEN] == 1
        assert api.requests == 0
        server.delays[TOKEN] = 0.0
        assert (await http.get("/again")).status_code == 200
    assert server.counts[TOKEN] == 2


async def test_server_error_is_typed_with_status(
    auth: ClientCredentialsAuth, api_url: str, server: LocalDomain
) -> None:
    server.fail_next(TOKEN, 500)
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        with pytest.raises(OAuthError) as info:
            await http.get("/x")
        assert info.value.status_code == 500
        assert (await http.get("/x")).status_code == 200


async def test_scope_not_allowed_is_invalid_scope(
    make_auth: Callable[..., ClientCredentialsAuth], api_url: str
) -> None:
    auth = make_auth(scopes=["api/admin"])
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        with pytest.raises(InvalidScopeOAuthError):
            await http.get("/x")
    await auth.aclose()


async def test_token_endpoint_down_is_a_connection_error(
    api: BearerTestApi, api_url: str, m2m: DomainClient
) -> None:
    assert m2m.client_secret
    auth = ClientCredentialsAuth(_refused_url(), m2m.client_id, m2m.client_secret)
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        with pytest.raises(CognitoConnectionError):
            await http.get("/x")
    assert api.requests == 0
    await auth.aclose()


async def test_slow_token_endpoint_times_out(
    make_auth: Callable[..., ClientCredentialsAuth], api_url: str, server: LocalDomain
) -> None:
    server.delays[TOKEN] = 1.0
    auth = make_auth(timeout=0.2)
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        with anyio.fail_after(5):
            results = await gather(5, lambda i: http.get("/x"))
    assert all(isinstance(r, CognitoConnectionError) for r in results), results
    assert server.counts[TOKEN] == 1
    await auth.aclose()


async def test_cancelling_the_fetching_task_does_not_poison_waiters(
    auth: ClientCredentialsAuth, api_url: str, server: LocalDomain
) -> None:
    server.delays[TOKEN] = 0.3
    outcomes: list[object] = []
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        leader_scope = anyio.CancelScope()

        async def leader() -> None:
            with leader_scope:
                await http.get("/leader")
            outcomes.append("leader cancelled" if leader_scope.cancelled_caught else "leader ran")

        async def waiter(i: int) -> None:
            outcomes.append((await http.get(f"/w/{i}")).status_code)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(leader)
                # noqa below: a counter in the server process, read bounded by fail_after
                while await anyio.to_thread.run_sync(lambda: server.counts[TOKEN]) < 1:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
                for i in range(10):
                    tg.start_soon(waiter, i)
                await anyio.sleep(0.05)  # the waiters are parked on the leader's flight
                leader_scope.cancel()
    assert outcomes.count("leader cancelled") == 1
    assert outcomes.count(200) == 10
    # The abandoned fetch and exactly one new one: the waiters did not each fetch.
    assert server.counts[TOKEN] == 2


# --------------------------------------------------------------------------- 401 handling


async def test_401_after_a_fresh_token_retries_exactly_once(
    auth: ClientCredentialsAuth, api: BearerTestApi, api_url: str, server: LocalDomain
) -> None:
    api.reject_all = True
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        response = await http.get("/x")
    assert response.status_code == 401
    assert api.requests == 2  # the request and one retry, not a loop
    assert server.counts[GRANTS] == 2  # the first token and one refresh
    assert len(api.tokens_seen) == 2


async def test_a_burst_of_401s_costs_one_refresh(
    auth: ClientCredentialsAuth, api: BearerTestApi, api_url: str, server: LocalDomain
) -> None:
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        await http.get("/warm")  # token cached
        api.reject_all = True
        results = await gather(20, lambda i: http.get(f"/x/{i}"))
    assert [r.status_code for r in results if isinstance(r, httpx.Response)] == [401] * 20
    assert api.requests == 1 + 40
    assert server.counts[GRANTS] == 2


async def test_401_then_accepted_replays_the_body(
    auth: ClientCredentialsAuth, api: BearerTestApi, api_url: str, server: LocalDomain
) -> None:
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        api.reject_next = 1
        response = await http.post("/echo", json={"order": 42})
    assert response.status_code == 200
    assert json.loads(response.json()["body"]) == {"order": 42}
    assert api.requests == 2
    assert server.counts[GRANTS] == 2
    assert len(response.history) == 1
    assert response.history[0].status_code == 401


async def test_streamed_body_is_not_replayed(
    auth: ClientCredentialsAuth, api: BearerTestApi, api_url: str, server: LocalDomain
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"part-1;"
        yield b"part-2"

    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        api.reject_next = 1
        response = await http.post("/upload", content=chunks())
    assert response.status_code == 401
    assert api.requests == 1
    assert server.counts[GRANTS] == 1


# --------------------------------------------------------------------------- hygiene


async def test_repr_shows_no_secret_or_token(
    auth: ClientCredentialsAuth, m2m: DomainClient
) -> None:
    token = await auth.get_access_token()
    assert m2m.client_secret
    for text in (repr(auth), str(auth), repr(auth._cache._current)):
        assert m2m.client_secret not in text
        assert token not in text
    assert m2m.client_id in repr(auth)
    assert auth.scopes == ("api/read",)


def test_configuration_is_checked_up_front(server: LocalDomain) -> None:
    with pytest.raises(ConfigurationError):
        ClientCredentialsAuth(server.url, "cid", "")
    with pytest.raises(ConfigurationError):
        ClientCredentialsAuth(server.url, "cid", "secret", scopes=["bad scope"])
    with pytest.raises(ConfigurationError):
        ClientCredentialsAuth("http://example.com", "cid", "secret")
    with pytest.raises(ConfigurationError):
        ClientCredentialsAuth(server.url, "cid", "secret", refresh_margin=-1)


# --------------------------------------------------------------------------- blocking clients


@pytest.fixture
def threaded_api(api: BearerTestApi) -> Iterator[str]:
    with ThreadedAsgiServer(api) as running:
        yield running.url


def test_sync_threads_share_one_token_request(
    make_auth: Callable[..., ClientCredentialsAuth],
    api: BearerTestApi,
    threaded_api: str,
    server: LocalDomain,
) -> None:
    server.delays[TOKEN] = 0.2
    auth = make_auth()
    with httpx.Client(auth=auth, base_url=threaded_api) as http:

        def work(i: int) -> list[int]:
            return [http.get(f"/t/{i}/{k}").status_code for k in range(5)]

        with ThreadPoolExecutor(16) as pool:
            statuses = [s for batch in pool.map(work, range(16)) for s in batch]
    assert statuses == [200] * 80
    assert server.counts[TOKEN] == 1
    assert len(api.tokens_seen) == 1


def test_sync_failure_reaches_every_thread_then_recovers(
    make_auth: Callable[..., ClientCredentialsAuth],
    threaded_api: str,
    server: LocalDomain,
) -> None:
    server.delays[TOKEN] = 0.2
    server.fail_next(TOKEN, 400, "invalid_client")
    auth = make_auth()
    with httpx.Client(auth=auth, base_url=threaded_api) as http:

        def work(i: int) -> object:
            try:
                return http.get(f"/t/{i}").status_code
            except Exception as exc:
                return exc

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(work, range(8)))
        assert all(isinstance(r, InvalidClientOAuthError) for r in results), results
        assert server.counts[TOKEN] == 1
        server.delays[TOKEN] = 0.0
        assert http.get("/after").status_code == 200
    assert server.counts[TOKEN] == 2


def test_sync_401_retries_once(
    make_auth: Callable[..., ClientCredentialsAuth],
    api: BearerTestApi,
    threaded_api: str,
    server: LocalDomain,
) -> None:
    api.reject_all = True
    auth = make_auth()
    with httpx.Client(auth=auth, base_url=threaded_api) as http:
        assert http.get("/x").status_code == 401
    assert api.requests == 2
    assert server.counts[GRANTS] == 2


def test_sync_token_endpoint_down(m2m: DomainClient, threaded_api: str) -> None:
    assert m2m.client_secret
    with (
        ClientCredentialsAuth(_refused_url(), m2m.client_id, m2m.client_secret) as auth,
        httpx.Client(auth=auth, base_url=threaded_api) as http,
        pytest.raises(CognitoConnectionError),
    ):
        http.get("/x")


# --------------------------------------------------------------------------- hardening


@pytest.fixture
def hosts() -> Iterator[tuple[HeaderRecorder, HeaderRecorder]]:
    """Two recording servers: two origins (same host, different ports)."""
    with HeaderRecorder() as first, HeaderRecorder() as second:
        yield first, second


def _redirects(first: HeaderRecorder, second: HeaderRecorder) -> tuple[str, str]:
    cross = f"{first.url}/redirect?to={second.url}/landing"
    same = f"{first.url}/redirect?to={first.url}/landing"
    return cross, same


async def test_custom_header_never_follows_a_redirect_to_another_origin(
    make_auth: Callable[..., ClientCredentialsAuth],
    hosts: tuple[HeaderRecorder, HeaderRecorder],
) -> None:
    first, second = hosts
    auth = make_auth(http_header="X-Api-Token", http_header_prefix="")
    cross, same = _redirects(first, second)
    async with httpx.AsyncClient(auth=auth, follow_redirects=True) as http:
        with anyio.fail_after(10):
            assert (await http.get(cross)).status_code == 200
            assert (await http.get(same)).status_code == 200
    token = first.seen["/redirect"][0]["x-api-token"]
    assert token
    assert "x-api-token" not in second.seen["/landing"][0]
    assert first.seen["/landing"][0]["x-api-token"] == token  # same origin: kept
    await auth.aclose()


def test_sync_custom_header_never_follows_a_redirect_to_another_origin(
    make_auth: Callable[..., ClientCredentialsAuth],
    hosts: tuple[HeaderRecorder, HeaderRecorder],
) -> None:
    first, second = hosts
    auth = make_auth(http_header="X-Api-Token")
    cross, same = _redirects(first, second)
    with httpx.Client(auth=auth, follow_redirects=True, timeout=10) as http:
        assert http.get(cross).status_code == 200
        assert http.get(same).status_code == 200
    assert first.seen["/redirect"][0]["x-api-token"].startswith("Bearer ")
    assert "x-api-token" not in second.seen["/landing"][0]
    assert first.seen["/landing"][0]["x-api-token"].startswith("Bearer ")


async def test_waiters_get_the_same_error_as_the_fetcher(
    auth: ClientCredentialsAuth, api_url: str, server: LocalDomain
) -> None:
    server.delays[TOKEN] = 0.2
    server.fail_next(TOKEN, 400, "invalid_client")
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        with anyio.fail_after(10):
            results = await gather(20, lambda i: http.get(f"/item/{i}"))
    assert server.counts[TOKEN] == 1
    assert {str(r) for r in results} == {"invalid_client: injected by the test"}, results[:3]
    assert all(
        type(r) is InvalidClientOAuthError
        and r.error == "invalid_client"
        and r.description == "injected by the test"
        and r.status_code == 400
        for r in results
    )


@pytest.mark.parametrize("margin", [float("nan"), float("inf"), -1, "300", None, True])
def test_refresh_margin_must_be_a_finite_number(
    server: LocalDomain, m2m: DomainClient, margin: object
) -> None:
    assert m2m.client_secret
    with pytest.raises(ConfigurationError, match="refresh_margin"):
        ClientCredentialsAuth(
            server.url,
            m2m.client_id,
            m2m.client_secret,
            refresh_margin=margin,  # type: ignore[arg-type]
        )


@pytest.fixture
def canned() -> Iterator[CannedServer]:
    with CannedServer() as running:
        yield running


BAD_ANSWERS = {
    "nested": b"[" * 100_000 + b"]" * 100_000,
    "nested object": b'{"access_token": "a", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "huge expires_in": b'{"access_token": "a", "expires_in": 1' + b"0" * 400 + b"}",
    "negative expires_in": b'{"access_token": "a", "expires_in": -5}',
    "NaN": b'{"access_token": "a", "expires_in": NaN}',
    "too large": b'{"access_token": "' + b"a" * (2 << 20) + b'"}',
}


@pytest.mark.parametrize("chunked", [False, True], ids=["sized", "chunked"])
@pytest.mark.parametrize("name", list(BAD_ANSWERS))
async def test_malformed_token_answers_are_typed(
    canned: CannedServer, name: str, chunked: bool
) -> None:
    canned.body, canned.chunked = BAD_ANSWERS[name], chunked
    auth = ClientCredentialsAuth(canned.url, "client", "secret")
    with anyio.fail_after(10), pytest.raises(OAuthError) as info:
        await auth.get_access_token()
    assert info.value.error == "invalid_response"
    await auth.aclose()


@pytest.mark.parametrize("name", list(BAD_ANSWERS))
def test_sync_malformed_token_answers_are_typed(canned: CannedServer, name: str) -> None:
    canned.body, canned.chunked = BAD_ANSWERS[name], True
    auth = ClientCredentialsAuth(canned.url, "client", "secret")
    with pytest.raises(OAuthError) as info:
        auth.get_access_token_sync()
    assert info.value.error == "invalid_response"
    auth.close()


async def test_an_error_answer_too_large_is_typed(canned: CannedServer) -> None:
    canned.status, canned.chunked = 400, True
    canned.body = b'{"error": "invalid_client", "error_description": "' + b"x" * (2 << 20) + b'"}'
    auth = ClientCredentialsAuth(canned.url, "client", "secret")
    with anyio.fail_after(10), pytest.raises(OAuthError, match="more than") as info:
        await auth.get_access_token()
    assert info.value.error == "invalid_response"
    await auth.aclose()


async def test_a_silent_token_endpoint_fails_in_seconds_naming_it() -> None:
    with SilentServer() as silent:
        auth = ClientCredentialsAuth(silent.url, "client", "secret", timeout=0.5)
        with anyio.fail_after(5), pytest.raises(CognitoConnectionError) as info:
            await auth.get_access_token()
        await auth.aclose()
    assert f"{silent.url}/oauth2/token" in str(info.value)
    assert "timed out" in str(info.value)
