"""Refresh-token rotation found by itself, then signing out one device or everywhere.

The app client rotates refresh tokens: the session's first renewal is refused as
REFRESH_TOKEN_AUTH and goes through GetTokensFromRefreshToken, which it then keeps
using. ``logout(global_sign_out=False)`` revokes this device's refresh token only;
``logout()`` (pycognito's) signs the user out everywhere. Runs offline against the
embedded local Cognito, which refuses revoked and rotated-out tokens.

    python examples/sign_out_and_rotation.py [--trio]
"""

from __future__ import annotations

import sys

import anyio
import anyio.to_thread

from acognito import AsyncCognito
from acognito.errors import CognitoServiceError
from acognito.testing import CognitoAdmin, LocalCognito

PASSWORD = "Sign-Out-Example-Passw0rd!"


async def refused(kwargs: dict[str, object], refresh_token: str | None) -> bool:
    """Whether the server refuses ``refresh_token`` now."""
    async with AsyncCognito(**kwargs, refresh_token=refresh_token) as stale:  # type: ignore[arg-type]
        try:
            await stale.renew_access_token()
        except CognitoServiceError:
            return True
    return False


async def main() -> None:
    local = LocalCognito()
    await anyio.to_thread.run_sync(local.start)
    try:
        async with CognitoAdmin(local.endpoint_url) as admin:
            pool = await admin.create_local_pool()
            await admin.create_user(pool.user_pool_id, "kim", PASSWORD)
            rotating = await admin.create_client(
                pool.user_pool_id,
                flows=["ALLOW_USER_SRP_AUTH"],
                RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
            )
        kwargs = {**pool.cognito_kwargs(), "client_id": rotating.client_id}

        laptop = AsyncCognito(**kwargs, username="kim")
        phone = AsyncCognito(**kwargs, username="kim")
        async with laptop, phone:
            await laptop.authenticate(PASSWORD)
            await phone.authenticate(PASSWORD)
            before = laptop.refresh_token
            await laptop.renew_access_token()
            print("rotation detected:", laptop.refresh_token_rotation)
            print("old refresh token refused:", await refused(kwargs, before))

            kept = laptop.refresh_token
            await laptop.logout(global_sign_out=False)
            print("laptop signed out; its refresh token refused:", await refused(kwargs, kept))
            await phone.renew_access_token()
            print("phone still signed in:", (await phone.get_user()).username)

            kept = phone.refresh_token
            await phone.logout()  # GlobalSignOut
            print("signed out everywhere; refused:", await refused(kwargs, kept))
    finally:
        await anyio.to_thread.run_sync(local.stop)


if __name__ == "__main__":
    anyio.run(main, backend="trio" if "--trio" in sys.argv else "asyncio")
