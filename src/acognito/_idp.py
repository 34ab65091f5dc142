"""The one module that talks to aiobotocore.

It owns the client's lifecycle, picks the HTTP backend that works on the running
event loop (aiohttp on asyncio, httpx on trio) and turns botocore's exceptions into
acognito's. Nothing here knows about users or tokens.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from typing import Any

import anyio
import anyio.to_thread
import sniffio
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from .errors import (
    CognitoConnectionError,
    CognitoError,
    ConfigurationError,
    SessionClosedError,
    service_error,
)

__all__ = ["IdpClient"]

log = logging.getLogger("acognito")

SERVICE = "cognito-idp"

#: botocore's ``max_attempts`` counts retries, not attempts: 2 means 3 tries in all.
DEFAULT_CONFIG = AioConfig(
    retries={"mode": "standard", "max_attempts": 2},
    connect_timeout=10,
    read_timeout=30,
)

_VALUE_IN_REPORT = re.compile(r"value: .*?, type: ", re.S)


@functools.cache
def _httpx_session_cls() -> type[Any]:
    """aiobotocore's httpx backend, the one that runs on trio.

    aiobotocore 3.10 warns once per process that it prefers the ``httpx2`` fork; that
    notice is about a choice acognito makes, not the user, so it is taken here, once,
    by a throw-away instance (no I/O: SSL set-up happens on first use).
    """
    from aiobotocore.httpxsession import HttpxSession

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="aiobotocore's httpx backend now prefers httpx2",
            category=DeprecationWarning,
        )
        HttpxSession()
    return HttpxSession  # type: ignore[no-any-return]


def _uses_httpx(config: Any) -> bool:
    cls = getattr(config, "http_session_cls", None)
    return cls is not None and cls is _httpx_session_cls()


def _prepare_session(session: AioSession | None, library: str) -> AioSession:
    """Return a session whose default HTTP backend works under ``library``.

    On trio aiohttp cannot run at all; the session itself must carry the httpx
    backend, or credential providers that do I/O (credential_process, AssumeRole)
    would still reach for aiohttp.
    """
    session = session or get_session()
    if library == "trio":
        current = session.get_default_client_config()
        if not _uses_httpx(current):
            trio_cfg = AioConfig(http_session_cls=_httpx_session_cls())
            session.set_default_client_config(
                trio_cfg if current is None else current.merge(trio_cfg)
            )
    return session


class IdpClient:
    """An aiobotocore ``cognito-idp`` client, opened once and shared.

    ``await open()`` builds the client: service-model loading and the other blocking
    set-up run in a worker thread; ``await close()`` releases its connections.
    """

    def __init__(
        self,
        *,
        region: str,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        session_token: str | None = None,
        session: AioSession | None = None,
        botocore_config: AioConfig | None = None,
    ) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self._access_key = access_key
        self._secret_key = secret_key
        self._session_token = session_token
        self._session = session
        self._config = botocore_config
        self._client: Any = None
        self._context: Any = None
        self._closed = False
        self._lock: anyio.Lock | None = None
        self._owned = True
        self.library: str | None = None

    @classmethod
    def wrap(cls, client: Any) -> IdpClient:
        """Use an aiobotocore ``cognito-idp`` client the caller created and owns.

        ``close()`` then only stops this wrapper from being used; the client stays open.
        """
        idp = cls(region=getattr(getattr(client, "meta", None), "region_name", None) or "")
        idp._client = client
        idp._owned = False
        return idp

    @property
    def is_open(self) -> bool:
        return self._client is not None

    @property
    def closed(self) -> bool:
        return self._closed

    async def open(self) -> None:
        """Create the aiobotocore client (idempotent, safe under concurrency)."""
        if self._closed:
            raise SessionClosedError("this Cognito session is closed")
        if self._client is not None:
            return
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if self._client is not None:
                return
            library = sniffio.current_async_library()
            session = await anyio.to_thread.run_sync(_prepare_session, self._session, library)
            config = DEFAULT_CONFIG if self._config is None else DEFAULT_CONFIG.merge(self._config)
            if library == "trio" and not _uses_httpx(config):
                config = config.merge(AioConfig(http_session_cls=_httpx_session_cls()))
            # Warm the service-model caches off the loop: they are JSON files on disk.
            await anyio.to_thread.run_sync(session.warm_up_loader_caches, SERVICE, None)
            context = session.create_client(
                SERVICE,
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                aws_access_key_id=self._access_key,
                aws_secret_access_key=self._secret_key,
                aws_session_token=self._session_token,
                config=config,
            )
            try:
                client = await context.__aenter__()
            except BotoCoreError as exc:
                raise self._map(exc, "CreateClient") from None
            self._context, self._client, self.library = context, client, library
            self._session = session

    async def close(self) -> None:
        """Close the client's connections. Later calls raise :class:`SessionClosedError`."""
        self._closed = True
        context, self._context, self._client = self._context, None, None
        if context is not None and self._owned:
            with anyio.CancelScope(shield=True):
                await context.__aexit__(None, None, None)

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call ``operation`` (botocore's snake_case name) and return its response."""
        if self._client is None:
            await self.open()
        if self.library is not None and sniffio.current_async_library() != self.library:
            raise ConfigurationError(
                f"this Cognito session was opened under {self.library}; "
                "use it from that event loop only"
            )
        method = getattr(self._client, operation, None)
        if method is None:
            raise ConfigurationError(f"unknown cognito-idp operation {operation!r}")
        try:
            response: dict[str, Any] = await method(**params)
        except (BotoCoreError, ClientError) as exc:
            raise self._map(exc, operation) from None
        return response

    def _map(self, exc: Exception, operation: str) -> CognitoError:
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            meta = exc.response.get("ResponseMetadata", {})
            mapped = service_error(
                str(err.get("Code", "Unknown")),
                str(err.get("Message", "")),
                request_id=meta.get("RequestId"),
                operation=exc.operation_name,
                status_code=meta.get("HTTPStatusCode"),
            )
            log.debug("cognito-idp %s failed: %s", exc.operation_name, mapped.code)
            return mapped
        if isinstance(exc, ParamValidationError):
            # botocore's report quotes parameter values; keep only the field names.
            report = _VALUE_IN_REPORT.sub("", str(exc.kwargs.get("report", "")))
            return ConfigurationError(f"invalid parameters for {operation}: {report}")
        if isinstance(exc, NoCredentialsError):
            return ConfigurationError(
                f"{operation} needs AWS credentials (access_key/secret_key, a session, "
                "or the usual AWS environment and config files)"
            )
        if isinstance(
            exc,
            (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError),
        ):
            return CognitoConnectionError(f"{operation}: {type(exc).__name__}")
        return CognitoError(f"{operation} failed: {type(exc).__name__}")

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("open" if self._client is not None else "new")
        return f"IdpClient(region={self.region!r}, endpoint_url={self.endpoint_url!r}, {state})"
