"""tokens.py: the Tokens value and the one home of JWT segment decoding, on crafted input.

An unverified token a client sends (a server may build a session from it) can carry
any payload: huge or non-finite ``exp`` values, deep nesting, bad encodings. Reading
it for expiry bookkeeping must give a value or a JwtParseError, never a raw error.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acognito.errors import JwtParseError
from acognito.tokens import (
    Tokens,
    b64url_decode,
    claim_time,
    decode_segment,
    expiry_of,
    peek_claims,
    split_jwt,
)

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(payload: bytes) -> str:
    """A JWT-shaped token with ``payload`` as its raw payload bytes (never verified)."""
    return ".".join([b64(b'{"alg":"RS256"}'), b64(payload), b64(b"sig")])


CRAFTED_EXP = {
    "10**15": b'{"exp": 1000000000000000}',
    "10**400": b'{"exp": 1' + b"0" * 400 + b"}",
    "-10**400": b'{"exp": -1' + b"0" * 400 + b"}",
    "1e400": b'{"exp": 1e400}',
    "-1": b'{"exp": -1}',
    "year 10000": b'{"exp": 253402300800}',
}


@pytest.mark.parametrize("name", list(CRAFTED_EXP))
def test_crafted_exp_reads_as_expired_and_never_raises(name: str) -> None:
    token = unsigned(CRAFTED_EXP[name])
    tokens = Tokens(access_token=token, id_token=token, refresh_token="r")
    assert expiry_of(token) == 0.0
    assert tokens.expires_at_timestamp == 0.0
    assert tokens.expires_datetime is not None
    assert tokens.expires_datetime.year == 1970
    assert tokens.expires_within(0)  # a crafted exp is never taken for a long life
    assert "set" in repr(tokens)


def test_a_sane_exp_is_read_as_is() -> None:
    exp = int(time.time()) + 3600
    tokens = Tokens(access_token=unsigned(json.dumps({"exp": exp}).encode()))
    assert tokens.expires_at_timestamp == exp
    assert not tokens.expires_within(60)


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"exp": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"exp": NaN}',
        b'{"exp": Infinity}',
        b"\xff\xfe",
        b'"just a string"',
        b'{"exp": 1' + b"0" * 5000 + b"}",  # past Python's int-parsing digit limit
    ],
    ids=["nested list", "nested exp", "NaN", "Infinity", "not UTF-8", "not an object", "digits"],
)
def test_malformed_payloads_are_parse_errors_and_unknown_expiry(payload: bytes) -> None:
    token = unsigned(payload)
    with pytest.raises(JwtParseError):
        peek_claims(token)
    assert expiry_of(token) is None
    tokens = Tokens(access_token=token)
    assert tokens.expires_at_timestamp is None
    assert "expires_datetime=None" in repr(tokens)


def test_a_bool_or_string_exp_is_unknown() -> None:
    assert expiry_of(unsigned(b'{"exp": true}')) is None
    assert expiry_of(unsigned(b'{"exp": "1700000000"}')) is None
    assert claim_time({"iat": 10**400}, "iat") == 0.0


def test_expires_in_from_a_service_answer_is_bounded() -> None:
    assert Tokens.from_result({"AccessToken": "a", "ExpiresIn": 3600}).expires_in == 3600
    for bad in (10**400, -5, "soon", [1], float("nan")):
        tokens = Tokens.from_result({"AccessToken": "a", "ExpiresIn": bad})
        assert tokens.expires_in is None
        repr(tokens)


def test_segment_decoding_is_strict() -> None:
    assert split_jwt("a.b.c") == ("a", "b", "c")
    for bad in ("a.b", "a.b.c.d", 5, None, b"a.b.c"):
        with pytest.raises(JwtParseError):
            split_jwt(bad)
    assert decode_segment(b64(b'{"a": 1}')) == {"a": 1}
    for segment in (b64(b'{"a": 1}') + "=", "e30+", "!!!!", b64(b"[]")):
        with pytest.raises(JwtParseError):
            decode_segment(segment)
    with pytest.raises(ValueError):
        b64url_decode("a")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)


def _read_all(token: str) -> None:
    """Everything a session does with an unverified token: a value or a JwtParseError."""
    with contextlib.suppress(JwtParseError):
        peek_claims(token)
    tokens = Tokens(access_token=token, id_token=token)
    tokens.expires_at_timestamp
    tokens.expires_within(300)
    repr(tokens)


@FAST
@given(st.text(max_size=300))
def test_any_string(text: str) -> None:
    _read_all(text)


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_as_a_payload(payload: bytes) -> None:
    _read_all(unsigned(payload))


@FAST
@given(st.dictionaries(st.sampled_from(["exp", "iat", "nbf", "x"]), JSON, max_size=4))
def test_any_json_claims(claims: dict[str, object]) -> None:
    payload = json.dumps(claims).encode()
    _read_all(unsigned(payload))
    exp = expiry_of(unsigned(payload))
    assert exp is None or 0.0 <= exp <= 253402300799.0


@FAST
@given(
    st.lists(
        st.text(
            alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.",
            max_size=80,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_any_jwt_shaped_string(parts: list[str]) -> None:
    token = ".".join(parts)
    with contextlib.suppress(JwtParseError):  # any other error fails the test
        decode_segment(parts[0])
    _read_all(token)


@pytest.mark.anyio
@pytest.mark.parametrize("name", list(CRAFTED_EXP))
async def test_a_session_built_from_a_crafted_token_reprs_and_checks(name: str) -> None:
    from acognito import AsyncCognito

    token = unsigned(CRAFTED_EXP[name])
    async with AsyncCognito(
        "us-east-1_Crafted", "client", access_token=token, id_token=token
    ) as session:
        assert "Tokens(" in repr(session)
        assert await session.check_token(renew=False) is True  # read as expired
