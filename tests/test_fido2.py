"""Security keys through python-fido2: ``Fido2Authenticator`` over a virtual CTAP2 key.

No hardware key exists on a CI machine, so ``VirtualSecurityKey`` answers CTAP 2.1 in
software behind fido2's real client (option parsing, client data, the PIN protocol,
user presence). What comes out is checked by an independent verifier (the ``webauthn``
package) and by the local Cognito, which verifies every registration and assertion.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import anyio
import pytest
import webauthn

from acognito import AsyncCognito
from acognito.errors import AuthenticatorError, NotAuthorizedError
from acognito.passkeys import Fido2Authenticator
from acognito.steps import ConfirmSignInWithWebAuthn, Done
from acognito.testing import VirtualSecurityKey
from acognito.testing.passkeys import b64url

RP = "localhost"
ORIGIN = "https://localhost"
PIN = "4821"
PASSWORD = "Passw0rd!-fido2"


def _creation(challenge: bytes, user: bytes = b"user-1", **extra: object) -> dict[str, object]:
    return {
        "challenge": b64url(challenge),
        "rp": {"id": RP, "name": "test"},
        "user": {"id": b64url(user), "name": "ann", "displayName": "ann"},
        "pubKeyCredParams": [
            {"type": "public-key", "alg": -7},
            {"type": "public-key", "alg": -257},
        ],
        "authenticatorSelection": {"residentKey": "required", "userVerification": "preferred"},
        "timeout": 60000,
        **extra,
    }


def _request(challenge: bytes, *ids: str) -> dict[str, object]:
    return {
        "challenge": b64url(challenge),
        "rpId": RP,
        "allowCredentials": [{"type": "public-key", "id": i} for i in ids],
        "userVerification": "preferred",
    }


@pytest.mark.parametrize("pin", [None, PIN], ids=["builtin-uv", "client-pin"])
def test_a_security_key_registers_and_signs_verifiably(pin: str | None) -> None:
    asked: list[str] = []
    touched: list[bool] = []

    def give_pin() -> str | None:
        asked.append("pin")
        return pin

    key = VirtualSecurityKey(pin=pin)
    authenticator = Fido2Authenticator(key, pin=give_pin, on_touch=lambda: touched.append(True))
    challenge = os.urandom(32)
    registration = authenticator.create(_creation(challenge))
    verified = webauthn.verify_registration_response(
        credential=registration,
        expected_challenge=challenge,
        expected_rp_id=RP,
        expected_origin=ORIGIN,
        require_user_verification=True,
    )
    assert verified.fmt == "packed" and b64url(verified.credential_id) == registration["id"]
    assert registration["authenticatorAttachment"] == "cross-platform"
    challenge = os.urandom(32)
    assertion = authenticator.get(_request(challenge, registration["id"]))
    checked = webauthn.verify_authentication_response(
        credential=assertion,
        expected_challenge=challenge,
        expected_rp_id=RP,
        expected_origin=ORIGIN,
        credential_public_key=verified.credential_public_key,
        credential_current_sign_count=verified.sign_count,
        require_user_verification=True,
    )
    assert checked.new_sign_count > verified.sign_count
    # The PIN is asked only of a key that has one (once per call); each call wants a touch.
    assert asked == (["pin", "pin"] if pin else [])
    assert touched and key.touches == 2


def test_pin_mistakes_are_typed_and_count_down() -> None:
    key = VirtualSecurityKey(pin=PIN)
    with pytest.raises(AuthenticatorError) as missing:
        Fido2Authenticator(key).create(_creation(b"c1"))
    assert missing.value.reason == "pin_required"
    with pytest.raises(AuthenticatorError) as wrong:
        Fido2Authenticator(key, pin="0000").create(_creation(b"c2"))
    assert wrong.value.reason == "pin_invalid" and "0000" not in str(wrong.value)
    assert key.pin_retries == 7 and key.credential_count == 0
    Fido2Authenticator(key, pin=PIN).create(_creation(b"c3"))
    assert key.pin_retries == 8 and key.credential_count == 1


def test_what_the_key_refuses_is_a_typed_error() -> None:
    key = VirtualSecurityKey()
    authenticator = Fido2Authenticator(key)
    with pytest.raises(AuthenticatorError) as none_yet:
        authenticator.get(_request(b"c0"))
    assert none_yet.value.reason == "no_credentials"
    first = authenticator.create(_creation(b"c1"))
    with pytest.raises(AuthenticatorError) as again:
        authenticator.create(
            _creation(b"c2", excludeCredentials=[{"type": "public-key", "id": first["id"]}])
        )
    assert again.value.reason == "already_registered"
    with pytest.raises(AuthenticatorError) as es256_only:
        authenticator.create(
            _creation(b"c3") | {"pubKeyCredParams": [{"type": "public-key", "alg": -257}]}
        )
    assert es256_only.value.reason == "unsupported"
    with pytest.raises(AuthenticatorError) as declined:
        Fido2Authenticator(VirtualSecurityKey(deny=True)).create(_creation(b"c4"))
    assert declined.value.reason == "denied"
    for bad in ({}, {"challenge": "!!", "rp": {"id": RP}}, {"rpId": RP}):
        with pytest.raises(AuthenticatorError) as malformed:
            authenticator.create(bad) if "rp" in bad or not bad else authenticator.get(bad)
        assert malformed.value.reason == "bad_options"
    with pytest.raises(AuthenticatorError) as other_site:  # the origin cannot claim that RP
        Fido2Authenticator(key, origin="https://evil.example").get(_request(b"c5", first["id"]))
    assert other_site.value.reason == "bad_options"


def test_cancel_stops_a_key_waiting_for_a_touch() -> None:
    key = VirtualSecurityKey()
    authenticator: Fido2Authenticator

    def give_up() -> None:
        authenticator.cancel()

    authenticator = Fido2Authenticator(key, on_touch=give_up)
    with pytest.raises(AuthenticatorError) as stopped:
        authenticator.create(_creation(b"c1"))
    assert stopped.value.reason == "timeout" and key.credential_count == 0
    Fido2Authenticator(key).create(_creation(b"c2"))  # the key itself is fine afterwards
    assert key.credential_count == 1


def test_no_key_plugged_in_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import acognito._fido2 as fido2_module

    monkeypatch.setattr(fido2_module, "find_security_keys", list)
    with pytest.raises(AuthenticatorError, match="no FIDO2 security key found") as nothing:
        Fido2Authenticator().get(_request(b"c"))
    assert nothing.value.reason == "no_device"


def test_a_file_backed_key_is_shared_between_instances(tmp_path) -> None:
    path = tmp_path / "key.json"
    registration = Fido2Authenticator(VirtualSecurityKey(path, pin=PIN), pin=PIN).create(
        _creation(b"c1")
    )
    assert path.stat().st_mode & 0o777 == 0o600
    again = VirtualSecurityKey(path)  # the PIN came along with the credential
    assert again.credential_count == 1
    with pytest.raises(AuthenticatorError):
        Fido2Authenticator(again).get(_request(b"c2", registration["id"]))
    assertion = Fido2Authenticator(again, pin=PIN).get(_request(b"c3", registration["id"]))
    assert assertion["id"] == registration["id"]


def test_without_fido2_the_import_says_which_extra() -> None:
    code = (
        "import sys; sys.modules['fido2'] = None\n"
        "import acognito.passkeys\n"
        "try:\n"
        "    from acognito.passkeys import Fido2Authenticator\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'acognito[fido2]'" in out.stdout


# ----------------------------------------------------------------------------- local Cognito


@pytest.mark.anyio
@pytest.mark.parametrize("pin", [None, PIN], ids=["builtin-uv", "client-pin"])
async def test_a_security_key_passkey_signs_in_on_the_local_cognito(
    cognito_admin, cognito_pool, pin
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "kay", PASSWORD)
    key = VirtualSecurityKey(pin=pin)
    kwargs = cognito_pool.cognito_kwargs()
    async with AsyncCognito(**kwargs) as c:
        assert await c.sign_in("kay", PASSWORD) == Done()
        await c.register_passkey(Fido2Authenticator(key, pin=pin))
        (listed,) = await c.list_webauthn_credentials()
        assert listed.transports == ("usb",)
        assert listed.authenticator_attachment == "cross-platform"
    async with AsyncCognito(**kwargs) as c:
        step = await c.sign_in("kay", auth_flow="USER_AUTH", preferred_first_factor="WEB_AUTHN")
        assert isinstance(step, ConfirmSignInWithWebAuthn)
        assert await c.confirm_sign_in(Fido2Authenticator(key, pin=pin).get(step.options)) == Done()
        await c.verify_tokens()
        assert c.access_claims is not None and c.access_claims["username"] == "kay"
    key.tamper = True
    async with AsyncCognito(**kwargs) as c:
        step = await c.sign_in("kay", auth_flow="USER_AUTH", preferred_first_factor="WEB_AUTHN")
        assert isinstance(step, ConfirmSignInWithWebAuthn)
        with pytest.raises(NotAuthorizedError):
            await c.confirm_sign_in(Fido2Authenticator(key, pin=pin).get(step.options))
        assert c.access_token is None


@pytest.mark.anyio
async def test_a_cancelled_registration_lets_go_of_the_waiting_key(
    cognito_admin, cognito_pool
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "cal", PASSWORD)
    key = VirtualSecurityKey(touch_delay=60)  # nobody touches it
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        assert await c.sign_in("cal", PASSWORD) == Done()
        started = anyio.current_time()
        with anyio.move_on_after(0.5) as scope:
            await c.register_passkey(Fido2Authenticator(key))
        assert scope.cancelled_caught
        assert anyio.current_time() - started < 5
        # The key's thread saw the cancel and gave up long before its minute was over.
        assert await anyio.to_thread.run_sync(key.wait_idle, 10)
        assert key.credential_count == 0
        assert await c.list_webauthn_credentials() == []


def test_with_several_keys_plugged_in_the_touched_one_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import acognito._fido2 as fido2_module

    idle = VirtualSecurityKey(touch_delay=30)  # plugged in, never touched
    touched = VirtualSecurityKey(touch_delay=0.2)
    monkeypatch.setattr(fido2_module, "find_security_keys", lambda: [idle, touched])
    prompts: list[bool] = []
    started = time.monotonic()
    registration = Fido2Authenticator(on_touch=lambda: prompts.append(True)).create(
        _creation(b"c1")
    )
    assert time.monotonic() - started < 10  # not the idle key's 30 s
    assert touched.credential_count == 1 and idle.credential_count == 0
    assert idle.wait_idle(5)  # the idle key was told to stop waiting
    assert prompts  # "touch the key you want to use"
    assertion = Fido2Authenticator(touched).get(_request(b"c2", registration["id"]))
    assert assertion["id"] == registration["id"]


def test_several_keys_and_no_touch_is_a_typed_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    import acognito._fido2 as fido2_module

    keys = [VirtualSecurityKey(touch_delay=30), VirtualSecurityKey(touch_delay=30)]
    monkeypatch.setattr(fido2_module, "find_security_keys", lambda: keys)
    monkeypatch.setattr(fido2_module, "_SELECTION_SECONDS", 0.5)
    with pytest.raises(AuthenticatorError, match="none was touched") as nobody:
        Fido2Authenticator().get(_request(b"c"))
    assert nobody.value.reason == "timeout"
    assert all(key.wait_idle(5) for key in keys)
