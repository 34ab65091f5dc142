"""Tokens out of the cache and into other tools: ``token``, ``decode`` and ``verify``."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from acognito.tokens import peek_claims

from ..tokens import decode_segment, split_jwt
from ._fast import expiry, jwt_exp, token_record
from .app import add_command
from .cache import expires_within
from .errors import CliError, UsageError
from .output import human_expiry

if TYPE_CHECKING:
    from .context import Context

__all__ = ["register"]


def register(sub: Any, parents: dict[str, Any]) -> None:
    token = add_command(
        sub,
        "token",
        "print a valid access (or id) token, refreshing it when needed",
        run_token,
        parents=[parents["output"]],
        description=(
            "Print the cached access token (or --id: the id token) on stdout, refreshing it\n"
            "first without any prompt when it expires within --min-valid seconds. For curl:\n"
            '  curl -H "Authorization: Bearer $(acognito token)" https://api.example.com/'
        ),
    )
    token.add_argument("--id", action="store_true", help="the id token instead of the access token")
    token.add_argument("--username", "-u", help="whose sign-in (default: the last one)")
    token.add_argument(
        "--min-valid",
        type=int,
        default=60,
        metavar="SECONDS",
        help="refresh if it expires sooner than this (default: 60)",
    )

    decode = add_command(
        sub,
        "decode",
        "show the claims of any JWT, UNVERIFIED (works on expired and foreign tokens)",
        run_decode,
        parents=[parents["output"]],
        description=(
            "Show a JWT's header and claims and when it expires, WITHOUT checking its\n"
            "signature: for looking, never for trusting. Reads the token from stdin with '-',\n"
            "and shows the cached access token when none is given."
        ),
    )
    decode.add_argument(
        "token",
        nargs="?",
        help="the JWT, or - to read it from stdin (default: the cached access token)",
    )

    verify = add_command(
        sub,
        "verify",
        "verify a token against the pool's keys and print its claims",
        run_verify,
        parents=[parents["output"], parents["pool"]],
        description=(
            "Verify a JWT (signature, expiry, issuer, token use and app client) against the\n"
            "pool's JWKS and print its claims as JSON. Exit code 1 when it is not valid."
        ),
    )
    verify.add_argument("token", help="the JWT, or - to read it from stdin")
    verify.add_argument(
        "--token-use",
        choices=["id", "access"],
        default=None,
        help="require an id or an access token",
    )
    verify.add_argument(
        "--jwks-uri",
        "--jwks-url",
        dest="jwks_uri",
        default=None,
        help="where the keys are (default: from the pool id or --endpoint-url; "
        "--jwks-url is the deprecated spelling)",
    )
    verify.add_argument(
        "--jwks-file", default=None, help="a JWKS JSON file to use instead of fetching the keys"
    )
    verify.add_argument(
        "--issuer", default=None, help="the expected iss claim (default: from the pool id)"
    )
    verify.add_argument("--any-client", action="store_true", help="skip the app client check")


async def run_token(ctx: Context) -> None:
    login = await ctx.cached()
    token = login.id_token if ctx.args.id else login.access_token
    if expires_within(token, ctx.args.min_valid):
        from acognito.errors import NotAuthorizedError

        from .keep import refresh_login

        try:
            async with ctx.out.progress("refreshing the token"):
                login, _ = await refresh_login(ctx, login)
        except NotAuthorizedError as exc:
            raise CliError(
                f"the sign-in of {login.username} has expired or was revoked ({exc.message})",
                hint=f"sign in again: acognito login --profile {login.profile} "
                f"--username {login.username}",
            ) from None
        token = login.id_token if ctx.args.id else login.access_token
    if not token:
        raise CliError(
            "this sign-in has no id token (the openid scope was not granted)",
            hint="use the access token, or sign in with the openid scope",
        )
    if ctx.out.json_mode:
        ctx.out.json(token_record(token, login.username, login.profile, time.time()))
    else:
        ctx.out.data(token)


def _read_token(arg: str) -> str:
    if arg == "-":
        return sys.stdin.readline().strip()
    return arg.strip()


def _header(token: str) -> dict[str, Any]:
    return decode_segment(split_jwt(token)[0], "header")


async def run_decode(ctx: Context) -> None:
    if ctx.args.token:
        token = await anyio.to_thread.run_sync(_read_token, ctx.args.token)
    else:
        token = (await ctx.cached()).access_token
    claims = peek_claims(token)
    header = _header(token)
    if ctx.out.json_mode:
        when = expiry(jwt_exp(token), time.time())
        ctx.out.json({"verified": False, "header": header, "claims": claims, **when})
        return
    ctx.out.say(
        "UNVERIFIED: the signature was not checked; use 'acognito verify' before trusting it."
    )
    ctx.out.data(f"header: {json.dumps(header, sort_keys=True)}")
    ctx.out.data(f"claims: {json.dumps(claims, indent=2, sort_keys=True)}")
    ctx.out.data(f"expiry: {human_expiry(claims.get('exp'))}")


def _load_jwks(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            value = json.load(fh)
    except FileNotFoundError:
        raise UsageError(
            f"--jwks-file {path}: no such file", hint="give the path of a JWKS JSON file"
        ) from None
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"--jwks-file {path}: not a readable JSON file ({exc})",
            hint="give the path of a JWKS JSON file",
        ) from None
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list):
        raise UsageError(
            f"--jwks-file {path}: not a JWKS",
            hint="a JWKS is a JSON object with a 'keys' list",
        )
    return value


async def run_verify(ctx: Context) -> None:
    from acognito import CognitoVerifier

    args = ctx.args
    token = await anyio.to_thread.run_sync(_read_token, args.token)
    if not token:
        raise UsageError(
            "no token given (stdin was empty)", hint='acognito verify "$(acognito token)"'
        )
    profile = ctx.profile()
    pool_id = profile.need("pool_id", "--pool-id")
    jwks = await anyio.to_thread.run_sync(_load_jwks, args.jwks_file) if args.jwks_file else None
    jwks_uri = args.jwks_uri
    if jwks_uri is None and profile.endpoint_url:
        jwks_uri = f"{profile.endpoint_url.rstrip('/')}/{pool_id}/.well-known/jwks.json"
    issuer = args.issuer
    if issuer is None and profile.region:
        issuer = f"https://cognito-idp.{profile.region}.amazonaws.com/{pool_id}"
    verifier = CognitoVerifier(
        pool_id,
        client_id=None if args.any_client else profile.client_id,
        token_use=args.token_use,
        jwks=jwks,
        jwks_uri=jwks_uri,
        issuer=issuer,
    )
    async with verifier:
        claims = await verifier.verify(token)
    ctx.out.json(claims)
    ctx.out.say(f"valid {claims.get('token_use', '')} token; {human_expiry(claims.get('exp'))}")
