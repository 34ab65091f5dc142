"""Remembered devices on the local Cognito (moto has none).

A sign-in in a pool that tracks devices hands out NewDeviceMetadata (_local_tokens);
ConfirmDevice stores the device's SRP verifier, so DEVICE_SRP_AUTH checks a real proof
(_local_srp); the rest reads, lists, remembers or forgets devices, with an access token
or as the admin.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Mapping
from typing import Any

from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool

from ._local_state import Device, Fault, LocalState, invalid_parameter, pool_user, required
from ._srp_server import device_verifier_from_config

__all__ = ["Devices"]

_NO_DEVICE = "Device does not exist."
Op = Callable[[Mapping[str, Any]], dict[str, Any]]


class Devices:
    """The device operations over the shared state."""

    def __init__(self, state: LocalState) -> None:
        self.state = state

    def operations(self) -> dict[str, Op]:
        return {
            "ConfirmDevice": self.confirm,
            "UpdateDeviceStatus": self.update_status,
            "AdminUpdateDeviceStatus": self.admin_update_status,
            "ForgetDevice": self.forget,
            "AdminForgetDevice": self.admin_forget,
            "GetDevice": self.get,
            "AdminGetDevice": self.admin_get,
            "ListDevices": self.list,
            "AdminListDevices": self.admin_list,
        }

    def _device(
        self, pool: CognitoIdpUserPool, user: CognitoIdpUser, key: Any, *, confirmed: bool = True
    ) -> Device:
        device = self.state.devices_of(pool.id).get(str(key))
        if (
            device is None
            or device.username != user.username
            or (confirmed and not device.confirmed)
        ):
            raise Fault("ResourceNotFoundException", _NO_DEVICE)
        return device

    def _admin_user(self, params: Mapping[str, Any]) -> tuple[CognitoIdpUserPool, CognitoIdpUser]:
        _, pool = self.state.pool(required(params, "UserPoolId"))
        user = pool_user(pool, str(required(params, "Username")))
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        return pool, user

    def _token_user(self, params: Mapping[str, Any]) -> tuple[CognitoIdpUserPool, CognitoIdpUser]:
        _, pool, user, _ = self.state.access(required(params, "AccessToken"))
        return pool, user

    @staticmethod
    def _view(device: Device) -> dict[str, Any]:
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

    def confirm(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._token_user(params)
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
            device.salt_hex, device.verifier = device_verifier_from_config(config)
        except (ValueError, binascii.Error):
            raise invalid_parameter("DeviceSecretVerifierConfig is not valid base64") from None
        on_prompt = bool(
            (pool.extended_config.get("DeviceConfiguration") or {}).get(
                "DeviceOnlyRememberedOnUserPrompt"
            )
        )
        device.confirmed = True
        device.remembered = not on_prompt
        device.name = params.get("DeviceName") or None
        device.last_modified = self.state.now()
        return {"UserConfirmationNecessary": on_prompt}

    def _set_status(self, device: Device, status: Any) -> dict[str, Any]:
        if status not in ("remembered", "not_remembered"):
            raise invalid_parameter("DeviceRememberedStatus must be remembered or not_remembered")
        device.remembered = status == "remembered"
        device.last_modified = self.state.now()
        return {}

    def update_status(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._token_user(params)
        device = self._device(pool, user, required(params, "DeviceKey"))
        return self._set_status(device, params.get("DeviceRememberedStatus"))

    def admin_update_status(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._admin_user(params)
        device = self._device(pool, user, required(params, "DeviceKey"))
        return self._set_status(device, params.get("DeviceRememberedStatus"))

    def _forget_device(
        self, pool: CognitoIdpUserPool, user: CognitoIdpUser, key: Any
    ) -> dict[str, Any]:
        device = self._device(pool, user, key, confirmed=False)
        with self.state.lock:
            self.state.devices_of(pool.id).pop(device.device_key, None)
        return {}

    def forget(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._token_user(params)
        return self._forget_device(pool, user, required(params, "DeviceKey"))

    def admin_forget(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._admin_user(params)
        return self._forget_device(pool, user, required(params, "DeviceKey"))

    def get(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._token_user(params)
        return {"Device": self._view(self._device(pool, user, required(params, "DeviceKey")))}

    def admin_get(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._admin_user(params)
        return {"Device": self._view(self._device(pool, user, required(params, "DeviceKey")))}

    def _list_devices(
        self, pool: CognitoIdpUserPool, user: CognitoIdpUser, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        limit = params.get("Limit") or 60
        if not isinstance(limit, int) or not 0 < limit <= 60:
            raise invalid_parameter("Limit must be between 1 and 60")
        mine = sorted(
            (
                d
                for d in self.state.devices_of(pool.id).values()
                if d.username == user.username and d.confirmed
            ),
            key=lambda d: (d.created, d.device_key),
        )
        start = 0
        token = params.get("PaginationToken")
        if token:
            keys = [d.device_key for d in mine]
            if token not in keys:
                raise invalid_parameter("Invalid pagination token")
            start = keys.index(token)
        response: dict[str, Any] = {"Devices": [self._view(d) for d in mine[start : start + limit]]}
        if start + limit < len(mine):
            response["PaginationToken"] = mine[start + limit].device_key
        return response

    def list(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._token_user(params)
        return self._list_devices(pool, user, params)

    def admin_list(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._admin_user(params)
        return self._list_devices(pool, user, params)
