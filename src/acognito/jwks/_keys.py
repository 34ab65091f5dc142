"""JWKS documents to keys: strict parsing and validation, the ``cryptography`` key built once.

:func:`parse_jwks` checks a JWKS document's shape (a malformed one is a
:class:`~acognito.errors.JwksFetchError`), validates each key's members as RFC 7517 and
7518 define them, and builds the ``cryptography`` public key the verifiers use: RSA
(RS256/384/512), EC on P-256/P-384/P-521 (ES256/384/512) and OKP Ed25519/Ed448
(EdDSA, or RFC 9864's Ed25519 and Ed448). Keys that are well formed but unusable keep
a typed ``problem``.

Nothing here imports a JOSE library: a JWKS loads in microseconds on the calling thread,
which keeps a Lambda's cold start and a cold burst of sign-ins free of one-time work.
"""

from __future__ import annotations

import ast
import base64
import binascii
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
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

if TYPE_CHECKING:
    from typing import TypeAlias

    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    #: A public key a :class:`Jwk` can hold.
    PublicKey: TypeAlias = (
        RSAPublicKey | ec.EllipticCurvePublicKey | Ed25519PublicKey | Ed448PublicKey
    )

# cryptography's EC and EdDSA modules (~20 ms to import) load with the first EC or OKP
# key: a Cognito JWKS (RSA only) never needs them.

__all__ = [
    "ALGORITHMS",
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

# JWS algorithm -> (kty, curves it accepts or None for RSA, hash or None for EdDSA).
_ALG_RULES: dict[str, tuple[str, frozenset[str] | None, hashes.HashAlgorithm | None]] = {
    "RS256": ("RSA", None, hashes.SHA256()),
    "RS384": ("RSA", None, hashes.SHA384()),
    "RS512": ("RSA", None, hashes.SHA512()),
    "ES256": ("EC", frozenset({"P-256"}), hashes.SHA256()),
    "ES384": ("EC", frozenset({"P-384"}), hashes.SHA384()),
    "ES512": ("EC", frozenset({"P-521"}), hashes.SHA512()),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"}), None),
    # RFC 9864's fully-specified names for the same signatures.
    "Ed25519": ("OKP", frozenset({"Ed25519"}), None),
    "Ed448": ("OKP", frozenset({"Ed448"}), None),
}
#: Every JWS algorithm a :class:`Jwk` can verify (asymmetric signatures only).
ALGORITHMS = frozenset(_ALG_RULES)

# EC curve name -> coordinate size in bytes.
_CURVE_SIZES = {"P-256": 32, "P-384": 48, "P-521": 66}
_OKP_SIZES = {"Ed25519": 32, "Ed448": 57}

# Private or secret members of every key type (RFC 7518 section 6): a published JWKS
# must never carry them.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_KEY_OPS = frozenset(
    {"sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey", "deriveBits"}
)
_OPS_FOR_USE = {"sig": frozenset({"sign", "verify"}), "enc": _KEY_OPS - {"sign", "verify"}}


def safe_kid(kid: object) -> str:
    """A key id fit for a message: printable ASCII only, at most 64 characters.

    A token's ``kid`` is attacker-controlled header data; never echo it raw.
    """
    text = kid if isinstance(kid, str) else repr(kid)
    cut = "".join(c if " " <= c <= "~" else "?" for c in text[:64])
    return cut + ("..." if len(text) > 64 else "")


class Jwk:
    """One public key of a JWKS, its ``cryptography`` key built when the JWKS is parsed.

    ``problem`` says why the key cannot verify a Cognito token (RS256): a wrong ``kty``,
    ``use``, ``alg``, a short modulus, invalid members; or is ``None``. :meth:`key_for`
    answers the same question for any algorithm of :data:`ALGORITHMS`.
    """

    __slots__ = (
        "_defect",
        "_key",
        "_problem",
        "_public_key",
        "alg",
        "crv",
        "e",
        "fingerprint",
        "kid",
        "kty",
        "n",
        "use",
    )

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
        public_key: PublicKey | None = None,
        crv: str | None = None,
    ) -> None:
        self.kid = kid
        self.kty = kty
        self.use = use
        self.alg = alg
        self.crv = crv
        self.n = n
        self.e = e
        self.fingerprint = fingerprint
        # Why the key can verify nothing at all (members, material); None when usable.
        self._defect = problem
        self._key = public_key
        # The RS256 view, precomputed for the Cognito hot path.
        self._problem = self._why_not("RS256")
        self._public_key = (
            public_key if self._problem is None and isinstance(public_key, RSAPublicKey) else None
        )

    @property
    def problem(self) -> TokenVerificationError | None:
        """Why this key cannot verify an RS256 token, or ``None`` when it can."""
        return self._problem

    def public_key(self) -> RSAPublicKey:
        """The RSA key for RS256 (built once); raises the key's typed problem if unusable."""
        key = self._public_key
        if key is not None:
            return key
        if self._problem is not None:
            raise type(self._problem)(str(self._problem))
        # Only a Jwk built by hand (not by parse_jwks) gets here.
        if self.n is None or self.e is None:
            raise JwkError(f"the key {safe_kid(self.kid)!r} has no RSA modulus or exponent")
        try:
            built = RSAPublicNumbers(self.e, self.n).public_key()
        except ValueError:
            self._problem = JwkError(f"the key {safe_kid(self.kid)!r} is not a valid RSA key")
            raise type(self._problem)(str(self._problem)) from None
        self._public_key = built
        return built

    def key_for(self, alg: str) -> PublicKey:
        """The public key, if it may verify a signature made with ``alg``; else the typed
        problem (:class:`~acognito.errors.JwkInvalidKtyError`,
        :class:`~acognito.errors.JwtInvalidSignatureAlgorithmError`, ...)."""
        if alg == "RS256":
            return self.public_key()
        problem = self._why_not(alg)
        if problem is not None:
            raise type(problem)(str(problem))
        if self._key is None:  # a hand-made RSA Jwk
            if self.kty != "RSA":
                raise JwkError(f"the key {safe_kid(self.kid)!r} has no key material")
            self._key = self.public_key()
        return self._key

    def _why_not(self, alg: str) -> TokenVerificationError | None:
        """Why this key may not verify ``alg`` signatures, or ``None``: the key type
        first, then the key's own defects, then its curve and ``alg``."""
        label = safe_kid(self.kid)
        rule = _ALG_RULES.get(alg)
        if rule is None:
            return JwtInvalidSignatureAlgorithmError(f"the algorithm {alg[:16]!r} is not allowed")
        kty, curves, _ = rule
        if self.kty != kty:
            return JwkInvalidKtyError(
                f"the key {label!r} has kty {self.kty[:16]!r}, not {kty!r} as {alg} needs"
                if alg != "RS256"
                else f"the key {label!r} has kty {self.kty[:16]!r}, not 'RSA'"
            )
        if self._defect is not None:
            return self._defect
        if curves is not None and self.crv not in curves:
            return JwtInvalidSignatureAlgorithmError(
                f"the key {label!r} is on another curve than {alg} needs"
            )
        if self.alg is not None and self.alg != alg:
            return JwtInvalidSignatureAlgorithmError(f"the key {label!r} is not an {alg} key")
        return None

    def __repr__(self) -> str:
        if self.kty == "RSA":
            bits = self.n.bit_length() if self.n is not None else 0
            return (
                f"Jwk(kid={safe_kid(self.kid)!r}, kty={self.kty!r}, use={self.use!r}, bits={bits})"
            )
        return (
            f"Jwk(kid={safe_kid(self.kid)!r}, kty={self.kty!r}, use={self.use!r}, crv={self.crv!r})"
        )


def hash_for(alg: str) -> hashes.HashAlgorithm | None:
    """The hash of a JWS algorithm of :data:`ALGORITHMS` (``None`` for EdDSA)."""
    return _ALG_RULES[alg][2]


def ec_coordinate_size(alg: str) -> int:
    """Bytes in each of ``r`` and ``s`` of an ES256/384/512 signature."""
    curves = _ALG_RULES[alg][1]
    assert curves is not None
    return _CURVE_SIZES[next(iter(curves))]


# --------------------------------------------------------------------------- members


def _b64_bytes(value: object, name: str, label: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise JwksFetchError(f"JWK {label!r}: {name} must be a base64url string")
    try:
        return b64url_decode(value)
    except (ValueError, UnicodeEncodeError):
        raise JwksFetchError(f"JWK {label!r}: {name} is not base64url") from None


def _b64_int(value: object, name: str, label: str) -> int:
    return int.from_bytes(_b64_bytes(value, name, label), "big")


class _Invalid(Exception):
    """A member that RFC 7517 defines is malformed (the key becomes unusable)."""


def _check_members(entry: dict[str, Any], use: str | None, ops: list[str] | None) -> None:
    """RFC 7517 section 4: ``use``/``key_ops`` values and agreement, the X.509 members."""
    if use is not None and use not in _OPS_FOR_USE:
        raise _Invalid("use is neither 'sig' nor 'enc'")
    if ops is not None:
        if len(set(ops)) != len(ops) or not _KEY_OPS.issuperset(ops):
            raise _Invalid("key_ops has unknown or repeated values")
        if use is not None and not _OPS_FOR_USE[use].issuperset(ops):
            raise _Invalid("key_ops disagrees with use")
    x5u = entry.get("x5u")
    if x5u is not None:
        parts = urlsplit(x5u) if isinstance(x5u, str) else None
        if parts is None or parts.scheme not in ("https", "http") or not parts.netloc:
            raise _Invalid("x5u is not a URL")
    x5c = entry.get("x5c")
    if x5c is not None:
        if not isinstance(x5c, list) or not x5c:
            raise _Invalid("x5c is not a list of certificates")
        for cert in x5c:
            if not isinstance(cert, str):
                raise _Invalid("x5c is not a list of certificates")
            try:
                base64.b64decode(cert, validate=True)
            except (binascii.Error, ValueError):
                raise _Invalid("x5c holds a certificate that is not base64") from None
    for name, size in (("x5t", 20), ("x5t#S256", 32)):
        thumb = entry.get(name)
        if thumb is None:
            continue
        try:
            ok = isinstance(thumb, str) and len(b64url_decode(thumb)) == size
        except (ValueError, UnicodeEncodeError):
            ok = False
        if not ok:
            raise _Invalid(f"{name} is not a base64url thumbprint")


def _crv(entry: dict[str, Any]) -> str:
    crv = entry.get("crv")
    if not isinstance(crv, str) or not crv:
        raise _Invalid("crv is not a string")
    return crv


def _coordinate(entry: dict[str, Any], name: str) -> bytes:
    value = entry.get(name)
    try:
        if isinstance(value, str) and value:
            return b64url_decode(value)
    except (ValueError, UnicodeEncodeError):
        pass
    raise _Invalid(f"{name} is not base64url")


def _ec_key(entry: dict[str, Any]) -> tuple[ec.EllipticCurvePublicKey | None, str]:
    from cryptography.hazmat.primitives.asymmetric import ec

    crv = _crv(entry)
    x, y = _coordinate(entry, "x"), _coordinate(entry, "y")
    size = _CURVE_SIZES.get(crv)
    if size is None:
        return None, crv
    curve: ec.EllipticCurve = (
        ec.SECP256R1() if crv == "P-256" else ec.SECP384R1() if crv == "P-384" else ec.SECP521R1()
    )
    if len(x) != size or len(y) != size:
        raise _Invalid(f"x and y are not {size}-byte coordinates")
    try:
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve
        )
        return numbers.public_key(), crv
    except ValueError:
        raise _Invalid("x and y are not a point on the curve") from None


def _okp_key(entry: dict[str, Any]) -> tuple[PublicKey | None, str]:
    crv = _crv(entry)
    x = _coordinate(entry, "x")
    size = _OKP_SIZES.get(crv)
    if size is None:
        return None, crv
    if len(x) != size:
        raise _Invalid(f"x is not a {size}-byte {crv} key")
    from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        if crv == "Ed25519":
            return Ed25519PublicKey.from_public_bytes(x), crv
        return Ed448PublicKey.from_public_bytes(x), crv
    except ValueError:
        raise _Invalid(f"x is not an {crv} public key") from None


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
    secret = _PRIVATE_MEMBERS.intersection(entry)
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

    # How the key may be used comes first (use, key_ops), then its material and members.
    problem: TokenVerificationError | None = None
    if use is not None and use != "sig":
        problem = JwkInvalidUseError(f"the key {label!r} is not meant for signatures (use)")
    elif ops is not None and "verify" not in ops:
        problem = JwkInvalidUseError(f"the key {label!r} is not meant for verifying (key_ops)")
    key: PublicKey | None = None
    n = e = None
    crv: str | None = None
    try:
        if kty == "RSA":
            n = _b64_int(entry.get("n"), "n", label)
            e = _b64_int(entry.get("e"), "e", label)
            if n.bit_length() < MIN_RSA_BITS:
                problem = problem or JwkError(
                    f"the key {label!r} is shorter than {MIN_RSA_BITS} bits"
                )
            else:
                try:
                    key = RSAPublicNumbers(e, n).public_key()
                except ValueError:
                    raise _Invalid("n and e are not an RSA public key") from None
        elif kty == "EC":
            key, crv = _ec_key(entry)
            if key is None:
                problem = problem or JwkError(f"the key {label!r} is on an unsupported curve")
        elif kty == "OKP":
            key, crv = _okp_key(entry)
            if key is None:
                problem = problem or JwkError(f"the key {label!r} is not a signing key (crv)")
        else:
            problem = problem or JwkInvalidKtyError(
                f"the key {label!r} has kty {kty[:16]!r}, which cannot verify signatures"
            )
        _check_members(entry, use, ops)
    except _Invalid as invalid:
        kind = kty if kty in ("RSA", "EC", "OKP") else "JWK"
        problem = problem or JwkError(
            f"the key {label!r} is not a valid {kind} public JWK ({invalid})"
        )
    if problem is None and alg is not None and alg not in _ALG_RULES:
        problem = JwtInvalidSignatureAlgorithmError(
            f"the key {label!r} is for an algorithm that is not allowed"
        )
    return Jwk(
        kid=kid,
        kty=kty,
        use=use,
        alg=alg,
        n=n,
        e=e,
        crv=crv,
        problem=problem,
        fingerprint=fingerprint,
        public_key=key if problem is None else None,
    )


def parse_jwks(document: object) -> dict[str, Jwk]:
    """Validate a JWKS document (``{"keys": [...]}``) and index its keys by ``kid``.

    Raises :class:`~acognito.errors.JwksFetchError` on anything that is not a JWKS:
    a missing or non-list ``keys``, a key without ``kid``/``kty``, an RSA key without
    base64url ``n``/``e`` (an EC or OKP key without ``crv``/``x``/``y``), private key
    members, duplicate kids, more than 100 keys. A key that is well formed but cannot
    verify signatures is kept with a ``problem``.
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
