"""MFA on the local Cognito: TOTP, SMS and email codes, and the choice between them.

moto decides that a sign-in needs MFA; this handler asks for it the way Cognito does: a
session that expires with the app client's AuthSessionValidity and serves once, SMS and
email codes sent to the inbox, TOTP codes checked against the user's own secret (a fresh
one from each AssociateSoftwareToken, _local_totp) on the server's (test-movable) clock
with one step of skew either way, SELECT_MFA_TYPE when a user has several and prefers
none, and email MFA (EmailMfaConfiguration), which moto lacks. It also answers the
one-time codes of a USER_AUTH first factor (EMAIL_OTP, SMS_OTP): the same check.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUser, CognitoIdpUserPool
from moto.settings import get_cognito_idp_user_pool_enable_totp

from ._local_codes import Codes
from ._local_state import (
    Caller,
    Fault,
    LocalState,
    Pending,
    invalid_parameter,
    moto_call,
    not_authorized,
    pool_user,
    required,
    same,
)
from ._local_tokens import Tokens
from ._local_totp import code_matches

__all__ = ["Mfa"]

Op = Callable[[Mapping[str, Any]], dict[str, Any]]
Responder = Callable[[Caller, str, Pending, Mapping[str, Any]], dict[str, Any]]
#: The ChallengeResponses key of each code challenge.
_CODE_KEYS = {"SMS_MFA": "SMS_MFA_CODE", "EMAIL_OTP": "EMAIL_OTP_CODE", "SMS_OTP": "SMS_OTP_CODE"}


class Mfa:
    """MFA settings, TOTP association and the MFA steps of a sign-in."""

    def __init__(self, state: LocalState, codes: Codes, tokens: Tokens) -> None:
        self.state = state
        self.codes = codes
        self.tokens = tokens

    def operations(self) -> dict[str, Op]:
        return {
            "SetUserPoolMfaConfig": self.set_pool_config,
            "GetUserPoolMfaConfig": self.get_pool_config,
            "SetUserMFAPreference": self.set_preference,
            "AdminSetUserMFAPreference": self.admin_set_preference,
            "AssociateSoftwareToken": self.associate_software_token,
            "VerifySoftwareToken": self.verify_software_token,
        }

    def responders(self) -> dict[str, Responder]:
        return {
            "SOFTWARE_TOKEN_MFA": self.answer_totp,
            "SELECT_MFA_TYPE": self.answer_choice,
            "SMS_MFA": self.answer_code,
            "EMAIL_OTP": self.answer_code,
            "SMS_OTP": self.answer_code,
        }

    # ------------------------------------------------------------ settings

    def set_pool_config(self, params: Mapping[str, Any]) -> dict[str, Any]:
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
            self.state.email_config[pool.id] = dict(email)
        return self.get_pool_config({"UserPoolId": pool.id})

    def get_pool_config(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool = self.state.pool(params.get("UserPoolId"))
        answer: dict[str, Any] = {
            k: v for k, v in backend.get_user_pool_mfa_config(pool.id).items() if v is not None
        }
        if pool.id in self.state.email_config:
            answer["EmailMfaConfiguration"] = self.state.email_config[pool.id]
        return answer

    def set_preference(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool, user, _ = self.state.access(required(params, "AccessToken"))
        return self._set_preference(backend, pool, user, params)

    def admin_set_preference(self, params: Mapping[str, Any]) -> dict[str, Any]:
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
            if pool.id not in self.state.email_config:
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
                self.state.email_users.add(key)
            else:
                self.state.email_users.discard(key)
            if email.get("PreferredMfa"):
                user.preferred_mfa_setting = "EMAIL_OTP"
            elif user.preferred_mfa_setting == "EMAIL_OTP":
                user.preferred_mfa_setting = ""
        return {}

    def user_view(
        self, pool: CognitoIdpUserPool, user: CognitoIdpUser, view: dict[str, Any]
    ) -> None:
        """GetUser's MFA members with email MFA added (moto knows none)."""
        if (pool.id, user.username) in self.state.email_users:
            view["UserMFASettingList"] = [*(view.get("UserMFASettingList") or []), "EMAIL_OTP"]
        if user.preferred_mfa_setting == "EMAIL_OTP":
            view["PreferredMfaSetting"] = "EMAIL_OTP"

    # ------------------------------------------------------------ steps of a sign-in

    def _email_on(self, pool: CognitoIdpUserPool, user: CognitoIdpUser) -> bool:
        return (
            pool.mfa_config in ("ON", "OPTIONAL")
            and pool.id in self.state.email_config
            and (pool.id, user.username) in self.state.email_users
            and bool(user.attribute_lookup.get("email"))
        )

    def own_step(self, caller: Caller) -> dict[str, Any] | None:
        """An MFA step moto does not know (email MFA), or None (moto decides)."""
        pool, user = caller.pool, caller.user
        if not self._email_on(pool, user):
            return None
        others = []
        if user.sms_mfa_enabled and user.attribute_lookup.get("phone_number"):
            others.append("SMS_MFA")
        if user.software_token_mfa_enabled:
            others.append("SOFTWARE_TOKEN_MFA")
        preferred = user.preferred_mfa_setting
        if preferred == "EMAIL_OTP" or not others:
            return self.code_step(caller, "EMAIL_OTP", "email_mfa")
        if preferred in others:
            return None  # moto's step asks for the preferred one
        return self._choice(caller, [*others, "EMAIL_OTP"])

    def step(self, caller: Caller, name: str) -> dict[str, Any]:
        """Our SMS_MFA / SOFTWARE_TOKEN_MFA step in place of moto's (or the choice)."""
        user = caller.user
        both = user.software_token_mfa_enabled and user.sms_mfa_enabled
        if both and not user.preferred_mfa_setting and user.attribute_lookup.get("phone_number"):
            return self._choice(caller, ["SMS_MFA", "SOFTWARE_TOKEN_MFA"])
        if name == "SMS_MFA":
            return self.code_step(caller, "SMS_MFA", "sms_mfa")
        return self._totp_step(caller)

    def _choice(self, caller: Caller, choices: list[str]) -> dict[str, Any]:
        session = self.state.open_session(caller, ("SELECT_MFA_TYPE",))
        return {
            "ChallengeName": "SELECT_MFA_TYPE",
            "Session": session,
            "ChallengeParameters": {
                "USERNAME": caller.user.username,
                "MFAS_CAN_CHOOSE": json.dumps(choices),
            },
        }

    def _totp_step(self, caller: Caller) -> dict[str, Any]:
        session = self.state.open_session(caller, ("SOFTWARE_TOKEN_MFA",))
        return {
            "ChallengeName": "SOFTWARE_TOKEN_MFA",
            "Session": session,
            "ChallengeParameters": {"USERNAME": caller.user.username},
        }

    def code_step(
        self, caller: Caller, name: str, purpose: str, *, setup: bool = False
    ) -> dict[str, Any]:
        """A code challenge (SMS_MFA, EMAIL_OTP, SMS_OTP): a real code to the inbox (under
        ``purpose``) and a single-use session that expects it."""
        attribute = "email" if name == "EMAIL_OTP" else "phone_number"
        code, delivery = self.codes.issue(
            caller.pool, caller.user, purpose, attribute,
            client_id=caller.client.id, metadata=caller.metadata,
        )  # fmt: skip
        session = self.state.open_session(caller, (name,), code)
        if setup:
            with self.state.lock:
                self.state.pending[session].email_setup = True
        return {
            "ChallengeName": name,
            "Session": session,
            "ChallengeParameters": {
                "USERNAME": caller.user.username,
                "CODE_DELIVERY_DELIVERY_MEDIUM": delivery["DeliveryMedium"],
                "CODE_DELIVERY_DESTINATION": delivery["Destination"],
            },
        }

    def setup_extra(self, pool: CognitoIdpUserPool) -> list[str]:
        """MFA kinds MFA_SETUP offers beyond moto's."""
        return ["EMAIL_OTP"] if pool.id in self.state.email_config else []

    def email_setup(self, caller: Caller, session: str, email: str) -> dict[str, Any]:
        """MFA_SETUP with EMAIL: the address is set (unverified) and sent a code; the
        right code turns email MFA on, verifies the address and signs the user in."""
        pool, user = caller.pool, caller.user
        if pool.id not in self.state.email_config:
            raise invalid_parameter("Email MFA is not enabled for this user pool.")
        if "@" not in email or len(email) > 254:
            raise invalid_parameter("Invalid email address format.")
        if caller.backend.sessions.pop(session, None) is None:
            raise not_authorized("Invalid session for the user.")
        user.update_attributes(
            [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "false"}]
        )
        caller.device_key = None
        return self.code_step(caller, "EMAIL_OTP", "email_mfa", setup=True)

    # ------------------------------------------------------------ answers

    def answer_choice(
        self, caller: Caller, name: str, step: Pending, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        answer = r.get("ANSWER")
        if answer == "SMS_MFA":
            return self.code_step(caller, "SMS_MFA", "sms_mfa")
        if answer == "SOFTWARE_TOKEN_MFA":
            return self._totp_step(caller)
        if answer == "EMAIL_OTP" and self._email_on(caller.pool, caller.user):
            return self.code_step(caller, "EMAIL_OTP", "email_mfa")
        raise invalid_parameter("ANSWER must be one of the MFA types offered")

    def answer_totp(
        self, caller: Caller, name: str, step: Pending, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        if not self._totp_ok(caller.user, r.get("SOFTWARE_TOKEN_MFA_CODE")):
            raise Fault("CodeMismatchException", "Invalid code received for user")
        return self.tokens.sign_in(caller)

    def answer_code(
        self, caller: Caller, name: str, step: Pending, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        """SMS_MFA, EMAIL_OTP, SMS_OTP: the code sent for this session."""
        given = str(r.get(_CODE_KEYS.get(name, "")) or "")
        if not step.code or not same(step.code, given):
            raise Fault("CodeMismatchException", "Invalid code received for user")
        if step.email_setup:  # the code arrived: the address works, email MFA is on
            user = caller.user
            self.state.email_users.add((caller.pool.id, user.username))
            user.update_attributes([{"Name": "email_verified", "Value": "true"}])
            user.preferred_mfa_setting = user.preferred_mfa_setting or "EMAIL_OTP"
        return self.tokens.sign_in(caller)

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
            if known is not None and self.state.moto_session_expired(session):
                raise not_authorized("Invalid session for the user, session is expired.")
            if known is not None:
                username, pool = known
                found = pool.users.get(username) or pool_user(pool, username)
                if found is None:
                    raise Fault("UserNotFoundException", "User does not exist.")
                return backend, pool, found, session
        raise not_authorized("Invalid session for the user.")

    def associate_software_token(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A fresh random secret for this user, pending until VerifySoftwareToken."""
        _, _, user, session = self._totp_user(params)
        answer = {"SecretCode": self.state.totp.associate(user)}
        return answer if session is None else answer | {"Session": session}

    def verify_software_token(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A code of the pending secret confirms it; a wrong one is
        EnableSoftwareTokenMFAException, as on Cognito."""
        backend, pool, user, session = self._totp_user(params)
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
        if session is not None:  # the MFA_SETUP step goes on: as long as the old session
            with self.state.lock:
                until = self.state.moto_sessions.get(session)
                if until is not None:
                    self.state.moto_sessions[fresh] = until
        return {"Status": "SUCCESS", "Session": fresh}
