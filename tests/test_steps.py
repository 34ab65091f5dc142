"""Typed sign-in steps (``sign_in`` / ``confirm_sign_in``): the pure mapping, then every
step the local Cognito can produce, on asyncio and trio, over real HTTP.

The local Cognito (``acognito.testing.LocalCognito``: moto plus acognito's extensions)
checks SRP proofs and every code; the codes it "sends" are read from its inbox and
custom-auth answers / MFA settings are set through its test API. Each user gets a TOTP
secret of their own, as on Cognito.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import pytest

from acognito import AsyncCognito
from acognito.errors import (
    CodeMismatchError,
    ConfigurationError,
    EmailOTPChallengeException,
    EnableSoftwareTokenMFAError,
    InvalidParameterError,
    InvalidPasswordError,
    NotAuthorizedError,
    ResourceNotFoundError,
    SoftwareTokenMFAChallengeException,
    UnsupportedChallengeError,
)
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
    mfa_type_of,
    step_for_challenge,
    totp_uri,
)
from acognito.testing import fresh_totp

PASSWORD = "Sup3r-Secret-Passw0rd!"
NEW_PASSWORD = "N3w-Secret-Passw0rd!"

# Amplify JS v6 signInStep -> ours (the table in docs/sign-in-steps.md).
AMPLIFY_STEPS: dict[str, type[SignInStep]] = {
    "CONFIRM_SIGN_IN_WITH_SMS_CODE": ConfirmSignInWithSMSCode,
    "CONFIRM_SIGN_IN_WITH_TOTP_CODE": ConfirmSignInWithTOTPCode,
    "CONFIRM_SIGN_IN_WITH_EMAIL_CODE": ConfirmSignInWithEmailCode,
    "CONFIRM_SIGN_IN_WITH_PASSWORD": ConfirmSignInWithPassword,
    "CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE": ConfirmSignInWithCustomChallenge,
    "CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED": ConfirmSignInWithNewPassword,
    "CONTINUE_SIGN_IN_WITH_MFA_SELECTION": ContinueSignInWithMFASelection,
    "CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION": ContinueSignInWithMFASetupSelection,
    "CONTINUE_SIGN_IN_WITH_TOTP_SETUP": ContinueSignInWithTOTPSetup,
    "CONTINUE_SIGN_IN_WITH_EMAIL_SETUP": ContinueSignInWithEmailSetup,
    "CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION": ContinueSignInWithFirstFactorSelection,
    "CONFIRM_SIGN_UP": ConfirmSignUp,
    "RESET_PASSWORD": ResetPassword,
    "DONE": Done,
}


# ----------------------------------------------------------------------------- pure mapping


def test_fourteen_amplify_steps_each_have_one_class() -> None:
    assert len(AMPLIFY_STEPS) == 14
    for name, cls in AMPLIFY_STEPS.items():
        assert cls.amplify_step == name
    assert len(set(AMPLIFY_STEPS.values())) == 14


DELIVERY = {"CODE_DELIVERY_DELIVERY_MEDIUM": "SMS", "CODE_DELIVERY_DESTINATION": "+*******1234"}
EMAIL_DELIVERY = {
    "CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL",
    "CODE_DELIVERY_DESTINATION": "a***@e***",
}


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        ("SMS_MFA", DELIVERY, ConfirmSignInWithSMSCode(CodeDelivery("SMS", "+*******1234"))),
        ("SMS_OTP", DELIVERY, ConfirmSignInWithSMSCode(CodeDelivery("SMS", "+*******1234"))),
        ("SMS_MFA", {}, ConfirmSignInWithSMSCode(None)),
        ("SOFTWARE_TOKEN_MFA", {}, ConfirmSignInWithTOTPCode()),
        (
            "EMAIL_OTP",
            EMAIL_DELIVERY,
            ConfirmSignInWithEmailCode(CodeDelivery("EMAIL", "a***@e***")),
        ),
        (
            "CUSTOM_CHALLENGE",
            {"USERNAME": "ann", "USER_ID_FOR_SRP": "ann", "question": "2+2?", "hint": "four"},
            ConfirmSignInWithCustomChallenge(
                {"USERNAME": "ann", "question": "2+2?", "hint": "four"}
            ),
        ),
        (
            "NEW_PASSWORD_REQUIRED",
            {
                "requiredAttributes": '["userAttributes.given_name","userAttributes.family_name"]',
                "userAttributes": '{"email":"ann@example.com","email_verified":true}',
            },
            ConfirmSignInWithNewPassword(
                ("given_name", "family_name"),
                {"email": "ann@example.com", "email_verified": "True"},
            ),
        ),
        ("NEW_PASSWORD_REQUIRED", {}, ConfirmSignInWithNewPassword((), {})),
        ("NEW_PASSWORD_REQUIRED", {"USERNAME": "ann"}, ConfirmSignInWithNewPassword()),
        (
            "SELECT_MFA_TYPE",
            {"MFAS_CAN_CHOOSE": '["SMS_MFA","SOFTWARE_TOKEN_MFA","EMAIL_OTP"]'},
            ContinueSignInWithMFASelection(("SMS", "TOTP", "EMAIL")),
        ),
        (
            "MFA_SETUP",
            {"MFAS_CAN_SETUP": '["SMS_MFA","SOFTWARE_TOKEN_MFA","EMAIL_OTP"]'},
            ContinueSignInWithMFASetupSelection(("TOTP", "EMAIL")),
        ),
        (
            "MFA_SETUP",
            {"MFAS_CAN_SETUP": "['SOFTWARE_TOKEN_MFA']"},  # moto: a Python repr
            ContinueSignInWithMFASetupSelection(("TOTP",)),
        ),
        ("MFA_SETUP", {"MFAS_CAN_SETUP": '["EMAIL_OTP"]'}, ContinueSignInWithEmailSetup()),
        (
            "SELECT_CHALLENGE",
            {"AvailableChallenges": "WEB_AUTHN,EMAIL_OTP,PASSWORD_SRP,PASSWORD,SMS_OTP"},
            ContinueSignInWithFirstFactorSelection(
                ("PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN")
            ),
        ),
        (
            "WEB_AUTHN",
            {"CREDENTIAL_REQUEST_OPTIONS": '{"challenge":"abc","rpId":"example.com"}'},
            ConfirmSignInWithWebAuthn({"challenge": "abc", "rpId": "example.com"}),
        ),
    ],
)
def test_challenge_maps_to_step(name: str, params: dict[str, Any], expected: SignInStep) -> None:
    assert step_for_challenge(name, params) == expected


def test_select_challenge_takes_the_offered_list_from_the_response() -> None:
    step = step_for_challenge("SELECT_CHALLENGE", {}, available=["EMAIL_OTP", "PASSWORD"])
    assert step == ContinueSignInWithFirstFactorSelection(("PASSWORD", "EMAIL_OTP"))


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("PASSWORD_VERIFIER", {}),
        ("DEVICE_SRP_AUTH", {}),
        ("SOMETHING_NEW", {}),
        ("MFA_SETUP", {"MFAS_CAN_SETUP": '["SMS_MFA"]'}),  # SMS cannot be set up at sign-in
        ("MFA_SETUP", {"MFAS_CAN_SETUP": "[not json"}),
        ("MFA_SETUP", {"MFAS_CAN_SETUP": "[1, 2]"}),
        ("MFA_SETUP", {}),
        ("SELECT_MFA_TYPE", {"MFAS_CAN_CHOOSE": '{"SMS_MFA": 1}'}),
        ("NEW_PASSWORD_REQUIRED", {"userAttributes": "{broken"}),
        ("NEW_PASSWORD_REQUIRED", {"userAttributes": "[1]"}),
        ("WEB_AUTHN", {"CREDENTIAL_REQUEST_OPTIONS": "nope"}),
    ],
)
def test_unknown_or_malformed_challenges_are_typed_errors(
    name: str, params: dict[str, Any]
) -> None:
    with pytest.raises(UnsupportedChallengeError):
        step_for_challenge(name, params)


def test_steps_are_frozen_and_pattern_matchable() -> None:
    step: SignInStep = step_for_challenge("SOFTWARE_TOKEN_MFA", {})
    with pytest.raises(AttributeError):
        step.code_delivery = None  # type: ignore[attr-defined]
    match step:
        case ConfirmSignInWithSMSCode(code_delivery=delivery):
            picked = f"sms {delivery}"
        case ConfirmSignInWithTOTPCode():
            picked = "totp"
        case _:
            picked = "other"
    assert picked == "totp"


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ("TOTP", "TOTP"),
        ("totp", "TOTP"),
        ("SOFTWARE_TOKEN_MFA", "TOTP"),
        ("SMS", "SMS"),
        ("SMS_MFA", "SMS"),
        ("EMAIL", "EMAIL"),
        ("EMAIL_OTP", "EMAIL"),
    ],
)
def test_mfa_kind_answers(answer: str, kind: str) -> None:
    assert mfa_type_of(answer) == kind


@pytest.mark.parametrize("answer", ["", "VOICE", "SOFTWARE_TOKEN"])
def test_unknown_mfa_kind_is_refused(answer: str) -> None:
    with pytest.raises(UnsupportedChallengeError):
        mfa_type_of(answer)


def test_totp_uri_is_qr_ready_and_the_secret_is_not_in_repr() -> None:
    step = ContinueSignInWithTOTPSetup(
        secret="JBSWY3DPEHPK3PXP", account_name="ann+mfa@example.com", issuer="ACME: Sign in & more"
    )
    parsed = urllib.parse.urlsplit(step.uri)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp")
    issuer_part, account_part = parsed.path.lstrip("/").split(":")
    assert urllib.parse.unquote(issuer_part) == "ACME: Sign in & more"
    assert urllib.parse.unquote(account_part) == "ann+mfa@example.com"
    query = urllib.parse.parse_qs(parsed.query)
    assert query == {"secret": ["JBSWY3DPEHPK3PXP"], "issuer": ["ACME: Sign in & more"]}
    assert " " not in step.uri and "&" not in parsed.path
    assert "JBSWY3DPEHPK3PXP" not in repr(step)
    other = step.setup_uri("My App")
    assert other.startswith("otpauth://totp/My%20App:ann%2Bmfa%40example.com?secret=")
    assert totp_uri("S", account_name="bob", issuer="") == "otpauth://totp/bob?secret=S"


# ----------------------------------------------------------------------------- no network


@pytest.mark.anyio
async def test_bad_sign_in_arguments_fail_before_any_network_call() -> None:
    c = AsyncCognito("us-east-1_abc", "client1", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(ConfigurationError, match="username"):
        await c.sign_in(password=PASSWORD)
    with pytest.raises(ConfigurationError, match="password"):
        await c.sign_in("bob")
    with pytest.raises(ConfigurationError, match="password"):
        await c.sign_in("bob", "", auth_flow="USER_PASSWORD_AUTH")
    with pytest.raises(ConfigurationError, match="auth_flow"):
        await c.sign_in("bob", PASSWORD, auth_flow="IMPLICIT")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="USER_AUTH"):
        await c.sign_in("bob", PASSWORD, preferred_first_factor="EMAIL_OTP")
    with pytest.raises(ConfigurationError, match="preferred_first_factor"):
        await c.sign_in("bob", auth_flow="USER_AUTH", preferred_first_factor="CARRIER_PIGEON")
    with pytest.raises(ConfigurationError, match="no sign-in step is pending"):
        await c.confirm_sign_in("123456")
    assert c.pending_sign_in_step is None
    assert not c._idp.is_open
    await c.close()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("step", "challenge", "answer", "kwargs", "match"),
    [
        (
            ConfirmSignInWithNewPassword(("given_name",)),
            "NEW_PASSWORD_REQUIRED",
            NEW_PASSWORD,
            {},
            "given_name",
        ),
        (ContinueSignInWithMFASelection(("TOTP",)), "SELECT_MFA_TYPE", "SMS", {}, "choose"),
        (ContinueSignInWithMFASetupSelection(("TOTP",)), "MFA_SETUP", "EMAIL", {}, "choose"),
        (
            ContinueSignInWithFirstFactorSelection(("EMAIL_OTP",)),
            "SELECT_CHALLENGE",
            "PASSWORD",
            {},
            "choose",
        ),
        (ResetPassword(username="bob"), None, NEW_PASSWORD, {}, "confirmation_code"),
        (ConfirmSignInWithTOTPCode(), "SOFTWARE_TOKEN_MFA", "", {}, "answer"),
    ],
)
async def test_answers_are_checked_before_any_network_call(
    step: SignInStep, challenge: str | None, answer: str, kwargs: dict[str, Any], match: str
) -> None:
    # The endpoint is a closed port: any network attempt would be a connection error.
    c = AsyncCognito("us-east-1_abc", "client1", endpoint_url="http://127.0.0.1:9")
    c.resume_sign_in(
        PendingSignIn("bob", step=step, challenge=challenge, session="opaque", pool_username="bob")
    )
    assert c.pending_sign_in_step == step
    with pytest.raises(ConfigurationError, match=match):
        await c.confirm_sign_in(answer, **kwargs)
    assert c.pending_sign_in_step == step and not c._idp.is_open
    child = c.for_user("ann")
    assert child.pending_sign_in_step is None  # a child session starts with nothing pending
    await c.close()


# ----------------------------------------------------------------------------- local Cognito


async def _totp_user(admin: Any, pool: Any, name: str) -> str:
    """A user with TOTP MFA set up and preferred (through the pycognito face); its secret."""
    await admin.create_user(pool.user_pool_id, name, PASSWORD)
    async with AsyncCognito(**pool.cognito_kwargs(), username=name) as c:
        await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        secret = await c.associate_software_token()
        assert await c.verify_software_token(await fresh_totp(secret))
        await c.set_user_mfa_preference(False, True, "SOFTWARE_TOKEN")
    return secret


@pytest.mark.anyio
@pytest.mark.parametrize("secret", [False, True], ids=["public", "secret"])
@pytest.mark.parametrize("auth_flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"])
async def test_done_at_once(cognito_admin, cognito_pool, secret, auth_flow) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "ada", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(secret=secret)) as c:
        step = await c.sign_in("ada", PASSWORD, auth_flow=auth_flow)
        assert step == Done()
        assert c.username == "ada"
        assert c.access_claims is not None and c.access_claims["username"] == "ada"
        assert c.pending_sign_in_step is None and c.mfa_tokens is None
        with pytest.raises(NotAuthorizedError):
            await c.sign_in("ada", "Wr0ng-Passw0rd!", auth_flow="USER_PASSWORD_AUTH")


@pytest.mark.anyio
@pytest.mark.parametrize("secret", [False, True], ids=["public", "secret"])
async def test_totp_code_step(cognito_admin, secret) -> None:
    pool = await cognito_admin.create_local_pool(mfa="OPTIONAL")
    totp_secret = await _totp_user(cognito_admin, pool, "tess")
    async with AsyncCognito(**pool.cognito_kwargs(secret=secret)) as c:
        step = await c.sign_in("tess", PASSWORD)
        assert step == ConfirmSignInWithTOTPCode()
        assert c.access_token is None and c.pending_sign_in_step == step
        with pytest.raises(CodeMismatchError):
            await c.confirm_sign_in("000000")
        assert c.pending_sign_in_step == step  # a wrong code leaves the step pending
        # The local Cognito serves a challenge session once (a retry on it is refused):
        with pytest.raises(NotAuthorizedError, match="only be used once"):
            await c.confirm_sign_in(await fresh_totp(totp_secret))
        assert await c.sign_in("tess", PASSWORD) == step  # so: start over
        assert await c.confirm_sign_in(await fresh_totp(totp_secret)) == Done()
        assert c.access_claims is not None and c.access_claims["username"] == "tess"
        with pytest.raises(ConfigurationError, match="pending"):
            await c.confirm_sign_in("123456")


@pytest.mark.anyio
async def test_two_faces_share_one_state_machine(cognito_admin) -> None:
    pool = await cognito_admin.create_local_pool(mfa="OPTIONAL")
    secret = await _totp_user(cognito_admin, pool, "tara")
    async with AsyncCognito(**pool.cognito_kwargs(), username="tara") as c:
        # typed start, pycognito finish: mfa_tokens is kept in step
        assert await c.sign_in(password=PASSWORD) == ConfirmSignInWithTOTPCode()
        assert c.mfa_tokens and c.mfa_tokens["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        await c.respond_to_software_token_mfa_challenge(await fresh_totp(secret))
        assert c.access_token and c.pending_sign_in_step is None
        # pycognito start: nothing typed is pending, confirm_sign_in says so
        with pytest.raises(SoftwareTokenMFAChallengeException):
            await c.authenticate(PASSWORD)
        with pytest.raises(ConfigurationError, match="pending"):
            await c.confirm_sign_in("123456")
        # a new typed sign-in replaces a stale one after authenticate() took over
        assert await c.sign_in(password=PASSWORD) == ConfirmSignInWithTOTPCode()
        with pytest.raises(SoftwareTokenMFAChallengeException):
            await c.authenticate(PASSWORD)
        assert c.pending_sign_in_step is None


@pytest.mark.anyio
async def test_a_used_up_challenge_session_is_refused(cognito_admin) -> None:
    pool = await cognito_admin.create_local_pool(mfa="OPTIONAL")
    secret = await _totp_user(cognito_admin, pool, "kai")
    async with AsyncCognito(**pool.cognito_kwargs()) as c:
        assert await c.sign_in("kai", PASSWORD) == ConfirmSignInWithTOTPCode()
        async with AsyncCognito(**pool.cognito_kwargs(), username="kai") as other:
            code = await fresh_totp(secret)
            await other.respond_to_software_token_mfa_challenge(code, c.mfa_tokens)
        # moto answers ResourceNotFound for a session it no longer holds; Cognito, NotAuthorized
        with pytest.raises((ResourceNotFoundError, NotAuthorizedError)):
            await c.confirm_sign_in(await fresh_totp(secret))
        assert c.access_token is None


@pytest.mark.anyio
@pytest.mark.parametrize("auth_flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"])
async def test_sms_code_step(cognito_admin, cognito_inbox, auth_flow) -> None:
    pool = await cognito_admin.create_local_pool(mfa="OPTIONAL")
    await cognito_admin.create_user(
        pool.user_pool_id, "sam", PASSWORD, attributes={"phone_number": "+15550001234"}
    )
    async with AsyncCognito(**pool.cognito_kwargs(), username="sam") as c:
        await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        await c.set_user_mfa_preference(True, False, "SMS")
        await c.logout()
        step = await c.sign_in(password=PASSWORD, auth_flow=auth_flow)
        assert isinstance(step, ConfirmSignInWithSMSCode)
        code = cognito_inbox.last_code(pool.user_pool_id, "sam", "sms_mfa")
        assert await c.confirm_sign_in(code) == Done()
        assert c.access_claims is not None


@pytest.mark.anyio
@pytest.mark.parametrize("secret", [False, True], ids=["public", "secret"])
async def test_wrong_sms_code_is_refused(cognito_admin, cognito_inbox, secret) -> None:
    pool = await cognito_admin.create_local_pool(mfa="OPTIONAL")
    await cognito_admin.create_user(
        pool.user_pool_id, "sid", PASSWORD, attributes={"phone_number": "+15550001234"}
    )
    await cognito_admin.enable_sms_mfa(pool.user_pool_id, "sid")
    async with AsyncCognito(**pool.cognito_kwargs(secret=secret), username="sid") as c:
        step = await c.sign_in(password=PASSWORD)
        assert isinstance(step, ConfirmSignInWithSMSCode)
        assert step.code_delivery is not None and step.code_delivery.medium == "SMS"
        with pytest.raises(CodeMismatchError):
            await c.confirm_sign_in("000000")
        # the session served once (like Cognito for some challenges): start over
        with pytest.raises(NotAuthorizedError):
            await c.confirm_sign_in(cognito_inbox.last_code(pool.user_pool_id, "sid", "sms_mfa"))
        assert isinstance(await c.sign_in(password=PASSWORD), ConfirmSignInWithSMSCode)
        code = cognito_inbox.last_code(pool.user_pool_id, "sid", "sms_mfa")
        assert await c.confirm_sign_in(code) == Done()
        with pytest.raises(NotAuthorizedError):  # SRP proves the password for real here
            await c.sign_in("sid", "Wr0ng-Passw0rd!")


@pytest.mark.anyio
@pytest.mark.parametrize("auth_flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"])
async def test_new_password_step(cognito_admin, cognito_pool, auth_flow) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "nina", PASSWORD, confirmed=False)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(secret=True)) as c:
        step = await c.sign_in("nina", PASSWORD, auth_flow=auth_flow)
        assert isinstance(step, ConfirmSignInWithNewPassword)
        with pytest.raises(InvalidPasswordError):
            await c.confirm_sign_in("short")
        assert await c.confirm_sign_in(NEW_PASSWORD) == Done()
        assert await c.sign_in("nina", NEW_PASSWORD, auth_flow="USER_PASSWORD_AUTH") == Done()


@pytest.mark.anyio
@pytest.mark.parametrize("secret", [False, True], ids=["public", "secret"])
async def test_totp_setup_during_sign_in(cognito_admin, secret) -> None:
    pool = await cognito_admin.create_local_pool(mfa="ON")
    await cognito_admin.create_user(pool.user_pool_id, "uma", PASSWORD)
    async with AsyncCognito(**pool.cognito_kwargs(secret=secret)) as c:
        step = await c.sign_in("uma", PASSWORD, totp_issuer="Example App")
        assert isinstance(step, ContinueSignInWithTOTPSetup)
        # Cognito's shape: 32 base32 characters, a new one for each set-up.
        assert re.fullmatch("[A-Z2-7]{32}", step.secret) and step.account_name == "uma"
        assert step.uri == (
            f"otpauth://totp/Example%20App:uma?secret={step.secret}&issuer=Example%20App"
        )
        assert c.access_token is None
        with pytest.raises(EnableSoftwareTokenMFAError):  # what Cognito answers here
            await c.confirm_sign_in("000000")
        code = await fresh_totp(step.secret)
        assert await c.confirm_sign_in(code, device_name="phone") == Done()
        assert c.access_claims is not None and c.access_claims["username"] == "uma"
        # The next sign-in asks for the code from the app just set up.
        assert await c.sign_in("uma", PASSWORD) == ConfirmSignInWithTOTPCode()
        assert await c.confirm_sign_in(await fresh_totp(step.secret)) == Done()


@pytest.mark.anyio
async def test_new_password_then_totp_setup_then_done(cognito_admin) -> None:
    pool = await cognito_admin.create_local_pool(mfa="ON")
    await cognito_admin.create_user(pool.user_pool_id, "zed", PASSWORD, confirmed=False)
    async with AsyncCognito(**pool.cognito_kwargs(secret=True)) as c:
        step = await c.sign_in("zed", PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        assert isinstance(step, ConfirmSignInWithNewPassword)
        step = await c.confirm_sign_in(NEW_PASSWORD)
        assert isinstance(step, ContinueSignInWithTOTPSetup)
        assert step.issuer == pool.user_pool_id  # the default issuer
        assert await c.confirm_sign_in(await fresh_totp(step.secret)) == Done()
        assert c.access_claims is not None and c.access_claims["username"] == "zed"


@pytest.mark.anyio
@pytest.mark.parametrize("secret", [False, True], ids=["public", "secret"])
async def test_confirm_sign_up_step_then_signed_in(cognito_pool, cognito_inbox, secret) -> None:
    async with AsyncCognito(**cognito_pool.cognito_kwargs(secret=secret)) as c:
        c.set_base_attributes(email="una@example.com")
        await c.register("una", PASSWORD)
        step = await c.sign_in("una", PASSWORD)
        assert step == ConfirmSignUp(username="una")
        code = cognito_inbox.last_code(cognito_pool.user_pool_id, "una", "sign_up")
        assert await c.confirm_sign_in(code) == Done()
        assert c.access_claims is not None and c.access_claims["username"] == "una"


@pytest.mark.anyio
async def test_wrong_sign_up_code_is_refused(cognito_pool, cognito_inbox) -> None:
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        c.set_base_attributes(email="vic@example.com")  # where the code goes
        await c.register("vic", PASSWORD)
        assert await c.sign_in("vic", PASSWORD) == ConfirmSignUp(username="vic")
        with pytest.raises(CodeMismatchError):
            await c.confirm_sign_in("000000")
        assert c.pending_sign_in_step == ConfirmSignUp(username="vic")
        code = cognito_inbox.last_code(cognito_pool.user_pool_id, "vic", "sign_up")
        assert await c.confirm_sign_in(code) == Done()
        assert c.access_claims is not None and c.access_claims["username"] == "vic"


# ------------------------------------------------- reset, custom auth, MFA choice, USER_AUTH


@pytest.mark.anyio
@pytest.mark.parametrize("auth_flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"])
async def test_reset_password_step(cognito_admin, cognito_pool, cognito_inbox, auth_flow) -> None:
    pool_id = cognito_pool.user_pool_id
    await cognito_admin.create_user(
        pool_id, "ray", PASSWORD, attributes={"email": "ray@example.com", "email_verified": "true"}
    )
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        await c.admin_reset_password("ray")
        step = await c.sign_in("ray", PASSWORD, auth_flow=auth_flow)
        assert step == ResetPassword(username="ray")
        await c.initiate_forgot_password()
        code = cognito_inbox.last_code(pool_id, "ray", "forgot_password")
        with pytest.raises(CodeMismatchError):
            await c.confirm_sign_in(NEW_PASSWORD, confirmation_code="000000")
        assert await c.confirm_sign_in(NEW_PASSWORD, confirmation_code=code) == Done()
        assert await c.sign_in("ray", NEW_PASSWORD, auth_flow=auth_flow) == Done()


@pytest.mark.anyio
async def test_custom_challenge_step(cognito_admin, cognito_pool, cognito_local) -> None:
    pool_id = cognito_pool.user_pool_id
    await cognito_admin.create_user(pool_id, "cy", PASSWORD)
    # The test API stands in for the pool's custom auth triggers.
    cognito_local.api.set_custom_auth(pool_id, "four", {"question": "2+2?"})
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        step = await c.sign_in("cy", auth_flow="CUSTOM_AUTH")
        assert step == ConfirmSignInWithCustomChallenge({"USERNAME": "cy", "question": "2+2?"})
        with pytest.raises(NotAuthorizedError):
            await c.confirm_sign_in("five")
        assert await c.sign_in("cy", auth_flow="CUSTOM_AUTH") == step
        assert await c.confirm_sign_in("four") == Done()
        assert c.access_claims is not None and c.access_claims["username"] == "cy"
        # with a password, SRP runs first (CUSTOM_WITH_SRP), then the challenge
        assert await c.sign_in("cy", PASSWORD, auth_flow="CUSTOM_AUTH") == step
        assert await c.confirm_sign_in("four") == Done()
        with pytest.raises(NotAuthorizedError):  # the SRP proof is checked for real
            await c.sign_in("cy", "Wr0ng-Passw0rd!", auth_flow="CUSTOM_AUTH")


@pytest.mark.anyio
async def test_mfa_selection_step(cognito_admin, cognito_inbox) -> None:
    pool = await cognito_admin.create_local_pool(mfa="OPTIONAL")
    totp_secret = await _totp_user(cognito_admin, pool, "mia")
    await cognito_admin.idp.call(  # a phone for SMS; both kinds on, neither preferred
        "admin_update_user_attributes",
        UserPoolId=pool.user_pool_id,
        Username="mia",
        UserAttributes=[
            {"Name": "phone_number", "Value": "+15550001234"},
            {"Name": "phone_number_verified", "Value": "true"},
        ],
    )
    await cognito_admin.idp.call(
        "admin_set_user_mfa_preference",
        UserPoolId=pool.user_pool_id,
        Username="mia",
        SMSMfaSettings={"Enabled": True, "PreferredMfa": False},
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": False},
    )
    async with AsyncCognito(**pool.cognito_kwargs(), username="mia") as c:
        step = await c.sign_in(password=PASSWORD)
        assert isinstance(step, ContinueSignInWithMFASelection)
        assert set(step.allowed) == {"SMS", "TOTP"}
        assert await c.confirm_sign_in("TOTP") == ConfirmSignInWithTOTPCode()
        assert await c.confirm_sign_in(await fresh_totp(totp_secret)) == Done()
        assert isinstance(await c.sign_in(password=PASSWORD), ContinueSignInWithMFASelection)
        assert isinstance(await c.confirm_sign_in("SMS"), ConfirmSignInWithSMSCode)
        code = cognito_inbox.last_code(pool.user_pool_id, "mia", "sms_mfa")
        assert await c.confirm_sign_in(code) == Done()


@pytest.mark.anyio
async def test_totp_setup_gives_each_user_their_own_secret(cognito_admin) -> None:
    pool = await cognito_admin.create_local_pool(mfa="ON")
    for name in ("uma", "ugo"):
        await cognito_admin.create_user(pool.user_pool_id, name, PASSWORD)
    kwargs = pool.cognito_kwargs(secret=True)
    async with AsyncCognito(**kwargs) as uma, AsyncCognito(**kwargs) as ugo:
        uma_step = await uma.sign_in("uma", PASSWORD)
        ugo_step = await ugo.sign_in("ugo", PASSWORD)
        assert isinstance(uma_step, ContinueSignInWithTOTPSetup)
        assert isinstance(ugo_step, ContinueSignInWithTOTPSetup)
        assert uma_step.secret != ugo_step.secret
        # Uma's authenticator does not set up Ugo's account...
        with pytest.raises(EnableSoftwareTokenMFAError):
            await ugo.confirm_sign_in(await fresh_totp(uma_step.secret))
        assert await uma.confirm_sign_in(await fresh_totp(uma_step.secret)) == Done()
        assert await ugo.confirm_sign_in(await fresh_totp(ugo_step.secret)) == Done()
        # ... nor signs him in once both are set up.
        assert await ugo.sign_in("ugo", PASSWORD) == ConfirmSignInWithTOTPCode()
        with pytest.raises(CodeMismatchError):
            await ugo.confirm_sign_in(await fresh_totp(uma_step.secret))
        assert await ugo.sign_in("ugo", PASSWORD) == ConfirmSignInWithTOTPCode()
        assert await ugo.confirm_sign_in(await fresh_totp(ugo_step.secret)) == Done()
        assert ugo.access_claims is not None and ugo.access_claims["username"] == "ugo"


@pytest.mark.anyio
async def test_mfa_setup_selection_and_email_setup_steps(cognito_admin, cognito_inbox) -> None:
    pool = await cognito_admin.create_local_pool(mfa="ON")
    await cognito_admin.idp.call(
        "set_user_pool_mfa_config",
        UserPoolId=pool.user_pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        EmailMfaConfiguration={"Message": "{####}", "Subject": "code"},
        MfaConfiguration="ON",
    )
    await cognito_admin.create_user(pool.user_pool_id, "eve", PASSWORD)
    async with AsyncCognito(**pool.cognito_kwargs()) as c:
        step = await c.sign_in("eve", PASSWORD)
        assert step == ContinueSignInWithMFASetupSelection(("TOTP", "EMAIL"))
        assert await c.confirm_sign_in("EMAIL") == ContinueSignInWithEmailSetup()
        step = await c.confirm_sign_in("eve@example.com")
        assert isinstance(step, ConfirmSignInWithEmailCode)
        assert step.code_delivery is not None and step.code_delivery.medium == "EMAIL"
        with pytest.raises(CodeMismatchError):
            await c.confirm_sign_in("000000")
        # The session served once: start over; email MFA is not on until a code arrives.
        step = await c.sign_in("eve", PASSWORD)
        assert step == ContinueSignInWithMFASetupSelection(("TOTP", "EMAIL"))
        assert await c.confirm_sign_in("EMAIL") == ContinueSignInWithEmailSetup()
        assert isinstance(await c.confirm_sign_in("eve@example.com"), ConfirmSignInWithEmailCode)
        code = cognito_inbox.last_code(pool.user_pool_id, "eve", "email_mfa")
        assert await c.confirm_sign_in(code) == Done()
        assert c.access_claims is not None and c.access_claims["username"] == "eve"
        user = await c.get_user()
        assert user.email == "eve@example.com" and user.email_verified in (True, "true")
        # Set up now: the next sign-in asks for a code by email.
        step = await c.sign_in("eve", PASSWORD)
        assert isinstance(step, ConfirmSignInWithEmailCode)
        code = cognito_inbox.last_code(pool.user_pool_id, "eve", "email_mfa")
        assert await c.confirm_sign_in(code) == Done()


async def _email_mfa_pool(admin: Any, mfa: str = "OPTIONAL") -> Any:
    pool = await admin.create_local_pool()
    await admin.idp.call(
        "set_user_pool_mfa_config",
        UserPoolId=pool.user_pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        EmailMfaConfiguration={"Message": "{####}", "Subject": "code"},
        MfaConfiguration=mfa,
    )
    return pool


@pytest.mark.anyio
@pytest.mark.parametrize("secret", [False, True], ids=["public", "secret"])
async def test_email_mfa_turned_on_by_preference(cognito_admin, cognito_inbox, secret) -> None:
    pool = await _email_mfa_pool(cognito_admin)
    config = await cognito_admin.idp.call("get_user_pool_mfa_config", UserPoolId=pool.user_pool_id)
    assert config["EmailMfaConfiguration"]["Subject"] == "code"
    attributes = {"email": "eli@example.com", "email_verified": "true"}
    await cognito_admin.create_user(pool.user_pool_id, "eli", PASSWORD, attributes=attributes)
    async with AsyncCognito(**pool.cognito_kwargs(secret=secret), username="eli") as c:
        assert await c.sign_in("eli", PASSWORD) == Done()
        with pytest.raises(ConfigurationError, match="email_mfa=True"):
            await c.set_user_mfa_preference(False, False, "EMAIL")
        await c.set_user_mfa_preference(False, False, "EMAIL", email_mfa=True)
        step = await c.sign_in("eli", PASSWORD)
        assert step == ConfirmSignInWithEmailCode(CodeDelivery("EMAIL", "e***@e***"))
        with pytest.raises(CodeMismatchError):
            await c.confirm_sign_in("000000")
        assert isinstance(await c.sign_in("eli", PASSWORD), ConfirmSignInWithEmailCode)
        code = cognito_inbox.last_code(pool.user_pool_id, "eli", "email_mfa")
        assert await c.confirm_sign_in(code) == Done()
        # The pycognito face: the same challenge as an exception, answered by name.
        with pytest.raises(EmailOTPChallengeException):
            await c.authenticate(PASSWORD)
        code = cognito_inbox.last_code(pool.user_pool_id, "eli", "email_mfa")
        await c.respond_to_email_otp_challenge(code)
        assert c.access_claims is not None and c.access_claims["username"] == "eli"
        await c.set_user_mfa_preference(False, False, None, email_mfa=False)
        assert await c.sign_in("eli", PASSWORD) == Done()


@pytest.mark.anyio
async def test_email_mfa_needs_the_pool_to_offer_it(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(
        cognito_pool.user_pool_id, "ned", PASSWORD, attributes={"email": "ned@example.com"}
    )
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="ned") as c:
        await c.authenticate(PASSWORD)
        with pytest.raises(InvalidParameterError, match="Email MFA"):
            await c.set_user_mfa_preference(False, False, "EMAIL", email_mfa=True)


@pytest.mark.anyio
async def test_mfa_selection_between_totp_and_email(cognito_admin, cognito_inbox) -> None:
    pool = await _email_mfa_pool(cognito_admin)
    attributes = {"email": "mae@example.com", "email_verified": "true"}
    await cognito_admin.create_user(pool.user_pool_id, "mae", PASSWORD, attributes=attributes)
    async with AsyncCognito(**pool.cognito_kwargs(), username="mae") as c:
        await c.authenticate(PASSWORD)
        secret = await c.associate_software_token()
        assert await c.verify_software_token(await fresh_totp(secret))
        await c.set_user_mfa_preference(False, True, "SOFTWARE_TOKEN", email_mfa=True)
        await c._call(  # both on, neither preferred: Cognito lets the user choose
            "set_user_mfa_preference",
            SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": False},
            EmailMfaSettings={"Enabled": True, "PreferredMfa": False},
            AccessToken=c.access_token,
        )
        step = await c.sign_in("mae", PASSWORD)
        assert step == ContinueSignInWithMFASelection(("TOTP", "EMAIL"))
        step = await c.confirm_sign_in("EMAIL")
        assert isinstance(step, ConfirmSignInWithEmailCode)
        code = cognito_inbox.last_code(pool.user_pool_id, "mae", "email_mfa")
        assert await c.confirm_sign_in(code) == Done()
        step = await c.sign_in("mae", PASSWORD)
        assert step == ContinueSignInWithMFASelection(("TOTP", "EMAIL"))
        assert await c.confirm_sign_in("TOTP") == ConfirmSignInWithTOTPCode()
        assert await c.confirm_sign_in(await fresh_totp(secret)) == Done()


@pytest.mark.anyio
@pytest.mark.parametrize("factor", ["PASSWORD_SRP", "PASSWORD"])
async def test_first_factor_selection_then_password(cognito_admin, cognito_pool, factor) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "fay", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(secret=True)) as c:
        step = await c.sign_in("fay", auth_flow="USER_AUTH")
        assert step == ContinueSignInWithFirstFactorSelection(("PASSWORD", "PASSWORD_SRP"))
        assert await c.confirm_sign_in(factor) == ConfirmSignInWithPassword()
        with pytest.raises(NotAuthorizedError):
            await c.confirm_sign_in("Wr0ng-Passw0rd!")
        assert await c.sign_in("fay", auth_flow="USER_AUTH", preferred_first_factor=factor) == (
            ConfirmSignInWithPassword()
        )
        assert await c.confirm_sign_in(PASSWORD) == Done()
        assert c.access_claims is not None and c.access_claims["username"] == "fay"
        # with the password given, the selection is answered without asking
        assert await c.sign_in("fay", PASSWORD, auth_flow="USER_AUTH") == Done()


@pytest.mark.anyio
async def test_email_otp_first_factor(cognito_admin, cognito_pool, cognito_inbox) -> None:
    pool_id = cognito_pool.user_pool_id
    await cognito_admin.create_user(
        pool_id,
        "otto",
        PASSWORD,
        attributes={"email": "otto@example.com", "email_verified": "true"},
    )
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        step = await c.sign_in("otto", auth_flow="USER_AUTH", preferred_first_factor="EMAIL_OTP")
        assert isinstance(step, ConfirmSignInWithEmailCode)
        assert step.code_delivery is not None and step.code_delivery.medium == "EMAIL"
        with pytest.raises(CodeMismatchError):
            await c.confirm_sign_in("000000")
        step = await c.sign_in("otto", auth_flow="USER_AUTH", preferred_first_factor="EMAIL_OTP")
        assert isinstance(step, ConfirmSignInWithEmailCode)
        code = cognito_inbox.last_code(pool_id, "otto", "email_otp")
        assert await c.confirm_sign_in(code) == Done()
        assert c.access_claims is not None and c.access_claims["username"] == "otto"


@pytest.mark.anyio
async def test_web_authn_first_factor(cognito_admin, cognito_pool) -> None:
    from acognito.testing import SoftwareAuthenticator

    await cognito_admin.create_user(cognito_pool.user_pool_id, "pia", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        with pytest.raises(InvalidParameterError):  # no passkey yet: not offered
            await c.sign_in("pia", auth_flow="USER_AUTH", preferred_first_factor="WEB_AUTHN")
        assert await c.sign_in("pia", PASSWORD) == Done()
        authenticator = SoftwareAuthenticator()
        await c.register_passkey(authenticator)
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        step = await c.sign_in("pia", auth_flow="USER_AUTH", preferred_first_factor="WEB_AUTHN")
        assert isinstance(step, ConfirmSignInWithWebAuthn)
        assert "challenge" in step.credential_request_options
        assert await c.confirm_sign_in(authenticator.get(step.options)) == Done()
        assert c.access_claims is not None and c.access_claims["username"] == "pia"


# ----------------------------------------------------------------------------- auto sign-in


@pytest.mark.anyio
@pytest.mark.parametrize("secret", [False, True], ids=["public", "secret"])
async def test_auto_sign_in_after_confirm_sign_up(cognito_pool, cognito_inbox, secret) -> None:
    pool_id = cognito_pool.user_pool_id
    async with AsyncCognito(**cognito_pool.cognito_kwargs(secret=secret)) as c:
        assert not c.can_auto_sign_in
        with pytest.raises(ConfigurationError, match="confirm_sign_up first"):
            await c.auto_sign_in()
        c.set_base_attributes(email="abe@example.com")
        await c.register("abe", PASSWORD)
        code = cognito_inbox.last_code(pool_id, "abe", "sign_up")
        assert await c.confirm_sign_up(code) is None  # pycognito's return
        assert c.can_auto_sign_in and c.access_token is None
        assert await c.auto_sign_in() == Done()
        assert c.access_claims is not None and c.access_claims["username"] == "abe"
        assert c.refresh_token and not c.can_auto_sign_in
        with pytest.raises(ConfigurationError):  # used up
            await c.auto_sign_in()


@pytest.mark.anyio
async def test_the_sign_up_session_serves_once_and_only_its_user(
    cognito_admin, cognito_pool, cognito_inbox
) -> None:
    from acognito.flows import SignIn

    pool_id = cognito_pool.user_pool_id
    await cognito_admin.create_user(pool_id, "other", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        c.set_base_attributes(email="bea@example.com")
        await c.register("bea", PASSWORD)
        response = await c._call(
            "confirm_sign_up",
            ClientId=c.client_id,
            Username="bea",
            ConfirmationCode=cognito_inbox.last_code(pool_id, "bea", "sign_up"),
        )
        session = response["Session"]
        flow = SignIn(await c._idp_client(), user_pool_id=pool_id, client_id=c.client_id)
        with pytest.raises(NotAuthorizedError):  # another user cannot take it
            await flow.start_user_auth_session("other", session)
        with pytest.raises(NotAuthorizedError, match="once"):  # and it is spent
            await flow.start_user_auth_session("bea", session)
        with pytest.raises(NotAuthorizedError):  # nor can a made-up one
            await flow.start_user_auth_session("bea", "x" * 64)


@pytest.mark.anyio
async def test_no_sign_up_session_without_user_auth_on_the_client(
    cognito_admin, cognito_pool, cognito_inbox
) -> None:
    client = await cognito_admin.create_client(
        cognito_pool.user_pool_id, flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )
    kwargs = {**cognito_pool.cognito_kwargs(), "client_id": client.client_id}
    async with AsyncCognito(**kwargs) as c:
        c.set_base_attributes(email="cal@example.com")
        await c.register("cal", PASSWORD)
        code = cognito_inbox.last_code(cognito_pool.user_pool_id, "cal", "sign_up")
        await c.confirm_sign_up(code)
        assert not c.can_auto_sign_in


@pytest.mark.anyio
async def test_passwordless_sign_in_of_an_unconfirmed_user_continues_with_the_code(
    cognito_pool, cognito_inbox
) -> None:
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        c.set_base_attributes(email="dot@example.com")
        await c.register("dot", PASSWORD)
        step = await c.sign_in("dot", auth_flow="USER_AUTH", preferred_first_factor="EMAIL_OTP")
        assert step == ConfirmSignUp(username="dot")
        code = cognito_inbox.last_code(cognito_pool.user_pool_id, "dot", "sign_up")
        assert await c.confirm_sign_in(code) == Done()  # no password asked
        assert c.access_claims is not None and c.access_claims["username"] == "dot"
