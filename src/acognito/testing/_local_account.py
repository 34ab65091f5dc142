"""Accounts on the local Cognito: sign-up, confirmation, password reset, attributes.

Codes are real (_local_codes). The account triggers run where Cognito runs them:
PreSignUp before a user is created (``autoConfirmUser``, ``autoVerifyEmail``,
``autoVerifyPhone``), PostConfirmation after a confirmation (sign-up or forgotten
password; the user stays confirmed when it fails, as on Cognito), UserMigration when a
password sign-in or a password reset names a user the pool does not have.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from moto.cognitoidp.models import (
    CognitoIdpBackend,
    CognitoIdpUser,
    CognitoIdpUserPool,
    CognitoIdpUserPoolClient,
)

from ._local_codes import Codes
from ._local_mfa import Mfa
from ._local_state import (
    HEADERS,
    SIGN_UP_SESSION,
    Caller,
    Fault,
    LocalState,
    client_metadata,
    invalid_parameter,
    moto_call,
    not_authorized,
    pool_user,
    required,
)
from ._local_triggers import TriggerRunner, user_attributes

__all__ = ["Account"]

Op = Callable[[Mapping[str, Any]], dict[str, Any]]
_MIGRATION_RESPONSE = {
    "userAttributes": None,
    "finalUserStatus": None,
    "messageAction": None,
    "desiredDeliveryMediums": None,
    "forceAliasCreation": None,
    "enableSMSMFA": None,
}


#: GetUser's members (moto's view has AdminGetUser's too).
_GET_USER = frozenset(
    {"Username", "UserAttributes", "MFAOptions", "PreferredMfaSetting", "UserMFASettingList"}
)


def _contact(user: CognitoIdpUser) -> str:
    return "email" if user.attribute_lookup.get("email") else "phone_number"


class Account:
    """Account operations over the shared state, the codes, the triggers and MFA."""

    def __init__(self, state: LocalState, codes: Codes, triggers: TriggerRunner, mfa: Mfa) -> None:
        self.state = state
        self.codes = codes
        self.triggers = triggers
        self.mfa = mfa

    def operations(self) -> dict[str, Op]:
        return {
            "SignUp": self.sign_up,
            "ResendConfirmationCode": self.resend_code,
            "ConfirmSignUp": self.confirm_sign_up,
            "AdminConfirmSignUp": self.admin_confirm_sign_up,
            "GetUserAttributeVerificationCode": self.attribute_code,
            "VerifyUserAttribute": self.verify_attribute,
            "ForgotPassword": self.forgot_password,
            "ConfirmForgotPassword": self.confirm_forgot_password,
            "UpdateUserAttributes": self.update_attributes,
            "GetUser": self.get_user,
            "DeleteUser": self.delete_user,
        }

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

    # ------------------------------------------------------------ sign-up

    def sign_up(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool, client = self.state.client(params.get("ClientId"))
        typed = str(required(params, "Username"))
        password = str(required(params, "Password"))
        self.state.check_secret_hash(client, typed, params.get("SecretHash"))
        attributes = list(params.get("UserAttributes") or [])
        decided: dict[str, Any] = {}
        if self.triggers.configured(pool, "PreSignUp"):
            request: dict[str, Any] = {
                "userAttributes": {str(a.get("Name")): str(a.get("Value")) for a in attributes},
                "validationData": _name_values(params.get("ValidationData")),
            }
            if params.get("ClientMetadata"):
                request["clientMetadata"] = client_metadata(params)
            decided = self.triggers.run(
                "PreSignUp", "PreSignUp_SignUp", pool, client.id, typed, request,
                {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
            )  # fmt: skip
        user, _ = moto_call(backend.sign_up, client.id, typed, password, attributes)
        verified = [
            {"Name": f"{attribute}_verified", "Value": "true"}
            for attribute, flag in (
                ("email", "autoVerifyEmail"),
                ("phone_number", "autoVerifyPhone"),
            )
            if decided.get(flag) is True and user.attribute_lookup.get(attribute)
        ]
        if verified:
            user.update_attributes(verified)
        if decided.get("autoConfirmUser") is True:
            moto_call(backend.confirm_sign_up, client.id, user.username)
        answer: dict[str, Any] = {"UserConfirmed": user.status == "CONFIRMED", "UserSub": user.id}
        if user.status != "CONFIRMED":
            attribute = _contact(user)
            if user.attribute_lookup.get(attribute):
                _, answer["CodeDeliveryDetails"] = self.codes.issue(
                    pool, user, "sign_up", attribute, client_id=client.id,
                    source="CustomMessage_SignUp", metadata=client_metadata(params),
                )  # fmt: skip
        return answer

    def resend_code(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, pool, client, user = self._user_of_client(params)
        if user.status != "UNCONFIRMED":
            raise invalid_parameter("User is already confirmed.")
        _, delivery = self.codes.issue(
            pool, user, "sign_up", _contact(user), client_id=client.id,
            source="CustomMessage_ResendCode", metadata=client_metadata(params),
        )  # fmt: skip
        return {"CodeDeliveryDetails": delivery}

    def confirm_sign_up(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool, client, user = self._user_of_client(params)
        if user.status != "UNCONFIRMED":
            raise not_authorized(f"User cannot be confirmed. Current status is {user.status}")
        self.codes.use(pool, user, "sign_up", params.get("ConfirmationCode"))
        moto_call(backend.confirm_sign_up, client.id, user.username)
        attribute = _contact(user)
        if user.attribute_lookup.get(attribute):
            user.update_attributes([{"Name": f"{attribute}_verified", "Value": "true"}])
        self._post_confirmation(
            pool, client.id, user, "PostConfirmation_ConfirmSignUp", client_metadata(params)
        )
        allowed = client.extended_config.get("ExplicitAuthFlows") or []
        if allowed and "ALLOW_USER_AUTH" not in allowed:
            return {}
        # The code just proved the user: one USER_AUTH sign-in may follow without a
        # password, once, for this user and client, within AuthSessionValidity.
        caller = Caller(backend, pool, client, user)
        return {"Session": self.state.open_session(caller, (SIGN_UP_SESSION,))}

    def admin_confirm_sign_up(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool = self.state.pool(required(params, "UserPoolId"))
        user = pool_user(pool, str(required(params, "Username")))
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        if user.status != "UNCONFIRMED":
            raise not_authorized(f"User cannot be confirmed. Current status is {user.status}")
        moto_call(backend.admin_confirm_sign_up, pool.id, user.username)
        self._post_confirmation(
            pool, None, user, "PostConfirmation_ConfirmSignUp", client_metadata(params)
        )
        return {}

    def _post_confirmation(
        self,
        pool: CognitoIdpUserPool,
        client_id: str | None,
        user: CognitoIdpUser,
        source: str,
        metadata: dict[str, str],
    ) -> None:
        if not self.triggers.configured(pool, "PostConfirmation"):
            return
        request: dict[str, Any] = {"userAttributes": user_attributes(user)}
        if metadata:
            request["clientMetadata"] = metadata
        self.triggers.run("PostConfirmation", source, pool, client_id, user.username, request, {})

    # ------------------------------------------------------------ attributes

    def attribute_code(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, pool, user, claims = self.state.access(required(params, "AccessToken"))
        attribute = str(required(params, "AttributeName"))
        if attribute not in ("email", "phone_number"):
            raise invalid_parameter("Only email and phone_number can be verified")
        _, delivery = self.codes.issue(
            pool, user, f"verify_{attribute}", attribute, client_id=claims.get("client_id"),
            source="CustomMessage_VerifyUserAttribute", metadata=client_metadata(params),
        )  # fmt: skip
        return {"CodeDeliveryDetails": delivery}

    def verify_attribute(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, pool, user, _ = self.state.access(required(params, "AccessToken"))
        attribute = str(required(params, "AttributeName"))
        self.codes.use(pool, user, f"verify_{attribute}", params.get("Code"))
        user.update_attributes([{"Name": f"{attribute}_verified", "Value": "true"}])
        return {}

    def update_attributes(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """moto's update, then a code for each changed e-mail or phone (now unverified)."""
        backend, pool, user, claims = self.state.access(required(params, "AccessToken"))
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
                _, delivery = self.codes.issue(
                    pool, user, f"verify_{attribute}", attribute,
                    client_id=claims.get("client_id"), source="CustomMessage_UpdateUserAttribute",
                    metadata=client_metadata(params),
                )  # fmt: skip
                sent.append(delivery)
        return {"CodeDeliveryDetailsList": sent} if sent else {}

    def get_user(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """moto's view, after our token check (revoked or expired tokens are refused)."""
        _, pool, user, _ = self.state.access(required(params, "AccessToken"))
        full = user.to_json(extended=True, attributes_key="UserAttributes")
        view = {k: v for k, v in full.items() if k in _GET_USER}  # moto adds AdminGetUser's
        self.mfa.user_view(pool, user, view)
        return view

    def delete_user(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool, user, _ = self.state.access(required(params, "AccessToken"))
        pool.sign_out(user.username)
        moto_call(backend.admin_delete_user, pool.id, user.username)
        return {}

    # ------------------------------------------------------------ passwords

    def forgot_password(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A real code to the inbox: SMS to a verified phone, else e-mail (legacy recovery).
        A user the pool lacks is looked up with UserMigration first, when there is one."""
        backend, pool, client = self.state.client(params.get("ClientId"))
        typed = str(required(params, "Username"))
        self.state.check_secret_hash(client, typed, params.get("SecretHash"))
        user = pool_user(pool, typed)
        if user is None:
            user = self.migrate(backend, pool, client, typed, None, client_metadata(params))
        if user is None:
            raise Fault("UserNotFoundException", "Username/client id combination not found.")
        phone_ok = user.attribute_lookup.get("phone_number_verified") == "true"
        attribute = "phone_number" if phone_ok else "email"
        if not user.attribute_lookup.get(attribute):
            raise invalid_parameter(
                "Cannot reset password for the user as there is no verified email or phone_number"
            )
        code, delivery = self.codes.issue(
            pool, user, "forgot_password", attribute, client_id=client.id,
            metadata=client_metadata(params),
        )  # fmt: skip
        # moto's header, kept for set-up code that reads it (CognitoAdmin.forgot_password_code).
        return {
            "CodeDeliveryDetails": delivery,
            HEADERS: {"x-moto-forgot-password-confirmation-code": code},
        }

    def confirm_forgot_password(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool, client, user = self._user_of_client(params)
        password = str(required(params, "Password"))
        self.codes.use(pool, user, "forgot_password", params.get("ConfirmationCode"))
        moto_call(backend._validate_password, pool.id, password)
        user.password = password
        if user.status in ("FORCE_CHANGE_PASSWORD", "RESET_REQUIRED"):
            user.status = "CONFIRMED"
        self._post_confirmation(
            pool,
            client.id,
            user,
            "PostConfirmation_ConfirmForgotPassword",
            client_metadata(params),
        )
        return {}

    def migrate(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        typed: str,
        password: str | None,
        metadata: dict[str, str],
    ) -> CognitoIdpUser | None:
        """UserMigration: the user the trigger vouches for, created here (None: no trigger,
        or it knows no such user). With a ``password`` (a sign-in) the user signs in with
        it; without (a password reset) the user must reset it."""
        if not self.triggers.configured(pool, "UserMigration"):
            return None
        request: dict[str, Any] = {"validationData": {}}
        if password is not None:
            request["password"] = password
        if metadata:
            request["clientMetadata"] = metadata
        source = (
            "UserMigration_Authentication"
            if password is not None
            else ("UserMigration_ForgotPassword")
        )
        found = self.triggers.run(
            "UserMigration", source, pool, client.id, typed, request, dict(_MIGRATION_RESPONSE)
        )
        attributes = found.get("userAttributes")
        if not isinstance(attributes, dict):
            return None
        status = str(found.get("finalUserStatus") or "")
        if status not in ("CONFIRMED", "RESET_REQUIRED"):
            status = "CONFIRMED" if password is not None else "RESET_REQUIRED"
        named = [
            {"Name": str(k), "Value": str(v)}
            for k, v in attributes.items()
            if str(k) not in ("sub", "username")
        ]
        user = moto_call(
            backend.admin_create_user, pool.id, typed, "SUPPRESS", password or None, named
        )
        user.password = password
        user.status = status
        return user if isinstance(user, CognitoIdpUser) else None


def _name_values(given: Any) -> dict[str, str]:
    """[{"Name": ..., "Value": ...}] as a trigger's name-to-value map."""
    if not isinstance(given, list):
        return {}
    return {str(a.get("Name")): str(a.get("Value")) for a in given if isinstance(a, dict)}
