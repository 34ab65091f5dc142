"""acognito.oauth.verify_id_token: the one check of a code redemption's id token.

Tokens are signed by a real key (``TokenIssuer``) and checked by a real
``CognitoVerifier`` with those keys pinned; the request is a real
``AuthorizationRequest`` built by ``OAuth2Client.authorization_url``. The end-to-end
case (a code minted for another nonce, redeemed by ``acognito login --hosted-ui``) is in
tests/test_cli_hosted_ui.py.
"""

from __future__ import annotations

import pytest

from acognito import CognitoVerifier
from acognito.errors import (
    JwtAtHashMismatchError,
    JwtInvalidAudienceError,
    JwtInvalidClaimError,
    JwtInvalidSignatureError,
    JwtInvalidTokenUseError,
)
from acognito.oauth import (
    AuthorizationRequest,
    OAuth2Client,
    OAuthTokens,
    check_id_token_claims,
    verify_id_token,
    verify_id_token_sync,
)
from acognito.testing import TokenIssuer
from acognito.verify._checks import at_hash

CLIENT = "client1example"


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer("eu-west-1_IdTok3n")


def _request(scopes: str = "openid email") -> AuthorizationRequest:
    client = OAuth2Client("https://auth.example.com", CLIENT)
    return client.authorization_url("http://localhost:8484/callback", scopes=scopes)


def _verifier(issuer: TokenIssuer) -> CognitoVerifier:
    return CognitoVerifier(
        issuer.user_pool_id, client_id=CLIENT, token_use="id", jwks=issuer.jwks()
    )


def _tokens(issuer: TokenIssuer, **claims: object) -> OAuthTokens:
    access = issuer.access_token(client_id=CLIENT, username="ada")
    claims.setdefault("at_hash", at_hash(access))
    ident = issuer.id_token(client_id=CLIENT, username="ada", **claims)
    return OAuthTokens(access_token=access, id_token=ident)


@pytest.mark.anyio
async def test_the_nonce_sent_is_the_nonce_required(issuer) -> None:
    request = _request()
    assert request.nonce  # an openid request carries one
    async with _verifier(issuer) as verifier:
        good = await verify_id_token(
            _tokens(issuer, nonce=request.nonce), request, verifier, client_id=CLIENT
        )
        assert good is not None and good["cognito:username"] == "ada"
        for forged in ({"nonce": "another-sign-in"}, {}):
            with pytest.raises(JwtInvalidClaimError) as caught:
                await verify_id_token(
                    _tokens(issuer, **forged), request, verifier, client_id=CLIENT
                )
            assert caught.value.claim == "nonce"
            assert request.nonce not in str(caught.value)


@pytest.mark.anyio
async def test_signature_token_use_and_at_hash_come_from_the_verifier(issuer) -> None:
    request = _request()
    stranger = TokenIssuer(issuer.user_pool_id, kid=issuer.kid)  # same kid, another key
    async with _verifier(issuer) as verifier:
        forged = OAuthTokens(
            access_token="a.b.c",
            id_token=stranger.id_token(client_id=CLIENT, nonce=request.nonce),
        )
        with pytest.raises(JwtInvalidSignatureError):
            await verify_id_token(forged, request, verifier, client_id=CLIENT)
        # An access token in the id token's place.
        swapped = OAuthTokens(
            access_token="a.b.c",
            id_token=issuer.access_token(client_id=CLIENT, nonce=request.nonce),
        )
        with pytest.raises(JwtInvalidTokenUseError):
            await verify_id_token(swapped, request, verifier, client_id=CLIENT)
        # The id token of another access token.
        mixed = _tokens(issuer, nonce=request.nonce, at_hash=at_hash("x.y.z"))
        with pytest.raises(JwtAtHashMismatchError):
            await verify_id_token(mixed, request, verifier, client_id=CLIENT)


@pytest.mark.anyio
async def test_an_openid_sign_in_without_an_id_token_is_refused(issuer) -> None:
    request = _request()
    async with _verifier(issuer) as verifier:
        with pytest.raises(JwtInvalidClaimError):
            await verify_id_token(
                OAuthTokens(access_token="a.b.c"), request, verifier, client_id=CLIENT
            )
        # No openid scope: no nonce was sent, no id token is expected.
        plain = _request("email")
        assert plain.nonce is None
        none = await verify_id_token(
            OAuthTokens(access_token="a.b.c"), plain, verifier, client_id=CLIENT
        )
        assert none is None


def test_the_blocking_twin_checks_the_same(issuer) -> None:
    request = _request()
    verifier = _verifier(issuer)
    claims = verify_id_token_sync(
        _tokens(issuer, nonce=request.nonce), request, verifier, client_id=CLIENT
    )
    assert claims is not None and claims["nonce"] == request.nonce
    with pytest.raises(JwtInvalidClaimError):
        verify_id_token_sync(_tokens(issuer, nonce="x"), request, verifier, client_id=CLIENT)


def test_audience_is_checked_even_by_a_lenient_verifier() -> None:
    # A verifier made with client_id=None checks no audience; the request's client does.
    with pytest.raises(JwtInvalidAudienceError):
        check_id_token_claims({"aud": "someone-else", "nonce": "n"}, client_id=CLIENT, nonce="n")
    with pytest.raises(JwtInvalidAudienceError):
        check_id_token_claims({"nonce": "n"}, client_id=CLIENT, nonce="n")
    check_id_token_claims({"aud": [CLIENT, "x"], "nonce": "n"}, client_id=CLIENT, nonce="n")
    check_id_token_claims({"aud": CLIENT}, client_id=CLIENT, nonce=None)
    with pytest.raises(JwtInvalidClaimError):
        check_id_token_claims({"aud": CLIENT, "nonce": 7}, client_id=CLIENT, nonce="7")
