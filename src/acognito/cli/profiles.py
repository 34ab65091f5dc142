"""``configure`` and ``profile``: named pool settings in the config file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .app import add_branch, add_command, add_group
from .errors import UsageError

if TYPE_CHECKING:
    from .config import Profile
    from .context import Context

__all__ = ["register"]


def register(sub: Any, parents: dict[str, Any]) -> None:
    both = [parents["output"], parents["pool"]]
    configure = add_command(
        sub,
        "configure",
        "create or update a profile (pool, client, region, secret source, domain)",
        run_configure,
        parents=both,
        description=(
            "Save pool settings as a profile in the config file ($ACOGNITO_CONFIG_DIR, else\n"
            "$XDG_CONFIG_HOME/acognito, else ~/.config/acognito). Options not given keep their\n"
            "saved value. At a terminal, the pool id, client id, region and endpoint are\n"
            "asked for (Enter keeps the value shown). The client secret is never stored:\n"
            "only the environment variable or keyring entry to read. Pointing a profile at\n"
            "another pool forgets its cached sign-ins of the old one."
        ),
    )
    configure.add_argument("--username", "-u", help="the user to sign in by default")
    configure.add_argument("--scopes", help="hosted-UI scopes (default: 'openid email profile')")
    configure.add_argument(
        "--refresh-rotation",
        choices=["on", "off"],
        help="whether the app client rotates refresh tokens",
    )
    configure.add_argument(
        "--callback-port",
        type=_port,
        metavar="PORT",
        help="hosted UI: the loopback port of the registered callback URL "
        "http://localhost:PORT/callback",
    )
    configure.add_argument("--use", action="store_true", help="also make this the default profile")

    profile = add_branch(
        sub,
        "profile",
        "list, show, choose or delete profiles",
        "List, show, choose (the default) or delete profiles.",
    )
    actions = add_group(profile, "action", "ACTION", "actions")
    add_command(
        actions,
        "list",
        "list the profiles (the default one marked *) and who is signed in",
        run_list,
        parents=[parents["output"]],
    )
    show = add_command(
        actions, "show", "show one profile's settings", run_show, parents=[parents["output"]]
    )
    show.add_argument("name", nargs="?", help="the profile (default: the current one)")
    use = add_command(
        actions, "use", "make a profile the default", run_use, parents=[parents["output"]]
    )
    use.add_argument("name", help="the profile")
    delete = add_command(
        actions,
        "delete",
        "delete a profile and its cached tokens",
        run_delete,
        parents=[parents["output"]],
    )
    delete.add_argument("name", help="the profile")


def _show(ctx: Context, profile: Profile) -> None:
    data = {"name": profile.name, **profile.settings()}
    ctx.out.record(data)


def _port(text: str) -> str:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return text


#: What interactive configure asks, in order: (field, question, may stay empty).
_QUESTIONS = (
    ("pool_id", "user pool id", False),
    ("client_id", "app client id", False),
    ("region", "region (Enter: from the pool id)", True),
    ("endpoint_url", "endpoint URL (Enter: AWS; a local Cognito's URL otherwise)", True),
)


async def run_configure(ctx: Context) -> None:
    args = ctx.args
    name = ctx.profile_name()
    current = ctx.store.get(name)
    from .config import Profile

    base = current or Profile(name=name)
    overrides = ctx.pool_options()
    overrides["username"] = args.username
    overrides["refresh_rotation"] = args.refresh_rotation
    overrides["callback_port"] = args.callback_port
    profile = base.merged(overrides)
    if profile.client_secret_env and profile.client_secret_keyring:
        raise UsageError(
            "the client secret has two sources",
            hint="give one: --client-secret-env or --client-secret-keyring",
        )
    if ctx.interactive:
        for field, question, optional in _QUESTIONS:
            if overrides.get(field) is not None:
                continue  # given on the command line
            shown = getattr(profile, field)
            prompt = f"{question} [{shown}]: " if shown else f"{question}: "
            answer = await ctx.ask_optional(prompt)
            if answer:
                profile = profile.merged({field: answer})
            elif not shown and not optional:
                raise UsageError(f"{question} may not be empty", hint="run configure again")
    profile.need("pool_id", "--pool-id")
    profile.need("client_id", "--client-id")
    _check(profile)
    if current is not None and _moved(current, profile):
        await ctx.forget_sign_ins(name, f"they belong to {current.pool_id}")
    ctx.store.save(profile)
    if args.use:
        ctx.store.use(name)
    ctx.out.say(f"Saved profile {name!r} in {ctx.store.path}.")
    _show(ctx, profile)


def _moved(old: Profile, new: Profile) -> bool:
    from .context import POOL_IDENTITY

    return any(getattr(old, key) != getattr(new, key) for key in POOL_IDENTITY)


def _check(profile: Profile) -> None:
    """Refuse settings the library would refuse later, with the option to fix."""
    from acognito import AsyncCognito
    from acognito.errors import ConfigurationError

    try:
        AsyncCognito(
            profile.pool_id or "",
            profile.client_id or "",
            user_pool_region=profile.region,
            endpoint_url=profile.endpoint_url,
        )
    except ConfigurationError as exc:
        raise UsageError(str(exc), hint="fix it with --pool-id / --client-id") from None
    if profile.domain:
        from acognito.oauth import OAuth2Client

        try:
            OAuth2Client(profile.domain, profile.client_id or "")
        except ConfigurationError as exc:
            raise UsageError(f"--domain: {exc}", hint="give the domain's https URL") from None


async def run_list(ctx: Context) -> None:
    default = ctx.store.default_name()
    rows: list[dict[str, Any]] = []
    for name in ctx.store.names():
        profile = ctx.store.get(name)
        assert profile is not None
        current = await ctx.cache.current_user(name)
        rows.append(
            {
                "default": name == default,
                "name": name,
                "pool_id": profile.pool_id,
                "client_id": profile.client_id,
                "signed_in": await ctx.cache.users(name),
                "current": current,
            }
        )
    if not rows:
        ctx.out.say("No profiles yet: acognito configure --pool-id <id> --client-id <id>")
    if ctx.out.json_mode:
        ctx.out.json(rows)
        return
    shown = [
        {
            **row,
            "default": "*" if row["default"] else "",
            "signed_in": [u + ("*" if u == row["current"] else "") for u in row["signed_in"]],
        }
        for row in rows
    ]
    ctx.out.table(shown, ["default", "name", "pool_id", "client_id", "signed_in"])


async def run_show(ctx: Context) -> None:
    name = ctx.args.name or getattr(ctx.args, "profile", None) or ctx.store.default_name()
    profile = ctx.store.get(name)
    if profile is None:
        raise ctx.store.unknown(name)
    _show(ctx, profile)


async def run_use(ctx: Context) -> None:
    ctx.store.use(ctx.args.name)
    ctx.out.say(f"Profile {ctx.args.name!r} is now the default.")


async def run_delete(ctx: Context) -> None:
    name = ctx.args.name
    users = await ctx.cache.users(name)
    if not ctx.store.delete(name) and not users:
        raise ctx.store.unknown(name)
    for user in users:
        await ctx.cache.delete(name, user)
    ctx.out.say(
        f"Deleted profile {name!r}" + (f" and {len(users)} cached sign-in(s)." if users else ".")
    )
