"""Protect a Flask app with Cognito: ``@require_cognito(verifier)``, blocking, no event loop.

The claims land in ``flask.g.cognito_claims``; the JWKS is fetched once by a blocking
request the first time a token is checked. The extension reads ``COGNITO_*`` from
``app.config``. Users sign in on the embedded local Cognito; the app is called through
Flask's test client. A user the app knows nothing about gets 200, never a 500.

    pip install 'acognito[flask,local]'
    python examples/flask_api.py [--trio]    # --trio: the sign-ins run on trio
"""

from __future__ import annotations

import sys
from typing import Any

import anyio
import flask

from acognito import AsyncCognito
from acognito.integrations.flask import CognitoFlask, require_cognito
from acognito.testing import CognitoAdmin, LocalCognito, LocalPool

PASSWORD = "Flask-Example-Passw0rd!"
PROFILES = {"ada": {"plan": "pro"}}


def make_app(pool: LocalPool) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(
        COGNITO_USER_POOL_ID=pool.user_pool_id,
        COGNITO_CLIENT_ID=pool.public_client.client_id,
        COGNITO_JWKS_URI=pool.jwks_uri,  # an emulator serves the JWKS here; AWS derives it
    )
    cognito = CognitoFlask(app)

    @app.get("/me")
    @require_cognito()  # the extension's verifier
    def me() -> dict[str, Any]:
        name = flask.g.cognito_claims.username
        return {"user": name, "profile": PROFILES.get(name)}

    @app.get("/orders")
    @cognito.required(groups=["admin"])
    def orders() -> dict[str, Any]:
        return {"orders": []}

    return app


async def prepare(local: LocalCognito) -> tuple[LocalPool, dict[str, str]]:
    async with CognitoAdmin(local.endpoint_url) as admin:
        pool = await admin.create_local_pool()
        await admin.create_group(pool.user_pool_id, "admin")
        for name in ("ada", "grace"):
            await admin.create_user(pool.user_pool_id, name, PASSWORD)
        await admin.add_to_group(pool.user_pool_id, "ada", "admin")
    tokens = {}
    for name in ("ada", "grace"):
        async with AsyncCognito(**pool.cognito_kwargs(), username=name) as cognito:
            await cognito.authenticate(PASSWORD)
            assert cognito.access_token is not None
            tokens[name] = cognito.access_token
    return pool, tokens


def main(backend: str) -> None:
    with LocalCognito() as local:
        pool, tokens = anyio.run(prepare, local, backend=backend)
        client = make_app(pool).test_client()  # plain blocking code from here on
        for who, path, expected in [
            ("ada", "/me", 200),
            ("grace", "/me", 200),
            ("grace", "/orders", 403),
            ("ada", "/orders", 200),
            ("nobody", "/me", 401),
        ]:
            token = tokens.get(who)
            resp = client.get(path, headers={"Authorization": f"Bearer {token}"} if token else {})
            www = resp.headers.get("WWW-Authenticate", "-")
            print(f"{who:7} GET {path:8} -> {resp.status_code} {resp.get_json()} {www}")
            assert resp.status_code == expected, resp.data


if __name__ == "__main__":
    main("trio" if "--trio" in sys.argv else "asyncio")
