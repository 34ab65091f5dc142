"""AWS credentials for a signed-in user from a Cognito identity pool, used by any
aiobotocore client (S3 here). They refresh themselves before they expire.

Runs offline against the embedded local Cognito (moto, which also serves
cognito-identity and S3 on the same endpoint).

    python examples/identity_credentials.py [--trio]
"""

from __future__ import annotations

import sys

import aiobotocore.session
import anyio
import anyio.to_thread

from acognito import AsyncCognito
from acognito.identity import IdentityPoolCredentials, session_for_this_loop
from acognito.testing import CognitoAdmin, LocalCognito

PASSWORD = "Identity-Example-Passw0rd!"


async def create_identity_pool(local: LocalCognito, pool_id: str, client_id: str) -> str:
    """Set-up an administrator does once (AWS console, CloudFormation, ...)."""
    session = session_for_this_loop()  # on trio: aiobotocore's httpx backend
    async with session.create_client(
        "cognito-identity",
        region_name=local.region,
        endpoint_url=local.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as admin:
        response = await admin.create_identity_pool(
            IdentityPoolName="example",
            AllowUnauthenticatedIdentities=False,
            CognitoIdentityProviders=[
                {
                    "ProviderName": f"cognito-idp.{local.region}.amazonaws.com/{pool_id}",
                    "ClientId": client_id,
                }
            ],
        )
    return str(response["IdentityPoolId"])


async def main() -> None:
    local = LocalCognito()
    await anyio.to_thread.run_sync(local.start)
    try:
        async with CognitoAdmin(local.endpoint_url) as admin:
            pool = await admin.create_local_pool()
            await admin.create_user(pool.user_pool_id, "lovelace", PASSWORD)
        identity_pool_id = await create_identity_pool(
            local, pool.user_pool_id, pool.public_client.client_id
        )

        async with AsyncCognito(**pool.cognito_kwargs(), username="lovelace") as cognito:
            await cognito.authenticate(PASSWORD)
            async with IdentityPoolCredentials(
                cognito, identity_pool_id, endpoint_url=local.endpoint_url
            ) as identity:
                print("identity id:", await identity.identity_id())
                session = identity.install(aiobotocore.session.get_session())  # also trio-ready
                async with session.create_client(
                    "s3", region_name=local.region, endpoint_url=local.endpoint_url
                ) as s3:
                    await s3.create_bucket(Bucket="lovelace-notes")
                    buckets = (await s3.list_buckets())["Buckets"]
                    print("buckets, listed as the user:", [b["Name"] for b in buckets])
    finally:
        await anyio.to_thread.run_sync(local.stop)


if __name__ == "__main__":
    anyio.run(main, backend="trio" if "--trio" in sys.argv else "asyncio")
