"""A pool's Lambda triggers as Python callables, for the local Cognito.

:class:`LambdaTriggers` names a callable per trigger (sync or async): each takes the
Lambda event Cognito sends (``version``, ``triggerSource``, ``region``, ``userPoolId``,
``userName``, ``callerContext``, ``request``, ``response``) and returns the event's
``response`` (or the whole event, as a Lambda does). Register them for one pool with
:meth:`LocalCognito.set_triggers <acognito.testing.LocalCognito.set_triggers>` (they run
in your process, reached over loopback), the ``cognito_triggers`` fixture, or for every
pool of ``acognito local --triggers module:attr`` (they run in the server's process).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

__all__ = ["TRIGGER_NAMES", "LambdaTriggers", "Trigger", "TriggerEvent"]

#: A Lambda event as Cognito sends it.
TriggerEvent = dict[str, Any]
#: A trigger: the event in, its ``response`` (or the event) out; sync or async.
Trigger = Callable[[TriggerEvent], Mapping[str, Any] | Awaitable[Mapping[str, Any]]]

#: Field name -> the trigger's name in a pool's LambdaConfig.
_NAMES = {
    "pre_sign_up": "PreSignUp",
    "post_confirmation": "PostConfirmation",
    "pre_authentication": "PreAuthentication",
    "post_authentication": "PostAuthentication",
    "pre_token_generation": "PreTokenGeneration",
    "user_migration": "UserMigration",
    "custom_message": "CustomMessage",
    "define_auth_challenge": "DefineAuthChallenge",
    "create_auth_challenge": "CreateAuthChallenge",
    "verify_auth_challenge_response": "VerifyAuthChallengeResponse",
}

#: Every trigger's name in a pool's LambdaConfig.
TRIGGER_NAMES = tuple(_NAMES.values())


@dataclass(frozen=True)
class LambdaTriggers:
    """The triggers of a pool; each None (the default) is a trigger the pool lacks.

    ``pre_token_generation_version`` is the PreTokenGeneration event Cognito sends:
    ``"V1_0"`` (the id token), ``"V2_0"`` (both tokens and the access token's scopes) or
    ``"V3_0"`` (also client-credentials tokens), as in the pool's
    ``LambdaConfig.PreTokenGenerationConfig``.
    """

    pre_sign_up: Trigger | None = None
    post_confirmation: Trigger | None = None
    pre_authentication: Trigger | None = None
    post_authentication: Trigger | None = None
    pre_token_generation: Trigger | None = None
    pre_token_generation_version: Literal["V1_0", "V2_0", "V3_0"] = "V1_0"  # noqa: S105
    user_migration: Trigger | None = None
    custom_message: Trigger | None = None
    define_auth_challenge: Trigger | None = None
    create_auth_challenge: Trigger | None = None
    verify_auth_challenge_response: Trigger | None = None

    def __post_init__(self) -> None:
        if self.pre_token_generation_version not in ("V1_0", "V2_0", "V3_0"):
            raise ValueError("pre_token_generation_version is V1_0, V2_0 or V3_0")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _NAMES and value is not None and not callable(value):
                raise TypeError(f"{f.name} must be callable, not {type(value).__name__}")

    def by_name(self) -> dict[str, Trigger]:
        """The triggers set, by their LambdaConfig names (``PreSignUp`` ...)."""
        found: dict[str, Trigger] = {}
        for field_name, name in _NAMES.items():
            value = getattr(self, field_name)
            if value is not None:
                found[name] = value
        return found

    @property
    def event_version(self) -> str:
        """PreTokenGeneration's event ``version``: "1", "2" or "3"."""
        return self.pre_token_generation_version[1]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> LambdaTriggers:
        """From ``{"PreSignUp": callable, ...}`` (LambdaConfig names; field names work
        too, and ``pre_token_generation_version``)."""
        by_config = {v: k for k, v in _NAMES.items()}
        given: dict[str, Any] = {}
        for key, value in mapping.items():
            name = by_config.get(key, key)
            if name not in _NAMES and name != "pre_token_generation_version":
                raise ValueError(f"no trigger {key!r}: one of {', '.join(_NAMES.values())}")
            given[name] = value
        return cls(**given)
