"""What "my app's sign-in" needs tested, with acognito's documented fixtures only.

A wrong password refused, MFA with the code read from the local inbox, and a
remembered device that signs in again with its own proof.
"""

import pytest

from acognito import AsyncCognito
from acognito.errors import NotAuthorizedError, SMSMFAChallengeException

pytestmark = pytest.mark.anyio


async def sign_in(pool, username: str, password: str, **device: str) -> AsyncCognito:
    """The app's own sign-in helper (the code under test)."""
    session = AsyncCognito(username=username, **pool.cognito_kwargs(), **device)
    try:
        await session.authenticate(password)
    except BaseException:
        await session.close()
        raise
    return session


async def test_a_wrong_password_is_refused(cognito_pool, cognito_user) -> None:
    with pytest.raises(NotAuthorizedError):
        await sign_in(cognito_pool, cognito_user.username, "not-the-Passw0rd!")


async def test_a_signed_in_session_reads_the_profile(cognito_session, cognito_user) -> None:
    user = await cognito_session.get_user()
    assert user.email == cognito_user.email


async def test_sms_mfa_with_the_code_from_the_inbox(
    cognito_admin, cognito_inbox, cognito_user
) -> None:
    pool = await cognito_admin.create_local_pool(mfa="OPTIONAL")
    name = await cognito_admin.create_user(
        pool.user_pool_id, "mia", cognito_user.password, attributes={"phone_number": "+15550100"}
    )
    await cognito_admin.enable_sms_mfa(pool.user_pool_id, name)
    async with AsyncCognito(username="mia", **pool.cognito_kwargs()) as session:
        with pytest.raises(SMSMFAChallengeException):
            await session.authenticate(cognito_user.password)
        code = cognito_inbox.last_code(pool.user_pool_id, name, "sms_mfa")
        await session.respond_to_sms_mfa_challenge(code)
        assert session.access_token


async def test_a_remembered_device_signs_in_again(cognito_admin, cognito_user) -> None:
    pool = await cognito_admin.create_local_pool(device_tracking=True)
    await cognito_admin.create_user(pool.user_pool_id, "dev", cognito_user.password)
    first = await sign_in(pool, "dev", cognito_user.password)
    async with first:
        device = await first.confirm_device("my laptop")
    remembered = {
        "device_key": device.device_key,
        "device_group_key": device.device_group_key,
        "device_password": device.device_password,
    }
    again = await sign_in(pool, "dev", cognito_user.password, **remembered)
    async with again:
        assert [d.device_key for d in await again.list_devices()] == [device.device_key]
    # With a wrong device secret the device's own proof fails.
    remembered["device_password"] += "x"
    with pytest.raises(NotAuthorizedError):
        await sign_in(pool, "dev", cognito_user.password, **remembered)
