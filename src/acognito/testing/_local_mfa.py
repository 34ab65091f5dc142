"""MFA steps of a sign-in on the local Cognito: TOTP, SMS and the choice between them.

moto decides that a sign-in needs MFA; this layer asks for it the way Cognito does: a
session that expires with the app client's AuthSessionValidity and serves once, SMS
codes sent to the inbox, TOTP codes checked on the server's (test-movable) clock with
one step of skew either way, and SELECT_MFA_TYPE when a user has both and prefers none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from moto.cognitoidp.models import (
    CognitoIdpBackend,
    CognitoIdpUser,
    CognitoIdpUserPool,
    CognitoIdpUserPoolClient,
)
from moto.settings import get_cognito_idp_user_pool_enable_totp

from ._local_account import AccountOps
from ._local_auth import _TOKENS
from ._local_state import Fault, invalid_parameter, not_authorized, same
from .totp import MOTO_TOTP_SECRET, totp

__all__ = ["MfaOps"]

_MFA_NAMES = ("SELECT_MFA_TYPE", "SOFTWARE_TOKEN_MFA")


class MfaOps(AccountOps):
    """The MFA challenges, in place of moto's."""

    def mfa_step(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        device_key: str | None,
        name: str,
    ) -> dict[str, Any]:
        both = user.software_token_mfa_enabled and user.sms_mfa_enabled
        if both and not user.preferred_mfa_setting and user.attribute_lookup.get("phone_number"):
            session = self._open(pool, client, user, ("SELECT_MFA_TYPE",), device_key)
            choices = json.dumps(["SMS_MFA", "SOFTWARE_TOKEN_MFA"])
            return {
                "ChallengeName": "SELECT_MFA_TYPE",
                "Session": session,
                "ChallengeParameters": {"USERNAME": user.username, "MFAS_CAN_CHOOSE": choices},
            }
        if name == "SMS_MFA":
            return self.sms_mfa(pool, client, user, device_key)
        return self._totp_step(pool, client, user, device_key)

    def _totp_step(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        device_key: str | None,
    ) -> dict[str, Any]:
        session = self._open(pool, client, user, ("SOFTWARE_TOKEN_MFA",), device_key)
        return {
            "ChallengeName": "SOFTWARE_TOKEN_MFA",
            "Session": session,
            "ChallengeParameters": {"USERNAME": user.username},
        }

    def _totp_ok(self, code: Any) -> bool:
        if not get_cognito_idp_user_pool_enable_totp():
            return True  # moto's own rule: codes are checked only when TOTP is enabled
        given, now = str(code or ""), self.state.now()
        return any(same(totp(MOTO_TOTP_SECRET, at=now + 30 * skew), given) for skew in (-1, 0, 1))

    def respond_other(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        name: str,
        params: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        session = str(params.get("Session") or "")
        with self.state.lock:
            ours = session in self.state.pending or session in self.state.used_sessions
        if name not in _MFA_NAMES or not ours:
            return super().respond_other(backend, pool, client, name, params)
        step = self._take(session, client, name)
        r: Mapping[str, Any] = params.get("ChallengeResponses") or {}
        user = pool.users.get(step.username)
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        if str(r.get("USERNAME") or "") != user.username:
            raise not_authorized("USERNAME must be the USERNAME the challenge returned.")
        self.state.check_secret_hash(client, user.username, r.get("SECRET_HASH"))
        if name == "SELECT_MFA_TYPE":
            answer = r.get("ANSWER")
            if answer == "SMS_MFA":
                return self.sms_mfa(pool, client, user, step.device_key)
            if answer == "SOFTWARE_TOKEN_MFA":
                return self._totp_step(pool, client, user, step.device_key)
            raise invalid_parameter("ANSWER must be SMS_MFA or SOFTWARE_TOKEN_MFA")
        if not self._totp_ok(r.get("SOFTWARE_TOKEN_MFA_CODE")):
            raise Fault("CodeMismatchException", "Invalid code received for user")
        return self.finish(pool, client, user, _TOKENS, step.device_key)
