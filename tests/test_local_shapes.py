"""The shape checks: answers held against botocore's ``cognito-idp`` model.

The checker itself on answers made up to break each rule; then end to end, a server
whose answer breaks the model (a user put in a status Cognito does not have, through
the test API) answers AcognitoShapeViolation and reports it, and the pytest plugin
fails the test that drew it even when that test swallowed the error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from acognito.errors import CognitoServiceError, NotAuthorizedError
from acognito.testing import CognitoAdmin, LocalCognito
from acognito.testing._local_shapes import ShapeChecker

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def checker() -> ShapeChecker:
    return ShapeChecker()


def body(value: object) -> bytes:
    return json.dumps(value).encode()


def test_a_well_shaped_answer_passes(checker: ShapeChecker) -> None:
    answer = {
        "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeParameters": {"SALT": "ab", "SRP_B": "cd"},
        "AvailableChallenges": ["PASSWORD"],
    }
    assert checker.violations("InitiateAuth", 200, body(answer)) == []
    error = {"__type": "NotAuthorizedException", "message": "Incorrect username or password."}
    assert checker.violations("InitiateAuth", 400, body(error)) == []
    assert checker.violations("RevokeToken", 200, b"{}") == []
    assert checker.violations("NoSuchOperation", 200, body({"x": 1})) == []  # not modelled


@pytest.mark.parametrize(
    ("operation", "answer", "problem"),
    [
        ("InitiateAuth", {"Surprise": 1}, "unknown member Surprise"),
        ("GetUser", {"UserAttributes": []}, "required member Username is missing"),
        ("InitiateAuth", {"ChallengeName": "NOT_A_CHALLENGE"}, "is not one of"),
        ("InitiateAuth", {"AuthenticationResult": {"ExpiresIn": "3600"}}, "where a number"),
        ("InitiateAuth", {"AuthenticationResult": {"ExpiresIn": 1.5}}, "whole number"),
        ("InitiateAuth", {"ChallengeParameters": {"A": 1}}, "where a string"),
        ("InitiateAuth", {"AvailableChallenges": "PASSWORD"}, "where a list"),
        ("ConfirmDevice", {"UserConfirmationNecessary": "yes"}, "where a boolean"),
        (
            "SignUp",
            {"UserConfirmed": True, "UserSub": "s", "CodeDeliveryDetails": []},
            "where a structure",
        ),
        ("GetDevice", {"Device": {"DeviceCreateDate": [1]}}, "where a timestamp"),
    ],
)
def test_each_rule_is_checked(
    checker: ShapeChecker, operation: str, answer: object, problem: str
) -> None:
    found = checker.violations(operation, 200, body(answer))
    assert any(problem in f for f in found), found


def test_an_error_the_operation_does_not_model_is_a_violation(checker: ShapeChecker) -> None:
    found = checker.violations("GetUser", 400, body({"__type": "CodeMismatchException"}))
    assert found == ["GetUser: error CodeMismatchException is not one it models"]
    assert checker.violations("GetUser", 400, b"not json") != []
    # The JSON protocol's own error (a body that is no object) is any operation's.
    assert checker.violations("GetUser", 400, body({"__type": "SerializationException"})) == []


async def test_a_server_answer_outside_the_model_is_refused_and_reported() -> None:
    with LocalCognito(check_shapes=True) as local:  # stopped before the test ends
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            pool = await admin.create_local_pool()
            await admin.create_user(pool.user_pool_id, "ann", "Passw0rd!x")
            local.api.set_user_status(pool.user_pool_id, "ann", "ON_HOLIDAY")
            with pytest.raises(CognitoServiceError) as refused:
                await admin.idp.call("admin_get_user", UserPoolId=pool.user_pool_id, Username="ann")
            with pytest.raises(NotAuthorizedError):  # modelled errors pass untouched
                await admin.idp.call("get_user", AccessToken="not-a-token")
        assert refused.value.code == "AcognitoShapeViolation"
        assert "UserStatus" in str(refused.value) and "ON_HOLIDAY" in str(refused.value)
        (reported,) = local.api.shape_violations()
        assert reported.startswith("AdminGetUser: UserStatus: 'ON_HOLIDAY' is not one of")


def test_the_plugin_fails_a_test_that_drew_a_violation(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            import pytest

            pytestmark = pytest.mark.anyio


            @pytest.fixture
            def anyio_backend():
                return "asyncio"


            async def test_swallows_the_error(cognito_local, cognito_admin, cognito_pool, cognito_user):
                pool_id = cognito_pool.user_pool_id
                cognito_local.api.set_user_status(pool_id, cognito_user.pool_username, "LOST")
                try:
                    await cognito_admin.idp.call(
                        "admin_get_user", UserPoolId=pool_id, Username=cognito_user.pool_username
                    )
                except Exception:
                    pass  # the test would pass: the plugin fails it


            async def test_clean(cognito_local, cognito_session):
                assert cognito_session.access_token
            """
        )
    )
    env = {**os.environ, "ACOGNITO_LOCAL_CHECK_SHAPES": "1"}
    done = subprocess.run(  # noqa: S603 - our interpreter, a test file we wrote
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "anyio",
         str(tmp_path / "test_inner.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env=env,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 1, out[-3000:]
    assert "2 passed, 1 error" in out, out[-3000:]  # the body passed; its teardown fails it
    assert "ERROR test_inner.py::test_swallows_the_error" in out
    assert "answered outside Cognito's model" in out and "'LOST' is not one of" in out
