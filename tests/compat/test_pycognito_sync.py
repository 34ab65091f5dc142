# pycognito's test text, kept as written: unittest-style asserts and its formatting.
# ruff: noqa: PT009, PT027, PT019, UP032, E402, I001
"""pycognito's own test suite (its ``tests.py``), ported to ``acognito.sync``.

Only the imports changed: ``pycognito`` became ``acognito.sync`` (in the ``patch``
targets too); the tests are pycognito's, to the letter. The environment points the
suite at a real pool on the local Cognito (see conftest.py), as pycognito's CI points it
at a real pool. pycognito's ``autospec`` tests call a mock of the method under test and
so prove only its signature: each is followed by acognito's addition, marked as such,
which makes the same call for real and asserts its outcome (compat_checks.py). Failing tests are strict
xfails naming why: a feature another branch adds (flip them at merge), or a
deliberate difference documented in docs/migration.md. pycognito's ``UtilsTestCase``
(``RequestsSrpAuth`` under ``moto.mock_aws`` and ``requests_mock``) is not ported: the
counterpart is the httpx auth ``CognitoAuth`` (tests/test_cognito_auth.py).
"""

import datetime
import unittest
from unittest.mock import patch

from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber
from envs import env
import pytest

pytestmark = pytest.mark.usefixtures("cognito_local")

from acognito.sync import Cognito, UserObj, GroupObj, TokenVerificationException
from acognito.sync import AWSSRP

# acognito's additions: the real checks after pycognito's autospec tests.
from acognito.errors import CodeMismatchError, ExpiredCodeError
from compat_checks import BOB_EMAIL, FORGOT_PASSWORD, NEW_PASSWORD, VERIFY_EMAIL, inbox, wrong


def _mock_authenticate_user(_, client=None, client_metadata=None):
    return {
        "AuthenticationResult": {
            "TokenType": "admin",
            "IdToken": "dummy_token",
            "AccessToken": "dummy_token",
            "RefreshToken": "dummy_token",
        }
    }


def _mock_get_params(_):
    return {"USERNAME": "bob", "SRP_A": "srp"}


def _mock_verify_tokens(self, token, id_name, token_use):
    if "wrong" in token:
        raise TokenVerificationException
    setattr(self, id_name, token)


class UserObjTestCase(unittest.TestCase):
    def setUp(self):
        if env("USE_CLIENT_SECRET", "False") == "True":
            self.app_id = env("COGNITO_APP_WITH_SECRET_ID")
        else:
            self.app_id = env("COGNITO_APP_ID")
        self.cognito_user_pool_id = env("COGNITO_USER_POOL_ID", "us-east-1_123456789")
        self.username = env("COGNITO_TEST_USERNAME")

        self.user = Cognito(
            user_pool_id=self.cognito_user_pool_id,
            client_id=self.app_id,
            username=self.username,
        )

        self.user_metadata = {
            "user_status": "CONFIRMED",
            "username": "bjones",
        }
        self.user_info = [
            {"Name": "name", "Value": "Brian Jones"},
            {"Name": "given_name", "Value": "Brian"},
            {"Name": "birthdate", "Value": "12/7/1980"},
        ]

    def test_init(self):
        user = UserObj("bjones", self.user_info, self.user, self.user_metadata)
        self.assertEqual(user.username, self.user_metadata.get("username"))
        self.assertEqual(user.name, self.user_info[0].get("Value"))
        self.assertEqual(user.user_status, self.user_metadata.get("user_status"))


class GroupObjTestCase(unittest.TestCase):
    def setUp(self):
        if env("USE_CLIENT_SECRET", "False") == "True":
            self.app_id = env("COGNITO_APP_WITH_SECRET_ID")
        else:
            self.app_id = env("COGNITO_APP_ID")
        self.cognito_user_pool_id = env("COGNITO_USER_POOL_ID", "us-east-1_123456789")
        self.group_data = {"GroupName": "test_group", "Precedence": 1}
        self.cognito_obj = Cognito(user_pool_id=self.cognito_user_pool_id, client_id=self.app_id)

    def test_init(self):
        group = GroupObj(group_data=self.group_data, cognito_obj=self.cognito_obj)
        self.assertEqual(group.group_name, "test_group")
        self.assertEqual(group.precedence, 1)


class CognitoAuthTestCase(unittest.TestCase):
    def setUp(self):
        if env("USE_CLIENT_SECRET") == "True":
            self.app_id = env("COGNITO_APP_WITH_SECRET_ID", "app")
            self.client_secret = env("COGNITO_CLIENT_SECRET")
        else:
            self.app_id = env("COGNITO_APP_ID", "app")
            self.client_secret = None
        self.cognito_user_pool_id = env("COGNITO_USER_POOL_ID", "us-east-1_123456789")
        self.username = env("COGNITO_TEST_USERNAME", "bob")
        self.password = env("COGNITO_TEST_PASSWORD", "bobpassword")
        self.user = Cognito(
            self.cognito_user_pool_id,
            self.app_id,
            username=self.username,
            client_secret=self.client_secret,
        )

    @patch("acognito.sync.AWSSRP.authenticate_user", _mock_authenticate_user)
    @patch("acognito.sync.Cognito.verify_token", _mock_verify_tokens)
    def test_authenticate(self):
        self.user.authenticate(self.password)
        self.assertNotEqual(self.user.access_token, None)
        self.assertNotEqual(self.user.id_token, None)
        self.assertNotEqual(self.user.refresh_token, None)

    @patch("acognito.sync.AWSSRP.authenticate_user", _mock_authenticate_user)
    @patch("acognito.sync.Cognito.verify_token", _mock_verify_tokens)
    def test_verify_token(self):
        self.user.authenticate(self.password)
        bad_access_token = "{}wrong".format(self.user.access_token)

        with self.assertRaises(TokenVerificationException):
            self.user.verify_token(bad_access_token, "access_token", "access")

    @patch("acognito.sync.Cognito", autospec=True)
    def test_register(self, cognito_user):
        """pycognito's test, kept to the letter: ``cognito_user`` is an autospec mock of
        the class, so its body proves only that ``register`` exists with this signature.
        acognito's addition after it makes the same call for real."""
        user = cognito_user(self.cognito_user_pool_id, self.app_id, username=self.username)
        base_attr = dict(
            given_name="Brian",
            family_name="Jones",
            name="Brian Jones",
            email="bjones39@capless.io",
            phone_number="+19194894555",
            gender="Male",
            preferred_username="billyocean",
        )

        user.set_base_attributes(**base_attr)
        user.register("sampleuser", "sample4#Password")

        # acognito's addition: the mock was called so, and the real call signs up.
        user.register.assert_called_once_with("sampleuser", "sample4#Password")
        real = Cognito(self.cognito_user_pool_id, self.app_id)
        real.set_base_attributes(**base_attr)
        answer = real.register("sampleuser", "sample4#Password")
        self.assertFalse(answer["UserConfirmed"])
        signed_up = Cognito(
            self.cognito_user_pool_id, self.app_id, username="sampleuser"
        ).admin_get_user()
        self.assertEqual(signed_up.user_status, "UNCONFIRMED")
        self.assertEqual(signed_up.given_name, "Brian")
        self.assertEqual(signed_up.preferred_username, "billyocean")

    @pytest.mark.xfail(
        strict=True,
        reason="fakes pycognito internals around a stubbed client: acognito.sync.Cognito signs "
        "in through the async core, not through sync AWSSRP, so the stub sees an unexpected "
        "USER_SRP_AUTH; covered for real by tests/test_sync.py",
    )
    @patch("acognito.sync.AWSSRP.authenticate_user", _mock_authenticate_user)
    @patch("acognito.sync.Cognito.verify_token", _mock_verify_tokens)
    @patch("acognito.sync.Cognito._add_secret_hash", return_value=None)
    def test_renew_tokens(self, _):
        stub = Stubber(self.user.client)

        # By the stubber nature, we need to add the sequence
        # of calls for the AWS SRP auth to test the whole process
        stub.add_response(
            method="initiate_auth",
            service_response={
                "AuthenticationResult": {
                    "TokenType": "admin",
                    "IdToken": "dummy_token",
                    "AccessToken": "dummy_token",
                    "RefreshToken": "dummy_token",
                },
                "ResponseMetadata": {"HTTPStatusCode": 200},
            },
            expected_params={
                "ClientId": self.app_id,
                "AuthFlow": "REFRESH_TOKEN_AUTH",
                "AuthParameters": {"REFRESH_TOKEN": "dummy_token"},
            },
        )

        with stub:
            self.user.authenticate(self.password)
            self.user.renew_access_token()
            stub.assert_no_pending_responses()

    @patch("acognito.sync.Cognito", autospec=True)
    def test_update_profile(self, cognito_user):
        """pycognito's test, kept to the letter: ``cognito_user`` is an autospec mock of
        the class, so its body proves only that ``update_profile`` exists with this signature.
        acognito's addition after it makes the same call for real."""
        user = cognito_user(self.cognito_user_pool_id, self.app_id, username=self.username)
        user.authenticate(self.password)
        user.update_profile({"given_name": "Jenkins"})

        # acognito's addition: the mock was called so, and the real call changes the name.
        user.update_profile.assert_called_once_with({"given_name": "Jenkins"})
        self.user.authenticate(self.password)
        self.user.update_profile({"given_name": "Jenkins"})
        self.assertEqual((self.user.get_user()).given_name, "Jenkins")

    def test_admin_get_user(self):
        stub = Stubber(self.user.client)

        stub.add_response(
            method="admin_get_user",
            service_response={
                "Enabled": True,
                "UserStatus": "CONFIRMED",
                "Username": self.username,
                "UserAttributes": [],
            },
            expected_params={
                "UserPoolId": self.cognito_user_pool_id,
                "Username": self.username,
            },
        )

        with stub:
            u = self.user.admin_get_user()
            self.assertEqual(u.username, self.username)
            stub.assert_no_pending_responses()

    def test_check_token(self):
        # This is a sample JWT with an expiration time set to January, 1st, 3000
        self.user.access_token = (
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG"
            "9lIiwiaWF0IjoxNTE2MjM5MDIyLCJleHAiOjMyNTAzNjgwMDAwfQ.C-1gPxrhUsiWeCvMvaZuuQYarkDNAc"
            "pEGJPIqu_SrKQ"
        )
        try:
            valid = self.user.check_token()
        except OverflowError:
            self.skipTest("This test requires 64-bit time_t")
        else:
            self.assertFalse(valid)

    @patch("acognito.sync.Cognito", autospec=True)
    def test_validate_verification(self, cognito_user):
        """pycognito's test, kept to the letter: ``cognito_user`` is an autospec mock of
        the class, so its body proves only that ``validate_verification`` exists with this signature.
        acognito's addition after it makes the same call for real."""
        u = cognito_user(self.cognito_user_pool_id, self.app_id, username=self.username)
        u.validate_verification("4321")

        # acognito's addition: a code nobody sent is refused, the one sent is taken.
        u.validate_verification.assert_called_once_with("4321")
        self.user.authenticate(self.password)
        self.user.admin_update_profile({"email": BOB_EMAIL, "email_verified": "false"})
        self.user.send_verification("email")
        code = inbox().last_code(self.cognito_user_pool_id, self.username, VERIFY_EMAIL)
        with self.assertRaises(CodeMismatchError):
            self.user.validate_verification(wrong(code))
        self.user.validate_verification(code)
        self.assertTrue((self.user.get_user()).email_verified)

    @patch("acognito.sync.Cognito", autospec=True)
    def test_confirm_forgot_password(self, cognito_user):
        """pycognito's test, kept to the letter: ``cognito_user`` is an autospec mock of
        the class, so its body proves only that ``confirm_forgot_password`` exists with this signature.
        acognito's addition after it makes the same call for real."""
        u = cognito_user(self.cognito_user_pool_id, self.app_id, username=self.username)
        u.confirm_forgot_password("4553", "samplepassword")
        with self.assertRaises(TypeError):
            u.confirm_forgot_password(self.password)

        # acognito's addition: the same calls for real. A code nobody sent is refused
        # (moto says ExpiredCode where Cognito says CodeMismatch), the one sent resets the
        # password, and the one-argument call is a TypeError before any request.
        u.confirm_forgot_password.assert_any_call("4553", "samplepassword")
        real = Cognito(self.cognito_user_pool_id, self.app_id, username=self.username)
        real.admin_update_profile({"email": BOB_EMAIL, "email_verified": "true"})
        real.initiate_forgot_password()
        code = inbox().last_code(self.cognito_user_pool_id, self.username, FORGOT_PASSWORD)
        with self.assertRaises((CodeMismatchError, ExpiredCodeError)):
            real.confirm_forgot_password(wrong(code), NEW_PASSWORD)
        with self.assertRaises(TypeError):
            real.confirm_forgot_password(self.password)
        real.confirm_forgot_password(code, NEW_PASSWORD)
        real.authenticate(NEW_PASSWORD)
        self.assertNotEqual(real.access_token, None)

    @pytest.mark.xfail(
        strict=True,
        reason="deliberate: a None password is refused with acognito's ConfigurationError "
        "before any request, not botocore's ParamValidationError",
    )
    @patch("acognito.sync.AWSSRP.authenticate_user", _mock_authenticate_user)
    @patch("acognito.sync.Cognito.verify_token", _mock_verify_tokens)
    @patch("acognito.sync.Cognito.check_token", return_value=True)
    def test_change_password(self, _):
        # u = cognito_user(self.cognito_user_pool_id, self.app_id,
        #                  username=self.username)
        self.user.authenticate(self.password)

        stub = Stubber(self.user.client)

        stub.add_response(
            method="change_password",
            service_response={"ResponseMetadata": {"HTTPStatusCode": 200}},
            expected_params={
                "PreviousPassword": self.password,
                "ProposedPassword": "crazypassword$45DOG",
                "AccessToken": self.user.access_token,
            },
        )

        with stub:
            self.user.change_password(self.password, "crazypassword$45DOG")
            stub.assert_no_pending_responses()

        with self.assertRaises(ParamValidationError):
            self.user.change_password(self.password, None)

    def test_set_attributes(self):
        user = Cognito(self.cognito_user_pool_id, self.app_id)
        user._set_attributes(
            {"ResponseMetadata": {"HTTPStatusCode": 200}}, {"somerandom": "attribute"}
        )
        self.assertEqual(user.somerandom, "attribute")

    @pytest.mark.xfail(
        strict=True,
        reason="deliberate: the flow is ADMIN_USER_PASSWORD_AUTH (the current name of the "
        "legacy ADMIN_NO_SRP_AUTH) and tokens are verified on sign-in",
    )
    @patch("acognito.sync.Cognito.verify_token", _mock_verify_tokens)
    def test_admin_authenticate(self):
        stub = Stubber(self.user.client)

        # By the stubber nature, we need to add the sequence
        # of calls for the AWS SRP auth to test the whole process
        stub.add_response(
            method="admin_initiate_auth",
            service_response={
                "AuthenticationResult": {
                    "TokenType": "admin",
                    "IdToken": "dummy_token",
                    "AccessToken": "dummy_token",
                    "RefreshToken": "dummy_token",
                }
            },
            expected_params={
                "UserPoolId": self.cognito_user_pool_id,
                "ClientId": self.app_id,
                "AuthFlow": "ADMIN_NO_SRP_AUTH",
                "AuthParameters": {
                    "USERNAME": self.username,
                    "PASSWORD": self.password,
                },
            },
        )

        with stub:
            self.user.admin_authenticate(self.password)
            self.assertNotEqual(self.user.access_token, None)
            self.assertNotEqual(self.user.id_token, None)
            self.assertNotEqual(self.user.refresh_token, None)
            stub.assert_no_pending_responses()


class AWSSRPTestCase(unittest.TestCase):
    def setUp(self):
        if env("USE_CLIENT_SECRET") == "True":
            self.client_secret = env("COGNITO_CLIENT_SECRET")
            self.app_id = env("COGNITO_APP_WITH_SECRET_ID", "app")
        else:
            self.app_id = env("COGNITO_APP_ID", "app")
            self.client_secret = None
        self.cognito_user_pool_id = env("COGNITO_USER_POOL_ID", "us-east-1_123456789")
        self.username = env("COGNITO_TEST_USERNAME")
        self.password = env("COGNITO_TEST_PASSWORD")
        self.aws = AWSSRP(
            username=self.username,
            password=self.password,
            pool_region="us-east-1",
            pool_id=self.cognito_user_pool_id,
            client_id=self.app_id,
            client_secret=self.client_secret,
        )

    def tearDown(self):
        del self.aws

    @pytest.mark.xfail(
        strict=True,
        reason="fakes AWSSRP internals (get_auth_params, process_challenge) around a stubbed "
        "AWSSRP.client: the sign-in runs in the async core, which has no such seams",
    )
    @patch("acognito.sync.AWSSRP.get_auth_params", _mock_get_params)
    @patch("acognito.sync.AWSSRP.process_challenge", return_value={})
    def test_authenticate_user(self, _):
        stub = Stubber(self.aws.client)

        # By the stubber nature, we need to add the sequence
        # of calls for the AWS SRP auth to test the whole process
        stub.add_response(
            method="initiate_auth",
            service_response={
                "ChallengeName": "PASSWORD_VERIFIER",
                "ChallengeParameters": {},
            },
            expected_params={
                "AuthFlow": "USER_SRP_AUTH",
                "AuthParameters": _mock_get_params(None),
                "ClientId": self.app_id,
            },
        )

        stub.add_response(
            method="respond_to_auth_challenge",
            service_response={
                "AuthenticationResult": {
                    "IdToken": "dummy_token",
                    "AccessToken": "dummy_token",
                    "RefreshToken": "dummy_token",
                }
            },
            expected_params={
                "ClientId": self.app_id,
                "ChallengeName": "PASSWORD_VERIFIER",
                "ChallengeResponses": {},
            },
        )

        with stub:
            tokens = self.aws.authenticate_user()
            self.assertTrue("IdToken" in tokens["AuthenticationResult"])
            self.assertTrue("AccessToken" in tokens["AuthenticationResult"])
            self.assertTrue("RefreshToken" in tokens["AuthenticationResult"])
            stub.assert_no_pending_responses()

    def test_cognito_formatted_timestamp(self):
        self.assertEqual(
            self.aws.get_cognito_formatted_timestamp(datetime.datetime(2022, 1, 1, 0, 0, 0)),
            "Sat Jan 1 00:00:00 UTC 2022",
        )

        self.assertEqual(
            self.aws.get_cognito_formatted_timestamp(datetime.datetime(2022, 1, 2, 12, 0, 0)),
            "Sun Jan 2 12:00:00 UTC 2022",
        )

        self.assertEqual(
            self.aws.get_cognito_formatted_timestamp(datetime.datetime(2022, 1, 3, 9, 0, 0)),
            "Mon Jan 3 09:00:00 UTC 2022",
        )

        self.assertEqual(
            self.aws.get_cognito_formatted_timestamp(datetime.datetime(2022, 12, 31, 23, 59, 59)),
            "Sat Dec 31 23:59:59 UTC 2022",
        )
