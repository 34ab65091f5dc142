"""The verifier's hot path: parse, signature, claims; the verified-token cache.

Kept free of the verifier classes so the per-token work reads top to bottom.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from ..errors import (
    ConfigurationError,
    JwtInvalidClaimError,
    JwtInvalidSignatureAlgorithmError,
    JwtParseError,
    JwtWithoutValidKidError,
)
from ..jwks import Jwk, JwksCache
from ..tokens import b64url_decode, decode_segment

if TYPE_CHECKING:
    from ._verifier import CognitoVerifier

TokenUse = Literal["id", "access"]

#: ``custom_check(claims)``: raise (or return ``False``) to reject; may be async for
#: ``verify()``. Exceptions other than TokenVerificationError become JwtCustomCheckError.
CustomCheck = Callable[[dict[str, Any]], bool | Awaitable[Any] | None]

#: Longest token accepted, in characters (Cognito's are a few KiB).
MAX_TOKEN_LENGTH = 64 * 1024
#: Entries of the verified-token cache, per verifier.
DEFAULT_CACHE_SIZE = 1024

#: Longest user pool id accepted (Cognito's own limit).
MAX_POOL_ID_LENGTH = 55
#: Largest absolute value of a time claim (exp, nbf, iat, auth_time): 2**53, the last
#: integer every JSON parser reads exactly. Beyond it a clock comparison overflows.
_MAX_TIME = 2**53
_ID, _ACCESS = "id", "access"
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
_MISSING: Any = object()
_CONTAINERS = (list, dict)
_isfinite = math.isfinite


# Header segment -> kid, for headers whose signature verified. A parse cache (the
# result depends on the segment alone), bounded, filled only by genuine tokens.
_HEADER_KIDS: dict[str, str] = {}
_HEADER_KIDS_MAX = 64


def at_hash(access_token: str) -> str:
    """The ``at_hash`` an id token carries for ``access_token`` (OpenID Connect).

    base64url, unpadded, of the left half of SHA-256 over the token's ASCII bytes.
    """
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


# --------------------------------------------------------------------------- parsing


def _claim_type_error(name: str, expected: str) -> JwtInvalidClaimError:
    return JwtInvalidClaimError(f"the {name} claim is not {expected}", claim=name)


def _check_claim_types(payload: dict[str, Any]) -> None:
    """Claims we read must have the JSON type the specs give them."""
    get = payload.get
    for name in ("exp", "nbf", "iat", "auth_time"):
        value = get(name, _MISSING)
        if value is _MISSING:
            continue
        kind = type(value)
        if (kind is int or (kind is float and _isfinite(value))) and -_MAX_TIME < value < _MAX_TIME:
            continue
        raise _claim_type_error(name, "a number within range")
    for name in ("iss", "token_use", "client_id", "scope", "at_hash", "sub"):
        value = get(name, _MISSING)
        if value is not _MISSING and type(value) is not str:
            raise _claim_type_error(name, "a string")
    aud = get("aud", _MISSING)
    if (
        aud is not _MISSING
        and type(aud) is not str
        and not (type(aud) is list and aud and all(type(a) is str for a in aud))
    ):
        raise _claim_type_error("aud", "a string or a list of strings")
    groups = get("cognito:groups", _MISSING)
    if groups is not _MISSING and not (
        type(groups) is list and all(type(g) is str for g in groups)
    ):
        raise _claim_type_error("cognito:groups", "a list of strings")


# (header segment, kid, payload, signing input, signature)
_Parsed = tuple[str, str, dict[str, Any], bytes, bytes]


def _parse(token: str) -> _Parsed:
    """Split and decode a compact JWS strictly; the signature is not checked here."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise JwtParseError(f"the token is longer than {MAX_TOKEN_LENGTH} characters")
    if not token.isascii():
        raise JwtParseError("the token contains non-ASCII characters")
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtParseError("the token is not a compact JWS (three dot-separated parts)")
    head, body, sig = parts
    kid = _HEADER_KIDS.get(head)
    if kid is None:
        header = decode_segment(head, "header")
        if header.get("alg") != "RS256":
            raise JwtInvalidSignatureAlgorithmError("the token's alg is not RS256")
        if "crit" in header:
            raise JwtParseError("the token header has critical extensions (crit)")
        kid = header.get("kid")
        if type(kid) is not str or not kid or len(kid) > 1024:
            raise JwtWithoutValidKidError("the token header has no valid kid")
    payload = decode_segment(body, "payload")
    try:
        signature = b64url_decode(sig)
    except ValueError:
        raise JwtParseError("the token signature is not base64url") from None
    _check_claim_types(payload)
    return head, kid, payload, token[: len(head) + len(body) + 1].encode("ascii"), signature


# --------------------------------------------------------------------------- helpers


def _string_set(value: str | Iterable[str] | None, what: str) -> frozenset[str] | None:
    if value is None:
        return None
    try:
        items = [value] if isinstance(value, str) else list(value)
    except TypeError:
        items = []
    if not items or not all(isinstance(item, str) and item for item in items):
        raise ConfigurationError(f"{what} must be a non-empty string or a sequence of them")
    return frozenset(items)


def _deep_copy(value: Any) -> Any:
    kind = type(value)
    if kind is list:
        return [_deep_copy(item) for item in value]
    if kind is dict:
        return {key: _deep_copy(item) for key, item in value.items()}
    return value


def _copy_claims(claims: dict[str, Any], nested: tuple[str, ...]) -> dict[str, Any]:
    out = claims.copy()
    for name in nested:
        out[name] = _deep_copy(claims[name])
    return out


class _KeyOwner(Protocol):
    """A verifier whose keys live in a JWKS cache (what a cache hit re-checks)."""

    _jwks: JwksCache


_O = TypeVar("_O", bound=_KeyOwner)


class _VerifiedCache(Generic[_O]):
    """LRU of verified tokens -> claims, each entry dropped at its ``exp`` (+ grace).

    Entries are checked on every hit: past expiry, or signed by a key the JWKS no
    longer holds (rotated away), they are dropped and the token is verified afresh.
    Hits hand out deep copies, so callers cannot alter what the cache holds.
    """

    __slots__ = ("_data", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        # key -> (claims, nested claim names, expires_at, kid, jwk, owner, key URI)
        self._data: OrderedDict[
            object, tuple[dict[str, Any], tuple[str, ...], float, str, Jwk, _O, str]
        ] = OrderedDict()

    def get(self, key: object, now: float) -> tuple[dict[str, Any], _O] | None:
        data = self._data
        entry = data.get(key)
        if entry is None:
            return None
        claims, nested, expires_at, kid, jwk, owner, uri = entry
        if now >= expires_at or owner._jwks.peek(uri, kid) is not jwk:
            data.pop(key, None)
            return None
        try:  # noqa: SIM105 - hot path: cheaper than contextlib.suppress
            data.move_to_end(key)
        except KeyError:  # dropped by another thread meanwhile
            pass
        return _copy_claims(claims, nested), owner

    def put(
        self,
        key: object,
        claims: dict[str, Any],
        expires_at: float,
        kid: str,
        jwk: Jwk,
        owner: _O,
        uri: str,
    ) -> None:
        nested = tuple([name for name, value in claims.items() if type(value) in _CONTAINERS])
        data = self._data
        data[key] = (_copy_claims(claims, nested), nested, expires_at, kid, jwk, owner, uri)
        if len(data) > self.maxsize:
            with contextlib.suppress(KeyError):  # emptied by another thread
                data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def _issuer_shown(iss: object) -> str:
    """A token's ``iss`` fit for a message (public data, but attacker-chosen): printable
    ASCII only, at most 80 characters."""
    if iss is None:
        return "(missing)"
    text = iss if isinstance(iss, str) else repr(iss)
    cut = "".join(c if " " <= c <= "~" else "?" for c in text[:80])
    return repr(cut + ("..." if len(text) > 80 else ""))


def _check_token_args(token: object, access_token: object) -> None:
    if type(token) is not str:
        raise JwtParseError("the token must be a str")
    if access_token is not None and type(access_token) is not str:
        raise JwtParseError("the access token must be a str")


# --------------------------------------------------------------------------- verifier


Route = Callable[[dict[str, Any]], "CognitoVerifier"]


def _verify_sync(
    cache: _VerifiedCache[CognitoVerifier] | None,
    now: float,
    token: str,
    access_token: str | None,
    route: Route,
) -> dict[str, Any]:
    """The synchronous path shared by single- and multi-pool verifiers: a cache hit, or
    parse, route to the pool's verifier by ``iss``, check with cached keys, remember."""
    _check_token_args(token, access_token)
    key: object = token if access_token is None else (token, access_token)
    hit = cache.get(key, now) if cache is not None else None
    if hit is not None:
        claims, owner = hit
    else:
        parsed = _parse(token)
        owner = route(parsed[2])
        jwk = owner._jwks.get_key_blocking(owner.jwks_uri, parsed[1])
        claims, expires_at = owner._verify_parsed(parsed, jwk, access_token)
        if cache is not None:
            cache.put(key, claims, expires_at, parsed[1], jwk, owner, owner.jwks_uri)
    if owner._custom_check is not None:
        if owner._custom_is_async:
            raise ConfigurationError("an async custom_check needs await verify()")
        owner._run_check_sync(claims)
    return claims


async def _verify(
    cache: _VerifiedCache[CognitoVerifier] | None,
    now: float,
    token: str,
    access_token: str | None,
    route: Route,
) -> dict[str, Any]:
    """The asynchronous twin of :func:`_verify_sync`: fetches the JWKS when needed."""
    _check_token_args(token, access_token)
    key: object = token if access_token is None else (token, access_token)
    hit = cache.get(key, now) if cache is not None else None
    if hit is not None:
        claims, owner = hit
    else:
        parsed = _parse(token)
        owner = route(parsed[2])
        kid = parsed[1]
        jwk = owner._jwks.peek(owner.jwks_uri, kid)
        if jwk is None:
            jwk = await owner._jwks.get_key(owner.jwks_uri, kid)
        claims, expires_at = owner._verify_parsed(parsed, jwk, access_token)
        if cache is not None:
            cache.put(key, claims, expires_at, kid, jwk, owner, owner.jwks_uri)
    if owner._custom_check is not None:
        await owner._run_check(claims)
    return claims
