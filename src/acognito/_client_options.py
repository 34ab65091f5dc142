"""boto3-style client options (pycognito's ``boto3_client_kwargs``), read once for all.

pycognito passed ``boto3_client_kwargs`` straight to ``boto3.client``. acognito builds
an aiobotocore client per pool instead, so the accepted keys map to the pool's own
settings; any other key is refused by name rather than silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ConfigurationError

__all__ = ["CLIENT_KWARGS", "aio_config", "read_client_kwargs"]

#: ``create_client`` argument -> the acognito setting it becomes.
CLIENT_KWARGS: Mapping[str, str] = {
    "endpoint_url": "endpoint_url",
    "region_name": "user_pool_region",
    "aws_access_key_id": "access_key",
    "aws_secret_access_key": "secret_key",
    "aws_session_token": "session_token",
    "config": "botocore_config",
}


def aio_config(config: Any) -> Any:
    """A botocore ``Config`` as the ``AioConfig`` aiobotocore needs (same options);
    an ``AioConfig`` (or ``None``) as it is."""
    if config is None:
        return None
    from aiobotocore.config import AioConfig
    from botocore.config import Config

    if isinstance(config, AioConfig):
        return config
    if not isinstance(config, Config):
        raise ConfigurationError(
            f"botocore_config must be a botocore Config or AioConfig; got {type(config).__name__}"
        )
    return AioConfig(**getattr(config, "_user_provided_options", {}))


def read_client_kwargs(boto3_client_kwargs: object) -> dict[str, Any]:
    """The acognito settings named by ``boto3_client_kwargs`` (``{}`` for ``None``).

    Keys other than :data:`CLIENT_KWARGS` raise :class:`ConfigurationError` naming them
    (never their values: they may be secrets).
    """
    if boto3_client_kwargs is None:
        return {}
    if not isinstance(boto3_client_kwargs, Mapping):
        raise ConfigurationError(
            "boto3_client_kwargs must be a dict of create_client arguments; "
            f"got {type(boto3_client_kwargs).__name__}"
        )
    unknown = sorted(str(key) for key in boto3_client_kwargs if key not in CLIENT_KWARGS)
    if unknown:
        raise ConfigurationError(
            f"boto3_client_kwargs {unknown} are not supported; supported: {sorted(CLIENT_KWARGS)}"
        )
    return {CLIENT_KWARGS[key]: value for key, value in boto3_client_kwargs.items()}
