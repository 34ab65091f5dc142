"""The local Cognito runs a pool's Lambda triggers: Python callables in the test process.

Every trigger is registered through the documented ``cognito_triggers`` fixture (or
``LocalCognito.set_triggers``) and reached by the server, another process, over
loopback; each test drives the operation through acognito's public API (or botocore)
and checks both what the trigger saw (the Lambda event) and what its answer changed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from aiobotocore.config import AioConfig

from acognito import AsyncCognito, CognitoVerifier
from acognito.errors import (
    InvalidLambdaResponseError,
    NotAuthorizedError,
    PasswordResetRequiredError,
    TokenVerificationError,
    UnexpectedLambdaError,
    UserLambdaValidationError,
    UserNotConfirmedError,
    UserNotFoundError,
)
from acognito.oauth import OAuth2Client
from acognito.testing import (
    AppClient,
    CognitoAdmin,
    Inbox,
    LambdaTriggers,
    LocalCognito,
    LocalPool,
)
from acognito.testing.plugin import PoolTriggers
from acognito.tokens import peek_claims

pytestmark = pytest.mark.anyio

PASSWORD = "Passw0rd!trigger"
NO_RETRIES = AioConfig(retries={"total_max_attempts": 1})
EVENT_KEYS = {
    "version",
    "triggerSource",
    "region",
    "userPoolId",
    "userName",
    "callerContext",
    "request",
    "response",
}


class Seen:
    """A trigger that records its events and answers with ``answer(event)``."""

    def __init__(self, answer: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self._answer = answer

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        if isinstance(self._answer, Exception):
            raise self._answer
        if callable(self._answer):
            return self._answer(event)  # type: ignore[no-any-return]
        return dict(self._answer or event["response"])

    @property
    def sources(self) -> list[str]:
        return [e["triggerSource"] for e in self.events]


def session(pool: LocalPool, username: str, **options: Any) -> AsyncCognito:
    return AsyncCognito(
        username=username, botocore_config=NO_RETRIES, **pool.cognito_kwargs(), **options
    )


async def new_user(admin: CognitoAdmin, pool: LocalPool, name: str, **attributes: str) -> None:
    attrs = {"email": f"{name}@example.com", "email_verified": "true", **attributes}
    await admin.create_user(pool.user_pool_id, name, PASSWORD, attributes=attrs)


# ---------------------------------------------------------------- sign-up and confirmation


async def test_pre_sign_up_auto_confirms_and_verifies(
    cognito_pool: LocalPool, cognito_triggers: PoolTriggers, cognito_inbox: Inbox
) -> None:
    def decide(event: dict[str, Any]) -> dict[str, Any]:
        return {"autoConfirmUser": True, "autoVerifyEmail": True, "autoVerifyPhone": False}

    pre = Seen(decide)
    cognito_triggers(LambdaTriggers(pre_sign_up=pre))
    async with session(cognito_pool, "sue") as c:
        c.set_base_attributes(email="sue@example.com")
        answer = await c.register("sue", PASSWORD, client_metadata={"campaign": "spring"})
        assert answer["UserConfirmed"] is True and "CodeDeliveryDetails" not in answer
        await c.authenticate(PASSWORD)  # confirmed: signs in at once
        assert c.id_claims is not None and c.id_claims["email_verified"] is True
    (event,) = pre.events
    assert set(event) == EVENT_KEYS and event["version"] == "1"
    assert event["triggerSource"] == "PreSignUp_SignUp" and event["userName"] == "sue"
    assert event["callerContext"]["clientId"] == cognito_pool.public_client.client_id
    assert event["request"]["userAttributes"] == {"email": "sue@example.com"}
    assert event["request"]["clientMetadata"] == {"campaign": "spring"}
    assert cognito_inbox.codes(cognito_pool.user_pool_id, purpose="sign_up") == []


async def test_pre_sign_up_refusal_creates_no_user(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool, cognito_triggers: PoolTriggers
) -> None:
    cognito_triggers(LambdaTriggers(pre_sign_up=Seen(ValueError("only example.org addresses"))))
    async with session(cognito_pool, "eve") as c:
        c.set_base_attributes(email="eve@example.com")
        with pytest.raises(UserLambdaValidationError) as refused:
            await c.register("eve", PASSWORD)
    assert "PreSignUp failed with error only example.org addresses." in str(refused.value)
    users = await cognito_admin.idp.call("list_users", UserPoolId=cognito_pool.user_pool_id)
    assert [u["Username"] for u in users["Users"]] == []


async def test_post_confirmation_after_sign_up_and_after_a_password_reset(
    cognito_pool: LocalPool, cognito_triggers: PoolTriggers, cognito_inbox: Inbox
) -> None:
    post = Seen()
    cognito_triggers(LambdaTriggers(post_confirmation=post))
    async with session(cognito_pool, "pam") as c:
        c.set_base_attributes(email="pam@example.com")
        await c.register("pam", PASSWORD)
        assert post.events == []
        code = cognito_inbox.last_code(cognito_pool.user_pool_id, "pam", "sign_up")
        await c.confirm_sign_up(code)
        await c.initiate_forgot_password()
        code = cognito_inbox.last_code(cognito_pool.user_pool_id, "pam", "forgot_password")
        await c.confirm_forgot_password(code, PASSWORD + "2")
        await c.authenticate(PASSWORD + "2")
    assert post.sources == [
        "PostConfirmation_ConfirmSignUp",
        "PostConfirmation_ConfirmForgotPassword",
    ]
    attributes = post.events[0]["request"]["userAttributes"]
    assert attributes["cognito:user_status"] == "CONFIRMED"
    assert attributes["email"] == "pam@example.com" and attributes["sub"]


async def test_a_failing_post_confirmation_still_confirms(
    cognito_pool: LocalPool, cognito_triggers: PoolTriggers, cognito_inbox: Inbox
) -> None:
    cognito_triggers(LambdaTriggers(post_confirmation=Seen(RuntimeError("welcome mail down"))))
    async with session(cognito_pool, "pia") as c:
        c.set_base_attributes(email="pia@example.com")
        await c.register("pia", PASSWORD)
        code = cognito_inbox.last_code(cognito_pool.user_pool_id, "pia", "sign_up")
        with pytest.raises(UserLambdaValidationError, match="PostConfirmation failed"):
            await c.confirm_sign_up(code)
        await c.authenticate(PASSWORD)  # Cognito keeps the user confirmed


# ---------------------------------------------------------------- sign-in


@pytest.mark.parametrize("flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"])
async def test_pre_and_post_authentication(
    cognito_admin: CognitoAdmin,
    cognito_pool: LocalPool,
    cognito_triggers: PoolTriggers,
    flow: str,
) -> None:
    await new_user(cognito_admin, cognito_pool, "ada")
    await new_user(cognito_admin, cognito_pool, "bob")

    def gate(event: dict[str, Any]) -> dict[str, Any]:
        if event["userName"] == "bob":
            raise PermissionError("bob is on holiday")
        return {}

    pre, post = Seen(gate), Seen()
    cognito_triggers(LambdaTriggers(pre_authentication=pre, post_authentication=post))
    async with session(cognito_pool, "bob") as c:
        with pytest.raises(
            UserLambdaValidationError, match="PreAuthentication failed with error bob is on holiday"
        ):
            await c.authenticate(PASSWORD, auth_flow=flow)  # type: ignore[arg-type]
    async with session(cognito_pool, "ada") as c:
        with pytest.raises(NotAuthorizedError):
            await c.authenticate("wrong" + PASSWORD, auth_flow=flow)  # type: ignore[arg-type]
        await c.authenticate(PASSWORD, {"app": "web"}, auth_flow=flow)  # type: ignore[arg-type]
    assert [e["userName"] for e in pre.events] == ["bob", "ada", "ada"]
    assert pre.sources == ["PreAuthentication_Authentication"] * 3
    assert pre.events[-1]["request"]["userAttributes"]["email"] == "ada@example.com"
    (event,) = post.events  # only the sign-in that succeeded
    assert event["triggerSource"] == "PostAuthentication_Authentication"
    assert event["request"]["newDeviceUsed"] is False
    assert event["request"]["clientMetadata"] == {"app": "web"}


async def test_a_failing_post_authentication_gives_no_tokens(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool, cognito_triggers: PoolTriggers
) -> None:
    await new_user(cognito_admin, cognito_pool, "cid")
    cognito_triggers(LambdaTriggers(post_authentication=Seen(RuntimeError("audit log full"))))
    async with session(cognito_pool, "cid") as c:
        with pytest.raises(UserLambdaValidationError, match="PostAuthentication failed"):
            await c.authenticate(PASSWORD)
        assert c.access_token is None


# ---------------------------------------------------------------- pre token generation


async def test_pre_token_generation_v1_shapes_the_id_token(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool, cognito_triggers: PoolTriggers
) -> None:
    await new_user(cognito_admin, cognito_pool, "vic", given_name="Vic")
    await cognito_admin.create_group(cognito_pool.user_pool_id, "staff")
    await cognito_admin.add_to_group(cognito_pool.user_pool_id, "vic", "staff")

    def shape(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "claimsOverrideDetails": {
                "claimsToAddOrOverride": {"tenant": "acme", "sub": "forged"},
                "claimsToSuppress": ["given_name"],
                "groupOverrideDetails": {"groupsToOverride": ["admins"]},
            }
        }

    ptg = Seen(shape)
    cognito_triggers(LambdaTriggers(pre_token_generation=ptg))
    async with session(cognito_pool, "vic") as c:
        await c.authenticate(PASSWORD)
        assert c.id_claims is not None and c.access_claims is not None
        assert c.id_claims["tenant"] == "acme"
        assert c.id_claims["sub"] != "forged"  # fixed claims stay Cognito's
        assert "given_name" not in c.id_claims
        assert c.id_claims["cognito:groups"] == c.access_claims["cognito:groups"] == ["admins"]
        assert "tenant" not in c.access_claims  # V1 shapes the id token only
        await c.renew_access_token()
        assert c.id_claims["tenant"] == "acme"
    assert ptg.sources == ["TokenGeneration_Authentication", "TokenGeneration_RefreshTokens"]
    event = ptg.events[0]
    assert event["version"] == "1" and "scopes" not in event["request"]
    assert event["request"]["groupConfiguration"]["groupsToOverride"] == ["staff"]
    assert event["request"]["userAttributes"]["given_name"] == "Vic"


async def test_pre_token_generation_v2_adds_a_scope_a_verifier_requires(
    cognito_local: LocalCognito,
    cognito_admin: CognitoAdmin,
    cognito_pool: LocalPool,
    cognito_triggers: PoolTriggers,
) -> None:
    await new_user(cognito_admin, cognito_pool, "ann")
    await new_user(cognito_admin, cognito_pool, "bea")

    def shape(event: dict[str, Any]) -> dict[str, Any]:
        if event["userName"] != "ann":
            return {"claimsAndScopeOverrideDetails": None}
        return {
            "claimsAndScopeOverrideDetails": {
                "accessTokenGeneration": {
                    "scopesToAdd": ["reports/admin"],
                    "claimsToAddOrOverride": {"plan": "gold"},
                },
                "idTokenGeneration": {"claimsToAddOrOverride": {"nickname": "Annie"}},
            }
        }

    ptg = Seen(shape)
    cognito_triggers(LambdaTriggers(pre_token_generation=ptg, pre_token_generation_version="V2_0"))
    tokens = {}
    for name in ("ann", "bea"):
        async with session(cognito_pool, name) as c:
            await c.authenticate(PASSWORD)
            assert c.access_token is not None
            tokens[name] = c.access_token
    assert ptg.events[0]["version"] == "2"
    assert ptg.events[0]["request"]["scopes"] == ["aws.cognito.signin.user.admin"]
    assert peek_claims(tokens["ann"])["plan"] == "gold"
    guard = CognitoVerifier(
        cognito_pool.user_pool_id,
        client_id=cognito_pool.public_client.client_id,
        token_use="access",
        scope="reports/admin",
        jwks_uri=f"{cognito_local.endpoint_url}/{cognito_pool.user_pool_id}/.well-known/jwks.json",
    )
    async with guard:
        claims = await guard.verify(tokens["ann"])
        assert "reports/admin" in claims["scope"].split()
        with pytest.raises(TokenVerificationError):
            await guard.verify(tokens["bea"])


async def test_pre_token_generation_v3_shapes_a_machine_token(
    cognito_local: LocalCognito,
    cognito_pool: LocalPool,
    cognito_m2m_client: AppClient,
    cognito_triggers: PoolTriggers,
) -> None:
    def shape(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "claimsAndScopeOverrideDetails": {
                "accessTokenGeneration": {
                    "claimsToAddOrOverride": {"partner": "acme"},
                    "scopesToSuppress": ["api/write"],
                }
            }
        }

    ptg = Seen(shape)
    for version in ("V2_0", "V3_0"):
        cognito_triggers(
            LambdaTriggers(pre_token_generation=ptg, pre_token_generation_version=version)  # type: ignore[arg-type]
        )
        async with OAuth2Client(
            cognito_local.oauth_domain_url(),
            cognito_m2m_client.client_id,
            client_secret=cognito_m2m_client.client_secret,
        ) as oauth:
            claims = peek_claims((await oauth.client_credentials()).access_token)
        if version == "V2_0":  # V2 never sees machine tokens
            assert ptg.events == [] and claims["scope"] == "api/read api/write"
    assert claims["partner"] == "acme" and claims["scope"] == "api/read"
    (event,) = ptg.events
    assert event["version"] == "3" and event["triggerSource"] == "TokenGeneration_ClientCredentials"
    assert "userName" not in event
    assert event["callerContext"]["clientId"] == cognito_m2m_client.client_id
    assert event["request"]["scopes"] == ["api/read", "api/write"]


# ---------------------------------------------------------------- user migration


async def test_user_migration_on_password_sign_in_then_srp(
    cognito_pool: LocalPool, cognito_triggers: PoolTriggers
) -> None:
    legacy = {"mia": "Old-Passw0rd!"}

    def migrate(event: dict[str, Any]) -> dict[str, Any]:
        name, given = event["userName"], event["request"].get("password")
        if legacy.get(name) != given:
            raise LookupError("Bad password")
        return {
            "userAttributes": {"email": f"{name}@legacy.example", "email_verified": "true"},
            "finalUserStatus": "CONFIRMED",
            "messageAction": "SUPPRESS",
        }

    seen = Seen(migrate)
    cognito_triggers(LambdaTriggers(user_migration=seen))
    async with session(cognito_pool, "mia") as c:
        with pytest.raises(
            UserLambdaValidationError, match="UserMigration failed with error Bad password"
        ):
            await c.authenticate("Wrong-Passw0rd!", auth_flow="USER_PASSWORD_AUTH")
        with pytest.raises(UserNotFoundError):  # SRP carries no password: no migration
            await c.authenticate("Old-Passw0rd!")
        await c.authenticate("Old-Passw0rd!", auth_flow="USER_PASSWORD_AUTH")
        assert c.id_claims is not None and c.id_claims["email"] == "mia@legacy.example"
    async with session(cognito_pool, "mia") as c:
        await c.authenticate("Old-Passw0rd!")  # now a user of the pool: SRP works
    assert seen.sources == ["UserMigration_Authentication"] * 2
    assert seen.events[-1]["request"]["password"] == "Old-Passw0rd!"


async def test_user_migration_on_forgot_password(
    cognito_pool: LocalPool, cognito_triggers: PoolTriggers, cognito_inbox: Inbox
) -> None:
    def migrate(event: dict[str, Any]) -> dict[str, Any]:
        assert "password" not in event["request"]
        return {"userAttributes": {"email": "rex@legacy.example", "email_verified": "true"}}

    seen = Seen(migrate)
    cognito_triggers(LambdaTriggers(user_migration=seen))
    async with session(cognito_pool, "rex") as c:
        await c.initiate_forgot_password()
        with pytest.raises(PasswordResetRequiredError):
            await c.authenticate("anything-At-all-1")
        code = cognito_inbox.last_code(cognito_pool.user_pool_id, "rex", "forgot_password")
        await c.confirm_forgot_password(code, PASSWORD)
        await c.authenticate(PASSWORD)
    assert seen.sources == ["UserMigration_ForgotPassword"]


# ---------------------------------------------------------------- custom message


async def test_custom_message_words_the_code_the_inbox_shows(
    cognito_pool: LocalPool, cognito_triggers: PoolTriggers, cognito_inbox: Inbox
) -> None:
    def word(event: dict[str, Any]) -> dict[str, Any]:
        code = event["request"]["codeParameter"]
        return {
            "emailSubject": f"Welcome ({event['triggerSource']})",
            "emailMessage": f"Hi {event['userName']}, your code is {code}.",
            "smsMessage": None,
        }

    seen = Seen(word)
    cognito_triggers(LambdaTriggers(custom_message=seen))
    async with session(cognito_pool, "kim") as c:
        c.set_base_attributes(email="kim@example.com")
        await c.register("kim", PASSWORD)
        await c.resend_confirmation_code()
    first, second = cognito_inbox.codes(cognito_pool.user_pool_id, "kim", "sign_up")
    assert first.message == f"Hi kim, your code is {first.code}."
    assert first.subject == "Welcome (CustomMessage_SignUp)"
    assert second.subject == "Welcome (CustomMessage_ResendCode)"
    assert seen.events[0]["request"]["codeParameter"] == "{####}"


async def test_without_custom_message_the_inbox_shows_the_default(
    cognito_pool: LocalPool, cognito_inbox: Inbox
) -> None:
    async with session(cognito_pool, "lea") as c:
        c.set_base_attributes(email="lea@example.com")
        await c.register("lea", PASSWORD)
    (sent,) = cognito_inbox.codes(cognito_pool.user_pool_id, "lea", "sign_up")
    # The pool's VerificationMessageTemplate, as Cognito words it.
    assert sent.message == f"Your verification code is {sent.code}. "
    assert sent.subject == "Your verification code"


# ---------------------------------------------------------------- failures


async def test_a_trigger_answering_no_object_is_an_invalid_response(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool, cognito_triggers: PoolTriggers
) -> None:
    await new_user(cognito_admin, cognito_pool, "ned")
    cognito_triggers(LambdaTriggers(pre_authentication=lambda event: ["not", "a", "dict"]))  # type: ignore[arg-type,return-value]
    async with session(cognito_pool, "ned") as c:
        with pytest.raises(InvalidLambdaResponseError, match="Unrecognizable lambda output"):
            await c.authenticate(PASSWORD)


async def test_async_triggers_run_too(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool, cognito_triggers: PoolTriggers
) -> None:
    await new_user(cognito_admin, cognito_pool, "ola")

    async def shape(event: dict[str, Any]) -> dict[str, Any]:
        await anyio.lowlevel.checkpoint()
        return {"claimsOverrideDetails": {"claimsToAddOrOverride": {"via": "async"}}}

    cognito_triggers(LambdaTriggers(pre_token_generation=shape))
    async with session(cognito_pool, "ola") as c:
        await c.authenticate(PASSWORD)
        assert c.id_claims is not None and c.id_claims["via"] == "async"


@pytest.fixture(scope="module")
def impatient() -> Iterator[LocalCognito]:
    """A server whose triggers may take 1 s (Cognito's rule, scaled down)."""
    with LocalCognito(trigger_timeout=1.0) as server:
        yield server


async def test_a_trigger_past_its_timeout_is_unexpected(impatient: LocalCognito) -> None:
    released = threading.Event()
    async with CognitoAdmin(impatient.endpoint_url, region=impatient.region) as admin:
        pool = await admin.create_local_pool()
        await new_user(admin, pool, "tim")
    impatient.set_triggers(
        pool.user_pool_id,
        LambdaTriggers(pre_authentication=lambda event: released.wait(30) and {}),  # type: ignore[arg-type,return-value]
    )
    try:
        async with session(pool, "tim") as c:
            with pytest.raises(
                UnexpectedLambdaError,
                match="PreAuthentication invocation failed due to error Socket timeout",
            ):
                await c.authenticate(PASSWORD)
    finally:
        released.set()
    impatient.clear_triggers(pool.user_pool_id)
    async with session(pool, "tim") as c:
        await c.authenticate(PASSWORD)


async def test_triggers_in_the_server_process(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``acognito local --triggers module:attr``: imported and run in the server."""
    (tmp_path / "pool_triggers.py").write_text(
        "from acognito.testing import LambdaTriggers\n"
        "def shape(event):\n"
        "    return {'claimsAndScopeOverrideDetails': {'accessTokenGeneration':"
        " {'claimsToAddOrOverride': {'pid': event['userPoolId']}}}}\n"
        "def refuse(event):\n"
        "    if event['userName'] == 'zed':\n"
        "        raise ValueError('no zed')\n"
        "    return {}\n"
        "triggers = LambdaTriggers(pre_token_generation=shape,"
        " pre_token_generation_version='V2_0', pre_authentication=refuse)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with LocalCognito(triggers="pool_triggers:triggers") as local:
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            pool = await admin.create_local_pool()
            await new_user(admin, pool, "amy")
            await new_user(admin, pool, "zed")
        async with session(pool, "amy") as c:
            await c.authenticate(PASSWORD)
            assert c.access_claims is not None
            assert c.access_claims["pid"] == pool.user_pool_id
        async with session(pool, "zed") as c:
            with pytest.raises(UserLambdaValidationError, match="no zed"):
                await c.authenticate(PASSWORD)
        # A registration for the pool (the test process's) replaces the server's...
        local.set_triggers(pool.user_pool_id, LambdaTriggers())
        async with session(pool, "zed") as c:
            await c.authenticate(PASSWORD)
            assert c.access_claims is not None and "pid" not in c.access_claims
        local.clear_triggers(pool.user_pool_id)  # ... until it is cleared
        async with session(pool, "zed") as c:
            with pytest.raises(UserLambdaValidationError, match="no zed"):
                await c.authenticate(PASSWORD)


def test_bad_triggers_spec_stops_the_server_at_once(tmp_path: Any) -> None:
    from acognito.testing import LocalCognitoError

    with pytest.raises(LocalCognitoError, match="--triggers"):
        LocalCognito(triggers="no_such_module_here:triggers", startup_timeout=60).start()


def test_lambda_triggers_are_checked() -> None:
    with pytest.raises(TypeError, match="pre_sign_up must be callable"):
        LambdaTriggers(pre_sign_up="not a function")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="V1_0, V2_0 or V3_0"):
        LambdaTriggers(pre_token_generation_version="V4_0")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no trigger 'PreSignIn'"):
        LambdaTriggers.from_mapping({"PreSignIn": print})
    made = LambdaTriggers.from_mapping({"PreSignUp": print, "pre_token_generation_version": "V3_0"})
    assert made.by_name() == {"PreSignUp": print} and made.event_version == "3"


async def test_user_status_check_comes_before_pre_authentication(
    cognito_admin: CognitoAdmin,
    cognito_pool: LocalPool,
    cognito_triggers: PoolTriggers,
    cognito_local: LocalCognito,
) -> None:
    await new_user(cognito_admin, cognito_pool, "una")
    cognito_local.api.set_user_status(cognito_pool.user_pool_id, "una", "UNCONFIRMED")
    pre = Seen()
    cognito_triggers(LambdaTriggers(pre_authentication=pre))
    async with session(cognito_pool, "una") as c:
        with pytest.raises(UserNotConfirmedError):
            await c.authenticate(PASSWORD)
    assert pre.events == []


async def test_invalid_pre_token_answer(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool, cognito_triggers: PoolTriggers
) -> None:
    await new_user(cognito_admin, cognito_pool, "ivy")
    cognito_triggers(LambdaTriggers(pre_token_generation=lambda e: {"claimsOverrideDetails": "x"}))  # type: ignore[arg-type,return-value]
    async with session(cognito_pool, "ivy") as c:
        with pytest.raises(InvalidLambdaResponseError):
            await c.authenticate(PASSWORD)


async def test_a_server_side_trigger_past_its_timeout(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "slow_triggers.py").write_text(
        "import threading\n"
        "def stuck(event):\n"
        "    threading.Event().wait(30)\n"
        "    return {}\n"
        "triggers = {'PreAuthentication': stuck}\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with LocalCognito(triggers="slow_triggers:triggers", trigger_timeout=1.0) as local:
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            pool = await admin.create_local_pool()
            await new_user(admin, pool, "sal")
        async with session(pool, "sal") as c:
            with pytest.raises(UnexpectedLambdaError, match="Socket timeout"):
                await c.authenticate(PASSWORD)
