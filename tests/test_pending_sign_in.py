"""The pending sign-in record (``acognito.flows.PendingSignIn``): plain data that one
session (or process) writes and another continues from, as a web server that keeps it
in a store between requests does. First the pure round trip and the refusals, then real
sign-ins against the local Cognito, on asyncio and trio.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from acognito import AsyncCognito
from acognito.errors import ConfigurationError, SoftwareTokenMFAChallengeException
from acognito.flows import PendingSignIn
from acognito.steps import (
    CodeDelivery,
    ConfirmSignInWithCustomChallenge,
    ConfirmSignInWithEmailCode,
    ConfirmSignInWithNewPassword,
    ConfirmSignInWithPassword,
    ConfirmSignInWithSMSCode,
    ConfirmSignInWithTOTPCode,
    ConfirmSignInWithWebAuthn,
    ConfirmSignUp,
    ContinueSignInWithEmailSetup,
    ContinueSignInWithFirstFactorSelection,
    ContinueSignInWithMFASelection,
    ContinueSignInWithMFASetupSelection,
    ContinueSignInWithTOTPSetup,
    Done,
    ResetPassword,
    SignInStep,
)
from acognito.testing import fresh_totp
from test_steps import PASSWORD, _totp_user

EVERY_STEP: list[SignInStep] = [
    ConfirmSignInWithSMSCode(CodeDelivery("SMS", "+*******1234")),
    ConfirmSignInWithTOTPCode(),
    ConfirmSignInWithEmailCode(CodeDelivery("EMAIL", "a***@e***", "email")),
    ConfirmSignInWithPassword(),
    ConfirmSignInWithCustomChallenge({"question": "2+2?"}),
    ConfirmSignInWithNewPassword(("given_name",), {"email": "a@example.com"}),
    ContinueSignInWithMFASelection(("SMS", "TOTP")),
    ContinueSignInWithMFASetupSelection(("TOTP", "EMAIL")),
    ContinueSignInWithTOTPSetup(secret="JBSWY3DPEHPK3PXP", account_name="ann", issuer="App"),
    ContinueSignInWithEmailSetup(),
    ContinueSignInWithFirstFactorSelection(("PASSWORD", "EMAIL_OTP")),
    ConfirmSignInWithWebAuthn({"challenge": "abc", "allowCredentials": [{"id": "x"}]}),
    ConfirmSignUp(username="ann", code_delivery=None),
    ResetPassword(username="ann"),
]


# ----------------------------------------------------------------------------- pure


@pytest.mark.parametrize("step", EVERY_STEP, ids=lambda s: type(s).__name__)
def test_every_step_survives_the_round_trip(step: SignInStep) -> None:
    record = PendingSignIn(
        "ann@example.com",
        step=step,
        challenge="SOFTWARE_TOKEN_MFA",
        session="opaque-session",
        parameters={"USERNAME": "sub-1"},
        pool_username="sub-1",
        auth_flow="USER_AUTH",
        preferred="PASSWORD_SRP",
        factor="PASSWORD",
        client_metadata={"app": "web"},
        totp_issuer="App",
        password=PASSWORD,
    )
    text = record.to_json()
    assert PASSWORD not in text
    back = PendingSignIn.from_json(text)
    assert back == record and back.step == step
    assert back.password is None  # never written
    assert PendingSignIn.from_dict(json.loads(text)) == record


def test_repr_shows_no_secret() -> None:
    step = ContinueSignInWithTOTPSetup(secret="JBSWY3DPEHPK3PXP", account_name="ann")
    record = PendingSignIn("ann", step=step, session="opaque-session", password=PASSWORD)
    shown = repr(record)
    assert "JBSWY3DPEHPK3PXP" not in shown and "opaque-session" not in shown
    assert PASSWORD not in shown and "ContinueSignInWithTOTPSetup" in shown


def _good() -> dict[str, Any]:
    return PendingSignIn("ann", step=ConfirmSignInWithTOTPCode(), challenge="X").to_dict()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"version": 2}, "version"),
        ({"version": None}, "version"),
        ({"username": ""}, "username"),
        ({"username": 7}, "username must be text"),
        ({"session": ["x"]}, "session must be text"),
        ({"admin": "yes"}, "admin"),
        ({"parameters": {"a": 1}}, "parameters"),
        ({"client_metadata": ["x"]}, "metadata"),
        ({"surprise": 1}, "unknown keys"),
        ({"password": PASSWORD}, "unknown keys"),
        ({"step": "Done"}, "step is not a mapping"),
        ({"step": {"type": "LaunchMissiles"}}, "unknown step type"),
        ({"step": {"type": "SignInStep"}}, "unknown step type"),
        ({"step": {"type": "ConfirmSignUp", "username": 3}}, "step username"),
        ({"step": {"type": "ConfirmSignUp", "extra": "x"}}, "unknown step keys"),
        ({"step": {"type": "ContinueSignInWithMFASelection", "allowed": "TOTP"}}, "allowed"),
        (
            {"step": {"type": "ConfirmSignInWithSMSCode", "code_delivery": {"via": "pigeon"}}},
            "code_delivery",
        ),
    ],
)
def test_malformed_records_are_refused(change: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        PendingSignIn.from_dict({**_good(), **change})


@pytest.mark.parametrize("text", ["", "{", "[]", "null", b"\xff"])
def test_malformed_json_is_refused(text: str | bytes) -> None:
    with pytest.raises(ConfigurationError, match="pending sign-in"):
        PendingSignIn.from_json(text)


@pytest.mark.anyio
async def test_resume_checks_what_it_is_given() -> None:
    c = AsyncCognito("us-east-1_abc", "client1", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(ConfigurationError, match="PendingSignIn"):
        c.resume_sign_in({"username": "ann"})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="neither a step nor a challenge"):
        c.resume_sign_in(PendingSignIn("ann"))
    # A record from pycognito's face (no typed step) gets the step of its challenge.
    step = c.resume_sign_in(PendingSignIn("ann", challenge="SOFTWARE_TOKEN_MFA", session="s"))
    assert step == ConfirmSignInWithTOTPCode() == c.pending_sign_in_step
    assert c.username == "ann" and not c._idp.is_open
    await c.close()


# ----------------------------------------------------------------------------- local Cognito


@pytest.mark.anyio
@pytest.mark.parametrize("secret", [False, True], ids=["public", "secret"])
async def test_a_sign_in_started_on_one_session_finishes_on_another(cognito_admin, secret) -> None:
    pool = await cognito_admin.create_local_pool(mfa="OPTIONAL")
    totp_secret = await _totp_user(cognito_admin, pool, "tom")
    kwargs = pool.cognito_kwargs(secret=secret)
    async with AsyncCognito(**kwargs) as first:
        assert await first.sign_in("tom", PASSWORD) == ConfirmSignInWithTOTPCode()
        assert first.pending_sign_in is not None
        stored = first.pending_sign_in.to_json()  # what a server keeps in its store
    assert PASSWORD not in stored
    async with AsyncCognito(**kwargs) as second:  # another request, another worker
        step = second.resume_sign_in(PendingSignIn.from_json(stored))
        assert step == ConfirmSignInWithTOTPCode() == second.pending_sign_in_step
        assert await second.confirm_sign_in(await fresh_totp(totp_secret)) == Done()
        assert second.access_claims is not None and second.access_claims["username"] == "tom"
        assert second.pending_sign_in is None


@pytest.mark.anyio
async def test_totp_set_up_continues_on_another_session(cognito_admin) -> None:
    pool = await cognito_admin.create_local_pool(mfa="ON")
    await cognito_admin.create_user(pool.user_pool_id, "tia", PASSWORD)
    kwargs = pool.cognito_kwargs(secret=True)
    async with AsyncCognito(**kwargs) as first:
        step = await first.sign_in("tia", PASSWORD, totp_issuer="Example")
        assert isinstance(step, ContinueSignInWithTOTPSetup)
        assert first.pending_sign_in is not None
        stored = first.pending_sign_in.to_dict()
    async with AsyncCognito(**kwargs) as second:
        assert second.resume_sign_in(PendingSignIn.from_dict(stored)) == step
        code = await fresh_totp(step.secret)
        assert await second.confirm_sign_in(code, device_name="phone") == Done()
        assert second.access_claims is not None and second.access_claims["username"] == "tia"


@pytest.mark.anyio
async def test_a_sign_up_code_read_back_without_the_password_signs_in(
    cognito_pool, cognito_inbox
) -> None:
    """The record never holds the password; after the sign-up code, ConfirmSignUp's
    session signs the user in (the app client allows USER_AUTH)."""
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as first:
        first.set_base_attributes(email="ida@example.com")
        await first.register("ida", PASSWORD)
        assert await first.sign_in("ida", PASSWORD) == ConfirmSignUp(username="ida")
        assert first.pending_sign_in is not None
        stored = first.pending_sign_in.to_json()
    assert PASSWORD not in stored
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as second:
        second.resume_sign_in(PendingSignIn.from_json(stored))
        code = cognito_inbox.last_code(cognito_pool.user_pool_id, "ida", "sign_up")
        assert await second.confirm_sign_in(code) == Done()
        assert second.access_claims is not None and second.access_claims["username"] == "ida"


@pytest.mark.anyio
async def test_a_restart_without_the_password_asks_for_it(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "ike", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        # As a record read back from a store after a confirmed sign-up would restart.
        c.resume_sign_in(PendingSignIn("ike", step=ConfirmSignInWithPassword()))
        assert await c.confirm_sign_in(PASSWORD) == Done()
        assert c.access_claims is not None and c.access_claims["username"] == "ike"


@pytest.mark.anyio
async def test_pycognitos_face_writes_the_same_record(cognito_admin) -> None:
    pool = await cognito_admin.create_local_pool(mfa="OPTIONAL")
    totp_secret = await _totp_user(cognito_admin, pool, "pat")
    kwargs = pool.cognito_kwargs(secret=True)
    async with AsyncCognito(**kwargs, username="pat") as first:
        with pytest.raises(SoftwareTokenMFAChallengeException) as raised:
            await first.authenticate(PASSWORD)
        record = first.pending_sign_in
        assert record is not None and record.step is None  # nothing typed is pending
        assert first.mfa_tokens == raised.value.get_tokens()
        stored = record.to_json()
    async with AsyncCognito(**kwargs) as second:
        assert second.resume_sign_in(PendingSignIn.from_json(stored)) == (
            ConfirmSignInWithTOTPCode()
        )
        assert await second.confirm_sign_in(await fresh_totp(totp_secret)) == Done()
        assert second.access_claims is not None
