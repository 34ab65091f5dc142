"""The JWKS cache: the user pools' public signing keys, fetched once and kept.

:class:`JwksCache` downloads a JWKS document with httpx (one request in flight per
URI however many verifications wait for it), validates it strictly, and hands out
:class:`Jwk` objects whose RSA public keys are loaded once. An unknown ``kid`` causes
one refetch (keys rotate); if the kid is still unknown, or the refetch fails, the URI
is put in a penalty box for a few seconds, so a flood of forged kids cannot make us
hammer Cognito. Fetches never follow redirects, and plain http is accepted for
loopback hosts only.

Each JWK is imported and validated with joserfc when a document is loaded (off the
per-token path), which hands back the ``cryptography`` public key the verifier uses.
joserfc is imported on first parse, in a worker thread when a fetch needs it.

Keys can also come from a dict (:meth:`JwksCache.add`) or, as in pycognito, from the
``COGNITO_JWKS`` environment variable, in which case nothing is fetched.
"""

from ._cache import DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BYTES, JwksCache, check_jwks_uri
from ._keys import (
    COGNITO_JWKS_ENV,
    MAX_KEYS,
    MIN_RSA_BITS,
    Jwk,
    b64url_decode,
    parse_jwks,
    safe_kid,
)

__all__ = [
    "COGNITO_JWKS_ENV",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_BYTES",
    "MAX_KEYS",
    "MIN_RSA_BITS",
    "Jwk",
    "JwksCache",
    "b64url_decode",
    "check_jwks_uri",
    "parse_jwks",
    "safe_kid",
]
