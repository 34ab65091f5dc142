"""Remembered devices: ConfirmDevice, status, forget, list and get.

After an SRP sign-in on a pool that tracks devices, Cognito hands out a device key and
group key (``NewDeviceMetadata``). :func:`confirm_device` makes a random device
password, registers its SRP verifier with Cognito and returns the
:class:`DeviceCredentials` to persist; later sign-ins that carry them
answer DEVICE_SRP_AUTH, which on most pools also skips MFA.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import srp
from ._idp import IdpClient
from ._threads import run_cpu
from .errors import ConfigurationError
from .models import attributes_to_dict

__all__ = [
    "Device",
    "DeviceCredentials",
    "confirm_device",
    "forget_device",
    "get_device",
    "iter_devices",
    "update_device_status",
]


@dataclass(frozen=True)
class DeviceCredentials:
    """A remembered device: what ConfirmDevice established. Persist all three.

    ``device_password`` is a secret (it proves the device); it is not shown by repr.
    """

    device_key: str
    device_group_key: str
    device_password: str = field(repr=False)


@dataclass(frozen=True)
class Device:
    """A device Cognito remembers for a user (from ListDevices / GetDevice)."""

    device_key: str
    attributes: dict[str, Any] = field(default_factory=dict)
    create_date: datetime | None = None
    last_modified_date: datetime | None = None
    last_authenticated_date: datetime | None = None

    @property
    def name(self) -> str | None:
        value = self.attributes.get("device_name")
        return None if value is None else str(value)

    @property
    def remembered(self) -> bool:
        return self.attributes.get("dev:device_remembered_status") == "remembered"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Device:
        return cls(
            device_key=str(data.get("DeviceKey", "")),
            attributes=attributes_to_dict(data.get("DeviceAttributes")),
            create_date=data.get("DeviceCreateDate"),
            last_modified_date=data.get("DeviceLastModifiedDate"),
            last_authenticated_date=data.get("DeviceLastAuthenticatedDate"),
        )


def _make_verifier(group_key: str, device_key: str) -> tuple[str, dict[str, str]]:
    password, salt = srp.generate_device_secret()
    config = srp.device_verifier(
        device_group_key=group_key, device_key=device_key, device_password=password, salt=salt
    )
    return password, config


async def confirm_device(
    idp: IdpClient,
    *,
    access_token: str,
    new_device_metadata: Mapping[str, str],
    device_name: str | None = None,
) -> tuple[dict[str, Any], DeviceCredentials]:
    """Register the device from a sign-in's ``NewDeviceMetadata``.

    Returns Cognito's response (``UserConfirmationNecessary`` tells whether the user
    must still choose to remember it) and the credentials to store.
    """
    try:
        device_key = new_device_metadata["DeviceKey"]
        group_key = new_device_metadata["DeviceGroupKey"]
    except KeyError as exc:
        raise ConfigurationError(f"NewDeviceMetadata lacks {exc.args[0]}") from None
    password, config = await run_cpu(_make_verifier, group_key, device_key)
    params: dict[str, Any] = {
        "AccessToken": access_token,
        "DeviceKey": device_key,
        "DeviceSecretVerifierConfig": config,
    }
    if device_name:
        params["DeviceName"] = device_name
    response = await idp.call("confirm_device", **params)
    response.pop("ResponseMetadata", None)
    return response, DeviceCredentials(device_key, group_key, password)


async def update_device_status(
    idp: IdpClient, *, access_token: str, device_key: str, remembered: bool
) -> None:
    """Mark the device remembered or not remembered."""
    await idp.call(
        "update_device_status",
        AccessToken=access_token,
        DeviceKey=device_key,
        DeviceRememberedStatus="remembered" if remembered else "not_remembered",
    )


async def forget_device(idp: IdpClient, *, access_token: str, device_key: str) -> None:
    """Forget the device: its credentials no longer sign in."""
    await idp.call("forget_device", AccessToken=access_token, DeviceKey=device_key)


async def get_device(idp: IdpClient, *, access_token: str, device_key: str) -> Device:
    response = await idp.call("get_device", AccessToken=access_token, DeviceKey=device_key)
    return Device.from_api(response.get("Device", {}))


async def iter_devices(
    idp: IdpClient, *, access_token: str, page_size: int = 60
) -> AsyncIterator[Device]:
    """Every device of the signed-in user, page by page."""
    token: str | None = None
    while True:
        params: dict[str, Any] = {"AccessToken": access_token, "Limit": page_size}
        if token:
            params["PaginationToken"] = token
        response = await idp.call("list_devices", **params)
        for data in response.get("Devices", []):
            yield Device.from_api(data)
        token = response.get("PaginationToken")
        if not token:
            return
