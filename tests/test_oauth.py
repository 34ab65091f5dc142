"""acognito.oauth against the local Cognito's OAuth2 domain (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import base64
import json
import re
import socket
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from acognito.errors import (
    CognitoConnectionError,
    ConfigurationError,
    InvalidClientOAuthError,
    InvalidGrantOAuthError,
    InvalidRequestOAuthError,
    InvalidScopeOAuthError,
    InvalidTokenOAuthError,
    OAuthError,
    SessionClosedError,
    UnauthorizedClientOAuthError,
)
from acognito.oauth import (
    AuthorizationRequest,
    OAuth2Client,
    OAuthTokens,
    SyncOAuth2Client,
    code_challenge,
    cognito_domain_url,
    generate_code_verifier,
)
from acognito.testing import LocalCognito, TokenIssuer
from oauth_domain import DomainClient, LocalDomain

pytestmark = pytest.mark.anyio

REDIRECT = "https://app.example.com/callback"
LOGOUT = "https://app.example.com/bye"


def claims_of(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


@pytest.fixture
def server(cognito_local: LocalCognito) -> Iterator[LocalDomain]:
    with LocalDomain(cognito_local) as srv:
        srv.add_user("alice", email="alice@example.com", email_verified="true")
        srv.authorize_user = "alice"
        yield srv


@pytest.fixture
def web_client(server: LocalDomain) -> DomainClient:
    """A public client (no secret) for the authorization-code grant, as a SPA has."""
    return server.add_client(
        secret=False,
        scopes={"openid", "email", "profile"},
        redirect_uris={REDIRECT, REDIRECT + "2"},
        logout_uris={LOGOUT},
    )


@pytest.fixture
def confidential_web(server: LocalDomain) -> DomainClient:
    return server.add_client(scopes={"openid", "email"}, redirect_uris={REDIRECT})


@pytest.fixture
def m2m(server: LocalDomain) -> DomainClient:
    return server.add_client(scopes={"api/read", "api/write"}, grants={"client_credentials"})


@pytest.fixture
async def client(server: LocalDomain, web_client: DomainClient) -> AsyncIterator[OAuth2Client]:
    async with OAuth2Client(server.url, web_client.client_id) as c:
        yield c


async def browser_redirect(url: str) -> str:
    """What a browser does at /oauth2/authorize: follow to the app's redirect URI."""
    async with httpx.AsyncClient() as browser:
        response = await browser.get(url)
    assert response.status_code == 302, response.text
    return response.headers["location"]


# --------------------------------------------------------------------------- PKCE


def test_code_verifier_length_and_charset() -> None:
    allowed = re.compile(r"[A-Za-z0-9\-._~]+")
    for length in (43, 64, 128):
        verifier = generate_code_verifier(length)
        assert len(verifier) == length
        assert allowed.fullmatch(verifier)
    assert len(generate_code_verifier()) == 64
    assert generate_code_verifier() != generate_code_verifier()
    for bad in (42, 129, 0):
        with pytest.raises(ConfigurationError):
            generate_code_verifier(bad)


def test_code_verifier_uses_the_whole_unreserved_set() -> None:
    seen = set("".join(generate_code_verifier(128) for _ in range(40)))
    assert set("-._~") <= seen
    assert len(seen) == 66


def test_s256_challenge_matches_rfc7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.mark.parametrize("bad", ["short", "x" * 129, "a" * 42 + " ", "é" * 50, "a" * 50 + "+"])
def test_challenge_rejects_malformed_verifiers(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        code_challenge(bad)


# --------------------------------------------------------------------------- URLs


async def test_authorization_url_carries_pkce_state_and_nonce(client: OAuth2Client) -> None:
    request = client.authorization_url(
        REDIRECT, scopes=["openid", "email"], identity_provider="COGNITO"
    )
    assert request.url.startswith(client.authorize_endpoint + "?")
    q = query_of(request.url)
    assert q["response_type"] == ["code"]
    assert q["client_id"] == [client.client_id]
    assert q["redirect_uri"] == [REDIRECT]
    assert q["state"] == [request.state]
    assert q["code_challenge_method"] == ["S256"]
    assert q["code_challenge"] == [code_challenge(request.code_verifier)]
    assert q["code_challenge"] == [request.code_challenge]
    assert q["scope"] == ["openid email"]
    assert q["identity_provider"] == ["COGNITO"]
    assert request.nonce
    assert q["nonce"] == [request.nonce]
    assert len(request.state) >= 43
    other = client.authorization_url(REDIRECT, scopes="email")
    assert other.state != request.state
    assert other.code_verifier != request.code_verifier
    assert other.nonce is None
    assert "nonce" not in query_of(other.url)


async def test_authorization_url_rejects_bad_input(client: OAuth2Client) -> None:
    with pytest.raises(ConfigurationError):
        client.authorization_url(REDIRECT, scopes=["has space"])
    with pytest.raises(ConfigurationError):
        client.authorization_url(REDIRECT, scopes=['quo"te'])
    with pytest.raises(ConfigurationError):
        client.authorization_url(REDIRECT, extra_params={"state": "mine"})
    with pytest.raises(ConfigurationError):
        client.authorization_url(REDIRECT, code_verifier="too-short")
    request = client.authorization_url(REDIRECT, extra_params={"lang": "fr"}, state="s1")
    assert query_of(request.url)["lang"] == ["fr"]
    assert request.state == "s1"


def test_state_check_and_redirect_parsing() -> None:
    request = AuthorizationRequest(
        url="https://d/oauth2/authorize",
        redirect_uri=REDIRECT,
        state="expected-state",
        code_verifier=generate_code_verifier(),
    )
    request.check_state("expected-state")
    for wrong in ("expected-statf", "", None, "expected-state-longer"):
        with pytest.raises(OAuthError) as info:
            request.check_state(wrong)
        assert info.value.error == "state_mismatch"
    assert request.code_from_redirect(f"{REDIRECT}?code=abc&state=expected-state") == "abc"
    with pytest.raises(OAuthError, match="state_mismatch"):
        request.code_from_redirect(f"{REDIRECT}?code=abc&state=forged")
    with pytest.raises(OAuthError) as denied:
        request.code_from_redirect(f"{REDIRECT}?error=access_denied&state=expected-state")
    assert denied.value.error == "access_denied"
    with pytest.raises(InvalidRequestOAuthError):
        request.code_from_redirect(f"{REDIRECT}?state=expected-state")
    with pytest.raises(OAuthError):
        request.code_from_redirect(f"{REDIRECT}?code=a&code=b&state=expected-state")
    # A forged error redirect without our state is a state problem first.
    with pytest.raises(OAuthError, match="state_mismatch"):
        request.code_from_redirect(f"{REDIRECT}?error=access_denied")
    assert "expected-state" not in repr(request)
    assert request.code_verifier not in repr(request)


async def test_logout_url_forms_are_honoured_by_the_server(
    client: OAuth2Client, server: LocalDomain
) -> None:
    url = client.logout_url(LOGOUT)
    assert urlsplit(url).path == "/logout"
    assert query_of(url) == {"client_id": [client.client_id], "logout_uri": [LOGOUT]}
    async with httpx.AsyncClient() as browser:
        response = await browser.get(url)
        assert response.status_code == 302
        assert response.headers["location"] == LOGOUT
        back = client.logout_url(redirect_uri=REDIRECT, scopes=["openid"], state="s")
        q = query_of(back)
        assert q["response_type"] == ["code"]
        assert q["redirect_uri"] == [REDIRECT]
        response = await browser.get(back)
        assert response.status_code == 302
        assert response.headers["location"].startswith("/oauth2/authorize?")
    assert server.counts["/logout"] == 2
    with pytest.raises(ConfigurationError):
        client.logout_url()
    with pytest.raises(ConfigurationError):
        client.logout_url(LOGOUT, redirect_uri=REDIRECT)


def test_domain_urls() -> None:
    assert (
        cognito_domain_url("my-app", "eu-west-1")
        == "https://my-app.auth.eu-west-1.amazoncognito.com"
    )
    with pytest.raises(ConfigurationError):
        cognito_domain_url("My_App", "eu-west-1")
    with pytest.raises(ConfigurationError):
        cognito_domain_url("ok", "not a region")
    assert OAuth2Client("https://auth.example.com/", "cid").domain_url == "https://auth.example.com"
    assert OAuth2Client("http://127.0.0.1:8080", "cid").domain_url == "http://127.0.0.1:8080"
    assert OAuth2Client("http://localhost:8080", "cid").token_endpoint == (
        "http://localhost:8080/oauth2/token"
    )
    for bad in (
        "http://auth.example.com",  # secrets over plain http off loopback
        "ftp://auth.example.com",
        "auth.example.com",
        "https://user:pw@auth.example.com",
        "https://auth.example.com/?x=1",
    ):
        with pytest.raises(ConfigurationError):
            OAuth2Client(bad, "cid")
    with pytest.raises(ConfigurationError):
        OAuth2Client("https://auth.example.com", "")
    with pytest.raises(ConfigurationError):
        OAuth2Client("https://auth.example.com", "cid", client_secret="with space")


# --------------------------------------------------------------------------- code grant


async def test_authorization_code_with_pkce_end_to_end(
    client: OAuth2Client, server: LocalDomain
) -> None:
    request = client.authorization_url(REDIRECT, scopes=["openid", "email"])
    location = await browser_redirect(request.url)
    assert location.startswith(REDIRECT + "?")
    assert server.last_authorize_params["code_challenge"] == request.code_challenge

    tokens = await client.complete_authorization(request, location)
    assert isinstance(tokens, OAuthTokens)
    assert tokens.token_type == "Bearer"
    assert tokens.expires_in == 3600
    assert tokens.refresh_token
    assert tokens.id_token
    access = claims_of(tokens.access_token)
    assert access["token_use"] == "access"
    assert access["username"] == "alice"
    assert access["client_id"] == client.client_id
    assert access["iss"] == server.issuer
    ident = claims_of(tokens.id_token)
    assert ident["aud"] == client.client_id
    assert ident["nonce"] == request.nonce
    assert ident["email"] == "alice@example.com"
    assert server.counts["token:authorization_code"] == 1

    info = await client.user_info(tokens.access_token)
    assert info["username"] == "alice"
    assert info["email"] == "alice@example.com"
    assert info["sub"] == access["sub"]


async def test_wrong_verifier_is_invalid_grant_and_burns_the_code(client: OAuth2Client) -> None:
    request = client.authorization_url(REDIRECT, scopes=["openid"])
    code = request.code_from_redirect(await browser_redirect(request.url))
    with pytest.raises(InvalidGrantOAuthError) as info:
        await client.exchange_code(code, REDIRECT, generate_code_verifier())
    assert info.value.status_code == 400
    assert code not in str(info.value)
    assert code not in repr(info.value)
    with pytest.raises(InvalidGrantOAuthError):
        await client.exchange_code(code, REDIRECT, request.code_verifier)


async def test_reused_code_is_invalid_grant(client: OAuth2Client) -> None:
    request = client.authorization_url(REDIRECT, scopes=["openid"])
    location = await browser_redirect(request.url)
    await client.complete_authorization(request, location)
    with pytest.raises(InvalidGrantOAuthError):
        await client.complete_authorization(request, location)


async def test_code_is_bound_to_redirect_uri_and_client(
    client: OAuth2Client, server: LocalDomain, web_client: DomainClient
) -> None:
    request = client.authorization_url(REDIRECT, scopes=["openid"])
    code = request.code_from_redirect(await browser_redirect(request.url))
    with pytest.raises(InvalidGrantOAuthError):
        await client.exchange_code(code, REDIRECT + "2", request.code_verifier)

    other = server.add_client(secret=False, scopes={"openid"}, redirect_uris={REDIRECT})
    request = client.authorization_url(REDIRECT, scopes=["openid"])
    code = request.code_from_redirect(await browser_redirect(request.url))
    async with OAuth2Client(server.url, other.client_id) as thief:
        with pytest.raises(InvalidGrantOAuthError):
            await thief.exchange_code(code, REDIRECT, request.code_verifier)


async def test_authorize_errors_come_back_typed(client: OAuth2Client, server: LocalDomain) -> None:
    request = client.authorization_url(REDIRECT, scopes=["openid", "admin"])
    location = await browser_redirect(request.url)
    with pytest.raises(InvalidScopeOAuthError):
        request.code_from_redirect(location)
    server.authorize_user = None
    request = client.authorization_url(REDIRECT, scopes=["openid"])
    with pytest.raises(OAuthError) as info:
        request.code_from_redirect(await browser_redirect(request.url))
    assert info.value.error == "access_denied"


async def test_confidential_client_uses_basic_auth(
    server: LocalDomain, confidential_web: DomainClient
) -> None:
    assert confidential_web.client_secret
    async with OAuth2Client(
        server.url, confidential_web.client_id, client_secret=confidential_web.client_secret
    ) as confidential:
        request = confidential.authorization_url(REDIRECT, scopes=["openid"])
        tokens = await confidential.complete_authorization(
            request, await browser_redirect(request.url)
        )
        assert tokens.refresh_token
        refreshed = await confidential.refresh(tokens.refresh_token)
        assert refreshed.access_token != tokens.access_token
        await confidential.revoke(tokens.refresh_token)
    # Without the secret the same client is refused.
    async with OAuth2Client(server.url, confidential_web.client_id) as public:
        request = public.authorization_url(REDIRECT, scopes=["openid"])
        with pytest.raises(InvalidClientOAuthError):
            await public.complete_authorization(request, await browser_redirect(request.url))


# --------------------------------------------------------------------------- refresh, revoke


async def test_refresh_revoke_then_refresh_is_invalid_grant(
    client: OAuth2Client, server: LocalDomain
) -> None:
    request = client.authorization_url(REDIRECT, scopes=["openid", "email"])
    tokens = await client.complete_authorization(request, await browser_redirect(request.url))
    assert tokens.refresh_token is not None

    refreshed = await client.refresh(tokens.refresh_token)
    assert refreshed.access_token != tokens.access_token
    assert refreshed.id_token
    assert refreshed.refresh_token == tokens.refresh_token
    assert (
        claims_of(refreshed.access_token)["origin_jti"]
        == claims_of(tokens.access_token)["origin_jti"]
    )

    await client.revoke(tokens.refresh_token)
    assert server.counts["/oauth2/revoke"] == 1
    with pytest.raises(InvalidGrantOAuthError) as info:
        await client.refresh(tokens.refresh_token)
    assert tokens.refresh_token not in str(info.value)
    # Typed, and no retry loop: exactly the two refresh calls we made reached the server.
    assert server.counts["token:refresh_token"] == 2
    # The access tokens issued from the revoked refresh token are dead for userInfo too.
    with pytest.raises(InvalidTokenOAuthError) as dead:
        await client.user_info(refreshed.access_token)
    assert dead.value.status_code == 401
    assert refreshed.access_token not in str(dead.value)


async def test_revoking_an_access_token_is_refused(client: OAuth2Client) -> None:
    request = client.authorization_url(REDIRECT, scopes=["openid"])
    tokens = await client.complete_authorization(request, await browser_redirect(request.url))
    with pytest.raises(OAuthError) as info:
        await client.revoke(tokens.access_token)
    assert info.value.error == "unsupported_token_type"
    assert info.value.status_code == 400


async def test_user_info_needs_a_valid_token(
    client: OAuth2Client, server: LocalDomain, web_client: DomainClient
) -> None:
    forged = TokenIssuer(server.pool_id).access_token(
        client_id=web_client.client_id, scope="openid"
    )
    with pytest.raises(InvalidTokenOAuthError):
        await client.user_info(forged)
    request = client.authorization_url(REDIRECT, scopes=["email"])
    tokens = await client.complete_authorization(request, await browser_redirect(request.url))
    no_openid = tokens.access_token
    assert claims_of(no_openid)["scope"] == "email"
    with pytest.raises(InvalidTokenOAuthError):
        await client.user_info(no_openid)


# --------------------------------------------------------------------------- client credentials


async def test_client_credentials_scopes(server: LocalDomain, m2m: DomainClient) -> None:
    assert m2m.client_secret
    async with OAuth2Client(server.url, m2m.client_id, client_secret=m2m.client_secret) as c:
        tokens = await c.client_credentials(["api/read"])
        claims = claims_of(tokens.access_token)
        assert claims["scope"] == "api/read"
        assert claims["client_id"] == m2m.client_id
        assert claims["token_use"] == "access"
        assert "username" not in claims
        assert tokens.id_token is None
        assert tokens.refresh_token is None
        every = await c.client_credentials()
        assert claims_of(every.access_token)["scope"] == "api/read api/write"
        with pytest.raises(InvalidScopeOAuthError):
            await c.client_credentials(["api/admin"])
    assert server.counts["token:client_credentials"] == 3


async def test_client_credentials_failures_are_typed(
    server: LocalDomain, m2m: DomainClient, web_client: DomainClient
) -> None:
    async with OAuth2Client(server.url, m2m.client_id, client_secret="wrong-secret") as c:
        with pytest.raises(InvalidClientOAuthError) as info:
            await c.client_credentials()
        assert "wrong-secret" not in str(info.value)
        assert "wrong-secret" not in repr(c)
    code_only = server.add_client(scopes={"openid"}, redirect_uris={REDIRECT})
    assert code_only.client_secret
    async with OAuth2Client(
        server.url, code_only.client_id, client_secret=code_only.client_secret
    ) as c:
        with pytest.raises(UnauthorizedClientOAuthError):
            await c.client_credentials()
    before = server.counts["/oauth2/token"]
    async with OAuth2Client(server.url, web_client.client_id) as public:
        with pytest.raises(ConfigurationError):
            await public.client_credentials()
    assert server.counts["/oauth2/token"] == before  # refused before any request


@pytest.mark.parametrize("secret", ["plain0secret", "with:colon+plus%percent&amp=x/", "ünïcode"])
async def test_basic_credentials_are_form_urlencoded(server: LocalDomain, secret: str) -> None:
    app = server.add_client(scopes={"odd/s"}, grants={"client_credentials"})
    server.set_credentials(app, client_id="client:with+odd", secret=secret)
    async with OAuth2Client(server.url, app.client_id, client_secret=secret) as c:
        tokens = await c.client_credentials("odd/s")
    assert claims_of(tokens.access_token)["client_id"] == "client:with+odd"


async def test_expiry_uses_the_clock(server: LocalDomain, m2m: DomainClient) -> None:
    assert m2m.client_secret
    server.set_lifetime(m2m, 900)
    async with OAuth2Client(
        server.url, m2m.client_id, client_secret=m2m.client_secret, clock=lambda: 1000.0
    ) as c:
        tokens = await c.client_credentials()
    assert tokens.expires_in == 900
    assert tokens.expires_at == 1900.0
    assert not tokens.expires_within(899, now=1000.0)
    assert tokens.expires_within(900, now=1000.0)
    assert tokens.scope is None  # Cognito answers client_credentials without "scope"
    assert tokens.scopes == ()
    assert OAuthTokens("a", scope="openid email").scopes == ("openid", "email")
    assert not OAuthTokens("a").expires_within(10**9)  # unknown expiry never expires
    text = repr(tokens)
    assert tokens.access_token not in text
    assert "'***'" in text


# --------------------------------------------------------------------------- transport and errors


async def test_server_errors_become_oauth_errors_with_status(
    server: LocalDomain, m2m: DomainClient
) -> None:
    assert m2m.client_secret
    async with OAuth2Client(server.url, m2m.client_id, client_secret=m2m.client_secret) as c:
        server.fail_next("/oauth2/token", 500)
        with pytest.raises(OAuthError) as plain:
            await c.client_credentials()
        assert type(plain.value) is OAuthError
        assert plain.value.status_code == 500

        server.fail_next("/oauth2/token", 503, "invalid_grant")
        with pytest.raises(OAuthError) as json_5xx:
            await c.client_credentials()
        assert type(json_5xx.value) is OAuthError
        assert json_5xx.value.status_code == 503

        server.fail_next("/oauth2/token", 400)  # 400 without a JSON body
        with pytest.raises(OAuthError) as odd:
            await c.client_credentials()
        assert odd.value.error == "invalid_response"
        assert odd.value.status_code == 400

        server.fail_next("/oauth2/token", 200)  # 200 without JSON
        with pytest.raises(OAuthError) as not_json:
            await c.client_credentials()
        assert not_json.value.error == "invalid_response"

        server.fail_next("/oauth2/token", 400, "invalid_grant")
        with pytest.raises(InvalidGrantOAuthError):
            await c.client_credentials()

        assert (await c.client_credentials()).access_token  # and it recovers


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_endpoint_down_is_a_connection_error() -> None:
    url = f"http://127.0.0.1:{_refused_port()}"
    async with OAuth2Client(url, "cid", client_secret="s3cret-value") as c:
        with pytest.raises(CognitoConnectionError) as info:
            await c.client_credentials()
    assert "s3cret-value" not in str(info.value)


async def test_slow_endpoint_times_out(server: LocalDomain, m2m: DomainClient) -> None:
    assert m2m.client_secret
    server.delays["/oauth2/token"] = 1.0
    async with OAuth2Client(
        server.url, m2m.client_id, client_secret=m2m.client_secret, timeout=0.2
    ) as c:
        with pytest.raises(CognitoConnectionError, match="timed out"):
            await c.client_credentials()


async def test_shared_http_client_is_left_open(server: LocalDomain, m2m: DomainClient) -> None:
    assert m2m.client_secret
    async with httpx.AsyncClient() as shared:
        c = OAuth2Client(
            server.url, m2m.client_id, client_secret=m2m.client_secret, http_client=shared
        )
        await c.client_credentials()
        await c.aclose()
        assert not shared.is_closed
        with pytest.raises(SessionClosedError):
            await c.client_credentials()


async def test_own_http_client_is_closed(server: LocalDomain, m2m: DomainClient) -> None:
    assert m2m.client_secret
    c = OAuth2Client(server.url, m2m.client_id, client_secret=m2m.client_secret)
    await c.client_credentials()
    own = c._lazy.value
    assert own is not None
    assert not own.is_closed
    await c.aclose()
    assert own.is_closed


async def test_reprs_hide_secrets(server: LocalDomain, m2m: DomainClient) -> None:
    assert m2m.client_secret
    async with OAuth2Client(server.url, m2m.client_id, client_secret=m2m.client_secret) as c:
        assert m2m.client_secret not in repr(c)
        assert "'***'" in repr(c)
        tokens = await c.client_credentials()
        assert tokens.access_token not in repr(tokens)


# --------------------------------------------------------------------------- sync twin


def test_sync_client_full_flow(
    server: LocalDomain, web_client: DomainClient, m2m: DomainClient
) -> None:
    with SyncOAuth2Client(server.url, web_client.client_id) as c:
        request = c.authorization_url(REDIRECT, scopes=["openid", "email"])
        with httpx.Client() as browser:
            location = browser.get(request.url).headers["location"]
        tokens = c.complete_authorization(request, location)
        assert tokens.refresh_token
        assert tokens.id_token
        assert c.user_info(tokens.access_token)["email"] == "alice@example.com"
        refreshed = c.refresh(tokens.refresh_token)
        assert refreshed.access_token != tokens.access_token
        c.revoke(tokens.refresh_token)
        with pytest.raises(InvalidGrantOAuthError):
            c.refresh(tokens.refresh_token)
    assert m2m.client_secret
    with SyncOAuth2Client(server.url, m2m.client_id, client_secret=m2m.client_secret) as c:
        assert claims_of(c.client_credentials("api/write").access_token)["scope"] == "api/write"
    c = SyncOAuth2Client(f"http://127.0.0.1:{_refused_port()}", "cid")
    with pytest.raises(CognitoConnectionError):
        c.refresh("some-refresh-token")
    c.close()
    with pytest.raises(SessionClosedError):
        c.refresh("x")


# --------------------------------------------------------------------------- hardening


@pytest.mark.parametrize(
    "domain",
    [
        "https://[::1",
        "https://a.example.com:abc",
        "https://a.example.com:99999",
        "https://exa mple.com",
        "https://",
        "ftp://a.example.com",
        "http://a.example.com",
        5,
        None,
    ],
)
def test_bad_domain_urls_are_configuration_errors(domain: object) -> None:
    for cls in (OAuth2Client, SyncOAuth2Client):
        with pytest.raises(ConfigurationError):
            cls(domain, "client")  # type: ignore[arg-type]


def test_bad_arguments_are_configuration_errors_before_any_call() -> None:
    client = SyncOAuth2Client("https://auth.example.com", "client", client_secret="s")
    with pytest.raises(ConfigurationError):
        client.authorization_url(REDIRECT, scopes=5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        client.authorization_url(REDIRECT, extra_params=5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        client.authorization_url(REDIRECT, extra_params={"lang": 5})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError):
        client.authorization_url(REDIRECT, scopes={"openid": 1})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        client.client_credentials(scopes=5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        client.logout_url(redirect_uri=REDIRECT, scopes=5)  # type: ignore[arg-type]
    request = client.authorization_url(REDIRECT)
    with pytest.raises(ConfigurationError):
        request.check_state(5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        request.code_from_redirect(5)  # type: ignore[arg-type]
    for timeout in (0, -1, float("nan"), "10"):
        with pytest.raises(ConfigurationError):
            SyncOAuth2Client("https://auth.example.com", "c", timeout=timeout)  # type: ignore[arg-type]
    client.close()


def test_redirects_that_cannot_be_parsed_are_oauth_errors() -> None:
    client = SyncOAuth2Client("https://auth.example.com", "client")
    request = client.authorization_url(REDIRECT)
    with pytest.raises(OAuthError):
        request.code_from_redirect(f"https://[::1/cb?code=x&state={request.state}")
    with pytest.raises(OAuthError):
        request.check_state("\ud800")  # a lone surrogate compares, never raises
    assert request.code_from_redirect(f"{REDIRECT}?code=abc&state={request.state}") == "abc"


def test_default_timeouts_are_short() -> None:
    from acognito.oauth import DEFAULT_TIMEOUT

    assert DEFAULT_TIMEOUT.connect is not None and DEFAULT_TIMEOUT.connect <= 5
    assert DEFAULT_TIMEOUT.read is not None and DEFAULT_TIMEOUT.read <= 10


async def test_an_unreachable_domain_names_the_endpoint() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with OAuth2Client(url, "client", client_secret="s") as client:
        with pytest.raises(CognitoConnectionError, match=re.escape(f"{url}/oauth2/token")):
            await client.client_credentials()


# --------------------------------------------------------------------------- properties

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from acognito.errors import CognitoError  # noqa: E402
from acognito.oauth._protocol import Answer, Call  # noqa: E402

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CORE = SyncOAuth2Client("https://auth.example.com", "client", client_secret="secret")
CALL = Call("POST", CORE.token_endpoint, "token", {}, None, ("secret",))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    [
        "access_token",
        "expires_in",
        "token_type",
        "id_token",
        "refresh_token",
        "scope",
        "error",
        "error_description",
    ]
)


def _answer(status: int, body: bytes, headers: dict[bytes, bytes] | None = None) -> object:
    """What the core makes of an answer: a value, or a named acognito error."""
    answer = Answer(status, httpx.Headers(list((headers or {}).items())), body)
    try:
        outcome: object = CORE._tokens(answer, CALL)
    except CognitoError as exc:
        outcome = exc
    if isinstance(outcome, OAuthTokens):
        assert isinstance(outcome.access_token, str)
    else:
        assert "secret" not in str(outcome)
    return outcome


@FAST
@given(st.sampled_from([200, 400, 401, 500, 302]), st.binary(max_size=300))
def test_token_answers_of_any_bytes(status: int, body: bytes) -> None:
    _answer(status, body)


@FAST
@given(st.sampled_from([200, 400, 503]), st.dictionaries(FIELDS, JSON, max_size=6))
def test_token_answers_of_any_json(status: int, data: dict[str, object]) -> None:
    _answer(status, json.dumps(data).encode())


@FAST
@given(st.text(max_size=200))
def test_www_authenticate_of_any_text(header: str) -> None:
    _answer(401, b"", {b"www-authenticate": header.encode("utf-8", "surrogatepass")})


REQUEST = AuthorizationRequest(
    url="https://auth.example.com/oauth2/authorize",
    redirect_uri=REDIRECT,
    state="the-state",
    code_verifier=generate_code_verifier(),
)


@FAST
@given(st.text(max_size=200))
def test_redirect_urls_of_any_text(url: str) -> None:
    try:
        code = REQUEST.code_from_redirect(url)
    except OAuthError:
        return
    assert isinstance(code, str) and code


@FAST
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["code", "state", "error", "error_description", "x"]),
            st.text(max_size=20),
        ),
        max_size=6,
    )
)
def test_redirect_urls_of_any_parameters(params: list[tuple[str, str]]) -> None:
    from urllib.parse import urlencode

    try:
        REQUEST.code_from_redirect(f"{REDIRECT}?{urlencode(params)}")
    except OAuthError:
        return
    assert ("state", "the-state") in params


@FAST
@given(st.one_of(st.none(), st.text(max_size=50)))
def test_check_state_of_any_text(state: str | None) -> None:
    try:
        REQUEST.check_state(state)
    except OAuthError:
        assert state != "the-state"
    else:
        assert state == "the-state"
