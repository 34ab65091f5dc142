"""``configure`` and ``profile``: named pool settings in the config file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .app import add_command
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
            "saved value; a missing pool or client id is asked for at a terminal. The client\n"
            "secret is never stored: only the environment variable or keyring entry to read."
        ),
    )
    configure.add_argument("--username", "-u", help="the user to sign in by default")
    configure.add_argument("--scopes", help="hosted-UI scopes (default: 'openid email profile')")
    configure.add_argument(
        "--refresh-rotation",
        choices=["on", "off"],
        help="whether the app client rotates refresh tokens",
    )
    configure.add_argument("--use", action="store_true", help="also make this the default profile")

    profile = sub.add_parser(
        "profile",
        help="list, show, choose or delete profiles",
        description="List, show, choose (the default) or delete profiles.",
    )
    actions = profile.add_subparsers(dest="action", metavar="ACTION", title="actions")
    actions.required = True
    add_command(
        actions,
        "list",
        "list the profiles (the default one marked *)",
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


async def run_configure(ctx: Context) -> None:
    args = ctx.args
    name = getattr(args, "profile", None) or ctx.store.default_name()
    current = ctx.store.get(name)
    from .config import Profile
    from .context import POOL_FIELDS

    base = current or Profile(name=name)
    overrides = {f: getattr(args, f, None) for f in POOL_FIELDS}
    overrides["username"] = args.username
    overrides["refresh_rotation"] = args.refresh_rotation
    profile = base.merged(overrides)
    if profile.client_secret_env and profile.client_secret_keyring:
        raise UsageError(
            "give the client secret one source: --client-secret-env or --client-secret-keyring"
        )
    if ctx.interactive:
        if not profile.pool_id:
            profile = profile.merged({"pool_id": await ctx.ask("user pool id: ", what="pool id")})
        if not profile.client_id:
            profile = profile.merged(
                {"client_id": await ctx.ask("app client id: ", what="client id")}
            )
    profile.need("pool_id", "--pool-id")
    profile.need("client_id", "--client-id")
    _check(profile)
    ctx.store.save(profile)
    if args.use:
        ctx.store.use(name)
    ctx.out.say(f"Saved profile {name!r} in {ctx.store.path}.")
    _show(ctx, profile)


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
        raise UsageError(f"{exc}; fix it with --pool-id / --client-id") from None
    if profile.domain:
        from acognito.oauth import OAuth2Client

        try:
            OAuth2Client(profile.domain, profile.client_id or "")
        except ConfigurationError as exc:
            raise UsageError(f"--domain: {exc}") from None


async def run_list(ctx: Context) -> None:
    default = ctx.store.default_name()
    rows = []
    for name in ctx.store.names():
        profile = ctx.store.get(name)
        assert profile is not None
        rows.append(
            {
                "default": "*" if name == default else "",
                "name": name,
                "pool_id": profile.pool_id,
                "client_id": profile.client_id,
                "signed_in": ctx.cache.users(name),
            }
        )
    if not rows:
        ctx.out.say("No profiles yet: acognito configure --pool-id <id> --client-id <id>")
    ctx.out.table(rows, ["default", "name", "pool_id", "client_id", "signed_in"])


async def run_show(ctx: Context) -> None:
    name = ctx.args.name or getattr(ctx.args, "profile", None) or ctx.store.default_name()
    profile = ctx.store.get(name)
    if profile is None:
        raise UsageError(
            f"no profile {name!r}; create it with 'acognito configure --profile {name}'"
        )
    _show(ctx, profile)


async def run_use(ctx: Context) -> None:
    ctx.store.use(ctx.args.name)
    ctx.out.say(f"Profile {ctx.args.name!r} is now the default.")


async def run_delete(ctx: Context) -> None:
    name = ctx.args.name
    users = ctx.cache.users(name)
    if not ctx.store.delete(name) and not users:
        raise UsageError(f"no profile {name!r}")
    for user in users:
        ctx.cache.delete(name, user)
    ctx.out.say(
        f"Deleted profile {name!r}" + (f" and {len(users)} cached sign-in(s)." if users else ".")
    )
