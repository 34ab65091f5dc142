"""CognitoAuth (user tokens for httpx) against the shipped local Cognito and a real API.

The API is an ASGI test API that verifies every bearer token with CognitoVerifier (JWKS
from the local Cognito's URL, AWS-form issuer), served by hypercorn on the test's own
backend (asyncio or trio); the blocking tests serve it from a thread and call it with
``httpx.Client`` from several threads. One shifted wall clock is shared by the local
Cognito (token ``iat``/``exp``, through its test API), the API's verifier and the auth, so moving it
forward expires tokens for all three at once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session

from acognito import AsyncCognito, CognitoVerifier
from acognito.auth import CognitoAuth, TokenType
from acognito.errors import (
    CognitoConnectionError,
    ConfigurationError,
    NotAuthorizedError,
    SessionClosedError,
    TokenRefreshError,
)
from acognito.tokens import peek_claims
from asgi_helpers import ThreadedAsgiServer, serve_asgi
from auth_test_servers import (
    DelayingProxy,
    HeaderRecorder,
    ShiftedClock,
    SilentServer,
    VerifiedTestApi,
    refused_url,
)
from local_server import LocalClock, LocalServer

pytestmark = pytest.mark.anyio

REGION = "us-east-1"
USER = "alice"
PASSWORD = "Passw0rd!"
NO_RETRIES = AioConfig(retries={"total_max_attempts": 1})
HOUR = 3600.0
#: One aiobotocore session per backend for the whole module: clients are still made per
#: test (and per event loop), but the service model is parsed once (~0.2 s saved each).
_AIO_SESSIONS: dict[str, AioSession] = {}


def aio_session(backend: str = "asyncio") -> AioSession:
    return _AIO_SESSIONS.setdefault(backend, get_session())


# --------------------------------------------------------------------------- fixtures


class Env:
    """One pool with one user on the local Cognito, and what points at it."""

    def __init__(
        self,
        server: LocalServer,
        clock: ShiftedClock,
        backend: str = "asyncio",
        **client: Any,
    ) -> None:
        self.server = server
        self.clock = clock
        self.backend = backend
        self.pool_id = server.create_pool(region=REGION)
        self.client_id, self.secret = server.create_client(self.pool_id, **client)
        server.create_user(self.pool_id, USER, PASSWORD)

    def verifier(self, token_use: str = "access") -> CognitoVerifier:
        return CognitoVerifier(
            self.pool_id,
            client_id=self.client_id,
            token_use=token_use,  # type: ignore[arg-type]
            jwks_uri=self.server.jwks_url(self.pool_id),
            issuer=self.server.issuer_url(self.pool_id),
            clock=self.clock,
        )

    def session_options(self, endpoint_url: str | None = None, **extra: Any) -> dict[str, Any]:
        return {
            "user_pool_region": REGION,
            "endpoint_url": endpoint_url or self.server.endpoint_url,
            "access_key": "testing",
            "secret_key": "testing",
            "botocore_config": NO_RETRIES,
            "client_secret": self.secret,
            "session": aio_session(self.backend),
            # The session checks what it receives against the pool's keys given here;
            # the API fetches them from the JWKS URL.
            "jwks": self.server.jwks(self.pool_id),
            **extra,
        }

    def session(self, **extra: Any) -> AsyncCognito:
        return AsyncCognito(
            self.pool_id, self.client_id, username=USER, **self.session_options(**extra)
        )

    def from_password(self, endpoint_url: str | None = None, **kwargs: Any) -> CognitoAuth:
        kwargs.setdefault("clock", self.clock)
        options = self.session_options(endpoint_url)
        for key in list(kwargs):
            if key in ("botocore_config", "refresh_token_rotation"):
                options[key] = kwargs.pop(key)
        return CognitoAuth.from_password(
            self.pool_id, self.client_id, USER, PASSWORD, **options, **kwargs
        )

    def count(self, operation: str, what: str | None = None) -> int:
        """Requests of this client that reached the server: ``operation`` with this
        AuthFlow/ChallengeName (the server is shared by the module's tests)."""
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
        return self.count("InitiateAuth", "REFRESH_TOKEN_AUTH") + self.count(
            "GetTokensFromRefreshToken"
        )


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalServer]:
    """One local Cognito (a process) for the module."""
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def server(local_server: LocalServer) -> Iterator[LocalServer]:
    yield local_server
    assert local_server.internal_errors == []


@pytest.fixture
def clock(server: LocalServer) -> Iterator[ShiftedClock]:
    """The test's clock; the server's clock moves with it and is put back after."""
    shifted = LocalClock(server)
    yield shifted
    shifted.rewind()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The test's anyio backend; asyncio for blocking tests (their private loop's)."""
    if "anyio_backend" in request.fixturenames:
        return str(request.getfixturevalue("anyio_backend"))
    return "asyncio"


@pytest.fixture
def env(server: LocalServer, clock: ShiftedClock, backend: str) -> Env:
    return Env(server, clock, backend)


@pytest.fixture
def api(env: Env) -> VerifiedTestApi:
    return VerifiedTestApi(env.verifier())


@pytest.fixture
async def api_url(api: VerifiedTestApi) -> AsyncIterator[str]:
    async with serve_asgi(api) as url:
        yield url


@pytest.fixture
async def auth(env: Env) -> AsyncIterator[CognitoAuth]:
    auth = env.from_password()
    yield auth
    await auth.aclose()


@pytest.fixture
def proxy(server: LocalServer) -> Iterator[DelayingProxy]:
    with DelayingProxy(server.endpoint_url) as running:
        yield running


async def gather(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run ``fn(i)`` for i in range(n) concurrently; return each result or exception."""
    results: list[Any] = [None] * n

    async def one(i: int) -> None:
        try:
            results[i] = await fn(i)
        except Exception as exc:
            results[i] = exc

    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    return results


def statuses(results: list[Any]) -> list[Any]:
    return [r.status_code if isinstance(r, httpx.Response) else r for r in results]


# --------------------------------------------------------------------------- sign-in


async def test_first_requests_sign_in_once_with_srp(
    env: Env, auth: CognitoAuth, api: VerifiedTestApi, api_url: str
) -> None:
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        results = await gather(50, lambda i: http.get(f"/first/{i}"))
    assert statuses(results) == [200] * 50
    assert env.count("InitiateAuth", "USER_SRP_AUTH") == 1
    assert env.sign_ins == 1  # the server checked one SRP proof
    assert env.refreshes == 0
    assert len(api.tokens_seen) == 1
    assert api.rejected == 0
    assert {r.json()["username"] for r in results} == {USER}
    [token] = api.tokens_seen
    assert token == auth.cognito.access_token


async def test_password_flow_option(env: Env, api: VerifiedTestApi, api_url: str) -> None:
    auth = env.from_password(auth_flow="USER_PASSWORD_AUTH")
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        assert (await http.get("/x")).status_code == 200
    assert env.count("InitiateAuth", "USER_PASSWORD_AUTH") == 1
    assert env.sign_ins == 0
    await auth.aclose()


async def test_wrong_password_is_typed_and_reaches_no_api(
    env: Env, api: VerifiedTestApi, api_url: str
) -> None:
    auth = CognitoAuth.from_password(
        env.pool_id, env.client_id, USER, "wrong-password", **env.session_options()
    )
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        results = await gather(10, lambda i: http.get(f"/x/{i}"))
    assert all(isinstance(r, NotAuthorizedError) for r in results), results
    assert env.sign_ins == 1
    assert api.requests == 0
    await auth.aclose()


# --------------------------------------------------------------------------- expiry


async def test_refreshes_before_expiry_and_tokens_stay_valid(
    env: Env, auth: CognitoAuth, api: VerifiedTestApi, api_url: str, clock: ShiftedClock
) -> None:
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        assert (await http.get("/a")).status_code == 200
        first = await auth.get_token()
        clock.advance(HOUR - 300 - 5)  # one hour token, five minute margin: still fresh
        assert (await http.get("/b")).status_code == 200
        assert env.refreshes == 0
        clock.advance(10)  # now inside the margin
        assert (await http.get("/c")).status_code == 200
        assert env.refreshes == 1
        second = await auth.get_token()
        assert second != first
        assert peek_claims(second)["exp"] > peek_claims(first)["exp"]
        clock.advance(HOUR + 60)  # far beyond both expiries: verifier rejects `first` now
        assert (await http.get("/d")).status_code == 200
    assert env.refreshes == 2
    assert env.sign_ins == 1
    assert api.rejected == 0
    assert len(api.accepted) == 3


async def test_short_lived_tokens_use_a_quarter_of_their_lifetime(
    server: LocalServer, clock: ShiftedClock, backend: str
) -> None:
    env = Env(server, clock, backend, access_token_validity=300)  # margin min(300 s, 75 s)
    auth = env.from_password()
    await auth.get_token()
    clock.advance(300 - 75 - 2)
    await auth.get_token()
    assert env.refreshes == 0
    clock.advance(4)
    await auth.get_token()
    assert env.refreshes == 1
    await auth.aclose()


async def test_200_concurrent_requests_with_an_expired_token_make_one_refresh(
    env: Env,
    proxy: DelayingProxy,
    api: VerifiedTestApi,
    api_url: str,
    clock: ShiftedClock,
) -> None:
    auth = env.from_password(endpoint_url=proxy.url)
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        assert (await http.get("/warm")).status_code == 200
        old = await auth.get_token()
        clock.advance(HOUR + 1)  # expired for the auth, the API and the server alike
        proxy.delay = 0.2  # the refresh is slow: every request arrives while it runs
        results = await gather(250, lambda i: http.get(f"/item/{i}"))
    assert statuses(results) == [200] * 250
    assert env.refreshes == 1
    new = auth.cognito.access_token
    assert new is not None and new != old
    assert api.tokens_seen == {old: 1, new: 250}  # every request carried the new token
    assert api.rejected == 0
    await auth.aclose()


async def test_refresh_token_rotation_under_concurrency(
    server: LocalServer, clock: ShiftedClock, backend: str
) -> None:
    env = Env(server, clock, backend, refresh_token_rotation=True)
    auth = env.from_password(refresh_token_rotation=True)
    api = VerifiedTestApi(env.verifier())
    async with serve_asgi(api) as url, httpx.AsyncClient(auth=auth, base_url=url) as http:
        await http.get("/warm")
        first_refresh = auth.cognito.refresh_token
        clock.advance(HOUR)
        results = await gather(50, lambda i: http.get(f"/r/{i}"))
        assert statuses(results) == [200] * 50
        clock.advance(HOUR)
        assert (await http.get("/again")).status_code == 200
    assert env.count("GetTokensFromRefreshToken") == 2
    assert auth.cognito.refresh_token != first_refresh
    assert server.refresh_token_status(first_refresh or "") == "rotated"
    assert api.rejected == 0
    await auth.aclose()


# --------------------------------------------------------------------------- a session you own


async def test_auth_from_a_signed_in_session(
    env: Env, api: VerifiedTestApi, api_url: str, clock: ShiftedClock
) -> None:
    async with env.session() as cognito:
        await cognito.authenticate(PASSWORD)
        auth = CognitoAuth(cognito, clock=clock)
        async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
            assert (await http.get("/a")).status_code == 200
            assert api.tokens_seen == {cognito.access_token: 1}
            clock.advance(HOUR)
            results = await gather(20, lambda i: http.get(f"/b/{i}"))
        assert statuses(results) == [200] * 20
        assert env.sign_ins == 1
        assert env.refreshes == 1
        # The auth renewed the session's own tokens: both hold the same, new token.
        assert api.tokens_seen[cognito.access_token] == 20
        await auth.aclose()
        assert not cognito.closed  # the caller's session stays open
        assert cognito.access_token  # and usable


async def test_a_session_renewed_elsewhere_is_picked_up_without_another_refresh(
    env: Env, api: VerifiedTestApi, api_url: str, clock: ShiftedClock
) -> None:
    async with env.session() as cognito:
        await cognito.authenticate(PASSWORD)
        auth = CognitoAuth(cognito, clock=clock)
        async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
            await http.get("/a")
            clock.advance(HOUR - 10)
            await cognito.renew_access_token()  # the application renewed it itself
            assert (await http.get("/b")).status_code == 200
        assert env.refreshes == 1
        assert api.tokens_seen[cognito.access_token] == 1


async def test_a_session_without_tokens_is_a_configuration_error(
    env: Env, api: VerifiedTestApi, api_url: str
) -> None:
    async with env.session() as cognito:
        auth = CognitoAuth(cognito)
        async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
            with pytest.raises(ConfigurationError, match="sign in"):
                await http.get("/x")
    assert api.requests == 0


async def test_a_session_with_an_access_token_only_cannot_renew(
    env: Env, api: VerifiedTestApi, api_url: str, clock: ShiftedClock
) -> None:
    async with env.session() as signed_in:
        await signed_in.authenticate(PASSWORD)
        async with env.session(access_token=signed_in.access_token) as cognito:
            auth = CognitoAuth(cognito, clock=clock)
            async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
                assert (await http.get("/a")).status_code == 200
                clock.advance(HOUR)
                with pytest.raises(TokenRefreshError):
                    await http.get("/b")
    assert api.requests == 1


# --------------------------------------------------------------------------- failures


async def _revoke(env: Env, refresh_token: str | None) -> None:
    async with env.session(refresh_token=refresh_token) as other:
        await other.revoke_token()
    assert env.server.refresh_token_status(refresh_token or "") == "revoked"


async def test_revoked_refresh_token_reaches_every_waiter_once(
    env: Env, api: VerifiedTestApi, api_url: str, clock: ShiftedClock, proxy: DelayingProxy
) -> None:
    async with env.session(endpoint_url=proxy.url) as cognito:
        await cognito.authenticate(PASSWORD)
        await _revoke(env, cognito.refresh_token)
        auth = CognitoAuth(cognito, clock=clock)
        clock.advance(HOUR)
        proxy.delay = 0.1
        async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
            results = await gather(50, lambda i: http.get(f"/x/{i}"))
            assert all(isinstance(r, NotAuthorizedError) for r in results), results[:3]
            assert env.refreshes == 1  # one refresh, its failure shared, no retry loop
            assert api.requests == 0
            # Nothing stays locked: the next request tries again (and fails again).
            with pytest.raises(NotAuthorizedError):
                await http.get("/again")
        assert env.refreshes == 2


async def test_revoked_refresh_token_with_a_password_signs_in_again(
    env: Env, auth: CognitoAuth, api: VerifiedTestApi, api_url: str, clock: ShiftedClock
) -> None:
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        await http.get("/a")
        await _revoke(env, auth.cognito.refresh_token)
        clock.advance(HOUR)
        results = await gather(20, lambda i: http.get(f"/b/{i}"))
    assert statuses(results) == [200] * 20
    assert env.refreshes == 1
    assert env.sign_ins == 2
    assert api.rejected == 0


async def test_refresh_and_sign_in_both_rejected_fail_once(
    env: Env, auth: CognitoAuth, api: VerifiedTestApi, api_url: str, clock: ShiftedClock
) -> None:
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        await http.get("/a")
        env.server.update_user(env.pool_id, USER, enabled=False)
        clock.advance(HOUR)
        results = await gather(20, lambda i: http.get(f"/b/{i}"))
    assert all(isinstance(r, NotAuthorizedError) for r in results), results[:3]
    assert env.refreshes == 1
    assert env.count("InitiateAuth", "USER_SRP_AUTH") == 2  # first sign-in + one retry
    assert api.requests == 1


async def test_cognito_down_is_a_connection_error(
    env: Env, api: VerifiedTestApi, api_url: str
) -> None:
    auth = env.from_password(endpoint_url=refused_url())
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        with anyio.fail_after(10):
            results = await gather(10, lambda i: http.get(f"/x/{i}"))
    assert all(isinstance(r, CognitoConnectionError) for r in results), results[:3]
    assert api.requests == 0
    await auth.aclose()


async def test_slow_cognito_times_out(env: Env, api: VerifiedTestApi, api_url: str) -> None:
    config = AioConfig(read_timeout=0.3, connect_timeout=0.3, retries={"total_max_attempts": 1})
    with SilentServer() as silent:
        auth = env.from_password(endpoint_url=silent.url, botocore_config=config)
        async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
            with anyio.fail_after(10):
                results = await gather(10, lambda i: http.get(f"/x/{i}"))
        await auth.aclose()
    assert all(isinstance(r, CognitoConnectionError) for r in results), results[:3]
    assert silent.accepted == 1  # one sign-in attempt for all ten requests
    assert api.requests == 0


# --------------------------------------------------------------------------- 401 handling


async def test_401_after_a_fresh_token_retries_exactly_once(
    env: Env, auth: CognitoAuth, api: VerifiedTestApi, api_url: str
) -> None:
    api.reject_all = True
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        response = await http.get("/x")
    assert response.status_code == 401
    assert api.requests == 2  # the request and one retry, not a loop
    assert env.sign_ins == 1
    assert env.refreshes == 1
    assert len(api.accepted) == 2  # both tokens were valid; the API refused them anyway


async def test_a_burst_of_401s_costs_one_refresh(
    env: Env, auth: CognitoAuth, api: VerifiedTestApi, api_url: str
) -> None:
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        await http.get("/warm")
        api.reject_all = True
        results = await gather(30, lambda i: http.get(f"/x/{i}"))
    assert statuses(results) == [401] * 30
    assert api.requests == 1 + 60
    assert env.refreshes == 1


async def test_401_then_accepted_replays_the_body_with_the_new_token(
    env: Env, auth: CognitoAuth, api: VerifiedTestApi, api_url: str
) -> None:
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        await http.get("/warm")
        old = await auth.get_token()
        api.reject_next = 1
        response = await http.post("/echo", json={"order": 42})
    assert response.status_code == 200
    assert json.loads(response.json()["body"]) == {"order": 42}
    assert [r.status_code for r in response.history] == [401]
    assert env.refreshes == 1
    new = await auth.get_token()
    assert new != old
    assert api.tokens_seen == {old: 2, new: 1}


# --------------------------------------------------------------------------- cancellation


async def test_cancelling_the_refreshing_task_does_not_poison_the_others(
    env: Env,
    proxy: DelayingProxy,
    api: VerifiedTestApi,
    api_url: str,
    clock: ShiftedClock,
) -> None:
    auth = env.from_password(endpoint_url=proxy.url)
    outcomes: list[Any] = []
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        await http.get("/warm")
        clock.advance(HOUR)
        release = proxy.hold()
        leader_scope = anyio.CancelScope()
        mark = len(env.server.requests)

        async def leader() -> None:
            with leader_scope:
                await http.get("/leader")
            outcomes.append("cancelled" if leader_scope.cancelled_caught else "ran")

        async def waiter(i: int) -> None:
            outcomes.append((await http.get(f"/w/{i}")).status_code)

        try:
            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(leader)
                    # The leader's refresh is on the wire, held there by the proxy.
                    assert await anyio.to_thread.run_sync(proxy.held.wait, 5)
                    assert len(env.server.requests) == mark  # not answered yet
                    for i in range(10):
                        tg.start_soon(waiter, i)
                    await anyio.sleep(0.05)  # the waiters are parked on the leader's flight
                    leader_scope.cancel()
                    await anyio.sleep(0.05)
                    release.set()  # only now can the refresh finish
        finally:
            release.set()
    assert outcomes.count("cancelled") == 1
    assert outcomes.count(200) == 10
    # The session's refresh is shielded: it finished, and the waiters used its tokens.
    assert env.refreshes == 1
    assert api.rejected == 0
    await auth.aclose()


async def test_cancelling_the_first_sign_in_lets_a_waiter_sign_in(
    env: Env, proxy: DelayingProxy, api: VerifiedTestApi, api_url: str
) -> None:
    auth = env.from_password(endpoint_url=proxy.url)
    release = proxy.hold()
    outcomes: list[Any] = []
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        leader_scope = anyio.CancelScope()

        async def leader() -> None:
            with leader_scope:
                await http.get("/leader")
            outcomes.append("cancelled" if leader_scope.cancelled_caught else "ran")

        async def waiter(i: int) -> None:
            outcomes.append((await http.get(f"/w/{i}")).status_code)

        try:
            with anyio.fail_after(15):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(leader)
                    # The leader's first sign-in request is on the wire, held by the proxy.
                    assert await anyio.to_thread.run_sync(proxy.held.wait, 5)
                    for i in range(5):
                        tg.start_soon(waiter, i)
                    await anyio.sleep(0.05)
                    leader_scope.cancel()
                    await anyio.sleep(0.05)
                    release.set()
        finally:
            release.set()
    assert outcomes.count("cancelled") == 1
    assert outcomes.count(200) == 5
    assert env.sign_ins == 1  # the abandoned exchange never got to its proof
    await auth.aclose()


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize("token_type", ["id_token", TokenType.ID_TOKEN])
async def test_id_token_option(
    env: Env, clock: ShiftedClock, token_type: str, anyio_backend: str
) -> None:
    api = VerifiedTestApi(env.verifier("id"))
    auth = env.from_password(auth_token_type=token_type)
    async with serve_asgi(api) as url, httpx.AsyncClient(auth=auth, base_url=url) as http:
        response = await http.get("/me")
        assert response.status_code == 200
        assert response.json()["token_use"] == "id"
        clock.advance(HOUR)
        assert (await http.get("/me")).status_code == 200
    assert auth.cognito.id_token in api.accepted
    assert len(api.accepted) == 2
    assert env.refreshes == 1
    assert auth.auth_token_type is TokenType.ID_TOKEN
    await auth.aclose()


async def test_custom_header_and_prefix(env: Env, anyio_backend: str) -> None:
    api = VerifiedTestApi(env.verifier(), header="X-Api-Token", prefix="")
    auth = env.from_password(http_header="X-Api-Token", http_header_prefix="")
    async with serve_asgi(api) as url, httpx.AsyncClient(auth=auth, base_url=url) as http:
        response = await http.get("/x")
        assert response.status_code == 200
        assert "authorization" not in response.request.headers
        # The transport wrote it into what it sent (tests/test_auth_origin_guard.py).
        assert "x-api-token" not in response.request.headers
    assert api.tokens_seen == {auth.cognito.access_token: 1}
    await auth.aclose()


@pytest.fixture
def hosts() -> Iterator[tuple[HeaderRecorder, HeaderRecorder]]:
    """Two recording servers: two origins (same host, different ports)."""
    with HeaderRecorder() as first, HeaderRecorder() as second:
        yield first, second


async def test_custom_header_never_follows_a_redirect_to_another_origin(
    env: Env, anyio_backend: str, hosts: tuple[HeaderRecorder, HeaderRecorder]
) -> None:
    first, second = hosts
    auth = env.from_password(http_header="X-Api-Token")
    cross = f"{first.url}/redirect?to={second.url}/landing"
    same = f"{first.url}/redirect?to={first.url}/landing"
    async with httpx.AsyncClient(auth=auth, follow_redirects=True) as http:
        with anyio.fail_after(20):
            assert (await http.get(cross)).status_code == 200
            assert (await http.get(same)).status_code == 200
    sent = "Bearer " + auth.cognito.access_token  # type: ignore[operator]
    assert first.seen["/redirect"][0]["x-api-token"] == sent
    assert "x-api-token" not in second.seen["/landing"][0]
    assert first.seen["/landing"][0]["x-api-token"] == sent  # same origin: kept
    await auth.aclose()


def test_sync_custom_header_never_follows_a_redirect_to_another_origin(
    env: Env, hosts: tuple[HeaderRecorder, HeaderRecorder]
) -> None:
    first, second = hosts
    auth = env.from_password(http_header="X-Api-Token", http_header_prefix="")
    cross = f"{first.url}/redirect?to={second.url}/landing"
    with auth, httpx.Client(auth=auth, follow_redirects=True, timeout=20) as http:
        assert http.get(cross).status_code == 200
        sent = auth.get_token_sync()
    assert first.seen["/redirect"][0]["x-api-token"] == sent
    assert "x-api-token" not in second.seen["/landing"][0]


async def test_pycognito_style_prefix(env: Env, anyio_backend: str) -> None:
    api = VerifiedTestApi(env.verifier(), prefix="JWT ")
    auth = env.from_password(http_header_prefix="JWT ")
    async with serve_asgi(api) as url, httpx.AsyncClient(auth=auth, base_url=url) as http:
        assert (await http.get("/x")).status_code == 200
    await auth.aclose()


async def test_invalidate_forces_a_refresh(env: Env, auth: CognitoAuth) -> None:
    first = await auth.get_token()
    assert await auth.get_token() == first
    auth.invalidate()
    assert await auth.get_token() != first
    assert env.refreshes == 1


# --------------------------------------------------------------------------- lifecycle, hygiene


async def test_repr_shows_no_token_password_or_secret(server: LocalServer, backend: str) -> None:
    env = Env(server, ShiftedClock(), backend, secret=True)
    assert env.secret
    auth = env.from_password()
    token = await auth.get_token()
    refresh = auth.cognito.refresh_token
    assert refresh
    for text in (repr(auth), str(auth), repr(auth._cache._current)):
        for secret in (token, refresh, PASSWORD, env.secret):
            assert secret not in text
    assert env.client_id in repr(auth)
    assert "password='***'" in repr(auth)
    await auth.aclose()


async def test_aclose_releases_an_owned_session(env: Env, api_url: str) -> None:
    auth = env.from_password()
    async with httpx.AsyncClient(auth=auth, base_url=api_url) as http:
        assert (await http.get("/x")).status_code == 200
        await auth.aclose()
        assert auth.cognito.closed
        with pytest.raises(SessionClosedError):
            await http.get("/y")
    await auth.aclose()  # idempotent


async def test_used_from_another_event_loop_is_refused(env: Env, anyio_backend: str) -> None:
    auth = env.from_password()
    await auth.get_token()

    def elsewhere() -> None:
        async def main() -> None:
            await auth.get_token()

        anyio.run(main, backend=anyio_backend)

    with pytest.raises(ConfigurationError, match="another event loop"):
        await anyio.to_thread.run_sync(elsewhere)
    with pytest.raises(ConfigurationError, match="AsyncClient"):
        await anyio.to_thread.run_sync(auth.get_token_sync)
    await auth.aclose()


def test_configuration_is_checked_up_front(server: LocalServer) -> None:
    env = Env(server, ShiftedClock())
    good = env.session_options()
    cases: list[dict[str, Any]] = [
        {"auth_token_type": "refresh_token"},
        {"http_header": "Bad Header"},
        {"http_header": ""},
        {"http_header_prefix": "Bearer\r\nX: y"},
        {"refresh_margin": -1},
        {"refresh_margin": float("nan")},
        {"refresh_margin": "300"},
        {"auth_flow": "CUSTOM_AUTH"},
    ]
    for bad in cases:
        with pytest.raises(ConfigurationError):
            CognitoAuth.from_password(env.pool_id, env.client_id, USER, PASSWORD, **good, **bad)
    with pytest.raises(ConfigurationError):
        CognitoAuth.from_password(env.pool_id, env.client_id, USER, "", **good)
    with pytest.raises(ConfigurationError):
        CognitoAuth.from_password("not-a-pool", env.client_id, USER, PASSWORD, **good)
    with pytest.raises(ConfigurationError):
        CognitoAuth("not a session")  # type: ignore[arg-type]


def test_an_auth_from_your_own_session_refuses_a_blocking_client(env: Env) -> None:
    auth = CognitoAuth(env.session())
    with (
        httpx.Client(auth=auth) as http,
        pytest.raises(ConfigurationError, match="from_password"),
    ):
        http.get("http://127.0.0.1:9/never-sent")
    auth.close()


# --------------------------------------------------------------------------- blocking clients


@pytest.fixture
def threaded_api(api: VerifiedTestApi) -> Iterator[str]:
    with ThreadedAsgiServer(api) as running:
        yield running.url


def test_sync_threads_sign_in_once_and_refresh_once(
    env: Env, api: VerifiedTestApi, threaded_api: str, clock: ShiftedClock
) -> None:
    with (
        env.from_password() as auth,
        httpx.Client(auth=auth, base_url=threaded_api) as http,
    ):

        def work(i: int) -> list[int]:
            return [http.get(f"/t/{i}/{k}").status_code for k in range(5)]

        with ThreadPoolExecutor(16) as pool:
            first = [s for batch in pool.map(work, range(16)) for s in batch]
        assert first == [200] * 80
        assert env.sign_ins == 1
        clock.advance(HOUR)
        with ThreadPoolExecutor(16) as pool:
            second = [s for batch in pool.map(work, range(16)) for s in batch]
        assert second == [200] * 80
        assert env.refreshes == 1
        assert auth.get_token_sync() == auth.cognito.access_token
        assert "mode='sync'" in repr(auth)
        assert auth._portal is not None
        loop_thread = auth._portal.portal.call(threading.current_thread)
        assert loop_thread is auth._portal.thread
        assert loop_thread.daemon
    assert api.rejected == 0
    assert sorted(api.tokens_seen.values()) == [80, 80]
    assert auth.cognito.closed
    assert not loop_thread.is_alive()  # close() stopped the private event loop's thread


FORGETFUL_SCRIPT = """
import sys
sys.path[:0] = {paths!r}
import httpx
from local_server import LocalClock, LocalServer
from acognito.auth import CognitoAuth

server = LocalServer().__enter__()
pool = server.create_pool()
client_id, _ = server.create_client(pool)
server.create_user(pool, "ann", "Passw0rd!")
auth = CognitoAuth.from_password(
    pool, client_id, "ann", "Passw0rd!", endpoint_url=server.endpoint_url,
    user_pool_region="us-east-1", access_key="testing", secret_key="testing",
)
print(auth.get_token_sync().count("."), flush=True)
server.__exit__(None, None, None)
# No auth.close(): the program must still exit, its private event loop thread or not.
"""


def test_a_program_that_forgets_close_still_exits(tmp_path: Any) -> None:
    script = tmp_path / "forgetful.py"
    script.write_text(FORGETFUL_SCRIPT.format(paths=sys.path))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "2"  # a JWT was fetched on the private loop


def test_sync_401_retries_once(env: Env, api: VerifiedTestApi, threaded_api: str) -> None:
    api.reject_all = True
    with (
        env.from_password() as auth,
        httpx.Client(auth=auth, base_url=threaded_api) as http,
    ):
        assert http.get("/x").status_code == 401
    assert api.requests == 2
    assert env.refreshes == 1


def test_sync_revoked_refresh_token_reaches_every_thread(
    env: Env, api: VerifiedTestApi, threaded_api: str, clock: ShiftedClock, proxy: DelayingProxy
) -> None:
    with (
        env.from_password(endpoint_url=proxy.url) as auth,
        httpx.Client(auth=auth, base_url=threaded_api) as http,
    ):
        assert http.get("/a").status_code == 200
        env.server.update_user(env.pool_id, USER, enabled=False)  # refresh and sign-in fail
        clock.advance(HOUR)
        proxy.delay = 0.1

        def work(i: int) -> object:
            try:
                return http.get(f"/t/{i}").status_code
            except Exception as exc:
                return exc

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(work, range(8)))
    assert all(isinstance(r, NotAuthorizedError) for r in results), results
    assert env.refreshes == 1
    assert api.requests == 1


def test_sync_cognito_down(env: Env, threaded_api: str) -> None:
    with (
        env.from_password(endpoint_url=refused_url()) as auth,
        httpx.Client(auth=auth, base_url=threaded_api) as http,
        pytest.raises(CognitoConnectionError),
    ):
        http.get("/x")


def test_sync_close_then_use_is_refused(env: Env, threaded_api: str) -> None:
    auth = env.from_password()
    with httpx.Client(auth=auth, base_url=threaded_api) as http:
        assert http.get("/x").status_code == 200
        auth.close()
        with pytest.raises(SessionClosedError):
            http.get("/y")
    auth.close()
