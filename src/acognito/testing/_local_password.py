"""What follows a proven password on the local Cognito, and the steps moto decides.

After a password (plain or SRP) checks out: a remembered device proves itself
(DEVICE_SRP_AUTH), else moto decides whether a new password (NEW_PASSWORD_REQUIRED) or
an MFA set-up (MFA_SETUP) comes first, the MFA handler asks for a second factor, and the
tokens end the sign-in. NEW_PASSWORD_REQUIRED lists the pool's required attributes the
user lacks (``requiredAttributes``) and refuses a new password without them, as Cognito
does; the ``userAttributes.*`` of the answer are kept (moto drops them).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Mapping
from typing import Any

from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool

from ._local_mfa import Mfa
from ._local_state import (
    Caller,
    DeviceStep,
    Fault,
    LocalState,
    invalid_parameter,
    moto_call,
    unsupported,
)
from ._local_tokens import Tokens

__all__ = ["NO_DEVICE", "PasswordSteps", "missing_required"]

NO_DEVICE = "Device does not exist."
_ATTRIBUTE = "userAttributes."


def missing_required(pool: CognitoIdpUserPool, user: CognitoIdpUser) -> list[str]:
    """The pool's required attributes the user has no value for."""
    return [
        name
        for name, attribute in pool.schema_attributes.items()
        if name != "sub"
        and getattr(attribute, "required", False)
        and not user.attribute_lookup.get(name)
    ]


class PasswordSteps:
    """The steps after a password, over the shared state, the MFA handler and the tokens."""

    def __init__(self, state: LocalState, mfa: Mfa, tokens: Tokens) -> None:
        self.state = state
        self.mfa = mfa
        self.tokens = tokens

    def after_password(self, caller: Caller) -> dict[str, Any]:
        """The step after a proven password: the device's proof, MFA, moto's steps, tokens."""
        pool, user, device_key = caller.pool, caller.user, caller.device_key
        if device_key is not None:
            device = self.state.devices_of(pool.id).get(device_key)
            if device is None or device.username != user.username:
                raise Fault("ResourceNotFoundException", NO_DEVICE)
            # Only a confirmed, remembered device is asked for its proof.
            if device.confirmed and device.remembered and device.verifier is not None:
                session = uuid.uuid4().hex + uuid.uuid4().hex
                with self.state.lock:
                    self.state.device_steps[session] = DeviceStep(
                        pool.id,
                        caller.client.id,
                        user.username,
                        device_key,
                        self.state.now() + self.state.SESSION_SECONDS,
                    )
                return {
                    "ChallengeName": "DEVICE_SRP_AUTH",
                    "Session": session,
                    "ChallengeParameters": {
                        "USERNAME": user.username,
                        "USER_ID_FOR_SRP": user.username,
                    },
                }
        if user.status != "FORCE_CHANGE_PASSWORD":
            ours = self.mfa.own_step(caller)
            if ours is not None:
                return ours
        if not self._needs_a_step(pool, user):
            return self.tokens.sign_in(caller)
        # moto's own PASSWORD_VERIFIER step decides new password, MFA set-up, MFA or tokens.
        session = str(uuid.uuid4())
        caller.backend.sessions[session] = (user.username, pool)
        answers = {
            "USERNAME": user.username,
            "PASSWORD_CLAIM_SIGNATURE": "checked",
            "PASSWORD_CLAIM_SECRET_BLOCK": session,
            "TIMESTAMP": "checked",
        }
        result = moto_call(
            caller.backend.respond_to_auth_challenge,
            session,
            caller.client.id,
            "PASSWORD_VERIFIER",
            answers,
        )
        return self.finish(caller, result)

    @staticmethod
    def _needs_a_step(pool: CognitoIdpUserPool, user: CognitoIdpUser) -> bool:
        """Whether moto's PASSWORD_VERIFIER step would ask for anything (else: tokens)."""
        totp_ready = pool.token_mfa_config == {"Enabled": True} and user.token_verified
        return bool(
            user.status == "FORCE_CHANGE_PASSWORD"
            or pool.mfa_config == "ON"
            or user.software_token_mfa_enabled
            or totp_ready
            or user.sms_mfa_enabled
        )

    def finish(
        self, caller: Caller, result: dict[str, Any], source: str = "Authentication"
    ) -> dict[str, Any]:
        """moto's answer made Cognito's: our MFA steps, full challenge parameters, our
        tokens in place of moto's (minted on our clock, shaped by the triggers)."""
        pool, user = caller.pool, caller.user
        name = result.get("ChallengeName")
        if name in ("SMS_MFA", "SOFTWARE_TOKEN_MFA"):
            # moto takes any SMS code and keeps sessions forever: ours are Cognito's.
            caller.backend.sessions.pop(str(result.get("Session") or ""), None)
            return self.mfa.step(caller, str(name))
        if name in ("NEW_PASSWORD_REQUIRED", "MFA_SETUP") and result.get("Session"):
            self.state.moto_session(caller.client, str(result["Session"]))
        if name == "NEW_PASSWORD_REQUIRED":
            attrs = {k: v for k, v in user.attribute_lookup.items() if k != "sub"}
            required = [_ATTRIBUTE + a for a in missing_required(pool, user)]
            result["ChallengeParameters"] = {
                "USERNAME": user.username,
                "USER_ID_FOR_SRP": user.username,
                "requiredAttributes": json.dumps(required),
                "userAttributes": json.dumps(attrs),
            }
            return result
        if name == "MFA_SETUP":
            params = result.setdefault("ChallengeParameters", {})
            can = params.get("MFAS_CAN_SETUP", [])
            can = json.loads(can) if isinstance(can, str) else list(can)
            if not user.attribute_lookup.get("phone_number"):
                can = [m for m in can if m != "SMS_MFA"]  # no phone to set SMS up with
            can += [m for m in self.mfa.setup_extra(pool) if m not in can]
            params["MFAS_CAN_SETUP"] = json.dumps(can)
            params.setdefault("USERNAME", user.username)
            return result
        if "ChallengeName" in result:
            result.setdefault("ChallengeParameters", {"USERNAME": user.username})
            return result
        auth = result.get("AuthenticationResult") or {}
        # moto minted these on its own clock, unshaped: ours replace them.
        if auth.get("RefreshToken"):
            pool.refresh_tokens.pop(auth["RefreshToken"], None)
        pool.access_tokens.pop(auth.get("AccessToken", ""), None)
        pool.id_tokens.pop(auth.get("IdToken", ""), None)
        return self.tokens.sign_in(caller, source)

    def respond_moto(
        self, caller: Caller, name: str, session: str, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        """NEW_PASSWORD_REQUIRED and MFA_SETUP, on a session of moto's."""
        user, pool = caller.user, caller.pool
        if name == "MFA_SETUP" and r.get("EMAIL"):
            return self.mfa.email_setup(caller, session, str(r["EMAIL"]))
        source = "Authentication"
        if name == "NEW_PASSWORD_REQUIRED":
            # Cognito checks the required attributes first, then keeps those given
            # (moto would drop them).
            given = {
                key[len(_ATTRIBUTE) :]: str(value)
                for key, value in r.items()
                if key.startswith(_ATTRIBUTE)
            }
            missing = [a for a in missing_required(pool, user) if not given.get(a)]
            if missing:
                raise invalid_parameter(f"Invalid attributes given, {missing[0]} is missing")
            if given and r.get("NEW_PASSWORD"):
                user.update_attributes([{"Name": k, "Value": v} for k, v in given.items()])
            source = "NewPasswordChallenge"
        result = moto_call(
            caller.backend.respond_to_auth_challenge, session, caller.client.id, name, dict(r)
        )
        if not result:
            raise unsupported(f"The {name} challenge")
        if name == "MFA_SETUP" and result.get("AuthenticationResult") and user.token_verified:
            # Cognito turns the MFA just set up on (moto only marks the token verified).
            user.software_token_mfa_enabled = True
            user.preferred_mfa_setting = user.preferred_mfa_setting or "SOFTWARE_TOKEN_MFA"
        return self.finish(dataclasses.replace(caller, device_key=None), result, source)
