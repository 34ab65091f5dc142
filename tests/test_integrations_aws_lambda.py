"""Lambda authorizers with API Gateway's own event shapes (REST TOKEN and REQUEST, HTTP API
payload 2.0): Allow/Deny policies, exactly "Unauthorized" for a 401, another error for a
JWKS outage, flattened context; and a cold start with COGNITO_JWKS and no network."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from acognito import CognitoVerifier
from acognito.integrations.aws_lambda import (
    ApiGatewayAuthorizer,
    AuthorizerUnavailable,
    Unauthorized,
    flatten_context,
)
from acognito.testing import LocalCognito, TokenIssuer
from api_support import (
    ANSWERS,
    CASES,
    Case,
    World,
    build_world,
    edge_jwks_server,
    tokens_for,
    write_answer_table,
)

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/me"


@pytest.fixture(scope="module")
def world(cognito_local: LocalCognito) -> Iterator[World]:
    yield build_world(cognito_local)
    write_answer_table()


def rest_token_event(token: str) -> dict[str, Any]:
    return {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}" if token else "",
        "methodArn": ARN,
    }


def rest_request_event(token: str) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {"accept": "*/*"}
    return {"type": "REQUEST", "methodArn": ARN, "headers": headers}


def http_api_event(token: str) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return {"version": "2.0", "type": "REQUEST", "routeArn": ARN, "headers": headers}


def authorizers(verifier: Any) -> dict[str, ApiGatewayAuthorizer]:
    return {
        "/me": ApiGatewayAuthorizer(verifier),
        "/read": ApiGatewayAuthorizer(verifier, scopes=["api/read"]),
        "/admin": ApiGatewayAuthorizer(verifier, groups=["admin", "ops"]),
    }


def rest_outcome(authorizer: ApiGatewayAuthorizer, event: dict[str, Any]) -> tuple[str, Any]:
    try:
        answer = authorizer.rest(event)
    except Unauthorized as exc:
        assert str(exc) == "Unauthorized"  # noqa: PT017 - exactly: API Gateway matches the message
        return "401", None
    except AuthorizerUnavailable:
        return "500", None
    effect = answer["policyDocument"]["Statement"][0]["Effect"]
    assert answer["policyDocument"]["Statement"][0]["Resource"] == ARN
    return effect, answer


EXPECTED = {200: "Allow", 401: "401", 403: "Deny", 503: "500"}


@pytest.mark.parametrize("shape", ["TOKEN", "REQUEST"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rest_authorizer_answers_each_case(world: World, case: Case, shape: str) -> None:
    tokens = tokens_for(world)
    server = edge_jwks_server(world)
    try:
        authorizer = authorizers(world.verifier(server.url))[case.path]
        if case.name == "JWKS outage":
            server.stop()
        token = tokens.get(case.token, "")
        event = rest_token_event(token) if shape == "TOKEN" else rest_request_event(token)
        outcome, answer = rest_outcome(authorizer, event)
    finally:
        server.stop()
    shown = {"Allow": "Allow policy", "Deny": "Deny policy", "401": 'raise "Unauthorized"'}
    ANSWERS.add((case.name, f"lambda REST {shape}", 0, shown.get(outcome, "raise (500)")))
    assert outcome == EXPECTED[case.status], case.name
    if outcome == "Allow":
        assert answer["principalId"] and answer["principalId"] != "user"
        context = answer["context"]
        assert all(isinstance(v, (str, int, float, bool)) for v in context.values())
        assert "eyJ" not in json.dumps(answer)
    if outcome == "Deny":
        assert "context" not in answer


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_http_api_authorizer_answers_each_case(world: World, case: Case) -> None:
    tokens = tokens_for(world)
    server = edge_jwks_server(world)
    try:
        authorizer = authorizers(world.verifier(server.url))[case.path]
        if case.name == "JWKS outage":
            server.stop()
        try:
            answer: dict[str, Any] | None = authorizer.http_api(
                http_api_event(tokens.get(case.token, ""))
            )
        except AuthorizerUnavailable:
            answer = None
    finally:
        server.stop()
    ANSWERS.add(
        (
            case.name,
            "lambda HTTP API",
            0,
            "raise (500)" if answer is None else json.dumps(answer)[:40],
        )
    )
    if case.status == 503:
        assert answer is None
    else:
        assert answer is not None
        assert answer["isAuthorized"] is (case.status == 200)


def test_allow_carries_the_sub_and_flattened_claims(world: World) -> None:
    server = edge_jwks_server(world)
    try:
        authorizer = ApiGatewayAuthorizer(world.verifier(server.url), groups=["admin"])
        answer = authorizer.rest(rest_request_event(world.admin_access))
    finally:
        server.stop()
    context = answer["context"]
    assert answer["principalId"] == context["sub"]
    assert context["cognito:groups"] == "admin"
    assert context["username"] == "boss"
    assert isinstance(context["exp"], int)


def test_flatten_context() -> None:
    assert flatten_context(
        {"a": ["x", "y"], "b": {"k": [1]}, "c": None, "d": True, "e": 1.5, "f": [1, 2]}
    ) == {"a": "x,y", "b": '{"k":[1]}', "d": True, "e": 1.5, "f": "[1,2]"}


def test_odd_events_are_unauthorized_not_crashes() -> None:
    issuer = TokenIssuer("us-east-1_Odd1")
    verifier = CognitoVerifier(
        issuer.user_pool_id, client_id="c", token_use="access", jwks=issuer.jwks()
    )
    authorizer = ApiGatewayAuthorizer(verifier)
    token = issuer.access_token(client_id="c")
    for event in (
        {"type": "TOKEN", "authorizationToken": token},  # no methodArn
        {"type": "TOKEN", "authorizationToken": 5, "methodArn": ARN},
        {"type": "REQUEST", "methodArn": ARN, "headers": None},
        {"type": "REQUEST", "methodArn": ARN, "headers": {"Authorization": "Basic abc"}},
    ):
        with pytest.raises(Unauthorized):
            authorizer.rest(event)
    # A TOKEN authorizer may be given the bare token (no "Bearer ").
    bare = authorizer.rest({"type": "TOKEN", "authorizationToken": token, "methodArn": ARN})
    assert bare["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert authorizer.http_api({"identitySource": [f"Bearer {token}"]})["isAuthorized"] is True


HANDLER = """
import json, sys, time
started = time.perf_counter()
from acognito import CognitoVerifier
from acognito.integrations.aws_lambda import ApiGatewayAuthorizer

verifier = CognitoVerifier(sys.argv[1], client_id="c", token_use="access", jwks_uri=sys.argv[2])
authorizer = ApiGatewayAuthorizer(verifier)
answer = authorizer.rest({"type": "TOKEN", "authorizationToken": sys.argv[3], "methodArn": "arn"})
print(json.dumps({"effect": answer["policyDocument"]["Statement"][0]["Effect"],
                  "joserfc": any(m.startswith("joserfc") for m in sys.modules),
                  "aiobotocore": "aiobotocore" in sys.modules}))
"""


def test_a_cold_start_decides_with_cognito_jwks_and_no_network(tmp_path) -> None:
    issuer = TokenIssuer("us-east-1_Cold1")
    with socket.socket() as sock:  # a port nothing listens on: any fetch would fail
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/jwks.json"
    env = {**os.environ, "COGNITO_JWKS": json.dumps(issuer.jwks())}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            HANDLER,
            issuer.user_pool_id,
            dead,
            issuer.access_token(client_id="c"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert json.loads(out.stdout) == {"effect": "Allow", "joserfc": False, "aiobotocore": False}
