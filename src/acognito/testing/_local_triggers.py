"""CUSTOM_AUTH through the pool's own auth challenge triggers (Python callbacks).

The test process registers a loopback URL per pool (``LocalCognito.set_custom_auth_triggers``);
here the server runs Cognito's loop against it: DefineAuthChallenge over the session's
history, CreateAuthChallenge for each CUSTOM_CHALLENGE, VerifyAuthChallengeResponse for
each answer, with Lambda event shapes and Cognito's errors for a failing trigger.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool, CognitoIdpUserPoolClient

from ._local_auth import _TOKENS
from ._local_state import Fault, not_authorized

if TYPE_CHECKING:
    from ._local_account import AccountOps, Pending

__all__ = ["after_srp", "answer", "start"]

#: Seconds a trigger may take (Cognito gives a Lambda trigger 5 s; loaded CI needs more).
TRIGGER_TIMEOUT = 30.0
_SOURCES = {
    "define": "DefineAuthChallenge_Authentication",
    "create": "CreateAuthChallenge_Authentication",
    "verify": "VerifyAuthChallengeResponse_Authentication",
}
_NAMES = {
    "define": "DefineAuthChallenge",
    "create": "CreateAuthChallenge",
    "verify": "VerifyAuthChallengeResponse",
}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "define": {"challengeName": None, "issueTokens": False, "failAuthentication": False},
    "create": {
        "publicChallengeParameters": {},
        "privateChallengeParameters": {},
        "challengeMetadata": None,
    },
    "verify": {"answerCorrect": False},
}


def _attributes(user: CognitoIdpUser) -> dict[str, str]:
    attributes = {str(k): str(v) for k, v in user.attribute_lookup.items()}
    attributes.setdefault("sub", str(user.id))
    attributes["cognito:user_status"] = str(getattr(user.status, "value", user.status))
    return attributes


def _invoke(
    ops: AccountOps,
    kind: str,
    pool: CognitoIdpUserPool,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    request: dict[str, Any],
) -> dict[str, Any]:
    """Send one Lambda event to the test process's callback host; its ``response``."""
    with ops.state.lock:
        url = ops.state.custom_triggers.get(pool.id)
    if url is None:
        raise Fault("UnexpectedLambdaException", f"{_NAMES[kind]} trigger is not configured.")
    event = {
        "version": "1",
        "region": pool.id.partition("_")[0],
        "userPoolId": pool.id,
        "userName": user.username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client.id},
        "triggerSource": _SOURCES[kind],
        "request": {"userAttributes": _attributes(user), **request, "userNotFound": False},
        "response": dict(_DEFAULTS[kind]),
    }
    body = json.dumps({"trigger": kind, "event": event}).encode()
    req = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - loopback
    # Let other requests run meanwhile: a trigger may call Cognito (or the test API) itself.
    try:
        ops.state.lock.release()
        held = True
    except RuntimeError:
        held = False
    try:
        with urllib.request.urlopen(req, timeout=TRIGGER_TIMEOUT) as resp:  # noqa: S310
            answer = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        raise Fault(
            "UnexpectedLambdaException", f"{_NAMES[kind]} invocation failed (callback host)."
        ) from None
    finally:
        if held:
            ops.state.lock.acquire()
    if not isinstance(answer, dict):
        raise Fault("InvalidLambdaResponseException", "Unrecognizable lambda output")
    if "error" in answer:
        raise Fault(
            "UserLambdaValidationException",
            f"{_NAMES[kind]} failed with error {answer['error']}.",
        )
    response = answer.get("response")
    if not isinstance(response, dict):
        raise Fault("InvalidLambdaResponseException", "Unrecognizable lambda output")
    return response


def _define(
    ops: AccountOps,
    pool: CognitoIdpUserPool,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    device_key: str | None,
    history: list[dict[str, Any]],
    decision: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Ask DefineAuthChallenge what comes next and do it: tokens, failure or a challenge."""
    if decision is None:
        decision = _invoke(ops, "define", pool, client, user, {"session": history})
    if decision.get("failAuthentication"):
        raise not_authorized("Incorrect username or password.")
    if decision.get("issueTokens"):
        return ops.finish(pool, client, user, _TOKENS, device_key)
    name = decision.get("challengeName")
    if name != "CUSTOM_CHALLENGE":
        raise Fault("InvalidLambdaResponseException", "Unrecognizable lambda output")
    request = {"challengeName": name, "session": history}
    made = _invoke(ops, "create", pool, client, user, request)
    public = made.get("publicChallengeParameters") or {}
    private = made.get("privateChallengeParameters") or {}
    if not isinstance(public, dict) or not isinstance(private, dict):
        raise Fault("InvalidLambdaResponseException", "Unrecognizable lambda output")
    session = ops._open(pool, client, user, ("CUSTOM_CHALLENGE",), device_key)
    with ops.state.lock:
        step: Pending = ops.state.pending[session]
        step.private = {str(k): str(v) for k, v in private.items()}
        step.history = history
        step.metadata = made.get("challengeMetadata")
    return {
        "ChallengeName": "CUSTOM_CHALLENGE",
        "Session": session,
        "ChallengeParameters": {
            "USERNAME": user.username,
            **{str(k): str(v) for k, v in public.items()},
        },
    }


def start(
    ops: AccountOps,
    pool: CognitoIdpUserPool,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    ap: Mapping[str, Any],
    device_key: str | None,
) -> dict[str, Any]:
    """InitiateAuth CUSTOM_AUTH; with CHALLENGE_NAME=SRP_A, define decides on SRP first."""
    if ap.get("CHALLENGE_NAME") == "SRP_A" or ap.get("SRP_A"):
        history = [{"challengeName": "SRP_A", "challengeResult": True, "challengeMetadata": None}]
        decision = _invoke(ops, "define", pool, client, user, {"session": history})
        wants = decision.get("challengeName")
        if wants == "PASSWORD_VERIFIER" and not decision.get("failAuthentication"):
            return ops.srp_challenge(pool, client, user, ap, device_key, then="custom")
        return _define(ops, pool, client, user, device_key, history, decision)
    return _define(ops, pool, client, user, device_key, [])


def after_srp(
    ops: AccountOps,
    pool: CognitoIdpUserPool,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    device_key: str | None,
) -> dict[str, Any]:
    """The password proof checked: define sees SRP_A and PASSWORD_VERIFIER, as on Cognito."""
    history = [
        {"challengeName": "SRP_A", "challengeResult": True, "challengeMetadata": None},
        {"challengeName": "PASSWORD_VERIFIER", "challengeResult": True, "challengeMetadata": None},
    ]
    return _define(ops, pool, client, user, device_key, history)


def answer(
    ops: AccountOps,
    pool: CognitoIdpUserPool,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    step: Pending,
    r: Mapping[str, Any],
) -> dict[str, Any]:
    """RespondToAuthChallenge CUSTOM_CHALLENGE: verify, add the result, define again."""
    request = {
        "privateChallengeParameters": dict(step.private or {}),
        "challengeAnswer": str(r.get("ANSWER") or ""),
    }
    verdict = _invoke(ops, "verify", pool, client, user, request)
    result = {
        "challengeName": "CUSTOM_CHALLENGE",
        "challengeResult": verdict.get("answerCorrect") is True,
        "challengeMetadata": step.metadata,
    }
    history = [*(step.history or []), result]
    return _define(ops, pool, client, user, step.device_key, history)
