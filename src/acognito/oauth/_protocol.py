"""The OAuth2 protocol core shared by the async and the sync client: no I/O.

:class:`OAuth2Core` holds the configuration, builds every request as a :class:`Call`
and turns every answer (:class:`Answer`: status, headers, body bytes) into a value or
a typed error. The two clients only move bytes: each ``call -> send -> parse`` is the
same here for both, so they answer alike. Bodies are capped (:data:`MAX_RESPONSE_BYTES`)
while they stream in (:class:`BodyLimit`).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar
from urllib.parse import urlencode

import httpx

from .._secret import redact
from ..errors import ConfigurationError, OAuthError
from ._models import AuthorizationRequest, OAuthTokens, error_from_answer, transport_error
from ._params import (
    basic_credentials,
    check_identifier,
    check_token,
    normalize_domain,
    scope_string,
)
from ._params import extra_params as check_extra_params
from ._pkce import code_challenge, generate_code_verifier

#: Time allowed for one call to the OAuth2 domain unless the caller says otherwise:
#: 5 s to connect, 10 s for each read, write or wait for a pooled connection.
DEFAULT_TIMEOUT: Final = httpx.Timeout(10.0, connect=5.0)
#: Largest answer body read from the domain (Cognito's are a few KiB).
MAX_RESPONSE_BYTES: Final = 1 << 20
#: Largest ``expires_in`` taken at face value (about 31 years).
_MAX_EXPIRES_IN: Final = 10**9

H = TypeVar("H")


@dataclass(frozen=True, repr=False)
class Call:
    """One HTTP call to the domain, built the same way for the async and the sync client."""

    method: str
    url: str
    endpoint: str
    headers: dict[str, str]
    form: dict[str, str] | None
    sensitive: tuple[str, ...]


@dataclass(frozen=True, repr=False)
class Answer:
    """What the domain answered to a :class:`Call`: status, headers and the whole body."""

    status: int
    headers: httpx.Headers
    body: bytes


class BodyLimit:
    """Collects an answer's body chunk by chunk, refusing more than ``limit`` bytes."""

    __slots__ = ("_call", "_chunks", "_limit", "_size")

    def __init__(self, call: Call, limit: int = MAX_RESPONSE_BYTES) -> None:
        self._call = call
        self._limit = limit
        self._chunks: list[bytes] = []
        self._size = 0

    def too_large(self) -> OAuthError:
        """The error for an answer over the limit."""
        return OAuthError(
            f"the {self._call.endpoint} endpoint answered more than {self._limit} bytes",
            error="invalid_response",
        )

    def start(self, headers: httpx.Headers) -> None:
        """Refuse at once a body whose declared length is over the limit."""
        length = headers.get("content-length", "")
        if length.isdigit() and (len(length) > 12 or int(length) > self._limit):
            raise self.too_large()

    def fits(self, chunk: bytes) -> bool:
        """Keep ``chunk``; False (keeping nothing) once the body would pass the limit."""
        self._size += len(chunk)
        if self._size > self._limit:
            return False
        self._chunks.append(chunk)
        return True

    def answer(self, response: httpx.Response) -> Answer:
        return Answer(response.status_code, response.headers, b"".join(self._chunks))


def json_object(body: bytes) -> dict[str, Any] | None:
    """``body`` as a JSON object, or None (not JSON, not an object, too deep, NaN...)."""
    try:
        data = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _invalid(what: str) -> OAuthError:
    return OAuthError(f"the token response has a malformed {what}", error="invalid_response")


class OAuth2Core(Generic[H]):
    """What the async and the sync client share: configuration, requests and answers.

    ``http_client`` (an ``httpx.AsyncClient`` or ``httpx.Client``, by subclass) is
    shared and never closed here; without one the subclass creates its own.
    """

    def __init__(
        self,
        domain_url: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        http_client: H | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.domain_url = normalize_domain(domain_url)
        self.client_id = check_identifier(client_id, "client_id")
        self._client_secret = (
            None if client_secret is None else check_identifier(client_secret, "client_secret")
        )
        self._timeout = _check_timeout(timeout)
        if not callable(clock):
            raise ConfigurationError("clock must be callable")
        self._clock = clock
        self._closed = False
        self._owns_http = http_client is None
        self._setup_http(http_client)

    def _setup_http(self, http_client: H | None) -> None:
        raise NotImplementedError  # pragma: no cover - each client defines it

    # endpoints ---------------------------------------------------------------

    @property
    def token_endpoint(self) -> str:
        """``/oauth2/token`` on the domain."""
        return self.domain_url + "/oauth2/token"

    @property
    def authorize_endpoint(self) -> str:
        """``/oauth2/authorize`` on the domain."""
        return self.domain_url + "/oauth2/authorize"

    @property
    def revoke_endpoint(self) -> str:
        """``/oauth2/revoke`` on the domain."""
        return self.domain_url + "/oauth2/revoke"

    @property
    def userinfo_endpoint(self) -> str:
        """``/oauth2/userInfo`` on the domain."""
        return self.domain_url + "/oauth2/userInfo"

    @property
    def has_secret(self) -> bool:
        """Whether this is a confidential client (authenticates with a secret)."""
        return self._client_secret is not None

    # browser URLs (no I/O) --------------------------------------------------

    def authorization_url(
        self,
        redirect_uri: str,
        *,
        scopes: str | Iterable[str] | None = None,
        state: str | None = None,
        code_verifier: str | None = None,
        nonce: str | None = None,
        identity_provider: str | None = None,
        idp_identifier: str | None = None,
        extra_params: Mapping[str, str] | None = None,
    ) -> AuthorizationRequest:
        """Build the ``/oauth2/authorize`` URL for the authorization-code grant with PKCE.

        A random ``state`` and S256 code verifier are generated unless given; with the
        ``openid`` scope a ``nonce`` is generated too (it lands in the id token).
        ``extra_params`` adds other documented parameters (``lang``, ``login_hint``...).
        """
        check_token(redirect_uri, "redirect_uri")
        scope = scope_string(scopes)
        state = secrets.token_urlsafe(32) if state is None else check_token(state, "state")
        verifier = generate_code_verifier() if code_verifier is None else code_verifier
        challenge = code_challenge(verifier)
        if nonce is None and scope is not None and "openid" in scope.split():
            nonce = secrets.token_urlsafe(24)
        params: dict[str, str] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if scope is not None:
            params["scope"] = scope
        if nonce is not None:
            params["nonce"] = check_token(nonce, "nonce")
        if identity_provider is not None:
            params["identity_provider"] = check_token(identity_provider, "identity_provider")
        if idp_identifier is not None:
            params["idp_identifier"] = check_token(idp_identifier, "idp_identifier")
        params.update(check_extra_params(extra_params, params))
        return AuthorizationRequest(
            url=f"{self.authorize_endpoint}?{urlencode(params)}",
            redirect_uri=redirect_uri,
            state=state,
            code_verifier=verifier,
            nonce=nonce,
        )

    def logout_url(
        self,
        logout_uri: str | None = None,
        *,
        redirect_uri: str | None = None,
        scopes: str | Iterable[str] | None = None,
        state: str | None = None,
    ) -> str:
        """The ``/logout`` URL that ends the managed-login session in the browser.

        With ``logout_uri`` (an allowed sign-out URL) Cognito redirects there; with
        ``redirect_uri`` it sends the user back to sign in (``response_type=code``).
        """
        if (logout_uri is None) == (redirect_uri is None):
            raise ConfigurationError("give exactly one of logout_uri and redirect_uri")
        params = {"client_id": self.client_id}
        if logout_uri is not None:
            params["logout_uri"] = check_token(logout_uri, "logout_uri")
        else:
            params["redirect_uri"] = check_token(redirect_uri, "redirect_uri")
            params["response_type"] = "code"
            scope = scope_string(scopes)
            if scope is not None:
                params["scope"] = scope
            if state is not None:
                params["state"] = check_token(state, "state")
        return f"{self.domain_url}/logout?{urlencode(params)}"

    # request building ---------------------------------------------------------

    def _client_headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        if self._client_secret is not None:
            headers["Authorization"] = basic_credentials(self.client_id, self._client_secret)
        return headers

    def _sensitive(self, *values: str | None) -> tuple[str, ...]:
        return tuple(v for v in (self._client_secret, *values) if v)

    def _token_call(self, form: dict[str, str], *secret_values: str) -> Call:
        # AWS's examples send client_id in the body for every grant, with or without
        # Basic client authentication; the secret itself only travels in the header.
        body = {"client_id": self.client_id, **form}
        return Call(
            "POST",
            self.token_endpoint,
            "token",
            self._client_headers(),
            body,
            self._sensitive(*secret_values),
        )

    def _client_credentials_call(self, scopes: str | Iterable[str] | None) -> Call:
        if self._client_secret is None:
            raise ConfigurationError("the client_credentials grant needs a client secret")
        form = {"grant_type": "client_credentials"}
        scope = scope_string(scopes)
        if scope is not None:
            form["scope"] = scope
        return self._token_call(form)

    def _exchange_call(self, code: str, redirect_uri: str, code_verifier: str | None) -> Call:
        form = {
            "grant_type": "authorization_code",
            "code": check_token(code, "code"),
            "redirect_uri": check_token(redirect_uri, "redirect_uri"),
        }
        if code_verifier is not None:
            code_challenge(code_verifier)  # validates the verifier's shape
            form["code_verifier"] = code_verifier
        return self._token_call(form, code, code_verifier or "")

    def _refresh_call(self, refresh_token: str) -> Call:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": check_token(refresh_token, "refresh_token"),
        }
        return self._token_call(form, refresh_token)

    def _revoke_call(self, token: str) -> Call:
        form = {"token": check_token(token, "token")}
        if self._client_secret is None:
            form["client_id"] = self.client_id
        return Call(
            "POST",
            self.revoke_endpoint,
            "revoke",
            self._client_headers(),
            form,
            self._sensitive(token),
        )

    def _userinfo_call(self, access_token: str) -> Call:
        token = check_token(access_token, "access_token")
        return Call(
            "GET",
            self.userinfo_endpoint,
            "userInfo",
            {"Authorization": f"Bearer {token}", "Accept": "application/json"},
            None,
            (token,),
        )

    def _request_kwargs(self, call: Call) -> dict[str, Any]:
        return {
            "headers": call.headers,
            "data": call.form,
            "timeout": self._timeout,
            "follow_redirects": False,
        }

    def _transport_error(self, exc: httpx.HTTPError, call: Call) -> Exception:
        return transport_error(exc, call.endpoint, call.url)

    # answers -------------------------------------------------------------------

    def _failure(self, answer: Answer, call: Call) -> OAuthError:
        return error_from_answer(
            answer.status, json_object(answer.body), answer.headers, call.endpoint, call.sensitive
        )

    def _tokens(
        self, answer: Answer, call: Call, *, keep_refresh: str | None = None
    ) -> OAuthTokens:
        if answer.status != 200:
            raise self._failure(answer, call)
        data = json_object(answer.body)
        if data is None:
            raise OAuthError(
                "the token endpoint answered without a JSON object",
                error="invalid_response",
                status_code=200,
            )
        return self._parse_tokens(data, keep_refresh=keep_refresh)

    def _parse_tokens(self, data: Mapping[str, Any], *, keep_refresh: str | None) -> OAuthTokens:
        def optional_str(name: str) -> str | None:
            value = data.get(name)
            if value is None or (isinstance(value, str) and value):
                return value
            raise _invalid(name)

        access = optional_str("access_token")
        if access is None:
            raise OAuthError("the token response has no access_token", error="invalid_response")
        token_type = optional_str("token_type") or "Bearer"
        raw_expiry = data.get("expires_in")
        expires_in: int | None
        if raw_expiry is None:
            expires_in = None
        elif isinstance(raw_expiry, int) and not isinstance(raw_expiry, bool):
            expires_in = raw_expiry
        elif isinstance(raw_expiry, str) and raw_expiry.isdigit() and len(raw_expiry) < 12:
            expires_in = int(raw_expiry)
        else:
            raise _invalid("expires_in")
        if expires_in is not None and not 0 <= expires_in <= _MAX_EXPIRES_IN:
            raise _invalid("expires_in (out of range)")
        return OAuthTokens(
            access_token=access,
            token_type=token_type,
            expires_in=expires_in,
            expires_at=None if expires_in is None else self._clock() + expires_in,
            id_token=optional_str("id_token"),
            refresh_token=optional_str("refresh_token") or keep_refresh,
            scope=optional_str("scope"),
        )

    def _revoked(self, answer: Answer, call: Call) -> None:
        if answer.status != 200:
            raise self._failure(answer, call)

    def _user_info(self, answer: Answer, call: Call) -> dict[str, Any]:
        if answer.status != 200:
            raise self._failure(answer, call)
        data = json_object(answer.body)
        if data is None:
            raise OAuthError(
                "the userInfo endpoint answered without a JSON object",
                error="invalid_response",
                status_code=200,
            )
        return data

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(domain_url={self.domain_url!r}, "
            f"client_id={self.client_id!r}, client_secret={redact(self._client_secret)})"
        )


def _check_timeout(timeout: object) -> float | httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ConfigurationError("timeout must be a positive number of seconds or httpx.Timeout")
    return float(timeout)
