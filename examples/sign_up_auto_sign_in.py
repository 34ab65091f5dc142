"""Sign up, confirm with the mailed code, and be signed in without typing the password again.

Cognito's ConfirmSignUp returns a session when the app client allows USER_AUTH;
``confirm_sign_up`` keeps it and ``auto_sign_in()`` spends it (once, within a few
minutes). Runs offline against the embedded local Cognito, whose inbox stands in for
the user's mailbox.

    python examples/sign_up_auto_sign_in.py [--trio]
"""

from __future__ import annotations

import sys

import anyio
import anyio.to_thread

from acognito import AsyncCognito
from acognito.steps import Done
from acognito.testing import CognitoAdmin, LocalCognito

PASSWORD = "Sign-Up-Example-Passw0rd!"


async def main() -> None:
    local = LocalCognito()
    await anyio.to_thread.run_sync(local.start)
    try:
        async with CognitoAdmin(local.endpoint_url) as admin:
            pool = await admin.create_local_pool()

        async with AsyncCognito(**pool.cognito_kwargs()) as cognito:
            cognito.set_base_attributes(email="lin@example.com")
            signed_up = await cognito.register("lin", PASSWORD)
            print("signed up; confirmed yet:", signed_up["UserConfirmed"])
            code = await anyio.to_thread.run_sync(  # "the mail", read off the loop
                local.inbox.last_code, pool.user_pool_id, "lin", "sign_up"
            )
            await cognito.confirm_sign_up(code)
            print("confirmed; can sign in without the password:", cognito.can_auto_sign_in)
            step = await cognito.auto_sign_in()
            assert isinstance(step, Done)
            print("signed in as", cognito.access_claims["username"])  # type: ignore[index]
    finally:
        await anyio.to_thread.run_sync(local.stop)


if __name__ == "__main__":
    anyio.run(main, backend="trio" if "--trio" in sys.argv else "asyncio")
