"""Property tests for the JWKS parser: whatever comes in, a key set or a named error.

Random bytes, random JSON and random JWK-shaped documents go through every way a
JWKS enters acognito: the bytes parser behind a fetch, ``parse_jwks``,
``JwksCache.add``, the verifier's ``jwks=`` and ``hydrate`` against a real loopback
server. Nothing may come out but a parsed key set (whose keys are either ready
``cryptography`` RSA keys or carry a typed problem) or a named acognito error.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acognito.errors import ConfigurationError, JwkError, JwksFetchError, TokenVerificationError
from acognito.jwks import Jwk, JwksCache, b64url_decode, parse_jwks
from acognito.jwks._keys import _decode_body
from acognito.testing import TokenIssuer
from acognito.verify import CognitoVerifier
from test_jwks import JwksTestServer

CID = "client-1"
ISSUER = TokenIssuer("us-east-1_PropJwks")
GOOD = ISSUER.jwk()
TOKEN = ISSUER.access_token(client_id=CID, lifetime=10 * 365 * 24 * 3600)
SHORT = TokenIssuer("us-east-1_PropJwks", key_size=1024, kid="short").jwk()
B64URL = string.ascii_letters + string.digits + "-_"

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)

# Values a JWK member might hold: real ones, near misses and nonsense.
member_values = st.one_of(
    st.sampled_from(
        [
            GOOD["n"],
            GOOD["e"],
            SHORT["n"],
            "AQAB",
            "AQ",
            "AA",
            "",
            "RSA",
            "EC",
            "oct",
            "sig",
            "enc",
            "RS256",
            "HS256",
            "none",
            "https://example.com/x5u",
            "AQA=",
            "AQ+B",
        ]
    ),
    st.text(alphabet=B64URL, max_size=400),
    st.lists(st.sampled_from(["verify", "sign", "encrypt", "fly", ""]), max_size=3),
    json_values,
)
MEMBERS = [
    "kid",
    "kty",
    "use",
    "alg",
    "key_ops",
    "n",
    "e",
    "x5c",
    "x5t",
    "x5u",
    "crv",
    "x",
    "d",
    "k",
]
jwk_shaped = st.builds(
    lambda base, changes, drop: {
        **{k: v for k, v in base.items() if k not in drop},
        **changes,
    },
    st.sampled_from([GOOD, SHORT, {"kid": "ec", "kty": "EC"}, {}]),
    st.dictionaries(st.sampled_from(MEMBERS), member_values, max_size=4),
    st.sets(st.sampled_from(MEMBERS), max_size=3),
)
documents = st.one_of(
    st.builds(lambda keys: {"keys": keys}, st.lists(jwk_shaped, max_size=4)),
    json_values,
)


def check_keys(keys: object) -> None:
    """A parsed set: every key is a ready RSA key or names its typed problem."""
    assert isinstance(keys, dict)
    for kid, jwk in keys.items():
        assert isinstance(jwk, Jwk)
        assert jwk.kid == kid
        if jwk.problem is None:
            assert isinstance(jwk.public_key(), RSAPublicKey)
        else:
            assert isinstance(jwk.problem, TokenVerificationError)
            with pytest.raises(TokenVerificationError):
                jwk.public_key()


def parse_or_refuse(document: object) -> None:
    try:
        keys = parse_jwks(document)
    except JwksFetchError:
        return
    check_keys(keys)


def test_the_real_key_parses() -> None:
    keys = parse_jwks({"keys": [GOOD, SHORT]})
    assert keys[GOOD["kid"]].problem is None
    assert isinstance(keys["short"].problem, JwkError)


@FAST
@given(st.binary(max_size=400))
def test_random_bytes(body: bytes) -> None:
    try:
        keys = _decode_body(body)
    except JwksFetchError:
        return
    check_keys(keys)


@FAST
@given(json_values)
def test_random_json(document: Any) -> None:
    parse_or_refuse(document)
    try:
        keys = _decode_body(json.dumps(document).encode())
    except JwksFetchError:
        return
    check_keys(keys)


@FAST
@given(documents)
def test_random_jwk_shaped_documents(document: Any) -> None:
    parse_or_refuse(document)


@FAST
@given(documents)
def test_cache_add(document: Any) -> None:
    cache = JwksCache()
    uri = "https://example.com/jwks.json"
    try:
        cache.add(uri, document)
    except JwksFetchError:
        assert uri not in cache
        return
    for kid in cache.kids(uri):
        jwk = cache.get_cached_key(uri, kid)
        check_keys({kid: jwk})


@FAST
@given(documents)
def test_inline_jwks_and_a_token(document: Any) -> None:
    try:
        verifier = CognitoVerifier(
            ISSUER.user_pool_id, client_id=CID, token_use="access", jwks=document
        )
    except ConfigurationError:
        return
    try:
        claims = verifier.verify_sync(TOKEN)
    except TokenVerificationError:
        return
    assert claims["client_id"] == CID  # accepted only with the issuer's real key in it
    assert any(
        isinstance(key, dict) and key.get("n") == GOOD["n"] and key.get("kid") == GOOD["kid"]
        for key in document["keys"]
    )


@FAST
@given(st.text(max_size=80) | st.binary(max_size=80))
def test_b64url_decode(segment: str | bytes) -> None:
    try:
        raw = b64url_decode(segment)
    except ValueError:
        return
    assert isinstance(raw, bytes)


# --------------------------------------------------------------------------- over HTTP


@pytest.fixture(scope="module")
def server() -> Iterator[JwksTestServer]:
    srv = JwksTestServer(ISSUER.jwks()).start()
    yield srv
    srv.stop()


bodies = st.one_of(
    st.binary(max_size=300),
    documents.map(lambda doc: json.dumps(doc).encode()),
)


@pytest.mark.anyio
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=bodies)
async def test_hydrate_any_body(server: JwksTestServer, anyio_backend: str, body: bytes) -> None:
    server.body = body
    async with JwksCache() as cache:
        try:
            await cache.hydrate(server.url)
        except JwksFetchError:
            assert server.url not in cache
            return
        check_keys({kid: cache.get_cached_key(server.url, kid) for kid in cache.kids(server.url)})
