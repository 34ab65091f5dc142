"""Signed tokens with random claims: acognito's verdict against an independent oracle.

The other property tests break the signature first, so they never reach the claim
checks. Here every token is correctly signed with the test key (or its header is
varied), the claims are random, and the verdict (accept or reject) must agree with an
oracle that verifies the JWS with joserfc and then applies the same rules, spelled out
below without any acognito code: RS256 only and the right kid; ``iss`` equal to the
pool's issuer; ``token_use`` ``id`` or ``access`` and the expected one; an id token's
``aud`` (string or list) or an access token's ``client_id`` naming the client; ``exp``
present and ``now < exp + leeway``; ``nbf`` absent or ``nbf - leeway <= now``; time
claims numbers (not booleans) below 2**53 in size; string claims strings; ``aud`` a
string or a non-empty list of strings; ``cognito:groups`` a list of strings; payload
JSON without NaN/Infinity.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from acognito.errors import TokenVerificationError
from acognito.testing import TokenIssuer
from acognito.verify import CognitoVerifier

NOW = 1_750_000_000
LEEWAY = 30
CID = "the-client"
ISSUER = TokenIssuer("us-east-1_OraclePool", kid="the-kid")
ORACLE_KEY = RSAKey.import_key(ISSUER.jwk())

TIMES = ("exp", "nbf", "iat", "auth_time")
STRINGS = ("iss", "token_use", "client_id", "scope", "at_hash", "sub")

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _is_time(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return abs(value) < 2**53
    return math.isfinite(value) and abs(value) < 2**53


def oracle(token: str, token_use: str | None) -> bool:
    """Whether a Cognito token verifier should accept ``token`` (see the module doc)."""
    try:
        decoded = jwt.decode(token, ORACLE_KEY, algorithms=["RS256"])
    except (JoseError, ValueError):
        return False
    header, claims = decoded.header, decoded.claims
    if header.get("alg") != "RS256" or header.get("kid") != ISSUER.kid or "crit" in header:
        return False
    payload = token.split(".")[1]
    try:
        json.loads(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)),
            parse_constant=_reject_constant,
        )
    except ValueError:
        return False
    if not isinstance(claims, dict):
        return False
    if any(name in claims and not _is_time(claims[name]) for name in TIMES):
        return False
    if any(name in claims and not isinstance(claims[name], str) for name in STRINGS):
        return False
    aud = claims.get("aud")
    if "aud" in claims and not (
        isinstance(aud, str)
        or (isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud))
    ):
        return False
    groups = claims.get("cognito:groups")
    if "cognito:groups" in claims and not (
        isinstance(groups, list) and all(isinstance(g, str) for g in groups)
    ):
        return False
    if claims.get("iss") != ISSUER.issuer:
        return False
    if "exp" not in claims or not claims["exp"] + LEEWAY > NOW:
        return False
    if "nbf" in claims and not claims["nbf"] - LEEWAY <= NOW:
        return False
    use = claims.get("token_use")
    if use not in ("id", "access") or (token_use is not None and use != token_use):
        return False
    if use == "id":
        return aud == CID or (isinstance(aud, list) and CID in aud)
    return claims.get("client_id") == CID


def acognito_accepts(token: str, token_use: str | None) -> bool:
    verifier = CognitoVerifier(
        ISSUER.user_pool_id,
        client_id=CID,
        token_use=token_use,  # type: ignore[arg-type]
        jwks=ISSUER.jwks(),
        grace_seconds=LEEWAY,
        cache_size=0,
        clock=lambda: float(NOW),
    )
    try:
        verifier.verify_sync(token)
    except TokenVerificationError:
        return False
    return True


ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.just(10**400),
)
OFFSETS = st.sampled_from([-3600, -LEEWAY - 1, -LEEWAY, -LEEWAY + 1, -1, 0, 1, LEEWAY, 3600])


def _time(offset: int, as_float: bool) -> float | int:
    return NOW + offset + (0.5 if as_float else 0)


FIELDS = (*TIMES, *STRINGS, "aud", "cognito:groups")


def _replacement(draw: st.DrawFn, name: str) -> Any:
    """Another value for claim ``name``: a near miss, a wrong one, or any odd JSON."""
    if name in TIMES:
        return draw(st.one_of(st.builds(_time, OFFSETS, st.booleans()), ODD, st.just(_MISSING)))
    near = {
        "iss": [ISSUER.issuer + "x", ISSUER.issuer.upper(), ""],
        "token_use": ["id", "access", "refresh"],
        "client_id": [CID, "someone-else"],
        "aud": [CID, "someone-else", ["someone-else", CID], [], ["someone-else"]],
        "cognito:groups": [["a"], []],
    }.get(name, ["x"])
    return draw(st.one_of(st.sampled_from(near), ODD, st.just(_MISSING)))


_MISSING = object()


@st.composite
def claims(draw: st.DrawFn) -> dict[str, Any]:
    """A valid id or access token's claims with zero to three fields changed."""
    use = draw(st.sampled_from(["id", "access"]))
    out: dict[str, Any] = {
        "iss": ISSUER.issuer,
        "token_use": use,
        "exp": _time(draw(st.sampled_from([LEEWAY - 1, 60, 3600])), draw(st.booleans())),
        "iat": NOW - 60,
        "sub": "the-sub",
        ("aud" if use == "id" else "client_id"): CID,
    }
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        value = _replacement(draw, name)
        if value is _MISSING:
            out.pop(name, None)
        else:
            out[name] = value
    return out


HEADERS = st.sampled_from(
    [
        {"alg": "RS256", "kid": "the-kid"},
        {"alg": "RS256", "kid": "the-kid"},
        {"alg": "RS256", "kid": "the-kid"},
        {"alg": "RS256", "kid": "other-kid"},
        {"alg": "RS256", "kid": "the-kid", "typ": "JWT"},
        {"alg": "RS512", "kid": "the-kid"},
        {"alg": "none", "kid": "the-kid"},
        {"alg": "HS256", "kid": "the-kid"},
        {"alg": "RS256"},
        {"kid": "the-kid"},
    ]
)


@SETTINGS
@given(claims(), HEADERS, st.sampled_from(["id", "access", None]))
def test_verdicts_agree_with_the_oracle(
    payload: dict[str, Any], header: dict[str, Any], token_use: str | None
) -> None:
    token = ISSUER.sign(payload, header=header)
    verdict = oracle(token, token_use)
    assert acognito_accepts(token, token_use) == verdict, payload
    event("accepted" if verdict else "rejected")


@pytest.mark.parametrize("token_use", ["id", "access"])
def test_the_oracle_accepts_what_it_should(token_use: str) -> None:
    """Both sides accept a good token: the agreement above is not all rejections."""
    base = {"iss": ISSUER.issuer, "token_use": token_use, "exp": NOW + 60, "sub": "s"}
    base["aud" if token_use == "id" else "client_id"] = CID
    token = ISSUER.sign(base)
    assert oracle(token, token_use)
    assert acognito_accepts(token, token_use)
    late = ISSUER.sign({**base, "exp": NOW - LEEWAY})
    assert not oracle(late, token_use)
    assert not acognito_accepts(late, token_use)
