"""The JWKS cache against a loopback JWKS test server (real HTTP on 127.0.0.1).

Single flight, the penalty box, failures and cancellation, strict document checks,
COGNITO_JWKS, hydrate. Every async test runs on asyncio and on trio.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from acognito.errors import (
    ConfigurationError,
    JwkError,
    JwkInvalidKtyError,
    JwksFetchError,
    JwksFetchPenaltyError,
    JwksNotAvailableError,
    JwksPenaltyBoxError,
    JwtInvalidIssuerError,
    KidNotFoundInJwksError,
    TokenVerificationError,
)
from acognito.jwks import Jwk, JwksCache, b64url_decode, check_jwks_uri, parse_jwks, safe_kid
from acognito.testing import TokenIssuer
from acognito.verify import CognitoVerifier
from jwks_server import JwksTestServer

pytestmark = pytest.mark.anyio

CID = "client-1"


# --------------------------------------------------------------------------- helpers


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture(scope="module")
def many_tokens(issuer: TokenIssuer) -> list[str]:
    return [issuer.access_token(client_id=CID, username=f"user{i}") for i in range(1000)]


@pytest.fixture
def server(issuer: TokenIssuer) -> Iterator[JwksTestServer]:
    srv = JwksTestServer(issuer.jwks()).start()
    yield srv
    srv.stop()


def make_verifier(issuer: TokenIssuer, cache: JwksCache, uri: str, **kw: Any) -> CognitoVerifier:
    return CognitoVerifier(
        issuer.user_pool_id,
        client_id=CID,
        token_use="access",
        jwks_uri=uri,
        jwks_cache=cache,
        **kw,
    )


async def wait_until(predicate: Callable[[], bool]) -> None:
    """Poll a condition set by the server thread (no event to await across threads)."""
    with anyio.fail_after(5):
        while not predicate():  # noqa: ASYNC110
            await anyio.sleep(0.01)


# --------------------------------------------------------------------------- the test server itself


def test_test_server_serves_and_counts(server: JwksTestServer, issuer: TokenIssuer) -> None:
    with httpx.Client() as client:
        resp = client.get(server.url)
    assert resp.status_code == 200
    assert resp.json() == issuer.jwks()
    assert server.requests == 1


# --------------------------------------------------------------------------- single flight


async def test_single_flight_1000_concurrent_verifies_on_a_cold_cache(
    server: JwksTestServer, issuer: TokenIssuer, many_tokens: list[str]
) -> None:
    server.delay = 0.2  # every verification arrives while the one fetch is in flight
    results: list[dict[str, Any]] = []
    async with JwksCache() as cache:
        verifier = make_verifier(issuer, cache, server.url)

        async def one(token: str) -> None:
            results.append(await verifier.verify(token))

        async with anyio.create_task_group() as tg:
            for token in many_tokens:
                tg.start_soon(one, token)
    assert server.requests == 1
    assert len(results) == 1000
    assert {claims["username"] for claims in results} == {f"user{i}" for i in range(1000)}


async def test_fetch_failure_reaches_every_waiter_and_the_next_call_retries(
    server: JwksTestServer, issuer: TokenIssuer, many_tokens: list[str]
) -> None:
    server.status = 503
    server.delay = 0.2
    errors: list[BaseException] = []
    async with JwksCache() as cache:
        verifier = make_verifier(issuer, cache, server.url)

        async def one(token: str) -> None:
            try:
                await verifier.verify(token)
            except TokenVerificationError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as tg:
            for token in many_tokens[:50]:
                tg.start_soon(one, token)
        assert server.requests == 1
        assert len(errors) == 50
        assert all(type(exc) is JwksFetchError for exc in errors)
        assert "503" in str(errors[0])
        assert len({id(exc) for exc in errors}) == 50  # each waiter gets its own instance

        server.status = 200
        server.delay = 0
        claims = await verifier.verify(many_tokens[0])
        assert claims["username"] == "user0"
        assert server.requests == 2


async def test_cancelled_fetching_task_does_not_poison_waiters(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    server.delays = [30.0]  # the first request stalls (released when the server stops)
    token = issuer.access_token(client_id=CID)
    got: list[dict[str, Any]] = []
    async with JwksCache() as cache:
        verifier = make_verifier(issuer, cache, server.url)
        scope = anyio.CancelScope()

        async def fetcher() -> None:
            with scope:
                await verifier.verify(token)
            assert scope.cancelled_caught

        async def waiter() -> None:
            got.append(await verifier.verify(token))

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(fetcher)
                await wait_until(lambda: server.requests == 1)
                tg.start_soon(waiter)
                await anyio.sleep(0.05)  # the waiter now waits on the fetcher's flight
                scope.cancel()
        assert got
        assert got[0]["client_id"] == CID
        assert server.requests == 2  # the waiter took over and fetched again
        # Nothing is left in flight: a fresh call is answered from the cache.
        assert (await verifier.verify(issuer.access_token(client_id=CID)))["client_id"] == CID
        assert server.requests == 2


# --------------------------------------------------------------------------- penalty box


async def test_penalty_box_blocks_forged_kids_then_picks_up_a_rotated_key(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    clock = FakeClock()
    async with JwksCache(clock=clock, penalty_seconds=10) as cache:
        verifier = make_verifier(issuer, cache, server.url)
        good = issuer.access_token(client_id=CID)
        await verifier.verify(good)
        assert server.requests == 1

        forged = issuer.sign(
            {"iss": issuer.issuer, "token_use": "access", "client_id": CID, "exp": 2**40},
            header={"alg": "RS256", "kid": "forged-0"},
        )
        with pytest.raises(KidNotFoundInJwksError) as first:
            await verifier.verify(forged)
        assert type(first.value) is KidNotFoundInJwksError  # not yet the penalty box
        assert server.requests == 2  # one refetch

        # A flood of other forged kids during the window: no request reaches the server.
        for i in range(1, 200):
            forged_i = issuer.sign(
                {"iss": issuer.issuer, "token_use": "access", "exp": 2**40},
                header={"alg": "RS256", "kid": f"forged-{i}"},
            )
            with pytest.raises(JwksPenaltyBoxError):
                await verifier.verify(forged_i)
        assert server.requests == 2
        # Tokens with known kids keep verifying.
        assert (await verifier.verify(issuer.access_token(client_id=CID)))["client_id"] == CID

        # The pool rotates its key: inside the window the new kid is still blocked.
        rotated = TokenIssuer(issuer.user_pool_id)
        server.rotate({"keys": [*issuer.jwks()["keys"], rotated.jwk()]})
        new_token = rotated.access_token(client_id=CID)
        clock.advance(9.9)
        with pytest.raises(JwksPenaltyBoxError):
            await verifier.verify(new_token)
        assert server.requests == 2
        clock.advance(0.2)  # the window is over
        assert (await verifier.verify(new_token))["client_id"] == CID
        assert server.requests == 3
        # The old key's tokens still verify after the refetch.
        assert (await verifier.verify(good))["client_id"] == CID


async def test_concurrent_forged_kids_cause_one_refetch(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    async with JwksCache() as cache:
        verifier = make_verifier(issuer, cache, server.url)
        await verifier.hydrate()
        assert server.requests == 1
        server.delay = 0.2
        forged = [
            issuer.sign(
                {"iss": issuer.issuer, "exp": 2**40}, header={"alg": "RS256", "kid": f"k{i}"}
            )
            for i in range(100)
        ]
        errors: list[BaseException] = []

        async def one(token: str) -> None:
            try:
                await verifier.verify(token)
            except TokenVerificationError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as tg:
            for token in forged:
                tg.start_soon(one, token)
        assert server.requests == 2
        assert len(errors) == 100
        assert all(isinstance(exc, KidNotFoundInJwksError) for exc in errors)


async def test_another_pools_token_never_causes_a_fetch(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    other = TokenIssuer("eu-west-1_Other")
    async with JwksCache() as cache:
        verifier = make_verifier(issuer, cache, server.url)
        for _ in range(3):
            with pytest.raises(JwtInvalidIssuerError):
                await verifier.verify(other.access_token(client_id=CID))
    assert server.requests == 0


async def test_forged_kid_in_messages_is_sanitised(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    nasty = "\x1b[31mevil\n" + "A" * 500
    token = issuer.sign({"iss": issuer.issuer, "exp": 2**40}, header={"alg": "RS256", "kid": nasty})
    async with JwksCache() as cache:
        verifier = make_verifier(issuer, cache, server.url)
        for expected in (KidNotFoundInJwksError, JwksPenaltyBoxError):
            with pytest.raises(expected) as info:
                await verifier.verify(token)
            message = str(info.value)
            assert "\x1b" not in message
            assert "\n" not in message
            assert "A" * 65 not in message
            assert token not in message
    assert safe_kid(nasty).startswith("?[31mevil?")
    assert len(safe_kid(nasty)) <= 67


# --------------------------------------------------------------------------- env, hydrate, sync


async def test_cognito_jwks_env_is_used_instead_of_fetching(
    server: JwksTestServer, issuer: TokenIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COGNITO_JWKS", json.dumps(issuer.jwks()))
    token = issuer.access_token(client_id=CID)
    async with JwksCache() as cache:
        verifier = make_verifier(issuer, cache, server.url)
        assert verifier.verify_sync(token)["client_id"] == CID  # sync: no I/O needed
    async with JwksCache() as cache:
        verifier = make_verifier(issuer, cache, server.url)
        assert (await verifier.verify(token))["client_id"] == CID
    assert server.requests == 0

    # pycognito reads the variable as a Python literal, so a dict repr works too.
    monkeypatch.setenv("COGNITO_JWKS", repr(issuer.jwks()))
    async with JwksCache() as cache:
        assert (await make_verifier(issuer, cache, server.url).verify(token))["client_id"] == CID

    monkeypatch.setenv("COGNITO_JWKS", "{not a jwks")
    async with JwksCache() as cache:
        with pytest.raises(JwksFetchError, match="COGNITO_JWKS"):
            await make_verifier(issuer, cache, server.url).verify(token)

    monkeypatch.setenv("COGNITO_JWKS", json.dumps(issuer.jwks()))
    async with JwksCache(use_env=False) as cache:
        verifier = make_verifier(issuer, cache, server.url)
        with pytest.raises(JwksNotAvailableError):
            verifier.verify_sync(token)
        assert (await verifier.verify(token))["client_id"] == CID
    assert server.requests == 1


async def test_hydrate_then_verify_sync(server: JwksTestServer, issuer: TokenIssuer) -> None:
    token = issuer.access_token(client_id=CID)
    async with JwksCache() as cache:
        verifier = make_verifier(issuer, cache, server.url)
        with pytest.raises(JwksNotAvailableError):
            verifier.verify_sync(token)
        assert server.requests == 0  # verify_sync never fetches
        await verifier.hydrate()
        assert server.requests == 1
        assert server.url in cache
        assert cache.kids(server.url) == [issuer.kid]
        assert verifier.verify_sync(token)["client_id"] == CID
        await cache.hydrate(server.url)  # hydrate refreshes
        assert server.requests == 2


async def test_verify_sync_with_unknown_kid_in_cached_jwks(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    other = TokenIssuer(issuer.user_pool_id)
    async with JwksCache() as cache:
        verifier = make_verifier(issuer, cache, server.url)
        await verifier.hydrate()
        with pytest.raises(KidNotFoundInJwksError):
            verifier.verify_sync(other.access_token(client_id=CID))
        assert server.requests == 1


async def test_added_jwks_is_refetched_for_unknown_kids_unless_static(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    old = TokenIssuer(issuer.user_pool_id)
    token = issuer.access_token(client_id=CID)
    async with JwksCache() as cache:
        cache.add(server.url, old.jwks())
        verifier = make_verifier(issuer, cache, server.url)
        assert (await verifier.verify(token))["client_id"] == CID  # refetched: kid found
        assert server.requests == 1
    async with JwksCache() as cache:
        cache.add(server.url, old.jwks(), static=True)
        verifier = make_verifier(issuer, cache, server.url)
        with pytest.raises(KidNotFoundInJwksError):
            await verifier.verify(token)
        await cache.hydrate(server.url)  # static URIs are never fetched
    assert server.requests == 1


async def test_refetch_keeps_unchanged_key_objects(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    async with JwksCache() as cache:
        await cache.hydrate(server.url)
        before = cache.peek(server.url, issuer.kid)
        assert before is not None
        await cache.hydrate(server.url)
        assert cache.peek(server.url, issuer.kid) is before
        other = TokenIssuer(issuer.user_pool_id, kid=issuer.kid)  # same kid, new key
        server.rotate(other.jwks())
        await cache.hydrate(server.url)
        after = cache.peek(server.url, issuer.kid)
        assert after is not None
        assert after is not before


# --------------------------------------------------------------------------- bad documents


BAD_BODIES = {
    "not json": b"<html>hello</html>",
    "a list": b"[]",
    "keys not a list": b'{"keys": {}}',
    "key not an object": b'{"keys": ["x"]}',
    "no kid": b'{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}',
    "no kty": b'{"keys": [{"kid": "a", "n": "AQAB", "e": "AQAB"}]}',
    "rsa without n": b'{"keys": [{"kid": "a", "kty": "RSA", "e": "AQAB"}]}',
    "n not base64url": b'{"keys": [{"kid": "a", "kty": "RSA", "n": "AQ+B", "e": "AQAB"}]}',
    "n padded": b'{"keys": [{"kid": "a", "kty": "RSA", "n": "AQA=", "e": "AQAB"}]}',
    "use not a string": b'{"keys": [{"kid": "a", "kty": "RSA", "n": "AQAB", "use": 1}]}',
    "duplicate kid": b'{"keys": [{"kid": "a", "kty": "EC"}, {"kid": "a", "kty": "EC"}]}',
}


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
async def test_garbage_jwks_documents_are_rejected(
    server: JwksTestServer, issuer: TokenIssuer, name: str
) -> None:
    server.body = BAD_BODIES[name]
    async with JwksCache() as cache:
        with pytest.raises(JwksFetchError):
            await make_verifier(issuer, cache, server.url).verify(
                issuer.access_token(client_id=CID)
            )
        assert server.url not in cache


@pytest.mark.parametrize("status", [301, 404, 500])
async def test_non_200_is_a_fetch_error(
    server: JwksTestServer, issuer: TokenIssuer, status: int
) -> None:
    server.status = status
    async with JwksCache() as cache:
        with pytest.raises(JwksFetchError, match=str(status)):
            await cache.get_key(server.url, issuer.kid)


@pytest.mark.parametrize("declared", [True, False])
async def test_oversized_body_is_rejected(
    server: JwksTestServer, issuer: TokenIssuer, declared: bool
) -> None:
    server.send_length = declared  # without a length the body is read until the cap
    server.body = json.dumps({"keys": [issuer.jwk()], "pad": "x" * 5000}).encode()
    async with JwksCache(max_bytes=4096) as cache:
        with pytest.raises(JwksFetchError, match="larger than 4096"):
            await cache.get_key(server.url, issuer.kid)
    async with JwksCache(max_bytes=8192) as cache:
        assert (await cache.get_key(server.url, issuer.kid)).kid == issuer.kid


async def test_declared_oversize_is_refused_before_reading(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    server.declared_length = 50_000_000  # then sends a few bytes and stalls
    server.body_delay = 10
    async with JwksCache(timeout=5) as cache:
        start = time.monotonic()
        with pytest.raises(JwksFetchError, match="larger than"):
            await cache.get_key(server.url, issuer.kid)
        assert time.monotonic() - start < 2


async def test_slow_server_times_out(server: JwksTestServer, issuer: TokenIssuer) -> None:
    server.delay = 10
    async with JwksCache(timeout=0.3) as cache:
        start = time.monotonic()
        with pytest.raises(JwksFetchError, match="timed out"):
            await cache.get_key(server.url, issuer.kid)
        assert time.monotonic() - start < 3


async def test_unreachable_uri_is_a_fetch_error(issuer: TokenIssuer) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = f"http://127.0.0.1:{port}/pool/.well-known/jwks.json"
    async with JwksCache(timeout=2) as cache:
        with pytest.raises(JwksFetchError, match="ConnectError"):
            await cache.get_key(dead, issuer.kid)


# --------------------------------------------------------------------------- lifecycle


async def test_injected_client_is_used_and_left_open(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(str(request.url))

    async with httpx.AsyncClient(event_hooks={"request": [hook]}) as client:
        async with JwksCache(client=client) as cache:
            await cache.hydrate(server.url)
        assert seen == [server.url]
        assert not client.is_closed


async def test_closed_cache_keeps_keys_but_does_not_fetch(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    cache = JwksCache()
    await cache.hydrate(server.url)
    await cache.aclose()
    assert cache.closed
    assert (await cache.get_key(server.url, issuer.kid)).kid == issuer.kid
    with pytest.raises(JwksFetchError, match="closed"):
        await cache.hydrate(server.url)
    await cache.aclose()  # idempotent
    assert server.requests == 1


async def test_verifier_closes_only_its_own_cache(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    async with make_verifier(issuer, JwksCache(), server.url) as verifier:
        await verifier.hydrate()
    assert not verifier.jwks_cache.closed  # given, so not owned
    await verifier.jwks_cache.aclose()
    async with CognitoVerifier(
        issuer.user_pool_id, client_id=CID, token_use="access", jwks_uri=server.url
    ) as own:
        await own.hydrate()
    assert own.jwks_cache.closed


# --------------------------------------------------------------------------- parsing units


def test_parse_jwks_indexes_keys_and_flags_unusable_ones(issuer: TokenIssuer) -> None:
    keys = parse_jwks({"keys": [issuer.jwk(), {"kid": "ec", "kty": "EC", "crv": "P-256"}]})
    assert set(keys) == {issuer.kid, "ec"}
    assert isinstance(keys[issuer.kid], Jwk)
    assert keys[issuer.kid].problem is None
    assert keys[issuer.kid].public_key() is keys[issuer.kid].public_key()  # loaded once
    assert isinstance(keys["ec"].problem, JwkInvalidKtyError)
    with pytest.raises(JwkInvalidKtyError):
        keys["ec"].public_key()
    assert "n=" not in repr(keys[issuer.kid])


def test_parse_jwks_caps_the_number_of_keys() -> None:
    many = {"keys": [{"kid": str(i), "kty": "EC"} for i in range(101)]}
    with pytest.raises(JwksFetchError, match="more than 100"):
        parse_jwks(many)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("", True),
        ("QQ", True),
        ("QR", False),
        ("QUI", True),
        ("QUJ", False),
        ("QUJD", True),
        ("Q", False),
        ("QQ==", False),
        ("Q Q", False),
        ("+/8", False),
        ("-_8", True),
    ],
)
def test_b64url_decode_is_strict_and_canonical(text: str, ok: bool) -> None:
    if ok:
        b64url_decode(text)
    else:
        with pytest.raises(ValueError):
            b64url_decode(text)


# --------------------------------------------------------------------------- issue 11: hardening


def _forged(issuer: TokenIssuer, kid: str) -> str:
    return issuer.sign(
        {"iss": issuer.issuer, "token_use": "access", "client_id": CID, "exp": 2**40},
        header={"alg": "RS256", "kid": kid},
    )


async def test_failed_refetch_puts_the_uri_in_the_penalty_box(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    """Issue 11 #3: keys cached, endpoint down: 100 forged kids used to cost 101 fetches."""
    clock = FakeClock()
    async with JwksCache(clock=clock, penalty_seconds=10) as cache:
        verifier = make_verifier(issuer, cache, server.url)
        await verifier.hydrate()
        assert server.requests == 1
        server.status = 503
        raised: list[type[BaseException]] = []
        for i in range(100):
            with pytest.raises(TokenVerificationError) as info:
                await verifier.verify(_forged(issuer, f"forged-{i}"))
            raised.append(type(info.value))
        assert server.requests == 2  # the first forged kid refetched; the rest were refused
        assert raised[0] is JwksFetchError
        # Blocked after a failed fetch: a penalty-box error that is also a fetch error
        # (an outage: the web integrations answer 503, not 401).
        assert set(raised[1:]) == {JwksFetchPenaltyError}
        assert issubclass(JwksFetchPenaltyError, JwksPenaltyBoxError)
        assert issubclass(JwksFetchPenaltyError, JwksFetchError)
        # Known kids keep verifying from the cache meanwhile.
        assert (await verifier.verify(issuer.access_token(client_id=CID)))["client_id"] == CID
        assert server.requests == 2

        # After the window a rotated key is picked up once the endpoint is back.
        rotated = TokenIssuer(issuer.user_pool_id)
        server.rotate({"keys": [*issuer.jwks()["keys"], rotated.jwk()]})
        server.status = 200
        clock.advance(10.1)
        assert (await verifier.verify(rotated.access_token(client_id=CID)))["client_id"] == CID
        assert server.requests == 3


async def test_a_cold_cache_still_retries_at_once_after_a_failure(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    """The penalty is for refetches only: with nothing cached, the next call tries again."""
    server.status = 503
    async with JwksCache() as cache:
        with pytest.raises(JwksFetchError):
            await cache.get_key(server.url, issuer.kid)
        server.status = 200
        assert (await cache.get_key(server.url, issuer.kid)).kid == issuer.kid
    assert server.requests == 2


@pytest.fixture
def attacker() -> Iterator[JwksTestServer]:
    srv = JwksTestServer(TokenIssuer("us-east-1_TestPool1", kid="evil").jwks()).start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("client_kind", ["own", "following"])
async def test_redirects_are_never_followed(
    server: JwksTestServer,
    attacker: JwksTestServer,
    issuer: TokenIssuer,
    status: int,
    client_kind: str,
) -> None:
    """Issue 11 #9: a caller's follow_redirects=True client used to install the attacker's keys."""
    server.status = status
    server.location = attacker.url
    async with contextlib.AsyncExitStack() as stack:
        client = None
        if client_kind == "following":
            client = await stack.enter_async_context(httpx.AsyncClient(follow_redirects=True))
        cache = await stack.enter_async_context(JwksCache(client=client))
        with pytest.raises(JwksFetchError) as info:
            await cache.get_key(server.url, "evil")
        assert server.url in str(info.value)
        assert str(status) in str(info.value)
        assert "redirect" in str(info.value)
        assert server.url not in cache
        assert cache.peek(server.url, "evil") is None
    assert server.requests == 1
    assert attacker.requests == 0


@pytest.mark.parametrize(
    "uri",
    [
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_A/.well-known/jwks.json",
        "HTTPS://example.com/jwks.json",
        "http://127.0.0.1:9229/pool/.well-known/jwks.json",
        "http://127.8.9.10/jwks.json",
        "http://localhost:4566/jwks.json",
        "http://LocalHost./jwks.json",
        "http://[::1]:8080/jwks.json",
        "http://[::ffff:127.0.0.1]/jwks.json",
    ],
)
def test_jwks_uri_https_anywhere_http_on_loopback(uri: str) -> None:
    assert check_jwks_uri(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "http://example.com/jwks.json",
        "http://10.0.0.1/jwks.json",
        "http://moto:5000/pool/.well-known/jwks.json",
        "http://localhost.example.com/jwks.json",
        "http://[::ffff:8.8.8.8]/jwks.json",
        "http://128.0.0.1/jwks.json",
        "ftp://example.com/jwks.json",
        "https:///jwks.json",
        "localhost:1234/pool/.well-known/jwks.json",
        "https://[::1/jwks.json",
        "https://a.example.com:abc/jwks.json",
        5,
        None,
    ],
)
def test_bad_jwks_uris_are_configuration_errors(uri: object) -> None:
    with pytest.raises(ConfigurationError):
        check_jwks_uri(uri)


def test_allow_http_opens_plain_http_to_other_hosts() -> None:
    uri = "http://moto:5000/pool/.well-known/jwks.json"
    assert check_jwks_uri(uri, allow_http=True) == uri
    with pytest.raises(ConfigurationError):
        check_jwks_uri("ftp://moto/jwks.json", allow_http=True)


async def test_plain_http_to_a_remote_host_is_refused_before_any_request(
    issuer: TokenIssuer,
) -> None:
    """Issue 11 #9: jwks_uri="http://..." used to be fetched for any host."""
    sent: list[str] = []

    async def hook(request: httpx.Request) -> None:
        sent.append(str(request.url))

    uri = "http://jwks.example.com/us-east-1_TestPool1/.well-known/jwks.json"
    async with httpx.AsyncClient(event_hooks={"request": [hook]}) as client:
        async with JwksCache(client=client) as cache:
            # The verifier refuses the URI when it is built, before any token arrives.
            with pytest.raises(ConfigurationError, match="plain http"):
                make_verifier(issuer, cache, uri)
            with pytest.raises(ConfigurationError, match="plain http"):
                await cache.hydrate(uri)
    assert sent == []


async def test_a_server_that_never_answers_fails_in_seconds_naming_the_uri(
    issuer: TokenIssuer,
) -> None:
    with socket.socket() as sock:  # accepts connections (backlog) and never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        uri = f"http://127.0.0.1:{sock.getsockname()[1]}/pool/.well-known/jwks.json"
        for client_timeout in ("own", None):
            async with contextlib.AsyncExitStack() as stack:
                client = None
                if client_timeout is None:  # a caller's client with no timeout at all
                    client = await stack.enter_async_context(httpx.AsyncClient(timeout=None))
                cache = await stack.enter_async_context(JwksCache(client=client, timeout=0.5))
                start = time.monotonic()
                with anyio.fail_after(10), pytest.raises(JwksFetchError) as info:
                    await cache.get_key(uri, issuer.kid)
                assert time.monotonic() - start < 3
                assert uri in str(info.value)
                assert "timed out" in str(info.value)


def test_default_timeouts_are_bounded() -> None:
    cache = JwksCache()
    assert cache.timeout == 5.0
    assert cache.connect_timeout == 3.0
    assert JwksCache(timeout=1, connect_timeout=3).connect_timeout == 1.0


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": "5"},
        {"timeout": 0},
        {"timeout": float("nan")},
        {"timeout": float("inf")},
        {"connect_timeout": -1},
        {"penalty_seconds": -1},
        {"penalty_seconds": True},
        {"max_bytes": 0},
        {"max_bytes": 1.5},
        {"client": 5},
    ],
)
def test_bad_cache_options_are_configuration_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        JwksCache(**options)


# --------------------------------------------------------------------------- JWK validation


def test_private_key_members_refuse_the_document(issuer: TokenIssuer) -> None:
    secret = "c2VjcmV0LWQtdmFsdWU"
    for member in ("d", "p", "qi"):
        leaked = {**issuer.jwk(), member: secret}
        with pytest.raises(JwksFetchError, match="private") as info:
            parse_jwks({"keys": [leaked]})
        assert secret not in str(info.value)
    with pytest.raises(JwksFetchError, match="private"):
        parse_jwks({"keys": [{"kid": "h", "kty": "oct", "k": secret}]})
    with pytest.raises(ConfigurationError, match="private"):
        CognitoVerifier(
            issuer.user_pool_id,
            client_id=CID,
            token_use="access",
            jwks={"keys": [{**issuer.jwk(), "d": secret}]},
        )


@pytest.mark.parametrize(
    "change",
    [
        {"x5c": "not-a-list"},
        {"x5t": 5},
        {"x5u": "not a url"},
        {"key_ops": ["verify", "encrypt"]},  # disagrees with use=sig
        {"key_ops": ["verify", "fly"]},
        {"e": "AQ"},  # an even exponent: not an RSA public key
    ],
)
def test_malformed_members_make_the_key_unusable(
    issuer: TokenIssuer, change: dict[str, Any]
) -> None:
    keys = parse_jwks({"keys": [{**issuer.jwk(), **change}]})
    jwk = keys[issuer.kid]
    assert type(jwk.problem) is JwkError
    assert "not a valid RSA public JWK" in str(jwk.problem)
    with pytest.raises(JwkError):
        jwk.public_key()
    token = issuer.access_token(client_id=CID)
    verifier = CognitoVerifier(
        issuer.user_pool_id,
        client_id=CID,
        token_use="access",
        jwks={"keys": [{**issuer.jwk(), **change}]},
    )
    with pytest.raises(JwkError):
        verifier.verify_sync(token)


def test_parsed_keys_are_ready_cryptography_keys(issuer: TokenIssuer) -> None:
    jwk = parse_jwks(issuer.jwks())[issuer.kid]
    key = jwk.public_key()
    assert isinstance(key, RSAPublicKey)
    assert key.public_numbers() == issuer._key.public_key().public_numbers()
    # Built at load, so verification never builds one.
    assert jwk._public_key is key


def test_deeply_nested_documents_are_fetch_errors(issuer: TokenIssuer) -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(JwksFetchError):
        parse_jwks({"keys": [{**issuer.jwk(), "x5c": deep}]})
    with pytest.raises(JwksFetchError):
        JwksCache().add("https://example.com/jwks.json", {"keys": [{**issuer.jwk(), "ext": deep}]})


def test_parsing_and_verifying_never_import_a_jose_library(issuer: TokenIssuer) -> None:
    """A JWKS loads with acognito's own checks: no joserfc import (~40 ms) on a cold start."""
    token = issuer.access_token(client_id=CID)
    script = (
        "import sys, json\n"
        "from acognito.verify import CognitoVerifier\n"
        "from acognito.jwks import JwksCache, parse_jwks\n"
        "JwksCache()\n"
        f"keys = parse_jwks(json.loads({json.dumps(json.dumps(issuer.jwks()))}))\n"
        f"v = CognitoVerifier({issuer.user_pool_id!r}, client_id={CID!r}, token_use='access',\n"
        f"    jwks=json.loads({json.dumps(json.dumps(issuer.jwks()))}))\n"
        f"assert v.verify_sync({token!r})['client_id'] == {CID!r}\n"
        "assert not [m for m in sys.modules if m.startswith('joserfc')], 'joserfc imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


# --------------------------------------------------------------------------- blocking fetch


def test_verify_sync_fetches_with_a_blocking_request_outside_an_event_loop(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    """Flask, Django, a Lambda: no event loop, no async code, one fetch per JWKS."""
    cache = JwksCache()
    verifier = make_verifier(issuer, cache, server.url)
    for i in range(5):
        claims = verifier.verify_sync(issuer.access_token(client_id=CID, username=f"u{i}"))
        assert claims["client_id"] == CID
    assert server.requests == 1
    assert cache.kids(server.url) == [issuer.kid]


def test_concurrent_threads_share_one_blocking_fetch(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    server.delay = 0.3  # every thread arrives while the first fetch is on the wire
    verifier = make_verifier(issuer, JwksCache(), server.url)
    tokens = [issuer.access_token(client_id=CID, username=f"t{i}") for i in range(8)]
    results: list[object] = []

    def work(token: str) -> None:
        try:
            results.append(verifier.verify_sync(token)["client_id"])
        except Exception as exc:  # pragma: no cover - shown by the assert below
            results.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [CID] * 8
    assert server.requests == 1


def test_blocking_fetch_picks_up_a_rotated_key_and_shares_the_penalty_box(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    clock = FakeClock()
    cache = JwksCache(clock=clock, penalty_seconds=10)
    verifier = make_verifier(issuer, cache, server.url)
    cache.hydrate_sync(server.url)
    assert server.requests == 1
    rotated = TokenIssuer(issuer.user_pool_id)
    server.rotate({"keys": [*issuer.jwks()["keys"], rotated.jwk()]})
    assert verifier.verify_sync(rotated.access_token(client_id=CID))["client_id"] == CID
    assert server.requests == 2  # one refetch for the new kid
    stranger = TokenIssuer(issuer.user_pool_id)
    with pytest.raises(KidNotFoundInJwksError):
        verifier.verify_sync(stranger.access_token(client_id=CID))
    assert server.requests == 3
    with pytest.raises(JwksPenaltyBoxError):
        verifier.verify_sync(stranger.access_token(client_id=CID))
    assert server.requests == 3  # the penalty box held
    # The async path sees the same penalty box.
    with pytest.raises(JwksPenaltyBoxError):
        anyio.run(verifier.verify, stranger.access_token(client_id=CID))
    assert server.requests == 3


def test_a_blocking_fetch_outage_is_a_fetch_error_then_a_fetch_penalty(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    cache = JwksCache(penalty_seconds=10)
    verifier = make_verifier(issuer, cache, server.url)
    verifier.hydrate_sync()
    server.status = 503
    with pytest.raises(JwksFetchError) as first:
        verifier.verify_sync(TokenIssuer(issuer.user_pool_id).access_token(client_id=CID))
    assert "HTTP 503" in str(first.value)
    with pytest.raises(JwksFetchPenaltyError):
        verifier.verify_sync(TokenIssuer(issuer.user_pool_id).access_token(client_id=CID))
    assert server.requests == 2
    # Known keys keep verifying meanwhile.
    assert verifier.verify_sync(issuer.access_token(client_id=CID))["client_id"] == CID
    cold = make_verifier(issuer, JwksCache(), server.url)
    with pytest.raises(JwksFetchError):
        cold.verify_sync(issuer.access_token(client_id=CID))


def test_blocking_fetch_refuses_redirects_and_huge_bodies(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    server.status, server.location = 302, "http://127.0.0.1:1/elsewhere"
    with pytest.raises(JwksFetchError, match="redirect"):
        JwksCache().hydrate_sync(server.url)
    server.status, server.location = 200, None
    server.body = b"{" + b" " * 5000 + b"}"
    with pytest.raises(JwksFetchError, match="larger than"):
        JwksCache(max_bytes=1000).hydrate_sync(server.url)
    server.send_length = False
    with pytest.raises(JwksFetchError, match="larger than"):
        JwksCache(max_bytes=1000).hydrate_sync(server.url)


def test_blocking_fetch_times_out(server: JwksTestServer, issuer: TokenIssuer) -> None:
    server.delay = 3
    with pytest.raises(JwksFetchError, match="timed out"):
        JwksCache(timeout=0.5).hydrate_sync(server.url)


def test_a_closed_cache_does_not_fetch_from_blocking_code(
    server: JwksTestServer, issuer: TokenIssuer
) -> None:
    cache = JwksCache()
    cache.close()
    with pytest.raises(JwksFetchError, match="closed"):
        make_verifier(issuer, cache, server.url).verify_sync(issuer.access_token(client_id=CID))
    assert server.requests == 0


def test_a_caller_s_blocking_client_is_used(server: JwksTestServer, issuer: TokenIssuer) -> None:
    seen: list[str] = []
    with httpx.Client(event_hooks={"request": [lambda r: seen.append(str(r.url))]}) as client:
        verifier = make_verifier(issuer, JwksCache(sync_client=client), server.url)
        assert verifier.verify_sync(issuer.access_token(client_id=CID))["client_id"] == CID
    assert seen == [server.url]
    with pytest.raises(ConfigurationError):
        JwksCache(sync_client=object())  # type: ignore[arg-type]
