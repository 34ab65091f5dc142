"""httpx authentication that attaches Cognito bearer tokens and keeps them fresh.

:class:`CognitoAuth` sends a signed-in user's tokens (from an
:class:`~acognito.AsyncCognito` session, or from a password it signs in with);
:class:`ClientCredentialsAuth` gets machine-to-machine tokens from the pool's OAuth2
domain. Both run one sans-I/O flow (``_core``: attach, refresh on 401, keep the token
off redirects to other origins) through a blocking or an async driver, over one token
cache (``_cache``): one token request at a time however many requests need it (single
flight), for threads (``httpx.Client``) and for tasks (``httpx.AsyncClient`` on
asyncio or trio).

The rooms: ``_core`` (the flow and its drivers), ``_cache``, ``_base`` (the
``httpx.Auth``), ``_client_credentials`` and ``_cognito`` (whose blocking side runs on
an ``acognito._loop_thread.LoopThread``).
"""

from __future__ import annotations

from ._client_credentials import ClientCredentialsAuth
from ._cognito import CognitoAuth, TokenType
from ._core import DEFAULT_MARGIN_FRACTION, DEFAULT_REFRESH_MARGIN

__all__ = [
    "DEFAULT_MARGIN_FRACTION",
    "DEFAULT_REFRESH_MARGIN",
    "ClientCredentialsAuth",
    "CognitoAuth",
    "TokenType",
]
