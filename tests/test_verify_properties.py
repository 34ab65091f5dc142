"""Property tests: whatever a valid token is turned into, verification rejects it.

Any string, any truncation, any bit flip, any other encoding of the same bytes ends
in a TokenVerificationError subclass: never another exception, never an accept.
Example counts are kept small so the file runs in a few seconds.
"""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from acognito.errors import TokenVerificationError
from acognito.testing import TokenIssuer
from acognito.verify import CognitoVerifier, at_hash

CID = "client-1"
ISSUER = TokenIssuer("us-east-1_PropPool")
VERIFIER = CognitoVerifier(ISSUER.user_pool_id, client_id=CID, token_use="id", jwks=ISSUER.jwks())
TOKEN = ISSUER.id_token(
    client_id=CID,
    username="alice",
    groups=["a", "b"],
    email="alice@example.com",
    lifetime=10 * 365 * 24 * 3600,
)
PARTS = TOKEN.split(".")
ACCESS = ISSUER.access_token(client_id=CID, lifetime=10 * 365 * 24 * 3600)
BOUND_ID = ISSUER.id_token(client_id=CID, at_hash=at_hash(ACCESS), lifetime=10 * 365 * 24 * 3600)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def rejected(token: object) -> None:
    with pytest.raises(TokenVerificationError):
        VERIFIER.verify_sync(token)  # type: ignore[arg-type]


def test_the_original_is_accepted() -> None:
    assert VERIFIER.verify_sync(TOKEN)["cognito:username"] == "alice"


@FAST
@given(st.text(max_size=300))
def test_any_string(text: str) -> None:
    assume(text != TOKEN)
    rejected(text)


@FAST
@given(
    st.from_regex(
        r"[A-Za-z0-9_\-]{0,80}\.[A-Za-z0-9_\-]{0,200}\.[A-Za-z0-9_\-]{0,400}", fullmatch=True
    )
)
def test_any_three_base64url_parts(text: str) -> None:
    rejected(text)


@FAST
@given(st.integers(min_value=0, max_value=len(TOKEN) - 1))
def test_any_truncation(cut: int) -> None:
    rejected(TOKEN[:cut])
    rejected(TOKEN[cut + 1 :])


@FAST
@given(st.data())
def test_any_bit_flip_in_any_part(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, 2), label="part")
    raw = bytearray(unb64(PARTS[index]))
    byte = data.draw(st.integers(0, len(raw) - 1), label="byte")
    raw[byte] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    parts = list(PARTS)
    parts[index] = b64(bytes(raw))
    rejected(".".join(parts))


@FAST
@given(st.integers(0, len(TOKEN) - 1), st.sampled_from(B64URL + ".=+/ \n\t\x00é"))
def test_any_character_replaced(position: int, char: str) -> None:
    assume(TOKEN[position] != char)
    rejected(TOKEN[:position] + char + TOKEN[position + 1 :])


@FAST
@given(st.integers(0, 2), st.integers(1, 15))
def test_non_canonical_trailing_bits_of_the_same_bytes(index: int, noise: int) -> None:
    """A last character differing only in unused bits decodes to the same bytes."""
    segment = PARTS[index]
    rem = len(segment) % 4
    assume(rem in (2, 3))
    unused = 0x0F if rem == 2 else 0x03
    assume(noise & unused)
    value = B64URL.index(segment[-1]) | (noise & unused)
    assume(B64URL[value] != segment[-1])
    changed = segment[:-1] + B64URL[value]
    assert unb64(changed) == unb64(segment)  # same bytes, different text
    parts = list(PARTS)
    parts[index] = changed
    rejected(".".join(parts))


@FAST
@given(st.integers(0, 2), st.sampled_from(["pad", "std-alphabet", "space", "newline"]))
def test_other_encodings_of_the_same_part(index: int, how: str) -> None:
    segment = PARTS[index]
    if how == "pad":
        changed = segment + "=" * (-len(segment) % 4 or 4)
    elif how == "std-alphabet":
        changed = segment.replace("-", "+").replace("_", "/")
        assume(changed != segment)
    elif how == "space":
        changed = segment[:5] + " " + segment[5:]
    else:
        changed = segment[:10] + "\n" + segment[10:]
    parts = list(PARTS)
    parts[index] = changed
    rejected(".".join(parts))


@FAST
@given(
    st.integers(0, 1), st.sampled_from([(", ", ": "), (",", ":"), ("  ,", " : ")]), st.booleans()
)
def test_reserialised_json_with_the_same_meaning(
    index: int, separators: tuple[str, str], sort: bool
) -> None:
    document = json.loads(unb64(PARTS[index]))
    text = json.dumps(document, separators=separators, sort_keys=sort)
    assume(b64(text.encode()) != PARTS[index])
    parts = list(PARTS)
    parts[index] = b64(text.encode())
    rejected(".".join(parts))


@FAST
@given(
    st.dictionaries(
        st.sampled_from(["alg", "kid", "typ", "crit", "jku", "x5u", "zip"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.text(max_size=10),
            st.lists(st.text(max_size=3)),
        ),
    )
)
def test_any_header_with_the_original_payload_and_signature(header: dict[str, object]) -> None:
    parts = list(PARTS)
    parts[0] = b64(json.dumps(header).encode())
    assume(parts[0] != PARTS[0])
    rejected(".".join(parts))


def test_the_bound_pair_is_accepted() -> None:
    assert VERIFIER.verify_sync(BOUND_ID, access_token=ACCESS)["at_hash"] == at_hash(ACCESS)


@FAST
@given(st.text(max_size=200))
def test_any_other_access_token_for_at_hash(access: str) -> None:
    assume(access != ACCESS)
    with pytest.raises(TokenVerificationError):
        VERIFIER.verify_sync(BOUND_ID, access_token=access)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
CLAIM_NAMES = st.sampled_from(
    [
        "exp",
        "nbf",
        "iat",
        "auth_time",
        "iss",
        "token_use",
        "aud",
        "client_id",
        "cognito:groups",
        "scope",
        "at_hash",
        "sub",
        "x",
    ]
)


@FAST
@given(st.binary(max_size=200), st.binary(max_size=200), st.binary(max_size=64))
def test_any_bytes_in_any_part(head: bytes, body: bytes, sig: bytes) -> None:
    rejected(f"{b64(head)}.{b64(body)}.{b64(sig)}")


@FAST
@given(JSON, st.dictionaries(CLAIM_NAMES, JSON, max_size=8))
def test_any_json_header_and_claims(header: object, claims: dict[str, object]) -> None:
    head = b64(json.dumps(header).encode())
    rejected(f"{head}.{b64(json.dumps(claims).encode())}.{PARTS[2]}")
    real_head = PARTS[0]
    rejected(f"{real_head}.{b64(json.dumps(claims).encode())}.{PARTS[2]}")


@FAST
@given(st.dictionaries(CLAIM_NAMES, JSON, max_size=8))
def test_any_claims_async(claims: dict[str, object]) -> None:
    import anyio

    token = f"{PARTS[0]}.{b64(json.dumps(claims).encode())}.{PARTS[2]}"

    async def main() -> None:
        with pytest.raises(TokenVerificationError):
            await VERIFIER.verify(token)

    anyio.run(main)
