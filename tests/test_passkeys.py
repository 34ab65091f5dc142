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
