"""MFA steps of a sign-in on the local Cognito: TOTP, SMS and the choice between them.

moto decides that a sign-in needs MFA; this layer asks for it the way Cognito does: a
session that expires with the app client's AuthSessionValidity and serves once, SMS
codes sent to the inbox, TOTP codes checked against the user's own secret (a fresh one
from each AssociateSoftwareToken, _local_totp) on the server's (test-movable) clock with
one step of skew either way, and SELECT_MFA_TYPE when a user has both and prefers none.
"""

from __future__ import annotations

import json
import uuid
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
from ._local_auth import _TOKENS, moto_call
from ._local_state import (
    Fault,
    LocalState,
    invalid_parameter,
    not_authorized,
    pool_user,
    required,
)
from ._local_totp import code_matches

__all__ = ["MfaOps"]

_MFA_NAMES = ("SELECT_MFA_TYPE", "SOFTWARE_TOKEN_MFA")


class MfaOps(AccountOps):
    """The MFA challenges, in place of moto's, and email MFA, which moto lacks."""

    def __init__(self, state: LocalState) -> None:
        super().__init__(state)
        #: EmailMfaConfiguration per pool id (moto keeps none).
        self.email_config: dict[str, dict[str, Any]] = {}
        #: (pool id, user name) of users with email MFA on.
        self.email_users: set[tuple[str, str]] = set()

    # ------------------------------------------------------------ email MFA settings

    def op_SetUserPoolMfaConfig(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool = self.state.pool(params.get("UserPoolId"))
        mode = params.get("MfaConfiguration")
        if mode not in ("ON", "OFF", "OPTIONAL"):
            raise invalid_parameter("[MfaConfiguration] must be one of 'ON', 'OFF', or 'OPTIONAL'.")
        sms = params.get("SmsMfaConfiguration")
        token = params.get("SoftwareTokenMfaConfiguration")
        email = params.get("EmailMfaConfiguration")
        if mode != "OFF" and sms is None and token is None and email is None:
            raise invalid_parameter(
                "At least one of [SmsMfaConfiguration], [SoftwareTokenMfaConfiguration] "
                "or [EmailMfaConfiguration] must be provided."
            )
        if sms is not None and "SmsConfiguration" not in sms:
            raise invalid_parameter("[SmsConfiguration] is a required member of the SMS config.")
        moto_call(backend.set_user_pool_mfa_config, pool.id, sms, token, str(mode))
        if email is not None:
            self.email_config[pool.id] = dict(email)
        return self.op_GetUserPoolMfaConfig({"UserPoolId": pool.id})

    def op_GetUserPoolMfaConfig(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool = self.state.pool(params.get("UserPoolId"))
        answer: dict[str, Any] = {
            k: v for k, v in backend.get_user_pool_mfa_config(pool.id).items() if v is not None
        }
        if pool.id in self.email_config:
            answer["EmailMfaConfiguration"] = self.email_config[pool.id]
        return answer

    def op_SetUserMFAPreference(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool, user, _ = self.state.access(required(params, "AccessToken"))
        return self._set_preference(backend, pool, user, params)

    def op_AdminSetUserMFAPreference(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool = self.state.pool(params.get("UserPoolId"))
        user = pool_user(pool, str(required(params, "Username")))
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        return self._set_preference(backend, pool, user, params)

    def _set_preference(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        user: CognitoIdpUser,
        params: Mapping[str, Any],
    ) -> dict[str, Any]:
        email = params.get("EmailMfaSettings")
        if email and email.get("Enabled"):
            if pool.id not in self.email_config:
                raise invalid_parameter("Email MFA is not enabled for this user pool.")
            if not user.attribute_lookup.get("email"):
                raise invalid_parameter("User does not have an email address for MFA codes.")
        moto_call(
            backend.admin_set_user_mfa_preference,
            pool.id,
            user.username,
            params.get("SoftwareTokenMfaSettings"),
            params.get("SMSMfaSettings"),
        )
        key = (pool.id, user.username)
        if email is not None:
            if email.get("Enabled"):
                self.email_users.add(key)
            else:
                self.email_users.discard(key)
            if email.get("PreferredMfa"):
                user.preferred_mfa_setting = "EMAIL_OTP"
            elif user.preferred_mfa_setting == "EMAIL_OTP":
                user.preferred_mfa_setting = ""
        return {}

    def op_GetUser(self, params: Mapping[str, Any]) -> dict[str, Any]:
        view = super().op_GetUser(params)
        _, pool, user, _ = self.state.access(required(params, "AccessToken"))
        if (pool.id, user.username) in self.email_users:
            kinds = list(view.get("UserMFASettingList") or [])
            view["UserMFASettingList"] = [*kinds, "EMAIL_OTP"]
        if user.preferred_mfa_setting == "EMAIL_OTP":
            view["PreferredMfaSetting"] = "EMAIL_OTP"
        return view

    # ------------------------------------------------------------ email MFA in sign-in

    def _email_on(self, pool: CognitoIdpUserPool, user: CognitoIdpUser) -> bool:
        return (
            pool.mfa_config in ("ON", "OPTIONAL")
            and pool.id in self.email_config
            and (pool.id, user.username) in self.email_users
            and bool(user.attribute_lookup.get("email"))
        )

    def own_mfa_step(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        device_key: str | None,
    ) -> dict[str, Any] | None:
        if not self._email_on(pool, user):
            return None
        others = []
        if user.sms_mfa_enabled and user.attribute_lookup.get("phone_number"):
            others.append("SMS_MFA")
        if user.software_token_mfa_enabled:
            others.append("SOFTWARE_TOKEN_MFA")
        preferred = user.preferred_mfa_setting
        if preferred == "EMAIL_OTP" or not others:
            return self.email_mfa(pool, client, user, device_key)
        if preferred in others:
            return None  # moto's step asks for the preferred one
        session = self._open(pool, client, user, ("SELECT_MFA_TYPE",), device_key)
        return {
            "ChallengeName": "SELECT_MFA_TYPE",
            "Session": session,
            "ChallengeParameters": {
                "USERNAME": user.username,
                "MFAS_CAN_CHOOSE": json.dumps([*others, "EMAIL_OTP"]),
            },
        }

    def email_mfa(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        device_key: str | None,
        *,
        setup: bool = False,
    ) -> dict[str, Any]:
        """EMAIL_OTP as a second factor: a code to the user's email, single-use session."""
        code, delivery = self._issue_code(pool, user, "email_mfa", "email")
        session = self._open(pool, client, user, ("EMAIL_OTP",), device_key, code)
        if setup:
            with self.state.lock:
                self.state.pending[session].email_setup = True
        return {
            "ChallengeName": "EMAIL_OTP",
            "Session": session,
            "ChallengeParameters": {
                "USERNAME": user.username,
                "CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL",
                "CODE_DELIVERY_DESTINATION": delivery["Destination"],
            },
        }

    def mfa_setup_extra(self, pool: CognitoIdpUserPool) -> list[str]:
        return ["EMAIL_OTP"] if pool.id in self.email_config else []

    def email_setup(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        session: str,
        email: str,
    ) -> dict[str, Any]:
        """MFA_SETUP with EMAIL: the address is set (unverified) and sent a code; the
        right code turns email MFA on, verifies the address and signs the user in."""
        if pool.id not in self.email_config:
            raise invalid_parameter("Email MFA is not enabled for this user pool.")
        if "@" not in email or len(email) > 254:
            raise invalid_parameter("Invalid email address format.")
        if backend.sessions.pop(session, None) is None:
            raise not_authorized("Invalid session for the user.")
        user.update_attributes(
            [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "false"}]
        )
        return self.email_mfa(pool, client, user, None, setup=True)

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

    def _totp_ok(self, user: CognitoIdpUser, code: Any) -> bool:
        """Whether ``code`` is a code of the user's confirmed secret (now, +-1 step)."""
        if not get_cognito_idp_user_pool_enable_totp():
            return True  # moto's own rule: codes are checked only when TOTP is enabled
        secret = self.state.totp.confirmed(user)
        return secret is not None and code_matches(secret, code, self.state.now())

    # ------------------------------------------------------------ TOTP association

    def _totp_user(
        self, params: Mapping[str, Any]
    ) -> tuple[CognitoIdpBackend, CognitoIdpUserPool, CognitoIdpUser, str | None]:
        """The user of the AccessToken, or of the sign-in Session (then also the session)."""
        if params.get("AccessToken"):
            backend, pool, user, _ = self.state.access(params["AccessToken"])
            return backend, pool, user, None
        session = str(params.get("Session") or "")
        for backend in self.state.backends():
            known = backend.sessions.get(session) if session else None
            if known is not None:
                username, pool = known
                found = pool.users.get(username) or pool_user(pool, username)
                if found is None:
                    raise Fault("UserNotFoundException", "User does not exist.")
                return backend, pool, found, session
        raise not_authorized("Invalid session for the user.")

    def op_AssociateSoftwareToken(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A fresh random secret for this user, pending until VerifySoftwareToken."""
        _, _, user, session = self._totp_user(params)
        answer = {"SecretCode": self.state.totp.associate(user)}
        return answer if session is None else answer | {"Session": session}

    def op_VerifySoftwareToken(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A code of the pending secret confirms it; a wrong one is
        EnableSoftwareTokenMFAException, as on Cognito."""
        backend, pool, user, _ = self._totp_user(params)
        code = str(required(params, "UserCode"))
        if get_cognito_idp_user_pool_enable_totp():
            pending = self.state.totp.pending(user)
            if pending is None:
                raise Fault(
                    "SoftwareTokenMFANotFoundException",
                    "No software token has been associated with the user.",
                )
            if not code_matches(pending, code, self.state.now()):
                raise Fault("EnableSoftwareTokenMFAException", "Code mismatch")
        self.state.totp.confirm(user)
        user.token_verified = True
        # moto's answer: a session for the MFA_SETUP answer of a sign-in.
        fresh = str(uuid.uuid4())
        backend.sessions[fresh] = (user.username, pool)
        return {"Status": "SUCCESS", "Session": fresh}

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
            opened = self.state.pending.get(session)
        if name == "EMAIL_OTP" and opened is not None and opened.email_setup:
            result = super().respond_other(backend, pool, client, name, params)
            user = pool.users.get(opened.username)
            if user is not None:  # the code arrived: the address works
                self.email_users.add((pool.id, user.username))
                user.update_attributes([{"Name": "email_verified", "Value": "true"}])
                user.preferred_mfa_setting = user.preferred_mfa_setting or "EMAIL_OTP"
            return result
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
            if answer == "EMAIL_OTP" and self._email_on(pool, user):
                return self.email_mfa(pool, client, user, step.device_key)
            raise invalid_parameter("ANSWER must be one of the MFA types offered")
        if not self._totp_ok(user, r.get("SOFTWARE_TOKEN_MFA_CODE")):
            raise Fault("CodeMismatchException", "Invalid code received for user")
        return self.finish(pool, client, user, _TOKENS, step.device_key)
