"""pycognito's boto3-flavoured session options, turned into AsyncCognito's.

``boto3_client_kwargs`` is read by :class:`~acognito.AsyncCognito` itself (one table,
:mod:`acognito._client_options`); here only a boto3 ``Session`` needs translating.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._client_options import aio_config


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
    return {
        "user_pool_region": user_pool_region,
        "access_key": access_key,
        "secret_key": secret_key,
        "session": _aio_session(session),
        "botocore_config": aio_config(botocore_config),
        "boto3_client_kwargs": boto3_client_kwargs,
    }
