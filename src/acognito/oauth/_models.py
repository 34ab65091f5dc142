"""The OAuth2 domain's values and its error mapping: tokens, authorization requests, errors.

No I/O. :class:`OAuthTokens` is what ``/oauth2/token`` answers; :class:`AuthorizationRequest`
is what a browser sign-in needs kept. The functions below turn an endpoint's answer (or a
redirect URL) into the typed :class:`~acognito.errors.OAuthError` subclasses, with every
text cleaned of secrets and control characters.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, urlsplit

import httpx

from .._secret import constant_time_equal
from ..errors import (
    CognitoConnectionError,
    ConfigurationError,
    OAuthError,
    OAuthStateMismatchError,
    oauth_error,
)
from ._pkce import code_challenge

__all__ = ["AuthorizationRequest", "OAuthTokens"]

# RFC 6749 error codes are printable ASCII; Cognito uses snake_case words.
_ERROR_CODE_RE: Final = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_WWW_AUTH_ERROR_RE: Final = re.compile(r'\berror="([^"]*)"')
_WWW_AUTH_DESC_RE: Final = re.compile(r'\berror_description="([^"]*)"')
_MAX_DESCRIPTION: Final = 300


@dataclass(frozen=True, eq=False, repr=False)
class OAuthTokens:
    """Tokens answered by ``/oauth2/token``, with their expiry.

    ``expires_at`` is the clock time (``time.time()`` unless the client was given
    another clock) at which the access token expires; ``None`` when the endpoint gave
    no ``expires_in``. ``repr`` shows which tokens are present, never their values.
    """

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the token type, not a secret
    expires_in: int | None = None
    expires_at: float | None = None
    id_token: str | None = None
    refresh_token: str | None = None
    scope: str | None = None

    @property
    def scopes(self) -> tuple[str, ...]:
        """The granted scopes, split on spaces."""
        return tuple(self.scope.split()) if self.scope else ()

    def expires_within(self, seconds: float = 0.0, *, now: float | None = None) -> bool:
        """Whether the access token expires within ``seconds`` (unknown expiry: never)."""
        if self.expires_at is None:
            return False
        current = time.time() if now is None else now
        return self.expires_at - current <= seconds

    def __repr__(self) -> str:
        def shown(value: str | None) -> str:
            return "None" if value is None else "'***'"

        return (
            f"OAuthTokens(token_type={self.token_type!r}, expires_in={self.expires_in!r}, "
            f"scope={self.scope!r}, access_token={shown(self.access_token)}, "
            f"id_token={shown(self.id_token)}, refresh_token={shown(self.refresh_token)})"
        )


@dataclass(frozen=True, eq=False, repr=False)
class AuthorizationRequest:
    """An authorization-code request: the URL to send the browser to and what to keep.

    Keep ``state`` and ``code_verifier`` server-side (a session) until the browser
    comes back to ``redirect_uri``; then :meth:`code_from_redirect` checks the state in
    constant time and returns the code for :meth:`OAuth2Client.exchange_code`.
    """

    url: str
    redirect_uri: str
    state: str
    code_verifier: str
    nonce: str | None = None

    @property
    def code_challenge(self) -> str:
        """The S256 challenge sent in :attr:`url` (derived from :attr:`code_verifier`)."""
        return code_challenge(self.code_verifier)

    def check_state(self, state: str | None) -> None:
        """Raise :class:`~acognito.errors.OAuthStateMismatchError` unless ``state`` is ours.

        The comparison takes the same time wherever the values differ. A ``state`` that
        is not a string (a caller's mistake) is a :class:`ConfigurationError`.
        """
        if state is not None and not isinstance(state, str):
            raise ConfigurationError(f"state must be a string, not {type(state).__name__}")
        if state is None or not constant_time_equal(state, self.state):
            raise OAuthStateMismatchError(
                "the state returned to the redirect URI does not match the request"
            )

    def code_from_redirect(self, redirect_url: str) -> str:
        """The authorization code from the URL the browser was redirected to.

        Checks ``state`` first (constant time), then turns an ``error`` answer into the
        typed :class:`OAuthError`, then returns the single ``code`` parameter.
        """
        if not isinstance(redirect_url, str):
            raise ConfigurationError(
                f"redirect_url must be a string, not {type(redirect_url).__name__}"
            )
        params = single_query_params(redirect_url, ("state", "code", "error", "error_description"))
        self.check_state(params.get("state"))
        error = params.get("error")
        if error is not None:
            raise typed_error(error, params.get("error_description", ""), None)
        code = params.get("code")
        if not code:
            raise oauth_error("invalid_request", "the redirect carries no authorization code")
        return code

    def __repr__(self) -> str:
        return f"AuthorizationRequest(redirect_uri={self.redirect_uri!r}, state='***')"


# --------------------------------------------------------------------------- error mapping


def single_query_params(url: str, names: Iterable[str]) -> dict[str, str]:
    """The named query parameters of ``url``, each at most once (a repeat is an error)."""
    try:
        query = urlsplit(url).query
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
    except ValueError as exc:
        raise oauth_error("invalid_request", "the redirect URL cannot be parsed") from exc
    wanted = set(names)
    found: dict[str, str] = {}
    for key, value in pairs:
        if key in wanted:
            if key in found:
                raise oauth_error("invalid_request", f"the redirect repeats {key!r}")
            found[key] = value
    return found


def clean_text(text: object, sensitive: Iterable[str]) -> str:
    """Server text fit for a message: secrets masked, printable, at most 300 characters."""
    if not isinstance(text, str):
        return ""
    text = text[: _MAX_DESCRIPTION * 4]
    for secret in sensitive:
        if secret:
            text = text.replace(secret, "***")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text[:_MAX_DESCRIPTION]


def valid_code(error: object) -> str | None:
    """``error`` if it is a well-formed OAuth2 error code, else None."""
    return error if isinstance(error, str) and _ERROR_CODE_RE.fullmatch(error) else None


def typed_error(error: str, description: str, status: int | None) -> OAuthError:
    """The typed error for an ``error`` code (a malformed code gives the base class)."""
    if valid_code(error) is None:
        return OAuthError("the OAuth2 endpoint answered a malformed error", status_code=status)
    return oauth_error(error, clean_text(description, ()), status_code=status)


def error_from_answer(
    status: int,
    data: Mapping[str, object] | None,
    headers: httpx.Headers,
    endpoint: str,
    sensitive: tuple[str, ...],
) -> OAuthError:
    """The typed error for a non-success answer of ``endpoint`` (its JSON body is ``data``)."""
    error: object = None
    description: object = None
    if data is not None:
        error, description = data.get("error"), data.get("error_description")
    if not isinstance(error, str):
        # userInfo answers like a bearer-protected resource: the error is in the header.
        header = headers.get("www-authenticate", "")[:4096]
        found = _WWW_AUTH_ERROR_RE.search(header)
        if found:
            error = found.group(1)
            desc = _WWW_AUTH_DESC_RE.search(header)
            description = desc.group(1) if desc else ""
    text = clean_text(description, sensitive)
    code = valid_code(error)
    if status >= 500:
        return OAuthError(
            text or f"HTTP {status} from the {endpoint} endpoint",
            error=code,
            status_code=status,
        )
    if code is not None:
        return oauth_error(code, text, status_code=status)
    return OAuthError(
        f"unexpected HTTP {status} from the {endpoint} endpoint",
        error="invalid_response",
        status_code=status,
    )


def transport_error(exc: httpx.HTTPError, endpoint: str, url: str) -> CognitoConnectionError:
    """The error for a call that never got an answer: which endpoint, where, and why."""
    if isinstance(exc, httpx.TimeoutException):
        return CognitoConnectionError(
            f"timed out calling the OAuth2 {endpoint} endpoint {url} ({type(exc).__name__})"
        )
    return CognitoConnectionError(
        f"could not reach the OAuth2 {endpoint} endpoint {url} ({type(exc).__name__})"
    )
