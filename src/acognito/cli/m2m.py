"""``m2m token``: a machine-to-machine access token (client credentials), cached
until it nears expiry so scripts can call it before every request."""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

from ._fast import expiry, jwt_exp
from .app import add_branch, add_command, add_group
from .config import cache_dir, write_private

if TYPE_CHECKING:
    from .context import Context

__all__ = ["register"]


def register(sub: Any, parents: dict[str, Any]) -> None:
    m2m = add_branch(
        sub,
        "m2m",
        "machine-to-machine tokens (client credentials)",
        ("Machine-to-machine access tokens from the pool's domain (client credentials grant)."),
    )
    actions = add_group(m2m, "action", "ACTION", "actions")
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
    from .keep import oauth_client

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
    claims_scope = _claim(tokens.access_token, "scope")
    record = {
        "access_token": tokens.access_token,
        "expires_at": tokens.expires_at or jwt_exp(tokens.access_token),
        # The token's own scope claim when the endpoint did not repeat it (Cognito's
        # client-credentials answer often omits "scope").
        "scope": tokens.scope or claims_scope,
        "token_type": tokens.token_type,
    }
    if not ctx.args.no_cache and tokens.expires_at:
        write_private(path, json.dumps(record))
    _print(ctx, record)


def _claim(token: str, name: str) -> str | None:
    from acognito.errors import TokenVerificationError
    from acognito.tokens import peek_claims

    try:
        value = peek_claims(token).get(name)
    except TokenVerificationError:  # an opaque token: no claims to read
        return None
    return value if isinstance(value, str) else None


def _print(ctx: Context, record: dict[str, Any]) -> None:
    if ctx.out.json_mode:
        stamp = record.get("expires_at")
        exp = float(stamp) if isinstance(stamp, (int, float)) else None
        ctx.out.json(
            {
                "access_token": record["access_token"],
                "token_type": record.get("token_type"),
                "scope": record.get("scope") or _claim(record["access_token"], "scope"),
                **expiry(exp, time.time()),
            }
        )
    else:
        ctx.out.data(record["access_token"])
