"""Codes, custom auth and choice-based sign-in on the local Cognito.

Every code a user would get by mail or SMS (sign-up, attribute verification, SMS MFA,
e-mail and SMS one-time passwords) is made here, put in the inbox and checked when it
comes back (moto accepts any). CUSTOM_AUTH runs the pool's trigger callbacks
(:mod:`._local_triggers`) or answers against a per-pool answer set through the test
API; USER_AUTH offers PASSWORD, PASSWORD_SRP, EMAIL_OTP and SMS_OTP.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.cognitoidp.models import (
    CognitoIdpBackend,
    CognitoIdpUser,
    CognitoIdpUserPool,
    CognitoIdpUserPoolClient,
)

from . import _local_triggers as triggers
from ._local_auth import _TOKENS, moto_call
from ._local_devices import DeviceOps
from ._local_state import (
    HEADERS,
    Fault,
    invalid_parameter,
    not_authorized,
    pool_user,
    required,
    same,
)

__all__ = ["AccountOps"]

#: Seconds each kind of code stays valid (Cognito: 24 h for sign-up, 3 min for MFA).
CODE_TTL = {"sign_up": 86400, "sms_mfa": 180, "email_mfa": 180, "email_otp": 180, "sms_otp": 180}
_MISMATCH = "Invalid verification code provided, please try again."
_SIGN_UP_SESSION = "SIGN_UP_SESSION"  # our name for ConfirmSignUp's session


def _mask(attribute: str, value: str) -> dict[str, str]:
    if attribute == "email":
        local, _, domain = value.partition("@")
        shown = f"{local[:1]}***@{domain[:1]}***"
        return {"Destination": shown, "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    shown = "+" + "*" * max(len(value) - 5, 0) + value[-4:]
    return {"Destination": shown, "DeliveryMedium": "SMS", "AttributeName": attribute}


@dataclass
class Pending:
    """A challenge we answer ourselves (custom, choice, one-time code), single use."""

    pool_id: str
    client_id: str
    username: str
    expected: tuple[str, ...]
    expires_at: float
    device_key: str | None = None
    code: str | None = field(default=None, repr=False)
    #: A code sent to a new email address in MFA set-up: its answer turns email MFA on.
    email_setup: bool = False
    #: A trigger-made CUSTOM_CHALLENGE: its private parameters, metadata and the history.
    private: dict[str, str] | None = field(default=None, repr=False)
    metadata: Any = None
    history: list[dict[str, Any]] | None = None


class AccountOps(DeviceOps):
    """Sign-up and attribute codes, DeleteUser, custom auth, USER_AUTH, SMS MFA codes."""

    # ------------------------------------------------------------ codes

    def _issue_code(
        self, pool: CognitoIdpUserPool, user: CognitoIdpUser, purpose: str, attribute: str
    ) -> tuple[str, dict[str, str]]:
        destination = user.attribute_lookup.get(attribute)
        if not destination:
            raise invalid_parameter(f"User has no {attribute} to send a code to")
        code = f"{secrets.randbelow(10**6):06d}"
        self.state.record_code(pool, user, purpose, code)
        with self.state.lock:
            self.state.codes[(pool.id, user.username, purpose)] = (
                code,
                self.state.now() + CODE_TTL.get(purpose, 86400),
            )
        return code, _mask(attribute, str(destination))

    def _use_code(
        self, pool: CognitoIdpUserPool, user: CognitoIdpUser, purpose: str, code: Any
    ) -> None:
        key = (pool.id, user.username, purpose)
        with self.state.lock:
            found = self.state.codes.get(key)
            if found is None or not same(found[0], str(code or "")):
                raise Fault("CodeMismatchException", _MISMATCH)
            if self.state.now() >= found[1]:
                raise Fault(
                    "ExpiredCodeException", "Invalid code provided, please request a code again."
                )
            del self.state.codes[key]

    @staticmethod
    def _contact(user: CognitoIdpUser) -> str:
        return "email" if user.attribute_lookup.get("email") else "phone_number"

    def _user_of_client(
        self, params: Mapping[str, Any]
    ) -> tuple[CognitoIdpBackend, CognitoIdpUserPool, CognitoIdpUserPoolClient, CognitoIdpUser]:
        backend, pool, client = self.state.client(params.get("ClientId"))
        typed = str(required(params, "Username"))
        self.state.check_secret_hash(client, typed, params.get("SecretHash"))
        user = pool_user(pool, typed)
        if user is None:
            raise Fault("UserNotFoundException", "Username/client id combination not found.")
        return backend, pool, client, user

    def op_SignUp(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool, client = self.state.client(params.get("ClientId"))
        typed = str(required(params, "Username"))
        self.state.check_secret_hash(client, typed, params.get("SecretHash"))
        user, _ = moto_call(
            backend.sign_up,
            client.id,
            typed,
            str(required(params, "Password")),
            list(params.get("UserAttributes") or []),
        )
        answer: dict[str, Any] = {"UserConfirmed": user.status == "CONFIRMED", "UserSub": user.id}
        if user.status != "CONFIRMED":
            attribute = self._contact(user)
            if user.attribute_lookup.get(attribute):
                _, answer["CodeDeliveryDetails"] = self._issue_code(
                    pool, user, "sign_up", attribute
                )
        return answer

    def op_ResendConfirmationCode(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, pool, _, user = self._user_of_client(params)
        if user.status != "UNCONFIRMED":
            raise invalid_parameter("User is already confirmed.")
        _, delivery = self._issue_code(pool, user, "sign_up", self._contact(user))
        return {"CodeDeliveryDetails": delivery}

    def op_ConfirmSignUp(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool, client, user = self._user_of_client(params)
        if user.status != "UNCONFIRMED":
            raise not_authorized(f"User cannot be confirmed. Current status is {user.status}")
        self._use_code(pool, user, "sign_up", params.get("ConfirmationCode"))
        moto_call(backend.confirm_sign_up, client.id, user.username)
        attribute = self._contact(user)
        if user.attribute_lookup.get(attribute):
            user.update_attributes([{"Name": f"{attribute}_verified", "Value": "true"}])
        allowed = client.extended_config.get("ExplicitAuthFlows") or []
        if allowed and "ALLOW_USER_AUTH" not in allowed:
            return {}
        # The code just proved the user: one USER_AUTH sign-in may follow without a
        # password, once, for this user and client, within AuthSessionValidity.
        return {"Session": self._open(pool, client, user, (_SIGN_UP_SESSION,), None)}

    def op_GetUserAttributeVerificationCode(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, pool, user, _ = self.state.access(required(params, "AccessToken"))
        attribute = str(required(params, "AttributeName"))
        if attribute not in ("email", "phone_number"):
            raise invalid_parameter("Only email and phone_number can be verified")
        _, delivery = self._issue_code(pool, user, f"verify_{attribute}", attribute)
        return {"CodeDeliveryDetails": delivery}

    def op_VerifyUserAttribute(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, pool, user, _ = self.state.access(required(params, "AccessToken"))
        attribute = str(required(params, "AttributeName"))
        self._use_code(pool, user, f"verify_{attribute}", params.get("Code"))
        user.update_attributes([{"Name": f"{attribute}_verified", "Value": "true"}])
        return {}

    def op_ForgotPassword(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A real code to the inbox: SMS to a verified phone, else e-mail (legacy recovery)."""
        _, pool, _, user = self._user_of_client(params)
        phone_ok = user.attribute_lookup.get("phone_number_verified") == "true"
        attribute = "phone_number" if phone_ok else "email"
        if not user.attribute_lookup.get(attribute):
            raise invalid_parameter(
                "Cannot reset password for the user as there is no verified email or phone_number"
            )
        code, delivery = self._issue_code(pool, user, "forgot_password", attribute)
        # moto's header, kept for set-up code that reads it (CognitoAdmin.forgot_password_code).
        return {
            "CodeDeliveryDetails": delivery,
            HEADERS: {"x-moto-forgot-password-confirmation-code": code},
        }

    def op_ConfirmForgotPassword(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool, _, user = self._user_of_client(params)
        password = str(required(params, "Password"))
        self._use_code(pool, user, "forgot_password", params.get("ConfirmationCode"))
        moto_call(backend._validate_password, pool.id, password)
        user.password = password
        if user.status in ("FORCE_CHANGE_PASSWORD", "RESET_REQUIRED"):
            user.status = "CONFIRMED"
        return {}

    def op_UpdateUserAttributes(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """moto's update, then a code for each changed e-mail or phone (now unverified)."""
        backend, pool, user, _ = self.state.access(required(params, "AccessToken"))
        changes = list(params.get("UserAttributes") or [])
        names = {str(a.get("Name")) for a in changes if isinstance(a, dict)}
        if "sub" in names:
            raise invalid_parameter("Cannot modify an immutable attribute: sub")
        before = dict(user.attribute_lookup)
        moto_call(backend.update_user_attributes, str(params["AccessToken"]), changes)
        sent = []
        for attribute in ("email", "phone_number"):
            value = user.attribute_lookup.get(attribute)
            if attribute in names and value and value != before.get(attribute):
                user.update_attributes([{"Name": f"{attribute}_verified", "Value": "false"}])
                _, delivery = self._issue_code(pool, user, f"verify_{attribute}", attribute)
                sent.append(delivery)
        return {"CodeDeliveryDetailsList": sent} if sent else {}

    def op_GetUser(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """moto's answer, after our token check (revoked or expired tokens are refused)."""
        _, _, user, _ = self.state.access(required(params, "AccessToken"))
        view: dict[str, Any] = user.to_json(extended=True, attributes_key="UserAttributes")
        return view

    def op_DeleteUser(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool, user, _ = self.state.access(required(params, "AccessToken"))
        pool.sign_out(user.username)
        moto_call(backend.admin_delete_user, pool.id, user.username)
        return {}

    # ------------------------------------------------------------ challenges of our own

    def _open(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        expected: tuple[str, ...],
        device_key: str | None,
        code: str | None = None,
    ) -> str:
        session = secrets.token_urlsafe(96)
        minutes = client.extended_config.get("AuthSessionValidity") or 3
        with self.state.lock:
            self.state.pending[session] = Pending(
                pool.id,
                client.id,
                user.username,
                expected,
                self.state.now() + float(minutes) * 60,
                device_key,
                code,
            )
        return session

    def _take(self, session: Any, client: CognitoIdpUserPoolClient, name: str) -> Pending:
        key = str(session or "")
        with self.state.lock:
            step: Pending | None = self.state.pending.pop(key, None)
            reused = step is None and key in self.state.used_sessions
            self.state.used_sessions.add(key)
        if reused:
            raise not_authorized("Invalid session for the user, session can only be used once.")
        if step is None or step.client_id != client.id:
            raise not_authorized("Invalid session for the user.")
        if self.state.now() >= step.expires_at:
            raise not_authorized("Invalid session for the user, session is expired.")
        if name not in step.expected:
            raise invalid_parameter(f"The session expects {step.expected[0]}, not {name}")
        return step

    def initiate_other(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        flow: str,
        ap: Mapping[str, Any],
    ) -> dict[str, Any]:
        typed = str(required(ap, "USERNAME"))
        self.state.check_secret_hash(client, typed, ap.get("SECRET_HASH"))
        user = pool_user(pool, typed)
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        self._may_sign_in(user)
        device_key = str(ap.get("DEVICE_KEY") or "") or None
        if flow == "CUSTOM_AUTH":
            if pool.id in self.state.custom_triggers:
                return triggers.start(self, pool, client, user, ap, device_key)
            if pool.id not in self.state.custom_auth:
                raise invalid_parameter(
                    "Custom auth lambda trigger is not configured for the user pool "
                    "(on the local Cognito: LocalCognito.set_custom_auth_triggers, "
                    "or api.set_custom_auth for one fixed challenge)."
                )
            if ap.get("CHALLENGE_NAME") == "SRP_A" or ap.get("SRP_A"):
                return self.srp_challenge(pool, client, user, ap, device_key, then="custom")
            return self.custom_challenge(pool, client, user, device_key)
        preferred = str(ap.get("PREFERRED_CHALLENGE") or "")
        if preferred:
            return self._choose(backend, pool, client, user, preferred, ap, device_key)
        offered = self._factors(user)
        session = self._open(pool, client, user, ("SELECT_CHALLENGE", *offered), device_key)
        return {
            "ChallengeName": "SELECT_CHALLENGE",
            "Session": session,
            "ChallengeParameters": {"USERNAME": user.username},
            "AvailableChallenges": offered,
        }

    def after_sign_up(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        ap: Mapping[str, Any],
        session: Any,
    ) -> dict[str, Any]:
        typed = str(required(ap, "USERNAME"))
        self.state.check_secret_hash(client, typed, ap.get("SECRET_HASH"))
        step = self._take(session, client, _SIGN_UP_SESSION)
        user = pool_user(pool, typed)
        if user is None or user.username != step.username:
            raise not_authorized("Invalid session for the user.")
        self._may_sign_in(user)
        device_key = str(ap.get("DEVICE_KEY") or "") or None
        return self.finish(pool, client, user, _TOKENS, device_key)

    def _factors(self, user: CognitoIdpUser) -> list[str]:
        offered = ["PASSWORD", "PASSWORD_SRP"]
        if user.attribute_lookup.get("email"):
            offered.append("EMAIL_OTP")
        if user.attribute_lookup.get("phone_number"):
            offered.append("SMS_OTP")
        return offered

    def _choose(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        factor: str,
        r: Mapping[str, Any],
        device_key: str | None,
    ) -> dict[str, Any]:
        if factor not in self._factors(user):
            raise invalid_parameter(f"{factor} is not an available challenge for this user")
        if factor == "PASSWORD":
            if not user.password or not same(user.password, str(r.get("PASSWORD") or "")):
                raise not_authorized()
            return self.after_password(backend, pool, client, user, device_key)
        if factor == "PASSWORD_SRP":
            return self.srp_challenge(pool, client, user, r, device_key)
        attribute = "email" if factor == "EMAIL_OTP" else "phone_number"
        code, delivery = self._issue_code(pool, user, factor.lower(), attribute)
        session = self._open(pool, client, user, (factor,), device_key, code)
        return {
            "ChallengeName": factor,
            "Session": session,
            "ChallengeParameters": {
                "USERNAME": user.username,
                "CODE_DELIVERY_DELIVERY_MEDIUM": delivery["DeliveryMedium"],
                "CODE_DELIVERY_DESTINATION": delivery["Destination"],
            },
        }

    def custom_challenge(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        device_key: str | None,
    ) -> dict[str, Any]:
        if pool.id in self.state.custom_triggers:  # SRP first went through: define decides
            return triggers.after_srp(self, pool, client, user, device_key)
        _, parameters = self.state.custom_auth[pool.id]
        session = self._open(pool, client, user, ("CUSTOM_CHALLENGE",), device_key)
        return {
            "ChallengeName": "CUSTOM_CHALLENGE",
            "Session": session,
            "ChallengeParameters": {"USERNAME": user.username, **parameters},
        }

    def respond_other(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        name: str,
        params: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        """Answer a challenge we opened; None when the session is moto's."""
        session = str(params.get("Session") or "")
        with self.state.lock:
            if session not in self.state.pending and session not in self.state.used_sessions:
                return None
        step = self._take(session, client, name)
        r: Mapping[str, Any] = params.get("ChallengeResponses") or {}
        user = pool.users.get(step.username)
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        if str(r.get("USERNAME") or "") != user.username:
            raise not_authorized("USERNAME must be the USERNAME the challenge returned.")
        self.state.check_secret_hash(client, user.username, r.get("SECRET_HASH"))
        if name == "CUSTOM_CHALLENGE" and step.history is not None:
            return triggers.answer(self, pool, client, user, step, r)
        if name == "CUSTOM_CHALLENGE":
            answer, _ = self.state.custom_auth.get(pool.id, ("", {}))
            if not answer or not same(answer, str(r.get("ANSWER") or "")):
                raise not_authorized()
            return self.finish(pool, client, user, _TOKENS, step.device_key)
        if name == "SELECT_CHALLENGE":
            return self._choose(
                backend, pool, client, user, str(r.get("ANSWER") or ""), r, step.device_key
            )
        if name in ("PASSWORD", "PASSWORD_SRP"):
            return self._choose(backend, pool, client, user, name, r, step.device_key)
        field_name = {
            "SMS_MFA": "SMS_MFA_CODE",
            "EMAIL_OTP": "EMAIL_OTP_CODE",
            "SMS_OTP": "SMS_OTP_CODE",
        }
        given = str(r.get(field_name.get(name, "")) or "")
        if not step.code or not same(step.code, given):
            raise Fault("CodeMismatchException", "Invalid code received for user")
        return self.finish(pool, client, user, _TOKENS, step.device_key)

    def sms_mfa(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        device_key: str | None,
    ) -> dict[str, Any]:
        """Our SMS_MFA step in place of moto's (which takes any code): a real code."""
        code, delivery = self._issue_code(pool, user, "sms_mfa", "phone_number")
        session = self._open(pool, client, user, ("SMS_MFA",), device_key, code)
        return {
            "ChallengeName": "SMS_MFA",
            "Session": session,
            "ChallengeParameters": {
                "USERNAME": user.username,
                "CODE_DELIVERY_DELIVERY_MEDIUM": "SMS",
                "CODE_DELIVERY_DESTINATION": delivery["Destination"],
            },
        }


def mfa_options(value: Any) -> str:
    """MFAS_CAN_SETUP / MFAS_CAN_CHOOSE as Cognito sends them: a JSON list in a string."""
    return value if isinstance(value, str) else json.dumps(list(value))
