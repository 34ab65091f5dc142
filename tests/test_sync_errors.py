"""pycognito's error habits work after one import: ``acognito.sync``'s refusals are
botocore's ``ClientError`` and the client's modelled exception class as well as
acognito's typed error; they still pickle.

The functions below are pycognito code as its README and issues write it, run
unchanged but for the import (``from acognito.sync import ...`` instead of ``from
pycognito import ...``) against the local Cognito, which pycognito code reaches through
``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`` and ``COGNITO_JWKS``, as it would any
emulator. Plain blocking tests, no event loop in the test.
"""

from __future__ import annotations

import json
import pickle
import urllib.request

import anyio
import boto3
import botocore.exceptions
import pytest
from botocore.exceptions import ClientError

from acognito import errors
from acognito.sync import AWSSRP, Cognito
from acognito.testing import CognitoAdmin, LocalPool

PASSWORD = "Sup3r-Secret-Passw0rd!"


@pytest.fixture
def pool(cognito_local, monkeypatch) -> LocalPool:
    async def make() -> LocalPool:
        async with CognitoAdmin(cognito_local.endpoint_url, region=cognito_local.region) as admin:
            made = await admin.create_local_pool()
            await admin.create_user(made.user_pool_id, "bob", PASSWORD)
            return made

    made = anyio.run(make)
    with urllib.request.urlopen(made.jwks_uri, timeout=10) as answer:  # noqa: S310 - loopback
        jwks = answer.read().decode()
    # How pycognito code reaches an emulator: botocore's endpoint variable, its JWKS one.
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", cognito_local.endpoint_url)
    monkeypatch.setenv("COGNITO_JWKS", jwks)
    monkeypatch.setenv("AWS_DEFAULT_REGION", made.region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return made


# ------------------------------------------------------------- pycognito code, unchanged


def sign_in_with_client_error(pool_id: str, client_id: str, password: str) -> str:
    """The ClientError habit: read the service's code from the response."""
    u = Cognito(pool_id, client_id, username="bob")
    try:
        u.authenticate(password=password)
    except ClientError as e:
        if e.response["Error"]["Code"] == "NotAuthorizedException":
            return "wrong password: " + e.response["Error"]["Message"]
        raise
    return "signed in"


def sign_in_with_modelled_exceptions(pool_id: str, client_id: str, username: str) -> str:
    """The client.exceptions habit (the user's client is ``u.client``)."""
    u = Cognito(pool_id, client_id, username=username)
    try:
        u.authenticate(password="not-the-password")
    except u.client.exceptions.UserNotFoundException:
        return "no such user"
    except u.client.exceptions.NotAuthorizedException:
        return "wrong password"
    return "signed in"


def register(pool_id: str, client_id: str, username: str) -> str:
    u = Cognito(pool_id, client_id)
    u.set_base_attributes(email=f"{username}@example.com")
    try:
        u.register(username, PASSWORD)
    except u.client.exceptions.UsernameExistsException:
        return "taken"
    return "registered"


def confirm(pool_id: str, client_id: str, username: str, code: str) -> str:
    u = Cognito(pool_id, client_id)
    try:
        u.confirm_sign_up(code, username=username)
    except u.client.exceptions.CodeMismatchException as e:
        return f"{e.operation_name}: {e.response['Error']['Code']}"
    return "confirmed"


def srp_with_boto3_client(pool_id: str, client_id: str, password: str) -> str:
    """pycognito issue #78's shape: AWSSRP over a boto3 client, its exceptions caught."""
    client = boto3.client("cognito-idp")
    aws = AWSSRP(
        username="bob", password=password, pool_id=pool_id, client_id=client_id, client=client
    )
    try:
        aws.authenticate_user()
    except client.exceptions.NotAuthorizedException as e:
        return f"error: {e.response['Error']['Code']}"
    return "signed in"


# ------------------------------------------------------------- the tests


def test_client_error_habit(pool) -> None:
    client = pool.public_client.client_id
    assert sign_in_with_client_error(pool.user_pool_id, client, PASSWORD) == "signed in"
    found = sign_in_with_client_error(pool.user_pool_id, client, "not-the-password")
    assert found == "wrong password: Incorrect username or password."


def test_modelled_exceptions_habit(pool) -> None:
    client = pool.public_client.client_id
    assert sign_in_with_modelled_exceptions(pool.user_pool_id, client, "bob") == "wrong password"
    assert sign_in_with_modelled_exceptions(pool.user_pool_id, client, "eve") == "no such user"
    assert register(pool.user_pool_id, client, "carol") == "registered"
    assert register(pool.user_pool_id, client, "carol") == "taken"
    assert confirm(pool.user_pool_id, client, "carol", "000000") == (
        "ConfirmSignUp: CodeMismatchException"
    )


def test_aws_srp_with_a_boto3_client(pool) -> None:
    client = pool.public_client.client_id
    assert srp_with_boto3_client(pool.user_pool_id, client, PASSWORD) == "signed in"
    wrong = srp_with_boto3_client(pool.user_pool_id, client, "not-the-password")
    assert wrong == "error: NotAuthorizedException"


def test_one_error_is_all_three(pool) -> None:
    with Cognito(pool.user_pool_id, pool.public_client.client_id, username="bob") as u:
        with pytest.raises(ClientError) as caught:
            u.authenticate(password="not-the-password")
        e = caught.value
        # acognito's class, botocore's base, the client's modelled class.
        assert isinstance(e, errors.NotAuthorizedError)
        assert isinstance(e, errors.CognitoServiceError)
        assert isinstance(e, u.client.exceptions.NotAuthorizedException)
        assert isinstance(e, botocore.exceptions.ClientError)
        assert type(e).__name__ == "NotAuthorizedException"
        assert e.code == "NotAuthorizedException" and e.operation_name == e.operation
        assert e.response["Error"] == {
            "Code": "NotAuthorizedException",
            "Message": "Incorrect username or password.",
        }
        assert e.response["ResponseMetadata"]["RequestId"] == e.request_id
        assert "not-the-password" not in str(e) + repr(e)
        # Same classes for every error with that code: one class per pair, made once.
        with pytest.raises(ClientError) as again:
            u.authenticate(password="still-not-it")
        assert type(again.value) is type(e)


def test_they_pickle_as_their_acognito_class(pool) -> None:
    with Cognito(pool.user_pool_id, pool.public_client.client_id, username="bob") as u:
        with pytest.raises(errors.NotAuthorizedError) as caught:
            u.authenticate(password="not-the-password")
    back = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert type(back) is errors.NotAuthorizedError
    assert (back.code, back.message, back.request_id, back.operation) == (
        caught.value.code,
        caught.value.message,
        caught.value.request_id,
        caught.value.operation,
    )
    assert json.dumps(back.response) == json.dumps(caught.value.response)


def test_the_async_api_stays_free_of_botocore(pool) -> None:
    from acognito import AsyncCognito

    async def wrong() -> BaseException:
        async with AsyncCognito(
            pool.user_pool_id, pool.public_client.client_id, username="bob"
        ) as cognito:
            try:
                await cognito.authenticate("not-the-password")
            except errors.NotAuthorizedError as exc:
                return exc
        raise AssertionError("signed in with a wrong password")

    e = anyio.run(wrong)
    assert type(e) is errors.NotAuthorizedError and not isinstance(e, ClientError)


def test_local_errors_are_not_botocore_errors(pool) -> None:
    # Only Cognito's refusals take botocore's shape; acognito's own checks do not.
    with Cognito(pool.user_pool_id, pool.public_client.client_id) as u:
        with pytest.raises(errors.ConfigurationError) as caught:
            u.authenticate(password=PASSWORD)  # no username
    assert not isinstance(caught.value, ClientError)
