"""AsyncCognito's pycognito-compatible surface against the moto server (real HTTP):
positional arguments, admin-only sessions, ``boto3_client_kwargs``, the public
``client``, ``cognito_obj=`` and the attributes set after ``register``."""

from __future__ import annotations

from typing import Any

import pytest
from aiobotocore.config import AioConfig
from botocore.config import Config
from botocore.stub import Stubber

from acognito import AsyncCognito, CognitoPool, Group, User
from acognito.errors import ConfigurationError

pytestmark = pytest.mark.anyio

PASSWORD = "Sup3r-Secret-Passw0rd!"


def _client_kwargs(pool: Any) -> dict[str, Any]:
    return {
        "endpoint_url": pool.endpoint_url,
        "region_name": pool.region,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }


def test_pycognitos_positional_order() -> None:
    c = AsyncCognito(
        "us-east-1_abc", "client1", "eu-west-1", "bob", "id.to.ken", "re.fr.esh", "acc.ess.tok"
    )
    assert (c.user_pool_region, c.username) == ("eu-west-1", "bob")
    assert (c.id_token, c.refresh_token, c.access_token) == (
        "id.to.ken",
        "re.fr.esh",
        "acc.ess.tok",
    )
    # acognito's own options stay keyword-only after pycognito's 13 arguments.
    with pytest.raises(TypeError):
        AsyncCognito(*(["us-east-1_abc", "client1"] + [None] * 11 + ["http://127.0.0.1:9"]))  # type: ignore[misc]


def test_boto3_client_kwargs_are_checked_by_name_and_keep_secrets_out() -> None:
    with pytest.raises(ConfigurationError, match="verify") as refused:
        AsyncCognito("us-east-1_abc", "client1", boto3_client_kwargs={"verify": "s3cr3t-value"})
    assert "s3cr3t-value" not in str(refused.value)
    c = AsyncCognito(
        "us-east-1_abc",
        "client1",
        boto3_client_kwargs={
            "endpoint_url": "http://127.0.0.1:9",
            "region_name": "eu-west-3",
            "aws_access_key_id": "AKIA-kw",
            "aws_secret_access_key": "aws-secret-kw",
            "aws_session_token": "session-token-kw",
        },
    )
    assert (c.endpoint_url, c.user_pool_region) == ("http://127.0.0.1:9", "eu-west-3")
    for secret in ("AKIA-kw", "aws-secret-kw", "session-token-kw"):
        assert secret not in repr(c) + repr(c._settings)
    other = AsyncCognito(
        "us-east-1_abc",
        "client1",
        boto3_client_kwargs={
            "endpoint_url": "http://127.0.0.1:9",
            "region_name": "eu-west-3",
            "aws_access_key_id": "AKIA-kw",
            "aws_secret_access_key": "aws-secret-kw",
            "aws_session_token": "another-token",
        },
    )
    assert other._settings.key != c._settings.key  # credentials take part in the pool key
    # An explicit argument wins over the same setting in boto3_client_kwargs.
    explicit = AsyncCognito(
        "us-east-1_abc", "client1", "ap-south-1", boto3_client_kwargs={"region_name": "eu-west-3"}
    )
    assert explicit.user_pool_region == "ap-south-1"
    with pytest.raises(ConfigurationError, match="aws_session_token"):
        AsyncCognito("us-east-1_abc", "c1", boto3_client_kwargs={"aws_session_token": "t"})


async def test_boto3_client_kwargs_reach_the_client(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "kit", PASSWORD)
    kwargs = {
        **_client_kwargs(cognito_pool),
        "aws_session_token": "session-token-kw",
        "config": Config(read_timeout=7),
    }
    async with AsyncCognito(
        cognito_pool.user_pool_id,
        cognito_pool.public_client.client_id,
        username="kit",
        boto3_client_kwargs=kwargs,
    ) as c:
        await c.authenticate(PASSWORD)
        assert c.access_claims is not None
        assert c.client.meta.config.read_timeout == 7  # a botocore Config, converted
        assert c.client.meta.region_name == cognito_pool.region
        credentials = await c.client._request_signer._credentials.get_frozen_credentials()
        assert (credentials.access_key, credentials.token) == ("testing", "session-token-kw")


async def test_client_exists_once_open_and_takes_a_stubber(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "lou", PASSWORD)
    c = AsyncCognito(**cognito_pool.cognito_kwargs(), username="lou")
    with pytest.raises(ConfigurationError, match="get_client"):
        _ = c.client
    client = await c.get_client()
    assert c.client is client
    direct = await client.admin_get_user(UserPoolId=c.user_pool_id, Username="lou")
    assert direct["Username"] == "lou"
    with Stubber(client) as stub:
        stub.add_response(
            "admin_get_user",
            {"Username": "lou", "UserAttributes": [{"Name": "name", "Value": "Stubbed"}]},
            {"UserPoolId": c.user_pool_id, "Username": "lou"},
        )
        user = await c.admin_get_user()
        stub.assert_no_pending_responses()
    assert user.name == "Stubbed"
    await c.close()
    async with CognitoPool(cognito_pool.user_pool_id, None, **_pool_kwargs(cognito_pool)) as pool:
        assert pool.client is await pool.get_client()


def _pool_kwargs(pool: Any) -> dict[str, Any]:
    return {
        "endpoint_url": pool.endpoint_url,
        "user_pool_region": pool.region,
        "access_key": "testing",
        "secret_key": "testing",
    }


async def test_admin_only_session_without_client_id(cognito_admin, cognito_pool) -> None:
    pool_id = cognito_pool.user_pool_id
    await cognito_admin.create_group(pool_id, "ops")
    async with AsyncCognito(pool_id, None, **_pool_kwargs(cognito_pool)) as admin:
        assert admin.client_id is None
        await admin.admin_create_user("max", PASSWORD, {"MessageAction": "SUPPRESS"})
        await admin.admin_add_user_to_group("max", "ops")
        assert [u.username for u in await admin.get_users()] == ["max"]
        assert (await admin.admin_get_user(username="max")).username == "max"
        assert await admin.admin_list_groups_for_user("max") == ["ops"]
        assert [g.group_name for g in await admin.get_groups()] == ["ops"]
        assert admin.pool is not None
        assert admin.pool.id_verifier is None  # nothing to check aud / client_id against
        calls = (
            ("authenticate", admin.authenticate(PASSWORD)),
            ("register", admin.register("new", PASSWORD)),
            ("initiate_forgot_password", admin.initiate_forgot_password()),
            ("token verification", admin.verify_token("a.b.c", "id_token", "id")),
        )
        for operation, call in calls:
            with pytest.raises(ConfigurationError, match=operation):
                await call
    with pytest.raises(ConfigurationError, match="client_secret"):
        AsyncCognito(pool_id, None, client_secret="s")


class PycognitoUser(User):
    """A user_class written for pycognito: it takes ``cognito_obj=``."""

    def __init__(self, username, attribute_list, cognito_obj, metadata=None, attr_map=None):
        super().__init__(username, attribute_list, cognito_obj=cognito_obj, metadata=metadata)
        self.made_by = "pycognito-style"


class PycognitoGroup(Group):
    def __init__(self, group_data, cognito_obj):
        super().__init__(group_data, cognito_obj=cognito_obj)


async def test_pycognito_style_user_and_group_classes(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "ned", PASSWORD)
    await cognito_admin.create_group(cognito_pool.user_pool_id, "crew", precedence=2)

    class Session(AsyncCognito):
        user_class = PycognitoUser
        group_class = PycognitoGroup

    async with Session(**cognito_pool.cognito_kwargs(), username="ned") as c:
        user = await c.admin_get_user()
        assert isinstance(user, PycognitoUser)
        assert (user.made_by, user.username) == ("pycognito-style", "ned")
        group = await c.get_group("crew")
        assert isinstance(group, PycognitoGroup)
        assert group.precedence == 2
    with pytest.raises(ConfigurationError, match="not both"):
        User("x", [], cognito=c, cognito_obj=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="session"):
        Group({"GroupName": "g"})


async def test_register_and_admin_create_user_set_pycognitos_attributes(cognito_pool) -> None:
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        c.set_base_attributes(email="ola@example.com", given_name="Ola")
        await c.register("ola", PASSWORD)
        assert (c.username, c.email, c.given_name) == ("ola", "ola@example.com", "Ola")
        assert not hasattr(c, "password")  # unlike pycognito, never kept on the session
        await c.admin_create_user("pia", PASSWORD, family_name="Lind")
        assert (c.username, c.family_name) == ("pia", "Lind")
        c._set_attributes({"ResponseMetadata": {"HTTPStatusCode": 400}}, {"ignored": 1})
        assert not hasattr(c, "ignored")
        c._set_attributes({}, {"client_id": "overwritten?"})  # a read-only setting stays
        assert c.client_id == cognito_pool.public_client.client_id


def test_aioconfig_passes_through_and_other_configs_are_refused() -> None:
    config = AioConfig(read_timeout=3)
    c = AsyncCognito("us-east-1_abc", "client1", botocore_config=config)
    assert c._settings.botocore_config is config
    with pytest.raises(ConfigurationError, match="Config"):
        AsyncCognito("us-east-1_abc", "client1", boto3_client_kwargs={"config": {"x": 1}})
