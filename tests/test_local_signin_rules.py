"""Sign-in rules the local Cognito keeps as Cognito does, found by running AWS Amplify JS
against it: NEW_PASSWORD_REQUIRED's ``requiredAttributes`` and the pool's
``SignInPolicy.AllowedFirstAuthFactors``; and the one clock every token follows.

The wire tests send what Amplify JS v6 sends (``signIn`` with SRP, then
``confirmSignIn`` with the new password and ``options.userAttributes``; ``signIn`` with
``authFlowType: USER_AUTH`` and a ``preferredChallenge``), through botocore, with
pycognito's SRP math (a client independent of acognito's); then Amplify JS itself (npm's
aws-amplify in Node) runs the same two scenarios against the server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP

from acognito import AsyncCognito
from acognito.errors import InvalidParameterError
from acognito.steps import ConfirmSignInWithNewPassword, ContinueSignInWithFirstFactorSelection
from acognito.testing import CognitoAdmin, Inbox, LocalCognito
from acognito.tokens import peek_claims

pytestmark = pytest.mark.anyio

TEMPORARY = "Temp-Passw0rd!"
NEW_PASSWORD = "N3w-Passw0rd!"


@pytest.fixture
def idp(cognito_local: LocalCognito) -> Iterator[Any]:
    client = botocore.session.get_session().create_client(
        "cognito-idp",
        region_name=cognito_local.region,
        endpoint_url=cognito_local.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),
    )
    yield client
    client.close()


def srp_sign_in(idp: Any, pool_id: str, client_id: str, username: str, password: str) -> Any:
    """InitiateAuth USER_SRP_AUTH and the PASSWORD_VERIFIER answer, as Amplify sends them."""
    srp = AWSSRP(username, password, pool_id, client_id, client=object())
    started = idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params()
    )
    assert started["ChallengeName"] == "PASSWORD_VERIFIER"
    answers = srp.process_challenge(started["ChallengeParameters"], {"USERNAME": username})
    return idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answers
    )


# ---------------------------------------------------------------- NEW_PASSWORD_REQUIRED


async def test_new_password_required_lists_and_requires_the_pools_required_attributes(
    cognito_admin: CognitoAdmin, idp: Any
) -> None:
    pool_id = await cognito_admin.create_pool(required_attributes=["given_name"])
    client = await cognito_admin.create_client(pool_id)
    # An invited user (admin-created, temporary password) without the required attribute.
    await cognito_admin.idp.call(
        "admin_create_user",
        UserPoolId=pool_id,
        Username="gia",
        TemporaryPassword=TEMPORARY,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": "gia@example.com"}],
    )
    step = srp_sign_in(idp, pool_id, client.client_id, "gia", TEMPORARY)
    assert step["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    params = step["ChallengeParameters"]
    assert json.loads(params["requiredAttributes"]) == ["userAttributes.given_name"]
    assert json.loads(params["userAttributes"])["email"] == "gia@example.com"

    def confirm(session: str, **attributes: str) -> Any:
        return idp.respond_to_auth_challenge(
            ClientId=client.client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={
                "USERNAME": "gia",
                "NEW_PASSWORD": NEW_PASSWORD,
                **{f"userAttributes.{k}": v for k, v in attributes.items()},
            },
        )

    with pytest.raises(ClientError) as refused:
        confirm(step["Session"])  # Amplify's confirmSignIn without options.userAttributes
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "given_name" in refused.value.response["Error"]["Message"]
    step = srp_sign_in(idp, pool_id, client.client_id, "gia", TEMPORARY)  # still temporary
    done = confirm(step["Session"], given_name="Gia")
    claims = peek_claims(done["AuthenticationResult"]["IdToken"])
    assert claims["given_name"] == "Gia"
    assert srp_sign_in(idp, pool_id, client.client_id, "gia", NEW_PASSWORD)["AuthenticationResult"]

    # acognito's typed step names the attribute too
    await cognito_admin.idp.call(
        "admin_create_user",
        UserPoolId=pool_id,
        Username="hal",
        TemporaryPassword=TEMPORARY,
        MessageAction="SUPPRESS",
    )
    pool = {"user_pool_id": pool_id, "client_id": client.client_id}
    async with AsyncCognito(
        **pool, endpoint_url=cognito_admin.endpoint_url, access_key="t", secret_key="t"
    ) as c:
        typed = await c.sign_in("hal", TEMPORARY)
        assert isinstance(typed, ConfirmSignInWithNewPassword)
        assert typed.required_attributes == ("given_name",)


async def test_a_user_with_the_required_attributes_is_asked_for_none(
    cognito_admin: CognitoAdmin, idp: Any
) -> None:
    pool_id = await cognito_admin.create_pool(required_attributes=["given_name"])
    client = await cognito_admin.create_client(pool_id)
    await cognito_admin.idp.call(
        "admin_create_user",
        UserPoolId=pool_id,
        Username="ida",
        TemporaryPassword=TEMPORARY,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "given_name", "Value": "Ida"}],
    )
    step = srp_sign_in(idp, pool_id, client.client_id, "ida", TEMPORARY)
    assert json.loads(step["ChallengeParameters"]["requiredAttributes"]) == []


# ---------------------------------------------------------------- AllowedFirstAuthFactors


async def test_allowed_first_factors_decide_what_user_auth_offers(
    cognito_admin: CognitoAdmin, cognito_inbox: Inbox, idp: Any
) -> None:
    only_password = await cognito_admin.create_pool(first_factors=["PASSWORD"])
    everything = await cognito_admin.create_pool()
    offered = {}
    for pool_id in (only_password, everything):
        client = await cognito_admin.create_client(pool_id)
        await cognito_admin.create_user(
            pool_id, "amy", NEW_PASSWORD, attributes={"email": "amy@example.com"}
        )

        def start(client_id: str = client.client_id, **params: str) -> Any:
            return idp.initiate_auth(
                ClientId=client_id,
                AuthFlow="USER_AUTH",
                AuthParameters={"USERNAME": "amy", **params},
            )

        choice = start()
        assert choice["ChallengeName"] == "SELECT_CHALLENGE"
        offered[pool_id] = choice["AvailableChallenges"]
        if pool_id == only_password:
            # Amplify: signIn({authFlowType: "USER_AUTH", preferredChallenge: "EMAIL_OTP"})
            with pytest.raises(ClientError) as refused:
                start(PREFERRED_CHALLENGE="EMAIL_OTP")
            assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
            with pytest.raises(ClientError):  # nor chosen from the selection
                idp.respond_to_auth_challenge(
                    ClientId=client.client_id,
                    ChallengeName="SELECT_CHALLENGE",
                    Session=choice["Session"],
                    ChallengeResponses={"USERNAME": "amy", "ANSWER": "EMAIL_OTP"},
                )
            assert cognito_inbox.codes(pool_id, "amy") == []  # no code was sent
            done = start(PREFERRED_CHALLENGE="PASSWORD", PASSWORD=NEW_PASSWORD)
            assert done["AuthenticationResult"]["AccessToken"]
        else:
            assert start(PREFERRED_CHALLENGE="EMAIL_OTP")["ChallengeName"] == "EMAIL_OTP"
    assert offered[only_password] == ["PASSWORD", "PASSWORD_SRP"]
    assert offered[everything] == ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"]

    pool = {"user_pool_id": only_password}
    listed = await cognito_admin.idp.call("list_user_pool_clients", UserPoolId=only_password)
    pool["client_id"] = listed["UserPoolClients"][0]["ClientId"]
    async with AsyncCognito(
        **pool, endpoint_url=cognito_admin.endpoint_url, access_key="t", secret_key="t"
    ) as c:
        step = await c.sign_in("amy", auth_flow="USER_AUTH")
        assert isinstance(step, ContinueSignInWithFirstFactorSelection)
        assert step.available == ("PASSWORD", "PASSWORD_SRP")
        with pytest.raises(InvalidParameterError):
            await c.sign_in("amy", auth_flow="USER_AUTH", preferred_first_factor="EMAIL_OTP")


async def test_a_pool_without_a_sign_in_policy_allows_password_only(
    cognito_local: LocalCognito, idp: Any
) -> None:
    pool_id = idp.create_user_pool(PoolName="no-policy")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="c", ExplicitAuthFlows=["ALLOW_USER_AUTH"]
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username="bo",
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": "bo@example.com"}],
    )
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username="bo", Password=NEW_PASSWORD, Permanent=True
    )
    choice = idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "bo"}
    )
    assert choice["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]


# ---------------------------------------------------------------- one clock


async def test_admin_sign_in_tokens_follow_the_servers_clock(
    cognito_local: LocalCognito, cognito_admin: CognitoAdmin, idp: Any
) -> None:
    pool = await cognito_admin.create_local_pool()
    await cognito_admin.create_user(pool.user_pool_id, "cal", NEW_PASSWORD)
    moved = -7200.0
    cognito_local.api.advance_clock(moved)
    try:
        answers = [
            idp.admin_initiate_auth(
                UserPoolId=pool.user_pool_id,
                ClientId=pool.public_client.client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "cal", "PASSWORD": NEW_PASSWORD},
            ),
            idp.initiate_auth(
                ClientId=pool.public_client.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "cal", "PASSWORD": NEW_PASSWORD},
            ),
        ]
    finally:
        cognito_local.api.advance_clock(-moved)
    for answer in answers:
        result = answer["AuthenticationResult"]
        for token in (result["AccessToken"], result["IdToken"]):
            claims = peek_claims(token)
            # issued two hours ago on the server's clock: expired an hour ago
            assert abs(claims["iat"] - (time.time() + moved)) < 120
            assert claims["exp"] == claims["iat"] + 3600
            assert claims["auth_time"] == claims["iat"]


# ---------------------------------------------------------------- AWS Amplify JS itself

AMPLIFY = "6.22.1"
AMPLIFY_SCRIPT = Path(__file__).parent / "js" / "amplify_check.js"


@pytest.fixture(scope="module")
def amplify() -> Path:
    """aws-amplify from npm, in a cache directory (``ACOGNITO_AMPLIFY_DIR`` or
    ``~/.cache/acognito-tests/aws-amplify-<v>``). Skipped only without node/npm, and
    never on CI."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI"):
            pytest.fail("node/npm not installed (Debian: nodejs, npm): cannot run Amplify JS")
        pytest.skip("node/npm not installed (Debian packages nodejs, npm): Amplify JS not run")
    configured = os.environ.get("ACOGNITO_AMPLIFY_DIR")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    root = Path(configured) if configured else cache / "acognito-tests" / f"aws-amplify-{AMPLIFY}"
    modules = root / "node_modules"
    if not (modules / "aws-amplify" / "package.json").exists():
        root.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(  # noqa: S603 - npm, fixed arguments
            [npm, "install", "--prefix", str(root), "--no-audit", "--no-fund",
             f"aws-amplify@{AMPLIFY}"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            pytest.fail(f"npm install aws-amplify failed:\n{done.stderr[-2000:]}")
    return modules


async def run_amplify(
    modules: Path, local: LocalCognito, scenario: str, **args: Any
) -> dict[str, dict[str, Any]]:
    with anyio.fail_after(120):
        run = await anyio.run_process(
            ["node", str(AMPLIFY_SCRIPT), str(modules), local.endpoint_url, scenario,
             json.dumps(args)],
            check=False,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    steps = [json.loads(line) for line in run.stdout.decode().splitlines() if line.strip()]
    return {s["step"]: s for s in steps}


async def test_amplify_js_new_password_with_a_required_attribute(
    amplify: Path, cognito_local: LocalCognito, cognito_admin: CognitoAdmin, idp: Any
) -> None:
    pool_id = await cognito_admin.create_pool(required_attributes=["given_name"])
    client = await cognito_admin.create_client(pool_id)
    idp.admin_create_user(
        UserPoolId=pool_id, Username="joy", TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS"
    )
    got = await run_amplify(
        amplify, cognito_local, "newPassword",
        poolId=pool_id, clientId=client.client_id, username="joy", temporary=TEMPORARY,
        newPassword=NEW_PASSWORD, attributes={"given_name": "Joy"},
    )  # fmt: skip
    first = got["signIn"]["next"]
    assert first["signInStep"] == "CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED"
    assert first["missingAttributes"] == ["given_name"]
    refused = got["confirmWithoutAttributes"]
    assert refused["ok"] is False and refused["name"] == "InvalidParameterException"
    assert "given_name" in refused["message"]
    assert got["confirmWithAttributes"]["next"] == {"signInStep": "DONE"}
    user = idp.admin_get_user(UserPoolId=pool_id, Username="joy")
    assert {"Name": "given_name", "Value": "Joy"} in user["UserAttributes"]
    assert user["UserStatus"] == "CONFIRMED"


async def test_amplify_js_sees_only_the_pools_first_factors(
    amplify: Path, cognito_local: LocalCognito, cognito_admin: CognitoAdmin, cognito_inbox: Inbox
) -> None:
    pool_id = await cognito_admin.create_pool(first_factors=["PASSWORD"])
    client = await cognito_admin.create_client(pool_id)
    await cognito_admin.create_user(
        pool_id, "kai", NEW_PASSWORD, attributes={"email": "kai@example.com"}
    )
    got = await run_amplify(
        amplify, cognito_local, "firstFactors",
        poolId=pool_id, clientId=client.client_id, username="kai",
    )  # fmt: skip
    assert got["preferEmailCode"]["ok"] is False  # not served: the pool allows PASSWORD only
    assert cognito_inbox.codes(pool_id, "kai") == []
    choice = got["choose"]["next"]
    assert choice["signInStep"] == "CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION"
    assert choice["availableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]


async def test_a_new_password_session_expires_on_the_servers_clock(
    cognito_local: LocalCognito, cognito_admin: CognitoAdmin, idp: Any
) -> None:
    pool = await cognito_admin.create_local_pool()
    client_id = pool.public_client.client_id
    idp.admin_create_user(
        UserPoolId=pool.user_pool_id,
        Username="ned",
        TemporaryPassword=TEMPORARY,
        MessageAction="SUPPRESS",
    )

    def challenge() -> str:
        step = idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "ned", "PASSWORD": TEMPORARY},
        )
        assert step["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
        return str(step["Session"])

    def answer(session: str) -> Any:
        return idp.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": "ned", "NEW_PASSWORD": NEW_PASSWORD},
        )

    stale = challenge()
    cognito_local.api.advance_clock(181)  # Cognito's default session: 3 minutes
    try:
        with pytest.raises(ClientError, match="session is expired"):
            answer(stale)
    finally:
        cognito_local.api.advance_clock(-181)
    assert answer(challenge())["AuthenticationResult"]["AccessToken"]
