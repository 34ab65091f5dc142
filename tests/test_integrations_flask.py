"""Flask through Flask itself (its test client): require_cognito, the CognitoFlask
extension from app.config, flask.g.cognito_claims; blocking, with the JWKS fetched by a
blocking request (no event loop anywhere). Every case of tests/api_support.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import flask
import pytest

from acognito import CognitoVerifier
from acognito.errors import ConfigurationError
from acognito.integrations.flask import CognitoFlask, require_cognito
from acognito.testing import LocalCognito, TokenIssuer
from api_support import (
    CASES,
    Case,
    World,
    build_world,
    check_answer,
    edge_jwks_server,
    tokens_for,
    write_answer_table,
)
from jwks_server import JwksTestServer

PROFILES = {"plain": {"plan": "free"}}


@pytest.fixture(scope="module")
def world(cognito_local: LocalCognito) -> Iterator[World]:
    yield build_world(cognito_local)
    write_answer_table()


def make_app(verifier: Any) -> flask.Flask:
    app = flask.Flask(__name__)

    @app.get("/me")
    @require_cognito(verifier)
    def me() -> dict[str, Any]:
        claims = flask.g.cognito_claims
        return {"username": claims.username, "profile": PROFILES.get(claims.username)}

    @app.get("/read")
    @require_cognito(verifier, scopes=["api/read"])
    def read() -> dict[str, Any]:
        return {"scopes": sorted(flask.g.cognito_claims.scopes)}

    @app.get("/admin")
    @require_cognito(verifier, groups=["admin", "ops"])
    def admin() -> dict[str, Any]:
        return {"groups": sorted(flask.g.cognito_claims.groups)}

    return app


def ask(app: flask.Flask, path: str, token: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().get(path, headers=headers)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case(world: World, case: Case) -> None:
    tokens = tokens_for(world)
    server = edge_jwks_server(world)
    try:
        app = make_app(world.verifier(server.url))
        if case.name == "JWKS outage":
            server.stop()
        resp = ask(app, case.path, tokens.get(case.token, ""))
    finally:
        server.stop()
    check_answer(case, "flask", resp.status_code, resp.headers, resp.data)


def test_the_jwks_is_fetched_once_by_a_blocking_request(world: World) -> None:
    server = edge_jwks_server(world)
    try:
        app = make_app(world.verifier(server.url))
        for i in range(5):
            token = world.issuer.access_token(client_id="edge-client", username=f"u{i}")
            assert ask(app, "/me", token).status_code == 200
        assert server.requests == 1
        # A rotated key: one more fetch, then every token of it verifies.
        rotated = TokenIssuer(world.issuer.user_pool_id)
        server.rotate({"keys": [*world.issuer.jwks()["keys"], rotated.jwk()]})
        for i in range(3):
            token = rotated.access_token(client_id="edge-client", username=f"r{i}")
            assert ask(app, "/me", token).status_code == 200
        assert server.requests == 2
    finally:
        server.stop()


def test_the_extension_reads_app_config(world: World) -> None:
    app = flask.Flask(__name__)
    app.config.update(
        COGNITO_USER_POOL_ID=world.pool.user_pool_id,
        COGNITO_CLIENT_ID=world.pool.public_client.client_id,
        COGNITO_JWKS_URI=world.pool.jwks_uri,
        COGNITO_REALM="shop",
        COGNITO_HYDRATE=True,
    )
    cognito = CognitoFlask(app)
    assert isinstance(cognito.verifier, CognitoVerifier)
    assert cognito.verifier.jwks_cache.kids(world.pool.jwks_uri)  # hydrated at init_app

    @app.get("/me")
    @require_cognito()
    def me() -> dict[str, Any]:
        return {"username": flask.g.cognito_claims.username}

    @app.get("/admin")
    @cognito.required(groups=["admin"])
    def admin() -> dict[str, Any]:
        return {"ok": True}

    assert ask(app, "/me", world.access).get_json() == {"username": "plain"}
    assert ask(app, "/admin", world.admin_access).status_code == 200
    refused = ask(app, "/admin", world.access)
    assert refused.status_code == 403
    assert refused.headers["WWW-Authenticate"].startswith('Bearer realm="shop"')
    missing = ask(app, "/me", "")
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="shop"'


def test_the_extension_needs_its_config() -> None:
    app = flask.Flask(__name__)
    with pytest.raises(ConfigurationError, match="COGNITO_USER_POOL_ID"):
        CognitoFlask(app)
    bare = flask.Flask(__name__)

    @bare.get("/x")
    @require_cognito()
    def x() -> str:
        return "x"

    bare.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(ConfigurationError, match="CognitoFlask"):
        bare.test_client().get("/x", headers={"Authorization": "Bearer x"})


def test_an_outage_after_keys_were_cached_is_503_not_401(world: World) -> None:
    server: JwksTestServer = edge_jwks_server(world)
    app = make_app(world.verifier(server.url))
    ok = world.issuer.access_token(client_id="edge-client")
    assert ask(app, "/me", ok).status_code == 200
    server.stop()
    rotated = TokenIssuer(world.issuer.user_pool_id).access_token(client_id="edge-client")
    assert ask(app, "/me", rotated).status_code == 503  # the refetch failed
    assert ask(app, "/me", rotated).status_code == 503  # the penalty box: still an outage
    assert ask(app, "/me", ok).status_code == 200  # cached keys keep working
