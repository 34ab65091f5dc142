"""``admin``: users and groups of a pool, with AWS credentials (the usual AWS chain:
environment, ``~/.aws``, instance role)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .account import _attributes
from .app import add_command

if TYPE_CHECKING:
    from acognito import AsyncCognito

    from .context import Context

__all__ = ["register"]


def register(sub: Any, parents: dict[str, Any]) -> None:
    both = [parents["output"], parents["pool"]]
    admin = sub.add_parser(
        "admin",
        help="administer users and groups (needs AWS credentials)",
        description=(
            "Administer a pool's users and groups with AWS credentials "
            "(environment, ~/.aws, or a role)."
        ),
    )
    kinds = admin.add_subparsers(dest="kind", metavar="KIND", title="what")
    kinds.required = True
    user = kinds.add_parser(
        "user",
        help="create, show, list, enable, disable, delete users; passwords; groups",
        description="Manage the pool's users.",
    )
    users = user.add_subparsers(dest="action", metavar="ACTION", title="actions")
    users.required = True

    create = add_command(
        users,
        "create",
        "create a user (they get a temporary password)",
        run_user_create,
        parents=both,
    )
    create.add_argument("username", help="the new user's name")
    create.add_argument(
        "--attribute",
        "-a",
        action="append",
        metavar="NAME=VALUE",
        help="a user attribute (repeatable)",
    )
    create.add_argument(
        "--temporary-password-stdin",
        action="store_true",
        help="read the temporary password from stdin (default: Cognito makes one)",
    )
    create.add_argument(
        "--send-invite",
        action="store_true",
        help="let Cognito send the invitation message (default: suppressed)",
    )

    get = add_command(
        users, "get", "show a user's status and attributes", run_user_get, parents=both
    )
    get.add_argument("username", help="the user")

    listing = add_command(
        users,
        "list",
        "list the users (all pages), optionally filtered",
        run_user_list,
        parents=both,
    )
    listing.add_argument(
        "--filter", help="a Cognito filter, e.g. 'email ^= \"ada\"' or 'status = \"Enabled\"'"
    )

    for name, summary, run in (
        ("enable", "let a disabled user sign in again", run_user_enable),
        ("disable", "stop a user from signing in (their tokens stop refreshing)", run_user_disable),
        ("delete", "delete a user", run_user_delete),
        ("reset-password", "make a user choose a new password (sends them a code)", run_user_reset),
        ("groups", "list the groups a user belongs to", run_user_groups),
    ):
        cmd = add_command(users, name, summary, run, parents=both)
        cmd.add_argument("username", help="the user")

    setpw = add_command(
        users,
        "set-password",
        "set a user's password (read from stdin or asked)",
        run_user_set_password,
        parents=both,
    )
    setpw.add_argument("username", help="the user")
    setpw.add_argument(
        "--temporary", action="store_true", help="the user must change it at the next sign-in"
    )
    setpw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    group = kinds.add_parser(
        "group",
        help="create, list, show, delete groups; add and remove members",
        description="Manage the pool's groups and their members.",
    )
    groups = group.add_subparsers(dest="action", metavar="ACTION", title="actions")
    groups.required = True
    gcreate = add_command(groups, "create", "create a group", run_group_create, parents=both)
    gcreate.add_argument("group", help="the group name")
    gcreate.add_argument("--description", help="what the group is for")
    gcreate.add_argument(
        "--precedence", type=int, help="lower wins when a user is in several groups"
    )
    add_command(groups, "list", "list the groups (all pages)", run_group_list, parents=both)
    gget = add_command(groups, "get", "show a group", run_group_get, parents=both)
    gget.add_argument("group", help="the group name")
    gdelete = add_command(
        groups, "delete", "delete a group (its members stay)", run_group_delete, parents=both
    )
    gdelete.add_argument("group", help="the group name")
    for name, summary, run in (
        ("add-user", "add a user to a group", run_group_add),
        ("remove-user", "remove a user from a group", run_group_remove),
    ):
        cmd = add_command(groups, name, summary, run, parents=both)
        cmd.add_argument("group", help="the group name")
        cmd.add_argument("username", help="the user")


def _admin(ctx: Context) -> AsyncCognito:
    """A session for administration: the pool id matters, the app client does not."""
    from acognito import AsyncCognito

    profile = ctx.profile()
    return AsyncCognito(
        profile.need("pool_id", "--pool-id"),
        profile.client_id or "acognito-admin",
        user_pool_region=profile.region,
        endpoint_url=profile.endpoint_url,
    )


async def _raw(cognito: AsyncCognito, operation: str, **params: Any) -> dict[str, Any]:
    """HOOK: the one place the CLI reaches past the public API, for the two admin calls
    ``AsyncCognito`` lacks (AdminSetUserPassword, CreateGroup). Replace with the public
    methods when the session grows them."""
    call = cognito._call
    return await call(operation, UserPoolId=cognito.user_pool_id, **params)


def _user_row(user: Any) -> dict[str, Any]:
    meta = user.metadata
    attrs = dict(user.attributes)
    return {
        "username": meta.get("username") or user.username,
        "status": meta.get("user_status"),
        "enabled": meta.get("enabled"),
        "email": attrs.get("email"),
        "sub": user.sub,
        "created": meta.get("create_date"),
    }


async def run_user_create(ctx: Context) -> None:
    attributes = _attributes(ctx.args.attribute)
    temporary = None
    if ctx.args.temporary_password_stdin:
        temporary = await ctx.ask("", secret=True, what="temporary password")
    extra = {} if ctx.args.send_invite else {"MessageAction": "SUPPRESS"}
    async with _admin(ctx) as cognito:
        result = await cognito.admin_create_user(
            ctx.args.username, temporary, extra, None, **attributes
        )
    user = result.get("User", {})
    ctx.out.record(
        {
            "username": user.get("Username"),
            "status": user.get("UserStatus"),
            "enabled": user.get("Enabled"),
        }
    )
    ctx.out.say(
        f"Created {ctx.args.username}; they choose a new password at the first 'acognito login'."
    )


async def run_user_get(ctx: Context) -> None:
    async with _admin(ctx) as cognito:
        user = await cognito.admin_get_user(username=ctx.args.username)
    meta = user.metadata
    ctx.out.record(
        {
            "username": meta.get("username"),
            "status": meta.get("user_status"),
            "enabled": meta.get("enabled"),
            "created": meta.get("create_date"),
            "modified": meta.get("modified_date"),
            "mfa": meta.get("user_mfa_setting_list") or [],
            "attributes": dict(user.attributes),
        }
    )


async def run_user_list(ctx: Context) -> None:
    rows = []
    async with _admin(ctx) as cognito, ctx.out.progress("listing users"):
        async for user in cognito.iter_users(filter=ctx.args.filter):
            rows.append(_user_row(user))
    ctx.out.table(rows, ["username", "status", "enabled", "email", "created"])
    ctx.out.say(f"{len(rows)} user(s).")


async def run_user_enable(ctx: Context) -> None:
    async with _admin(ctx) as cognito:
        await cognito.admin_enable_user(ctx.args.username)
    ctx.out.say(f"Enabled {ctx.args.username}.")


async def run_user_disable(ctx: Context) -> None:
    async with _admin(ctx) as cognito:
        await cognito.admin_disable_user(ctx.args.username)
    ctx.out.say(f"Disabled {ctx.args.username}.")


async def run_user_delete(ctx: Context) -> None:
    async with _admin(ctx) as cognito:
        await cognito.admin_delete_user(username=ctx.args.username)
    ctx.out.say(f"Deleted {ctx.args.username}.")


async def run_user_reset(ctx: Context) -> None:
    async with _admin(ctx) as cognito:
        await cognito.admin_reset_password(ctx.args.username)
    ctx.out.say(
        f"Password reset for {ctx.args.username}: they set a new one with the code sent to them."
    )


async def run_user_groups(ctx: Context) -> None:
    async with _admin(ctx) as cognito:
        names = await cognito.admin_list_groups_for_user(ctx.args.username)
    if ctx.out.json_mode:
        ctx.out.json(names)
    else:
        for name in names:
            ctx.out.data(name)


async def run_user_set_password(ctx: Context) -> None:
    password = await ctx.ask(
        f"new password for {ctx.args.username}: ", secret=True, what="password"
    )
    async with _admin(ctx) as cognito:
        await _raw(
            cognito,
            "admin_set_user_password",
            Username=ctx.args.username,
            Password=password,
            Permanent=not ctx.args.temporary,
        )
    kind = "temporary" if ctx.args.temporary else "permanent"
    ctx.out.say(f"Set a {kind} password for {ctx.args.username}.")


async def run_group_create(ctx: Context) -> None:
    params: dict[str, Any] = {"GroupName": ctx.args.group}
    if ctx.args.description is not None:
        params["Description"] = ctx.args.description
    if ctx.args.precedence is not None:
        params["Precedence"] = ctx.args.precedence
    async with _admin(ctx) as cognito:
        await _raw(cognito, "create_group", **params)
    ctx.out.say(f"Created group {ctx.args.group}.")


def _group_row(group: Any) -> dict[str, Any]:
    return {
        "group": group.group_name,
        "description": group.description,
        "precedence": group.precedence,
    }


async def run_group_list(ctx: Context) -> None:
    async with _admin(ctx) as cognito:
        groups = await cognito.get_groups()
    ctx.out.table([_group_row(g) for g in groups], ["group", "precedence", "description"])


async def run_group_get(ctx: Context) -> None:
    async with _admin(ctx) as cognito:
        group = await cognito.get_group(ctx.args.group)
    ctx.out.record(_group_row(group))


async def run_group_delete(ctx: Context) -> None:
    async with _admin(ctx) as cognito:
        await cognito.admin_delete_group(ctx.args.group)
    ctx.out.say(f"Deleted group {ctx.args.group}.")


async def run_group_add(ctx: Context) -> None:
    async with _admin(ctx) as cognito:
        await cognito.admin_add_user_to_group(ctx.args.username, ctx.args.group)
    ctx.out.say(f"Added {ctx.args.username} to {ctx.args.group}.")


async def run_group_remove(ctx: Context) -> None:
    async with _admin(ctx) as cognito:
        await cognito.admin_remove_user_from_group(ctx.args.username, ctx.args.group)
    ctx.out.say(f"Removed {ctx.args.username} from {ctx.args.group}.")
