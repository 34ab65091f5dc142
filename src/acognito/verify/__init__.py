"""Verify Cognito JWTs (RS256 against the pool's JWKS, then the claims), an ALB's
``x-amzn-oidc-data`` (:class:`AlbVerifier`) and any OIDC issuer's (:class:`OidcVerifier`).

:class:`CognitoVerifier` checks one user pool's id or access tokens, with
``await verifier.verify(token)`` or ``verifier.verify_sync(token)`` (cached keys
only, never any I/O). :class:`MultiPoolVerifier` (``CognitoVerifier.for_pools``)
routes tokens of several pools by their ``iss``. Every rejection is a subclass of
:class:`~acognito.errors.TokenVerificationError` naming the failed check; no message
carries the token or a claim's value, except ``iss`` (public, truncated).

The hot path is written directly on ``cryptography`` (one RSA verify, one base64
and JSON decode, a few dict look-ups): about 40 us per token, 30 of them the RSA
verify, so verifying on the event loop is fine. Tokens verified before are answered
from a small LRU cache (about 1 us) until they expire.
"""

from typing import TYPE_CHECKING, Any

from ._checks import (
    DEFAULT_CACHE_SIZE,
    MAX_POOL_ID_LENGTH,
    MAX_TOKEN_LENGTH,
    CustomCheck,
    TokenUse,
    at_hash,
)
from ._verifier import CognitoVerifier, MultiPoolVerifier

if TYPE_CHECKING:
    from ._alb import ACCESS_TOKEN_HEADER, DATA_HEADER, AlbKeyCache, AlbVerifier, alb_key_url
    from ._oidc import OidcVerifier

# The ALB and OIDC verifiers (and the EC/EdDSA code they load) are imported on first
# use: a Cognito-only process, a Lambda's cold start, never pays for them.
_LAZY = {
    "ACCESS_TOKEN_HEADER": "._alb",
    "DATA_HEADER": "._alb",
    "AlbKeyCache": "._alb",
    "AlbVerifier": "._alb",
    "alb_key_url": "._alb",
    "OidcVerifier": "._oidc",
}


def __getattr__(name: str) -> Any:
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "ACCESS_TOKEN_HEADER",
    "DATA_HEADER",
    "DEFAULT_CACHE_SIZE",
    "MAX_POOL_ID_LENGTH",
    "MAX_TOKEN_LENGTH",
    "AlbKeyCache",
    "AlbVerifier",
    "CognitoVerifier",
    "CustomCheck",
    "MultiPoolVerifier",
    "OidcVerifier",
    "TokenUse",
    "alb_key_url",
    "at_hash",
]
