"""Every failure is one line: message first, then Cognito's code and request id, then one
hint that fits the error; usage, configuration and environment problems exit 2, refusals
exit 1. Every row of :data:`acognito.cli.hints.RULES` has a case here (a test fails when
a row has none), and the ones a newcomer meets first also run end to end against the
local Cognito: no keyring, an unknown AWS profile, no AWS credentials (local and AWS), a
disabled user, a wrong password, a refused refresh token, errors as JSON."""

from __future__ import annotations

import json
from typing import Any

import botocore.exceptions
import keyring.errors
import pytest

from acognito import errors as e
from acognito.cli.hints import RULES, Facts, explain
from acognito.testing import LocalCognitoError
from cli_support import PASSWORD, Cli, admin_call, make_pool, one_line_error

LOCAL = Facts(profile="dev", username="ada", endpoint_url="http://127.0.0.1:5000")
AWS = Facts(profile="prod", username="ada")


def _service(cls: type[e.CognitoServiceError], message: str, operation: str) -> Any:
    return cls(message, operation=operation, request_id="req-1")


def _caused(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


#: (row of RULES, the error, what the command knew, a piece of the hint) - each row once.
CASES: list[tuple[str, BaseException, Facts, str]] = [
    (
        "no-keyring",
        keyring.errors.NoKeyringError("No recommended backend"),
        AWS,
        "--client-secret-env",
    ),
    ("keyring-failed", keyring.errors.KeyringLocked("locked"), AWS, "unlock the keyring"),
    (
        "aws-profile",
        _caused(
            e.CognitoError("ListUsers failed"), botocore.exceptions.ProfileNotFound(profile="x")
        ),
        AWS,
        "aws configure list-profiles",
    ),
    (
        "no-aws-credentials",
        _caused(
            e.ConfigurationError("needs credentials"), botocore.exceptions.NoCredentialsError()
        ),
        LOCAL,
        "export AWS_ACCESS_KEY_ID=local",
    ),
    (
        "no-aws-credentials-library",
        e.ConfigurationError("ListUsers needs AWS credentials (access_key/secret_key, ...)"),
        AWS,
        "aws configure",
    ),
    (
        "user-disabled",
        _service(e.NotAuthorizedError, "User is disabled.", "InitiateAuth"),
        LOCAL,
        "enable",
    ),
    (
        "wrong-password",
        _service(e.NotAuthorizedError, "Incorrect username or password.", "InitiateAuth"),
        LOCAL,
        "acognito forgot-password ada",
    ),
    (
        "sign-in-again",
        _service(e.NotAuthorizedError, "Invalid Refresh Token", "InitiateAuth"),
        LOCAL,
        "acognito login --profile dev",
    ),
    (
        "change-password",
        _service(e.NotAuthorizedError, "ada", "ChangePassword"),
        LOCAL,
        "current password",
    ),
    (
        "totp-code",
        _service(e.CodeMismatchError, "Invalid code", "RespondToAuthChallenge"),
        Facts(answering="TOTP code"),
        "authenticator app shows now",
    ),
    (
        "sent-code",
        _service(e.CodeMismatchError, "Invalid code", "RespondToAuthChallenge"),
        Facts(answering="email code"),
        "a refused code ends the sign-in",
    ),
    (
        "totp-setup",
        _service(e.EnableSoftwareTokenMFAError, "Code mismatch", "VerifySoftwareToken"),
        LOCAL,
        "check this machine's clock",
    ),
    (
        "sign-up-code",
        _service(e.CodeMismatchError, "Invalid code", "ConfirmSignUp"),
        LOCAL,
        "acognito resend-code ada",
    ),
    (
        "reset-code",
        _service(e.ExpiredCodeError, "Expired", "ConfirmForgotPassword"),
        LOCAL,
        "acognito forgot-password ada",
    ),
    (
        "expired-code",
        _service(e.ExpiredCodeError, "Expired", "VerifyUserAttribute"),
        LOCAL,
        "a new code",
    ),
    (
        "wrong-code",
        _service(e.CodeMismatchError, "Invalid", "VerifyUserAttribute"),
        LOCAL,
        "check the code",
    ),
    (
        "not-confirmed",
        _service(e.UserNotConfirmedError, "User is not confirmed.", "InitiateAuth"),
        LOCAL,
        "acognito local inbox",
    ),
    (
        "reset-required",
        _service(e.PasswordResetRequiredError, "Reset", "InitiateAuth"),
        LOCAL,
        "forgot-password ada",
    ),
    (
        "user-not-found",
        _service(e.UserNotFoundError, "User does not exist.", "InitiateAuth"),
        LOCAL,
        "status",
    ),
    ("weak-password", _service(e.InvalidPasswordError, "Too short", "SignUp"), LOCAL, "policy"),
    (
        "username-taken",
        _service(e.UsernameExistsError, "exists", "SignUp"),
        LOCAL,
        "another user name",
    ),
    (
        "no-passkey",
        _service(
            e.InvalidParameterError, "WEB_AUTHN is not an available challenge", "InitiateAuth"
        ),
        LOCAL,
        "acognito passkey add",
    ),
    (
        "wrong-pin",
        e.AuthenticatorError("the security key refused the PIN", reason="pin_invalid"),
        LOCAL,
        "PIN again",
    ),
    (
        "pool-not-found",
        _service(e.ResourceNotFoundError, "No pool", "InitiateAuth"),
        LOCAL,
        "pool id",
    ),
    (
        "throttled",
        _service(e.TooManyRequestsError, "Slow down", "InitiateAuth"),
        LOCAL,
        "wait a little",
    ),
    (
        "group-exists",
        _service(e.GroupExistsError, "exists", "CreateGroup"),
        LOCAL,
        "admin group get",
    ),
    ("oauth-client", e.InvalidClientOAuthError("bad client"), LOCAL, "its secret"),
    (
        "oauth-grant",
        e.InvalidGrantOAuthError("Invalid code"),
        LOCAL,
        "acognito login --profile dev",
    ),
    ("oauth-scope", e.InvalidScopeOAuthError("no"), LOCAL, "--scopes"),
    ("oauth-state", e.OAuthStateMismatchError("state"), LOCAL, "--hosted-ui"),
    ("token-expired", e.JwtExpiredError("expired", claim="exp"), LOCAL, "acognito token"),
    ("jwks", e.JwksFetchError("no keys"), LOCAL, "--jwks-file"),
    ("unreachable", e.CognitoConnectionError("cannot reach"), LOCAL, "acognito local"),
    ("local-extra", LocalCognitoError("the local Cognito needs moto's server"), LOCAL, ""),
    ("configuration", e.ConfigurationError("bad pool id"), LOCAL, "check the options"),
]


def test_every_row_has_a_case() -> None:
    names = [rule.name for rule in RULES]
    assert len(set(names)) == len(names) and "" not in names
    assert [row for row, *_ in CASES] == names


@pytest.mark.parametrize(("row", "error", "facts", "hint"), CASES, ids=[c[0] for c in CASES])
def test_each_row_gives_its_hint(row: str, error: BaseException, facts: Facts, hint: str) -> None:
    failure = explain(error, facts)
    assert failure is not None
    assert failure.rule == row
    assert failure.exit_code == next(r.exit_code for r in RULES if r.name == row)
    assert hint in (failure.hint or "")
    line = failure.line()
    assert "\n" not in line
    assert not line.startswith(type(error).__name__)  # the message first, not the class


def test_the_aws_credentials_hint_depends_on_the_endpoint() -> None:
    error = _caused(e.ConfigurationError("x"), botocore.exceptions.NoCredentialsError())
    local, aws = explain(error, LOCAL), explain(error, AWS)
    assert local is not None and aws is not None
    assert "the local Cognito takes any credentials" in (local.hint or "")
    assert "aws configure" in (aws.hint or "") and "local" not in (aws.hint or "")
    assert local.exit_code == aws.exit_code == 2


def test_a_service_error_line_is_message_code_request_id_hint() -> None:
    error = _service(e.NotAuthorizedError, "Incorrect username or password.", "InitiateAuth")
    failure = explain(error, LOCAL)
    assert failure is not None
    assert failure.line() == (
        "Incorrect username or password. [NotAuthorizedException, request id req-1]; "
        "check the user name and password; forgotten? acognito forgot-password ada"
    )
    assert failure.document()["error"] == {
        "message": "Incorrect username or password.",
        "type": "NotAuthorizedError",
        "code": "NotAuthorizedException",
        "request_id": "req-1",
        "hint": "check the user name and password; forgotten? acognito forgot-password ada",
        "exit_code": 1,
    }


def test_an_unexpected_error_is_not_explained() -> None:
    assert explain(ZeroDivisionError("bug"), LOCAL) is None


# ------------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def pool(cognito_local):
    return make_pool(cognito_local, {"ada": PASSWORD, "dan": PASSWORD})


@pytest.fixture
def cli(tmp_path) -> Cli:
    return Cli(tmp_path)


def test_no_keyring_backend(cli, pool) -> None:
    cli.configure(pool, client_secret_keyring="acognito:secret")
    cli.extra_env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    run = cli("login", "-u", "ada", stdin=PASSWORD + "\n")
    assert run.code == 2
    line = one_line_error(run)
    assert line.startswith("acognito: error: no system keyring is available (")
    assert line.endswith("; use --client-secret-env VAR instead, or install a keyring backend "
                         "(pip install keyrings.alt)")  # fmt: skip


def test_an_unknown_aws_profile(cli, pool) -> None:
    cli.configure(pool)
    cli.extra_env.update(AWS_PROFILE="nope", AWS_CONFIG_FILE=str(cli.home / "aws-config"))
    run = cli("admin", "user", "list")
    assert run.code == 2
    assert one_line_error(run) == (
        "acognito: error: the AWS profile 'nope' (AWS_PROFILE) is not in ~/.aws/config; "
        "check AWS_PROFILE, or list the profiles: aws configure list-profiles"
    )


def _without_credentials(cli: Cli) -> None:
    home = cli.home / "empty-home"
    home.mkdir(exist_ok=True)
    cli.extra_env.update(
        HOME=str(home),
        AWS_ACCESS_KEY_ID="",
        AWS_SECRET_ACCESS_KEY="",
        AWS_CONFIG_FILE=str(home / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )


def test_no_aws_credentials_on_the_local_cognito(cli, pool) -> None:
    cli.configure(pool)
    _without_credentials(cli)
    run = cli("admin", "user", "list")
    assert run.code == 2
    assert one_line_error(run) == (
        "acognito: error: admin commands need AWS credentials, and none were found; "
        "the local Cognito takes any credentials: "
        "export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local"
    )


def test_no_aws_credentials_for_a_pool_on_aws(cli) -> None:
    # botocore looks for credentials before sending anything: no network is needed.
    _without_credentials(cli)
    run = cli("admin", "user", "list", "--pool-id", "eu-west-1_NoCreds1")
    assert run.code == 2
    line = one_line_error(run)
    assert "admin commands need AWS credentials" in line and "aws configure" in line
    assert "local" not in line


def test_a_disabled_user(cli, cognito_local, pool) -> None:
    cli.configure(pool)
    admin_call(cognito_local, "admin_disable_user", UserPoolId=pool.user_pool_id, Username="dan")
    try:
        run = cli("login", "-u", "dan", "--auth-flow", "USER_PASSWORD_AUTH", stdin=PASSWORD + "\n")
    finally:
        admin_call(cognito_local, "admin_enable_user", UserPoolId=pool.user_pool_id, Username="dan")
    assert run.code == 1
    line = one_line_error(run)
    assert line.startswith("acognito: error: User is disabled. [NotAuthorizedException, request id")
    assert line.endswith("; an administrator can enable the user: acognito admin user enable dan")
    assert "password" not in line


def test_a_refused_refresh_token(cli, pool) -> None:
    cli.configure(pool)
    assert cli("login", "-u", "ada", stdin=PASSWORD + "\n").code == 0
    saved = cli.cached("ada")
    saved["refresh_token"] = "not-a-refresh-token"
    cli.write_cached("ada", saved)
    run = cli("refresh")
    assert run.code == 1
    line = one_line_error(run)
    assert "[NotAuthorizedException" in line
    assert line.endswith("; sign in again: acognito login --profile default")


def test_a_refusal_as_json_on_stderr(cli, pool) -> None:
    cli.configure(pool)
    run = cli("login", "-u", "ada", "--auth-flow", "USER_PASSWORD_AUTH", "--json", stdin="wrong\n")
    assert run.code == 1 and run.out == ""
    doc = json.loads(run.err)["error"]
    assert doc["message"] == "Incorrect username or password."
    assert doc["code"] == "NotAuthorizedException" and doc["request_id"]
    assert doc["type"] == "NotAuthorizedError" and doc["exit_code"] == 1
    assert "forgot-password ada" in doc["hint"]


def test_did_you_mean_for_commands_and_options(cli) -> None:
    typo = cli("logni")
    assert typo.code == 2
    assert typo.err.splitlines()[-1] == (
        "acognito: error: unknown command 'logni'; did you mean 'login'?"
    )
    assert "configure" not in typo.err  # not every command
    option = cli("login", "--usernmae", "x")
    assert option.code == 2
    assert option.err.startswith("usage: acognito login ")  # login's own usage
    assert option.err.splitlines()[-1] == (
        "acognito login: error: no option '--usernmae'; did you mean '--username'?"
    )
    nested = cli("admin", "user", "crate", "x")
    assert nested.err.startswith("usage: acognito admin user ")
    assert nested.err.splitlines()[-1].endswith("unknown command 'crate'; did you mean 'create'?")
    choice = cli("login", "--auth-flow", "USER_SRP")
    assert "did you mean 'USER_SRP_AUTH'?" in choice.err.splitlines()[-1]
