"""The user's own account: sign-up and confirmation, forgotten and changed passwords."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .app import add_command
from .errors import UsageError

if TYPE_CHECKING:
    from .context import Context

__all__ = ["register"]


def _attributes(pairs: list[str] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(
                f"--attribute {pair!r}: write it as NAME=VALUE, e.g. email=ada@example.com"
            )
        result[name] = value
    return result


def register(sub: Any, parents: dict[str, Any]) -> None:
    both = [parents["output"], parents["pool"]]
    stdin_help = "read passwords and codes from stdin, one line each"

    sign_up = add_command(
        sub,
        "sign-up",
        "register a new user (SignUp); Cognito sends a confirmation code",
        run_sign_up,
        parents=both,
    )
    sign_up.add_argument(
        "username", help="the new user's name (or email, if the pool signs in by email)"
    )
    sign_up.add_argument(
        "--attribute",
        "-a",
        action="append",
        metavar="NAME=VALUE",
        help="a user attribute, e.g. email=ada@example.com (repeatable)",
    )
    sign_up.add_argument("--password-stdin", action="store_true", help=stdin_help)

    confirm = add_command(
        sub,
        "confirm-sign-up",
        "confirm a sign-up with the code Cognito sent",
        run_confirm,
        parents=both,
    )
    confirm.add_argument("username", help="the user")
    confirm.add_argument("code", nargs="?", help="the confirmation code (asked for when omitted)")
    confirm.add_argument("--password-stdin", action="store_true", help=stdin_help)

    resend = add_command(
        sub, "resend-code", "send the sign-up confirmation code again", run_resend, parents=both
    )
    resend.add_argument("username", help="the user")

    forgot = add_command(
        sub,
        "forgot-password",
        "send the user a code to reset the password",
        run_forgot,
        parents=both,
    )
    forgot.add_argument("username", help="the user")

    confirm_forgot = add_command(
        sub,
        "confirm-forgot-password",
        "set a new password with the code from forgot-password",
        run_confirm_forgot,
        parents=both,
    )
    confirm_forgot.add_argument("username", help="the user")
    confirm_forgot.add_argument("code", nargs="?", help="the code (asked for when omitted)")
    confirm_forgot.add_argument("--password-stdin", action="store_true", help=stdin_help)

    change = add_command(
        sub,
        "change-password",
        "change the signed-in user's password (asks the old and the new one)",
        run_change,
        parents=[parents["output"]],
    )
    change.add_argument("--username", "-u", help="whose sign-in (default: the last one)")
    change.add_argument("--password-stdin", action="store_true", help=stdin_help)


def _delivery(ctx: Context, details: dict[str, Any], what: str) -> None:
    where = details.get("Destination") or "the user"
    medium = str(details.get("DeliveryMedium") or "").lower() or "a message"
    ctx.out.say(f"{what} sent by {medium} to {where}.")


async def run_sign_up(ctx: Context) -> None:
    profile = ctx.profile()
    username = ctx.args.username
    attributes = _attributes(ctx.args.attribute)
    password = await ctx.ask(f"password for {username}: ", secret=True, what="password")
    async with ctx.cognito(profile) as cognito:
        cognito.set_base_attributes(**attributes)
        result = await cognito.register(username, password)
    record = {
        "username": username,
        "confirmed": bool(result.get("UserConfirmed")),
        "sub": result.get("UserSub"),
    }
    ctx.out.record(record)
    if result.get("CodeDeliveryDetails"):
        _delivery(ctx, result["CodeDeliveryDetails"], "A confirmation code was")
    if not record["confirmed"]:
        ctx.out.say(f"Next: acognito confirm-sign-up {username} <code>")


async def run_confirm(ctx: Context) -> None:
    profile = ctx.profile()
    code = ctx.args.code or await ctx.ask("confirmation code: ", what="confirmation code")
    async with ctx.cognito(profile, ctx.args.username) as cognito:
        await cognito.confirm_sign_up(code)
    ctx.out.say(
        f"Confirmed {ctx.args.username}. Next: acognito login --username {ctx.args.username}"
    )


async def run_resend(ctx: Context) -> None:
    profile = ctx.profile()
    async with ctx.cognito(profile, ctx.args.username) as cognito:
        details = await cognito.resend_confirmation_code()
    _delivery(ctx, details, "A new confirmation code was")
    ctx.out.record({"username": ctx.args.username, "delivery": details})


async def run_forgot(ctx: Context) -> None:
    profile = ctx.profile()
    async with ctx.cognito(profile, ctx.args.username) as cognito:
        details = await cognito.initiate_forgot_password()
    _delivery(ctx, details, "A reset code was")
    ctx.out.say(f"Next: acognito confirm-forgot-password {ctx.args.username} <code>")
    if ctx.out.json_mode:
        ctx.out.json({"username": ctx.args.username, "delivery": details})


async def run_confirm_forgot(ctx: Context) -> None:
    profile = ctx.profile()
    code = ctx.args.code or await ctx.ask("reset code: ", what="reset code")
    password = await ctx.ask_new_password()
    async with ctx.cognito(profile, ctx.args.username) as cognito:
        await cognito.confirm_forgot_password(code, password)
    ctx.out.say(
        f"Password reset for {ctx.args.username}. "
        f"Next: acognito login --username {ctx.args.username}"
    )


async def run_change(ctx: Context) -> None:
    login = await ctx.cached()
    old = await ctx.ask("current password: ", secret=True, what="current password")
    new = await ctx.ask_new_password()
    async with ctx.cognito(
        login.as_profile(),
        login.username,
        access_token=login.access_token,
        refresh_token=login.refresh_token,
        id_token=login.id_token,
    ) as cognito:
        await cognito.change_password(old, new)
        if cognito.access_token and cognito.access_token != login.access_token:
            await ctx.cache.save(_with_tokens(login, cognito))
    ctx.out.say(f"Password changed for {login.username}.")


def _with_tokens(login: Any, cognito: Any) -> Any:
    """The cached sign-in with the tokens a refresh on the way left in the session."""
    from dataclasses import replace

    return replace(
        login,
        access_token=cognito.access_token,
        id_token=cognito.id_token or login.id_token,
        refresh_token=cognito.refresh_token or login.refresh_token,
    )
