"""The shipped local Cognito's OAuth2 domain through the documented fixtures: M2M tokens
and a hosted-UI sign-in on its login page, checked by CognitoVerifier over the JWKS."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from acognito import CognitoVerifier
from acognito.errors import InvalidScopeOAuthError, InvalidTokenOAuthError
from acognito.oauth import OAuth2Client
from acognito.testing import AppClient, CognitoAdmin, LocalCognito, LocalPool, LocalUser
from acognito.testing.plugin import HOSTED_UI_CALLBACK, HOSTED_UI_LOGOUT

pytestmark = pytest.mark.anyio


def verifier(local: LocalCognito, pool: LocalPool, client: AppClient, use: str) -> CognitoVerifier:
    return CognitoVerifier(
        pool.user_pool_id,
        client_id=client.client_id,
        token_use=use,  # type: ignore[arg-type]
        jwks_uri=f"{local.endpoint_url}/{pool.user_pool_id}/.well-known/jwks.json",
    )


async def test_m2m_tokens_verify_against_the_pool_keys(
    cognito_local: LocalCognito, cognito_pool: LocalPool, cognito_m2m_client: AppClient
) -> None:
    domain = cognito_local.oauth_domain_url(cognito_pool.user_pool_id)
    async with OAuth2Client(
        domain, cognito_m2m_client.client_id, client_secret=cognito_m2m_client.client_secret
    ) as oauth:
        tokens = await oauth.client_credentials(["api/read"])
        with pytest.raises(InvalidScopeOAuthError):
            await oauth.client_credentials(["api/delete"])
    async with verifier(cognito_local, cognito_pool, cognito_m2m_client, "access") as check:
        claims = await check.verify(tokens.access_token)
    assert claims["scope"] == "api/read"
    assert claims["sub"] == claims["client_id"] == cognito_m2m_client.client_id


async def test_a_scope_no_resource_server_defines_is_refused(
    cognito_local: LocalCognito, cognito_admin: CognitoAdmin, cognito_pool: LocalPool
) -> None:
    # The client may ask for "ghost/read", but no resource server defines it.
    app = await cognito_admin.create_client(
        cognito_pool.user_pool_id,
        secret=True,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=["ghost/read"],
    )
    async with OAuth2Client(
        cognito_local.oauth_domain_url(), app.client_id, client_secret=app.client_secret
    ) as oauth:
        with pytest.raises(InvalidScopeOAuthError):
            await oauth.client_credentials(["ghost/read"])


async def test_sign_in_on_the_login_page(
    cognito_local: LocalCognito,
    cognito_pool: LocalPool,
    cognito_user: LocalUser,
    cognito_hosted_ui_client: AppClient,
) -> None:
    domain = cognito_local.oauth_domain_url(cognito_pool.user_pool_id)
    async with (
        OAuth2Client(domain, cognito_hosted_ui_client.client_id) as oauth,
        httpx.AsyncClient() as browser,
    ):
        request = oauth.authorization_url(HOSTED_UI_CALLBACK, scopes=["openid", "email"])
        page = await browser.get(request.url)
        assert page.status_code == 200
        assert 'name="password"' in page.text and 'type="password"' in page.text
        wrong = await browser.post(
            request.url, data={"username": cognito_user.username, "password": "not-it"}
        )
        assert wrong.status_code == 200
        assert "Incorrect username or password." in wrong.text
        assert "not-it" not in wrong.text
        right = await browser.post(
            request.url,
            data={"username": cognito_user.username, "password": cognito_user.password},
        )
        assert right.status_code == 302
        location = right.headers["location"]
        assert location.startswith(HOSTED_UI_CALLBACK + "?")
        assert parse_qs(urlsplit(location).query)["state"] == [request.state]
        tokens = await oauth.complete_authorization(request, location)
        assert tokens.id_token and tokens.refresh_token
        info = await oauth.user_info(tokens.access_token)
        assert info["username"] == cognito_user.pool_username
        assert info["email"] == cognito_user.email
        # A callback the client does not list is refused on the page, not redirected to.
        elsewhere = oauth.authorization_url("https://evil.example/cb", scopes=["openid"])
        assert (await browser.get(elsewhere.url)).status_code == 400
        bye = await browser.get(oauth.logout_url(HOSTED_UI_LOGOUT))
        assert bye.status_code == 302 and bye.headers["location"] == HOSTED_UI_LOGOUT
        await oauth.revoke(tokens.refresh_token)
        with pytest.raises(InvalidTokenOAuthError):
            await oauth.user_info(tokens.access_token)
    ident = verifier(cognito_local, cognito_pool, cognito_hosted_ui_client, "id")
    async with ident:
        claims = await ident.verify(tokens.id_token)
    assert claims["nonce"] == request.nonce
    assert claims["cognito:username"] == cognito_user.pool_username


async def test_non_interactive_approval(
    cognito_local: LocalCognito,
    cognito_pool: LocalPool,
    cognito_user: LocalUser,
    cognito_hosted_ui_client: AppClient,
) -> None:
    client_id = cognito_hosted_ui_client.client_id
    cognito_local.api.oauth_approve(client_id, cognito_user.username)
    async with OAuth2Client(cognito_local.oauth_domain_url(), client_id) as oauth:
        request = oauth.authorization_url(HOSTED_UI_CALLBACK, scopes=["openid"])
        async with httpx.AsyncClient() as browser:
            answer = await browser.get(request.url)
            assert answer.status_code == 302
            tokens = await oauth.complete_authorization(request, answer.headers["location"])
            assert tokens.id_token
            cognito_local.api.oauth_interactive(client_id)
            assert (await browser.get(request.url)).status_code == 200  # the page again
