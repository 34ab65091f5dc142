"""JWKS documents to keys: strict parsing, and joserfc's JWK import off the token path.

:func:`parse_jwks` checks a JWKS document's shape (a malformed one is a
:class:`~acognito.errors.JwksFetchError`), then imports each usable RSA key with
joserfc, which validates its parameters and yields the ``cryptography`` public key the
verifier uses. Keys that are well formed but unusable keep a typed ``problem``.
"""

from __future__ import annotations

import ast
import functools
import json
import sys
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers

from ..errors import (
    JwkError,
    JwkInvalidKtyError,
    JwkInvalidUseError,
    JwksFetchError,
    JwtInvalidSignatureAlgorithmError,
    TokenVerificationError,
)
from ..tokens import b64url_decode

__all__ = [
    "COGNITO_JWKS_ENV",
    "MAX_KEYS",
    "MIN_RSA_BITS",
    "Jwk",
    "b64url_decode",
    "parse_jwks",
    "safe_kid",
]

#: The environment variable pycognito reads a JWKS from instead of fetching it.
COGNITO_JWKS_ENV = "COGNITO_JWKS"
#: Most keys accepted in one JWKS document (Cognito publishes two).
MAX_KEYS = 100
#: Smallest RSA modulus accepted, in bits.
MIN_RSA_BITS = 2048
#: The joserfc module imported on first parse (~50 ms, so a fetch imports it off the loop).
_JOSERFC = "joserfc.jwk"


def safe_kid(kid: object) -> str:
    """A key id fit for a message: printable ASCII only, at most 64 characters.

    A token's ``kid`` is attacker-controlled header data; never echo it raw.
    """
    text = kid if isinstance(kid, str) else repr(kid)
    cut = "".join(c if " " <= c <= "~" else "?" for c in text[:64])
    return cut + ("..." if len(text) > 64 else "")


class Jwk:
    """One public key of a JWKS, with its RSA key object loaded when the JWKS is parsed.

    ``problem`` says why the key cannot verify RS256 tokens (wrong ``kty``, ``use``,
    ``alg``, too short, not a valid RSA key), or is ``None``; the verifier raises it
    as a typed error.
    """

    __slots__ = ("_problem", "_public_key", "alg", "e", "fingerprint", "kid", "kty", "n", "use")

    def __init__(
        self,
        *,
        kid: str,
        kty: str,
        use: str | None = None,
        alg: str | None = None,
        n: int | None = None,
        e: int | None = None,
        problem: TokenVerificationError | None = None,
        fingerprint: str = "",
        public_key: RSAPublicKey | None = None,
    ) -> None:
        self.kid = kid
        self.kty = kty
        self.use = use
        self.alg = alg
        self.n = n
        self.e = e
        self.fingerprint = fingerprint
        self._problem = problem
        self._public_key = public_key

    @property
    def problem(self) -> TokenVerificationError | None:
        """Why this key cannot verify an RS256 token, or ``None`` when it can."""
        return self._problem

    def public_key(self) -> RSAPublicKey:
        """The RSA public key (built once); raises the key's typed problem if unusable."""
        key = self._public_key
        if key is not None:
            return key
        if self._problem is not None:
            raise type(self._problem)(str(self._problem))
        # Only a Jwk built by hand (not by parse_jwks) gets here.
        if self.n is None or self.e is None:
            raise JwkError(f"the key {safe_kid(self.kid)!r} has no RSA modulus or exponent")
        try:
            key = RSAPublicNumbers(self.e, self.n).public_key()
        except ValueError:
            self._problem = JwkError(f"the key {safe_kid(self.kid)!r} is not a valid RSA key")
            raise type(self._problem)(str(self._problem)) from None
        self._public_key = key
        return key

    def __repr__(self) -> str:
        bits = self.n.bit_length() if self.n is not None else 0
        return f"Jwk(kid={safe_kid(self.kid)!r}, kty={self.kty!r}, use={self.use!r}, bits={bits})"


def _b64_int(value: object, name: str, kid: str) -> int:
    if not isinstance(value, str) or not value:
        raise JwksFetchError(f"JWK {safe_kid(kid)!r}: {name} must be a base64url string")
    try:
        raw = b64url_decode(value)
    except (ValueError, UnicodeEncodeError):
        raise JwksFetchError(f"JWK {safe_kid(kid)!r}: {name} is not base64url") from None
    return int.from_bytes(raw, "big")


def _joserfc_ready() -> bool:
    return _JOSERFC in sys.modules


def _load_joserfc() -> None:
    """Import joserfc's JWK module (call from a worker thread: the import takes ~50 ms)."""
    import joserfc.jwk  # noqa: F401


@functools.cache
def _private_members() -> frozenset[str]:
    """Private or secret JWK members of every key type joserfc knows (``d``, ``p``, ``k``...)."""
    from joserfc.jwk import JWKRegistry

    return frozenset(
        name
        for key_type in JWKRegistry.key_types.values()
        for name, parameter in key_type.value_registry.items()
        if parameter.private
    )


def _import_rsa(
    entry: dict[str, Any], n: int, e: int, label: str
) -> tuple[RSAPublicKey | None, JwkError | None]:
    """Validate an RSA public JWK with joserfc's JWK parameter registry (``use`` and
    ``key_ops`` values and agreement, ``x5c``/``x5t``/``x5u`` types, ``n``/``e``), then
    build its ``cryptography`` key from the already decoded numbers.

    joserfc's own ``RSAKey.import_key`` would build the same key, but its base64-to-int
    step is ~6x slower than the whole of this (see docs/verification.md, design notes).
    """
    from joserfc.errors import JoseError
    from joserfc.jwk import RSAKey

    try:
        RSAKey.validate_dict_key(entry)
        public = RSAPublicNumbers(e, n).public_key()
    except (JoseError, ValueError, TypeError) as exc:
        reason = safe_kid(str(exc) or type(exc).__name__)
        return None, JwkError(f"the key {label!r} is not a valid RSA public JWK ({reason})")
    return public, None


def _parse_jwk(entry: object) -> Jwk:
    if not isinstance(entry, dict):
        raise JwksFetchError("every JWKS key must be a JSON object")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        raise JwksFetchError("every JWKS key needs a string kid")
    label = safe_kid(kid)
    kty = entry.get("kty")
    if not isinstance(kty, str) or not kty:
        raise JwksFetchError(f"JWK {label!r}: kty must be a string")
    use = entry.get("use")
    alg = entry.get("alg")
    ops = entry.get("key_ops")
    if use is not None and not isinstance(use, str):
        raise JwksFetchError(f"JWK {label!r}: use must be a string")
    if alg is not None and not isinstance(alg, str):
        raise JwksFetchError(f"JWK {label!r}: alg must be a string")
    if ops is not None and (
        not isinstance(ops, list) or not all(isinstance(op, str) for op in ops)
    ):
        raise JwksFetchError(f"JWK {label!r}: key_ops must be a list of strings")
    secret = _private_members().intersection(entry)
    if secret:
        # A publisher that leaks private key material is broken: refuse the document.
        raise JwksFetchError(
            f"JWK {label!r} holds private key members ({', '.join(sorted(secret))}); "
            "a JWKS must publish public keys only"
        )
    try:
        fingerprint = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        raise JwksFetchError(f"JWK {label!r} is not plain JSON") from None

    problem: TokenVerificationError | None = None
    public: RSAPublicKey | None = None
    n = e = None
    if kty == "RSA":
        n = _b64_int(entry.get("n"), "n", kid)
        e = _b64_int(entry.get("e"), "e", kid)
        if n.bit_length() < MIN_RSA_BITS:
            problem = JwkError(f"the key {label!r} is shorter than {MIN_RSA_BITS} bits")
    else:
        problem = JwkInvalidKtyError(f"the key {label!r} has kty {kty[:16]!r}, not 'RSA'")
    if problem is None and use is not None and use != "sig":
        problem = JwkInvalidUseError(f"the key {label!r} is not meant for signatures (use)")
    if problem is None and ops is not None and "verify" not in ops:
        problem = JwkInvalidUseError(f"the key {label!r} is not meant for verifying (key_ops)")
    if problem is None and alg is not None and alg != "RS256":
        problem = JwtInvalidSignatureAlgorithmError(f"the key {label!r} is not an RS256 key")
    if problem is None and n is not None and e is not None:  # an RSA key fit for RS256
        public, problem = _import_rsa(entry, n, e, label)
    return Jwk(
        kid=kid,
        kty=kty,
        use=use,
        alg=alg,
        n=n,
        e=e,
        problem=problem,
        fingerprint=fingerprint,
        public_key=public,
    )


def parse_jwks(document: object) -> dict[str, Jwk]:
    """Validate a JWKS document (``{"keys": [...]}``) and index its keys by ``kid``.

    Raises :class:`~acognito.errors.JwksFetchError` on anything that is not a JWKS:
    a missing or non-list ``keys``, a key without ``kid``/``kty``, an RSA key without
    base64url ``n``/``e``, private key members, duplicate kids, more than 100 keys.
    A key that is well formed but cannot verify RS256 tokens is kept with a ``problem``.
    """
    if not isinstance(document, dict):
        raise JwksFetchError("the JWKS is not a JSON object")
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise JwksFetchError("the JWKS has no keys list")
    if len(keys) > MAX_KEYS:
        raise JwksFetchError(f"the JWKS has more than {MAX_KEYS} keys")
    out: dict[str, Jwk] = {}
    for entry in keys:
        jwk = _parse_jwk(entry)
        if jwk.kid in out:
            raise JwksFetchError(f"the JWKS has two keys with kid {safe_kid(jwk.kid)!r}")
        out[jwk.kid] = jwk
    return out


def _decode_body(body: bytes) -> dict[str, Jwk]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise JwksFetchError("the JWKS URI did not answer JSON") from None
    return parse_jwks(document)


def _decode_env(raw: str) -> dict[str, Jwk]:
    """COGNITO_JWKS as pycognito reads it: JSON, or a Python dict literal."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        try:
            document = ast.literal_eval(raw)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise JwksFetchError(f"{COGNITO_JWKS_ENV} is not a JSON JWKS document") from None
    try:
        return parse_jwks(document)
    except JwksFetchError as exc:
        raise JwksFetchError(f"{COGNITO_JWKS_ENV}: {exc}") from None
