"""Two of Amplify's manners that users notice, on both backends against the local
Cognito: ``sign_in(remember_device=True)`` confirms and remembers a new device in the
same call (the explicit ``confirm_device`` stays), and signing out when nobody is
signed in does nothing (``logout()`` too, async and blocking)."""

from __future__ import annotations

import anyio
import pytest

from acognito import AsyncCognito, sync
from acognito.steps import ConfirmSignInWithTOTPCode, Done
from acognito.testing import CognitoAdmin, LocalCognito, LocalPool, totp

PASSWORD = "Amplify-Passw0rd!"

pytestmark = pytest.mark.anyio


async def _pool(local: LocalCognito, **options: object) -> LocalPool:
    async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
        pool = await admin.create_local_pool(**options)
        await admin.create_user(pool.user_pool_id, "ann", PASSWORD)
        return pool


def _session(pool: LocalPool, **extra: object) -> AsyncCognito:
    return AsyncCognito(**pool.cognito_kwargs(), username="ann", **extra)


async def test_sign_in_remembers_the_device_in_the_same_call(cognito_local) -> None:
    pool = await _pool(cognito_local, device_tracking=True)
    async with _session(pool) as first:
        step = await first.sign_in("ann", PASSWORD, remember_device=True)
        assert isinstance(step, Done)
        assert first.device is not None and first.new_device_metadata is None
        creds = first.device
        remembered = cognito_local.api.devices(pool.user_pool_id)
        assert [(d.device_key, d.confirmed, d.remembered) for d in remembered] == [
            (creds.device_key, True, True)
        ]
    # The remembered device signs in as itself next time (device SRP).
    device = {
        "device_key": creds.device_key,
        "device_group_key": creds.device_group_key,
        "device_password": creds.device_password,
    }
    async with _session(pool, **device) as again:
        assert isinstance(await again.sign_in("ann", PASSWORD), Done)
        assert again.new_device_metadata is None  # no new device: the same one
    # Without the option nothing is confirmed: the explicit call stays.
    async with _session(pool) as plain:
        assert isinstance(await plain.sign_in("ann", PASSWORD), Done)
        assert plain.device is None and plain.new_device_metadata is not None
        assert (await plain.confirm_device()).device_key != creds.device_key


async def test_remember_device_waits_for_the_last_step(cognito_local) -> None:
    pool = await _pool(cognito_local, device_tracking=True, mfa="OPTIONAL")
    cognito_local.api.set_user_mfa(pool.user_pool_id, "ann", totp=True, preferred="SOFTWARE_TOKEN")
    secret = cognito_local.api.totp_secret(pool.user_pool_id, "ann")
    async with _session(pool) as cognito:
        step = await cognito.sign_in("ann", PASSWORD, remember_device=True)
        assert isinstance(step, ConfirmSignInWithTOTPCode)
        assert cognito.device is None and cognito_local.api.devices(pool.user_pool_id) == []
        done = await cognito.confirm_sign_in(totp(secret))
        assert isinstance(done, Done)
        assert cognito.device is not None
        [device] = cognito_local.api.devices(pool.user_pool_id)
        assert device.device_key == cognito.device.device_key and device.remembered


async def test_a_pool_without_device_tracking_ignores_the_option(cognito_local) -> None:
    pool = await _pool(cognito_local)
    async with _session(pool) as cognito:
        assert isinstance(await cognito.sign_in("ann", PASSWORD, remember_device=True), Done)
        assert cognito.device is None and cognito.access_token


async def test_logout_with_nobody_signed_in_does_nothing(cognito_local) -> None:
    pool = await _pool(cognito_local)
    cognito_local.api.record_requests(True, clear=True)
    try:
        async with _session(pool) as cognito:
            await cognito.logout()
            await cognito.logout(global_sign_out=False)
            assert cognito.access_token is None
            sent = cognito_local.api.requests()
            assert [r.operation for r in sent] == []  # nothing was asked of Cognito
            # Signed in, then out twice: the second is a no-op too.
            await cognito.sign_in("ann", PASSWORD)
            await cognito.logout()
            await cognito.logout()
            operations = [r.operation for r in cognito_local.api.requests()]
            assert operations.count("GlobalSignOut") == 1
    finally:
        cognito_local.api.record_requests(False, clear=True)


async def test_logout_with_only_a_refresh_token_signs_out(cognito_local) -> None:
    pool = await _pool(cognito_local)
    async with _session(pool) as signed:
        await signed.sign_in("ann", PASSWORD)
        refresh = signed.refresh_token
    async with _session(pool, refresh_token=refresh) as restored:
        await restored.logout()  # renews first: GlobalSignOut needs an access token
        assert restored.refresh_token is None
    assert cognito_local.api.refresh_token_status(refresh) == "revoked"
    async with _session(pool, refresh_token=refresh) as stale:
        with pytest.raises(Exception):  # noqa: B017, PT011 - revoked: any refusal
            await stale.renew_access_token()


def test_the_blocking_logout_is_a_no_op_too(cognito_local) -> None:
    pool = anyio.run(_pool, cognito_local)
    kwargs = pool.cognito_kwargs()
    with sync.Cognito(kwargs.pop("user_pool_id"), kwargs.pop("client_id"), **kwargs) as u:
        u.logout()
        u.logout(global_sign_out=False)
        u.username = "ann"
        u.authenticate(password=PASSWORD)
        u.logout()
        assert u.access_token is None
        u.logout()
