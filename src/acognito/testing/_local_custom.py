"""CUSTOM_AUTH on the local Cognito: the pool's auth challenge triggers, or one fixed answer.

With the triggers registered (``LocalCognito.set_custom_auth_triggers`` or
``--triggers``), the server runs Cognito's loop: DefineAuthChallenge over the session's
history, CreateAuthChallenge for each CUSTOM_CHALLENGE (its public parameters go to the
client, the private ones stay in the single-use session), VerifyAuthChallengeResponse
for each answer, then define again. With ``CHALLENGE_NAME=SRP_A`` the history starts
with SRP_A and, once the password proof is checked, PASSWORD_VERIFIER. Without them,
the test API's ``custom-auth`` stands in: one challenge, one answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._local_srp import Srp
from ._local_state import (
    Caller,
    Fault,
    LocalState,
    Pending,
    invalid_parameter,
    not_authorized,
    same,
)
from ._local_tokens import Tokens
from ._local_triggers import TriggerRunner, user_attributes

__all__ = ["Custom"]

Responder = Callable[[Caller, str, Pending, Mapping[str, Any]], dict[str, Any]]
_DEFINE, _CREATE, _VERIFY = (
    "DefineAuthChallenge",
    "CreateAuthChallenge",
    "VerifyAuthChallengeResponse",
)
_NOT_CONFIGURED = (
    "Custom auth lambda trigger is not configured for the user pool "
    "(on the local Cognito: LocalCognito.set_custom_auth_triggers, "
    "or api.set_custom_auth for one fixed challenge)."
)


def _result(name: str, passed: bool = True, metadata: Any = None) -> dict[str, Any]:
    return {"challengeName": name, "challengeResult": passed, "challengeMetadata": metadata}


def _unrecognizable() -> Fault:
    return Fault("InvalidLambdaResponseException", "Unrecognizable lambda output")


class Custom:
    """CUSTOM_AUTH over the shared state, the triggers, SRP and the tokens."""

    def __init__(
        self, state: LocalState, triggers: TriggerRunner, srp: Srp, tokens: Tokens
    ) -> None:
        self.state = state
        self.triggers = triggers
        self.srp = srp
        self.tokens = tokens

    def responders(self) -> dict[str, Responder]:
        return {"CUSTOM_CHALLENGE": self.answer}

    def _triggered(self, caller: Caller) -> bool:
        return self.triggers.configured(caller.pool, _DEFINE)

    def initiate(self, caller: Caller, ap: Mapping[str, Any]) -> dict[str, Any]:
        """InitiateAuth CUSTOM_AUTH; with CHALLENGE_NAME=SRP_A, a password proof first."""
        srp_first = ap.get("CHALLENGE_NAME") == "SRP_A" or bool(ap.get("SRP_A"))
        if not self._triggered(caller):
            with self.state.lock:
                fixed = caller.pool.id in self.state.custom_auth
            if not fixed:
                raise invalid_parameter(_NOT_CONFIGURED)
            if srp_first:
                return self.srp.challenge(caller, ap, then=self._fixed_challenge)
            return self._fixed_challenge(caller)
        if srp_first:
            history = [_result("SRP_A")]
            decision = self._run(caller, _DEFINE, {"session": history})
            if decision.get("challengeName") == "PASSWORD_VERIFIER" and not decision.get(
                "failAuthentication"
            ):
                return self.srp.challenge(caller, ap, then=self._after_srp)
            return self._define(caller, history, decision)
        return self._define(caller, [])

    def _after_srp(self, caller: Caller) -> dict[str, Any]:
        """The password proof checked: define sees SRP_A and PASSWORD_VERIFIER, as on Cognito."""
        return self._define(caller, [_result("SRP_A"), _result("PASSWORD_VERIFIER")])

    def _fixed_challenge(self, caller: Caller) -> dict[str, Any]:
        with self.state.lock:
            _, parameters = self.state.custom_auth[caller.pool.id]
        session = self.state.open_session(caller, ("CUSTOM_CHALLENGE",))
        return {
            "ChallengeName": "CUSTOM_CHALLENGE",
            "Session": session,
            "ChallengeParameters": {"USERNAME": caller.user.username, **parameters},
        }

    def answer(
        self, caller: Caller, name: str, step: Pending, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        """RespondToAuthChallenge CUSTOM_CHALLENGE: verify, add the result, define again."""
        if step.history is None:  # the fixed stand-in
            with self.state.lock:
                expected, _ = self.state.custom_auth.get(caller.pool.id, ("", {}))
            if not expected or not same(expected, str(r.get("ANSWER") or "")):
                raise not_authorized()
            return self.tokens.sign_in(caller)
        request = {
            "privateChallengeParameters": dict(step.private or {}),
            "challengeAnswer": str(r.get("ANSWER") or ""),
        }
        verdict = self._run(caller, _VERIFY, request)
        passed = verdict.get("answerCorrect") is True
        history = [*step.history, _result("CUSTOM_CHALLENGE", passed, step.metadata)]
        return self._define(caller, history)

    # ------------------------------------------------------------ the trigger loop

    def _run(self, caller: Caller, name: str, request: dict[str, Any]) -> dict[str, Any]:
        defaults: dict[str, dict[str, Any]] = {
            _DEFINE: {"challengeName": None, "issueTokens": False, "failAuthentication": False},
            _CREATE: {
                "publicChallengeParameters": {},
                "privateChallengeParameters": {},
                "challengeMetadata": None,
            },
            _VERIFY: {"answerCorrect": False},
        }
        if not self.triggers.configured(caller.pool, name):
            raise Fault("UnexpectedLambdaException", f"{name} trigger is not configured.")
        full = {"userAttributes": user_attributes(caller.user), **request, "userNotFound": False}
        if caller.metadata:
            full["clientMetadata"] = caller.metadata
        return self.triggers.run(
            name, f"{name}_Authentication", caller.pool, caller.client.id,
            caller.user.username, full, dict(defaults[name]),
        )  # fmt: skip

    def _define(
        self,
        caller: Caller,
        history: list[dict[str, Any]],
        decision: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Ask DefineAuthChallenge what comes next and do it: tokens, failure or a challenge."""
        if decision is None:
            decision = self._run(caller, _DEFINE, {"session": history})
        if decision.get("failAuthentication"):
            raise not_authorized("Incorrect username or password.")
        if decision.get("issueTokens"):
            return self.tokens.sign_in(caller)
        name = decision.get("challengeName")
        if name != "CUSTOM_CHALLENGE":
            raise _unrecognizable()
        made = self._run(caller, _CREATE, {"challengeName": name, "session": history})
        public = made.get("publicChallengeParameters") or {}
        private = made.get("privateChallengeParameters") or {}
        if not isinstance(public, dict) or not isinstance(private, dict):
            raise _unrecognizable()
        session = self.state.open_session(caller, ("CUSTOM_CHALLENGE",))
        with self.state.lock:
            step = self.state.pending[session]
            step.private = {str(k): str(v) for k, v in private.items()}
            step.history = history
            step.metadata = made.get("challengeMetadata")
        return {
            "ChallengeName": "CUSTOM_CHALLENGE",
            "Session": session,
            "ChallengeParameters": {
                "USERNAME": caller.user.username,
                **{str(k): str(v) for k, v in public.items()},
            },
        }
