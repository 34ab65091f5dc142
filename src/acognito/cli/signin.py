"""Signing in and out: ``login`` (every challenge answered at the terminal), ``logout``,
``refresh`` and ``whoami``; and the refresh that ``token`` relies on."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from acognito.steps import (
    ConfirmSignInWithEmailCode,
    ConfirmSignInWithNewPassword,
    ConfirmSignInWithPassword,
    ConfirmSignInWithSMSCode,
    ConfirmSignInWithTOTPCode,
    ConfirmSignInWithWebAuthn,
    ConfirmSignUp,
    ContinueSignInWithEmailSetup,
    ContinueSignInWithFirstFactorSelection,
    ContinueSignInWithMFASelection,
    ContinueSignInWithMFASetupSelection,
    ContinueSignInWithTOTPSetup,
    Done,
    ResetPassword,
    SignInStep,
)

from ._fast import expiry, iso_time, jwt_exp
from .app import add_command
from .cache import CachedLogin
from .errors import CliError, UsageError
from .keep import finish_login, oauth_client, refresh_login
from .output import human_expiry

if TYPE_CHECKING:
    from acognito import AsyncCognito
    from acognito.flows import SignInFlow

    from .context import Context

__all__ = ["register"]

AUTH_FLOWS = ("USER_SRP_AUTH", "USER_PASSWORD_AUTH", "USER_AUTH")
#: USER_AUTH's first factors; "choose" lets the user pick from what Cognito offers.
FIRST_FACTORS = ("PASSWORD_SRP", "PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN", "choose")


def register(sub: Any, parents: dict[str, Any]) -> None:
    both = [parents["output"], parents["pool"]]
    login = add_command(
        sub,
        "login",
        "sign in and keep the tokens for 'acognito token'",
        run_login,
        parents=both,
        description=(
            "Sign a user in (SRP by default: the password never leaves this machine), answer\n"
            "every step at the terminal (MFA codes, MFA choice, MFA set-up with a QR code for\n"
            "an authenticator app, a new password, email or SMS codes, a sign-up code, a\n"
            "passkey on a security key), and keep the tokens in the cache (files 0600).\n"
            "Passwordless: --passkey, or --first-factor EMAIL_OTP / SMS_OTP (USER_AUTH).\n"
            "With --hosted-ui the browser signs in on the pool's domain (PKCE, a loopback\n"
            "redirect to http://localhost:PORT/callback, which must be a callback URL of the\n"
            "app client: save the port with 'acognito configure --callback-port PORT').\n"
            "A sign-in with pool options saves them as the profile (--profile, else\n"
            "'default' when there is none)."
        ),
    )
    login.add_argument("--username", "-u", help="the user (default: the profile's, else asked)")
    login.add_argument(
        "--auth-flow",
        choices=AUTH_FLOWS,
        default=None,
        help="how the password is checked (default: USER_SRP_AUTH)",
    )
    login.add_argument(
        "--first-factor",
        choices=FIRST_FACTORS,
        help="USER_AUTH's first factor; EMAIL_OTP, SMS_OTP and WEB_AUTHN ask no password",
    )
    login.add_argument(
        "--passkey",
        action="store_true",
        help="sign in with a passkey on a security key (USER_AUTH, WEB_AUTHN)",
    )
    login.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password, any codes and a security key's PIN from stdin, one a line",
    )
    login.add_argument(
        "--hosted-ui",
        action="store_true",
        help="sign in in the browser on the pool's domain (needs --domain)",
    )
    login.add_argument(
        "--scopes", help="hosted UI: scopes to ask for (default: 'openid email profile')"
    )
    login.add_argument(
        "--no-browser",
        action="store_true",
        help="hosted UI: print the URL instead of opening a browser",
    )
    login.add_argument(
        "--port",
        type=int,
        default=None,
        help="hosted UI: loopback port of the registered callback http://localhost:PORT/callback "
        "(default: the profile's --callback-port, else a free one)",
    )
    login.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="hosted UI: seconds to wait for the browser (default: 300)",
    )

    logout = add_command(
        sub,
        "logout",
        "revoke the cached sign-in and forget its tokens",
        run_logout,
        parents=both,
        description=(
            "Revoke the refresh token (RevokeToken, or /oauth2/revoke after a hosted-UI\n"
            "sign-in) and delete the cached tokens. With --global, sign the user out on\n"
            "every device (GlobalSignOut)."
        ),
    )
    logout.add_argument("--username", "-u", help="whose sign-in (default: the last one)")
    logout.add_argument(
        "--global",
        dest="everywhere",
        action="store_true",
        help="sign out everywhere (GlobalSignOut)",
    )

    refresh = add_command(
        sub,
        "refresh",
        "get fresh tokens now with the cached refresh token",
        run_refresh,
        parents=[parents["output"]],
    )
    refresh.add_argument("--username", "-u", help="whose sign-in (default: the last one)")

    whoami = add_command(
        sub,
        "whoami",
        "show who is signed in (verified claims, and the user's attributes)",
        run_whoami,
        parents=[parents["output"]],
        description=(
            "Verify the cached tokens (refreshing them if needed) and show who they belong to."
        ),
    )
    whoami.add_argument("--username", "-u", help="whose sign-in (default: the last one)")


# ------------------------------------------------------------------------- login


_MFA_NAMES = {"TOTP": "authenticator app", "SMS": "SMS", "EMAIL": "email"}
_FACTOR_NAMES = {
    "PASSWORD_SRP": "password (SRP)",
    "PASSWORD": "password",
    "EMAIL_OTP": "a code by email",
    "SMS_OTP": "a code by SMS",
    "WEB_AUTHN": "a passkey (security key)",
}
_PASSWORDLESS = ("EMAIL_OTP", "SMS_OTP", "WEB_AUTHN", "choose")
_TOTP_ISSUER = "acognito"


async def answer_steps(ctx: Context, cognito: AsyncCognito, step: SignInStep) -> None:
    """Answer the typed sign-in steps at the terminal until Cognito issues tokens."""
    for _ in range(12):
        options: dict[str, Any] = {}
        answer: Any
        match step:
            case Done():
                return
            case ConfirmSignInWithTOTPCode():
                answer = await ctx.ask("code from your authenticator app: ", what="TOTP code")
            case ConfirmSignInWithSMSCode(code_delivery=where):
                shown = where.destination if where and where.destination else "your phone"
                answer = await ctx.ask(f"code sent by SMS to {shown}: ", what="SMS code")
            case ConfirmSignInWithEmailCode(code_delivery=where):
                shown = where.destination if where and where.destination else "your email"
                answer = await ctx.ask(f"code sent to {shown}: ", what="email code")
            case ContinueSignInWithMFASelection(allowed=allowed):
                answer = await _choose(ctx, "which second factor", allowed, _MFA_NAMES)
            case ContinueSignInWithMFASetupSelection(allowed=allowed):
                ctx.out.say("This pool wants a second factor set up before signing in.")
                answer = await _choose(ctx, "which second factor to set up", allowed, _MFA_NAMES)
            case ContinueSignInWithTOTPSetup():
                answer = await _totp_setup(ctx, step)
                options["device_name"] = "acognito"
            case ContinueSignInWithEmailSetup():
                answer = await ctx.ask("email address for sign-in codes: ", what="email address")
            case ConfirmSignInWithNewPassword(required_attributes=required):
                ctx.out.say("This user must choose a new password before signing in.")
                answer = await ctx.ask_new_password()
                attributes = {}
                for name in required:
                    attributes[name] = await ctx.ask(f"{name}: ", what=name)
                options["attributes"] = attributes
            case ConfirmSignInWithPassword():
                answer = await ctx.ask("password: ", secret=True, what="password")
            case ContinueSignInWithFirstFactorSelection(available=available):
                answer = await _choose(ctx, "sign in with", available, _FACTOR_NAMES)
            case ConfirmSignInWithWebAuthn():
                from .passkey import use_security_key

                answer = await use_security_key(ctx, "get", step.options)
            case ConfirmSignUp(code_delivery=where):
                shown = where.destination if where and where.destination else "you"
                ctx.out.say("This user has not confirmed the sign-up yet.")
                answer = await ctx.ask(f"sign-up code sent to {shown}: ", what="sign-up code")
            case ResetPassword():
                raise CliError(
                    "Cognito wants this user's password reset",
                    hint=f"acognito forgot-password {ctx.facts.user}, "
                    "then acognito confirm-forgot-password",
                )
            case _:
                raise CliError(
                    f"Cognito asked for {step.amplify_step or type(step).__name__}, which the "
                    "command line cannot answer",
                    hint="sign in with the app, or with acognito login --hosted-ui",
                )
        step = await cognito.confirm_sign_in(answer, **options)
    raise CliError("too many sign-in steps in a row", hint="try again")


async def _totp_setup(ctx: Context, step: ContinueSignInWithTOTPSetup) -> str:
    """Show the TOTP secret (a QR code when segno is installed) and ask the first code."""
    from .mfa import show_qr

    ctx.out.say("Set up an authenticator app for this user (the pool requires MFA).")
    if show_qr(ctx, step.uri):
        ctx.out.say("Scan this QR code with your authenticator app.")
    else:
        ctx.out.say(
            "Add this to your authenticator app (pip install 'acognito[cli]' for a QR code):"
        )
        ctx.out.say(f"  {step.uri}")
    ctx.out.say(f"  secret: {step.secret}")
    return await ctx.ask("code from the app: ", what="TOTP code")


async def _choose(
    ctx: Context, question: str, options: tuple[str, ...], names: dict[str, str]
) -> str:
    if not options:
        raise CliError("Cognito offered nothing to choose from", hint="try again")
    for number, option in enumerate(options, 1):
        ctx.out.say(f"  {number}. {names.get(option, option)}")
    answer = await ctx.ask(f"{question} [1-{len(options)}]: ", what="choice")
    if answer.isdigit() and 1 <= int(answer) <= len(options):
        return options[int(answer) - 1]
    if answer.upper() in options:
        return answer.upper()
    raise CliError(f"{answer!r} is not one of the choices", hint="run 'acognito login' again")


async def run_login(ctx: Context) -> None:
    if ctx.args.hosted_ui:
        from .hosted import hosted_login

        await hosted_login(ctx)
        return
    profile = ctx.profile()
    profile.need("pool_id", "--pool-id")
    profile.need("client_id", "--client-id")
    ctx.check_login_target(profile)
    flow, factor = _flow_and_factor(ctx)
    username = ctx.username(profile) or await ctx.ask("user name: ", what="user name")
    password = None
    if factor not in _PASSWORDLESS:
        password = await ctx.ask(f"password for {username}: ", secret=True, what="password")
    async with ctx.cognito(profile, username) as cognito:
        async with ctx.out.progress("signing in"):
            step = await cognito.sign_in(
                username,
                password,
                auth_flow=flow,
                preferred_first_factor=None if factor == "choose" else factor,
                totp_issuer=_TOTP_ISSUER,
            )
        await answer_steps(ctx, cognito, step)
        login = CachedLogin.from_profile(
            profile,
            username,
            "idp",
            access_token=cognito.access_token or "",
            id_token=cognito.id_token,
            refresh_token=cognito.refresh_token,
        )
        claims = {"id": cognito.id_claims, "access": cognito.access_claims}
    await finish_login(ctx, profile, login, claims)


def _flow_and_factor(ctx: Context) -> tuple[SignInFlow, str | None]:
    """The auth flow and USER_AUTH first factor that --auth-flow, --first-factor and
    --passkey ask for (the last two imply USER_AUTH)."""
    flow: SignInFlow = ctx.args.auth_flow or "USER_SRP_AUTH"
    factor = ctx.args.first_factor
    if ctx.args.passkey:
        if factor not in (None, "WEB_AUTHN"):
            raise UsageError("--passkey is --first-factor WEB_AUTHN", hint="give one or the other")
        factor = "WEB_AUTHN"
    if factor is not None:
        if ctx.args.auth_flow not in (None, "USER_AUTH"):
            raise UsageError(f"--first-factor and --passkey need USER_AUTH, not {flow}")
        return "USER_AUTH", factor
    if flow == "USER_AUTH":
        return flow, "PASSWORD_SRP"
    return flow, None


# ------------------------------------------------------------------------- refresh


async def run_refresh(ctx: Context) -> None:
    login = await ctx.cached()
    async with ctx.out.progress("refreshing"):
        new, rotated = await refresh_login(ctx, login)
    exp = jwt_exp(new.access_token)
    if ctx.out.json_mode:
        ctx.out.json(
            {
                "username": new.username,
                "profile": new.profile,
                **expiry(exp, time.time()),
                "refresh_token_rotated": rotated,
            }
        )
        return
    ctx.out.say(
        f"Refreshed {new.username} (profile {new.profile}); access token {human_expiry(exp)}."
    )
    ctx.out.say(
        "The refresh token was rotated."
        if rotated
        else "The refresh token is unchanged (no rotation on this client)."
    )


# ------------------------------------------------------------------------- logout


async def run_logout(ctx: Context) -> int:
    login = await ctx.cached()
    profile = login.as_profile().merged(
        {
            "client_secret_env": ctx.args.client_secret_env,
            "client_secret_keyring": ctx.args.client_secret_keyring,
        }
    )
    failure: str | None = None
    from acognito.errors import CognitoError

    try:
        async with ctx.out.progress("signing out"):
            await _sign_out(ctx, login, profile)
    except CognitoError as exc:
        from .hints import explain

        found = explain(exc, ctx.facts)
        failure = found.line() if found else type(exc).__name__
    await ctx.cache.delete(login.profile, login.username)
    if failure:
        ctx.out.warn(
            f"the server did not sign {login.username} out ({failure}); "
            "the cached tokens are deleted anyway"
        )
        return 1
    how = "everywhere (GlobalSignOut)" if ctx.args.everywhere else "(refresh token revoked)"
    ctx.out.say(f"Signed out {login.username} {how}; cached tokens deleted.")
    left = await ctx.cache.current(login.profile)
    if left is not None:
        ctx.out.say(f"Still signed in with profile {login.profile}: {left.username} (current).")
    return 0


async def _sign_out(ctx: Context, login: CachedLogin, profile: Any) -> None:
    if ctx.args.everywhere:
        async with ctx.cognito(
            profile,
            login.username,
            access_token=login.access_token,
            refresh_token=login.refresh_token,
            id_token=login.id_token,
        ) as cognito:
            if login.refresh_token and _expired(login.access_token):
                await cognito.renew_access_token()
            await cognito.logout()
        return
    if login.source == "oauth":
        async with oauth_client(profile) as client:
            await client.revoke(login.refresh_token or login.access_token)
        return
    async with ctx.cognito(
        profile, login.username, refresh_token=login.refresh_token, access_token=login.access_token
    ) as cognito:
        await cognito.revoke_token()


def _expired(token: str | None) -> bool:
    from .cache import expires_within

    return expires_within(token, 5)


# ------------------------------------------------------------------------- whoami


async def run_whoami(ctx: Context) -> None:
    login = await ctx.cached()
    if _expired(login.access_token):
        login, _ = await refresh_login(ctx, login)
    profile = login.as_profile()
    async with ctx.cognito(
        profile, login.username, id_token=login.id_token, access_token=login.access_token
    ) as cognito:
        access = await cognito.verify_token(login.access_token, "access_token", "access")
        ident = (
            await cognito.verify_token(login.id_token, "id_token", "id") if login.id_token else None
        )
        attributes: dict[str, Any] = {}
        if login.source == "idp":
            user = await cognito.get_user()
            attributes = dict(user.attributes)
    exp = access.get("exp")
    result = {
        "username": access.get("username", login.username),
        "sub": access.get("sub"),
        "profile": login.profile,
        "pool_id": login.pool_id,
        "client_id": login.client_id,
        "groups": access.get("cognito:groups", []),
        "scope": access.get("scope"),
        **expiry(float(exp) if isinstance(exp, (int, float)) else None, time.time()),
        "attributes": attributes
        or {
            k: v
            for k, v in (ident or {}).items()
            if k in ("email", "email_verified", "name", "given_name", "family_name", "phone_number")
        },
        "verified": True,
        "checked_at": iso_time(time.time()),
    }
    human = [
        (k, result[k])
        for k in ("username", "sub", "profile", "pool_id", "client_id", "groups", "scope")
    ]
    human += [("access_token", human_expiry(exp)), ("attributes", result["attributes"])]
    ctx.out.record(result, human)
