"""Typed sign-in steps: ``sign_in`` returns the next step, ``confirm_sign_in`` answers it.

A user in a pool that requires MFA signs in for the first time: Cognito asks them to set
up TOTP (a QR-ready ``otpauth://`` URI), then every later sign-in asks for a code. One
``match`` handles every step. Runs offline against the embedded local Cognito; a real
user would type the code from an authenticator app instead of ``fresh_totp(secret)``.

    python examples/sign_in_steps.py [--trio]
"""

from __future__ import annotations

import sys

import anyio
import anyio.to_thread

from acognito import AsyncCognito
from acognito.steps import (
    ConfirmSignInWithNewPassword,
    ConfirmSignInWithTOTPCode,
    ConfirmSignUp,
    ContinueSignInWithTOTPSetup,
    Done,
    SignInStep,
)
from acognito.testing import CognitoAdmin, LocalCognito, fresh_totp

PASSWORD = "Steps-Example-Passw0rd!"


async def answer(cognito: AsyncCognito, step: SignInStep, app: dict[str, str]) -> None:
    """Answer steps until Done, the way an app's sign-in screen would; ``app`` is the
    user's authenticator app (account -> the secret it scanned)."""
    while True:
        match step:
            case Done():
                print("signed in as", cognito.access_claims["username"])  # type: ignore[index]
                return
            case ContinueSignInWithTOTPSetup(account_name=account):
                print(f"set up TOTP for {account}: show this as a QR code ->", step.uri[:28], "...")
                app[account] = step.secret  # this user's own secret: scan it once
                code = await fresh_totp(app[account])
                step = await cognito.confirm_sign_in(code, device_name="phone")
            case ConfirmSignInWithTOTPCode():
                print("Cognito asks for the code from the authenticator app")
                step = await cognito.confirm_sign_in(await fresh_totp(app[str(cognito.username)]))
            case ConfirmSignInWithNewPassword(required_attributes=required):
                step = await cognito.confirm_sign_in(
                    PASSWORD, attributes=dict.fromkeys(required, "x")
                )
            case ConfirmSignUp():
                code = await anyio.to_thread.run_sync(input, "confirmation code: ")
                step = await cognito.confirm_sign_in(code)
            case _:
                raise SystemExit(f"this example does not answer {type(step).__name__}")


async def main() -> None:
    local = LocalCognito()
    await anyio.to_thread.run_sync(local.start)
    try:
        async with CognitoAdmin(local.endpoint_url) as admin:
            pool = await admin.create_local_pool(mfa="ON")
            await admin.create_user(pool.user_pool_id, "grace", PASSWORD)

        async with AsyncCognito(**pool.cognito_kwargs()) as cognito:
            first = await cognito.sign_in("grace", PASSWORD, totp_issuer="Example App")
            print("first sign-in:", first.amplify_step)
            authenticator_app: dict[str, str] = {}
            await answer(cognito, first, authenticator_app)
            later = await cognito.sign_in("grace", PASSWORD)
            print("next sign-in:", later.amplify_step)
            await answer(cognito, later, authenticator_app)
    finally:
        await anyio.to_thread.run_sync(local.stop)


if __name__ == "__main__":
    anyio.run(main, backend="trio" if "--trio" in sys.argv else "asyncio")
