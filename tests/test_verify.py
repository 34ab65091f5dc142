"""CognitoVerifier: every check, each with a token that only that check rejects.

Tokens come from acognito.testing.TokenIssuer (real RS256 signatures) and from moto
(a real local Cognito on loopback). Async tests run on asyncio and trio; the
rejection table runs through both ``verify`` and ``verify_sync``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from acognito.errors import (
    ConfigurationError,
    JwkError,
    JwkInvalidKtyError,
    JwkInvalidUseError,
    JwtAtHashMismatchError,
    JwtCustomCheckError,
    JwtExpiredError,
    JwtInvalidAudienceError,
    JwtInvalidClaimError,
    JwtInvalidClientIdError,
    JwtInvalidGroupError,
    JwtInvalidIssuerError,
    JwtInvalidScopeError,
    JwtInvalidSignatureAlgorithmError,
    JwtInvalidSignatureError,
    JwtInvalidTokenUseError,
    JwtNotBeforeError,
    JwtParseError,
    JwtWithoutValidKidError,
    KidNotFoundInJwksError,
    TokenVerificationError,
    TokenVerificationException,
)
from acognito.jwks import JwksCache
from acognito.testing import DEFAULT_PASSWORD, TokenIssuer
from acognito.verify import CognitoVerifier, MultiPoolVerifier, at_hash

pytestmark = pytest.mark.anyio

CID = "client-1"
OTHER = "attacker-client-9"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_raw(issuer: TokenIssuer, header: str, payload: str) -> str:
    """Sign raw JSON text exactly as given (for JSON json.dumps would never write)."""
    signing_input = f"{b64(header.encode())}.{b64(payload.encode())}"
    sig = issuer.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(sig)}"


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer("us-east-1_TestPool1")


@pytest.fixture(scope="module")
def other_issuer() -> TokenIssuer:
    """Another pool, with its own key."""
    return TokenIssuer("eu-west-1_OtherPool")


def verifier_for(issuer: TokenIssuer, **kw: Any) -> CognitoVerifier:
    kw.setdefault("client_id", CID)
    kw.setdefault("token_use", "access")
    kw.setdefault("jwks", issuer.jwks())
    return CognitoVerifier(issuer.user_pool_id, **kw)


async def run(
    verifier: CognitoVerifier | MultiPoolVerifier, mode: str, token: Any, **kw: Any
) -> dict[str, Any]:
    if mode == "sync":
        return verifier.verify_sync(token, **kw)
    return await verifier.verify(token, **kw)


def assert_quiet(exc: BaseException, token: str, *sensitive: str) -> None:
    """No message or repr carries the token or a sensitive claim value."""
    text = f"{exc} {exc!r}"
    assert token not in text
    for part in token.split("."):
        if len(part) > 8:
            assert part not in text
    for value in sensitive:
        assert value not in text


# --------------------------------------------------------------------------- acceptance


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_valid_access_and_id_tokens(issuer: TokenIssuer, mode: str) -> None:
    access = issuer.access_token(client_id=CID, username="alice", groups=["admins"])
    claims = await run(verifier_for(issuer), mode, access)
    assert claims["username"] == "alice"
    assert claims["client_id"] == CID
    assert claims["cognito:groups"] == ["admins"]

    id_token = issuer.id_token(client_id=CID, username="alice", email="a@example.com")
    claims = await run(verifier_for(issuer, token_use="id"), mode, id_token)
    assert claims["cognito:username"] == "alice"
    assert claims["email"] == "a@example.com"


def test_defaults_issuer_and_jwks_uri() -> None:
    v = CognitoVerifier("ap-southeast-2_AbC123", client_id=CID, token_use="id")
    assert v.issuer == "https://cognito-idp.ap-southeast-2.amazonaws.com/ap-southeast-2_AbC123"
    assert v.jwks_uri == v.issuer + "/.well-known/jwks.json"
    assert v.region == "ap-southeast-2"
    gov = CognitoVerifier("us-gov-west-1_X1", client_id=CID, token_use="id")
    assert gov.issuer.startswith("https://cognito-idp.us-gov-west-1.amazonaws.com/")
    # An emulator: the JWKS on the local endpoint, iss in the AWS form.
    emu = CognitoVerifier(
        "us-east-1_X1",
        client_id=CID,
        token_use="id",
        jwks_uri="http://127.0.0.1:5000/us-east-1_X1/.well-known/jwks.json",
    )
    assert emu.issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X1"
    local = CognitoVerifier(
        "local_6jIP5Vfn",
        client_id=CID,
        token_use="id",
        issuer="http://localhost:9229/local_6jIP5Vfn",
    )
    assert local.jwks_uri == "http://localhost:9229/local_6jIP5Vfn/.well-known/jwks.json"


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_client_id_forms(issuer: TokenIssuer, mode: str) -> None:
    token = issuer.access_token(client_id=CID)
    assert (await run(verifier_for(issuer, client_id=["x", CID]), mode, token))["client_id"] == CID
    assert (await run(verifier_for(issuer, client_id=None), mode, token))["client_id"] == CID
    id_token = issuer.id_token(client_id=CID, aud=["x", CID])
    claims = await run(verifier_for(issuer, token_use="id", client_id=("y", CID)), mode, id_token)
    assert claims["aud"] == ["x", CID]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_token_use_none_accepts_both(issuer: TokenIssuer, mode: str) -> None:
    v = verifier_for(issuer, token_use=None)
    assert (await run(v, mode, issuer.access_token(client_id=CID)))["token_use"] == "access"
    assert (await run(v, mode, issuer.id_token(client_id=CID)))["token_use"] == "id"


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_groups_and_scope_overlap(issuer: TokenIssuer, mode: str) -> None:
    v = verifier_for(issuer, groups=["admins", "ops"], scope=["write", "read"])
    token = issuer.access_token(client_id=CID, groups=["users", "ops"], scope="openid read")
    assert (await run(v, mode, token))["scope"] == "openid read"
    single = verifier_for(issuer, groups="ops", scope="openid")
    assert (await run(single, mode, token))["cognito:groups"] == ["users", "ops"]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_grace_seconds_tolerate_skew(issuer: TokenIssuer, mode: str) -> None:
    now = int(time.time())
    expired = issuer.access_token(client_id=CID, now=now - 100, lifetime=95)  # 5 s ago
    with pytest.raises(JwtExpiredError):
        await run(verifier_for(issuer), mode, expired)
    assert (await run(verifier_for(issuer, grace_seconds=10), mode, expired))["client_id"] == CID
    early = issuer.access_token(client_id=CID, nbf=now + 5)
    with pytest.raises(JwtNotBeforeError):
        await run(verifier_for(issuer), mode, early)
    assert (await run(verifier_for(issuer, grace_seconds=10), mode, early))["client_id"] == CID


def test_exp_boundary_uses_the_clock(issuer: TokenIssuer) -> None:
    token = issuer.access_token(client_id=CID, now=1_000_000, lifetime=60)
    clock = FakeClock(1_000_059.5)
    v = verifier_for(issuer, clock=clock, cache_size=0)
    assert v.verify_sync(token)["exp"] == 1_000_060
    clock.now = 1_000_060  # RFC 7519: valid only *before* exp
    with pytest.raises(JwtExpiredError):
        v.verify_sync(token)


# --------------------------------------------------------------------------- rejections


def _forge(header: dict[str, Any], payload: dict[str, Any], sig: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{b64(sig)}"


def _tamper(token: str) -> str:
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["username"] = "mallory"
    return f"{head}.{b64(json.dumps(claims).encode())}.{sig}"


def _hs256_with_public_key(issuer: TokenIssuer) -> str:
    pem = issuer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = b64(json.dumps({"alg": "HS256", "kid": issuer.kid}).encode())
    claims = {"iss": issuer.issuer, "token_use": "access", "client_id": CID, "exp": 2**40}
    body = b64(json.dumps(claims).encode())
    mac = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


def _jwks_with(issuer: TokenIssuer, **changes: Any) -> dict[str, Any]:
    jwk = {**issuer.jwk(), **changes}
    return {"keys": [{k: v for k, v in jwk.items() if v is not None}]}


def _claims(issuer: TokenIssuer, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": issuer.issuer,
        "token_use": "access",
        "client_id": CID,
        "exp": int(time.time()) + 600,
        "username": "alice",
    }
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


# name -> (token factory, verifier options, expected error class)
Case = tuple[Callable[[TokenIssuer, TokenIssuer], str], dict[str, Any], type[BaseException]]
CASES: dict[str, Case] = {
    "expired": (lambda i, o: i.access_token(client_id=CID, lifetime=-10), {}, JwtExpiredError),
    "not yet valid": (
        lambda i, o: i.access_token(client_id=CID, nbf=int(time.time()) + 600),
        {},
        JwtNotBeforeError,
    ),
    "missing exp": (lambda i, o: i.sign(_claims(i, exp=None)), {}, JwtInvalidClaimError),
    "exp a string": (lambda i, o: i.sign(_claims(i, exp="2999-01-01")), {}, JwtInvalidClaimError),
    "exp a bool": (lambda i, o: i.sign(_claims(i, exp=True)), {}, JwtInvalidClaimError),
    "exp overflowing to inf": (
        lambda i, o: sign_raw(
            i,
            json.dumps({"alg": "RS256", "kid": i.kid}),
            json.dumps(_claims(i, exp=None))[:-1] + ', "exp": 1e999}',
        ),
        {},
        JwtInvalidClaimError,
    ),
    "exp NaN": (
        lambda i, o: sign_raw(
            i,
            json.dumps({"alg": "RS256", "kid": i.kid}),
            json.dumps(_claims(i, exp=None))[:-1] + ', "exp": NaN}',
        ),
        {},
        JwtParseError,
    ),
    "nbf a list": (lambda i, o: i.sign(_claims(i, nbf=[])), {}, JwtInvalidClaimError),
    "wrong issuer": (
        lambda i, o: i.sign(_claims(i, iss=o.issuer)),
        {},
        JwtInvalidIssuerError,
    ),
    "iss not a string": (lambda i, o: i.sign(_claims(i, iss=7)), {}, JwtInvalidClaimError),
    "id token to an access verifier": (
        lambda i, o: i.id_token(client_id=CID),
        {},
        JwtInvalidTokenUseError,
    ),
    "access token to an id verifier": (
        lambda i, o: i.access_token(client_id=CID),
        {"token_use": "id"},
        JwtInvalidTokenUseError,
    ),
    "unknown token_use": (
        lambda i, o: i.sign(_claims(i, token_use="refresh")),
        {"token_use": None},
        JwtInvalidTokenUseError,
    ),
    "missing token_use": (
        lambda i, o: i.sign(_claims(i, token_use=None)),
        {"token_use": None, "client_id": None},
        JwtInvalidTokenUseError,
    ),
    "other client (access)": (
        lambda i, o: i.access_token(client_id=OTHER),
        {},
        JwtInvalidClientIdError,
    ),
    "other client (id aud)": (
        lambda i, o: i.id_token(client_id=OTHER),
        {"token_use": "id"},
        JwtInvalidAudienceError,
    ),
    "id token without aud": (
        lambda i, o: i.sign(_claims(i, token_use="id", client_id=None)),
        {"token_use": "id"},
        JwtInvalidAudienceError,
    ),
    "aud a number": (
        lambda i, o: i.sign(_claims(i, token_use="id", aud=5)),
        {"token_use": "id"},
        JwtInvalidClaimError,
    ),
    "aud an empty list": (
        lambda i, o: i.sign(_claims(i, token_use="id", aud=[])),
        {"token_use": "id"},
        JwtInvalidClaimError,
    ),
    "alg none": (
        lambda i, o: _forge({"alg": "none", "kid": i.kid}, _claims(i)),
        {},
        JwtInvalidSignatureAlgorithmError,
    ),
    "alg none without kid": (
        lambda i, o: _forge({"alg": "none"}, _claims(i)),
        {},
        JwtInvalidSignatureAlgorithmError,
    ),
    "HS256 with the public key as secret": (
        lambda i, o: _hs256_with_public_key(i),
        {},
        JwtInvalidSignatureAlgorithmError,
    ),
    "RS512 header": (
        lambda i, o: i.sign(_claims(i), header={"alg": "RS512", "kid": i.kid}),
        {},
        JwtInvalidSignatureAlgorithmError,
    ),
    "unknown kid": (
        lambda i, o: i.sign(_claims(i), header={"alg": "RS256", "kid": "no-such-kid"}),
        {},
        KidNotFoundInJwksError,
    ),
    "missing kid": (
        lambda i, o: i.sign(_claims(i), header={"alg": "RS256"}),
        {},
        JwtWithoutValidKidError,
    ),
    "kid not a string": (
        lambda i, o: i.sign(_claims(i), header={"alg": "RS256", "kid": 1}),
        {},
        JwtWithoutValidKidError,
    ),
    "crit header": (
        lambda i, o: i.sign(_claims(i), header={"alg": "RS256", "kid": i.kid, "crit": ["x"]}),
        {},
        JwtParseError,
    ),
    "key meant for encryption": (
        lambda i, o: i.access_token(client_id=CID),
        {"jwks": "use=enc"},
        JwkInvalidUseError,
    ),
    "key_ops without verify": (
        lambda i, o: i.access_token(client_id=CID),
        {"jwks": "key_ops=encrypt"},
        JwkInvalidUseError,
    ),
    "kty mismatch": (
        lambda i, o: i.access_token(client_id=CID),
        {"jwks": "kty=EC"},
        JwkInvalidKtyError,
    ),
    "key alg RS384": (
        lambda i, o: i.access_token(client_id=CID),
        {"jwks": "alg=RS384"},
        JwtInvalidSignatureAlgorithmError,
    ),
    "tampered payload": (
        lambda i, o: _tamper(i.access_token(client_id=CID)),
        {},
        JwtInvalidSignatureError,
    ),
    "signed by another key with our kid": (
        lambda i, o: o.sign(_claims(i), header={"alg": "RS256", "kid": i.kid}),
        {},
        JwtInvalidSignatureError,
    ),
    "stripped signature": (
        lambda i, o: i.access_token(client_id=CID).rsplit(".", 1)[0] + ".",
        {},
        JwtInvalidSignatureError,
    ),
    "two parts": (
        lambda i, o: i.access_token(client_id=CID).rsplit(".", 1)[0],
        {},
        JwtParseError,
    ),
    "padded segment": (
        lambda i, o: i.access_token(client_id=CID) + "==",
        {},
        JwtParseError,
    ),
    "payload a JSON list": (
        lambda i, o: sign_raw(i, json.dumps({"alg": "RS256", "kid": i.kid}), "[1, 2]"),
        {},
        JwtParseError,
    ),
    "not in the group": (
        lambda i, o: i.access_token(client_id=CID, groups=["users"]),
        {"groups": ["admins"]},
        JwtInvalidGroupError,
    ),
    "no groups at all": (
        lambda i, o: i.access_token(client_id=CID),
        {"groups": "admins"},
        JwtInvalidGroupError,
    ),
    "groups not a list": (
        lambda i, o: i.sign(_claims(i, **{"cognito:groups": "admins"})),
        {"groups": "admins"},
        JwtInvalidClaimError,
    ),
    "missing scope": (
        lambda i, o: i.access_token(client_id=CID, scope="openid profile"),
        {"scope": ["write"]},
        JwtInvalidScopeError,
    ),
    "scope substring is not a scope": (
        lambda i, o: i.access_token(client_id=CID, scope="writer"),
        {"scope": "write"},
        JwtInvalidScopeError,
    ),
    "scope not a string": (
        lambda i, o: i.sign(_claims(i, scope=["write"])),
        {"scope": "write"},
        JwtInvalidClaimError,
    ),
}


def _options(issuer: TokenIssuer, options: dict[str, Any]) -> dict[str, Any]:
    opts = dict(options)
    change = opts.pop("jwks", None)
    if change is not None:
        key, value = change.split("=")
        opts["jwks"] = _jwks_with(issuer, **{key: [value] if key == "key_ops" else value})
    return opts


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("name", list(CASES))
async def test_each_check_rejects(
    issuer: TokenIssuer, other_issuer: TokenIssuer, name: str, mode: str
) -> None:
    factory, options, expected = CASES[name]
    token = factory(issuer, other_issuer)
    verifier = verifier_for(issuer, **_options(issuer, options))
    with pytest.raises(TokenVerificationError) as info:
        await run(verifier, mode, token)
    assert type(info.value) is expected, f"{name}: got {type(info.value).__name__}"
    assert isinstance(info.value, TokenVerificationException)  # pycognito's name
    assert_quiet(info.value, token, "alice", "mallory", OTHER)
    assert verifier.cached_tokens == 0


def test_short_rsa_key_is_refused() -> None:
    weak = TokenIssuer("us-east-1_Weak1", key_size=1024)
    with pytest.raises(JwkError, match="2048"):
        verifier_for(weak).verify_sync(weak.access_token(client_id=CID))


@pytest.mark.parametrize(
    "token",
    [None, b"a.b.c", 42, "", "...", "a.b.c.d", "é.b.c", "x" * 70_000, " " + "a.b.c"],
)
def test_non_tokens_are_parse_errors(issuer: TokenIssuer, token: Any) -> None:
    with pytest.raises(JwtParseError):
        verifier_for(issuer).verify_sync(token)


def test_oversized_token_is_refused_before_any_work(issuer: TokenIssuer) -> None:
    huge = issuer.access_token(client_id=CID, blob="a" * 70_000)  # validly signed
    with pytest.raises(JwtParseError, match="longer"):
        verifier_for(issuer).verify_sync(huge)
    fits = issuer.access_token(client_id=CID, blob="a" * 30_000)
    assert len(verifier_for(issuer).verify_sync(fits)["blob"]) == 30_000


def test_only_the_named_check_fails(issuer: TokenIssuer) -> None:
    """Each rejecting case is accepted once the one thing it breaks is allowed."""
    token = issuer.access_token(client_id=OTHER)
    assert verifier_for(issuer, client_id=OTHER).verify_sync(token)["client_id"] == OTHER
    token = issuer.access_token(client_id=CID, groups=["users"])
    assert verifier_for(issuer, groups=["users"]).verify_sync(token)
    token = issuer.access_token(client_id=CID, scope="openid profile")
    assert verifier_for(issuer, scope="profile").verify_sync(token)


# --------------------------------------------------------------------------- custom check


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_custom_check_sync(issuer: TokenIssuer, mode: str) -> None:
    calls: list[str] = []

    def must_be_alice(claims: dict[str, Any]) -> None:
        calls.append(claims["username"])
        if claims["username"] != "alice":
            raise ValueError("not alice: secret-detail")

    v = verifier_for(issuer, custom_check=must_be_alice)
    assert await run(v, mode, issuer.access_token(client_id=CID, username="alice"))
    token = issuer.access_token(client_id=CID, username="bob")
    with pytest.raises(JwtCustomCheckError) as info:
        await run(v, mode, token)
    assert isinstance(info.value.__cause__, ValueError)
    assert_quiet(info.value, token, "secret-detail", "bob")
    assert calls == ["alice", "bob"]

    # The custom check runs last: an expired token never reaches it.
    with pytest.raises(JwtExpiredError):
        await run(v, mode, issuer.access_token(client_id=CID, username="carol", lifetime=-5))
    assert calls == ["alice", "bob"]

    # False rejects; a TokenVerificationError passes through as it is.
    with pytest.raises(JwtCustomCheckError):
        await run(verifier_for(issuer, custom_check=lambda c: False), mode, token)

    def typed(claims: dict[str, Any]) -> None:
        raise JwtInvalidGroupError("custom group rule", claim="cognito:groups")

    with pytest.raises(JwtInvalidGroupError):
        await run(verifier_for(issuer, custom_check=typed), mode, token)


async def test_custom_check_async(issuer: TokenIssuer) -> None:
    async def not_revoked(claims: dict[str, Any]) -> None:
        await anyio.lowlevel.checkpoint()
        if claims["jti"] in revoked:
            raise LookupError("revoked")

    revoked: set[str] = set()
    v = verifier_for(issuer, custom_check=not_revoked)
    token = issuer.access_token(client_id=CID)
    claims = await v.verify(token)
    revoked.add(claims["jti"])
    # It also runs for a token answered from the verified-token cache.
    with pytest.raises(JwtCustomCheckError) as info:
        await v.verify(token)
    assert isinstance(info.value.__cause__, LookupError)
    with pytest.raises(ConfigurationError, match="async"):
        v.verify_sync(token)

    def sneaky(claims: dict[str, Any]) -> Any:
        return not_revoked(claims)  # a sync function returning a coroutine

    with pytest.raises(ConfigurationError, match="awaitable"):
        verifier_for(issuer, custom_check=sneaky).verify_sync(issuer.access_token(client_id=CID))
    with pytest.raises(JwtCustomCheckError):
        await verifier_for(issuer, custom_check=sneaky).verify(token)


async def test_cancellation_inside_a_custom_check_is_not_wrapped(issuer: TokenIssuer) -> None:
    async def slow(claims: dict[str, Any]) -> None:
        await anyio.sleep(10)

    v = verifier_for(issuer, custom_check=slow)
    with anyio.move_on_after(0.05) as scope:
        await v.verify(issuer.access_token(client_id=CID))
    assert scope.cancelled_caught


# --------------------------------------------------------------------------- at_hash


def test_at_hash_matches_the_openid_connect_example() -> None:
    # OpenID Connect Core 1.0, appendix A.3 / A.4 (RS256).
    assert at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y") == "77QmUPtjPfzWtF2AnpK9RQ"


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_at_hash_binds_the_id_token_to_its_access_token(
    issuer: TokenIssuer, mode: str
) -> None:
    access = issuer.access_token(client_id=CID)
    other_access = issuer.access_token(client_id=CID)
    id_token = issuer.id_token(client_id=CID, at_hash=at_hash(access))
    v = verifier_for(issuer, token_use="id")
    assert (await run(v, mode, id_token, access_token=access))["at_hash"] == at_hash(access)
    with pytest.raises(JwtAtHashMismatchError) as info:
        await run(v, mode, id_token, access_token=other_access)
    assert_quiet(info.value, id_token)
    assert other_access not in str(info.value)
    # Without access_token no binding is asked for; with it, the pair is cached as a pair.
    assert (await run(v, mode, id_token))["token_use"] == "id"
    with pytest.raises(JwtAtHashMismatchError):
        await run(v, mode, id_token, access_token=other_access)
    with pytest.raises(JwtParseError):
        await run(v, mode, id_token, access_token=b"bytes")


# --------------------------------------------------------------------------- verified-token cache


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_cache_hit_returns_equal_claims_that_callers_cannot_poison(
    issuer: TokenIssuer, mode: str
) -> None:
    v = verifier_for(issuer)
    token = issuer.access_token(client_id=CID, groups=["admins"], extra={"nested": {"k": [1]}})
    first = await run(v, mode, token)
    assert v.cached_tokens == 1
    pristine = json.loads(json.dumps(first))
    first["cognito:groups"].append("root")
    first["username"] = "mallory"
    second = await run(v, mode, token)
    assert second == pristine
    second["extra"]["nested"]["k"].append(2)
    second["cognito:groups"].clear()
    third = await run(v, mode, token)
    assert third == pristine
    assert third is not second


def test_cache_never_returns_an_expired_token(issuer: TokenIssuer) -> None:
    clock = FakeClock(2_000_000)
    v = verifier_for(issuer, clock=clock, grace_seconds=5)
    token = issuer.access_token(client_id=CID, now=2_000_000, lifetime=30)
    assert v.verify_sync(token)["exp"] == 2_000_030
    clock.now = 2_000_034.9  # past exp, inside the grace period: still a hit
    assert v.verify_sync(token)["exp"] == 2_000_030
    clock.now = 2_000_035
    with pytest.raises(JwtExpiredError):
        v.verify_sync(token)
    assert v.cached_tokens == 0  # the stale entry was dropped


def test_cache_drops_tokens_whose_key_left_the_jwks(issuer: TokenIssuer) -> None:
    cache = JwksCache()
    v = verifier_for(issuer, jwks=None, jwks_cache=cache)
    cache.add(v.jwks_uri, issuer.jwks(), static=True)
    token = issuer.access_token(client_id=CID)
    assert v.verify_sync(token)
    assert v.verify_sync(token)  # a hit
    cache.add(v.jwks_uri, TokenIssuer().jwks(), static=True)  # the key is gone
    with pytest.raises(KidNotFoundInJwksError):
        v.verify_sync(token)


def test_cache_is_bounded_and_can_be_disabled(issuer: TokenIssuer) -> None:
    tokens = [issuer.access_token(client_id=CID, username=f"u{i}") for i in range(3)]
    small = verifier_for(issuer, cache_size=2)
    for token in tokens:
        small.verify_sync(token)
    assert small.cached_tokens == 2
    small.clear_cache()
    assert small.cached_tokens == 0
    off = verifier_for(issuer, cache_size=0)
    for token in tokens:
        assert off.verify_sync(token)["username"].startswith("u")
    assert off.cached_tokens == 0


# --------------------------------------------------------------------------- several pools


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_multi_pool_routes_by_issuer(
    issuer: TokenIssuer, other_issuer: TokenIssuer, mode: str
) -> None:
    multi = CognitoVerifier.for_pools(
        [
            {
                "user_pool_id": issuer.user_pool_id,
                "client_id": CID,
                "token_use": "access",
                "jwks": issuer.jwks(),
            },
            {
                "user_pool_id": other_issuer.user_pool_id,
                "client_id": "other-app",
                "token_use": "id",
                "jwks": other_issuer.jwks(),
                "groups": ["staff"],
            },
        ]
    )
    assert isinstance(multi, MultiPoolVerifier)
    assert (await run(multi, mode, issuer.access_token(client_id=CID)))["iss"] == issuer.issuer
    good = other_issuer.id_token(client_id="other-app", groups=["staff"])
    assert (await run(multi, mode, good))["iss"] == other_issuer.issuer
    assert (await run(multi, mode, good))["aud"] == "other-app"  # a cache hit
    assert multi.cached_tokens == 2
    # Each pool keeps its own rules.
    with pytest.raises(JwtInvalidClientIdError):
        await run(multi, mode, issuer.access_token(client_id="other-app"))
    with pytest.raises(JwtInvalidGroupError):
        await run(multi, mode, other_issuer.id_token(client_id="other-app"))
    # A pool not configured, and a token of pool A claiming pool B's issuer.
    third = TokenIssuer("us-west-2_Third")
    with pytest.raises(JwtInvalidIssuerError):
        await run(multi, mode, third.access_token(client_id=CID))
    with pytest.raises(JwtInvalidSignatureError):
        await run(
            multi,
            mode,
            issuer.sign(
                _claims(issuer, iss=other_issuer.issuer, token_use="id", aud="other-app"),
                header={"alg": "RS256", "kid": other_issuer.kid},
            ),
        )
    with pytest.raises(KidNotFoundInJwksError):
        await run(multi, mode, issuer.sign(_claims(issuer, iss=other_issuer.issuer)))


def test_multi_pool_configuration_errors(issuer: TokenIssuer) -> None:
    pool = {"user_pool_id": issuer.user_pool_id, "client_id": CID, "token_use": "access"}
    with pytest.raises(ConfigurationError, match="twice"):
        CognitoVerifier.for_pools([pool, pool])
    with pytest.raises(ConfigurationError):
        CognitoVerifier.for_pools([])
    with pytest.raises(ConfigurationError):
        CognitoVerifier.for_pools([{"user_pool_id": issuer.user_pool_id, "client_id": CID}])
    with pytest.raises(ConfigurationError):
        CognitoVerifier.for_pools(["us-east-1_X"])  # type: ignore[list-item]
    ready = verifier_for(issuer)
    multi = CognitoVerifier.for_pools([ready])
    assert multi.verifiers == {issuer.issuer: ready}
    assert multi.verify_sync(issuer.access_token(client_id=CID))["client_id"] == CID


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    "pool_id",
    ["", "us-east-1", "us-east-1_", "_abc", "us east-1_abc", "us-east-1_a.b", "u_" + "a" * 60],
)
def test_bad_user_pool_ids(pool_id: str) -> None:
    with pytest.raises(ConfigurationError):
        CognitoVerifier(pool_id, client_id=CID, token_use="id")


@pytest.mark.parametrize(
    "options",
    [
        {"token_use": "refresh"},
        {"client_id": []},
        {"client_id": ""},
        {"client_id": [CID, 7]},
        {"client_id": 7},
        {"groups": b"admins"},
        {"groups": []},
        {"scope": [""]},
        {"grace_seconds": -1},
        {"grace_seconds": float("nan")},
        {"grace_seconds": True},
        {"jwks": {"keys": "nope"}},
        {"jwks_uri": "file:///etc/passwd"},
        {"custom_check": "not callable"},
        {"cache_size": -1},
    ],
)
def test_bad_options_are_configuration_errors(issuer: TokenIssuer, options: dict[str, Any]) -> None:
    kw: dict[str, Any] = {"client_id": CID, "token_use": "access", **options}
    with pytest.raises(ConfigurationError):
        CognitoVerifier(issuer.user_pool_id, **kw)
    assert issubclass(ConfigurationError, ValueError)


def test_region_less_pool_id_needs_an_issuer() -> None:
    with pytest.raises(ConfigurationError, match="issuer"):
        CognitoVerifier("local_6jIP5Vfn", client_id=CID, token_use="id")


def test_client_id_and_token_use_are_required(issuer: TokenIssuer) -> None:
    with pytest.raises(TypeError):
        CognitoVerifier(issuer.user_pool_id, token_use="id")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        CognitoVerifier(issuer.user_pool_id, client_id=CID)  # type: ignore[call-arg]


def test_repr_is_short_and_has_no_keys(issuer: TokenIssuer) -> None:
    text = repr(verifier_for(issuer))
    assert issuer.user_pool_id in text
    assert CID in text
    assert issuer.jwk()["n"][:20] not in text


# --------------------------------------------------------------------------- against moto


async def test_moto_tokens_verify_with_the_emulator_jwks(
    cognito_admin: Any, cognito_pool: Any
) -> None:
    pool = cognito_pool
    await cognito_admin.create_user(pool.user_pool_id, "alice")
    await cognito_admin.create_group(pool.user_pool_id, "staff")
    await cognito_admin.add_to_group(pool.user_pool_id, "alice", "staff")
    resp = await cognito_admin.idp.call(
        "admin_initiate_auth",
        UserPoolId=pool.user_pool_id,
        ClientId=pool.public_client.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": DEFAULT_PASSWORD},
    )
    tokens = resp["AuthenticationResult"]
    async with JwksCache() as cache:
        common = {
            "client_id": pool.public_client.client_id,
            "jwks_uri": pool.jwks_uri,
            "jwks_cache": cache,
        }
        access_v = CognitoVerifier(pool.user_pool_id, token_use="access", groups="staff", **common)
        id_v = CognitoVerifier(pool.user_pool_id, token_use="id", **common)
        assert (
            access_v.issuer
            == f"https://cognito-idp.{pool.region}.amazonaws.com/{pool.user_pool_id}"
        )
        access = await access_v.verify(tokens["AccessToken"])
        assert access["username"] == "alice"
        assert access["cognito:groups"] == ["staff"]
        # The shared cache now holds the pool's JWKS: the sync path works too.
        claims = id_v.verify_sync(tokens["IdToken"], access_token=tokens["AccessToken"])
        assert claims["cognito:username"] == "alice"
        with pytest.raises(JwtInvalidTokenUseError):
            await access_v.verify(tokens["IdToken"])
        wrong_client = CognitoVerifier(
            pool.user_pool_id,
            client_id=pool.secret_client.client_id,
            token_use="access",
            jwks_uri=pool.jwks_uri,
            jwks_cache=cache,
        )
        with pytest.raises(JwtInvalidClientIdError):
            await wrong_client.verify(tokens["AccessToken"])
        with pytest.raises(JwtInvalidSignatureError):
            await access_v.verify(_tamper(tokens["AccessToken"]))


# --------------------------------------------------------------------------- hardening


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat", "auth_time"])
@pytest.mark.parametrize("value", ["1" + "0" * 400, "-1" + "0" * 400, "9007199254740993"])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_signed_time_claims_out_of_range_are_typed(
    issuer: TokenIssuer, claim: str, value: str, mode: str
) -> None:
    now = int(time.time())
    claims = {
        "iss": issuer.issuer,
        "token_use": "access",
        "client_id": CID,
        "exp": now + 600,
        "sub": "s",
    }
    text = json.dumps(claims)[:-1] + f', "{claim}": {value}}}'
    if claim == "exp":
        text = json.dumps({k: v for k, v in claims.items() if k != "exp"})[:-1]
        text += f', "exp": {value}}}'
    token = sign_raw(issuer, json.dumps({"alg": "RS256", "kid": issuer.kid}), text)
    with pytest.raises(JwtInvalidClaimError) as info:
        await run(verifier_for(issuer), mode, token)
    assert info.value.claim == claim


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_wrong_pool_names_both_issuers(
    issuer: TokenIssuer, other_issuer: TokenIssuer, mode: str
) -> None:
    token = other_issuer.access_token(client_id=CID)
    with pytest.raises(JwtInvalidIssuerError) as info:
        await run(verifier_for(issuer), mode, token)
    message = str(info.value)
    assert other_issuer.issuer in message  # what the token says
    assert issuer.issuer in message  # what this verifier expects
    assert token.split(".")[2] not in message


async def test_wrong_pool_in_a_multi_pool_verifier_names_the_issuers(
    issuer: TokenIssuer, other_issuer: TokenIssuer
) -> None:
    verifier = CognitoVerifier.for_pools(
        [
            {
                "user_pool_id": issuer.user_pool_id,
                "client_id": CID,
                "token_use": "access",
                "jwks": issuer.jwks(),
            }
        ]
    )
    with pytest.raises(JwtInvalidIssuerError) as info:
        verifier.verify_sync(other_issuer.access_token(client_id=CID))
    assert other_issuer.issuer in str(info.value)
    assert issuer.issuer in str(info.value)


def test_a_crafted_issuer_is_shown_truncated_and_printable(issuer: TokenIssuer) -> None:
    token = issuer.access_token(client_id=CID, iss="https://evil.example/" + "\x1b[31m" * 100)
    with pytest.raises(JwtInvalidIssuerError) as info:
        verifier_for(issuer).verify_sync(token)
    message = str(info.value)
    assert "\x1b" not in message
    assert len(message) < 300


@pytest.mark.parametrize("pools", [5, None, "us-east-1_A", b"x", {"user_pool_id": "us-east-1_A"}])
def test_for_pools_needs_a_list_of_pools(pools: Any) -> None:
    with pytest.raises(ConfigurationError):
        CognitoVerifier.for_pools(pools)


def test_jwks_url_is_a_deprecated_spelling_of_jwks_uri(issuer: TokenIssuer) -> None:
    """#17: ``CognitoVerifier(jwks_url=...)`` used to raise TypeError (AsyncCognito took
    that name): one release of the old spelling, with a warning."""
    uri = "https://example.com/pool/.well-known/jwks.json"
    with pytest.warns(DeprecationWarning, match="jwks_uri"):
        verifier = CognitoVerifier(
            issuer.user_pool_id, client_id=CID, token_use="access", jwks_url=uri
        )
    assert verifier.jwks_uri == uri
    with (
        pytest.warns(DeprecationWarning, match="jwks_uri"),
        pytest.raises(ConfigurationError, match="disagree"),
    ):
        CognitoVerifier(
            issuer.user_pool_id,
            client_id=CID,
            token_use="access",
            jwks_url=uri,
            jwks_uri=uri + "x",
        )
