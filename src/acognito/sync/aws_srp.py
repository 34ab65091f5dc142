"""pycognito's ``AWSSRP``, blocking, over acognito's SRP sign-in."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from .. import srp
from .._secret import secret_hash
from ..aws_srp import AWSSRP as AsyncAWSSRP
from ..errors import ConfigurationError
from ._loop import _loop

__all__ = ["AWSSRP"]


class AWSSRP:
    """pycognito's ``AWSSRP``, blocking, over acognito's SRP sign-in.

    ``client`` may be a boto3 ``cognito-idp`` client: its region and endpoint are used
    (acognito makes its own aiobotocore client on the private loop).
    """

    SMS_MFA_CHALLENGE = "SMS_MFA"
    SOFTWARE_TOKEN_MFA_CHALLENGE = "SOFTWARE_TOKEN_MFA"  # noqa: S105 - a challenge name
    NEW_PASSWORD_REQUIRED_CHALLENGE = "NEW_PASSWORD_REQUIRED"  # noqa: S105 - a challenge name
    PASSWORD_VERIFIER_CHALLENGE = "PASSWORD_VERIFIER"  # noqa: S105 - a challenge name
    DEVICE_SRP_CHALLENGE = "DEVICE_SRP_AUTH"
    DEVICE_PASSWORD_VERIFIER_CHALLENGE = "DEVICE_PASSWORD_VERIFIER"  # noqa: S105 - a challenge name

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
        if pool_region is not None and client is not None:
            raise ConfigurationError("pass pool_region or client, not both")
        if client is not None:
            meta = getattr(client, "meta", None)
            pool_region = getattr(meta, "region_name", None)
            endpoint_url = endpoint_url or getattr(meta, "endpoint_url", None)
            if not pool_region:
                raise ConfigurationError(
                    "client must be a boto3 'cognito-idp' client (or pass pool_region=)"
                )
        self.username = username
        self.pool_id = pool_id
        self.client_id = client_id
        self.client_secret = client_secret
        self._password = password
        self.small_a_value = srp.generate_small_a()
        self.large_a_value = srp.calculate_a(self.small_a_value)
        loop = _loop()
        self._loop = loop
        self._async: AsyncAWSSRP = loop.build(
            lambda: AsyncAWSSRP(
                username,
                password,
                pool_id,
                client_id,
                client_secret=client_secret,
                pool_region=pool_region,
                endpoint_url=endpoint_url,
                device_key=device_key,
                device_group_key=device_group_key,
                device_password=device_password,
            )
        )
        self._finalizer = weakref.finalize(self, loop.close_soon, self._async.aclose)

    @property
    def device_key(self) -> str | None:
        return self._async.device_key

    @property
    def device_group_key(self) -> str | None:
        return self._async.device_group_key

    def close(self) -> None:
        """Release the client this object made."""
        self._finalizer.detach()
        self._loop.run(self._async.aclose)

    def __enter__(self) -> AWSSRP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<acognito.sync.AWSSRP over {self._async!r}>"

    get_secret_hash = staticmethod(secret_hash)

    @staticmethod
    def get_cognito_formatted_timestamp(input_datetime: datetime) -> str:
        """Cognito's TIMESTAMP for a datetime (a naive one is taken as UTC, as pycognito does)."""
        if input_datetime.tzinfo is None:
            input_datetime = input_datetime.replace(tzinfo=timezone.utc)
        return srp.cognito_timestamp(input_datetime)

    def get_auth_params(self) -> dict[str, str]:
        """InitiateAuth's USER_SRP_AUTH parameters (USERNAME, SRP_A, SECRET_HASH, DEVICE_KEY)."""
        params = {"USERNAME": self.username, "SRP_A": format(self.large_a_value, "x")}
        if self.client_secret is not None:
            params["SECRET_HASH"] = secret_hash(self.username, self.client_id, self.client_secret)
        if self.device_key is not None:
            params["DEVICE_KEY"] = self.device_key
        return params

    def process_challenge(
        self, challenge_parameters: Mapping[str, str], request_parameters: Mapping[str, str]
    ) -> dict[str, str]:
        """The PASSWORD_VERIFIER answer for the ``a`` behind :meth:`get_auth_params`."""
        username = challenge_parameters.get("USERNAME", request_parameters["USERNAME"])
        timestamp = srp.cognito_timestamp(datetime.now(timezone.utc))
        signature = srp.password_claim_signature(
            pool_id=self.pool_id,
            user_id_for_srp=challenge_parameters["USER_ID_FOR_SRP"],
            password=self._password,
            small_a=self.small_a_value,
            srp_b=challenge_parameters["SRP_B"],
            salt=challenge_parameters["SALT"],
            secret_block=challenge_parameters["SECRET_BLOCK"],
            timestamp=timestamp,
        )
        response = {
            "TIMESTAMP": timestamp,
            "USERNAME": username,
            "PASSWORD_CLAIM_SECRET_BLOCK": challenge_parameters["SECRET_BLOCK"],
            "PASSWORD_CLAIM_SIGNATURE": signature,
        }
        if self.client_secret is not None:
            response["SECRET_HASH"] = secret_hash(username, self.client_id, self.client_secret)
        if self.device_key is not None:
            response["DEVICE_KEY"] = self.device_key
        return response

    def authenticate_user(
        self, client: Any = None, client_metadata: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Sign in with SRP (and device SRP); returns Cognito's response with tokens."""
        return self._loop.run(self._async.authenticate_user, client_metadata)

    def set_new_password_challenge(self, new_password: str, client: Any = None) -> dict[str, Any]:
        """Sign in with the temporary password and set ``new_password``."""
        return self._loop.run(self._async.set_new_password_challenge, new_password)

    def confirm_device(
        self, tokens: Mapping[str, Any], device_name: str | None = None
    ) -> tuple[dict[str, Any], str]:
        """Confirm the device a sign-in reported; returns (response, device_password)."""
        return self._loop.run(self._async.confirm_device, tokens, device_name)

    def update_device_status(self, is_remembered: bool, access_token: str, device_key: str) -> None:
        """Mark a device remembered or not."""
        self._loop.run(self._async.update_device_status, is_remembered, access_token, device_key)

    def forget_device(self, access_token: str, device_key: str) -> None:
        """Forget a device: its credentials no longer sign in."""
        self._loop.run(self._async.forget_device, access_token, device_key)
