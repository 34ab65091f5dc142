"""Passkeys on a security key: register one after a password sign-in, then sign in with it.

The user signs in with a password, registers a passkey on a FIDO2 security key through
``Fido2Authenticator`` (python-fido2: PIN, touch, the WebAuthn JSON), lists it, then signs
in without the password: Cognito's challenge, signed on the key. A key that signs wrongly
is refused. Runs offline against the embedded local Cognito (relying party ``localhost``,
origin ``https://localhost``), with ``VirtualSecurityKey``, a CTAP2 key in software,
standing in for the hardware; with a real key plugged in, ``Fido2Authenticator(pin=...)``
finds it.

    python examples/passkeys.py [--trio]
"""

from __future__ import annotations

import sys

import anyio
import anyio.to_thread

from acognito import AsyncCognito
from acognito.errors import NotAuthorizedError
from acognito.passkeys import Fido2Authenticator, call_authenticator
from acognito.steps import ConfirmSignInWithWebAuthn, Done
from acognito.testing import CognitoAdmin, LocalCognito, VirtualSecurityKey

PASSWORD = "Passkeys-Example-Passw0rd!"
PIN = "4821"


async def sign_in_with_the_key(cognito: AsyncCognito, key: Fido2Authenticator) -> None:
    """A passwordless sign-in (USER_AUTH, WEB_AUTHN first), answered by the security key."""
    step = await cognito.sign_in("pat", auth_flow="USER_AUTH", preferred_first_factor="WEB_AUTHN")
    assert isinstance(step, ConfirmSignInWithWebAuthn)
    print("Cognito asks the key to sign a challenge for", step.options["rpId"])
    assertion = await call_authenticator(key, "get", step.options)  # the key blocks: a thread
    assert await cognito.confirm_sign_in(assertion) == Done()


async def main() -> None:
    local = LocalCognito()
    await anyio.to_thread.run_sync(local.start)
    try:
        async with CognitoAdmin(local.endpoint_url) as admin:
            pool = await admin.create_local_pool()
            await admin.create_user(pool.user_pool_id, "pat", PASSWORD)

        device = VirtualSecurityKey(pin=PIN)
        key = Fido2Authenticator(
            device, pin=lambda: PIN, on_touch=lambda: print("  (touch the security key)")
        )

        async with AsyncCognito(**pool.cognito_kwargs()) as cognito:
            assert await cognito.sign_in("pat", PASSWORD) == Done()
            await cognito.register_passkey(key)
            for passkey in await cognito.list_webauthn_credentials():
                print(
                    "registered a passkey:",
                    passkey.authenticator_attachment,
                    "via",
                    ", ".join(passkey.transports),
                    "for",
                    passkey.relying_party_id,
                )

        async with AsyncCognito(**pool.cognito_kwargs()) as cognito:
            await sign_in_with_the_key(cognito, key)
            await cognito.verify_tokens()
            print("signed in with the security key as", cognito.access_claims["username"])  # type: ignore[index]

        device.tamper = True  # the key now signs wrongly: Cognito must refuse it
        async with AsyncCognito(**pool.cognito_kwargs()) as cognito:
            try:
                await sign_in_with_the_key(cognito, key)
            except NotAuthorizedError:
                print("a tampered signature is refused (NotAuthorizedError)")
            else:
                raise SystemExit("a tampered signature was accepted")
            assert cognito.access_token is None
    finally:
        await anyio.to_thread.run_sync(local.stop)


if __name__ == "__main__":
    anyio.run(main, backend="trio" if "--trio" in sys.argv else "asyncio")
