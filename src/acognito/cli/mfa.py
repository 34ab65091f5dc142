"""``mfa``: set up an authenticator app (TOTP, with a terminal QR code) or turn MFA off."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .app import add_branch, add_command, add_group
from .errors import CliError

if TYPE_CHECKING:
    from .context import Context

__all__ = ["otpauth_uri", "register"]


def register(sub: Any, parents: dict[str, Any]) -> None:
    mfa = add_branch(
        sub,
        "mfa",
        "set up or turn off the signed-in user's second factor",
        "Set up an authenticator app (TOTP) for the signed-in user, or turn MFA off.",
    )
    actions = add_group(mfa, "action", "ACTION", "actions")
    setup = add_command(
        actions,
        "setup-totp",
        "register an authenticator app: shows a QR code, then asks for a code",
        run_setup,
        parents=[parents["output"]],
        description=(
            "Register an authenticator app for the signed-in user: shows a QR code (with the\n"
            "optional 'segno' package; otherwise the otpauth:// URI and the secret), asks for\n"
            "a code from the app, and makes TOTP the preferred second factor."
        ),
    )
    setup.add_argument("--username", "-u", help="whose sign-in (default: the last one)")
    setup.add_argument(
        "--issuer", default="acognito", help="the name the app shows (default: acognito)"
    )
    setup.add_argument("--device-name", default="", help="a name for the authenticator")
    setup.add_argument("--password-stdin", action="store_true", help="read the code from stdin")
    off = add_command(
        actions,
        "off",
        "turn SMS and TOTP MFA off for the signed-in user",
        run_off,
        parents=[parents["output"]],
    )
    off.add_argument("--username", "-u", help="whose sign-in (default: the last one)")


def otpauth_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI authenticator apps read from a QR code."""
    label = quote(f"{issuer}:{account}", safe=":@")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&algorithm=SHA1&digits=6&period=30"


def show_qr(ctx: Context, uri: str) -> bool:
    """Draw ``uri`` as a QR code on stderr; False when ``segno`` is not installed."""
    try:
        import segno
    except ImportError:
        return False
    if ctx.out.quiet:
        return True
    segno.make(uri, error="m").terminal(out=sys.stderr, compact=True)
    return True


async def run_setup(ctx: Context) -> None:
    login, cognito = await ctx.cached_cognito()
    async with cognito:
        secret = await cognito.associate_software_token()
        uri = otpauth_uri(secret, login.username, ctx.args.issuer)
        if show_qr(ctx, uri):
            ctx.out.say("Scan this QR code with your authenticator app.")
        else:
            ctx.out.say(
                "Add this to your authenticator app (pip install 'acognito[cli]' for a QR code):"
            )
            ctx.out.say(f"  {uri}")
        ctx.out.say(f"  secret: {secret}")
        code = await ctx.ask("code from the app: ", what="TOTP code")
        if not await cognito.verify_software_token(code, ctx.args.device_name):
            raise CliError(
                "Cognito did not accept the code; check the device clock and run it again"
            )
        await cognito.set_user_mfa_preference(False, True, "SOFTWARE_TOKEN")
    ctx.out.say(f"TOTP is set up and preferred for {login.username}; sign-ins now ask for a code.")


async def run_off(ctx: Context) -> None:
    login, cognito = await ctx.cached_cognito()
    async with cognito:
        await cognito.set_user_mfa_preference(False, False, None)
    ctx.out.say(f"MFA is off for {login.username}.")
