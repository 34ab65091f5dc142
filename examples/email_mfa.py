"""Email MFA: set it up during the first sign-in, then every sign-in asks for a mailed code.

The pool requires MFA and offers TOTP and email (an EmailMfaConfiguration). The user picks
email, gives an address, and types the code sent there; later sign-ins ask for a new
code by email. Runs offline against the embedded local Cognito, whose inbox stands in
for the user's mailbox.

    python examples/email_mfa.py [--trio]
"""

from __future__ import annotations

import sys

import anyio
import anyio.to_thread

from acognito import AsyncCognito
from acognito.steps import (
    ConfirmSignInWithEmailCode,
    ContinueSignInWithEmailSetup,
    ContinueSignInWithMFASetupSelection,
    Done,
)
from acognito.testing import CognitoAdmin, LocalCognito

PASSWORD = "Email-MFA-Example-Passw0rd!"


async def main() -> None:
    local = LocalCognito()
    await anyio.to_thread.run_sync(local.start)
    try:
        async with CognitoAdmin(local.endpoint_url) as admin:
            pool = await admin.create_local_pool()
            await admin.idp.call(
                "set_user_pool_mfa_config",
                UserPoolId=pool.user_pool_id,
                SoftwareTokenMfaConfiguration={"Enabled": True},
                EmailMfaConfiguration={"Message": "Your code: {####}", "Subject": "Sign-in code"},
                MfaConfiguration="ON",
            )
            await admin.create_user(pool.user_pool_id, "mo", PASSWORD)

        async def mailed_code() -> str:  # the inbox is read over HTTP: off the loop
            inbox = local.inbox
            return await anyio.to_thread.run_sync(
                inbox.last_code, pool.user_pool_id, "mo", "email_mfa"
            )

        async with AsyncCognito(**pool.cognito_kwargs()) as cognito:
            step = await cognito.sign_in("mo", PASSWORD)
            assert isinstance(step, ContinueSignInWithMFASetupSelection)
            print("set up one of:", ", ".join(step.allowed))
            step = await cognito.confirm_sign_in("EMAIL")
            assert isinstance(step, ContinueSignInWithEmailSetup)
            step = await cognito.confirm_sign_in("mo@example.com")
            assert isinstance(step, ConfirmSignInWithEmailCode)
            assert step.code_delivery is not None
            print("code sent to", step.code_delivery.destination)
            assert await cognito.confirm_sign_in(await mailed_code()) == Done()
            print("email MFA set up; signed in as", cognito.access_claims["username"])  # type: ignore[index]

            step = await cognito.sign_in("mo", PASSWORD)
            print("next sign-in asks for:", step.amplify_step)
            assert await cognito.confirm_sign_in(await mailed_code()) == Done()
            print("signed in again with the mailed code")
    finally:
        await anyio.to_thread.run_sync(local.stop)


if __name__ == "__main__":
    anyio.run(main, backend="trio" if "--trio" in sys.argv else "asyncio")
