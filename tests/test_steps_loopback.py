"""Typed sign-in steps against the loopback Cognito TEST SERVER (tests/loopback_cognito.py),
which checks what moto does not: SRP proofs, SMS and sign-up codes, SELECT_MFA_TYPE,
custom auth, USER_AUTH's SELECT_CHALLENGE and PasswordResetRequiredException.

These prove, today, steps that tests/test_steps.py marks as waiting for the honest local
Cognito. When that server ships and this one retires, port these to it (or drop them
once the xfails in test_steps.py are flipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiobotocore.config import AioConfig

from acognito import AsyncCognito
from acognito.errors import CodeMismatchError, EnableSoftwareTokenMFAError, NotAuthorizedError
from acognito.steps import (
    ConfirmSignInWithCustomChallenge,
    ConfirmSignInWithPassword,
    ConfirmSignInWithSMSCode,
    ConfirmSignInWithTOTPCode,
    ConfirmSignUp,
    ContinueSignInWithFirstFactorSelection,
    ContinueSignInWithMFASelection,
    ContinueSignInWithTOTPSetup,
    Done,
    ResetPassword,
)
from acognito.testing import fresh_totp
from loopback_cognito import FORGOT_PASSWORD, SIGN_UP, SMS_MFA, LoopbackCognitoServer

pytestmark = pytest.mark.anyio

PASSWORD = "Passw0rd!"
NEW_PASSWORD = "N3w-Passw0rd!"


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackCognitoServer]:
    with LoopbackCognitoServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def no_test_server_bugs(server: LoopbackCognitoServer) -> Iterator[None]:
    yield
    assert server.internal_errors == []


def session(server: LoopbackCognitoServer, pool_id: str, client_id: str, **kw: Any) -> AsyncCognito:
    return AsyncCognito(
        pool_id,
        client_id,
        user_pool_region="us-east-1",
        endpoint_url=server.endpoint_url,
        access_key="testing",
        secret_key="testing",
        botocore_config=AioConfig(retries={"total_max_attempts": 1}),
        **kw,
    )


@pytest.mark.parametrize("secret", [False, True], ids=["public", "secret"])
async def test_sms_code_checked(server: LoopbackCognitoServer, secret: bool) -> None:
    pool_id = server.create_pool(mfa="OPTIONAL")
    client_id, client_secret = server.create_client(pool_id, secret=secret)
    server.create_user(pool_id, "sam", PASSWORD, attributes={"phone_number": "+15550001234"})
    server.enable_sms_mfa(pool_id, "sam")
    async with session(server, pool_id, client_id, client_secret=client_secret) as c:
        step = await c.sign_in("sam", PASSWORD)
        assert isinstance(step, ConfirmSignInWithSMSCode)
        assert step.code_delivery is not None and step.code_delivery.medium == "SMS"
        with pytest.raises(CodeMismatchError):
            await c.confirm_sign_in("000000")
        # this server (like Cognito for some challenges) takes a session once: start over
        with pytest.raises(NotAuthorizedError):
            await c.confirm_sign_in(server.last_code(pool_id, "sam", SMS_MFA))
        assert isinstance(await c.sign_in("sam", PASSWORD), ConfirmSignInWithSMSCode)
        assert await c.confirm_sign_in(server.last_code(pool_id, "sam", SMS_MFA)) == Done()
        with pytest.raises(NotAuthorizedError):  # SRP proves the password for real here
            await c.sign_in("sam", "Wr0ng-Passw0rd!")


async def test_mfa_selection(server: LoopbackCognitoServer) -> None:
    pool_id = server.create_pool(mfa="OPTIONAL")
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "mia", PASSWORD, attributes={"phone_number": "+15550001234"})
    secret = server.enable_totp(pool_id, "mia", preferred=False)
    server.enable_sms_mfa(pool_id, "mia", preferred=False)
    async with session(server, pool_id, client_id) as c:
        step = await c.sign_in("mia", PASSWORD)
        assert isinstance(step, ContinueSignInWithMFASelection)
        assert set(step.allowed) == {"SMS", "TOTP"}
        assert await c.confirm_sign_in("TOTP") == ConfirmSignInWithTOTPCode()
        assert await c.confirm_sign_in(await fresh_totp(secret)) == Done()
        step = await c.sign_in("mia", PASSWORD)
        assert isinstance(await c.confirm_sign_in("SMS"), ConfirmSignInWithSMSCode)
        assert await c.confirm_sign_in(server.last_code(pool_id, "mia", SMS_MFA)) == Done()


async def test_totp_setup_with_a_real_secret(server: LoopbackCognitoServer) -> None:
    pool_id = server.create_pool(mfa="ON")
    client_id, client_secret = server.create_client(pool_id, secret=True)
    server.create_user(pool_id, "uma", PASSWORD)
    async with session(server, pool_id, client_id, client_secret=client_secret) as c:
        step = await c.sign_in("uma", PASSWORD, totp_issuer="Example")
        assert isinstance(step, ContinueSignInWithTOTPSetup)
        assert server.totp_secret(pool_id, "uma") is None  # not until verified
        with pytest.raises(EnableSoftwareTokenMFAError):  # what Cognito answers here
            await c.confirm_sign_in("000000")
        step = await c.sign_in("uma", PASSWORD)  # the session was used: start over
        assert isinstance(step, ContinueSignInWithTOTPSetup)
        assert await c.confirm_sign_in(await fresh_totp(step.secret)) == Done()
        assert server.totp_secret(pool_id, "uma") == step.secret
        assert await c.sign_in("uma", PASSWORD) == ConfirmSignInWithTOTPCode()


async def test_custom_challenge(server: LoopbackCognitoServer) -> None:
    pool_id = server.create_pool()
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "cy", PASSWORD)
    server.set_custom_auth(pool_id, "four", parameters={"question": "2+2?"})
    async with session(server, pool_id, client_id) as c:
        step = await c.sign_in("cy", auth_flow="CUSTOM_AUTH")
        assert step == ConfirmSignInWithCustomChallenge({"question": "2+2?"})
        with pytest.raises(NotAuthorizedError):
            await c.confirm_sign_in("five")
        assert await c.sign_in("cy", auth_flow="CUSTOM_AUTH") == step
        assert await c.confirm_sign_in("four") == Done()
        # with a password, SRP runs first (CUSTOM_WITH_SRP), then the challenge
        assert await c.sign_in("cy", PASSWORD, auth_flow="CUSTOM_AUTH") == step


@pytest.mark.parametrize("factor", ["PASSWORD_SRP", "PASSWORD"])
async def test_first_factor_selection_then_password(
    server: LoopbackCognitoServer, factor: str
) -> None:
    pool_id = server.create_pool()
    client_id, client_secret = server.create_client(pool_id, secret=True)
    server.create_user(pool_id, "fay", PASSWORD)
    async with session(server, pool_id, client_id, client_secret=client_secret) as c:
        step = await c.sign_in("fay", auth_flow="USER_AUTH")
        assert step == ContinueSignInWithFirstFactorSelection(("PASSWORD", "PASSWORD_SRP"))
        assert await c.confirm_sign_in(factor) == ConfirmSignInWithPassword()
        with pytest.raises(NotAuthorizedError):
            await c.confirm_sign_in("Wr0ng-Passw0rd!")
        assert await c.sign_in("fay", auth_flow="USER_AUTH", preferred_first_factor=factor) == (
            ConfirmSignInWithPassword()
        )
        assert await c.confirm_sign_in(PASSWORD) == Done()
        # with the password given, the selection is answered without asking
        assert await c.sign_in("fay", PASSWORD, auth_flow="USER_AUTH") == Done()


async def test_reset_password_then_signed_in(server: LoopbackCognitoServer) -> None:
    pool_id = server.create_pool()
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "ray", PASSWORD, attributes={"email": "ray@example.com"})
    server.update_user(pool_id, "ray", status="RESET_REQUIRED")
    async with session(server, pool_id, client_id) as c:
        assert await c.sign_in("ray", PASSWORD) == ResetPassword(username="ray")
        await c.initiate_forgot_password()
        code = server.last_code(pool_id, "ray", FORGOT_PASSWORD)
        with pytest.raises(CodeMismatchError):
            await c.confirm_sign_in(NEW_PASSWORD, confirmation_code="000000")
        assert await c.confirm_sign_in(NEW_PASSWORD, confirmation_code=code) == Done()
        assert await c.sign_in("ray", NEW_PASSWORD) == Done()


async def test_confirm_sign_up_code_checked(server: LoopbackCognitoServer) -> None:
    pool_id = server.create_pool()
    client_id, _ = server.create_client(pool_id)
    async with session(server, pool_id, client_id) as c:
        c.set_base_attributes(email="una@example.com")
        await c.register("una", PASSWORD)
        assert await c.sign_in("una", PASSWORD) == ConfirmSignUp(username="una")
        with pytest.raises(CodeMismatchError):
            await c.confirm_sign_in("000000")
        assert await c.confirm_sign_in(server.last_code(pool_id, "una", SIGN_UP)) == Done()
