"""pycognito's ``AWSSRP``, blocking, over acognito's SRP sign-in."""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from .._loop_thread import shared_loop
from .._secret import secret_hash
from ..aws_srp import AWSSRP as AsyncAWSSRP
from ..aws_srp import ChallengeNames
from ..errors import ConfigurationError
from ._errors import run_mapped

__all__ = ["AWSSRP"]

T = TypeVar("T")


class AWSSRP(ChallengeNames):
    """pycognito's ``AWSSRP``, blocking, over acognito's SRP sign-in.

    ``client`` may be a boto3 ``cognito-idp`` client: its region and endpoint are used
    (acognito makes its own aiobotocore client on the private loop).
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
        #: The boto3 client given (pycognito's ``client``): its ``exceptions`` are the
        #: classes this object's errors are instances of.
        self.client = client
        self.username = username
        self.pool_id = pool_id
        self.client_id = client_id
        self.client_secret = client_secret
        loop = shared_loop()
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

    def _run(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        # Refusals are botocore's too: ClientError and the given client's exceptions.
        return run_mapped(self._loop.run, self._client_exceptions, func, *args, **kwargs)

    def _client_exceptions(self) -> Any:
        return getattr(self.client, "exceptions", None)

    get_secret_hash = staticmethod(secret_hash)
    get_cognito_formatted_timestamp = staticmethod(AsyncAWSSRP.get_cognito_formatted_timestamp)

    @property
    def small_a_value(self) -> int:
        """The SRP private value ``a`` behind :meth:`get_auth_params` (one per object)."""
        return self._async.small_a_value

    @property
    def large_a_value(self) -> int:
        """A = g^a mod N, as sent in ``SRP_A``."""
        return int(self.get_auth_params()["SRP_A"], 16)

    def get_auth_params(self) -> dict[str, str]:
        """InitiateAuth's USER_SRP_AUTH parameters (USERNAME, SRP_A, SECRET_HASH, DEVICE_KEY)."""
        return self._run(self._async.get_auth_params)

    def process_challenge(
        self, challenge_parameters: Mapping[str, str], request_parameters: Mapping[str, str]
    ) -> dict[str, str]:
        """The PASSWORD_VERIFIER answer for the ``a`` behind :meth:`get_auth_params`."""
        return self._run(self._async.process_challenge, challenge_parameters, request_parameters)

    def authenticate_user(
        self, client: Any = None, client_metadata: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Sign in with SRP (and device SRP); returns Cognito's response with tokens."""
        return self._run(self._async.authenticate_user, client_metadata)

    def set_new_password_challenge(self, new_password: str, client: Any = None) -> dict[str, Any]:
        """Sign in with the temporary password and set ``new_password``."""
        return self._run(self._async.set_new_password_challenge, new_password)

    def confirm_device(
        self, tokens: Mapping[str, Any], device_name: str | None = None
    ) -> tuple[dict[str, Any], str]:
        """Confirm the device a sign-in reported; returns (response, device_password)."""
        return self._run(self._async.confirm_device, tokens, device_name)

    def update_device_status(self, is_remembered: bool, access_token: str, device_key: str) -> None:
        """Mark a device remembered or not."""
        self._run(self._async.update_device_status, is_remembered, access_token, device_key)

    def forget_device(self, access_token: str, device_key: str) -> None:
        """Forget a device: its credentials no longer sign in."""
        self._run(self._async.forget_device, access_token, device_key)
