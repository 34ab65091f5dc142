"""Service errors read like botocore's ClientError; acognito.exceptions has pycognito's names."""

from __future__ import annotations

import subprocess
import sys

import anyio
import boto3
import pytest
from botocore.exceptions import ClientError

import acognito.errors
import acognito.exceptions
from acognito import AsyncCognito
from acognito.errors import CognitoServiceError, NotAuthorizedError, UserNotFoundError

PYCOGNITO_EXCEPTIONS = [
    "WarrantException",
    "ForceChangePasswordException",
    "TokenVerificationException",
    "MFAChallengeException",
    "SoftwareTokenMFAChallengeException",
    "SMSMFAChallengeException",
]


def test_exceptions_module_has_every_pycognito_name_as_the_acognito_class() -> None:
    import pycognito.exceptions as theirs

    ours = {n for n in dir(acognito.exceptions) if n[0].isupper()}
    assert {n for n in dir(theirs) if n[0].isupper()} == set(PYCOGNITO_EXCEPTIONS) == ours
    for name in PYCOGNITO_EXCEPTIONS:
        assert getattr(acognito.exceptions, name) is getattr(acognito.errors, name)
    # The hierarchy pycognito users catch by.
    E = acognito.exceptions
    assert issubclass(E.SMSMFAChallengeException, E.MFAChallengeException)
    assert issubclass(E.SoftwareTokenMFAChallengeException, E.MFAChallengeException)
    for name in PYCOGNITO_EXCEPTIONS:
        assert issubclass(getattr(E, name), E.WarrantException)


def test_exceptions_and_errors_modules_import_no_botocore() -> None:
    """Decision: expose ClientError's shape rather than subclass it, so importing the
    errors never drags in botocore (see the migration guide)."""
    import ast
    from pathlib import Path

    for module in (acognito.errors, acognito.exceptions):
        tree = ast.parse(Path(module.__file__).read_text())
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {m for m in imported if m.split(".")[0] in ("botocore", "aiobotocore")}
    assert not issubclass(CognitoServiceError, ClientError)


def test_exceptions_and_errors_import_neither_botocore_nor_aiobotocore() -> None:
    code = (
        "import sys, acognito.exceptions, acognito.errors;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('botocore', 'aiobotocore')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_response_shape_is_built_fresh_and_hides_nothing_secret() -> None:
    err = NotAuthorizedError(
        "Incorrect username or password.",
        request_id="rid-1",
        operation="InitiateAuth",
        status_code=400,
    )
    assert err.response == {
        "Error": {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."},
        "ResponseMetadata": {"RequestId": "rid-1", "HTTPStatusCode": 400},
    }
    assert err.operation_name == "InitiateAuth"
    err.response["Error"]["Code"] = "edited"
    assert err.response["Error"]["Code"] == "NotAuthorizedException"
    bare = CognitoServiceError("boom", code="SomethingNewException")
    assert bare.response == {
        "Error": {"Code": "SomethingNewException", "Message": "boom"},
        "ResponseMetadata": {},
    }
    assert bare.operation_name is None


pytestmark = pytest.mark.anyio


async def test_a_real_service_error_matches_what_boto3_sees(cognito_pool, cognito_admin) -> None:
    """The same failing call through boto3 and through acognito, against one local server."""
    await cognito_admin.create_user(cognito_pool.user_pool_id, "alice", "Passw0rd!Passw0rd")
    kwargs = cognito_pool.cognito_kwargs()
    boto = boto3.client(
        "cognito-idp",
        region_name=kwargs["user_pool_region"],
        endpoint_url=kwargs["endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def boto_admin_get_user() -> ClientError:
        with pytest.raises(ClientError) as caught:
            boto.admin_get_user(UserPoolId=cognito_pool.user_pool_id, Username="nobody")
        return caught.value

    theirs = await anyio.to_thread.run_sync(boto_admin_get_user)
    async with AsyncCognito(**kwargs, username="nobody") as cognito:
        with pytest.raises(UserNotFoundError) as caught:
            await cognito.admin_get_user()
    ours = caught.value
    assert ours.response["Error"] == {
        "Code": theirs.response["Error"]["Code"],
        "Message": theirs.response["Error"]["Message"],
    }
    assert ours.operation_name == theirs.operation_name == "AdminGetUser"
    meta = ours.response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == theirs.response["ResponseMetadata"]["HTTPStatusCode"]
    assert meta["RequestId"]
