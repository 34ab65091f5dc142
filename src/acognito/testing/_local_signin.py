"""Sign-in on the local Cognito: InitiateAuth and RespondToAuthChallenge, and the admin twins.

One door for every flow: the app client's ExplicitAuthFlows are checked, the user is
found (by name or alias; UserMigration may bring one the pool lacks, for the plain
password flows), refused before any password when disabled, unconfirmed or reset,
PreAuthentication runs, and the flow's handler takes over. Answers to challenges go to
the handler registered for the challenge: SRP's steps by their SECRET_BLOCK, our own
single-use sessions to whoever opened them, moto's sessions (NEW_PASSWORD_REQUIRED,
MFA_SETUP) to the password steps. The admin operations (AdminInitiateAuth,
AdminRespondToAuthChallenge) are the same, for a pool named with the client, so every
token of every flow follows the server's one clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool, CognitoIdpUserPoolClient

from ._local_account import Account
from ._local_choice import Choice
from ._local_custom import Custom
from ._local_password import PasswordSteps
from ._local_refresh import Refresh
from ._local_srp import Srp
from ._local_state import (
    Caller,
    Fault,
    LocalState,
    Pending,
    client_metadata,
    invalid_parameter,
    may_sign_in,
    not_authorized,
    pool_user,
    required,
    same,
)
from ._local_triggers import TriggerRunner, user_attributes

__all__ = ["SignIn"]

Op = Callable[[Mapping[str, Any]], dict[str, Any]]
Responder = Callable[[Caller, str, Pending, Mapping[str, Any]], dict[str, Any]]

#: The ExplicitAuthFlows entry each flow needs (by operation: client-side, admin).
_PERMISSION = {
    "USER_SRP_AUTH": "ALLOW_USER_SRP_AUTH",
    "USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
    "REFRESH_TOKEN_AUTH": "ALLOW_REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN": "ALLOW_REFRESH_TOKEN_AUTH",
    "CUSTOM_AUTH": "ALLOW_CUSTOM_AUTH",
    "USER_AUTH": "ALLOW_USER_AUTH",
}
_ADMIN_PERMISSION = {
    **{k: v for k, v in _PERMISSION.items() if k != "USER_PASSWORD_AUTH"},
    "ADMIN_USER_PASSWORD_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ADMIN_NO_SRP_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
}
#: Flows that carry the plain password (UserMigration can run on them).
_PASSWORD_FLOWS = frozenset({"USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"})


class SignIn:
    """The sign-in operations, composed of the flow handlers and the challenge responders."""

    def __init__(
        self,
        state: LocalState,
        triggers: TriggerRunner,
        account: Account,
        srp: Srp,
        steps: PasswordSteps,
        refresh: Refresh,
        custom: Custom,
        choice: Choice,
        responders: Mapping[str, Responder],
    ) -> None:
        self.state = state
        self.triggers = triggers
        self.account = account
        self.srp = srp
        self.steps = steps
        self.refresh = refresh
        self.custom = custom
        self.choice = choice
        self.responders = dict(responders)

    def operations(self) -> dict[str, Op]:
        return {
            "InitiateAuth": lambda p: self.initiate(p, admin=False),
            "AdminInitiateAuth": lambda p: self.initiate(p, admin=True),
            "RespondToAuthChallenge": lambda p: self.respond(p, admin=False),
            "AdminRespondToAuthChallenge": lambda p: self.respond(p, admin=True),
        }

    def _client(
        self, params: Mapping[str, Any], admin: bool
    ) -> tuple[CognitoIdpBackend, CognitoIdpUserPool, CognitoIdpUserPoolClient]:
        if admin:
            _, named = self.state.pool(required(params, "UserPoolId"))
        backend, pool, client = self.state.client(params.get("ClientId"))
        if admin and named is not pool:
            raise Fault(
                "ResourceNotFoundException", f"User pool client {client.id} does not exist."
            )
        return backend, pool, client

    # ------------------------------------------------------------ InitiateAuth

    def initiate(self, params: Mapping[str, Any], *, admin: bool) -> dict[str, Any]:
        backend, pool, client = self._client(params, admin)
        flow = str(required(params, "AuthFlow"))
        ap: Mapping[str, Any] = params.get("AuthParameters") or {}
        permission = (_ADMIN_PERMISSION if admin else _PERMISSION).get(flow)
        if permission is None:
            raise invalid_parameter("Initiate Auth method not supported.")
        allowed = client.extended_config.get("ExplicitAuthFlows") or []
        # Checked with the ALLOW_ names only (the legacy names mean other things).
        legacy = any(not str(f).startswith("ALLOW_") for f in allowed)
        if allowed and not legacy and permission not in allowed:
            raise invalid_parameter(f"{flow} flow not enabled for this client")
        if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
            rotation = client.extended_config.get("RefreshTokenRotation") or {}
            if rotation.get("Feature") == "ENABLED":
                # Rotation and REFRESH_TOKEN_AUTH do not mix (AWS developer guide).
                raise invalid_parameter(
                    f"{flow} is not supported for a client with refresh token rotation "
                    "enabled; use GetTokensFromRefreshToken"
                )
            return self.refresh.initiate(pool, client, ap, params)
        typed = str(required(ap, "USERNAME"))
        self.state.check_secret_hash(client, typed, ap.get("SECRET_HASH"))
        metadata = client_metadata(params)
        user = pool_user(pool, typed)
        if user is None and flow in _PASSWORD_FLOWS:
            user = self.account.migrate(
                backend, pool, client, typed, str(ap.get("PASSWORD") or ""), metadata
            )
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        device_key = str(ap.get("DEVICE_KEY") or "") or None
        caller = Caller(backend, pool, client, user, device_key, metadata)
        if flow == "USER_AUTH" and params.get("Session"):
            may_sign_in(user)
            return self.choice.after_sign_up(caller, params["Session"])
        may_sign_in(user)  # before the password, as Cognito does
        self._pre_authentication(caller, params)
        if flow in _PASSWORD_FLOWS:
            if not user.password or not same(user.password, str(ap.get("PASSWORD") or "")):
                raise not_authorized()
            return self.steps.after_password(caller)
        if flow == "USER_SRP_AUTH":
            return self.srp.challenge(caller, ap)
        if flow == "CUSTOM_AUTH":
            return self.custom.initiate(caller, ap)
        return self.choice.initiate(caller, ap)

    def _pre_authentication(self, caller: Caller, params: Mapping[str, Any]) -> None:
        if not self.triggers.configured(caller.pool, "PreAuthentication"):
            return
        request: dict[str, Any] = {
            "userAttributes": user_attributes(caller.user),
            "userNotFound": False,
        }
        validation = params.get("ValidationData")
        if isinstance(validation, list):
            request["validationData"] = {
                str(a.get("Name")): str(a.get("Value")) for a in validation if isinstance(a, dict)
            }
        if caller.metadata:
            request["clientMetadata"] = caller.metadata
        self.triggers.run(
            "PreAuthentication", "PreAuthentication_Authentication", caller.pool,
            caller.client.id, caller.user.username, request, {},
        )  # fmt: skip

    # ------------------------------------------------------------ RespondToAuthChallenge

    def respond(self, params: Mapping[str, Any], *, admin: bool) -> dict[str, Any]:
        backend, pool, client = self._client(params, admin)
        name = str(required(params, "ChallengeName"))
        r: Mapping[str, Any] = params.get("ChallengeResponses") or {}
        username = str(required(r, "USERNAME"))
        metadata = client_metadata(params)
        session = str(params.get("Session") or "")
        if name in ("PASSWORD_VERIFIER", "DEVICE_PASSWORD_VERIFIER"):
            return self.srp.answer_verifier(backend, pool, client, metadata, name, r)
        if name == "DEVICE_SRP_AUTH":
            return self.srp.answer_device(pool, client, session, r)
        if self.state.is_ours(session):
            step = self.state.take_session(session, client, name)
            user = pool.users.get(step.username)
            if user is None:
                raise Fault("UserNotFoundException", "User does not exist.")
            if username != user.username:
                raise not_authorized("USERNAME must be the USERNAME the challenge returned.")
            self.state.check_secret_hash(client, user.username, r.get("SECRET_HASH"))
            respond = self.responders.get(name)
            if respond is None:
                raise invalid_parameter(f"The session expects {step.expected[0]}, not {name}")
            caller = Caller(backend, pool, client, user, step.device_key, metadata)
            return respond(caller, name, step, r)
        known = backend.sessions.get(session)
        if known is None:
            raise not_authorized("Invalid session for the user.")
        if self.state.moto_session_expired(session):
            backend.sessions.pop(session, None)
            raise not_authorized("Invalid session for the user, session is expired.")
        user = pool_user(pool, username) or pool_user(pool, known[0])
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        self.state.check_secret_hash(client, username, r.get("SECRET_HASH"))
        return self.steps.respond_moto(
            Caller(backend, pool, client, user, None, metadata), name, session, r
        )
