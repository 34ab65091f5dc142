"""What every sign-in leaves and every later command relies on: a new sign-in kept (its
profile recorded, its tokens cached, the news reported), a kept one refreshed from where
it came, and the OAuth2 client of a profile's domain.

``login`` and ``login --hosted-ui`` (:mod:`.signin`, :mod:`.hosted`) end here;
``token``, ``whoami``, ``refresh``, ``logout`` and ``m2m token`` start here.
"""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from acognito.tokens import peek_claims

from ._fast import expiry, jwt_exp
from .cache import CachedLogin
from .config import Profile, resolve_secret
from .errors import CliError
from .output import human_expiry

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from acognito.oauth import OAuth2Client

    from .context import Context

__all__ = ["finish_login", "oauth_client", "refresh_login", "report_login"]


@asynccontextmanager
async def oauth_client(profile: Profile) -> AsyncIterator[OAuth2Client]:
    """An OAuth2 client for the profile's domain (with its secret, if it has one)."""
    from acognito.oauth import OAuth2Client

    domain = profile.need("domain", "--domain")
    client = OAuth2Client(
        domain, profile.need("client_id", "--client-id"), client_secret=resolve_secret(profile)
    )
    try:
        yield client
    finally:
        await client.aclose()


async def finish_login(
    ctx: Context, profile: Profile, login: CachedLogin, claims: dict[str, Any]
) -> None:
    """Keep a new sign-in: the profile recorded (for a flag login), the tokens cached."""
    given = any(value is not None for value in ctx.pool_options().values())
    note = (
        await ctx.record_profile(profile, explicit=ctx.named_profile is not None) if given else None
    )
    path = await ctx.cache.save(login)
    report_login(ctx, login, claims, str(path))
    if note:
        ctx.out.say(note)


def report_login(ctx: Context, login: CachedLogin, claims: dict[str, Any], path: str) -> None:
    access = claims.get("access") or peek_claims(login.access_token)
    who = access.get("username") or login.username
    if ctx.out.json_mode:
        ctx.out.json(
            {
                "profile": login.profile,
                "username": login.username,
                "cache": path,
                **expiry(jwt_exp(login.access_token), time.time()),
                **claims,  # "access" and "id": the verified claims
            }
        )
    ctx.out.say(
        f"Signed in as {who} (profile {login.profile}); "
        f"access token {human_expiry(access.get('exp'))}."
    )
    ctx.out.say("Next: acognito token | acognito whoami | acognito status | acognito logout")


async def refresh_login(ctx: Context, login: CachedLogin) -> tuple[CachedLogin, bool]:
    """New tokens for a cached sign-in, from where it came; returns (login, rotated)."""
    if not login.refresh_token:
        raise CliError(
            f"the sign-in of {login.username!r} has no refresh token",
            hint=f"acognito login --profile {login.profile} --username {login.username}",
        )
    profile = login.as_profile()
    if login.source == "oauth":
        async with oauth_client(profile) as client:
            fresh = await client.refresh(login.refresh_token)
        new = replace(
            login,
            access_token=fresh.access_token,
            id_token=fresh.id_token or login.id_token,
            refresh_token=fresh.refresh_token or login.refresh_token,
        )
    else:
        async with ctx.cognito(
            profile,
            login.username,
            id_token=login.id_token,
            access_token=login.access_token,
            refresh_token=login.refresh_token,
        ) as cognito:
            await cognito.renew_access_token()
            new = replace(
                login,
                access_token=cognito.access_token or "",
                id_token=cognito.id_token or login.id_token,
                refresh_token=cognito.refresh_token or login.refresh_token,
            )
    await ctx.cache.save(new)
    return new, new.refresh_token != login.refresh_token
