"""``AWSSRP``: the async counterpart of pycognito's ``pycognito.aws_srp.AWSSRP``.

For code that drives SRP sign-in and remembered devices directly, with raw Cognito
responses, as pycognito's README shows. :class:`acognito.AsyncCognito` does the same
with session state; prefer it in new code.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from . import srp
from ._idp import IdpClient
from ._ids import check_client_id, check_region, parse_pool_id
from ._lifecycle import AsyncClosing
from ._secret import redact, secret_hash
from ._threads import run_cpu
from .devices import DeviceCredentials, confirm_device, forget_device, update_device_status
from .errors import ConfigurationError
from .flows import Challenge, SignIn, password_verifier_responses, tokens_or_raise

__all__ = ["AWSSRP"]


def _need(value: str | None, what: str) -> str:
    if not value or not isinstance(value, str):
        raise ConfigurationError(f"{what} is required")
    return value


def _refuse_sync_client(client: object) -> None:
    """A boto3 (blocking botocore) client cannot be awaited: say what to pass instead."""
    from aiobotocore.client import AioBaseClient
    from botocore.client import BaseClient

    if isinstance(client, BaseClient) and not isinstance(client, AioBaseClient):
        raise ConfigurationError(
            "AWSSRP got a boto3 (blocking) client: pass an aiobotocore 'cognito-idp' "
            "client, or no client (AWSSRP then makes its own from pool_region); "
            "blocking code can use acognito.sync.AWSSRP, which takes a boto3 client"
        )


class ChallengeNames:
    """pycognito's challenge-name constants on ``AWSSRP`` (async and blocking alike)."""

    SMS_MFA_CHALLENGE = "SMS_MFA"
    SOFTWARE_TOKEN_MFA_CHALLENGE = "SOFTWARE_TOKEN_MFA"  # noqa: S105 - a challenge name
    NEW_PASSWORD_REQUIRED_CHALLENGE = "NEW_PASSWORD_REQUIRED"  # noqa: S105 - a challenge name
    PASSWORD_VERIFIER_CHALLENGE = "PASSWORD_VERIFIER"  # noqa: S105 - a challenge name
    DEVICE_SRP_CHALLENGE = "DEVICE_SRP_AUTH"
    DEVICE_PASSWORD_VERIFIER_CHALLENGE = "DEVICE_PASSWORD_VERIFIER"  # noqa: S105 - a challenge name


class AWSSRP(ChallengeNames, AsyncClosing):
    """SRP sign-in for one user, with optional remembered-device credentials.

    The arguments are pycognito's, in its positional order. ``client`` is an
    aiobotocore ``cognito-idp`` client you own (a boto3 client is refused: it cannot be
    awaited); without it AWSSRP makes its own (``pool_region`` / ``endpoint_url``) and
    closes it in ``close()`` or at the end of ``async with``.
    """

    def __init__(
        self,
        username: str,
        password: str,
        pool_id: str,
        client_id: str,
        pool_region: str | None = None,
        client: Any = None,
        client_secret: str | None = None,
        device_key: str | None = None,
        device_group_key: str | None = None,
        device_password: str | None = None,
        *,
        endpoint_url: str | None = None,
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
        #: The secret ``a`` behind :meth:`get_auth_params` (pycognito's name); A is made
        #: on first use, off the event loop.
        self.small_a_value = srp.generate_small_a()
        self._large_a: int | None = None
        self._given_client = client
        if client is not None:
            if pool_region is not None:
                raise ConfigurationError(
                    "pass pool_region or client, not both (the client has its region)"
                )
            _refuse_sync_client(client)
            self._idp = IdpClient.wrap(client)
        else:
            self._idp = IdpClient(
                region=region if pool_region is None else check_region(pool_region),
                endpoint_url=endpoint_url,
            )

    @property
    def client(self) -> Any:
        """The aiobotocore client: the one passed in, or AWSSRP's own once made (after a
        first call); before that a :class:`ConfigurationError`."""
        client = self._given_client if self._given_client is not None else self._idp.client
        if client is None:
            raise ConfigurationError(
                "AWSSRP makes its aiobotocore client on first use: await a call first, "
                "or pass client= (an aiobotocore 'cognito-idp' client)"
            )
        return client

    @property
    def client_secret(self) -> str | None:
        return self._client_secret

    async def aclose(self) -> None:
        """Close the client AWSSRP made (a client you passed in stays open)."""
        await self._idp.close()

    close = aclose

    @staticmethod
    def get_secret_hash(username: str, client_id: str, client_secret: str) -> str:
        """Cognito's SECRET_HASH for ``username`` (see :func:`acognito._secret.secret_hash`)."""
        return secret_hash(username, client_id, client_secret)

    @staticmethod
    def get_cognito_formatted_timestamp(input_datetime: datetime) -> str:
        """Cognito's TIMESTAMP for ``input_datetime`` (``"Sat Jan 1 00:00:00 UTC 2022"``);
        a naive datetime is taken as UTC, as pycognito does."""
        if input_datetime.tzinfo is None:
            input_datetime = input_datetime.replace(tzinfo=timezone.utc)
        return srp.cognito_timestamp(input_datetime)

    async def get_auth_params(self) -> dict[str, str]:
        """InitiateAuth's USER_SRP_AUTH parameters (USERNAME, SRP_A, SECRET_HASH when the
        client has a secret, DEVICE_KEY with device credentials), for driving the
        exchange by hand; A = g^a mod N is computed off the event loop."""
        if self._large_a is None:
            self._large_a = await run_cpu(srp.calculate_a, self.small_a_value)
        return self._flow(None).auth_parameters(self.username, SRP_A=format(self._large_a, "x"))

    async def process_challenge(
        self, challenge_parameters: Mapping[str, str], request_parameters: Mapping[str, str]
    ) -> dict[str, str]:
        """The PASSWORD_VERIFIER ChallengeResponses for the ``a`` behind
        :meth:`get_auth_params` (the SRP math runs off the event loop). Raises
        :class:`~acognito.errors.SRPError` for a malformed or unsafe challenge."""
        for name in ("USER_ID_FOR_SRP", "SRP_B", "SALT", "SECRET_BLOCK"):
            _need(challenge_parameters.get(name), f"challenge parameter {name}")
        username = challenge_parameters.get("USERNAME") or request_parameters.get("USERNAME")
        answer = await password_verifier_responses(
            pool_id=self.pool_id,
            password=self._password,
            small_a=self.small_a_value,
            parameters=challenge_parameters,
        )
        answer["USERNAME"] = _need(username, "USERNAME")
        return self._flow(None).challenge_responses(answer["USERNAME"], answer)

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
        outcome = await self._flow(client_metadata).start_srp(self.username, self._password)
        response = tokens_or_raise(outcome)
        response.pop("ResponseMetadata", None)
        return response

    async def set_new_password_challenge(
        self, new_password: str, client_metadata: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Sign in with the current (temporary) password and set ``new_password``."""
        _need(new_password, "new_password")
        flow = self._flow(client_metadata)
        outcome = await flow.start_srp(self.username, self._password)
        if isinstance(outcome, Challenge) and outcome.name == "NEW_PASSWORD_REQUIRED":
            outcome = await flow.continue_with(
                outcome.name,
                outcome.session,
                {"NEW_PASSWORD": new_password},
                username=outcome.username or self.username,
            )
        response = tokens_or_raise(outcome)
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
