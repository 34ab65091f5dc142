"""``status``: every profile, who is signed in with it, until when, and where the pool
is; read from the config file and the token cache alone (no network)."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from ._fast import expiry, iso_time, jwt_exp
from .app import add_command
from .output import human_delta, human_expiry

if TYPE_CHECKING:
    from .cache import CachedLogin
    from .context import Context

__all__ = ["register"]


def register(sub: Any, parents: dict[str, Any]) -> None:
    add_command(
        sub,
        "status",
        "show the profiles, who is signed in with each, expiries and endpoints",
        run_status,
        parents=[parents["output"]],
        description=(
            "Show every profile (the default one first), its pool, app client and endpoint,\n"
            "who is signed in with it (the current user marked), and when their tokens\n"
            "expire. Reads the config file and the token cache only: no network call."
        ),
    )


def _user(login: CachedLogin, current: bool, now: float) -> dict[str, Any]:
    id_exp = jwt_exp(login.id_token)
    return {
        "username": login.username,
        "current": current,
        "source": "hosted UI" if login.source == "oauth" else "user-pool API",
        "signed_in_at": iso_time(login.signed_in_at) if login.signed_in_at else None,
        "access_token": expiry(jwt_exp(login.access_token), now),
        "id_token": expiry(id_exp, now) if login.id_token else None,
        "refreshable": bool(login.refresh_token),
        "pool_id": login.pool_id,
        "client_id": login.client_id,
    }


async def _profiles(ctx: Context) -> list[str]:
    """The configured profiles, plus any with sign-ins but no section (older caches)."""
    return sorted(set(ctx.store.names()) | await ctx.cache.profiles())


async def run_status(ctx: Context) -> None:
    now = time.time()
    default = ctx.store.default_name()
    why = (
        "$ACOGNITO_PROFILE"
        if os.environ.get("ACOGNITO_PROFILE")
        else "chosen with 'profile use'"
        if ctx.store.default_name() != "default"
        else "the default name"
    )
    rows: list[dict[str, Any]] = []
    for name in sorted(await _profiles(ctx), key=lambda n: (n != default, n)):
        profile = ctx.store.get(name)
        entries = await ctx.cache.entries(name)
        current = await ctx.cache.current_user(name)
        rows.append(
            {
                "name": name,
                "default": name == default,
                "configured": profile is not None,
                "pool_id": profile.pool_id if profile else None,
                "client_id": profile.client_id if profile else None,
                "region": profile.region if profile else None,
                "endpoint_url": profile.endpoint_url if profile else None,
                "domain": profile.domain if profile else None,
                "callback_port": int(profile.callback_port)
                if profile and profile.callback_port
                else None,
                "users": [_user(e, e.username == current, now) for e in entries],
            }
        )
    document = {
        "default_profile": default,
        "config_file": str(ctx.store.path),
        "cache_dir": str(ctx.cache.directory),
        "profiles": rows,
    }
    if ctx.out.json_mode:
        ctx.out.json(document)
        return
    if not rows:
        ctx.out.data("No profiles and nobody signed in.")
        ctx.out.say(
            "Start with: acognito configure --pool-id ID --client-id ID "
            "(no AWS account? acognito local --profile local)"
        )
        return
    ctx.out.data(f"default profile: {default} ({why})")
    for row in rows:
        ctx.out.data("")
        ctx.out.data(_title(row))
        where = row["endpoint_url"] or (f"AWS, {row['region']}" if row["region"] else "AWS")
        if row["configured"]:
            ctx.out.data(f"  pool      {row['pool_id']}  ({where})")
            ctx.out.data(f"  client    {row['client_id']}")
        if row["domain"]:
            port = row["callback_port"]
            callback = f"; callback http://localhost:{port}/callback" if port else ""
            ctx.out.data(f"  domain    {row['domain']}{callback}")
        if not row["users"]:
            ctx.out.data(f"  signed in nobody (acognito login --profile {row['name']})")
        name = str(row["name"])
        current = await ctx.cache.current_user(name)
        for login in sorted(await ctx.cache.entries(name), key=lambda e: e.username != current):
            ctx.out.data(_user_line(login, login.username == current, row["pool_id"], now))


def _title(row: dict[str, Any]) -> str:
    marks = ["default"] if row["default"] else []
    if not row["configured"]:
        marks.append("no saved settings: only cached sign-ins")
    return str(row["name"]) + (f" ({', '.join(marks)})" if marks else "")


def _user_line(login: CachedLogin, current: bool, pool_id: str | None, now: float) -> str:
    label = "signed in" if current else ""
    name = login.username + (" (current)" if current else "")
    exp = jwt_exp(login.access_token)
    state = f"access token {human_expiry(exp, now)}"
    if exp is not None and exp <= now:
        state += "; 'acognito token' refreshes it" if login.refresh_token else "; sign in again"
    where = "hosted UI" if login.source == "oauth" else "user-pool API"
    line = f"  {label:<9} {name}: {state}; via the {where}"
    if pool_id and login.pool_id != pool_id:
        line += f", pool {login.pool_id}"
    if login.signed_in_at:
        line += f", {human_delta(now - login.signed_in_at)} ago"
    return line
