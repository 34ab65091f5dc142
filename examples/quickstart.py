"""Sign a user up, in and out with AsyncCognito, on asyncio or trio.

Runs offline against the embedded local Cognito (moto server on 127.0.0.1). Against a
real pool, drop the LocalCognito part and pass your pool id and client id.

    python examples/quickstart.py [--trio]
"""

from __future__ import annotations

import sys

import anyio
import anyio.to_thread

from acognito import AsyncCognito
from acognito.errors import UsernameExistsError
from acognito.testing import CognitoAdmin, LocalCognito

PASSWORD = "Quickstart-Passw0rd!"


async def main() -> None:
    local = LocalCognito()
    await anyio.to_thread.run_sync(local.start)  # starting a process blocks: off the loop
    try:
        async with CognitoAdmin(local.endpoint_url) as admin:
            pool = await admin.create_local_pool()

        async with AsyncCognito(**pool.cognito_kwargs()) as cognito:
            cognito.set_base_attributes(email="grace@example.com", given_name="Grace")
            await cognito.register("grace", PASSWORD)
            try:
                await cognito.register("grace", PASSWORD)
            except UsernameExistsError as exc:
                print("second register:", exc.code)
            else:
                raise SystemExit("the same username registered twice")
            # The local Cognito "mails" the code to its inbox (a real pool e-mails it).
            code = await anyio.to_thread.run_sync(
                local.inbox.last_code, pool.user_pool_id, "grace", "sign_up"
            )
            await cognito.confirm_sign_up(code)

            await cognito.authenticate(PASSWORD)  # SRP: the password never leaves here
            print("signed in as", cognito.access_claims["username"])
            print("expires", cognito.expires_datetime)
            assert cognito.access_claims["username"] == "grace"
            assert cognito.id_token
            assert cognito.refresh_token

            user = await cognito.get_user()
            print("given_name:", user.given_name)
            assert user.given_name == "Grace"

            await cognito.check_token()  # refreshes only when close to expiry
            await cognito.logout()
            print("signed out:", cognito.tokens)
            assert cognito.access_token is None
            assert cognito.refresh_token is None
    finally:
        await anyio.to_thread.run_sync(local.stop)


if __name__ == "__main__":
    anyio.run(main, backend="trio" if "--trio" in sys.argv else "asyncio")
