"""Remember a device, then sign in as it: no MFA code the second time.

1. Sign in with SRP; the pool asks for a TOTP code (MFA) and, because it tracks
   devices, hands out ``new_device_metadata``.
2. ``confirm_device`` registers this device and returns ``DeviceCredentials``; the
   script stores them in a JSON file (mode 0600: the device password is a secret).
3. A fresh ``AsyncCognito`` built from the stored credentials signs in through
   DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER: no MFA code, and the refresh carries the
   device key.
4. The device is forgotten; its credentials are refused from then on.

Configure a real pool with environment variables (the pool must track devices; the
user signs in with SRP; the script asks for the MFA code on the terminal if the pool
wants one, and forgets the device it created at the end):

    ACOGNITO_POOL_ID        eu-west-1_AbC123
    ACOGNITO_CLIENT_ID      an app client with ALLOW_USER_SRP_AUTH
    ACOGNITO_CLIENT_SECRET  only for a confidential client
    ACOGNITO_USERNAME       the user name or e-mail the user signs in with
    ACOGNITO_PASSWORD

Without them it runs offline against ``acognito.testing.LocalCognito``, the local
Cognito that checks the SRP and device proofs for real (the ``local`` extra).

    python examples/remembered_device.py [--trio]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from acognito import AsyncCognito, DeviceCredentials, SoftwareTokenMFAChallengeException
from acognito.errors import NotAuthorizedError, ResourceNotFoundError


def offline_pool(stack: ExitStack) -> tuple[dict[str, Any], str, Any]:
    """A pool on the local Cognito: device tracking, TOTP MFA, a confidential client."""
    from acognito.testing import CognitoAdmin, LocalCognito, totp

    local = stack.enter_context(LocalCognito())
    username, password = "ann@example.com", "Corr3ct-Horse!"

    async def set_up() -> tuple[Any, str]:
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            pool = await admin.create_local_pool(
                username_attributes=["email"], device_tracking=True, mfa="OPTIONAL"
            )
            name = await admin.create_user(pool.user_pool_id, username, password)
        return pool, name

    pool, pool_username = anyio.run(set_up)
    # TOTP on for the user (the local Cognito's test API gives them a secret of their own).
    local.api.set_user_mfa(
        pool.user_pool_id, pool_username, totp=True, preferred="SOFTWARE_TOKEN_MFA"
    )
    secret = local.api.totp_secret(pool.user_pool_id, pool_username)
    print(f"(no ACOGNITO_POOL_ID: using the local Cognito at {local.endpoint_url})")
    config = {**pool.cognito_kwargs(secret=True), "username": username}
    return config, password, lambda: totp(secret)


def real_pool() -> tuple[dict[str, Any], str, Any]:
    config = {
        "user_pool_id": os.environ["ACOGNITO_POOL_ID"],
        "client_id": os.environ["ACOGNITO_CLIENT_ID"],
        "client_secret": os.environ.get("ACOGNITO_CLIENT_SECRET") or None,
        "username": os.environ["ACOGNITO_USERNAME"],
    }
    return config, os.environ["ACOGNITO_PASSWORD"], None


async def sign_in(cognito: AsyncCognito, password: str, mfa_code: Any) -> None:
    """SRP sign-in, answering a TOTP challenge if the pool asks for one."""
    try:
        await cognito.authenticate(password)
    except SoftwareTokenMFAChallengeException:
        if mfa_code is not None:
            code = mfa_code()
        else:  # a terminal read must not block the event loop
            code = await anyio.to_thread.run_sync(input, "TOTP code: ")
        print("  the pool asked for an MFA code")
        await cognito.respond_to_software_token_mfa_challenge(code.strip())


def save(path: Path, creds: DeviceCredentials) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(
            {
                "device_key": creds.device_key,
                "device_group_key": creds.device_group_key,
                "device_password": creds.device_password,
            },
            f,
        )


def load(path: Path) -> dict[str, str]:
    return dict(json.loads(path.read_text()))


async def main(config: dict[str, Any], password: str, mfa_code: Any, store: Path) -> None:
    print("1. first sign-in on this device")
    async with AsyncCognito(**config) as cognito:
        await sign_in(cognito, password, mfa_code)
        print(f"  signed in as {cognito.access_claims and cognito.access_claims['username']}")
        if cognito.new_device_metadata is None:
            raise SystemExit("the pool does not track devices: nothing to remember")
        creds = await cognito.confirm_device("acognito example")
        await anyio.to_thread.run_sync(save, store, creds)  # file I/O off the loop
        print(f"2. device {creds.device_key} confirmed and remembered; stored in {store}")

    print("3. a new session signs in as the remembered device")
    stored = await anyio.to_thread.run_sync(load, store)
    async with AsyncCognito(**config, **stored) as cognito:
        await sign_in(cognito, password, mfa_code)  # no MFA question this time
        await cognito.renew_access_token()  # carries DEVICE_KEY
        for device in await cognito.list_devices():
            state = "remembered" if device.remembered else "not remembered"
            print(f"  known device {device.device_key} ({device.name}, {state})")
        await cognito.forget_device()
        print("4. device forgotten")

    async with AsyncCognito(**config, **stored) as cognito:
        try:
            await sign_in(cognito, password, mfa_code)
        except (ResourceNotFoundError, NotAuthorizedError) as exc:
            print(f"  its credentials are refused now: {exc.code}")
            await anyio.to_thread.run_sync(store.unlink)
        else:
            raise SystemExit("a forgotten device still signed in")


if __name__ == "__main__":
    backend = "trio" if "--trio" in sys.argv[1:] else "asyncio"
    with ExitStack() as stack:
        if os.environ.get("ACOGNITO_POOL_ID"):
            config, password, mfa_code = real_pool()
        else:
            config, password, mfa_code = offline_pool(stack)
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        anyio.run(main, config, password, mfa_code, folder / "device.json", backend=backend)
