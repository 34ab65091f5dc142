"""The one check of an authorization-code sign-in's id token: signature and claims
through a verifier, then the audience and the OIDC ``nonce`` against the request.

Written once, here, for every browser sign-in that redeems a code: the CLI's
``login --hosted-ui`` and the server-side sign-in of the integrations. The signature,
expiry, issuer and (when the id token has one) ``at_hash`` are the verifier's job
(:class:`~acognito.CognitoVerifier` with ``token_use="id"``); what only the request
knows (the nonce it sent, the client it is for) is checked here, in constant time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .._secret import constant_time_equal
from ..errors import ConfigurationError, JwtInvalidAudienceError, JwtInvalidClaimError
from ._models import AuthorizationRequest, OAuthTokens

__all__ = ["IdTokenVerifier", "check_id_token_claims", "verify_id_token", "verify_id_token_sync"]


class IdTokenVerifier(Protocol):
    """What :func:`verify_id_token` needs: a verifier of the pool's id tokens
    (:class:`~acognito.CognitoVerifier` is one)."""

    async def verify(self, token: str, *, access_token: str | None = None) -> dict[str, Any]:
        """Verify ``token`` (and ``at_hash`` against ``access_token``); its claims."""
        ...

    def verify_sync(self, token: str, *, access_token: str | None = None) -> dict[str, Any]:
        """The same, without I/O (the keys must be cached already)."""
        ...


def check_id_token_claims(claims: Mapping[str, Any], *, client_id: str, nonce: str | None) -> None:
    """The checks only the authorization request can make on verified id-token claims.

    ``aud`` must name ``client_id``; when the request carried a ``nonce``, the token's
    must equal it (compared in constant time), so a token minted for another sign-in
    (a replayed or injected code) is refused. Raises
    :class:`~acognito.errors.JwtInvalidAudienceError` or
    :class:`~acognito.errors.JwtInvalidClaimError` (``claim="nonce"``); the messages
    never show either nonce.
    """
    if not isinstance(client_id, str) or not client_id:
        raise ConfigurationError("client_id must be a non-empty string")
    audience = claims.get("aud")
    names = [audience] if isinstance(audience, str) else audience
    if not isinstance(names, list) or client_id not in names:
        raise JwtInvalidAudienceError("the id token is not for this app client (aud)", claim="aud")
    if nonce is None:
        return
    got = claims.get("nonce")
    if not isinstance(got, str) or not constant_time_equal(got, nonce):
        raise JwtInvalidClaimError(
            "the id token's nonce is missing or not the one this sign-in sent", claim="nonce"
        )


def _id_token(tokens: OAuthTokens, request: AuthorizationRequest) -> str | None:
    if tokens.id_token is None and request.nonce is not None:
        raise JwtInvalidClaimError(
            "the token endpoint returned no id token for an openid sign-in", claim="nonce"
        )
    return tokens.id_token


async def verify_id_token(
    tokens: OAuthTokens,
    request: AuthorizationRequest,
    verifier: IdTokenVerifier,
    *,
    client_id: str,
) -> dict[str, Any] | None:
    """Verify the id token that redeeming ``request``'s code returned; its claims.

    ``verifier`` checks signature, expiry, issuer, ``token_use`` and ``at_hash``
    (against ``tokens.access_token``); then :func:`check_id_token_claims` checks the
    audience and the nonce. None when the sign-in asked no ``openid`` scope (no nonce
    was sent and no id token came back); an ``openid`` sign-in without an id token is
    refused.
    """
    token = _id_token(tokens, request)
    if token is None:
        return None
    claims = await verifier.verify(token, access_token=tokens.access_token)
    check_id_token_claims(claims, client_id=client_id, nonce=request.nonce)
    return claims


def verify_id_token_sync(
    tokens: OAuthTokens,
    request: AuthorizationRequest,
    verifier: IdTokenVerifier,
    *,
    client_id: str,
) -> dict[str, Any] | None:
    """:func:`verify_id_token` without I/O (``verifier.verify_sync``: keys cached)."""
    token = _id_token(tokens, request)
    if token is None:
        return None
    claims = verifier.verify_sync(token, access_token=tokens.access_token)
    check_id_token_claims(claims, client_id=client_id, nonce=request.nonce)
    return claims
