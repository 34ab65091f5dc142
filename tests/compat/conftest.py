"""pycognito's own suite reads its pool from environment variables (as its CI does
against a real pool). Here they point at a fresh pool on the local Cognito, and
botocore's endpoint variable sends every call there: the ports run over real HTTP."""

from __future__ import annotations

import json
import urllib.request

import anyio
import pytest

from acognito.testing import CognitoAdmin

PORT_USERNAME = "bob"
PORT_PASSWORD = "Bob-Passw0rd!x"


@pytest.fixture(autouse=True)
def pycognito_env(request, monkeypatch):
    if "cognito_local" not in request.fixturenames:  # the ports ask for it with usefixtures
        yield None
        return
    local = request.getfixturevalue("cognito_local")

    async def make():
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            pool = await admin.create_local_pool()
            await admin.create_user(pool.user_pool_id, PORT_USERNAME, PORT_PASSWORD)
            return pool

    pool = anyio.run(make)
    with urllib.request.urlopen(pool.jwks_uri, timeout=30) as answer:  # loopback only
        jwks = json.loads(answer.read())
    for name, value in {
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": local.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": local.region,
        "COGNITO_JWKS": json.dumps(jwks),
        "COGNITO_USER_POOL_ID": pool.user_pool_id,
        "COGNITO_APP_ID": pool.public_client.client_id,
        "COGNITO_TEST_USERNAME": PORT_USERNAME,
        "COGNITO_TEST_PASSWORD": PORT_PASSWORD,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("USE_CLIENT_SECRET", raising=False)
    yield pool
