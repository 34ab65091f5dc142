"""The generic JWS path of OidcVerifier and AlbVerifier: any allowed algorithm.

:class:`CognitoVerifier` keeps its RS256-only hot path (``_checks``); this module parses a
compact JWS whose ``alg`` is one of a verifier's allow-list (RS256/384/512, ES256/384/512,
EdDSA), verifies the signature with the key's ``cryptography`` object, and runs the shared
verified-token cache, JWKS cache and penalty box through :class:`_JwsVerifier`.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ..errors import (
    ConfigurationError,
    JwtCustomCheckError,
    JwtExpiredError,
    JwtInvalidClaimError,
    JwtInvalidScopeError,
    JwtInvalidSignatureAlgorithmError,
    JwtInvalidSignatureError,
    JwtNotBeforeError,
    JwtParseError,
    JwtWithoutValidKidError,
    TokenVerificationError,
)
from ..jwks import Jwk, JwksCache
from ..jwks._keys import ALGORITHMS, ec_coordinate_size, hash_for
from ..tokens import b64url_decode, decode_segment
from ._checks import (
    DEFAULT_CACHE_SIZE,
    MAX_TOKEN_LENGTH,
    CustomCheck,
    _check_claim_types,
    _check_token_args,
    _isfinite,
    _string_set,
    _VerifiedCache,
)
from ._verifier import _VerifiedTokens

# (header, kid, alg, payload, signing input, signature)
Parsed = tuple[dict[str, Any], str, str, dict[str, Any], bytes, bytes]


def algorithms_set(algorithms: str | Iterable[str]) -> frozenset[str]:
    """Validate a verifier's algorithm allow-list (asymmetric JWS algorithms only)."""
    chosen = _string_set(algorithms, "algorithms")
    assert chosen is not None
    unknown = chosen - ALGORITHMS
    if unknown:
        raise ConfigurationError(
            f"algorithms must be among {sorted(ALGORITHMS)}; not {sorted(unknown)[:3]}"
        )
    return chosen


def _unpad(segment: str, padded: bool) -> str:
    if not padded or not segment.endswith("="):
        return segment
    bare = segment.rstrip("=")
    # Padding is accepted only where base64 puts it (ALB's encoding), never more.
    if len(segment) % 4 or len(segment) - len(bare) > 2:
        raise JwtParseError("the token has malformed base64 padding")
    return bare


def parse_jws(token: str, algorithms: frozenset[str], *, padded: bool = False) -> Parsed:
    """Split and decode a compact JWS strictly (``padded``: ALB's base64 with ``=``)."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise JwtParseError(f"the token is longer than {MAX_TOKEN_LENGTH} characters")
    if not token.isascii():
        raise JwtParseError("the token contains non-ASCII characters")
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtParseError("the token is not a compact JWS (three dot-separated parts)")
    head, body, sig = (_unpad(part, padded) for part in parts)
    header = decode_segment(head, "header")
    alg = header.get("alg")
    if type(alg) is not str or alg not in algorithms:
        raise JwtInvalidSignatureAlgorithmError("the token's alg is not an allowed algorithm")
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
    signing_input = token[: len(parts[0]) + len(parts[1]) + 1].encode("ascii")
    return header, kid, alg, payload, signing_input, signature


def verify_signature(jwk: Jwk, alg: str, signing_input: bytes, signature: bytes) -> None:
    """Check ``signature`` with ``jwk`` for ``alg``; typed errors only."""
    key = jwk.key_for(alg)  # raises the key's typed problem for this alg
    try:
        if isinstance(key, RSAPublicKey):
            digest = hash_for(alg)
            assert digest is not None
            key.verify(signature, signing_input, padding.PKCS1v15(), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            size = ec_coordinate_size(alg)
            if len(signature) != 2 * size:
                raise JwtInvalidSignatureError("the token's signature does not verify")
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            digest = hash_for(alg)
            assert digest is not None
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(digest))
        elif isinstance(key, (Ed25519PublicKey, Ed448PublicKey)):
            key.verify(signature, signing_input)
        else:  # pragma: no cover - key_for returns one of the above
            raise JwtInvalidSignatureAlgorithmError("the key cannot verify this algorithm")
    except InvalidSignature:
        raise JwtInvalidSignatureError("the token's signature does not verify") from None


def check_times(payload: dict[str, Any], now: float, grace: float) -> float:
    """``exp`` (required) and ``nbf``; returns when the claims expire (exp + grace)."""
    exp = payload.get("exp")
    if exp is None:
        raise JwtInvalidClaimError("the token has no exp claim", claim="exp")
    expires_at = float(exp) + grace
    if now >= expires_at:
        raise JwtExpiredError("the token has expired", claim="exp")
    nbf = payload.get("nbf")
    if nbf is not None and nbf - grace > now:
        raise JwtNotBeforeError("the token is not valid yet (nbf)", claim="nbf")
    return expires_at


class _JwsVerifier(_VerifiedTokens):
    """What OidcVerifier and AlbVerifier share: options, the verified-token cache, the
    custom check and the verify/verify_sync drivers. Subclasses give the key URI
    (:meth:`_key_uri` / :meth:`_key_uri_sync`), parse and check the claims."""

    _padded = False

    def _setup(
        self,
        *,
        algorithms: str | Iterable[str],
        grace_seconds: float,
        custom_check: CustomCheck | None,
        jwks_cache: JwksCache | None,
        cache_size: int,
        clock: Callable[[], float] | None,
    ) -> None:
        self.algorithms = algorithms_set(algorithms)
        if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, (int, float)):
            raise ConfigurationError("grace_seconds must be a number")
        if not grace_seconds >= 0 or not _isfinite(grace_seconds):
            raise ConfigurationError("grace_seconds must be zero or more")
        self.grace_seconds = float(grace_seconds)
        if custom_check is not None and not callable(custom_check):
            raise ConfigurationError("custom_check must be callable")
        self._custom_check = custom_check
        self._custom_is_async = custom_check is not None and (
            inspect.iscoroutinefunction(custom_check)
            or inspect.iscoroutinefunction(getattr(custom_check, "__call__", None))  # noqa: B004
        )
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ConfigurationError("cache_size must be an int >= 0")
        self._verified = _VerifiedCache(cache_size) if cache_size else None
        self._clock: Callable[[], float] = clock if clock is not None else time.time
        self._owns_cache = jwks_cache is None
        self._jwks = jwks_cache if jwks_cache is not None else self._new_cache()

    def _new_cache(self) -> JwksCache:
        return JwksCache()

    @property
    def jwks_cache(self) -> JwksCache:
        """The key cache this verifier reads keys from (possibly shared)."""
        return self._jwks

    async def aclose(self) -> None:
        """Close the key cache if this verifier created it."""
        if self._owns_cache:
            await self._jwks.aclose()

    # -------------------------------------------------------------- for subclasses

    def _check_before_key(self, header: dict[str, Any], payload: dict[str, Any]) -> None:
        """Cheap checks that need no key (issuer, signer): a token for someone else never
        makes us fetch anything."""
        raise NotImplementedError

    def _check_claims(self, header: dict[str, Any], payload: dict[str, Any], now: float) -> float:
        """Claim checks after the signature; returns when the claims expire."""
        raise NotImplementedError

    async def _key_uri(self, kid: str) -> str:
        raise NotImplementedError

    def _key_uri_sync(self, kid: str) -> str:
        raise NotImplementedError

    # -------------------------------------------------------------- drivers

    def _finish(self, token: str, parsed: Parsed, jwk: Jwk, uri: str) -> dict[str, Any]:
        header, kid, alg, payload, signing_input, signature = parsed
        verify_signature(jwk, alg, signing_input, signature)
        expires_at = self._check_claims(header, payload, self._clock())
        if self._verified is not None:
            self._verified.put(token, payload, expires_at, kid, jwk, self, uri)
        return payload

    async def verify(self, token: str) -> dict[str, Any]:
        """Verify ``token`` and return its claims, fetching keys (and discovery) as needed."""
        _check_token_args(token, None)
        hit = self._verified.get(token, self._clock()) if self._verified is not None else None
        if hit is not None:
            claims = hit[0]
        else:
            parsed = parse_jws(token, self.algorithms, padded=self._padded)
            self._check_before_key(parsed[0], parsed[3])
            uri = await self._key_uri(parsed[1])
            jwk = self._jwks.peek(uri, parsed[1]) or await self._jwks.get_key(uri, parsed[1])
            claims = self._finish(token, parsed, jwk, uri)
        if self._custom_check is not None:
            await self._run_check(claims)
        return claims

    def verify_sync(self, token: str) -> dict[str, Any]:
        """:meth:`verify` from blocking code (a blocking fetch when no event loop runs in
        this thread; never any I/O in one that does)."""
        if self._custom_is_async:
            raise ConfigurationError("an async custom_check needs await verify()")
        _check_token_args(token, None)
        hit = self._verified.get(token, self._clock()) if self._verified is not None else None
        if hit is not None:
            claims = hit[0]
        else:
            parsed = parse_jws(token, self.algorithms, padded=self._padded)
            self._check_before_key(parsed[0], parsed[3])
            uri = self._key_uri_sync(parsed[1])
            jwk = self._jwks.get_key_blocking(uri, parsed[1])
            claims = self._finish(token, parsed, jwk, uri)
        if self._custom_check is not None:
            self._run_check_sync(claims)
        return claims

    def _run_check_sync(self, claims: dict[str, Any]) -> None:
        check = self._custom_check
        assert check is not None
        try:
            result = check(claims)
        except TokenVerificationError:
            raise
        except Exception as exc:
            raise JwtCustomCheckError(
                f"the custom check rejected the token ({type(exc).__name__})"
            ) from exc
        if result is False:
            raise JwtCustomCheckError("the custom check returned False")

    async def _run_check(self, claims: dict[str, Any]) -> None:
        check = self._custom_check
        assert check is not None
        try:
            result = check(claims)
            if inspect.isawaitable(result):
                result = await result
        except TokenVerificationError:
            raise
        except Exception as exc:
            raise JwtCustomCheckError(
                f"the custom check rejected the token ({type(exc).__name__})"
            ) from exc
        if result is False:
            raise JwtCustomCheckError("the custom check returned False")


def check_scope(payload: dict[str, Any], scopes: frozenset[str] | None) -> None:
    """At least one of ``scopes`` in the token's ``scope`` (as CognitoVerifier does)."""
    if scopes is None:
        return
    have = payload.get("scope")
    if not have or scopes.isdisjoint(have.split(" ")):
        raise JwtInvalidScopeError("the token has none of the required scopes", claim="scope")


__all__ = ["DEFAULT_CACHE_SIZE", "Parsed", "algorithms_set", "parse_jws", "verify_signature"]
