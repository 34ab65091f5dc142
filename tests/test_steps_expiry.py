"""A sign-in step left too long: the challenge session expires (three minutes on the
local Cognito, as on Cognito by default) and the answer is refused with a named error,
through the public API, on both event loops."""

from __future__ import annotations

import pytest

from acognito import AsyncCognito
from acognito.errors import NotAuthorizedError
from acognito.steps import ConfirmSignInWithEmailCode, ConfirmSignInWithWebAuthn, Done
from acognito.testing import SoftwareAuthenticator

PASSWORD = "Passw0rd!-expiry"
#: A little past the local Cognito's challenge-session lifetime (180 s).
LATE = 181


@pytest.mark.anyio
async def test_an_expired_challenge_session_is_refused(
    cognito_local, cognito_admin, cognito_pool, cognito_inbox
) -> None:
    pool_id = cognito_pool.user_pool_id
    await cognito_admin.create_user(
        pool_id, "eli", PASSWORD, attributes={"email": "eli@example.com", "email_verified": "true"}
    )
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        step = await c.sign_in("eli", auth_flow="USER_AUTH", preferred_first_factor="EMAIL_OTP")
        assert isinstance(step, ConfirmSignInWithEmailCode)
        code = cognito_inbox.last_code(pool_id, "eli", "email_otp")
        cognito_local.api.advance_clock(LATE)
        try:
            with pytest.raises(NotAuthorizedError, match="session is expired"):
                await c.confirm_sign_in(code)
            assert c.access_token is None
        finally:
            cognito_local.api.advance_clock(-LATE)
        # Starting again works, with a new code.
        step = await c.sign_in("eli", auth_flow="USER_AUTH", preferred_first_factor="EMAIL_OTP")
        assert isinstance(step, ConfirmSignInWithEmailCode)
        fresh = cognito_inbox.last_code(pool_id, "eli", "email_otp")
        assert await c.confirm_sign_in(fresh) == Done()


@pytest.mark.anyio
async def test_a_passkey_answer_after_the_session_expired_is_refused(
    cognito_local, cognito_admin, cognito_pool
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "pat", PASSWORD)
    authenticator = SoftwareAuthenticator()
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        assert await c.sign_in("pat", PASSWORD) == Done()
        await c.register_passkey(authenticator)
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        step = await c.sign_in("pat", auth_flow="USER_AUTH", preferred_first_factor="WEB_AUTHN")
        assert isinstance(step, ConfirmSignInWithWebAuthn)
        answer = authenticator.get(step.options)  # a genuine assertion, signed in time
        cognito_local.api.advance_clock(LATE)
        try:
            with pytest.raises(NotAuthorizedError, match="session is expired"):
                await c.confirm_sign_in(answer)
        finally:
            cognito_local.api.advance_clock(-LATE)
        assert c.access_token is None
