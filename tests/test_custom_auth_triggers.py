"""CUSTOM_AUTH on the local Cognito through the pool's own auth challenge triggers.

The three triggers are plain Python functions in the test process
(``LocalCognito.set_custom_auth_triggers``); the server, another process, sends them
Cognito's Lambda events and runs Cognito's define / create / verify loop. Every test
signs in through acognito's public API over HTTP, on asyncio and trio.
"""

from __future__ import annotations

import itertools
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from aiobotocore.config import AioConfig

from acognito import AsyncCognito
from acognito.errors import (
    InvalidLambdaResponseError,
    NotAuthorizedError,
    UserLambdaValidationError,
)
from acognito.steps import ConfirmSignInWithCustomChallenge, Done
from acognito.testing import CognitoAdmin, LocalCognito, LocalPool

pytestmark = pytest.mark.anyio

PASSWORD = "Passw0rd!trigger"
NO_RETRIES = AioConfig(retries={"total_max_attempts": 1})
EVENT_KEYS = {
    "version",
    "region",
    "userPoolId",
    "userName",
    "callerContext",
    "triggerSource",
    "request",
    "response",
}


class Quiz:
    """A quiz trigger: one right answer signs in, three wrong ones fail the sign-in."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.questions = itertools.cycle(["2+2?", "1+3?", "3+1?"])

    def define(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        session = event["request"]["session"]
        answers = [s for s in session if s["challengeName"] == "CUSTOM_CHALLENGE"]
        response = dict(event["response"])
        if answers and answers[-1]["challengeResult"] is True:
            response.update(issueTokens=True, failAuthentication=False)
        elif len(answers) >= 3:
            response.update(issueTokens=False, failAuthentication=True)
        elif session and session[-1]["challengeName"] == "SRP_A":
            response.update(challengeName="PASSWORD_VERIFIER")
        else:
            response.update(challengeName="CUSTOM_CHALLENGE")
        return response

    def create(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        question = next(self.questions)
        return {
            "publicChallengeParameters": {"question": question},
            "privateChallengeParameters": {"answer": "4"},
            "challengeMetadata": f"QUIZ-{question}",
        }

    def verify(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        request = event["request"]
        right = request["challengeAnswer"] == request["privateChallengeParameters"]["answer"]
        return {"answerCorrect": right}

    def sessions(self) -> list[list[str]]:
        """The challenge names of each history DefineAuthChallenge was shown."""
        return [
            [s["challengeName"] for s in e["request"]["session"]]
            for e in self.events
            if e["triggerSource"] == "DefineAuthChallenge_Authentication"
        ]


@pytest.fixture
def quiz(cognito_local: LocalCognito, cognito_pool: LocalPool) -> Iterator[Quiz]:
    found = Quiz()
    pool_id = cognito_pool.user_pool_id
    cognito_local.set_custom_auth_triggers(
        pool_id, define=found.define, create=found.create, verify=found.verify
    )
    yield found
    cognito_local.clear_custom_auth_triggers(pool_id)


def client(pool: LocalPool, username: str) -> AsyncCognito:
    return AsyncCognito(username=username, botocore_config=NO_RETRIES, **pool.cognito_kwargs())


async def test_custom_authenticate_answers_the_quiz(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool, quiz: Quiz
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "quinn", PASSWORD)
    asked: list[str] = []

    def answer(params: Any) -> str:
        asked.append(params["question"])
        return "4"

    async with client(cognito_pool, "quinn") as c:
        await c.custom_authenticate(answer)
        assert c.access_claims is not None and c.access_claims["username"] == "quinn"
    assert asked == ["2+2?"]
    assert quiz.sessions() == [[], ["CUSTOM_CHALLENGE"]]


async def test_the_typed_face_gives_a_new_challenge_after_a_wrong_answer(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool, quiz: Quiz
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "tess", PASSWORD)
    async with client(cognito_pool, "tess") as c:
        step = await c.sign_in("tess", auth_flow="CUSTOM_AUTH")
        # USERNAME too, as Amplify's additionalInfo has it
        assert step == ConfirmSignInWithCustomChallenge({"USERNAME": "tess", "question": "2+2?"})
        again = await c.confirm_sign_in("5")
        assert again == ConfirmSignInWithCustomChallenge({"USERNAME": "tess", "question": "1+3?"})
        assert await c.confirm_sign_in("4") == Done()
        assert c.access_claims is not None and c.access_claims["username"] == "tess"
    # the failed answer is in the history define saw, with create's metadata
    last_define = [e for e in quiz.events if e["triggerSource"].startswith("Define")][-1]
    assert last_define["request"]["session"] == [
        {
            "challengeName": "CUSTOM_CHALLENGE",
            "challengeResult": False,
            "challengeMetadata": "QUIZ-2+2?",
        },
        {
            "challengeName": "CUSTOM_CHALLENGE",
            "challengeResult": True,
            "challengeMetadata": "QUIZ-1+3?",
        },
    ]


async def test_three_wrong_answers_fail_the_sign_in(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool, quiz: Quiz
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "will", PASSWORD)
    async with client(cognito_pool, "will") as c:
        assert isinstance(
            await c.sign_in("will", auth_flow="CUSTOM_AUTH"), ConfirmSignInWithCustomChallenge
        )
        assert isinstance(await c.confirm_sign_in("1"), ConfirmSignInWithCustomChallenge)
        assert isinstance(await c.confirm_sign_in("2"), ConfirmSignInWithCustomChallenge)
        with pytest.raises(NotAuthorizedError):
            await c.confirm_sign_in("3")
        assert c.access_token is None
    async with client(cognito_pool, "will") as c:
        with pytest.raises(NotAuthorizedError):
            await c.custom_authenticate(lambda params: "wrong")


async def test_srp_first_then_the_challenge(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool, quiz: Quiz
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "sara", PASSWORD)
    async with client(cognito_pool, "sara") as c:
        step = await c.sign_in("sara", PASSWORD, auth_flow="CUSTOM_AUTH")
        assert step == ConfirmSignInWithCustomChallenge({"USERNAME": "sara", "question": "2+2?"})
        assert await c.confirm_sign_in("4") == Done()
    assert quiz.sessions() == [
        ["SRP_A"],
        ["SRP_A", "PASSWORD_VERIFIER"],
        ["SRP_A", "PASSWORD_VERIFIER", "CUSTOM_CHALLENGE"],
    ]
    srp = quiz.events[1]["request"]["session"]
    assert all(s["challengeResult"] is True for s in srp)
    async with client(cognito_pool, "sara") as c:
        await c.custom_authenticate(lambda params: "4", password=PASSWORD)
        assert c.access_token
        with pytest.raises(NotAuthorizedError):  # the SRP proof is still checked for real
            await c.custom_authenticate(lambda params: "4", password="Wr0ng-Passw0rd!")


async def test_a_trigger_that_raises_is_a_failed_lambda(
    cognito_local: LocalCognito, cognito_admin: CognitoAdmin, cognito_pool: LocalPool, quiz: Quiz
) -> None:
    pool_id = cognito_pool.user_pool_id
    await cognito_admin.create_user(pool_id, "ray", PASSWORD)

    def broken(event: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("no question today")

    cognito_local.set_custom_auth_triggers(
        pool_id, define=quiz.define, create=broken, verify=quiz.verify
    )
    async with client(cognito_pool, "ray") as c:
        with pytest.raises(UserLambdaValidationError) as caught:
            await c.sign_in("ray", auth_flow="CUSTOM_AUTH")
        assert "CreateAuthChallenge failed with error no question today" in str(caught.value)
    cognito_local.set_custom_auth_triggers(pool_id, define=broken, create=broken, verify=broken)
    async with client(cognito_pool, "ray") as c:
        with pytest.raises(UserLambdaValidationError, match="DefineAuthChallenge failed"):
            await c.custom_authenticate(lambda params: "4")


async def test_the_events_have_cognitos_shape(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool, quiz: Quiz
) -> None:
    pool_id = cognito_pool.user_pool_id
    await cognito_admin.create_user(
        pool_id, "eve", PASSWORD, attributes={"email": "eve@example.com"}
    )
    async with client(cognito_pool, "eve") as c:
        await c.custom_authenticate(lambda params: "4")
    define, create, verify, define_again = quiz.events
    for event in quiz.events:
        assert set(event) == EVENT_KEYS
        assert event["version"] == "1"
        assert event["userPoolId"] == pool_id
        assert event["region"] == pool_id.split("_")[0]
        assert event["userName"] == "eve"
        assert event["callerContext"]["clientId"] == cognito_pool.public_client.client_id
        attributes = event["request"]["userAttributes"]
        assert attributes["email"] == "eve@example.com" and attributes["sub"]
        assert attributes["cognito:user_status"] == "CONFIRMED"
        assert event["request"]["userNotFound"] is False
    assert define["triggerSource"] == "DefineAuthChallenge_Authentication"
    assert define["request"]["session"] == []
    assert define["response"] == {
        "challengeName": None,
        "issueTokens": False,
        "failAuthentication": False,
    }
    assert create["triggerSource"] == "CreateAuthChallenge_Authentication"
    assert create["request"]["challengeName"] == "CUSTOM_CHALLENGE"
    assert create["request"]["session"] == []
    assert set(create["response"]) == {
        "publicChallengeParameters",
        "privateChallengeParameters",
        "challengeMetadata",
    }
    assert verify["triggerSource"] == "VerifyAuthChallengeResponse_Authentication"
    assert verify["request"]["privateChallengeParameters"] == {"answer": "4"}
    assert verify["request"]["challengeAnswer"] == "4"
    assert verify["response"] == {"answerCorrect": False}
    assert define_again["request"]["session"] == [
        {
            "challengeName": "CUSTOM_CHALLENGE",
            "challengeResult": True,
            "challengeMetadata": "QUIZ-2+2?",
        }
    ]


async def test_a_define_answer_cognito_cannot_read_is_an_invalid_lambda_response(
    cognito_local: LocalCognito, cognito_admin: CognitoAdmin, cognito_pool: LocalPool, quiz: Quiz
) -> None:
    pool_id = cognito_pool.user_pool_id
    await cognito_admin.create_user(pool_id, "ivy", PASSWORD)

    def undecided(event: dict[str, Any]) -> dict[str, Any]:
        return {"issueTokens": False, "failAuthentication": False}  # no challenge either

    cognito_local.set_custom_auth_triggers(
        pool_id, define=undecided, create=quiz.create, verify=quiz.verify
    )
    async with client(cognito_pool, "ivy") as c:
        with pytest.raises(InvalidLambdaResponseError):
            await c.sign_in("ivy", auth_flow="CUSTOM_AUTH")


async def test_a_trigger_may_call_the_local_cognito_itself(
    cognito_local: LocalCognito, cognito_admin: CognitoAdmin, cognito_pool: LocalPool, quiz: Quiz
) -> None:
    pool_id = cognito_pool.user_pool_id
    await cognito_admin.create_user(pool_id, "kim", PASSWORD)
    seen: list[int] = []

    def define(event: dict[str, Any]) -> dict[str, Any]:
        # as a Lambda may call Cognito: the server is not blocked while a trigger runs
        seen.append(len(cognito_local.inbox.codes(pool_id)))
        return quiz.define(event)

    cognito_local.set_custom_auth_triggers(
        pool_id, define=define, create=quiz.create, verify=quiz.verify
    )
    async with client(cognito_pool, "kim") as c:
        with anyio.fail_after(20):
            await c.custom_authenticate(lambda params: "4")
        assert c.access_token
    assert seen == [0, 0]


def test_the_callback_host_stops_with_the_server() -> None:
    with LocalCognito() as local:
        local.set_custom_auth_triggers("us-east-1_nopool", define=dict, create=dict, verify=dict)
        host = local._triggers
        assert host is not None
        url = host.url
        with urllib.request.urlopen(url, data=b"{}", timeout=5) as resp:  # noqa: S310
            assert json.loads(resp.read())["error"]  # alive: a bad event is an error
    assert local._triggers is None
    with pytest.raises(OSError):
        urllib.request.urlopen(url, data=b"{}", timeout=5)  # noqa: S310
