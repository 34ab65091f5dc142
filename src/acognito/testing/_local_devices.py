"""Remembered devices and the refresh-token lifecycle on the local Cognito.

ConfirmDevice stores the device's SRP verifier (DEVICE_SRP_AUTH then checks a real
proof); GetTokensFromRefreshToken rotates refresh tokens with the client's grace
period; RevokeToken retires a refresh token and the access tokens minted from it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool

from ._local_auth import AuthOps
from ._local_state import Device, Fault, invalid_parameter, pool_user, required, same
from ._srp_server import device_verifier_from_config

__all__ = ["DeviceOps"]

_NO_DEVICE = "Device does not exist."


def _origin_jti(token: str) -> str | None:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    value = claims.get("origin_jti") if isinstance(claims, dict) else None
    return value if isinstance(value, str) else None


class DeviceOps(AuthOps):
    """Device operations, rotation and revocation, over the sign-in operations."""

    # ------------------------------------------------------------ devices

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

    def op_ConfirmDevice(self, params: Mapping[str, Any]) -> dict[str, Any]:
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

    def op_UpdateDeviceStatus(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._token_user(params)
        device = self._device(pool, user, required(params, "DeviceKey"))
        return self._set_status(device, params.get("DeviceRememberedStatus"))

    def op_AdminUpdateDeviceStatus(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._admin_user(params)
        device = self._device(pool, user, required(params, "DeviceKey"))
        return self._set_status(device, params.get("DeviceRememberedStatus"))

    def _forget(self, pool: CognitoIdpUserPool, user: CognitoIdpUser, key: Any) -> dict[str, Any]:
        device = self._device(pool, user, key, confirmed=False)
        with self.state.lock:
            self.state.devices_of(pool.id).pop(device.device_key, None)
        return {}

    def op_ForgetDevice(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._token_user(params)
        return self._forget(pool, user, required(params, "DeviceKey"))

    def op_AdminForgetDevice(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._admin_user(params)
        return self._forget(pool, user, required(params, "DeviceKey"))

    def op_GetDevice(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._token_user(params)
        return {"Device": self._view(self._device(pool, user, required(params, "DeviceKey")))}

    def op_AdminGetDevice(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._admin_user(params)
        return {"Device": self._view(self._device(pool, user, required(params, "DeviceKey")))}

    def _list(
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

    def op_ListDevices(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._token_user(params)
        return self._list(pool, user, params)

    def op_AdminListDevices(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user = self._admin_user(params)
        return self._list(pool, user, params)

    # ------------------------------------------------------------ refresh tokens

    def op_GetTokensFromRefreshToken(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, pool, client = self.state.client(params.get("ClientId"))
        token = str(required(params, "RefreshToken"))
        if client.generate_secret:
            given = str(params.get("ClientSecret") or "")
            if not given:
                raise Fault(
                    "NotAuthorizedException",
                    f"Client {client.id} is configured with secret "
                    "but ClientSecret was not received",
                )
            if not same(client.secret, given):
                raise Fault(
                    "NotAuthorizedException", f"Unable to verify secret for client {client.id}"
                )
        user, origin_jti, info = self.refreshable(pool, client, token)
        rotation = client.extended_config.get("RefreshTokenRotation") or {}
        grace = float(rotation.get("RetryGracePeriodSeconds") or 0)
        now = self.state.now()
        if info is not None and info.rotated_at is not None and now >= info.rotated_at + grace:
            raise Fault("RefreshTokenReuseException", "Refresh token has already been rotated.")
        device_key = info.device_key if info is not None else None
        if device_key is not None:
            device = self.state.devices_of(pool.id).get(device_key)
            if device is None or not device.confirmed or params.get("DeviceKey") != device_key:
                raise Fault("NotAuthorizedException", "Invalid Refresh Token.")
        result = self.state.mint(pool, client.id, user, origin_jti, device_key)
        if rotation.get("Feature") == "ENABLED":
            expires_at = info.expires_at if info is not None else None
            if info is not None and info.rotated_at is None:
                info.rotated_at = now
            result["RefreshToken"] = self.state.new_refresh(
                pool, client, user.username, origin_jti, device_key, expires_at
            )
        return {"AuthenticationResult": result}

    def op_RevokeToken(self, params: Mapping[str, Any]) -> dict[str, Any]:
        token = str(required(params, "Token"))
        bad_client = Fault("UnauthorizedException", "Invalid client or secret")
        try:
            _, pool, client = self.state.client(required(params, "ClientId"))
        except Fault:
            raise bad_client from None
        if client.generate_secret and not same(
            client.secret, str(params.get("ClientSecret") or "")
        ):
            raise bad_client
        if client.extended_config.get("EnableTokenRevocation") is False:
            raise Fault(
                "UnsupportedOperationException", "Token revocation is not enabled for this client."
            )
        if token not in pool.refresh_tokens:
            if token.count(".") == 2:
                raise Fault("UnsupportedTokenTypeException", "Only refresh tokens can be revoked.")
            return {}  # RFC 7009 2.2: an unknown token is no error for the revoker
        entry = pool.refresh_tokens[token]
        if entry is None:
            return {}
        if entry[0] != client.id:
            raise Fault("UnauthorizedException", "The token was not issued to this client.")
        origin = entry[2]
        for other, value in list(pool.refresh_tokens.items()):
            if value is not None and value[2] == origin:
                pool.refresh_tokens[other] = None
        for access in list(pool.access_tokens):
            if _origin_jti(access) == origin:
                pool.access_tokens.pop(access, None)
        return {}
