"""The user pool's OAuth2 domain: token grants, the authorize URL with PKCE, revoke, userInfo.

The domain is ``https://{prefix}.auth.{region}.amazoncognito.com`` or a custom domain.
:class:`OAuth2Client` talks to it with an ``httpx.AsyncClient`` (asyncio and trio),
:class:`SyncOAuth2Client` with an ``httpx.Client``; both drive one protocol core
(``_protocol``: request building and answer parsing, no I/O), so they answer alike.
Errors the endpoint names (``invalid_grant``, ``invalid_client``, ...) become the typed
:class:`~acognito.errors.OAuthError` subclasses; unreachable or slow endpoints become
:class:`~acognito.errors.CognitoConnectionError`. No message or ``repr`` shows a token
or a secret.

The rooms: ``_models`` (values and error mapping), ``_pkce``, ``_params`` (input checks),
``_protocol`` (the core), ``_async`` and ``_sync`` (the two clients), ``_id_token`` (the
one check of a code redemption's id token: verifier, audience, nonce).
"""

from __future__ import annotations

from ._async import OAuth2Client
from ._id_token import (
    IdTokenVerifier,
    check_id_token_claims,
    verify_id_token,
    verify_id_token_sync,
)
from ._models import AuthorizationRequest, OAuthTokens
from ._params import cognito_domain_url
from ._pkce import code_challenge, generate_code_verifier
from ._protocol import DEFAULT_TIMEOUT, MAX_RESPONSE_BYTES
from ._sync import SyncOAuth2Client

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_RESPONSE_BYTES",
    "AuthorizationRequest",
    "IdTokenVerifier",
    "OAuth2Client",
    "OAuthTokens",
    "SyncOAuth2Client",
    "check_id_token_claims",
    "code_challenge",
    "cognito_domain_url",
    "generate_code_verifier",
    "verify_id_token",
    "verify_id_token_sync",
]
