"""The fault suite: sign-in and refresh against a real local Cognito behind a fault proxy.

Every scenario runs on asyncio and trio, against two real servers on 127.0.0.1:

- ``moto``: the shipped local Cognito (acognito.testing.LocalCognito, moto server);
  refresh tokens do not rotate there;
- ``rotation``: the same shipped local Cognito with an app client that rotates refresh
  tokens (GetTokensFromRefreshToken, a retry grace period); the ``rotating_server``
  fixture is the one place to point these scenarios elsewhere.

A fault is switched on at the proxy (tests/fault_proxy.py), the operation runs and must
end in its documented outcome (a typed acognito error, after a bounded number of
attempts counted at the proxy, or success); then the fault clears and the same session
must work, holding the newest refresh token the server issued (the proxy records every
refresh token in the server's answers, delivered or not): no token, rotated or not,
is lost. Each scenario adds a row to the fault table printed at the end of the
run (see conftest.py).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import anyio.to_thread
import pytest
from aiobotocore.config import AioConfig

from acognito import AsyncCognito, JwksCache
from acognito._idp import _default_config
from acognito.errors import (
    CognitoConnectionError,
    CognitoError,
    CognitoServiceError,
    InternalError,
    JwksFetchError,
    TokenVerificationError,
    TooManyRequestsError,
)
from acognito.testing import CognitoAdmin, LocalCognito
from fault_proxy import FAULT_TABLE, FaultProxy
from local_server import LocalServer

pytestmark = pytest.mark.anyio

PASSWORD = "Fault-Passw0rd!"
REGION = "us-east-1"
#: AWS lets a rotated refresh token be used again for up to 60 s (the client's grace
#: period); a retry of a refresh whose answer was lost in transit relies on it.
GRACE_SECONDS = 30
#: botocore counts retries, not attempts: the total tries the default policy makes.
ATTEMPTS = _default_config().retries["max_attempts"] + 1
#: Short timeouts for the slow-server scenarios (the defaults are 10 s connect, 30 s read).
SHORT = AioConfig(connect_timeout=1, read_timeout=1)


# ---------------------------------------------------------------- the servers


@dataclass(frozen=True)
class Account:
    pool_id: str
    client_id: str
    username: str


class Server(Protocol):
    """What the scenarios need from a local Cognito."""

    name: str
    rotation: bool

    @property
    def endpoint_url(self) -> str: ...

    async def new_account(self) -> Account: ...

    def status(self, token: str) -> str | None:
        """The server's own view of a refresh token (None: it cannot tell)."""


class MotoServer:
    """The shipped local Cognito (moto server); no refresh-token rotation."""

    name = "moto"
    rotation = False

    def __init__(self, local: LocalCognito) -> None:
        self.local = local

    @property
    def endpoint_url(self) -> str:
        return self.local.endpoint_url

    async def new_account(self) -> Account:
        async with CognitoAdmin(self.local.endpoint_url, region=REGION) as admin:
            pool = await admin.create_local_pool()
            await admin.create_user(pool.user_pool_id, "ada", PASSWORD)
        return Account(pool.user_pool_id, pool.public_client.client_id, "ada")

    def status(self, token: str) -> str | None:
        return self.local.api.refresh_token_status(token)


class RotatingServer:
    """The shipped local Cognito with an app client that rotates refresh tokens."""

    name = "rotation"
    rotation = True

    def __init__(self, server: LocalServer) -> None:
        self.server = server

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    async def new_account(self) -> Account:
        def create() -> Account:
            pool_id = self.server.create_pool()
            client_id, _ = self.server.create_client(
                pool_id, refresh_token_rotation=True, retry_grace_seconds=GRACE_SECONDS
            )
            self.server.create_user(pool_id, "ada", PASSWORD)
            return Account(pool_id, client_id, "ada")

        return await anyio.to_thread.run_sync(create)

    def status(self, token: str) -> str | None:
        return self.server.refresh_token_status(token)


@pytest.fixture(scope="module")
def rotating_server() -> Iterator[RotatingServer]:
    """THE server for rotation scenarios: point this fixture at another server to move them."""
    with LocalServer() as server:
        yield RotatingServer(server)
        assert server.internal_errors == []


@pytest.fixture(params=["moto", "rotation"])
def server(request: pytest.FixtureRequest) -> Server:
    if request.param == "moto":
        return MotoServer(request.getfixturevalue("cognito_local"))
    srv: Server = request.getfixturevalue("rotating_server")
    return srv


@pytest.fixture
def proxy(server: Server) -> Iterator[FaultProxy]:
    with FaultProxy(server.endpoint_url) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def record(server: Server, anyio_backend: str) -> Callable[..., None]:
    """Add a row (fault, server, backend, outcome) to the fault table."""

    def add(fault: str, outcome: str) -> None:
        FAULT_TABLE.append((fault, server.name, anyio_backend, outcome))

    return add


# ---------------------------------------------------------------- helpers


def session(
    server: Server,
    proxy: FaultProxy,
    account: Account,
    *,
    refresh_token: str | None = None,
    botocore_config: AioConfig | None = None,
    jwks_cache: JwksCache | None = None,
) -> AsyncCognito:
    """A session for ``account`` whose every request (Cognito and JWKS) goes through the proxy."""
    return AsyncCognito(
        account.pool_id,
        account.client_id,
        username=account.username,
        user_pool_region=REGION,
        endpoint_url=proxy.url,
        access_key="testing",
        secret_key="testing",
        refresh_token=refresh_token,
        refresh_token_rotation=server.rotation,
        botocore_config=botocore_config,
        jwks_cache=jwks_cache,
    )


REFRESH_OP = {"moto": "InitiateAuth", "rotation": "GetTokensFromRefreshToken"}


def assert_signed_in(c: AsyncCognito, account: Account) -> None:
    """Verified tokens for the account, all from one consistent result."""
    assert c.access_token and c.id_token and c.refresh_token
    assert c.access_claims is not None and c.id_claims is not None
    assert c.access_claims["token_use"] == "access"
    assert c.access_claims["client_id"] == account.client_id
    assert c.id_claims["aud"] == account.client_id


def token_kept(proxy: FaultProxy, c: AsyncCognito, before: str) -> bool:
    return c.refresh_token == proxy.newest_refresh_token(before)


def assert_no_token_lost(
    server: Server, proxy: FaultProxy, c: AsyncCognito, account: Account, before: str
) -> None:
    """The session holds the newest refresh token the server issued for ``before``."""
    newest = proxy.newest_refresh_token(before)
    assert c.refresh_token == newest, "the session lost the newest refresh token"
    assert server.status(newest) == "active"


def assert_nothing_unverified(server: Server, proxy: FaultProxy, c: AsyncCognito) -> None:
    """After a sign-in that failed or was cancelled: no unverified id or access token,
    and a refresh token only if it is the newest of its chain (kept so that the
    session can refresh once the fault clears)."""
    assert (c.access_token, c.id_token) == (None, None)
    assert c.access_claims is None and c.id_claims is None
    if c.refresh_token is not None:
        assert proxy.issued(c.refresh_token)
        assert proxy.newest_refresh_token(c.refresh_token) == c.refresh_token


async def works_again(server: Server, proxy: FaultProxy, c: AsyncCognito, account: Account) -> None:
    """Once the fault is gone the same session refreshes, and keeps the newest token."""
    before = c.refresh_token or ""
    await c.renew_access_token()
    assert_signed_in(c, account)
    assert_no_token_lost(server, proxy, c, account, before)


async def signed_in(server: Server, proxy: FaultProxy, account: Account, **kw: Any) -> AsyncCognito:
    c = session(server, proxy, account, **kw)
    await c.authenticate(PASSWORD)
    assert_signed_in(c, account)
    return c


@pytest.fixture
async def account(server: Server) -> Account:
    return await server.new_account()


@pytest.fixture
async def user(server: Server, proxy: FaultProxy, account: Account) -> AsyncIterator[AsyncCognito]:
    """A signed-in session through the proxy (closed after the test)."""
    c = await signed_in(server, proxy, account)
    try:
        yield c
    finally:
        proxy.clear()
        await c.close()


@contextlib.contextmanager
def catch_unraisable() -> Iterator[list[str]]:
    """Exceptions raised where nobody can catch them (finalizers), inside the block."""
    caught: list[str] = []
    previous = sys.unraisablehook

    def hook(report: Any) -> None:
        caught.append(f"{report.exc_type.__name__} in {report.object!r}")

    sys.unraisablehook = hook
    try:
        yield caught
    finally:
        sys.unraisablehook = previous


def outcome(exc: BaseException | None, attempts: int | None = None) -> str:
    what = "ok" if exc is None else f"{type(exc).__name__}"
    return what if attempts is None else f"{what} after {attempts} attempt(s)"


# ---------------------------------------------------------------- JWKS down


@pytest.mark.parametrize("flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"])
async def test_jwks_down_during_sign_in(
    server: Server, proxy: FaultProxy, account: Account, record: Any, flow: str
) -> None:
    proxy.add("jwks", "answer", status=503)
    async with session(server, proxy, account) as c:
        with pytest.raises(JwksFetchError, match="HTTP 503") as caught:
            await c.authenticate(PASSWORD, auth_flow=flow)  # type: ignore[arg-type]
        # Nothing unverified was taken; the new refresh token was kept.
        assert_nothing_unverified(server, proxy, c)
        assert c.refresh_token is not None
        fetches = proxy.count("jwks")
        assert 1 <= fetches <= 2
        record(f"JWKS 503 during sign-in ({flow})", f"{outcome(caught.value, fetches)}")
        proxy.clear()
        # The kept refresh token gets verified tokens once the JWKS is back...
        await works_again(server, proxy, c, account)
        # ...and a new sign-in works too.
        await c.authenticate(PASSWORD, auth_flow=flow)  # type: ignore[arg-type]
        assert_signed_in(c, account)


async def test_jwks_down_during_refresh_with_keys_cached(
    server: Server, proxy: FaultProxy, account: Account, user: AsyncCognito, record: Any
) -> None:
    """Keys cached at sign-in: a refresh verifies without asking the JWKS endpoint."""
    proxy.add("jwks", "answer", status=503)
    before = user.refresh_token or ""
    with proxy.counting() as seen:
        await user.renew_access_token()
    assert [s.kind for s in seen] == ["idp"]
    assert_signed_in(user, account)
    assert_no_token_lost(server, proxy, user, account, before)
    record("JWKS 503 during refresh (keys cached)", "ok, no JWKS request")
    proxy.clear()
    await works_again(server, proxy, user, account)


async def test_jwks_down_during_refresh_of_a_restored_session(
    server: Server,
    proxy: FaultProxy,
    account: Account,
    user: AsyncCognito,
    record: Any,
) -> None:
    """A session restored from a stored refresh token has no keys yet: the JWKS is needed
    to verify the refreshed tokens, and it answers 503."""
    stored = user.refresh_token or ""
    proxy.add("jwks", "answer", status=503)
    # Its own, empty JWKS cache: as in a new process (sessions of one pool in one
    # process share the pool's cache, which the sign-in above filled).
    async with (
        JwksCache() as keys,
        session(server, proxy, account, refresh_token=stored, jwks_cache=keys) as restored,
    ):
        with pytest.raises(TokenVerificationError) as caught:
            await restored.renew_access_token()
        kept = token_kept(proxy, restored, stored)
        record(
            "JWKS 503 during refresh (restored session)",
            f"{outcome(caught.value)}; "
            + ("token kept" if kept else "NEWEST TOKEN LOST (defect 1)"),
        )
        assert_no_token_lost(server, proxy, restored, account, stored)
        proxy.clear()
        await works_again(server, proxy, restored, account)


# ---------------------------------------------------------------- 5xx and throttling

FAULTS = {
    "HTTP 500 InternalErrorException": (500, "InternalErrorException", InternalError),
    "HTTP 503 ServiceUnavailable": (503, "ServiceUnavailable", CognitoServiceError),
    "HTTP 400 ThrottlingException": (400, "ThrottlingException", CognitoServiceError),
    "HTTP 400 TooManyRequestsException": (400, "TooManyRequestsException", TooManyRequestsError),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_retryable_errors_are_retried_a_bounded_number_of_times(
    server: Server, proxy: FaultProxy, account: Account, user: AsyncCognito, record: Any, fault: str
) -> None:
    status, code, error = FAULTS[fault]
    # Sign-in: every attempt fails, the error is typed and names the code.
    proxy.add("idp", "answer", status=status, code=code)
    async with session(server, proxy, account) as fresh:
        with proxy.counting() as seen, pytest.raises(error) as caught:
            await fresh.authenticate(PASSWORD)
        assert type(caught.value) is error
        assert caught.value.code == code
        assert caught.value.operation == "InitiateAuth"
        assert [s.operation for s in seen] == ["InitiateAuth"] * ATTEMPTS
        assert fresh.access_token is None
    record(f"{fault} on sign-in, always", outcome(caught.value, len(seen)))

    # Refresh: the same bound; the server never saw the request, nothing changed.
    before = user.refresh_token or ""
    with proxy.counting() as seen, pytest.raises(error) as refresh_caught:
        await user.renew_access_token()
    assert refresh_caught.value.code == code
    assert [s.operation for s in seen] == [REFRESH_OP[server.name]] * ATTEMPTS
    assert_no_token_lost(server, proxy, user, account, before)
    record(f"{fault} on refresh, always", outcome(refresh_caught.value, len(seen)))

    # Once: the retry succeeds.
    proxy.clear()
    proxy.add("idp", "answer", status=status, code=code, times=1)
    with proxy.counting() as seen:
        await user.renew_access_token()
    assert [s.action for s in seen] == [f"answer {status}", "forwarded"]
    assert_no_token_lost(server, proxy, user, account, before)
    record(f"{fault} on refresh, once", outcome(None, len(seen)))
    proxy.clear()
    await works_again(server, proxy, user, account)


async def test_a_non_retryable_error_is_not_retried(
    server: Server, proxy: FaultProxy, account: Account, record: Any
) -> None:
    """The control for the bound above: a 400 that is not throttling is tried once."""
    proxy.add("idp", "answer", status=400, code="InvalidParameterException")
    async with session(server, proxy, account) as c:
        with proxy.counting() as seen, pytest.raises(CognitoServiceError) as caught:
            await c.authenticate(PASSWORD)
        assert caught.value.code == "InvalidParameterException"
        assert len(seen) == 1
        record("HTTP 400 InvalidParameterException on sign-in", outcome(caught.value, len(seen)))
        proxy.clear()
        await c.authenticate(PASSWORD)
        await works_again(server, proxy, c, account)


# ---------------------------------------------------------------- connection faults


async def test_connection_reset_mid_response(
    server: Server, proxy: FaultProxy, account: Account, user: AsyncCognito, record: Any
) -> None:
    """The server answered, the client got half the answer: botocore retries."""
    # Once on a sign-in step: the retry of the same request succeeds.
    proxy.add("idp", "reset", operation="InitiateAuth", times=1)
    async with session(server, proxy, account) as fresh:
        with proxy.counting() as seen:
            await fresh.authenticate(PASSWORD)
        assert_signed_in(fresh, account)
        assert [s.operation for s in seen if s.kind == "idp"][:2] == ["InitiateAuth"] * 2
    record("reset mid-response on sign-in (InitiateAuth), once", outcome(None, 2))

    # Once on a refresh: with rotation the server rotated on the lost answer, and the
    # retry (within the grace period) gets a newer token, which the session keeps.
    before = user.refresh_token or ""
    proxy.add("idp", "reset", operation=REFRESH_OP[server.name], times=1)
    with proxy.counting() as seen:
        await user.renew_access_token()
    assert [s.action for s in seen] == ["reset", "forwarded"]
    assert_no_token_lost(server, proxy, user, account, before)
    record("reset mid-response on refresh, once", outcome(None, len(seen)))
    proxy.clear()
    await works_again(server, proxy, user, account)


async def test_connection_reset_mid_response_every_time(
    request: pytest.FixtureRequest,
    server: Server,
    proxy: FaultProxy,
    account: Account,
    user: AsyncCognito,
    record: Any,
    anyio_backend: str,
) -> None:
    """A bounded number of attempts, then a typed connection error; the token is kept."""
    proxy.add("idp", "reset")
    before = user.refresh_token or ""
    with proxy.counting() as seen, pytest.raises(CognitoError) as caught:
        await user.renew_access_token()
    note = (
        ""
        if token_kept(proxy, user, before)
        else (
            "; rotated answers never arrived: the sent token is kept (usable in the grace period)"
        )
    )
    record("reset mid-response on refresh, always", outcome(caught.value, len(seen)) + note)
    assert len(seen) == ATTEMPTS
    assert user.refresh_token == before
    assert isinstance(caught.value, CognitoConnectionError), repr(caught.value)
    proxy.clear()
    await works_again(server, proxy, user, account)


async def test_slow_server_times_out_within_the_configured_read_timeout(
    server: Server, proxy: FaultProxy, account: Account, record: Any
) -> None:
    """A server that accepts and never answers: read_timeout (1 s here) bounds each try."""
    cache = JwksCache(timeout=1)
    async with cache, session(server, proxy, account, botocore_config=SHORT, jwks_cache=cache) as c:
        proxy.add("idp", "hold", forward=False, seconds=5)
        started = time.monotonic()
        with proxy.counting() as seen, pytest.raises(CognitoConnectionError) as caught:
            await c.authenticate(PASSWORD)
        elapsed = time.monotonic() - started
        proxy.clear()
        assert len(seen) == ATTEMPTS
        # ATTEMPTS read timeouts of 1 s, plus botocore's backoff (under 1 s, then 2 s).
        assert elapsed < ATTEMPTS * 1 + 3 + 2, f"took {elapsed:.1f} s"
        record(
            "slow Cognito (no answer, read_timeout=1)",
            f"{outcome(caught.value, len(seen))} in {elapsed:.1f} s",
        )

        proxy.add("jwks", "hold", forward=False, seconds=5)
        started = time.monotonic()
        with pytest.raises(JwksFetchError, match="timed out") as jwks_caught:
            await c.authenticate(PASSWORD)
        elapsed = time.monotonic() - started
        proxy.clear()
        assert elapsed < 1 + 3, f"took {elapsed:.1f} s"
        record(
            "slow JWKS (no answer, timeout=1)", f"{outcome(jwks_caught.value)} in {elapsed:.1f} s"
        )

        await c.authenticate(PASSWORD)
        assert_signed_in(c, account)
        await works_again(server, proxy, c, account)


async def test_server_restarts_between_calls(
    server: Server, proxy: FaultProxy, account: Account, user: AsyncCognito, record: Any
) -> None:
    """Pooled keep-alive connections die with the server; the next call must not fail.

    The proxy stands for the restarting server: it resets every open connection and
    stops listening, then listens again on the same port. (The local Cognito itself
    keeps its pools in memory, so restarting its process would lose them.)"""
    before = user.refresh_token or ""
    proxy.down()
    proxy.up()
    with proxy.counting() as seen:
        await user.renew_access_token()
    assert_signed_in(user, account)
    assert_no_token_lost(server, proxy, user, account, before)
    record("server restarted between calls", outcome(None, len(seen)))


async def test_server_down_during_a_call(
    server: Server, proxy: FaultProxy, account: Account, user: AsyncCognito, record: Any
) -> None:
    before = user.refresh_token or ""
    proxy.down()
    started = time.monotonic()
    with pytest.raises(CognitoConnectionError) as caught:
        await user.renew_access_token()
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"a refused connection took {elapsed:.1f} s to fail"
    assert user.refresh_token == before
    record(
        "server down (connection refused) on refresh", f"{outcome(caught.value)} in {elapsed:.1f} s"
    )
    proxy.up()
    await works_again(server, proxy, user, account)


# ---------------------------------------------------------------- cancellation


async def _cancel_while_held(
    proxy: FaultProxy, operation: Callable[[], Awaitable[Any]]
) -> tuple[bool, BaseException | None]:
    """Run ``operation``, cancel it while the proxy holds its request, then let the
    request reach the server. Returns (cancelled, error the operation raised)."""
    scope = anyio.CancelScope()
    error: list[BaseException] = []

    async def run() -> None:
        with scope:
            try:
                await operation()
            except CognitoError as exc:
                error.append(exc)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            held = await anyio.to_thread.run_sync(proxy.wait_held, 10.0)
            assert held, "the proxy never saw the request"
            scope.cancel()
            await anyio.sleep(0.05)  # the caller is cancelled while its request waits
            proxy.release()
    return scope.cancelled_caught, (error[0] if error else None)


async def test_cancel_sign_in_at_each_request(
    server: Server, proxy: FaultProxy, account: Account, record: Any
) -> None:
    """Cancel at every request a sign-in makes (found by a first, clean sign-in).

    Each session has its own empty JWKS cache, so each sign-in downloads the JWKS
    (sessions of one pool otherwise share the pool's cache)."""
    async with JwksCache() as keys, session(server, proxy, account, jwks_cache=keys) as probe:
        with proxy.counting() as steps:
            await probe.authenticate(PASSWORD)
    requests = [(s.kind, s.operation) for s in steps]
    assert ("idp", "InitiateAuth") in requests
    assert ("jwks", None) in requests
    for index, (kind, operation) in enumerate(requests):
        async with JwksCache() as keys, session(server, proxy, account, jwks_cache=keys) as c:
            # Hold the index-th request of this sign-in (same kind and operation).
            earlier = requests[:index].count((kind, operation))
            proxy.add(kind, "hold", operation=operation, skip=earlier, times=1)
            cancelled, error = await _cancel_while_held(proxy, lambda c=c: c.authenticate(PASSWORD))
            proxy.clear()
            assert cancelled and error is None
            # A cancelled sign-in leaves nothing half-done...
            assert_nothing_unverified(server, proxy, c)
            assert c.mfa_tokens is None
            # ...and the session signs in afterwards.
            await c.authenticate(PASSWORD)
            assert_signed_in(c, account)
        record(
            f"cancel sign-in at request {index + 1} ({operation or kind})",
            "cancelled; clean; ok after",
        )


async def test_cancel_refresh_while_its_request_is_at_the_server(
    server: Server, proxy: FaultProxy, account: Account, user: AsyncCognito, record: Any
) -> None:
    """The refresh is shielded: cancelling its caller does not lose a rotated token."""
    before = user.refresh_token or ""
    proxy.add("idp", "hold", operation=REFRESH_OP[server.name], times=1)
    cancelled, error = await _cancel_while_held(proxy, user.renew_access_token)
    assert cancelled and error is None
    assert_signed_in(user, account)
    assert_no_token_lost(server, proxy, user, account, before)
    if server.rotation:
        assert user.refresh_token != before
    record("cancel refresh while its request is at the server", "cancelled; token kept; ok after")
    await works_again(server, proxy, user, account)


async def test_cancel_refresh_of_a_restored_session_during_the_jwks_fetch(
    server: Server, proxy: FaultProxy, account: Account, user: AsyncCognito, record: Any
) -> None:
    stored = user.refresh_token or ""
    async with (
        JwksCache() as keys,
        session(server, proxy, account, refresh_token=stored, jwks_cache=keys) as restored,
    ):
        proxy.add("jwks", "hold", times=1)
        cancelled, error = await _cancel_while_held(proxy, restored.renew_access_token)
        assert cancelled and error is None
        assert_signed_in(restored, account)
        assert_no_token_lost(server, proxy, restored, account, stored)
        record(
            "cancel refresh during its JWKS fetch (restored session)",
            "cancelled; token kept; ok after",
        )
        await works_again(server, proxy, restored, account)


async def test_cancel_sign_in_while_the_jwks_body_is_half_read(
    server: Server, proxy: FaultProxy, account: Account, record: Any
) -> None:
    """Cancelled mid-body, the JWKS download leaves nothing behind: no half state, and
    no httpx stream generator left suspended for the garbage collector to finalize."""
    async with session(server, proxy, account) as c:
        proxy.add("jwks", "stall", times=1)
        cancelled, error = await _cancel_while_held(proxy, lambda: c.authenticate(PASSWORD))
        assert cancelled and error is None
        assert_nothing_unverified(server, proxy, c)
        await c.authenticate(PASSWORD)
        assert_signed_in(c, account)
    # A suspended async generator is finalized here, on the test's watch: an exception
    # it raises reaches sys.unraisablehook, which this suite turns into a failure.
    with catch_unraisable() as unraisable:
        gc.collect()
    record(
        "cancel sign-in with the JWKS body half read",
        "cancelled; clean; ok after"
        + (f"; {len(unraisable)} unraisable exception(s) at GC" if unraisable else ""),
    )
    assert unraisable == [], unraisable


STEPS = 12


async def _duration(operation: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await operation()
    return time.perf_counter() - started


async def test_cancel_at_every_await_by_deadline_sweep(
    server: Server, proxy: FaultProxy, account: Account, user: AsyncCognito, record: Any
) -> None:
    """Deadlines swept over a clean run's duration land the cancellation on every await
    of a sign-in (client set-up, SRP math in a thread, each request, the JWKS fetch) and
    of a refresh. After each: no half state, the newest refresh token kept."""
    async with JwksCache() as keys, session(server, proxy, account, jwks_cache=keys) as probe:
        sign_in_time = await _duration(lambda: probe.authenticate(PASSWORD))
    refresh_time = await _duration(user.renew_access_token)
    cancelled_sign_ins = cancelled_refreshes = 0
    for step in range(STEPS):
        async with JwksCache() as keys, session(server, proxy, account, jwks_cache=keys) as c:
            with anyio.move_on_after(sign_in_time * step / STEPS) as scope:
                await c.authenticate(PASSWORD)
            if scope.cancelled_caught:
                cancelled_sign_ins += 1
                assert_nothing_unverified(server, proxy, c)
                await c.authenticate(PASSWORD)
            assert_signed_in(c, account)
        before = user.refresh_token or ""
        with anyio.move_on_after(refresh_time * step / STEPS) as scope:
            await user.renew_access_token()
        cancelled_refreshes += scope.cancelled_caught
        assert_signed_in(user, account)
        assert_no_token_lost(server, proxy, user, account, before)
    # The sweep did cancel (deadline 0 at least); every outcome was checked above.
    assert cancelled_sign_ins > 0
    assert cancelled_refreshes > 0
    record(
        "cancel by deadline sweep over a clean run's duration",
        f"{cancelled_sign_ins}/{STEPS} sign-ins, {cancelled_refreshes}/{STEPS} "
        "refreshes cancelled; none half done, no token lost",
    )
    await works_again(server, proxy, user, account)
