"""``local``: serve the local Cognito in the foreground with a pool, an app client and a
user ready to sign in, for this CLI, boto3 or another language's client."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from .app import add_command
from .errors import UsageError

if TYPE_CHECKING:
    from .context import Context

__all__ = ["LOCAL_PASSWORD", "LOCAL_USER", "PASSWORD_ENV", "register"]

LOCAL_USER = "demo"
LOCAL_PASSWORD = "Local-Passw0rd!"  # noqa: S105 - a throw-away local user
#: The environment variable ``acognito local`` reads the user's password from.
PASSWORD_ENV = "ACOGNITO_LOCAL_PASSWORD"  # noqa: S105 - a variable's name
#: The name of the pool ``acognito local`` makes (and finds again with ``--state``).
LOCAL_POOL = "acognito-local"


def register(sub: Any, parents: dict[str, Any]) -> None:
    local = add_command(
        sub,
        "local",
        "run the local Cognito with a pool, an app client and a user, until Ctrl-C",
        run_local,
        parents=[parents["output"]],
        description=(
            "Start the local Cognito (moto's user pools with acognito's extensions: real SRP\n"
            "checks, devices, rotation, a code inbox; needs the 'local' extra) on 127.0.0.1,\n"
            "create a pool, a public app client and a confirmed user, print them as JSON on\n"
            "stdout, and serve until Ctrl-C or SIGTERM (the server process stops with it).\n"
            "With --profile NAME the pool is saved as that profile (acognito login --profile\n"
            "NAME signs in). 'acognito local inbox' shows the codes it sends."
        ),
    )
    local.add_argument("--port", type=int, default=None, help="port to serve on (default: free)")
    local.add_argument("--username", default=LOCAL_USER, help=f"default: {LOCAL_USER}")
    secret = local.add_mutually_exclusive_group()
    secret.add_argument(
        "--password-stdin",
        action="store_true",
        help=f"read the user's password from stdin (else ${PASSWORD_ENV}, else a fixed one)",
    )
    secret.add_argument(
        "--password-file", metavar="PATH", help="read the user's password from this file"
    )
    # Never on the command line: every user of the machine can read it there (ps).
    secret.add_argument("--password", help=argparse.SUPPRESS)
    local.add_argument(
        "--state",
        metavar="DIR",
        default=None,
        help="keep pools, clients, users, devices and passkeys in DIR across restarts",
    )
    local.add_argument(
        "--triggers",
        metavar="MODULE:ATTR",
        default=None,
        help="the pools' Lambda triggers: an acognito.testing.LambdaTriggers (5 s timeout)",
    )
    from .inbox import register_inbox

    register_inbox(local, parents)


def _password(args: Any) -> str:
    """The demo user's password: stdin, a file, the environment or the fixed default."""
    if args.password is not None:
        raise UsageError(
            "--password would show the password to every user of this machine (ps): "
            f"use --password-stdin, --password-file PATH or ${PASSWORD_ENV}"
        )
    if args.password_stdin:
        given = sys.stdin.readline().rstrip("\r\n")
    elif args.password_file is not None:
        try:
            with open(args.password_file, encoding="utf-8") as f:
                given = f.readline().rstrip("\r\n")
        except OSError as exc:
            raise UsageError(f"cannot read --password-file: {exc.strerror}") from None
    else:
        given = os.environ.get(PASSWORD_ENV, LOCAL_PASSWORD)
    if not given:
        raise UsageError("the password is empty")
    return given


async def _set_up(local: Any, username: str, password: str) -> dict[str, str]:
    """The demo pool, its public client and the user: made now, or (``--state``) the
    ones a run before made, kept with the password given this time."""
    from acognito.testing import CognitoAdmin

    async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
        pool_id, client_id = await _kept(admin)
        if pool_id is None:
            pool = await admin.create_local_pool(name=LOCAL_POOL)
            pool_id, client_id = pool.user_pool_id, pool.public_client.client_id
        known = await admin.idp.call(
            "list_users", UserPoolId=pool_id, Filter=f'username = "{username}"'
        )
        if known["Users"]:
            await admin.idp.call(
                "admin_set_user_password",
                UserPoolId=pool_id,
                Username=username,
                Password=password,
                Permanent=True,
            )
        else:
            await admin.create_user(
                pool_id,
                username,
                password,
                attributes={"email": f"{username}@example.com", "email_verified": "true"},
            )
    return {
        "endpoint_url": local.endpoint_url,
        "region": local.region,
        "user_pool_id": pool_id,
        "client_id": client_id,
        "username": username,
        # The fixed throw-away one only: a password you chose stays off the output.
        **({"password": password} if password == LOCAL_PASSWORD else {}),
        "jwks_uri": f"{local.endpoint_url}/{pool_id}/.well-known/jwks.json",
        # The deprecated spelling, for scripts that read it (removed in the next release).
        "jwks_url": f"{local.endpoint_url}/{pool_id}/.well-known/jwks.json",
        "oauth_domain_url": local.oauth_domain_url(),
    }


async def _kept(admin: Any) -> tuple[str | None, str]:
    """The demo pool and public client a run before kept (``--state``), if any."""
    pools = await admin.idp.call("list_user_pools", MaxResults=60)
    for pool in pools["UserPools"]:
        if pool["Name"] != LOCAL_POOL:
            continue
        clients = await admin.idp.call(
            "list_user_pool_clients", UserPoolId=pool["Id"], MaxResults=60
        )
        for client in clients["UserPoolClients"]:
            described = await admin.idp.call(
                "describe_user_pool_client", UserPoolId=pool["Id"], ClientId=client["ClientId"]
            )
            if not described["UserPoolClient"].get("ClientSecret"):
                return pool["Id"], client["ClientId"]
    return None, ""


async def run_local(ctx: Context) -> None:
    from acognito.testing import LocalCognito

    args = ctx.args
    password = await anyio.to_thread.run_sync(_password, args)
    local = LocalCognito(port=args.port, state_dir=args.state, triggers=args.triggers)
    started = False
    # SIGTERM is watched before the server starts, so a stop never leaves it behind;
    # Ctrl-C cancels the command (exit 130) and the same clean-up runs.
    with anyio.open_signal_receiver(signal.SIGTERM) as signals:
        try:
            async with ctx.out.progress("starting the local Cognito"):
                await anyio.to_thread.run_sync(local.start)
            started = True
            info = await _set_up(local, args.username, password)
            ctx.out.json(info)
            await _next_steps(ctx, info)
            ctx.out.say("Serving; Ctrl-C stops it.")
            async for _ in signals:
                break
        finally:
            if started:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(local.stop)
                ctx.out.say("Stopped the local Cognito.")


async def _next_steps(ctx: Context, info: dict[str, str]) -> None:
    """Save the pool as ``--profile`` (if given) and say how to use it."""
    from .config import Profile

    name = ctx.named_profile
    if name is not None:
        profile = Profile(
            name=name,
            pool_id=info["user_pool_id"],
            client_id=info["client_id"],
            region=info["region"],
            endpoint_url=info["endpoint_url"],
            domain=info["oauth_domain_url"],
            username=info["username"],
        )
        await ctx.record_profile(profile, explicit=True)
        ctx.out.say(f"Saved this pool as profile {name!r}. Try:")
        ctx.out.say(f"  acognito login --profile {name}   (the password is in the JSON above)")
        ctx.out.say(f"  acognito status ; acognito local inbox --profile {name}")
    else:
        ctx.out.say(
            f"Try: acognito login --profile local --endpoint-url {info['endpoint_url']} "
            f"--pool-id {info['user_pool_id']} --client-id {info['client_id']} "
            f"--username {info['username']}"
        )
        ctx.out.say("(or start it with: acognito local --profile local, which saves the profile)")
    ctx.out.say(
        "Scripts and boto3: export "
        f"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER={info['endpoint_url']} "
        f"COGNITO_ENDPOINT_URL={info['endpoint_url']} "
        f"COGNITO_USER_POOL_ID={info['user_pool_id']} COGNITO_CLIENT_ID={info['client_id']} "
        f"COGNITO_USERNAME={info['username']}"
    )
