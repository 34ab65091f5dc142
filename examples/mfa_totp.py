"""TOTP MFA: set it up, then answer the challenge at sign-in (pycognito's pattern).

Runs offline against the embedded local Cognito, which checks TOTP codes; a real user
would type the code from an authenticator app instead of ``fresh_totp(secret)``.

    python examples/mfa_totp.py [--trio]
"""

from __future__ import annotations

import sys

import anyio
import anyio.to_thread

from acognito import AsyncCognito, SoftwareTokenMFAChallengeException
from acognito.testing import CognitoAdmin, LocalCognito, fresh_totp

PASSWORD = "Mfa-Example-Passw0rd!"


async def main() -> None:
    local = LocalCognito()
    await anyio.to_thread.run_sync(local.start)
    try:
        async with CognitoAdmin(local.endpoint_url) as admin:
            pool = await admin.create_local_pool(mfa="OPTIONAL")
            await admin.create_user(pool.user_pool_id, "hopper", PASSWORD)

        async with AsyncCognito(**pool.cognito_kwargs(), username="hopper") as cognito:
            await cognito.authenticate(PASSWORD)
            secret = await cognito.associate_software_token()  # show as text or QR code
            assert await cognito.verify_software_token(await fresh_totp(secret), "phone")
            await cognito.set_user_mfa_preference(False, True, "SOFTWARE_TOKEN")
            await cognito.logout()

            try:
                await cognito.authenticate(PASSWORD)
            except SoftwareTokenMFAChallengeException as challenge:
                print("Cognito asks for:", challenge.challenge_name)
                saved = challenge.get_tokens()  # could travel to another request/process

        # Continue on a brand-new session, e.g. in the request that receives the code.
        async with AsyncCognito(**pool.cognito_kwargs(), username="hopper") as later:
            await later.respond_to_software_token_mfa_challenge(await fresh_totp(secret), saved)
            print("signed in with MFA as", later.access_claims["username"])
    finally:
        await anyio.to_thread.run_sync(local.stop)


if __name__ == "__main__":
    anyio.run(main, backend="trio" if "--trio" in sys.argv else "asyncio")
