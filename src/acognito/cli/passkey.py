"""``passkey``: register, list and delete the signed-in user's passkeys on a security key;
and the security key that ``login`` uses to answer a passkey step.

Keys are reached through python-fido2 (``pip install 'acognito[cli]'``): the USB (or NFC)
key plugged in (of several, the one touched first), or, with
``ACOGNITO_SECURITY_KEY=virtual:PATH``, the software key of :mod:`acognito.testing` kept
in that file (for trying passkeys on the local Cognito).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .app import add_branch, add_command, add_group
from .context import _read_line
from .errors import CliError, UsageError

if TYPE_CHECKING:
    from acognito.passkeys import Fido2Authenticator

    from .context import Context

__all__ = ["register", "security_key", "use_security_key"]

#: Where the command line finds its security key: unset for a real one.
KEY_ENV = "ACOGNITO_SECURITY_KEY"


def register(sub: Any, parents: dict[str, Any]) -> None:
    passkey = add_branch(
        sub,
        "passkey",
        "register, list or delete the signed-in user's passkeys",
        (
            "Manage the signed-in user's passkeys on a FIDO2 security key (USB or NFC,\n"
            "through python-fido2). Sign in with one: acognito login --passkey."
        ),
    )
    actions = add_group(passkey, "action", "ACTION", "actions")
    add = add_command(
        actions,
        "add",
        "register a passkey on the security key (asks for its PIN, then a touch)",
        run_add,
        parents=[parents["output"]],
        description=(
            "Register a passkey for the signed-in user on the security key: Cognito's\n"
            "options go to the key, which asks for its PIN (if it has one) and a touch."
        ),
    )
    listing = add_command(
        actions,
        "list",
        "list the signed-in user's passkeys",
        run_list,
        parents=[parents["output"]],
    )
    delete = add_command(
        actions,
        "delete",
        "delete one of the signed-in user's passkeys (it no longer signs in)",
        run_delete,
        parents=[parents["output"]],
    )
    delete.add_argument("credential_id", metavar="CREDENTIAL_ID", help="as 'passkey list' shows")
    for parser in (add, listing, delete):
        parser.add_argument("--username", "-u", help="whose sign-in (default: the last one)")
    # Only 'add' talks to the key, so only it can read the key's PIN from stdin.
    add.add_argument(
        "--password-stdin", action="store_true", help="read the security key's PIN from stdin"
    )


# ------------------------------------------------------------------------- the key


def security_key(ctx: Context) -> Fido2Authenticator:
    """The security key to use: a real one through fido2, or ``virtual:PATH`` for tests."""
    try:
        from acognito.passkeys import Fido2Authenticator
    except ImportError:
        raise CliError(
            "passkeys need python-fido2: pip install 'acognito[cli]' (or 'acognito[fido2]')"
        ) from None
    where = os.environ.get(KEY_ENV, "").strip()
    path = where.removeprefix("virtual:")
    device: Any = None
    if path and path != where:
        from acognito.testing.security_key import VirtualSecurityKey

        device = VirtualSecurityKey(path)
    elif where:
        raise UsageError(f"{KEY_ENV}={where!r}: leave it unset for a real key, or virtual:PATH")
    interactive = ctx.interactive

    def pin() -> str | None:
        # Runs in the key's worker thread, which may block on the terminal.
        return _read_line("PIN of your security key: ", True, not interactive)

    def touch() -> None:
        ctx.out.say("Touch your security key.")

    return Fido2Authenticator(device, pin=pin, on_touch=touch)


async def use_security_key(
    ctx: Context,
    operation: str,
    options: Mapping[str, Any],
    authenticator: Fido2Authenticator | None = None,
) -> Mapping[str, Any]:
    """Run the security key on Cognito's options (cancellable: Ctrl-C stops the wait)."""
    from acognito.passkeys import call_authenticator

    return await call_authenticator(authenticator or security_key(ctx), operation, options)


# ------------------------------------------------------------------------- commands


async def run_add(ctx: Context) -> None:
    authenticator = security_key(ctx)  # before any request: fido2 may be missing
    login, cognito = await ctx.cached_cognito()
    async with cognito:
        options = await cognito.start_webauthn_registration()
        credential = await use_security_key(ctx, "create", options, authenticator)
        await cognito.complete_webauthn_registration(credential)
        ids = [p.credential_id for p in await cognito.list_webauthn_credentials()]
    new = str(credential.get("id") or "")
    if ctx.out.json_mode:
        ctx.out.json({"username": login.username, "credential_id": new, "passkeys": len(ids)})
        return
    ctx.out.data(new)
    ctx.out.say(
        f"Passkey registered for {login.username} ({len(ids)} in all). "
        "Sign in with it: acognito login --passkey"
    )


async def run_list(ctx: Context) -> None:
    login, cognito = await ctx.cached_cognito()
    async with cognito:
        passkeys = await cognito.list_webauthn_credentials()
    rows: list[dict[str, Any]] = [
        {
            "credential_id": p.credential_id,
            "name": p.friendly_name,
            "relying_party": p.relying_party_id,
            "attachment": p.authenticator_attachment,
            "transports": list(p.transports),
            "created": p.created_at.isoformat() if p.created_at else None,
        }
        for p in passkeys
    ]
    if ctx.out.json_mode:
        ctx.out.json(rows)
        return
    for row in rows:
        transports = ",".join(row["transports"]) or "-"
        shown = [row["credential_id"], row["attachment"] or "-", transports, row["created"] or "-"]
        ctx.out.data("  ".join(shown))
    ctx.out.say(f"{len(rows)} passkey(s) for {login.username}.")


async def run_delete(ctx: Context) -> None:
    login, cognito = await ctx.cached_cognito()
    async with cognito:
        await cognito.delete_webauthn_credential(ctx.args.credential_id)
    ctx.out.say(f"Passkey deleted for {login.username}; it no longer signs in.")
