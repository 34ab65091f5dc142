"""An API Gateway Lambda authorizer with acognito: Allow, Deny, or exactly "Unauthorized".

``handler`` below is what you deploy (no AWS SDK imported). With ``COGNITO_JWKS`` set to
the pool's JWKS, a cold start decides without any network call. This script plays API
Gateway: it sets ``COGNITO_JWKS`` from the embedded local Cognito, builds the handler the
way a fresh container would, and sends it REST TOKEN events and an HTTP API event.

    pip install 'acognito[local]'
    python examples/lambda_authorizer.py [--trio]   # --trio: the sign-ins run on trio
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from typing import Any

import anyio

from acognito import AsyncCognito
from acognito.testing import CognitoAdmin, LocalCognito, LocalPool

PASSWORD = "Lambda-Example-Passw0rd!"
ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/orders"


def build_handler() -> Any:
    """What the Lambda's module does at import time (once per container)."""
    from acognito import CognitoVerifier
    from acognito.integrations.aws_lambda import ApiGatewayAuthorizer

    verifier = CognitoVerifier(
        os.environ["COGNITO_USER_POOL_ID"],
        client_id=os.environ["COGNITO_CLIENT_ID"],
        token_use="access",
    )
    authorizer = ApiGatewayAuthorizer(verifier, groups=["admin"])

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event.get("version") == "2.0":
            return authorizer.http_api(event)
        return authorizer.rest(event)

    return handler


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
        with urllib.request.urlopen(pool.jwks_uri, timeout=30) as answer:  # loopback
            jwks = answer.read().decode()
    # The local Cognito is stopped: from here on there is no JWKS endpoint at all.
    os.environ.update(
        COGNITO_JWKS=jwks,
        COGNITO_USER_POOL_ID=pool.user_pool_id,
        COGNITO_CLIENT_ID=pool.public_client.client_id,
    )
    handler = build_handler()
    for who in ("ada", "grace", "nobody"):
        token = tokens.get(who, "")
        event = {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": ARN}
        try:
            answer = handler(event, None)
        except Exception as exc:  # what API Gateway sees when the authorizer raises
            print(f"REST     {who:7} -> raised {str(exc)!r} (API Gateway answers 401)")
            raised = str(exc)
        else:
            effect = answer["policyDocument"]["Statement"][0]["Effect"]
            groups = answer.get("context", {}).get("cognito:groups", "-")
            print(f"REST     {who:7} -> {effect} policy, principalId set, groups={groups}")
            assert effect == ("Allow" if who == "ada" else "Deny")
            raised = ""
        assert raised == ("Unauthorized" if who == "nobody" else "")
    event = {"version": "2.0", "headers": {"authorization": f"Bearer {tokens['ada']}"}}
    print("HTTP API ada     ->", json.dumps(handler(event, None)["isAuthorized"]))


if __name__ == "__main__":
    main("trio" if "--trio" in sys.argv else "asyncio")
