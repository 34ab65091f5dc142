"""``AWSSRP``: the async counterpart of pycognito's ``pycognito.aws_srp.AWSSRP``.

For code that drives SRP sign-in and remembered devices directly, with raw Cognito
responses, as pycognito's README shows. :class:`acognito.AsyncCognito` does the same
with session state; prefer it in new code.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import Any

from ._idp import IdpClient
from ._ids import check_client_id, check_region, parse_pool_id
from ._lifecycle import AsyncClosing
from ._secret import redact, secret_hash
from .devices import DeviceCredentials, confirm_device, forget_device, update_device_status
from .errors import ConfigurationError, ForceChangePasswordException
from .flows import SignIn

__all__ = ["AWSSRP"]


def _need(value: str | None, what: str) -> str:
    if not value or not isinstance(value, str):
        raise ConfigurationError(f"{what} is required")
    return value


class AWSSRP(AsyncClosing):
    """SRP sign-in for one user, with optional remembered-device credentials.

    ``client`` is an aiobotocore ``cognito-idp`` client you own; without it AWSSRP
    makes its own (``pool_region`` / ``endpoint_url``) and closes it in ``close()`` or
    at the end of ``async with``.
    """

    def __init__(
        self,
        username: str,
        password: str,
        pool_id: str,
        client_id: str,
        *,
        client: Any = None,
        client_secret: str | None = None,
        pool_region: str | None = None,
        endpoint_url: str | None = None,
        device_key: str | None = None,
        device_group_key: str | None = None,
        device_password: str | None = None,
    ) -> None:
        self.username = _need(username, "username")
        self._password = _need(password, "password")
        region, self.pool_id = parse_pool_id(pool_id)
        self.client_id = check_client_id(client_id)
        self._client_secret = client_secret
        parts = (device_key, device_group_key, device_password)
        if any(parts) and not all(parts):
            raise ConfigurationError("device_key, device_group_key and device_password go together")
        self.device_key = device_key
        self.device_group_key = device_group_key
        self._device_password = device_password
        if client is not None:
            self._idp = IdpClient.wrap(client)
        else:
            self._idp = IdpClient(
                region=region if pool_region is None else check_region(pool_region),
                endpoint_url=endpoint_url,
            )

    async def aclose(self) -> None:
        """Close the client AWSSRP made (a client you passed in stays open)."""
        await self._idp.close()

    close = aclose

    @staticmethod
    def get_secret_hash(username: str, client_id: str, client_secret: str) -> str:
        """Cognito's SECRET_HASH for ``username`` (see :func:`acognito._secret.secret_hash`)."""
        return secret_hash(username, client_id, client_secret)

    def _device(self) -> DeviceCredentials | None:
        if self.device_key and self.device_group_key and self._device_password:
            return DeviceCredentials(self.device_key, self.device_group_key, self._device_password)
        return None

    def _flow(self, client_metadata: Mapping[str, str] | None) -> SignIn:
        return SignIn(
            self._idp,
            user_pool_id=self.pool_id,
            client_id=self.client_id,
            client_secret=self._client_secret,
            device=self._device(),
            client_metadata=client_metadata,
        )

    async def authenticate_user(
        self, client_metadata: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Sign in with USER_SRP_AUTH (and device SRP when device credentials are set).

        Returns Cognito's response with ``AuthenticationResult``; MFA and new-password
        challenges raise the matching :class:`~acognito.errors.ChallengeRequired`.
        """
        response = await self._flow(client_metadata).start_srp(self.username, self._password)
        response.pop("ResponseMetadata", None)
        return response

    async def set_new_password_challenge(
        self, new_password: str, client_metadata: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Sign in with the current (temporary) password and set ``new_password``."""
        _need(new_password, "new_password")
        flow = self._flow(client_metadata)
        try:
            response = await flow.start_srp(self.username, self._password)
        except ForceChangePasswordException as challenge:
            response = await flow.continue_with(
                challenge.challenge_name,
                challenge.session,
                {"NEW_PASSWORD": new_password},
                username=challenge.username or self.username,
            )
        response.pop("ResponseMetadata", None)
        return response

    async def confirm_device(
        self, tokens: Mapping[str, Any], device_name: str | None = None
    ) -> tuple[dict[str, Any], str]:
        """Confirm the device a sign-in reported; returns (response, device_password).

        The new credentials are also kept on this object for the next
        :meth:`authenticate_user`. ``device_name`` defaults to this host's name.
        """
        result = tokens.get("AuthenticationResult") or {}
        metadata = result.get("NewDeviceMetadata")
        if not metadata:
            raise ConfigurationError("these tokens carry no NewDeviceMetadata to confirm")
        response, creds = await confirm_device(
            self._idp,
            access_token=_need(result.get("AccessToken"), "AccessToken"),
            new_device_metadata=metadata,
            device_name=device_name or platform.node() or None,
        )
        self.device_key = creds.device_key
        self.device_group_key = creds.device_group_key
        self._device_password = creds.device_password
        return response, creds.device_password

    async def update_device_status(
        self, is_remembered: bool, access_token: str, device_key: str
    ) -> None:
        """Mark a device remembered (``True``) or not remembered (``False``)."""
        await update_device_status(
            self._idp,
            access_token=_need(access_token, "access_token"),
            device_key=_need(device_key, "device_key"),
            remembered=is_remembered,
        )

    async def forget_device(self, access_token: str, device_key: str) -> None:
        """Forget a device: its credentials no longer sign in."""
        await forget_device(
            self._idp,
            access_token=_need(access_token, "access_token"),
            device_key=_need(device_key, "device_key"),
        )
        if device_key == self.device_key:
            self.device_key = self.device_group_key = self._device_password = None

    def __repr__(self) -> str:
        return (
            f"AWSSRP(username={self.username!r}, pool_id={self.pool_id!r}, "
            f"client_id={self.client_id!r}, password='***', "
            f"client_secret={redact(self._client_secret)}, device_key={self.device_key!r})"
        )
