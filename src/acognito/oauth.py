"""The user pool's OAuth2 domain: token grants, the authorize URL with PKCE, revoke, userInfo.

The domain is ``https://{prefix}.auth.{region}.amazoncognito.com`` or a custom domain.
:class:`OAuth2Client` talks to it with an ``httpx.AsyncClient`` (asyncio and trio),
:class:`SyncOAuth2Client` with an ``httpx.Client``; both share the request building and
the response checks, so they answer alike. Errors the endpoint names (``invalid_grant``,
``invalid_client``, ...) become the typed :class:`~acognito.errors.OAuthError`
subclasses; unreachable or slow endpoints become
:class:`~acognito.errors.CognitoConnectionError`. No message or ``repr`` shows a token
or a secret.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit

import anyio
import anyio.to_thread
import httpx

from ._lifecycle import AsyncClosing, Closing
from ._secret import constant_time_equal
from .errors import (
    CognitoConnectionError,
    ConfigurationError,
    OAuthError,
    OAuthStateMismatchError,
    SessionClosedError,
    oauth_error,
)

__all__ = [
    "AuthorizationRequest",
    "OAuth2Client",
    "OAuthTokens",
    "SyncOAuth2Client",
    "code_challenge",
    "cognito_domain_url",
    "generate_code_verifier",
]

#: Seconds allowed for one call to the OAuth2 domain unless the caller says otherwise.
DEFAULT_TIMEOUT: Final = 10.0

# RFC 7636 section 4.1: unreserved characters, 43 to 128 of them.
_VERIFIER_ALPHABET: Final = string.ascii_letters + string.digits + "-._~"
_VERIFIER_RE: Final = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN_RE: Final = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
# RFC 6749 error codes are printable ASCII; Cognito uses snake_case words.
_ERROR_CODE_RE: Final = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_WWW_AUTH_ERROR_RE: Final = re.compile(r'\berror="([^"]*)"')
_WWW_AUTH_DESC_RE: Final = re.compile(r'\berror_description="([^"]*)"')
_DOMAIN_PREFIX_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")
_REGION_RE: Final = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
_MAX_DESCRIPTION: Final = 300


# --------------------------------------------------------------------------- values


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

        The comparison takes the same time wherever the values differ.
        """
        if state is None or not constant_time_equal(state, self.state):
            raise OAuthStateMismatchError(
                "the state returned to the redirect URI does not match the request"
            )

    def code_from_redirect(self, redirect_url: str) -> str:
        """The authorization code from the URL the browser was redirected to.

        Checks ``state`` first (constant time), then turns an ``error`` answer into the
        typed :class:`OAuthError`, then returns the single ``code`` parameter.
        """
        params = _single_query_params(redirect_url, ("state", "code", "error", "error_description"))
        self.check_state(params.get("state"))
        error = params.get("error")
        if error is not None:
            raise _typed_error(error, params.get("error_description", ""), None)
        code = params.get("code")
        if not code:
            raise oauth_error("invalid_request", "the redirect carries no authorization code")
        return code

    def __repr__(self) -> str:
        return f"AuthorizationRequest(redirect_uri={self.redirect_uri!r}, state='***')"


# --------------------------------------------------------------------------- PKCE


def generate_code_verifier(length: int = 64) -> str:
    """A fresh PKCE code verifier: ``length`` (43-128) random unreserved characters.

    RFC 7636 section 4.1; 64 characters carry about 386 bits from :mod:`secrets`.
    """
    if not 43 <= length <= 128:
        raise ConfigurationError("a PKCE code verifier has 43 to 128 characters")
    return "".join(secrets.choice(_VERIFIER_ALPHABET) for _ in range(length))


def code_challenge(code_verifier: str) -> str:
    """The S256 code challenge: base64url(SHA-256(verifier)) without padding (RFC 7636 4.2)."""
    if not isinstance(code_verifier, str) or not _VERIFIER_RE.fullmatch(code_verifier):
        raise ConfigurationError(
            "a PKCE code verifier has 43 to 128 characters from A-Z a-z 0-9 - . _ ~"
        )
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# --------------------------------------------------------------------------- helpers


def cognito_domain_url(prefix: str, region: str) -> str:
    """The URL of a Cognito-hosted domain: ``https://{prefix}.auth.{region}.amazoncognito.com``."""
    if not _DOMAIN_PREFIX_RE.fullmatch(prefix):
        raise ConfigurationError("a Cognito domain prefix has 1-63 of a-z 0-9 and '-'")
    if not _REGION_RE.fullmatch(region):
        raise ConfigurationError(f"not an AWS region name: {region!r}")
    return f"https://{prefix}.auth.{region}.amazoncognito.com"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _normalize_domain(domain_url: str) -> str:
    if not isinstance(domain_url, str):
        raise ConfigurationError("domain_url must be a string")
    parts = urlsplit(domain_url.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigurationError("domain_url must be an absolute https URL")
    if parts.scheme == "http" and not _is_loopback(host):
        raise ConfigurationError("domain_url must use https (plain http only on loopback)")
    if parts.username is not None or parts.query or parts.fragment:
        raise ConfigurationError("domain_url takes no user info, query or fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _check_identifier(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 256:
        raise ConfigurationError(f"{what} must be a non-empty string")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ConfigurationError(f"{what} has whitespace or control characters")
    return value


def _check_token(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} must be a non-empty string")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ConfigurationError(f"{what} has whitespace or control characters")
    return value


def _scope_string(scopes: str | Iterable[str] | None) -> str | None:
    if scopes is None:
        return None
    items = scopes.split() if isinstance(scopes, str) else list(scopes)
    seen: dict[str, None] = {}
    for item in items:
        if not isinstance(item, str) or not _SCOPE_TOKEN_RE.fullmatch(item):
            raise ConfigurationError(f"not a valid OAuth2 scope: {item!r}")
        seen.setdefault(item, None)
    return " ".join(seen) or None


def _basic_credentials(client_id: str, client_secret: str) -> str:
    # RFC 6749 2.3.1: each part form-urlencoded before joining with ':'.
    raw = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
    return "Basic " + base64.b64encode(raw.encode("utf-8")).decode("ascii")


def _single_query_params(url: str, names: Iterable[str]) -> dict[str, str]:
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


def _clean_text(text: object, sensitive: Iterable[str]) -> str:
    if not isinstance(text, str):
        return ""
    for secret in sensitive:
        if secret:
            text = text.replace(secret, "***")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text[:_MAX_DESCRIPTION]


def _typed_error(error: str, description: str, status: int | None) -> OAuthError:
    if not _ERROR_CODE_RE.fullmatch(error):
        return OAuthError("the OAuth2 endpoint answered a malformed error", status_code=status)
    return oauth_error(error, _clean_text(description, ()), status_code=status)


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = json.loads(response.content)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _error_from_response(
    response: httpx.Response, endpoint: str, sensitive: tuple[str, ...]
) -> OAuthError:
    """The typed error for a non-success answer of ``endpoint``."""
    status = response.status_code
    data = _json_object(response)
    error: object = None
    description: object = None
    if data is not None:
        error, description = data.get("error"), data.get("error_description")
    if not isinstance(error, str):
        # userInfo answers like a bearer-protected resource: the error is in the header.
        header = response.headers.get("www-authenticate", "")
        found = _WWW_AUTH_ERROR_RE.search(header)
        if found:
            error = found.group(1)
            desc = _WWW_AUTH_DESC_RE.search(header)
            description = desc.group(1) if desc else ""
    text = _clean_text(description, sensitive)
    if status >= 500:
        return OAuthError(
            text or f"HTTP {status} from the {endpoint} endpoint",
            error=error if isinstance(error, str) and _ERROR_CODE_RE.fullmatch(error) else None,
            status_code=status,
        )
    if isinstance(error, str) and _ERROR_CODE_RE.fullmatch(error):
        return oauth_error(error, text, status_code=status)
    return OAuthError(
        f"unexpected HTTP {status} from the {endpoint} endpoint",
        error="invalid_response",
        status_code=status,
    )


def _transport_error(exc: httpx.HTTPError, endpoint: str) -> CognitoConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return CognitoConnectionError(f"timed out calling the OAuth2 {endpoint} endpoint")
    return CognitoConnectionError(
        f"could not reach the OAuth2 {endpoint} endpoint ({type(exc).__name__})"
    )


@dataclass(frozen=True, repr=False)
class _Call:
    """One HTTP call to the domain, built the same way for the async and the sync client."""

    method: str
    url: str
    endpoint: str
    headers: dict[str, str]
    form: dict[str, str] | None
    sensitive: tuple[str, ...]


# --------------------------------------------------------------------------- clients


class _OAuth2Base:
    """What the async and the sync client share: configuration, requests and checks."""

    def __init__(
        self,
        domain_url: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.domain_url = _normalize_domain(domain_url)
        self.client_id = _check_identifier(client_id, "client_id")
        self._client_secret = (
            None if client_secret is None else _check_identifier(client_secret, "client_secret")
        )
        self._timeout = timeout
        self._clock = clock
        self._closed = False

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
        _check_token(redirect_uri, "redirect_uri")
        scope = _scope_string(scopes)
        state = secrets.token_urlsafe(32) if state is None else _check_token(state, "state")
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
            params["nonce"] = _check_token(nonce, "nonce")
        if identity_provider is not None:
            params["identity_provider"] = _check_token(identity_provider, "identity_provider")
        if idp_identifier is not None:
            params["idp_identifier"] = _check_token(idp_identifier, "idp_identifier")
        for key, value in (extra_params or {}).items():
            if key in params:
                raise ConfigurationError(f"extra_params may not override {key!r}")
            params[key] = value
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
            params["logout_uri"] = _check_token(logout_uri, "logout_uri")
        else:
            assert redirect_uri is not None
            params["redirect_uri"] = _check_token(redirect_uri, "redirect_uri")
            params["response_type"] = "code"
            scope = _scope_string(scopes)
            if scope is not None:
                params["scope"] = scope
            if state is not None:
                params["state"] = _check_token(state, "state")
        return f"{self.domain_url}/logout?{urlencode(params)}"

    # request building ---------------------------------------------------------

    def _client_headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        if self._client_secret is not None:
            headers["Authorization"] = _basic_credentials(self.client_id, self._client_secret)
        return headers

    def _sensitive(self, *values: str | None) -> tuple[str, ...]:
        return tuple(v for v in (self._client_secret, *values) if v)

    def _token_call(self, form: dict[str, str], *secret_values: str) -> _Call:
        # AWS's examples send client_id in the body for every grant, with or without
        # Basic client authentication; the secret itself only travels in the header.
        body = {"client_id": self.client_id, **form}
        return _Call(
            "POST",
            self.token_endpoint,
            "token",
            self._client_headers(),
            body,
            self._sensitive(*secret_values),
        )

    def _client_credentials_call(self, scopes: str | Iterable[str] | None) -> _Call:
        if self._client_secret is None:
            raise ConfigurationError("the client_credentials grant needs a client secret")
        form = {"grant_type": "client_credentials"}
        scope = _scope_string(scopes)
        if scope is not None:
            form["scope"] = scope
        return self._token_call(form)

    def _exchange_call(self, code: str, redirect_uri: str, code_verifier: str | None) -> _Call:
        form = {
            "grant_type": "authorization_code",
            "code": _check_token(code, "code"),
            "redirect_uri": _check_token(redirect_uri, "redirect_uri"),
        }
        if code_verifier is not None:
            code_challenge(code_verifier)  # validates the verifier's shape
            form["code_verifier"] = code_verifier
        return self._token_call(form, code, code_verifier or "")

    def _refresh_call(self, refresh_token: str) -> _Call:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": _check_token(refresh_token, "refresh_token"),
        }
        return self._token_call(form, refresh_token)

    def _revoke_call(self, token: str) -> _Call:
        form = {"token": _check_token(token, "token")}
        if self._client_secret is None:
            form["client_id"] = self.client_id
        return _Call(
            "POST",
            self.revoke_endpoint,
            "revoke",
            self._client_headers(),
            form,
            self._sensitive(token),
        )

    def _userinfo_call(self, access_token: str) -> _Call:
        token = _check_token(access_token, "access_token")
        return _Call(
            "GET",
            self.userinfo_endpoint,
            "userInfo",
            {"Authorization": f"Bearer {token}", "Accept": "application/json"},
            None,
            (token,),
        )

    # response checks -----------------------------------------------------------

    def _tokens(
        self, response: httpx.Response, call: _Call, *, keep_refresh: str | None = None
    ) -> OAuthTokens:
        if response.status_code != 200:
            raise _error_from_response(response, call.endpoint, call.sensitive)
        data = _json_object(response)
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
            raise OAuthError(f"the token response has a malformed {name}", error="invalid_response")

        access = optional_str("access_token")
        if access is None:
            raise OAuthError("the token response has no access_token", error="invalid_response")
        token_type = optional_str("token_type") or "Bearer"
        raw_expiry = data.get("expires_in")
        expires_in: int | None
        if raw_expiry is None:
            expires_in = None
        elif isinstance(raw_expiry, int) and not isinstance(raw_expiry, bool) and raw_expiry >= 0:
            expires_in = raw_expiry
        elif isinstance(raw_expiry, str) and raw_expiry.isdigit() and len(raw_expiry) < 12:
            expires_in = int(raw_expiry)
        else:
            raise OAuthError(
                "the token response has a malformed expires_in", error="invalid_response"
            )
        return OAuthTokens(
            access_token=access,
            token_type=token_type,
            expires_in=expires_in,
            expires_at=None if expires_in is None else self._clock() + expires_in,
            id_token=optional_str("id_token"),
            refresh_token=optional_str("refresh_token") or keep_refresh,
            scope=optional_str("scope"),
        )

    def _revoked(self, response: httpx.Response, call: _Call) -> None:
        if response.status_code != 200:
            raise _error_from_response(response, call.endpoint, call.sensitive)

    def _user_info(self, response: httpx.Response, call: _Call) -> dict[str, Any]:
        if response.status_code != 200:
            raise _error_from_response(response, call.endpoint, call.sensitive)
        data = _json_object(response)
        if data is None:
            raise OAuthError(
                "the userInfo endpoint answered without a JSON object",
                error="invalid_response",
                status_code=200,
            )
        return data

    def _request_kwargs(self, call: _Call) -> dict[str, Any]:
        return {
            "headers": call.headers,
            "data": call.form,
            "timeout": self._timeout,
            "follow_redirects": False,
        }

    def __repr__(self) -> str:
        secret = "'***'" if self._client_secret is not None else "None"
        return (
            f"{type(self).__name__}(domain_url={self.domain_url!r}, "
            f"client_id={self.client_id!r}, client_secret={secret})"
        )


class OAuth2Client(_OAuth2Base, AsyncClosing):
    """Async client for the pool's OAuth2 domain (asyncio and trio, through httpx/anyio).

    Pass ``http_client`` to share an ``httpx.AsyncClient`` (it is not closed here);
    otherwise one is created on first use, in a worker thread because building its SSL
    context blocks for ~100 ms, and closed by :meth:`aclose`.
    """

    def __init__(
        self,
        domain_url: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            domain_url, client_id, client_secret=client_secret, timeout=timeout, clock=clock
        )
        self._http = http_client
        self._owns_http = http_client is None
        self._create_lock: anyio.Lock | None = None

    async def aclose(self) -> None:
        """Close the ``httpx.AsyncClient`` this object created (a shared one stays open)."""
        self._closed = True
        client, self._http = self._http, None
        if client is not None and self._owns_http:
            await client.aclose()

    async def _client(self) -> httpx.AsyncClient:
        if self._closed:
            raise SessionClosedError("this OAuth2Client is closed")
        client = self._http
        if client is not None:
            return client
        if self._create_lock is None:
            self._create_lock = anyio.Lock()
        async with self._create_lock:
            if self._http is None:
                self._http = await anyio.to_thread.run_sync(httpx.AsyncClient)
            if self._closed:  # closed while we were creating it
                created, self._http = self._http, None
                await created.aclose()
                raise SessionClosedError("this OAuth2Client is closed")
            return self._http

    async def _send(self, call: _Call) -> httpx.Response:
        client = await self._client()
        try:
            return await client.request(call.method, call.url, **self._request_kwargs(call))
        except httpx.HTTPError as exc:
            raise _transport_error(exc, call.endpoint) from exc

    async def client_credentials(self, scopes: str | Iterable[str] | None = None) -> OAuthTokens:
        """Machine-to-machine access token (needs a client secret).

        Without ``scopes`` Cognito grants every custom scope the client may request.
        """
        call = self._client_credentials_call(scopes)
        return self._tokens(await self._send(call), call)

    async def exchange_code(
        self, code: str, redirect_uri: str, code_verifier: str | None
    ) -> OAuthTokens:
        """Redeem an authorization code and its PKCE verifier for id, access, refresh tokens."""
        call = self._exchange_call(code, redirect_uri, code_verifier)
        return self._tokens(await self._send(call), call)

    async def complete_authorization(
        self, request: AuthorizationRequest, redirect_url: str
    ) -> OAuthTokens:
        """Check the redirect against ``request`` (state, error) and redeem its code."""
        code = request.code_from_redirect(redirect_url)
        return await self.exchange_code(code, request.redirect_uri, request.code_verifier)

    async def refresh(self, refresh_token: str) -> OAuthTokens:
        """New id and access tokens from a refresh token (kept in the result if not rotated)."""
        call = self._refresh_call(refresh_token)
        return self._tokens(await self._send(call), call, keep_refresh=refresh_token)

    async def revoke(self, token: str) -> None:
        """Revoke a refresh token and the access tokens issued from it (``/oauth2/revoke``)."""
        call = self._revoke_call(token)
        self._revoked(await self._send(call), call)

    async def user_info(self, access_token: str) -> dict[str, Any]:
        """The user's attributes allowed by the access token's scopes (``/oauth2/userInfo``)."""
        call = self._userinfo_call(access_token)
        return self._user_info(await self._send(call), call)


class SyncOAuth2Client(_OAuth2Base, Closing):
    """Blocking twin of :class:`OAuth2Client` on an ``httpx.Client``, safe to share across threads.

    Used by the synchronous httpx auth flows; needs no event loop.
    """

    def __init__(
        self,
        domain_url: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        http_client: httpx.Client | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            domain_url, client_id, client_secret=client_secret, timeout=timeout, clock=clock
        )
        self._http = http_client
        self._owns_http = http_client is None
        self._create_lock = threading.Lock()

    def close(self) -> None:
        """Close the ``httpx.Client`` this object created (a shared one stays open)."""
        with self._create_lock:
            self._closed = True
            client, self._http = self._http, None
        if client is not None and self._owns_http:
            client.close()

    def _client(self) -> httpx.Client:
        client = self._http
        if client is not None and not self._closed:
            return client
        with self._create_lock:
            if self._closed:
                raise SessionClosedError("this SyncOAuth2Client is closed")
            if self._http is None:
                self._http = httpx.Client()
            return self._http

    def _send(self, call: _Call) -> httpx.Response:
        client = self._client()
        try:
            return client.request(call.method, call.url, **self._request_kwargs(call))
        except httpx.HTTPError as exc:
            raise _transport_error(exc, call.endpoint) from exc

    def client_credentials(self, scopes: str | Iterable[str] | None = None) -> OAuthTokens:
        """Machine-to-machine access token (needs a client secret)."""
        call = self._client_credentials_call(scopes)
        return self._tokens(self._send(call), call)

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None) -> OAuthTokens:
        """Redeem an authorization code (with its PKCE verifier) for tokens."""
        call = self._exchange_call(code, redirect_uri, code_verifier)
        return self._tokens(self._send(call), call)

    def complete_authorization(
        self, request: AuthorizationRequest, redirect_url: str
    ) -> OAuthTokens:
        """Check the redirect against ``request`` (state, error) and redeem its code."""
        code = request.code_from_redirect(redirect_url)
        return self.exchange_code(code, request.redirect_uri, request.code_verifier)

    def refresh(self, refresh_token: str) -> OAuthTokens:
        """New id and access tokens from a refresh token (kept in the result if not rotated)."""
        call = self._refresh_call(refresh_token)
        return self._tokens(self._send(call), call, keep_refresh=refresh_token)

    def revoke(self, token: str) -> None:
        """Revoke a refresh token and the access tokens issued from it."""
        call = self._revoke_call(token)
        self._revoked(self._send(call), call)

    def user_info(self, access_token: str) -> dict[str, Any]:
        """The user's attributes allowed by the access token's scopes."""
        call = self._userinfo_call(access_token)
        return self._user_info(self._send(call), call)
