"""Account operations of the loopback Cognito test server.

Sign-up and its codes, forgotten passwords, the signed-in user's own operations
(attributes, password, MFA preference, deletion) and remembered devices, user-side
and Admin*. Every code goes to the test server's outbox instead of a mailbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import srp_server
from loopback_cognito_core import CoreBackend, required
from loopback_cognito_model import (
    FORGOT_PASSWORD,
    SIGN_UP,
    Device,
    Fault,
    Pool,
    User,
    check_password_policy,
    invalid_parameter,
    not_authorized,
    verify_purpose,
)

_STANDARD_ATTRIBUTES = frozenset(
    [
        "address",
        "birthdate",
        "email",
        "family_name",
        "gender",
        "given_name",
        "locale",
        "middle_name",
        "name",
        "nickname",
        "phone_number",
        "picture",
        "preferred_username",
        "profile",
        "updated_at",
        "website",
        "zoneinfo",
    ]
)
_DEVICE_NOT_FOUND = "Device does not exist."


def _attributes(items: Any) -> dict[str, str]:
    if not isinstance(items, list):
        raise invalid_parameter("UserAttributes must be a list of {Name, Value}")
    out = {}
    for item in items:
        name = item.get("Name") if isinstance(item, dict) else None
        if not name:
            raise invalid_parameter("Every attribute needs a Name")
        if name in ("sub", "email_verified", "phone_number_verified"):
            # Only a code (or an administrator) verifies an attribute.
            raise invalid_parameter(f"Cannot modify the non-mutable attribute {name}")
        if name not in _STANDARD_ATTRIBUTES and not name.startswith("custom:"):
            raise invalid_parameter(f"Attribute does not exist in the schema: {name}")
        out[name] = str(item.get("Value", ""))
    return out


class AccountOps(CoreBackend):
    """Sign-up, codes, the user's own account, MFA preference and devices."""

    # ------------------------------------------------------------ sign-up

    def op_SignUp(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, client = self._client(params)
        typed = str(required(params, "Username"))
        password = str(required(params, "Password"))
        self._check_secret_hash(client, typed, params.get("SecretHash"))
        attrs = _attributes(params.get("UserAttributes") or [])
        username = self._claim_username(pool, typed, attrs)
        check_password_policy(password)
        user = self._new_user(pool, username, password, attrs, "UNCONFIRMED")
        response: dict[str, Any] = {"UserConfirmed": False, "UserSub": user.sub}
        attribute = (
            "email" if "email" in attrs else "phone_number" if "phone_number" in attrs else None
        )
        if attribute is not None:
            response["CodeDeliveryDetails"] = self._send_code(pool, user, SIGN_UP, attribute)
        return response

    def _typed_user(self, params: Mapping[str, Any]) -> tuple[Pool, User]:
        pool, client = self._client(params)
        typed = str(required(params, "Username"))
        self._check_secret_hash(client, typed, params.get("SecretHash"))
        user = self._find_user(pool, typed)
        if user is None:
            raise Fault("UserNotFoundException", "Username/client id combination not found.")
        return pool, user

    def op_ConfirmSignUp(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, user = self._typed_user(params)
        code = required(params, "ConfirmationCode")
        if user.status != "UNCONFIRMED":
            raise not_authorized(f"User cannot be confirmed. Current status is {user.status}")
        destination = user.codes[SIGN_UP].destination if SIGN_UP in user.codes else None
        self._use_code(user, SIGN_UP, code)
        user.status = "CONFIRMED"
        for name in ("email", "phone_number"):
            if destination is not None and user.attributes.get(name) == destination:
                user.attributes[f"{name}_verified"] = "true"
        return {}

    def op_ResendConfirmationCode(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._typed_user(params)
        if user.status != "UNCONFIRMED":
            raise invalid_parameter("User is already confirmed.")
        attribute = "email" if "email" in user.attributes else "phone_number"
        return {"CodeDeliveryDetails": self._send_code(pool, user, SIGN_UP, attribute)}

    # ------------------------------------------------------------ forgotten password

    def op_ForgotPassword(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._typed_user(params)
        if not user.enabled:
            raise not_authorized("User is disabled.")
        for attribute in ("email", "phone_number"):
            if (
                user.attributes.get(f"{attribute}_verified") == "true"
                and attribute in user.attributes
            ):
                return {
                    "CodeDeliveryDetails": self._send_code(pool, user, FORGOT_PASSWORD, attribute)
                }
        raise invalid_parameter(
            "Cannot reset password for the user as there is no registered/verified email "
            "or phone_number"
        )

    def op_ConfirmForgotPassword(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._typed_user(params)
        code = required(params, "ConfirmationCode")
        password = str(required(params, "Password"))
        self._use_code(user, FORGOT_PASSWORD, code)
        check_password_policy(password)
        self._set_password(pool, user, password)
        if user.status in ("RESET_REQUIRED", "FORCE_CHANGE_PASSWORD"):
            user.status = "CONFIRMED"
        return {}

    # ------------------------------------------------------------ the signed-in user

    def op_GetUser(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, user, _ = self._access(params)
        return self._user_view(user)

    def op_ChangePassword(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user, _ = self._access(params)
        previous = params.get("PreviousPassword")
        proposed = str(required(params, "ProposedPassword"))
        if not previous or not user.check_password(str(previous)):
            raise not_authorized()
        check_password_policy(proposed)
        self._set_password(pool, user, proposed)
        return {}

    def op_UpdateUserAttributes(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user, _ = self._access(params)
        changes = _attributes(required(params, "UserAttributes"))
        deliveries = []
        for name, value in changes.items():
            old = user.attributes.get(name)
            user.attributes[name] = value
            if name in ("email", "phone_number") and value != old:
                user.attributes[f"{name}_verified"] = "false"
                deliveries.append(self._send_code(pool, user, verify_purpose(name), name))
        return {"CodeDeliveryDetailsList": deliveries} if deliveries else {}

    def op_GetUserAttributeVerificationCode(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user, _ = self._access(params)
        name = str(required(params, "AttributeName"))
        if name not in ("email", "phone_number") or name not in user.attributes:
            raise invalid_parameter(f"The user has no {name} attribute to verify")
        return {"CodeDeliveryDetails": self._send_code(pool, user, verify_purpose(name), name)}

    def op_VerifyUserAttribute(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, user, _ = self._access(params)
        name = str(required(params, "AttributeName"))
        self._use_code(user, verify_purpose(name), required(params, "Code"))
        user.attributes[f"{name}_verified"] = "true"
        return {}

    def op_DeleteUser(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user, _ = self._access(params)
        self._revoke_user(pool, user)
        for key in [k for k, d in pool.devices.items() if d.username == user.username]:
            del pool.devices[key]
        del pool.users[user.username]
        return {}

    def op_SetUserMFAPreference(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, user, _ = self._access(params)
        if params.get("EmailMfaSettings") or params.get("WebAuthnMfaSettings"):
            raise invalid_parameter("The loopback Cognito test server has no email or WebAuthn MFA")
        sms = params.get("SMSMfaSettings")
        soft = params.get("SoftwareTokenMfaSettings")
        for settings in (sms, soft):
            if settings and settings.get("PreferredMfa") and settings.get("Enabled") is False:
                raise invalid_parameter("A preferred MFA method must be enabled")
        if sms and sms.get("Enabled") and "phone_number" not in user.attributes:
            raise invalid_parameter("User does not have delivery config set to turn on SMS_MFA")
        if soft and soft.get("Enabled") and not user.totp_secret:
            raise invalid_parameter("User has not verified software token mfa")
        if sms is not None:
            user.sms_mfa_enabled = bool(sms.get("Enabled", user.sms_mfa_enabled))
            user.sms_mfa_preferred = bool(sms.get("PreferredMfa")) and user.sms_mfa_enabled
            if user.sms_mfa_preferred:
                user.totp_preferred = False
        if soft is not None:
            user.totp_enabled = bool(soft.get("Enabled", user.totp_enabled))
            user.totp_preferred = bool(soft.get("PreferredMfa")) and user.totp_enabled
            if user.totp_preferred:
                user.sms_mfa_preferred = False
        return {}

    # ------------------------------------------------------------ devices

    def _device(self, pool: Pool, user: User, device_key: Any, *, confirmed: bool = True) -> Device:
        device = pool.devices.get(str(device_key))
        if (
            device is None
            or device.username != user.username
            or (confirmed and not device.confirmed)
        ):
            raise Fault("ResourceNotFoundException", _DEVICE_NOT_FOUND)
        return device

    def _device_view(self, device: Device) -> dict[str, Any]:
        attributes = [
            {"Name": "device_status", "Value": "valid"},
            {
                "Name": "dev:device_remembered_status",
                "Value": "remembered" if device.remembered else "not_remembered",
            },
            {"Name": "last_ip_used", "Value": "127.0.0.1"},
        ]
        if device.name:
            attributes.insert(1, {"Name": "device_name", "Value": device.name})
        return {
            "DeviceKey": device.device_key,
            "DeviceAttributes": attributes,
            "DeviceCreateDate": device.created,
            "DeviceLastModifiedDate": device.last_modified,
            "DeviceLastAuthenticatedDate": device.last_authenticated or device.created,
        }

    def _admin_user(self, params: Mapping[str, Any]) -> tuple[Pool, User]:
        pool = self._pool(str(required(params, "UserPoolId")))
        user = self._find_user(pool, str(required(params, "Username")))
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        return pool, user

    def op_ConfirmDevice(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user, _ = self._access(params)
        device = self._device(pool, user, required(params, "DeviceKey"), confirmed=False)
        if device.confirmed:
            raise Fault("DeviceKeyExistsException", "Device key already exists.")
        config = params.get("DeviceSecretVerifierConfig")
        if (
            not isinstance(config, dict)
            or not config.get("PasswordVerifier")
            or not config.get("Salt")
        ):
            raise invalid_parameter("DeviceSecretVerifierConfig needs PasswordVerifier and Salt")
        try:
            device.salt_hex, device.verifier = srp_server.device_verifier_from_config(config)
        except ValueError:
            raise invalid_parameter("DeviceSecretVerifierConfig is not valid base64") from None
        device.confirmed = True
        device.remembered = not pool.device_remember_on_prompt
        device.name = params.get("DeviceName") or None
        device.last_modified = self.clock()
        return {"UserConfirmationNecessary": pool.device_remember_on_prompt}

    def _set_status(self, device: Device, status: Any) -> dict[str, Any]:
        if status not in ("remembered", "not_remembered"):
            raise invalid_parameter("DeviceRememberedStatus must be remembered or not_remembered")
        device.remembered = status == "remembered"
        device.last_modified = self.clock()
        return {}

    def op_UpdateDeviceStatus(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user, _ = self._access(params)
        device = self._device(pool, user, required(params, "DeviceKey"))
        return self._set_status(device, params.get("DeviceRememberedStatus"))

    def op_AdminUpdateDeviceStatus(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._admin_user(params)
        device = self._device(pool, user, required(params, "DeviceKey"))
        return self._set_status(device, params.get("DeviceRememberedStatus"))

    def op_ForgetDevice(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user, _ = self._access(params)
        device = self._device(pool, user, required(params, "DeviceKey"), confirmed=False)
        del pool.devices[device.device_key]
        return {}

    def op_AdminForgetDevice(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._admin_user(params)
        device = self._device(pool, user, required(params, "DeviceKey"), confirmed=False)
        del pool.devices[device.device_key]
        return {}

    def op_GetDevice(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user, _ = self._access(params)
        return {
            "Device": self._device_view(self._device(pool, user, required(params, "DeviceKey")))
        }

    def op_AdminGetDevice(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._admin_user(params)
        return {
            "Device": self._device_view(self._device(pool, user, required(params, "DeviceKey")))
        }

    def _list(self, pool: Pool, user: User, params: Mapping[str, Any]) -> dict[str, Any]:
        limit = params.get("Limit") or 60
        if not isinstance(limit, int) or not 0 < limit <= 60:
            raise invalid_parameter("Limit must be between 1 and 60")
        mine = sorted(
            (d for d in pool.devices.values() if d.username == user.username and d.confirmed),
            key=lambda d: (d.created, d.device_key),
        )
        start = 0
        token = params.get("PaginationToken")
        if token:
            keys = [d.device_key for d in mine]
            if token not in keys:
                raise invalid_parameter("Invalid pagination token")
            start = keys.index(token)
        page = mine[start : start + limit]
        response: dict[str, Any] = {"Devices": [self._device_view(d) for d in page]}
        if start + limit < len(mine):
            response["PaginationToken"] = mine[start + limit].device_key
        return response

    def op_ListDevices(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user, _ = self._access(params)
        return self._list(pool, user, params)

    def op_AdminListDevices(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._admin_user(params)
        return self._list(pool, user, params)
