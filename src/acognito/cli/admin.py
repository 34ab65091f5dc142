"""``admin``: users and groups of a pool, with AWS credentials (the usual AWS chain:
environment, ``~/.aws``, instance role)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .account import _attributes
from .app import add_branch, add_command, add_group
from .errors import UsageError

if TYPE_CHECKING:
    from acognito import AsyncCognito

    from .context import Context

__all__ = ["register"]


def register(sub: Any, parents: dict[str, Any]) -> None:
    both = [parents["output"], parents["admin"]]
    admin = add_branch(
        sub,
        "admin",
        "administer users and groups (needs AWS credentials, no app client)",
        "Administer a pool's users and groups with AWS credentials (environment, ~/.aws,\n"
        "or a role). Only the pool id is needed (from the profile, or --pool-id); the\n"
        "local Cognito takes any credentials.",
    )
    kinds = add_group(admin, "kind", "KIND", "what")
    user = add_branch(
        kinds,
        "user",
        "create, show, list, enable, disable, delete users; passwords; attributes; groups",
        "Manage the pool's users.",
    )
    users = add_group(user, "action", "ACTION", "actions")

    create = add_command(
        users,
        "create",
        "create a user with a password (given, or a temporary one printed once)",
        run_user_create,
        parents=both,
        description=(
            "Create a user. With --password-stdin the password is permanent and the user\n"
            "can sign in at once. With --temporary-password-stdin, or with neither (then a\n"
            "temporary password that meets the pool's policy is made and printed once on\n"
            "stdout), the user chooses a new password at the first sign-in. Cognito's\n"
            "invitation message is suppressed unless --send-invite."
        ),
    )
    create.add_argument("username", help="the new user's name")
    create.add_argument(
        "--attribute",
        "-a",
        action="append",
        metavar="NAME=VALUE",
        help="a user attribute (repeatable)",
    )
    given = create.add_mutually_exclusive_group()
    given.add_argument(
        "--password-stdin",
        action="store_true",
        help="read a permanent password from stdin (the user signs in with it at once)",
    )
    given.add_argument(
        "--temporary-password-stdin",
        action="store_true",
        help="read a temporary password from stdin (a new one is chosen at first sign-in)",
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
        ("confirm-sign-up", "confirm a user's sign-up without the code", run_user_confirm),
        ("groups", "list the groups a user belongs to", run_user_groups),
    ):
        cmd = add_command(users, name, summary, run, parents=both)
        cmd.add_argument("username", help="the user")

    update = add_command(
        users,
        "update-attributes",
        "set (or with --delete remove) a user's attributes",
        run_user_update,
        parents=both,
    )
    update.add_argument("username", help="the user")
    update.add_argument(
        "--attribute",
        "-a",
        action="append",
        metavar="NAME=VALUE",
        help="an attribute to set (repeatable)",
    )
    update.add_argument(
        "--delete", action="append", metavar="NAME", help="an attribute to remove (repeatable)"
    )

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

    group = add_branch(
        kinds,
        "group",
        "create, list, show, delete groups; add, remove and list members",
        "Manage the pool's groups and their members.",
    )
    groups = add_group(group, "action", "ACTION", "actions")
    gcreate = add_command(groups, "create", "create a group", run_group_create, parents=both)
    gcreate.add_argument("group", help="the group name")
    gcreate.add_argument("--description", help="what the group is for")
    gcreate.add_argument(
        "--precedence", type=int, help="lower wins when a user is in several groups"
    )
    add_command(groups, "list", "list the groups (all pages)", run_group_list, parents=both)
    gget = add_command(groups, "get", "show a group", run_group_get, parents=both)
    gget.add_argument("group", help="the group name")
    members = add_command(
        groups, "members", "list the users in a group (all pages)", run_group_members, parents=both
    )
    members.add_argument("group", help="the group name")
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
    """A session for administration: the pool id matters, no app client is needed."""
    from acognito import AsyncCognito

    profile = ctx.profile()
    return AsyncCognito(
        profile.need("pool_id", "--pool-id"),
        None,
        user_pool_region=profile.region,
        endpoint_url=profile.endpoint_url,
    )


async def _raw(cognito: AsyncCognito, operation: str, **params: Any) -> dict[str, Any]:
    """HOOK: the one place the CLI reaches past the public API, for the admin calls
    ``AsyncCognito`` lacks (AdminSetUserPassword, AdminConfirmSignUp, CreateGroup,
    ListUsersInGroup, DescribeUserPool). Replace with the public methods when the
    session grows them."""
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


#: Symbols for made-up passwords: all in Cognito's allowed set, none a shell quote.
_SYMBOLS = "!#%*+-.=?@^_"
_CLASSES = {
    "RequireLowercase": "abcdefghijkmnopqrstuvwxyz",
    "RequireUppercase": "ABCDEFGHJKLMNPQRSTUVWXYZ",
    "RequireNumbers": "23456789",
    "RequireSymbols": _SYMBOLS,
}


def make_password(policy: dict[str, Any]) -> str:
    """A random password that meets a pool's ``PasswordPolicy`` (every class used,
    at least 16 characters; look-alike characters left out)."""
    import secrets

    minimum = policy.get("MinimumLength")
    length = max(16, minimum if isinstance(minimum, int) else 8)
    # Every class, whatever the policy says: a temporary password meets any policy.
    chars = [secrets.choice(alphabet) for alphabet in _CLASSES.values()]
    pool = "".join(_CLASSES.values())
    chars += [secrets.choice(pool) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


async def _policy(cognito: AsyncCognito) -> dict[str, Any]:
    """The pool's password policy; an empty one when the credentials may not read it."""
    from acognito.errors import AccessDeniedError, NotAuthorizedError

    try:
        pool = (await _raw(cognito, "describe_user_pool")).get("UserPool", {})
    except (AccessDeniedError, NotAuthorizedError):
        return {}
    policy = pool.get("Policies", {}).get("PasswordPolicy", {})
    return dict(policy) if isinstance(policy, dict) else {}


async def run_user_create(ctx: Context) -> None:
    args = ctx.args
    name = args.username
    attributes = _attributes(args.attribute)
    extra = {} if args.send_invite else {"MessageAction": "SUPPRESS"}
    made: str | None = None
    if args.password_stdin:
        password = await ctx.ask("", secret=True, what="password")
    elif args.temporary_password_stdin:
        password = await ctx.ask("", secret=True, what="temporary password")
    async with _admin(ctx) as cognito:
        if not (args.password_stdin or args.temporary_password_stdin):
            policy = await _policy(cognito)
            password = made = make_password(policy)
            days = policy.get("TemporaryPasswordValidityDays")
        result = await cognito.admin_create_user(name, password, extra, None, **attributes)
        if args.password_stdin:
            await _raw(
                cognito, "admin_set_user_password", Username=name, Password=password, Permanent=True
            )
    user = result.get("User", {})
    record: dict[str, Any] = {
        "username": user.get("Username") or name,
        "status": "CONFIRMED" if args.password_stdin else user.get("UserStatus"),
        "enabled": user.get("Enabled"),
    }
    if made is not None:
        record["temporary_password"] = made  # printed this once, on stdout only
    ctx.out.record(record)
    first = f"acognito login --username {name}"
    if args.password_stdin:
        ctx.out.say(f"Created {name} with the password given; they can sign in now: {first}")
    elif made is None:
        ctx.out.say(
            f"Created {name} with the temporary password given; at the first sign-in "
            f"({first}) they choose a new one."
        )
    else:
        valid = f" It is valid for {days} days." if isinstance(days, int) else ""
        ctx.out.say(
            f"Created {name}. The temporary password above is shown only this once (Cognito "
            f"never shows it): give it to them; at the first sign-in ({first}) they choose "
            f"a new one.{valid}"
        )


async def run_user_confirm(ctx: Context) -> None:
    async with _admin(ctx) as cognito:
        await _raw(cognito, "admin_confirm_sign_up", Username=ctx.args.username)
    ctx.out.say(
        f"Confirmed the sign-up of {ctx.args.username}; they can sign in: "
        f"acognito login --username {ctx.args.username}"
    )


async def run_user_update(ctx: Context) -> None:
    attributes = _attributes(ctx.args.attribute)
    removed = list(ctx.args.delete or [])
    if not attributes and not removed:
        raise UsageError("nothing to change", hint="give --attribute NAME=VALUE or --delete NAME")
    async with _admin(ctx) as cognito:
        if attributes:
            await cognito.admin_update_profile(attributes, username=ctx.args.username)
        if removed:
            await _raw(
                cognito,
                "admin_delete_user_attributes",
                Username=ctx.args.username,
                UserAttributeNames=removed,
            )
    changed = ", ".join([*attributes, *(f"-{n}" for n in removed)])
    ctx.out.say(f"Updated {ctx.args.username}: {changed}.")


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


async def run_group_members(ctx: Context) -> None:
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"GroupName": ctx.args.group}
    async with _admin(ctx) as cognito, ctx.out.progress("listing members"):
        while True:
            page = await _raw(cognito, "list_users_in_group", **params)
            for raw in page.get("Users", []):
                attrs = {a["Name"]: a.get("Value") for a in raw.get("Attributes", [])}
                rows.append(
                    {
                        "username": raw.get("Username"),
                        "status": raw.get("UserStatus"),
                        "enabled": raw.get("Enabled"),
                        "email": attrs.get("email"),
                        "sub": attrs.get("sub"),
                    }
                )
            token = page.get("NextToken")
            if not token:
                break
            params["NextToken"] = token
    ctx.out.table(rows, ["username", "status", "enabled", "email"])
    ctx.out.say(f"{len(rows)} member(s) of {ctx.args.group}.")


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
