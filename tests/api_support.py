"""What every framework's API-protection test shares: one world, one table of cases.

The world: a pool on the shipped local Cognito with a user in the ``admin`` group and one
who is not, real tokens from SRP sign-ins (the public client, and the confidential one
for "another client's token"), and a :class:`TokenIssuer` whose JWKS a loopback
:class:`JwksTestServer` serves, for the edge cases (expired, scopes, an outage). The
verifier is one :class:`MultiPoolVerifier` over both issuers, as an API serving two
pools would have.

Each framework's test builds its app with three routes, ``/me`` (any valid access
token), ``/read`` (scope ``api/read``) and ``/admin`` (group ``admin`` or ``ops``), and
runs :data:`CASES` through it. Every answer is recorded in :data:`ANSWERS`; with
``ACOGNITO_ANSWER_TABLE=path`` the table (case, framework, status, header) is written
there at the end of the session.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from acognito import AsyncCognito, CognitoVerifier, MultiPoolVerifier
from acognito.testing import CognitoAdmin, LocalCognito, LocalPool, TokenIssuer
from jwks_server import JwksTestServer

ISSUER_POOL = "us-east-1_ApiEdge1"
EDGE_CLIENT = "edge-client"
PASSWORD = "Api-Protection-Passw0rd!"


@dataclass
class World:
    pool: LocalPool
    issuer: TokenIssuer
    access: str  # the plain user's access token (public client)
    id_token: str  # the plain user's id token
    admin_access: str  # an ``admin`` group member's access token
    other_client_access: str  # an access token of the pool's other (confidential) client
    tokens: dict[str, str] = field(default_factory=dict)

    def verifier(self, edge_jwks_uri: str, **options: Any) -> MultiPoolVerifier:
        """One verifier for both issuers: the local pool and the edge-case issuer."""
        return CognitoVerifier.for_pools(
            [
                {
                    "user_pool_id": self.pool.user_pool_id,
                    "client_id": self.pool.public_client.client_id,
                    "token_use": "access",
                    "jwks_uri": self.pool.jwks_uri,
                },
                {
                    "user_pool_id": ISSUER_POOL,
                    "client_id": EDGE_CLIENT,
                    "token_use": "access",
                    "jwks_uri": edge_jwks_uri,
                },
            ],
            **options,
        )


async def _build(local: LocalCognito) -> World:
    async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
        pool = await admin.create_local_pool()
        await admin.create_group(pool.user_pool_id, "admin")
        await admin.create_user(pool.user_pool_id, "plain", PASSWORD)
        await admin.create_user(pool.user_pool_id, "boss", PASSWORD)
        await admin.add_to_group(pool.user_pool_id, "boss", "admin")
    async with AsyncCognito(username="plain", **pool.cognito_kwargs()) as plain:
        await plain.authenticate(PASSWORD)
        access, id_token = plain.access_token, plain.id_token
    async with AsyncCognito(username="boss", **pool.cognito_kwargs()) as boss:
        await boss.authenticate(PASSWORD)
        admin_access = boss.access_token
    async with AsyncCognito(username="plain", **pool.cognito_kwargs(secret=True)) as other:
        await other.authenticate(PASSWORD)
        other_access = other.access_token
    assert access and id_token and admin_access and other_access
    return World(pool, TokenIssuer(ISSUER_POOL), access, id_token, admin_access, other_access)


def build_world(local: LocalCognito) -> World:
    """Set the world up (call from a synchronous, module-scoped fixture)."""
    return anyio.run(_build, local)


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    token: str  # a key of :func:`tokens_for`, or "" for none
    status: int
    error: str | None  # the RFC 6750 error code in WWW-Authenticate, if any
    scope: str | None = None  # the scope= of a 403


#: The cases every framework answers, in the issue's order, plus the passing ones.
CASES = [
    Case("no token", "/me", "", 401, None),
    Case("valid (local Cognito)", "/me", "access", 200, None),
    Case("unknown user (valid token, no profile)", "/me", "stranger", 200, None),
    Case("expired", "/me", "expired", 401, "invalid_token"),
    Case("another client's token", "/me", "other_client", 401, "invalid_token"),
    Case("id token where access wanted", "/me", "id", 401, "invalid_token"),
    Case("forged signature", "/me", "forged", 401, "invalid_token"),
    Case("scope present", "/read", "reader", 200, None),
    Case("missing scope", "/read", "access", 403, "insufficient_scope", "api/read"),
    Case("group member", "/admin", "admin", 200, None),
    Case("missing group", "/admin", "access", 403, "insufficient_scope"),
    Case("JWKS outage", "/me", "rotated", 503, None),
]


def tokens_for(world: World) -> dict[str, str]:
    """Every token :data:`CASES` names, freshly minted where needed."""
    issuer = world.issuer
    now = int(time.time())
    rotated = TokenIssuer(ISSUER_POOL)  # a key the JWKS server never published
    good = issuer.access_token(client_id=EDGE_CLIENT, username="x")
    head, body, sig = good.split(".")
    return {
        "access": world.access,
        "id": world.id_token,
        "admin": world.admin_access,
        "other_client": world.other_client_access,
        "stranger": issuer.access_token(client_id=EDGE_CLIENT, username="nobody-we-know"),
        "expired": issuer.access_token(client_id=EDGE_CLIENT, now=now - 7200),
        "forged": f"{head}.{body}.{sig[:-8]}AAAAAAAA",
        "reader": issuer.access_token(client_id=EDGE_CLIENT, scope="openid api/read"),
        "rotated": rotated.access_token(client_id=EDGE_CLIENT),
    }


def edge_jwks_server(world: World) -> JwksTestServer:
    """A started JWKS server for the edge-case issuer (stop it for the outage case)."""
    return JwksTestServer(world.issuer.jwks()).start()


#: (case, framework, status, WWW-Authenticate or "-") as observed by the tests.
ANSWERS: set[tuple[str, str, int, str]] = set()


def check_answer(case: Case, framework: str, status: int, headers: Any, body: bytes | str) -> None:
    """Assert ``case``'s answer (status, RFC 6750 header, no token material) and record it."""
    text = body.decode() if isinstance(body, bytes) else body
    www = headers.get("www-authenticate")
    ANSWERS.add((case.name, framework, status, www or "-"))
    assert status == case.status, f"{case.name}: {status} {www} {text[:300]}"
    assert "eyJ" not in text and "eyJ" not in str(www)  # no token material
    if status == 200:
        assert www is None
        return
    if status == 503:
        assert www is None
        return
    assert www is not None and www.startswith('Bearer realm="api"'), www
    if case.error is None:
        assert "error=" not in www
    else:
        assert f'error="{case.error}"' in www
    if case.scope is not None:
        assert f'scope="{case.scope}"' in www
    elif status == 403:
        assert "scope=" not in www.replace("insufficient_scope", "")


def write_answer_table() -> None:
    target = os.environ.get("ACOGNITO_ANSWER_TABLE")
    if not target or not ANSWERS:
        return
    order = {case.name: i for i, case in enumerate(CASES)}
    rows = sorted(ANSWERS, key=lambda row: (order.get(row[0], 99), row[1]))
    lines = ["| case | framework | status | WWW-Authenticate |", "| --- | --- | --- | --- |"]
    lines += [f"| {c} | {f} | {s or '-'} | `{h}` |" for c, f, s, h in rows]
    path = Path(target)
    existing = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    merged = lines + [line for line in existing[2:] if line not in lines]
    path.write_text("\n".join(merged) + "\n", encoding="utf-8")
