"""The JWKS cache: the user pools' public signing keys, fetched once and kept.

See :mod:`acognito.jwks` for the behaviour; this module holds the fetching side
(:class:`JwksCache`, URI policy, timeouts, the penalty box).
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import math
import os
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from .._lifecycle import AsyncClosing
from ..errors import (
    ConfigurationError,
    JwksFetchError,
    JwksFetchPenaltyError,
    JwksNotAvailableError,
    JwksPenaltyBoxError,
    KidNotFoundInJwksError,
)
from ._keys import (
    COGNITO_JWKS_ENV,
    Jwk,
    _decode_body,
    _decode_env,
    parse_jwks,
    safe_kid,
)

if TYPE_CHECKING:
    from .._flight import SingleFlight, ThreadSingleFlight
    from .._lazy import Lazy

# anyio and the async machinery (_flight, _lazy, _threads) are imported when an async
# fetch first needs them: a blocking or COGNITO_JWKS-only process (a Lambda's cold
# start) never loads them.

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "DEFAULT_MAX_BYTES", "JwksCache", "check_jwks_uri"]

#: Largest JWKS body accepted, in bytes (Cognito's is about 1 KiB).
DEFAULT_MAX_BYTES = 1 << 20
#: Default bound on connecting to the JWKS host, in seconds (within ``timeout``).
DEFAULT_CONNECT_TIMEOUT = 3.0
#: Bodies larger than this are parsed in a worker thread rather than on the loop.
_PARSE_OFF_LOOP_BYTES = 64 * 1024


def check_jwks_uri(uri: object, *, allow_http: bool = False) -> str:
    """Accept ``uri`` as a JWKS URI or raise :class:`~acognito.errors.ConfigurationError`.

    https always; plain http only for a loopback host (``localhost``, 127.0.0.0/8,
    ``::1``), as OAuth allows, unless ``allow_http`` (an emulator on a container network).
    """
    if not isinstance(uri, str):
        raise ConfigurationError(f"jwks_uri must be a string URL, not {type(uri).__name__}")
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigurationError(f"jwks_uri {_shown(uri)!r} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        raise ConfigurationError(
            f"jwks_uri must be an https:// URL with a host, got {_shown(uri)!r}"
        )
    if scheme == "http" and not allow_http and not _is_loopback(host):
        raise ConfigurationError(
            f"jwks_uri {_shown(uri)!r} uses plain http to a host that is not loopback; "
            "use https (plain http is accepted for localhost, 127.0.0.0/8 and ::1 only)"
        )
    return uri


def _shown(uri: str) -> str:
    """A URI fit for a message: printable ASCII only, at most 200 characters."""
    cut = "".join(c if " " <= c <= "~" else "?" for c in uri[:200])
    return cut + ("..." if len(uri) > 200 else "")


def _is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _seconds(value: object, name: str, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{name} must be a number of seconds, not {type(value).__name__}")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0 or (positive and seconds == 0):
        bound = "above 0" if positive else "0 or more"
        raise ConfigurationError(f"{name} must be a finite number of seconds, {bound}")
    return seconds


def _in_event_loop() -> bool:
    """Whether this thread runs an event loop (asyncio or trio) right now."""
    import sniffio

    try:
        sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return False
    return True


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """The TLS context of blocking fetches: built once per process (~100 ms), shared by
    the short-lived clients each fetch makes (safe across threads and fork())."""
    return httpx.create_ssl_context()


class JwksCache(AsyncClosing):
    """JWKS documents by URI: fetched on demand, one request at a time per URI.

    Share one instance between the verifiers of an application (id and access token
    verifiers, several pools): each URI is then fetched once. Works under asyncio and
    trio, and from blocking code: :meth:`get_key_blocking` (what ``verify_sync`` uses)
    fetches with a blocking ``httpx.Client`` in threads that run no event loop (Flask,
    Django, a Lambda handler), into the same cache and under the same penalty box.
    Close it with :meth:`aclose` (or :meth:`close`) or use ``async with``; an httpx
    client passed as ``client`` (async) or ``sync_client`` (blocking) is used as is and
    left open (redirects are never followed, whatever the client's setting).

    ``timeout`` bounds a whole download (seconds) and ``connect_timeout`` the connect,
    ``penalty_seconds`` is how long a URI stays blocked after a refetch did not find a
    kid or failed, ``max_bytes`` caps the body, ``use_env`` honours ``COGNITO_JWKS``,
    ``allow_http`` fetches plain-http URIs from hosts that are not loopback (an emulator
    on a container network), ``clock`` (monotonic seconds) is for tests.
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None = None,
        sync_client: httpx.Client | None = None,
        timeout: float = 5.0,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        penalty_seconds: float = 10.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        use_env: bool = True,
        allow_http: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if client is not None and not isinstance(client, httpx.AsyncClient):
            raise ConfigurationError("client must be an httpx.AsyncClient")
        if sync_client is not None and not isinstance(sync_client, httpx.Client):
            raise ConfigurationError("sync_client must be an httpx.Client")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise ConfigurationError("max_bytes must be a positive int")
        self.timeout = _seconds(timeout, "timeout", positive=True)
        self.connect_timeout = min(
            _seconds(connect_timeout, "connect_timeout", positive=True), self.timeout
        )
        self.penalty_seconds = _seconds(penalty_seconds, "penalty_seconds", positive=False)
        self.max_bytes = max_bytes
        self.use_env = use_env
        self.allow_http = bool(allow_http)
        self._clock = clock
        # A caller's client is used as is; our own is built once, off the loop.
        self._shared_client = client
        self._sync_client = sync_client
        self._own_client: Lazy[httpx.AsyncClient] | None = None  # made on first async fetch
        self._sets: dict[str, dict[str, Jwk]] = {}
        self._static: set[str] = set()
        # penalty key -> (blocked until, whether a failed fetch put it there)
        self._penalty: dict[str, tuple[float, bool]] = {}
        self._flights: dict[str, SingleFlight[dict[str, Jwk]]] = {}
        self._thread_flights: dict[str, ThreadSingleFlight[dict[str, Jwk]]] = {}
        self._thread_flights_lock = threading.Lock()
        self._env_cache: tuple[str, dict[str, Jwk]] | None = None
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        """Close the httpx client this cache created; cached keys stay usable."""
        self._closed = True
        if self._own_client is not None:
            await self._own_client.aclose()

    def close(self) -> None:
        """Stop fetching, from blocking code; cached keys stay usable.

        Blocking fetches hold no client between fetches, so there is nothing else to
        release; an async client this cache made is released by :meth:`aclose`.
        """
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ keys in

    def add(self, uri: str, jwks: Mapping[str, Any], *, static: bool = False) -> None:
        """Install a JWKS document for ``uri`` as if it had been fetched.

        With ``static`` the URI is never fetched: an unknown kid is simply not found.
        Raises :class:`~acognito.errors.JwksFetchError` if ``jwks`` is not a valid JWKS.
        """
        self._install(uri, parse_jwks(dict(jwks) if isinstance(jwks, Mapping) else jwks))
        if static:
            self._static.add(uri)
        else:
            self._static.discard(uri)

    async def hydrate(self, *uris: str) -> None:
        """Fetch (or refresh) the JWKS of each URI now, e.g. at application start."""
        for uri in uris:
            if uri in self._static:
                continue
            await self._fetch(uri)

    def hydrate_sync(self, *uris: str) -> None:
        """:meth:`hydrate` from blocking code (a WSGI app's start, a Lambda's init)."""
        for uri in uris:
            if uri in self._static:
                continue
            self._fetch_blocking(uri)

    def __contains__(self, uri: object) -> bool:
        return uri in self._sets

    def kids(self, uri: str) -> list[str]:
        """The key ids cached for ``uri`` (empty when nothing is cached)."""
        return list(self._sets.get(uri, ()))

    def _install(self, uri: str, keys: dict[str, Jwk]) -> dict[str, Jwk]:
        # Keep the loaded key objects (and verified-token cache entries that point
        # at them) for keys that did not change.
        old = self._sets.get(uri)
        if old:
            for kid, jwk in keys.items():
                previous = old.get(kid)
                if previous is not None and previous.fingerprint == jwk.fingerprint:
                    keys[kid] = previous
        self._sets[uri] = keys
        return keys

    def _from_env(self) -> dict[str, Jwk] | None:
        if not self.use_env:
            return None
        raw = os.environ.get(COGNITO_JWKS_ENV, "")
        if not raw.strip():
            return None
        cached = self._env_cache
        if cached is not None and cached[0] == raw:
            return dict(cached[1])
        keys = _decode_env(raw)
        self._env_cache = (raw, keys)
        return dict(keys)

    # ------------------------------------------------------------------ keys out

    def peek(self, uri: str, kid: str) -> Jwk | None:
        """The cached key, or ``None``: no fetching, no error."""
        keys = self._sets.get(uri)
        return None if keys is None else keys.get(kid)

    def get_cached_key(self, uri: str, kid: str) -> Jwk:
        """The key for ``kid`` from what is cached (or ``COGNITO_JWKS``), never fetching.

        Raises :class:`~acognito.errors.JwksNotAvailableError` when nothing is cached
        for ``uri`` and :class:`~acognito.errors.KidNotFoundInJwksError` for a kid
        the cached JWKS does not have.
        """
        keys = self._sets.get(uri)
        if keys is None:
            env_keys = self._from_env()
            if env_keys is None:
                raise JwksNotAvailableError(
                    f"no JWKS is cached for {uri}; await verify() or hydrate() first, or pass jwks="
                )
            keys = self._install(uri, env_keys)
        jwk = keys.get(kid)
        if jwk is None:
            raise KidNotFoundInJwksError(f"no key with kid {safe_kid(kid)!r} in the JWKS")
        return jwk

    async def get_key(self, uri: str, kid: str) -> Jwk:
        """The key for ``kid``, fetching the JWKS when it is missing or lacks the kid.

        After a refetch that still lacks the kid, or that failed, the URI is blocked
        for ``penalty_seconds``: :class:`~acognito.errors.JwksPenaltyBoxError` until then
        (:class:`~acognito.errors.JwksFetchPenaltyError` when a failed fetch blocked it).
        """
        keys = self._sets.get(uri)
        if keys is not None:
            jwk = keys.get(kid)
            if jwk is not None:
                return jwk
            if uri in self._static:
                raise KidNotFoundInJwksError(f"no key with kid {safe_kid(kid)!r} in the JWKS")
        self._check_penalty(uri, kid)
        try:
            keys = await self._fetch(uri)
        except JwksFetchError:
            self._penalise_failure(uri)
            raise
        return self._found_after_fetch(uri, keys, kid)

    def get_key_blocking(self, uri: str, kid: str) -> Jwk:
        """:meth:`get_key` for blocking code: the same cache, rules and penalty box.

        In a thread that runs an event loop (asyncio or trio) nothing is fetched, so
        the loop never blocks: this is then :meth:`get_cached_key`.
        """
        keys = self._sets.get(uri)
        if keys is not None:
            jwk = keys.get(kid)
            if jwk is not None:
                return jwk
            if uri in self._static:
                raise KidNotFoundInJwksError(f"no key with kid {safe_kid(kid)!r} in the JWKS")
        if _in_event_loop():
            return self.get_cached_key(uri, kid)
        self._check_penalty(uri, kid)
        try:
            keys = self._fetch_blocking(uri)
        except JwksFetchError:
            self._penalise_failure(uri)
            raise
        return self._found_after_fetch(uri, keys, kid)

    # ------------------------------------------------------------------ penalty box

    def _penalty_key(self, uri: str) -> str:
        """What one penalty blocks: the URI (a subclass may block a whole family)."""
        return uri

    def _check_penalty(self, uri: str, kid: str) -> None:
        key = self._penalty_key(uri)
        entry = self._penalty.get(key)
        if entry is None:
            return
        until, failed = entry
        if self._clock() >= until:
            self._penalty.pop(key, None)
            return
        if failed:
            raise JwksFetchPenaltyError(
                f"no key with kid {safe_kid(kid)!r} is cached and fetching the JWKS failed "
                "moments ago; it is not fetched again until the penalty window ends"
            )
        raise JwksPenaltyBoxError(
            f"no key with kid {safe_kid(kid)!r}; the JWKS was refetched moments ago and "
            "is not fetched again until the penalty window ends"
        )

    def _penalise_failure(self, uri: str) -> None:
        # Keys are cached, so this was a refetch for an unknown kid: a failing endpoint
        # must not turn each forged kid into one more request.
        if uri in self._sets:
            self._penalty[self._penalty_key(uri)] = (self._clock() + self.penalty_seconds, True)

    def _found_after_fetch(self, uri: str, keys: dict[str, Jwk], kid: str) -> Jwk:
        jwk = keys.get(kid)
        if jwk is None:
            self._penalty[self._penalty_key(uri)] = (self._clock() + self.penalty_seconds, False)
            raise KidNotFoundInJwksError(
                f"no key with kid {safe_kid(kid)!r} in the JWKS, even after refetching it"
            )
        return jwk

    # ------------------------------------------------------------------ fetching

    def _decode(self, uri: str, body: bytes) -> dict[str, Jwk]:
        """A downloaded body to keys (a JWKS document here; a subclass may differ)."""
        return _decode_body(body)

    async def _fetch(self, uri: str) -> dict[str, Jwk]:
        """Download ``uri`` once for every concurrent caller (single flight). A cancelled
        download is abandoned and one of the waiters starts it again."""
        check_jwks_uri(uri, allow_http=self.allow_http)
        flight = self._flights.get(uri)
        if flight is None:
            from .._flight import SingleFlight

            flight = self._flights[uri] = SingleFlight()

        async def download() -> dict[str, Jwk]:
            return self._install(uri, await self._download(uri))

        return await flight.run(download)

    async def _download(self, uri: str) -> dict[str, Jwk]:
        env_keys = self._from_env()
        if env_keys is not None:
            return env_keys
        body = await self.fetch_document(uri)
        if len(body) > _PARSE_OFF_LOOP_BYTES:
            from .._threads import run_load  # anyio: loaded only when an async fetch needs it

            return await run_load(self._decode, uri, body)  # once per document: not queued
        return self._decode(uri, body)

    async def fetch_document(self, uri: str) -> bytes:
        """GET ``uri`` under this cache's policy (https or loopback http, no redirects,
        ``timeout``, ``max_bytes``): the body, or :class:`~acognito.errors.JwksFetchError`.
        Also what an OIDC verifier fetches its discovery document with."""
        check_jwks_uri(uri, allow_http=self.allow_http)
        try:
            return await self._get_body(uri)
        except JwksFetchError:
            raise
        except (TimeoutError, httpx.TimeoutException):
            raise self._timed_out(uri) from None
        except Exception as exc:
            raise JwksFetchError(f"fetching {uri} failed ({type(exc).__name__})") from exc

    def _fetch_blocking(self, uri: str) -> dict[str, Jwk]:
        """Download ``uri`` with a blocking client, once for every concurrent thread."""
        check_jwks_uri(uri, allow_http=self.allow_http)
        with self._thread_flights_lock:
            flight = self._thread_flights.get(uri)
            if flight is None:
                from .._flight import ThreadSingleFlight

                flight = self._thread_flights[uri] = ThreadSingleFlight()
        return flight.run(lambda: self._install(uri, self._download_blocking(uri)))

    def _download_blocking(self, uri: str) -> dict[str, Jwk]:
        env_keys = self._from_env()
        if env_keys is not None:
            return env_keys
        return self._decode(uri, self.fetch_document_blocking(uri))

    def fetch_document_blocking(self, uri: str) -> bytes:
        """:meth:`fetch_document` from blocking code."""
        check_jwks_uri(uri, allow_http=self.allow_http)
        if self._closed:
            raise JwksFetchError("the JWKS cache is closed")
        try:
            if self._sync_client is not None:
                return self._get_body_blocking(self._sync_client, uri)
            with httpx.Client(
                verify=_ssl_context(),
                timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
                follow_redirects=False,
                headers={"User-Agent": "acognito-jwks"},
            ) as client:
                return self._get_body_blocking(client, uri)
        except JwksFetchError:
            raise
        except httpx.TimeoutException:
            raise self._timed_out(uri) from None
        except Exception as exc:
            raise JwksFetchError(f"fetching {uri} failed ({type(exc).__name__})") from exc

    def _timed_out(self, uri: str) -> JwksFetchError:
        return JwksFetchError(f"fetching {uri} timed out (timeout={self.timeout:g} s)")

    def _check_status(self, uri: str, response: httpx.Response) -> None:
        status = response.status_code
        if 300 <= status < 400:
            raise JwksFetchError(
                f"the JWKS URI {uri} answered HTTP {status} (a redirect); "
                "JWKS fetches never follow redirects: configure the final URL"
            )
        if status != 200:
            raise JwksFetchError(f"the JWKS URI {uri} answered HTTP {status}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise JwksFetchError(f"the JWKS at {uri} is larger than {self.max_bytes} bytes")

    def _get_body_blocking(self, client: httpx.Client, uri: str) -> bytes:
        deadline = time.monotonic() + self.timeout
        with client.stream(
            "GET",
            uri,
            headers={"Accept": "application/json"},
            follow_redirects=False,
            timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
        ) as response:
            self._check_status(uri, response)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise JwksFetchError(f"the JWKS at {uri} is larger than {self.max_bytes} bytes")
                if time.monotonic() > deadline:  # a server that trickles bytes
                    raise httpx.ReadTimeout("the whole download took too long")
            return bytes(body)

    async def _get_body(self, uri: str) -> bytes:
        client = await self._get_client()
        timeout = httpx.Timeout(self.timeout, connect=self.connect_timeout)
        from anyio import fail_after

        with fail_after(self.timeout):
            async with client.stream(
                "GET",
                uri,
                headers={"Accept": "application/json"},
                follow_redirects=False,  # even through a caller's client that follows them
                timeout=timeout,
            ) as response:
                self._check_status(uri, response)
                body = bytearray()
                chunks = response.aiter_bytes()
                async for chunk in chunks:
                    body += chunk
                    if len(body) > self.max_bytes:
                        break
                else:
                    return bytes(body)
                # Too large. Close the connection, then let httpx's nested generators
                # run to their end (leaving them suspended makes trio warn).
                await response.aclose()
                with contextlib.suppress(httpx.HTTPError):
                    async for _ in chunks:
                        pass  # pragma: no cover - the closed stream yields nothing
                raise JwksFetchError(f"the JWKS at {uri} is larger than {self.max_bytes} bytes")

    async def _get_client(self) -> httpx.AsyncClient:
        if self._closed:
            raise JwksFetchError("the JWKS cache is closed")
        if self._shared_client is not None:
            return self._shared_client
        if self._own_client is None:
            from .._lazy import Lazy, in_thread

            self._own_client = Lazy(
                in_thread(self._new_client),
                dispose=httpx.AsyncClient.aclose,
                closed_error=lambda: JwksFetchError("the JWKS cache is closed"),
            )
        return await self._own_client.get()

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
            follow_redirects=False,
            headers={"User-Agent": "acognito-jwks"},
        )

    def __repr__(self) -> str:
        return f"JwksCache(uris={sorted(self._sets)!r}, closed={self._closed})"
