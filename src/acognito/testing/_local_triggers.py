"""The pool's Lambda triggers, run as Python callables (server process only).

A trigger is reached one of two ways: a URL on loopback, registered per pool through the
test API (the test process serves its callables there: ``LocalCognito.set_triggers``),
or a callable imported into this process (``acognito local --triggers module:attr``),
which serves every pool without a registration of its own. Either gets the Lambda event
Cognito sends (``version``, ``triggerSource``, ``region``, ``userPoolId``, ``userName``,
``callerContext``, ``request``, ``response``) and returns the event's ``response``.

Failures answer as Cognito does: a trigger that raises is UserLambdaValidationException
("PreSignUp failed with error <message>."), one that overruns its timeout (Cognito's
5 s) UnexpectedLambdaException ("... invocation failed due to error Socket timeout while
invoking Lambda function."), one whose answer is no JSON object
InvalidLambdaResponseException ("Unrecognizable lambda output").
"""

from __future__ import annotations

import inspect
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool

from ._local_state import Fault, LocalState

__all__ = ["TRIGGERS", "TriggerRunner", "user_attributes"]

#: The triggers, by their names in a pool's LambdaConfig.
TRIGGERS = frozenset(
    {
        "PreSignUp",
        "PostConfirmation",
        "PreAuthentication",
        "PostAuthentication",
        "PreTokenGeneration",
        "UserMigration",
        "CustomMessage",
        "DefineAuthChallenge",
        "CreateAuthChallenge",
        "VerifyAuthChallengeResponse",
    }
)

#: Seconds a trigger may take: Cognito's. The pytest fixtures give loaded CI machines more.
DEFAULT_TIMEOUT = 5.0

Callables = Mapping[str, Callable[[dict[str, Any]], Any]]


def user_attributes(user: CognitoIdpUser) -> dict[str, str]:
    """The user's attributes as a trigger's ``request.userAttributes`` carries them."""
    attributes = {str(k): str(v) for k, v in user.attribute_lookup.items()}
    attributes.setdefault("sub", str(user.id))
    attributes["cognito:user_status"] = str(getattr(user.status, "value", user.status))
    return attributes


class TriggerRunner:
    """Runs the pool's triggers: the registered URL, else the in-process callable."""

    def __init__(
        self,
        state: LocalState,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        callables: Callables | None = None,
        token_version: str = "1",  # noqa: S107 - an event version
    ) -> None:
        self.state = state
        self.timeout = timeout
        #: Callables of ``--triggers`` (every pool), by trigger name.
        self.callables = dict(callables or {})
        #: PreTokenGeneration's event version for the in-process callable.
        self.token_version = token_version

    def configured(self, pool: CognitoIdpUserPool, name: str) -> bool:
        """Whether the pool has a ``name`` trigger: its registration's (a pool with one
        has only those), else the server's."""
        with self.state.lock:
            urls = self.state.trigger_urls.get(pool.id)
        return name in (self.callables if urls is None else urls)

    def token_event_version(self, pool: CognitoIdpUserPool) -> str:
        """ "1", "2" or "3": the registration's, else the pool's LambdaConfig, else V1."""
        with self.state.lock:
            if "PreTokenGeneration" in self.state.trigger_urls.get(pool.id, {}):
                return self.state.token_versions.get(pool.id, "1")
        config = (pool.extended_config.get("LambdaConfig") or {}).get("PreTokenGenerationConfig")
        if isinstance(config, dict) and config.get("LambdaVersion"):
            return str(config["LambdaVersion"])[1]  # "V2_0" -> "2"
        return self.token_version

    def run(
        self,
        name: str,
        source: str,
        pool: CognitoIdpUserPool,
        client_id: str | None,
        user_name: str | None,
        request: dict[str, Any],
        response: dict[str, Any],
        *,
        version: str = "1",
    ) -> dict[str, Any]:
        """Send one event to the pool's ``name`` trigger; the ``response`` it returns.

        Call only when :meth:`configured`; the state's lock is let go meanwhile, so a
        trigger may call the server itself."""
        event: dict[str, Any] = {
            "version": version,
            "triggerSource": source,
            "region": pool.region,
            "userPoolId": pool.id,
            "userName": user_name,
            "callerContext": {
                "awsSdkVersion": "aws-sdk-unknown-unknown",
                "clientId": client_id or "CLIENT_ID_NOT_APPLICABLE",
            },
            "request": request,
            "response": response,
        }
        if user_name is None:
            del event["userName"]  # a client-credentials grant has no user
        with self.state.lock:
            url = self.state.trigger_urls.get(pool.id, {}).get(name)
        held = _release(self.state.lock)
        try:
            answer = self._call(name, event) if url is None else self._post(name, url, event)
        finally:
            for _ in range(held):
                self.state.lock.acquire()
        return _response_of(answer)

    # ------------------------------------------------------------ the two ways

    def _post(self, name: str, url: str, event: dict[str, Any]) -> dict[str, Any]:
        """The test process's callback host: ``{"response": ...}`` or ``{"error": ...}``."""
        body = json.dumps({"trigger": name, "event": event}).encode()
        req = urllib.request.Request(  # noqa: S310 - a loopback URL (checked on registration)
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                answer = json.loads(resp.read())
        except TimeoutError:
            raise _timed_out(name) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _timed_out(name) from None
            raise _unreachable(name) from None
        except (OSError, ValueError):
            raise _unreachable(name) from None
        if not isinstance(answer, dict):
            raise _unrecognizable()
        if "error" in answer:
            raise Fault(
                "UserLambdaValidationException", f"{name} failed with error {answer['error']}."
            )
        return answer

    def _call(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        """An in-process callable (sync or async) in a thread of its own, within the timeout."""
        call = self.callables.get(name)
        if call is None:
            raise Fault("UnexpectedLambdaException", f"{name} trigger is not configured.")
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                result = call(event)
                if inspect.isawaitable(result):
                    result = _run_awaitable(result)
                outcome["response"] = dict(result) if isinstance(result, Mapping) else None
            except BaseException as exc:  # a failing Lambda: its message goes back
                outcome["error"] = str(exc) or type(exc).__name__

        worker = threading.Thread(target=target, name=f"trigger-{name}", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            raise _timed_out(name)  # the thread is left to finish; its answer is dropped
        if "error" in outcome:
            raise Fault(
                "UserLambdaValidationException", f"{name} failed with error {outcome['error']}."
            )
        return {"response": outcome.get("response")}


def _run_awaitable(awaitable: Any) -> Any:
    """An async trigger's result, on an event loop of its own (this thread's)."""
    import asyncio

    async def wait() -> Any:
        return await awaitable

    return asyncio.run(wait())


def _response_of(answer: Mapping[str, Any]) -> dict[str, Any]:
    response = answer.get("response")
    if isinstance(response, dict) and "response" in response and "triggerSource" in response:
        response = response["response"]  # the whole event returned, as a Lambda does
    if not isinstance(response, dict):
        raise _unrecognizable()
    return response


def _release(lock: Any) -> int:
    """Let go of every level of ``lock`` this thread holds; how many there were."""
    held = 0
    while True:
        try:
            lock.release()
        except RuntimeError:
            return held
        held += 1


def _timed_out(name: str) -> Fault:
    return Fault(
        "UnexpectedLambdaException",
        f"{name} invocation failed due to error Socket timeout while invoking Lambda function.",
    )


def _unreachable(name: str) -> Fault:
    return Fault(
        "UnexpectedLambdaException", f"{name} invocation failed due to error AccessDeniedException."
    )


def _unrecognizable() -> Fault:
    return Fault("InvalidLambdaResponseException", "Unrecognizable lambda output")
