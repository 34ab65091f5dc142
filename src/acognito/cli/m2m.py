"""``m2m token``: a machine-to-machine access token (client credentials), cached
until it nears expiry so scripts can call it before every request."""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

from .app import add_command
from .config import cache_dir, write_private

if TYPE_CHECKING:
    from .context import Context

__all__ = ["register"]


def register(sub: Any, parents: dict[str, Any]) -> None:
    m2m = sub.add_parser(
        "m2m",
        help="machine-to-machine tokens (client credentials)",
        description=(
            "Machine-to-machine access tokens from the pool's domain (client credentials grant)."
        ),
    )
    actions = m2m.add_subparsers(dest="action", metavar="ACTION", title="actions")
    actions.required = True
    token = add_command(
        actions,
        "token",
        "print an access token for this app client (needs its secret and --domain)",
        run_m2m_token,
        parents=[parents["output"], parents["pool"]],
        description=(
            "Print a client-credentials access token from the pool's domain. The token is\n"
            "cached (0600) and reused until it expires within --min-valid seconds."
        ),
    )
    token.add_argument(
        "--scopes", help="space-separated scopes (default: all the client may ask for)"
    )
    token.add_argument(
        "--min-valid",
        type=int,
        default=60,
        metavar="SECONDS",
        help="fetch a new token if the cached one expires sooner (default: 60)",
    )
    token.add_argument("--no-cache", action="store_true", help="always fetch a new token")


async def run_m2m_token(ctx: Context) -> None:
    from .hosted import oauth_client

    profile = ctx.profile()
    domain = profile.need("domain", "--domain")
    client_id = profile.need("client_id", "--client-id")
    scopes = ctx.args.scopes
    key = hashlib.sha256(json.dumps([domain, client_id, scopes]).encode()).hexdigest()[:24]
    path = cache_dir() / "m2m" / f"{key}.json"
    now = time.time()
    if not ctx.args.no_cache:
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
            if cached.get("expires_at", 0) - now > ctx.args.min_valid:
                _print(ctx, cached)
                return
        except (OSError, ValueError):
            pass
    async with oauth_client(profile) as client, ctx.out.progress("asking for a token"):
        tokens = await client.client_credentials(scopes)
    record = {
        "access_token": tokens.access_token,
        "expires_at": tokens.expires_at,
        "scope": tokens.scope,
        "token_type": tokens.token_type,
    }
    if not ctx.args.no_cache and tokens.expires_at:
        write_private(path, json.dumps(record))
    _print(ctx, record)


def _print(ctx: Context, record: dict[str, Any]) -> None:
    if ctx.out.json_mode:
        ctx.out.json(record)
    else:
        ctx.out.data(record["access_token"])
