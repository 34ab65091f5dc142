"""pycognito's boto3-flavoured session options, turned into AsyncCognito's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError

_CLIENT_KWARGS = {"endpoint_url", "region_name", "aws_access_key_id", "aws_secret_access_key"}


def _aio_config(config: Any) -> Any:
    """A botocore ``Config`` as the ``AioConfig`` aiobotocore needs (same options)."""
    if config is None:
        return None
    from aiobotocore.config import AioConfig

    if isinstance(config, AioConfig):
        return config
    return AioConfig(**getattr(config, "_user_provided_options", {}))


def _aio_session(session: Any) -> Any:
    """An aiobotocore session with what a boto3 ``Session`` would use: its profile, or
    its explicit credentials."""
    if session is None:
        return None
    from aiobotocore.session import AioSession

    if isinstance(session, AioSession):
        return session
    profile = getattr(session, "profile_name", None)
    aio = AioSession(profile=profile if profile != "default" else None)
    credentials = session.get_credentials() if hasattr(session, "get_credentials") else None
    if credentials is not None and getattr(credentials, "method", "") == "explicit":
        frozen = credentials.get_frozen_credentials()
        aio.set_credentials(frozen.access_key, frozen.secret_key, frozen.token)
    return aio


def _session_kwargs(
    user_pool_region: str | None,
    access_key: str | None,
    secret_key: str | None,
    session: Any,
    botocore_config: Any,
    boto3_client_kwargs: Mapping[str, Any] | None,
) -> dict[str, Any]:
    extra = dict(boto3_client_kwargs or {})
    unknown = sorted(set(extra) - _CLIENT_KWARGS)
    if unknown:
        raise ConfigurationError(
            f"boto3_client_kwargs {unknown} are not supported by acognito.sync; "
            f"supported: {sorted(_CLIENT_KWARGS)}"
        )
    return {
        "user_pool_region": user_pool_region or extra.get("region_name"),
        "access_key": access_key or extra.get("aws_access_key_id"),
        "secret_key": secret_key or extra.get("aws_secret_access_key"),
        "endpoint_url": extra.get("endpoint_url"),
        "session": _aio_session(session),
        "botocore_config": _aio_config(botocore_config),
    }
