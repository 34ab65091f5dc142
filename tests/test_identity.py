"""AWS credentials from an identity pool (acognito.identity) against the local moto server,
which also emulates cognito-identity, STS and S3: real HTTP, asyncio and trio."""

from __future__ import annotations

import aiobotocore.session
import pytest

from acognito import AsyncCognito
from acognito.errors import ConfigurationError
from acognito.identity import IdentityPoolCredentials, _IdentityClient

pytestmark = pytest.mark.anyio

PASSWORD = "Sup3r-Secret-Passw0rd!"
MOTO_ACCESS_KEY = "TESTACCESSKEY12345"  # what moto's GetCredentialsForIdentity hands out


@pytest.fixture
def no_ambient_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No AWS credentials anywhere but ours: env, files and instance metadata are off."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


async def _identity_pool(endpoint_url: str, pool) -> str:
    """An identity pool that trusts the user pool's public client."""
    admin = _IdentityClient(region=pool.region, endpoint_url=endpoint_url)
    try:
        response = await admin.call(
            "create_identity_pool",
            IdentityPoolName="acognito_tests",
            AllowUnauthenticatedIdentities=False,
            CognitoIdentityProviders=[
                {
                    "ProviderName": f"cognito-idp.{pool.region}.amazonaws.com/{pool.user_pool_id}",
                    "ClientId": pool.public_client.client_id,
                }
            ],
        )
    finally:
        await admin.close()
    return str(response["IdentityPoolId"])


async def test_credentials_sign_requests_moto_accepts(
    cognito_local, cognito_admin, cognito_pool, no_ambient_aws_credentials
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "ivy", PASSWORD)
    pool_id = await _identity_pool(cognito_local.endpoint_url, cognito_pool)
    bare = aiobotocore.session.get_session()
    assert await bare.get_credentials() is None  # nothing ambient to fall back on
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="ivy") as c:
        await c.authenticate(PASSWORD)
        async with IdentityPoolCredentials(
            c,
            pool_id,
            endpoint_url=cognito_local.endpoint_url,
            advisory_timeout=30,
            mandatory_timeout=10,
        ) as identity:
            identity_id = await identity.identity_id()
            assert identity_id.startswith(f"{cognito_pool.region}:")
            assert identity_id in repr(identity) and "eyJ" not in repr(identity)
            session = identity.install(aiobotocore.session.get_session())
            frozen = await (await session.get_credentials()).get_frozen_credentials()
            assert frozen.access_key == MOTO_ACCESS_KEY and frozen.token
            endpoint = {
                "region_name": cognito_pool.region,
                "endpoint_url": cognito_local.endpoint_url,
            }
            async with session.create_client("sts", **endpoint) as sts:
                caller = await sts.get_caller_identity()
                assert caller["Account"]
            async with session.create_client("s3", **endpoint) as s3:
                await s3.create_bucket(Bucket="acognito-identity-test")
                names = [b["Name"] for b in (await s3.list_buckets())["Buckets"]]
                assert "acognito-identity-test" in names
            # Credentials valid for 90 s with a 30 s advisory window: fetched once.
            assert identity.fetches == 1


async def test_refresh_before_expiry_renews_the_user_tokens_first(
    cognito_local, cognito_admin, cognito_pool, no_ambient_aws_credentials
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "jon", PASSWORD)
    pool_id = await _identity_pool(cognito_local.endpoint_url, cognito_pool)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="jon") as c:
        await c.authenticate(PASSWORD)
        async with IdentityPoolCredentials(
            c,
            pool_id,
            endpoint_url=cognito_local.endpoint_url,
            advisory_timeout=120,  # moto's credentials last 90 s: always due for refresh
            mandatory_timeout=60,
        ) as identity:
            creds = await identity.credentials()
            assert identity.fetches == 1
            first_id_token = c.id_token
            c.refresh_margin = 10**9  # the user's tokens now count as about to expire
            frozen = await creds.get_frozen_credentials()
            assert frozen.access_key == MOTO_ACCESS_KEY
            assert identity.fetches == 2
            assert c.id_token and c.id_token != first_id_token  # refreshed through the session


async def test_needs_a_signed_in_user_and_a_pool_id(cognito_pool) -> None:
    c = AsyncCognito(**cognito_pool.cognito_kwargs(), username="nobody")
    with pytest.raises(ConfigurationError):
        IdentityPoolCredentials(c, "not-a-pool-id")
    with pytest.raises(ConfigurationError):
        IdentityPoolCredentials(c, "us-east-1:x", advisory_timeout=1, mandatory_timeout=5)
    async with IdentityPoolCredentials(
        c, "us-east-1:00000000-0000-0000-0000-000000000000", endpoint_url="http://127.0.0.1:9"
    ) as identity:
        with pytest.raises(ConfigurationError, match="access token|id token"):
            await identity.credentials()
    await c.close()
