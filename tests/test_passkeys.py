"""Passkeys: the software authenticator, and WEB_AUTHN on the local Cognito.

The authenticator's output is checked by an independent verifier (the ``webauthn``
package), so neither side is graded by itself.
"""

from __future__ import annotations

import json
import os

import pytest
import webauthn
from webauthn.helpers.exceptions import InvalidAuthenticationResponse

from acognito import AsyncCognito
from acognito.errors import (
    ConfigurationError,
    InvalidParameterError,
    NotAuthorizedError,
    ResourceNotFoundError,
    WebAuthnChallengeNotFoundError,
    WebAuthnOriginNotAllowedError,
)
from acognito.steps import ConfirmSignInWithWebAuthn, ContinueSignInWithFirstFactorSelection, Done
from acognito.testing import SoftwareAuthenticator
from acognito.testing.passkeys import b64url, unb64url

RP = "localhost"
ORIGIN = "https://localhost"


def _creation(challenge: bytes) -> dict[str, object]:
    return {
        "challenge": b64url(challenge),
        "rp": {"id": RP, "name": "test"},
        "user": {"id": b64url(b"user-1"), "name": "ann", "displayName": "ann"},
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    }


def test_software_authenticator_registers_and_signs_verifiably() -> None:
    authenticator = SoftwareAuthenticator()
    challenge = os.urandom(32)
    registration = authenticator.create(_creation(challenge))
    verified = webauthn.verify_registration_response(
        credential=registration,
        expected_challenge=challenge,
        expected_rp_id=RP,
        expected_origin=ORIGIN,
        require_user_verification=True,
    )
    assert b64url(verified.credential_id) == registration["id"]
    challenge = os.urandom(32)
    options = {
        "challenge": b64url(challenge),
        "rpId": RP,
        "allowCredentials": [{"type": "public-key", "id": registration["id"]}],
    }
    assertion = authenticator.get(options)
    checked = webauthn.verify_authentication_response(
        credential=assertion,
        expected_challenge=challenge,
        expected_rp_id=RP,
        expected_origin=ORIGIN,
        credential_public_key=verified.credential_public_key,
        credential_current_sign_count=verified.sign_count,
        require_user_verification=True,
    )
    assert checked.new_sign_count == 1
    authenticator.tamper = True
    with pytest.raises(InvalidAuthenticationResponse):
        webauthn.verify_authentication_response(
            credential=authenticator.get(options),
            expected_challenge=challenge,
            expected_rp_id=RP,
            expected_origin=ORIGIN,
            credential_public_key=verified.credential_public_key,
            credential_current_sign_count=1,
        )


def test_software_authenticator_refuses_what_it_cannot_answer() -> None:
    authenticator = SoftwareAuthenticator(origin="https://elsewhere.example")
    with pytest.raises(LookupError):  # no credential yet
        authenticator.get({"challenge": b64url(b"c"), "rpId": RP})
    registration = authenticator.create(_creation(b"c1"))
    with pytest.raises(ValueError, match="already holds"):
        options = _creation(b"c2")
        options["excludeCredentials"] = [{"type": "public-key", "id": registration["id"]}]
        authenticator.create(options)
    with pytest.raises(ValueError, match="ES256"):
        options = _creation(b"c3")
        options["pubKeyCredParams"] = [{"type": "public-key", "alg": -257}]
        authenticator.create(options)
    with pytest.raises(LookupError):  # another relying party
        authenticator.get({"challenge": b64url(b"c"), "rpId": "example.com"})
    assertion = authenticator.get({"challenge": b64url(b"c4"), "rpId": RP})
    client_data = json.loads(unb64url(assertion["response"]["clientDataJSON"]))
    assert client_data == {
        "type": "webauthn.get",
        "challenge": b64url(b"c4"),
        "origin": "https://elsewhere.example",
        "crossOrigin": False,
    }


# ----------------------------------------------------------------------------- local Cognito

PASSWORD = "Passw0rd!-passkeys"


async def _registered(c: AsyncCognito, username: str) -> SoftwareAuthenticator:
    """Sign ``username`` in with the password and register a software passkey."""
    assert await c.sign_in(username, PASSWORD) == Done()
    authenticator = SoftwareAuthenticator()
    await c.register_passkey(authenticator)
    return authenticator


@pytest.mark.anyio
@pytest.mark.parametrize("secret", [False, True], ids=["public", "secret"])
async def test_register_list_and_sign_in_with_a_passkey(
    cognito_admin, cognito_pool, secret
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "pam", PASSWORD)
    kwargs = cognito_pool.cognito_kwargs(secret=secret)
    async with AsyncCognito(**kwargs) as c:
        authenticator = await _registered(c, "pam")
        listed = await c.list_webauthn_credentials()
        assert [p.credential_id for p in listed] == [
            b64url(k.credential_id) for k in authenticator.credentials
        ]
        assert listed[0].relying_party_id == "localhost"
        assert listed[0].transports == ("internal",)
    async with AsyncCognito(**kwargs) as c:
        step = await c.sign_in("pam", auth_flow="USER_AUTH")
        assert isinstance(step, ContinueSignInWithFirstFactorSelection)
        assert "WEB_AUTHN" in step.available
        step = await c.confirm_sign_in("WEB_AUTHN")
        assert isinstance(step, ConfirmSignInWithWebAuthn)
        assert await c.confirm_sign_in(authenticator.get(step.options)) == Done()
        await c.verify_tokens()
        assert c.access_claims is not None and c.access_claims["username"] == "pam"
    async with AsyncCognito(**kwargs) as c:  # straight to the passkey, JSON text answer
        step = await c.sign_in("pam", auth_flow="USER_AUTH", preferred_first_factor="WEB_AUTHN")
        assert isinstance(step, ConfirmSignInWithWebAuthn)
        assert step.options["rpId"] == "localhost"
        assert await c.confirm_sign_in(json.dumps(authenticator.get(step.options))) == Done()
        await c.verify_tokens()
        assert authenticator.credentials[0].sign_count == 2


@pytest.mark.anyio
async def test_a_bad_passkey_assertion_is_refused(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "ted", PASSWORD)
    kwargs = cognito_pool.cognito_kwargs()
    async with AsyncCognito(**kwargs) as c:
        authenticator = await _registered(c, "ted")
    async with AsyncCognito(**kwargs) as c:
        authenticator.tamper = True
        step = await c.sign_in("ted", auth_flow="USER_AUTH", preferred_first_factor="WEB_AUTHN")
        assert isinstance(step, ConfirmSignInWithWebAuthn)
        with pytest.raises(NotAuthorizedError):
            await c.confirm_sign_in(authenticator.get(step.options))
        assert c.access_token is None
        # Another origin, another passkey (not registered): refused as well.
        authenticator.tamper = False
        for wrong in (SoftwareAuthenticator(origin="https://evil.example"), None):
            step = await c.sign_in("ted", auth_flow="USER_AUTH", preferred_first_factor="WEB_AUTHN")
            if wrong is None:
                stranger = SoftwareAuthenticator()
                stranger.create(
                    {
                        "challenge": b64url(b"x"),
                        "rp": {"id": RP, "name": RP},
                        "user": {"id": b64url(b"someone"), "name": "s", "displayName": "s"},
                    }
                )
                answer = stranger.get({"challenge": step.options["challenge"], "rpId": RP})
            else:
                wrong.credentials = authenticator.credentials
                answer = wrong.get(step.options)
            with pytest.raises(NotAuthorizedError):
                await c.confirm_sign_in(answer)
        # The genuine passkey still works.
        step = await c.sign_in("ted", auth_flow="USER_AUTH", preferred_first_factor="WEB_AUTHN")
        assert await c.confirm_sign_in(authenticator.get(step.options)) == Done()


@pytest.mark.anyio
async def test_registration_is_verified(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "reg", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        assert await c.sign_in("reg", PASSWORD) == Done()
        with pytest.raises(WebAuthnChallengeNotFoundError):  # nothing started
            await c.complete_webauthn_registration({"id": "x", "type": "public-key"})
        options = await c.start_webauthn_registration()
        assert options["rp"]["id"] == "localhost"
        elsewhere = SoftwareAuthenticator(origin="https://evil.example")
        with pytest.raises(WebAuthnOriginNotAllowedError):
            await c.complete_webauthn_registration(elsewhere.create(options))
        options = await c.start_webauthn_registration()
        replayed = SoftwareAuthenticator().create({**options, "challenge": b64url(b"old")})
        with pytest.raises(WebAuthnChallengeNotFoundError):
            await c.complete_webauthn_registration(replayed)
        with pytest.raises(ConfigurationError):
            await c.complete_webauthn_registration({})
        assert await c.list_webauthn_credentials() == []


@pytest.mark.anyio
async def test_a_deleted_passkey_is_no_longer_offered(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "del", PASSWORD)
    kwargs = cognito_pool.cognito_kwargs()
    async with AsyncCognito(**kwargs) as c:
        authenticator = await _registered(c, "del")
        second = SoftwareAuthenticator()
        await c.register_passkey(second)
        listed = await c.list_webauthn_credentials()
        assert len(listed) == 2
        await c.delete_webauthn_credential(listed[0].credential_id)
        with pytest.raises(ResourceNotFoundError):
            await c.delete_webauthn_credential(listed[0].credential_id)
        assert [p.credential_id for p in await c.list_webauthn_credentials()] == [
            listed[1].credential_id
        ]
        step = await c.sign_in("del", auth_flow="USER_AUTH", preferred_first_factor="WEB_AUTHN")
        with pytest.raises(NotAuthorizedError):  # the deleted one
            await c.confirm_sign_in(authenticator.get(step.options | {"allowCredentials": []}))
        await c.sign_in("del", PASSWORD)
        await c.delete_webauthn_credential(listed[1].credential_id)
        assert await c.list_webauthn_credentials() == []
    async with AsyncCognito(**kwargs) as c:
        step = await c.sign_in("del", auth_flow="USER_AUTH")
        assert isinstance(step, ContinueSignInWithFirstFactorSelection)
        assert "WEB_AUTHN" not in step.available
        with pytest.raises(InvalidParameterError):
            await c.sign_in("del", auth_flow="USER_AUTH", preferred_first_factor="WEB_AUTHN")
