"""acognito.AWSSRP (the async counterpart of pycognito's AWSSRP) against the shipped
local Cognito (acognito.testing), which checks the SRP and device proofs for real.

The device test follows pycognito's README example step by step, with ``await``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from acognito import AWSSRP
from acognito.errors import (
    ConfigurationError,
    ForceChangePasswordException,
    NotAuthorizedError,
    ResourceNotFoundError,
    SessionClosedError,
    SoftwareTokenMFAChallengeException,
)
from acognito.tokens import peek_claims
from local_server import LocalServer

pytestmark = pytest.mark.anyio

REGION = "us-east-1"
PASSWORD = "Passw0rd!"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def no_test_server_bugs(server: LocalServer) -> Iterator[None]:
    yield
    assert server.internal_errors == []


@pytest.fixture
async def client(server: LocalServer, anyio_backend: str) -> AsyncIterator[Any]:
    """The caller's own aiobotocore client (httpx backend on trio), closed by the test."""
    config = AioConfig(retries={"total_max_attempts": 1})
    if anyio_backend == "trio":
        from aiobotocore.httpxsession import HttpxSession  # aiohttp cannot run on trio

        config = config.merge(AioConfig(http_session_cls=HttpxSession))
    context = get_session().create_client(
        "cognito-idp",
        region_name=REGION,
        endpoint_url=server.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )
    aio_client = await context.__aenter__()
    try:
        yield aio_client
    finally:
        await context.__aexit__(None, None, None)


def challenges(server: LocalServer, since: int) -> list[str]:
    return [
        str(r.params.get("ChallengeName"))
        for r in server.requests[since:]
        if r.operation == "RespondToAuthChallenge"
    ]


async def test_readme_device_example(server: LocalServer, client: Any) -> None:
    pool_id = server.create_pool(device_tracking=True, device_remember_on_prompt=True)
    client_id, secret = server.create_client(pool_id, secret=True)
    server.create_user(pool_id, "una", PASSWORD)
    common: dict[str, Any] = {
        "username": "una",
        "password": PASSWORD,
        "pool_id": pool_id,
        "client_id": client_id,
        "client": client,
        "client_secret": secret,
    }

    aws = AWSSRP(**common)
    tokens = await aws.authenticate_user()
    result = tokens["AuthenticationResult"]
    device_key = result["NewDeviceMetadata"]["DeviceKey"]
    device_group_key = result["NewDeviceMetadata"]["DeviceGroupKey"]
    response, device_password = await aws.confirm_device(tokens, device_name="laptop")
    assert response["UserConfirmationNecessary"] is True
    assert aws.device_key == device_key
    (snapshot,) = server.devices(pool_id, "una")
    assert (snapshot.confirmed, snapshot.remembered, snapshot.name) == (True, False, "laptop")
    await aws.update_device_status(True, result["AccessToken"], device_key)
    assert server.devices(pool_id, "una")[0].remembered is True

    aws_new = AWSSRP(
        **common,
        device_key=device_key,
        device_group_key=device_group_key,
        device_password=device_password,
    )
    mark = len(server.requests)
    tokens_new = await aws_new.authenticate_user()
    assert challenges(server, mark) == [
        "PASSWORD_VERIFIER",
        "DEVICE_SRP_AUTH",
        "DEVICE_PASSWORD_VERIFIER",
    ]
    new_result = tokens_new["AuthenticationResult"]
    assert "NewDeviceMetadata" not in new_result
    assert peek_claims(new_result["AccessToken"])["device_key"] == device_key

    await aws.forget_device(new_result["AccessToken"], device_key)
    assert aws.device_key is None
    assert server.devices(pool_id, "una") == []
    with pytest.raises(ResourceNotFoundError, match="Device does not exist"):
        await aws_new.authenticate_user()

    # The wrapper never closes a client it did not create.
    await aws.close()
    await aws_new.close()
    assert (await client.list_devices(AccessToken=new_result["AccessToken"]))["Devices"] == []
    with pytest.raises(SessionClosedError):
        await aws.authenticate_user()


async def test_wrong_password_and_wrong_device_password(server: LocalServer, client: Any) -> None:
    pool_id = server.create_pool(device_tracking=True)
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "vic", PASSWORD)
    common: dict[str, Any] = {"pool_id": pool_id, "client_id": client_id, "client": client}
    with pytest.raises(NotAuthorizedError):
        await AWSSRP("vic", "Wrong-Passw0rd!", **common).authenticate_user()
    async with AWSSRP("vic", PASSWORD, **common) as aws:
        tokens = await aws.authenticate_user()
        _, device_password = await aws.confirm_device(tokens)
        assert (
            aws.device_group_key
            == tokens["AuthenticationResult"]["NewDeviceMetadata"]["DeviceGroupKey"]
        )
    wrong = AWSSRP(
        "vic",
        PASSWORD,
        **common,
        device_key=aws.device_key,
        device_group_key=aws.device_group_key,
        device_password=device_password + "x",
    )
    mark = len(server.requests)
    with pytest.raises(NotAuthorizedError):
        await wrong.authenticate_user()
    assert challenges(server, mark)[-1] == "DEVICE_PASSWORD_VERIFIER"


async def test_set_new_password_challenge(server: LocalServer, client: Any) -> None:
    pool_id = server.create_pool(username_attributes=["email"])
    client_id, secret = server.create_client(pool_id, secret=True)
    email = "wyn@example.com"
    sub = server.create_user(pool_id, email, "Temp-Passw0rd!", status="FORCE_CHANGE_PASSWORD")
    common: dict[str, Any] = {
        "pool_id": pool_id,
        "client_id": client_id,
        "client": client,
        "client_secret": secret,
    }
    with pytest.raises(ForceChangePasswordException):
        await AWSSRP(email, "Temp-Passw0rd!", **common).authenticate_user()
    aws = AWSSRP(email, "Temp-Passw0rd!", **common)
    tokens = await aws.set_new_password_challenge("N3w-Passw0rd!")
    assert peek_claims(tokens["AuthenticationResult"]["AccessToken"])["username"] == sub
    assert server.user(pool_id, email).status == "CONFIRMED"
    done = await AWSSRP(email, "N3w-Passw0rd!", **common).authenticate_user()
    assert "AccessToken" in done["AuthenticationResult"]
    # A user who needs no new password just signs in.
    again = await AWSSRP(email, "N3w-Passw0rd!", **common).set_new_password_challenge("X-1a-b2c3")
    assert "AccessToken" in again["AuthenticationResult"]


async def test_mfa_challenge_is_raised(server: LocalServer, client: Any) -> None:
    pool_id = server.create_pool(mfa="OPTIONAL")
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "xia", PASSWORD)
    server.enable_totp(pool_id, "xia")
    aws = AWSSRP("xia", PASSWORD, pool_id, client_id, client=client)
    with pytest.raises(SoftwareTokenMFAChallengeException) as challenge:
        await aws.authenticate_user()
    assert challenge.value.get_tokens()["Username"] == "xia"


async def test_own_client_when_none_is_given(server: LocalServer) -> None:
    pool_id = server.create_pool()
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "yul", PASSWORD)
    async with AWSSRP("yul", PASSWORD, pool_id, client_id, endpoint_url=server.endpoint_url) as aws:
        tokens = await aws.authenticate_user()
        assert "AccessToken" in tokens["AuthenticationResult"]
    with pytest.raises(SessionClosedError):
        await aws.authenticate_user()


def test_repr_hides_password_secret_and_device_password() -> None:
    aws = AWSSRP(
        "zed",
        "pass-SECRET-word",
        "us-east-1_abc",
        "client1",
        client=object(),
        client_secret="client-SECRET",
        device_key="us-east-1_dev",
        device_group_key="-grp",
        device_password="device-SECRET",
    )
    text = repr(aws)
    assert "SECRET" not in text
    assert "zed" in text and "us-east-1_dev" in text


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("", PASSWORD, "us-east-1_abc", "c"), {}),
        (("u", "", "us-east-1_abc", "c"), {}),
        (("u", PASSWORD, "noregion", "c"), {}),
        (("u", PASSWORD, "us-east-1_abc", ""), {}),
        (("u", PASSWORD, "us-east-1_abc", "c"), {"device_key": "k"}),
    ],
)
def test_bad_arguments_are_rejected_up_front(args: tuple[str, ...], kwargs: Any) -> None:
    with pytest.raises(ConfigurationError):
        AWSSRP(*args, client=object(), **kwargs)


async def test_confirm_device_needs_new_device_metadata() -> None:
    aws = AWSSRP("u", PASSWORD, "us-east-1_abc", "c", client=object())
    with pytest.raises(ConfigurationError, match="NewDeviceMetadata"):
        await aws.confirm_device({"AuthenticationResult": {"AccessToken": "a.b.c"}})


# ------------------------------------------------------------- pycognito's public surface


async def test_pycognito_manual_exchange_with_get_auth_params_and_process_challenge(
    server: LocalServer, client: Any
) -> None:
    """pycognito's hand-driven SRP (get_auth_params, process_challenge), with ``await``:
    the test server checks the password proof, so a wrong password is refused."""
    pool_id = server.create_pool()
    client_id, secret = server.create_client(pool_id, secret=True)
    server.create_user(pool_id, "yan", PASSWORD)

    async def exchange(password: str) -> dict[str, Any]:
        # pycognito's positional order: pool_region (None: the client has it), client, secret.
        aws = AWSSRP("yan", password, pool_id, client_id, None, client, secret)
        params = await aws.get_auth_params()
        assert set(params) == {"USERNAME", "SRP_A", "SECRET_HASH"}
        assert params["SECRET_HASH"] == AWSSRP.get_secret_hash("yan", client_id, secret)
        start = await client.initiate_auth(
            AuthFlow="USER_SRP_AUTH", AuthParameters=params, ClientId=client_id
        )
        assert start["ChallengeName"] == AWSSRP.PASSWORD_VERIFIER_CHALLENGE
        answer = await aws.process_challenge(start["ChallengeParameters"], params)
        assert answer["TIMESTAMP"].endswith(f"UTC {answer['TIMESTAMP'][-4:]}")
        return dict(
            await client.respond_to_auth_challenge(
                ClientId=client_id,
                ChallengeName="PASSWORD_VERIFIER",
                ChallengeResponses=answer,
            )
        )

    tokens = await exchange(PASSWORD)
    assert peek_claims(tokens["AuthenticationResult"]["AccessToken"])["username"] == "yan"
    with pytest.raises(client.exceptions.NotAuthorizedException):
        await exchange("Wrong-Passw0rd!")


async def test_process_challenge_refuses_a_malformed_challenge() -> None:
    aws = AWSSRP("zed", PASSWORD, "us-east-1_abc", "client1")
    params = await aws.get_auth_params()
    assert await aws.get_auth_params() == params  # one ``a`` per AWSSRP, as pycognito
    with pytest.raises(ConfigurationError, match="SRP_B"):
        await aws.process_challenge({"USER_ID_FOR_SRP": "zed", "SALT": "ab"}, params)
    await aws.close()


def test_cognito_formatted_timestamp_is_pycognitos() -> None:
    from datetime import datetime, timedelta, timezone

    stamp = AWSSRP.get_cognito_formatted_timestamp
    assert stamp(datetime(2022, 1, 2, 12, 0, 0)) == "Sun Jan 2 12:00:00 UTC 2022"
    paris = timezone(timedelta(hours=1))
    assert stamp(datetime(2022, 1, 1, 1, 0, 5, tzinfo=paris)) == "Sat Jan 1 00:00:05 UTC 2022"


def test_positional_pool_region_and_client_rules() -> None:
    aws = AWSSRP("u", PASSWORD, "us-east-1_abc", "client1", "eu-west-1")
    assert aws._idp.region == "eu-west-1"
    with pytest.raises(ConfigurationError, match="not yet|first use|await a call"):
        _ = aws.client
    with pytest.raises(ConfigurationError, match="pool_region or client"):
        AWSSRP("u", PASSWORD, "us-east-1_abc", "client1", "eu-west-1", object())


def test_a_boto3_client_is_refused_with_what_to_pass_instead() -> None:
    import botocore.session

    boto = botocore.session.get_session().create_client(
        "cognito-idp",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        with pytest.raises(ConfigurationError, match="aiobotocore") as refused:
            AWSSRP("u", PASSWORD, "us-east-1_abc", "client1", client=boto)
        assert "acognito.sync.AWSSRP" in str(refused.value)
    finally:
        boto.close()


async def test_client_is_the_one_passed_in(client: Any) -> None:
    aws = AWSSRP("u", PASSWORD, "us-east-1_abc", "client1", client=client)
    await aws.get_auth_params()  # no call to Cognito: the client is simply kept
    assert aws.client is client
