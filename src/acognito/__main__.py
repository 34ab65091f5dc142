"""``python -m acognito``: the demo against an embedded local Cognito, and small tools.

``demo``   starts moto server on 127.0.0.1 (no AWS account, no network) and walks a user
           through sign-up, confirmation, SRP sign-in, profile, refresh and sign-out.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import anyio.to_thread
import sniffio

from . import AsyncCognito
from .errors import CognitoError
from .tokens import peek_claims

DEMO_USER = "ada@example.com"
DEMO_PASSWORD = "Demo-Passw0rd!-not-secret"  # noqa: S105 - a throw-away local user


class _Printer:
    def __init__(self, out: Callable[[str], None]) -> None:
        self.out = out
        self.n = 0
        self.t0 = time.perf_counter()

    def step(self, text: str) -> None:
        self.n += 1
        ms = (time.perf_counter() - self.t0) * 1000
        self.out(f"[{self.n:2d}] {text}  ({ms:.0f} ms)")

    def detail(self, text: str) -> None:
        self.out(f"       {text}")


def _short(claims: dict[str, Any], *names: str) -> str:
    return ", ".join(f"{n}={claims[n]}" for n in names if n in claims)


async def run_demo(out: Callable[[str], None] = print) -> None:
    """The walk-through; every step is a real call to the local Cognito."""
    from .testing import CognitoAdmin, LocalCognito

    p = _Printer(out)
    backend = sniffio.current_async_library()
    p.step(f"starting the embedded local Cognito (moto server on 127.0.0.1) under {backend}")
    local = LocalCognito()
    await anyio.to_thread.run_sync(local.start)
    try:
        p.detail(f"endpoint {local.endpoint_url}")
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            pool = await admin.create_local_pool(username_attributes=["email"])
        p.step(f"created user pool {pool.user_pool_id} with a confidential app client")

        async with AsyncCognito(**pool.cognito_kwargs(secret=True)) as cognito:
            cognito.set_base_attributes(email=DEMO_USER, given_name="Ada")
            result = await cognito.register(DEMO_USER, DEMO_PASSWORD)
            p.step(f"register({DEMO_USER!r}) -> confirmed={result['UserConfirmed']}")
            p.detail(f"user sub {result['UserSub']}")

            await cognito.confirm_sign_up("123456")
            p.step("confirm_sign_up(code) -> ok (the emulator accepts any sign-up code)")

            await cognito.authenticate(DEMO_PASSWORD)
            claims = peek_claims(cognito.access_token or "")
            p.step("authenticate(password) with SRP -> tokens issued")
            p.detail(_short(claims, "username", "client_id", "token_use"))
            p.detail(f"access token expires {cognito.expires_datetime:%Y-%m-%d %H:%M:%S %Z}")

            user = await cognito.get_user()
            p.step(f"get_user() -> given_name={user.given_name!r}, email={user.email!r}")

            await cognito.update_profile({"given_name": "Augusta Ada"})
            user = await cognito.get_user()
            p.step(f"update_profile(given_name) -> given_name={user.given_name!r}")

            before = cognito.tokens
            await cognito.renew_access_token()
            p.step(
                "renew_access_token() with SECRET_HASH over the pool's user name -> "
                f"new tokens: {cognito.tokens is not before}"
            )

            await cognito.logout()
            p.step(f"logout() -> signed out everywhere; tokens kept: {cognito.tokens!r}")
    finally:
        await anyio.to_thread.run_sync(local.stop)
        p.step("stopped the local Cognito")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acognito", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="walk through sign-up to sign-out on a local Cognito")
    demo.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            anyio.run(run_demo, backend=args.backend)
    except CognitoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
