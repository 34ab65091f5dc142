"""``local inbox``: the codes the local Cognito "sent" by e-mail or SMS (sign-up, password
reset, MFA, attribute verification), read through its test API (``GET
/_acognito/inbox``). For the local Cognito only: real Cognito sends real messages."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ._fast import iso_time
from .app import add_command
from .errors import UsageError

if TYPE_CHECKING:
    from .context import Context

__all__ = ["register_inbox"]


def register_inbox(local: Any, parents: dict[str, Any]) -> None:
    """Add ``inbox`` under the ``local`` command."""
    actions = local.add_subparsers(dest="local_action", metavar="ACTION", title="actions")
    inbox = add_command(
        actions,
        "inbox",
        "show the codes the local Cognito sent (sign-up, reset, MFA), newest last",
        run_inbox,
        parents=[parents["output"]],
        description=(
            "Show the codes a running local Cognito 'sent' by e-mail or SMS: sign-up\n"
            "confirmation, password reset, MFA and attribute verification codes. The\n"
            "server is the profile's endpoint (or --endpoint-url); codes of the profile's\n"
            "pool only, unless --all-pools. With --last, only the newest code, on stdout:\n"
            '  acognito confirm-sign-up zoe "$(acognito local inbox --last -u zoe)"'
        ),
    )
    inbox.add_argument(
        "--username", "-u", help="only codes sent to this user (user name, e-mail or phone)"
    )
    inbox.add_argument(
        "--purpose",
        help="only codes for this purpose (e.g. sign_up, forgot_password, email_mfa)",
    )
    inbox.add_argument(
        "--last", action="store_true", help="print only the newest matching code (for scripts)"
    )
    inbox.add_argument("--all-pools", action="store_true", help="codes of every pool of the server")
    inbox.add_argument("--endpoint-url", metavar="URL", help="the local Cognito's URL")
    inbox.add_argument("--pool-id", metavar="ID", help="the pool (default: the profile's)")


def _matches(code: Any, who: str | None) -> bool:
    if who is None:
        return True
    return who in (code.username, code.destination) or who.lower() == code.destination.lower()


async def run_inbox(ctx: Context) -> None:
    import urllib.error

    import anyio.to_thread

    from acognito.testing import Inbox, LocalCognitoError, TestApi

    profile = ctx.profile()
    endpoint = profile.endpoint_url
    if not endpoint:
        raise UsageError(
            f"profile {profile.name!r} has no endpoint URL: the inbox is the local Cognito's",
            hint="acognito local --profile NAME saves one; or pass --endpoint-url URL",
        )
    pool_id = None if ctx.args.all_pools else profile.pool_id
    inbox = Inbox(TestApi(endpoint))
    try:
        codes = await anyio.to_thread.run_sync(
            lambda: inbox.codes(pool_id=pool_id, purpose=ctx.args.purpose)
        )
    except LocalCognitoError as exc:
        raise UsageError(
            f"{endpoint} refused the inbox request ({exc})",
            hint="is it a local Cognito (acognito local)?",
        ) from None
    except urllib.error.HTTPError as exc:
        exc.close()
        raise UsageError(
            f"{endpoint} answered HTTP {exc.code} to the inbox request",
            hint="is it a local Cognito (acognito local)?",
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        from acognito.errors import CognitoConnectionError

        reason = getattr(exc, "reason", exc)
        raise CognitoConnectionError(f"cannot read the inbox at {endpoint} ({reason})") from None
    found = [c for c in codes if _matches(c, ctx.args.username)]
    if ctx.args.last:
        if not found:
            raise UsageError(
                "no code matches in the local inbox",
                hint="send one first (sign-up, forgot-password ...), or drop --username/--purpose",
            )
        ctx.out.data(found[-1].code)
        return
    rows = [
        {
            "at": iso_time(c.at),
            "username": c.username,
            "purpose": c.purpose,
            "code": c.code,
            "destination": c.destination,
            "pool_id": c.pool_id,
            "age_seconds": int(time.time() - c.at),
        }
        for c in found
    ]
    if ctx.out.json_mode:
        ctx.out.json(rows)
        return
    ctx.out.table(rows, ["at", "username", "purpose", "code", "destination"])
    ctx.out.say(f"{len(rows)} code(s) in the local inbox of {endpoint}.")
