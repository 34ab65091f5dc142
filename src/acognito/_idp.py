"""The one module that talks to aiobotocore.

It owns the client's lifecycle, picks the HTTP backend that works on the running
event loop (aiohttp on asyncio, httpx on trio), turns botocore's exceptions into
acognito's and, before the first client is built, puts the filter that hides secrets
on botocore's DEBUG loggers (:mod:`acognito._botocore_logs`). Nothing here knows about
users or tokens.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import warnings
import weakref
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
import sniffio
from anyio.lowlevel import RunVar

from . import _botocore_logs
from ._lazy import Lazy
from ._threads import Gate, mark_under_way, under_way
from .errors import (
    CognitoConnectionError,
    CognitoError,
    ConfigurationError,
    SessionClosedError,
    service_error,
)

if TYPE_CHECKING:  # aiobotocore costs ~600 ms to import: only a session that calls loads it
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession
    from botocore.loaders import Loader

__all__ = ["CONNECT_TIMEOUT", "READ_TIMEOUT", "IdpClient", "check_max_concurrency"]

log = logging.getLogger("acognito")

SERVICE = "cognito-idp"

#: Seconds to open a connection to Cognito, and to wait for each answer. A server that
#: accepts and never answers fails after ``READ_TIMEOUT`` per try (3 tries at most).
#: Override with ``botocore_config=AioConfig(connect_timeout=..., read_timeout=...)``.
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 10

_VALUE_IN_REPORT = re.compile(r"value: .*?, type: ", re.S)


@functools.cache
def _default_config() -> AioConfig:
    """acognito's botocore defaults: bounded timeouts, standard retries.

    botocore's ``max_attempts`` counts retries, not attempts: 2 means 3 tries in all.
    """
    from aiobotocore.config import AioConfig

    return AioConfig(
        retries={"mode": "standard", "max_attempts": 2},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
    )


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


_LOADERS: dict[Any, Loader] = {}
_LOADERS_LOCK = threading.Lock()


def _shared_loader(session: AioSession) -> Loader:
    """One botocore data loader per data path for the sessions acognito creates itself.

    Each new session otherwise parses botocore's JSON models again (~100 ms of CPU per
    ``AsyncCognito``); the loader only caches read-only data, and a caller's own session
    keeps its own loader.
    """
    from botocore.loaders import create_loader

    key = session.get_config_variable("data_path")
    with _LOADERS_LOCK:
        loader = _LOADERS.get(key)
        if loader is None:
            loader = _LOADERS[key] = create_loader(key)
        return loader


def _prepare_session(session: AioSession | None, library: str) -> AioSession:
    """Return a session whose default HTTP backend works under ``library``.

    On trio aiohttp cannot run at all; the session itself must carry the httpx
    backend, or credential providers that do I/O (credential_process, AssumeRole)
    would still reach for aiohttp.
    """
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    _botocore_logs.install()
    if session is None:
        session = get_session()
        session.register_component("data_loader", _shared_loader(session))
    if library == "trio":
        current = session.get_default_client_config()
        if not _uses_httpx(current):
            trio_cfg = AioConfig(http_session_cls=_httpx_session_cls())
            session.set_default_client_config(
                trio_cfg if current is None else current.merge(trio_cfg)
            )
    return session


def check_max_concurrency(value: object) -> int | None:
    """``value`` if it is a positive integer or ``None``, else a ConfigurationError."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigurationError("max_concurrency must be a positive integer or None")
    return value


_IN_FLIGHT: RunVar[weakref.WeakKeyDictionary[IdpClient, Gate]] = RunVar("acognito_idp_in_flight")
#: The task that last called Cognito: its later calls continue an operation.
_CALLER: ContextVar[int | None] = ContextVar("acognito_idp_caller", default=None)


class IdpClient:
    """An aiobotocore ``cognito-idp`` client, opened once and shared.

    ``await open()`` builds the client: service-model loading and the other blocking
    set-up run in a worker thread; ``await close()`` releases its connections.

    At most ``max_concurrency`` calls are in flight at once (default: the client's
    connection pool size, ``max_pool_connections``, 10 unless configured); later calls
    wait their turn *before* botocore builds and signs their request. Without the cap a
    burst of N calls does all N request builds back to back on the event loop while
    only the pool's worth can be sent, and the loop stalls for the whole burst. A task's
    second and later calls (a sign-in's answer to a challenge) go ahead of tasks' first
    calls (:class:`~acognito._threads.Gate`), so a burst of sign-ins finishes them one
    after another instead of all at once.

    Timeouts default to :data:`CONNECT_TIMEOUT` and :data:`READ_TIMEOUT` seconds per
    try (3 tries at most); ``botocore_config`` overrides them.
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
        max_concurrency: int | None = None,
    ) -> None:
        self._max_concurrency = check_max_concurrency(max_concurrency)
        self.region = region
        self.endpoint_url = endpoint_url
        self._access_key = access_key
        self._secret_key = secret_key
        self._session_token = session_token
        self._session = session
        self._config = botocore_config
        self._owned = True
        self.library: str | None = None
        self._lazy: Lazy[tuple[Any, Any]] = Lazy(
            self._create, dispose=self._dispose, closed_error=self._closed_error
        )

    @classmethod
    def wrap(cls, client: Any) -> IdpClient:
        """Use an aiobotocore ``cognito-idp`` client the caller created and owns.

        ``close()`` then only stops this wrapper from being used; the client stays open.
        """
        idp = cls(region=getattr(getattr(client, "meta", None), "region_name", None) or "")
        idp._owned = False
        _botocore_logs.install()

        async def given() -> tuple[Any, Any]:
            return None, client

        idp._lazy = Lazy(given, dispose=idp._dispose, closed_error=idp._closed_error)
        return idp

    @staticmethod
    def _closed_error() -> Exception:
        return SessionClosedError("this Cognito session is closed")

    @property
    def client(self) -> Any:
        """The aiobotocore client once open (``None`` before): for a caller's ``Stubber``
        or a call acognito has no method for. It stays this object's: do not close it."""
        made = self._lazy.value
        return None if made is None else made[1]

    @property
    def is_open(self) -> bool:
        return self._lazy.value is not None

    @property
    def closed(self) -> bool:
        return self._lazy.closed

    @property
    def where(self) -> str:
        """The endpoint and region calls go to, for messages (never credentials)."""
        endpoint = self.endpoint_url or f"https://cognito-idp.{self.region}.amazonaws.com"
        return f"{endpoint} (region {self.region!r})"

    async def open(self) -> None:
        """Create the aiobotocore client (idempotent, safe under concurrency)."""
        await self._lazy.get()

    async def _create(self) -> tuple[Any, Any]:
        from aiobotocore.config import AioConfig
        from botocore.exceptions import BotoCoreError

        library = sniffio.current_async_library()
        session = await anyio.to_thread.run_sync(_prepare_session, self._session, library)
        defaults = _default_config()
        config = defaults if self._config is None else defaults.merge(self._config)
        if library == "trio" and not _uses_httpx(config):
            config = config.merge(AioConfig(http_session_cls=_httpx_session_cls()))
        # Warm the service-model caches off the loop: they are JSON files on disk.
        await anyio.to_thread.run_sync(session.warm_up_loader_caches, SERVICE, None)
        try:
            context = session.create_client(
                SERVICE,
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                aws_access_key_id=self._access_key,
                aws_secret_access_key=self._secret_key,
                aws_session_token=self._session_token,
                config=config,
            )
            client = await context.__aenter__()
        except (BotoCoreError, ValueError) as exc:
            raise self._map(exc, "CreateClient") from None
        self.library = library
        self._session = session
        return context, client

    async def _dispose(self, made: tuple[Any, Any]) -> None:
        context = made[0]
        if context is not None and self._owned:
            await context.__aexit__(None, None, None)

    async def close(self) -> None:
        """Close the client's connections. Later calls raise :class:`SessionClosedError`."""
        await self._lazy.aclose()

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call ``operation`` (botocore's snake_case name) and return its response."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = (await self._lazy.get())[1]
        if self.library is not None and sniffio.current_async_library() != self.library:
            raise ConfigurationError(
                f"this Cognito session was opened under {self.library}; "
                "use it from that event loop only"
            )
        method = getattr(client, operation, None)
        if method is None:
            raise ConfigurationError(f"unknown cognito-idp operation {operation!r}")
        gate = self._in_flight()
        await gate.acquire(continuing=under_way(_CALLER))
        mark_under_way(_CALLER)
        try:
            response: dict[str, Any] = await method(**params)
        except (BotoCoreError, ClientError) as exc:
            api_name = client.meta.method_to_api_mapping.get(operation, operation)
            raise self._map(exc, api_name) from None
        finally:
            gate.release()
        return response

    @property
    def max_concurrency(self) -> int | None:
        """The cap on calls in flight: as configured, else the pool size once open."""
        if self._max_concurrency is not None:
            return self._max_concurrency
        return self._pool_size() if self.client is not None else None

    def _in_flight(self) -> Gate:
        """This client's cap on the running event loop, made on first use.

        anyio primitives belong to the loop they were made in; the per-loop table holds
        clients weakly, so a closed and dropped client leaves nothing behind.
        """
        try:
            limiters = _IN_FLIGHT.get()
        except LookupError:
            limiters = weakref.WeakKeyDictionary()
            _IN_FLIGHT.set(limiters)
        limiter = limiters.get(self)
        if limiter is None:
            limiter = limiters[self] = Gate(self.max_concurrency or self._pool_size())
        return limiter

    def _pool_size(self) -> int:
        config = getattr(getattr(self.client, "meta", None), "config", None)
        size = getattr(config, "max_pool_connections", None)
        return size if isinstance(size, int) and size >= 1 else 10

    def _map(self, exc: Exception, operation: str) -> CognitoError:
        from botocore.exceptions import (
            ClientError,
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            HTTPClientError,
            InvalidRegionError,
            NoCredentialsError,
            ParamValidationError,
            ReadTimeoutError,
        )

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
        if isinstance(exc, InvalidRegionError):
            return ConfigurationError(
                f"user_pool_region must be an AWS region such as 'eu-west-1'; got {self.region!r}"
            )
        if isinstance(exc, ValueError):  # botocore's check of endpoint_url
            return ConfigurationError(
                f"endpoint_url must be an http(s) URL; got {self.endpoint_url!r}"
            )
        if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)):
            return CognitoConnectionError(
                f"{operation}: no answer from cognito-idp at {self.where} in time "
                f"({type(exc).__name__}; timeouts are set with botocore_config)"
            )
        if isinstance(exc, (EndpointConnectionError, ConnectionClosedError)):
            return CognitoConnectionError(
                f"{operation}: cannot reach cognito-idp at {self.where} ({type(exc).__name__})"
            )
        if isinstance(exc, HTTPClientError):  # e.g. a connection reset mid-response (httpx)
            return CognitoConnectionError(
                f"{operation}: the connection to cognito-idp at {self.where} failed "
                f"({type(exc).__name__})"
            )
        return CognitoError(f"{operation} failed: {type(exc).__name__}")

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("open" if self.is_open else "new")
        return f"IdpClient(region={self.region!r}, endpoint_url={self.endpoint_url!r}, {state})"
