"""The JWKS cache: the user pools' public signing keys, fetched once and kept.

:class:`JwksCache` downloads a JWKS document with httpx (one request in flight per
URI however many verifications wait for it), validates it strictly, and hands out
:class:`Jwk` objects whose RSA public keys are loaded once. An unknown ``kid`` causes
one refetch (keys rotate); if the kid is still unknown the URI is put in a penalty
box for a few seconds, so a flood of forged kids cannot make us hammer Cognito.

Keys can also come from a dict (:meth:`JwksCache.add`) or, as in pycognito, from the
``COGNITO_JWKS`` environment variable, in which case nothing is fetched.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import anyio.to_thread
import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers

from ._flight import SingleFlight
from ._lifecycle import AsyncClosing
from ._threads import run_cpu
from .errors import (
    JwkError,
    JwkInvalidKtyError,
    JwkInvalidUseError,
    JwksFetchError,
    JwksNotAvailableError,
    JwksPenaltyBoxError,
    JwtInvalidSignatureAlgorithmError,
    KidNotFoundInJwksError,
    TokenVerificationError,
)
from .tokens import b64url_decode

__all__ = ["COGNITO_JWKS_ENV", "Jwk", "JwksCache", "parse_jwks"]

#: The environment variable pycognito reads a JWKS from instead of fetching it.
COGNITO_JWKS_ENV = "COGNITO_JWKS"

#: Largest JWKS body accepted, in bytes (Cognito's is about 1 KiB).
DEFAULT_MAX_BYTES = 1 << 20
#: Most keys accepted in one JWKS document (Cognito publishes two).
MAX_KEYS = 100
#: Smallest RSA modulus accepted, in bits.
MIN_RSA_BITS = 2048
#: Bodies larger than this are parsed in a worker thread rather than on the loop.
_PARSE_OFF_LOOP_BYTES = 64 * 1024


def safe_kid(kid: object) -> str:
    """A key id fit for a message: printable ASCII only, at most 64 characters.

    A token's ``kid`` is attacker-controlled header data; never echo it raw.
    """
    text = kid if isinstance(kid, str) else repr(kid)
    cut = "".join(c if " " <= c <= "~" else "?" for c in text[:64])
    return cut + ("..." if len(text) > 64 else "")


class Jwk:
    """One public key of a JWKS, with its RSA key object loaded on first use.

    ``problem`` says why the key cannot verify RS256 tokens (wrong ``kty``, ``use``,
    ``alg``, too short), or is ``None``; the verifier raises it as a typed error.
    """

    __slots__ = ("_problem", "_public_key", "alg", "e", "fingerprint", "kid", "kty", "n", "use")

    def __init__(
        self,
        *,
        kid: str,
        kty: str,
        use: str | None = None,
        alg: str | None = None,
        n: int | None = None,
        e: int | None = None,
        problem: TokenVerificationError | None = None,
        fingerprint: str = "",
    ) -> None:
        self.kid = kid
        self.kty = kty
        self.use = use
        self.alg = alg
        self.n = n
        self.e = e
        self.fingerprint = fingerprint
        self._problem = problem
        self._public_key: RSAPublicKey | None = None

    @property
    def problem(self) -> TokenVerificationError | None:
        """Why this key cannot verify an RS256 token, or ``None`` when it can."""
        return self._problem

    def public_key(self) -> RSAPublicKey:
        """The RSA public key, built once; raises the key's typed problem if unusable."""
        key = self._public_key
        if key is not None:
            return key
        if self._problem is not None:
            raise type(self._problem)(str(self._problem))
        assert self.n is not None
        assert self.e is not None
        try:
            key = RSAPublicNumbers(self.e, self.n).public_key()
        except ValueError:
            self._problem = JwkError(f"the key {safe_kid(self.kid)!r} is not a valid RSA key")
            raise type(self._problem)(str(self._problem)) from None
        self._public_key = key
        return key

    def __repr__(self) -> str:
        bits = self.n.bit_length() if self.n is not None else 0
        return f"Jwk(kid={safe_kid(self.kid)!r}, kty={self.kty!r}, use={self.use!r}, bits={bits})"


def _b64_int(value: object, name: str, kid: str) -> int:
    if not isinstance(value, str) or not value:
        raise JwksFetchError(f"JWK {safe_kid(kid)!r}: {name} must be a base64url string")
    try:
        raw = b64url_decode(value)
    except (ValueError, UnicodeEncodeError):
        raise JwksFetchError(f"JWK {safe_kid(kid)!r}: {name} is not base64url") from None
    return int.from_bytes(raw, "big")


def _parse_jwk(entry: object) -> Jwk:
    if not isinstance(entry, dict):
        raise JwksFetchError("every JWKS key must be a JSON object")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        raise JwksFetchError("every JWKS key needs a string kid")
    kty = entry.get("kty")
    if not isinstance(kty, str) or not kty:
        raise JwksFetchError(f"JWK {safe_kid(kid)!r}: kty must be a string")
    use = entry.get("use")
    alg = entry.get("alg")
    ops = entry.get("key_ops")
    if use is not None and not isinstance(use, str):
        raise JwksFetchError(f"JWK {safe_kid(kid)!r}: use must be a string")
    if alg is not None and not isinstance(alg, str):
        raise JwksFetchError(f"JWK {safe_kid(kid)!r}: alg must be a string")
    if ops is not None and (
        not isinstance(ops, list) or not all(isinstance(op, str) for op in ops)
    ):
        raise JwksFetchError(f"JWK {safe_kid(kid)!r}: key_ops must be a list of strings")
    try:
        fingerprint = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        raise JwksFetchError(f"JWK {safe_kid(kid)!r} is not plain JSON") from None

    label = safe_kid(kid)
    problem: TokenVerificationError | None = None
    n = e = None
    if kty == "RSA":
        n = _b64_int(entry.get("n"), "n", kid)
        e = _b64_int(entry.get("e"), "e", kid)
        if n.bit_length() < MIN_RSA_BITS:
            problem = JwkError(f"the key {label!r} is shorter than {MIN_RSA_BITS} bits")
    else:
        problem = JwkInvalidKtyError(f"the key {label!r} has kty {kty[:16]!r}, not 'RSA'")
    if problem is None and use is not None and use != "sig":
        problem = JwkInvalidUseError(f"the key {label!r} is not meant for signatures (use)")
    if problem is None and ops is not None and "verify" not in ops:
        problem = JwkInvalidUseError(f"the key {label!r} is not meant for verifying (key_ops)")
    if problem is None and alg is not None and alg != "RS256":
        problem = JwtInvalidSignatureAlgorithmError(f"the key {label!r} is not an RS256 key")
    return Jwk(
        kid=kid, kty=kty, use=use, alg=alg, n=n, e=e, problem=problem, fingerprint=fingerprint
    )


def parse_jwks(document: object) -> dict[str, Jwk]:
    """Validate a JWKS document (``{"keys": [...]}``) and index its keys by ``kid``.

    Raises :class:`~acognito.errors.JwksFetchError` on anything that is not a JWKS:
    a missing or non-list ``keys``, a key without ``kid``/``kty``, an RSA key without
    base64url ``n``/``e``, duplicate kids, more than 100 keys.
    """
    if not isinstance(document, dict):
        raise JwksFetchError("the JWKS is not a JSON object")
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise JwksFetchError("the JWKS has no keys list")
    if len(keys) > MAX_KEYS:
        raise JwksFetchError(f"the JWKS has more than {MAX_KEYS} keys")
    out: dict[str, Jwk] = {}
    for entry in keys:
        jwk = _parse_jwk(entry)
        if jwk.kid in out:
            raise JwksFetchError(f"the JWKS has two keys with kid {safe_kid(jwk.kid)!r}")
        out[jwk.kid] = jwk
    return out


def _decode_body(body: bytes) -> dict[str, Jwk]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise JwksFetchError("the JWKS URI did not answer JSON") from None
    return parse_jwks(document)


def _decode_env(raw: str) -> dict[str, Jwk]:
    """COGNITO_JWKS as pycognito reads it: JSON, or a Python dict literal."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        try:
            document = ast.literal_eval(raw)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise JwksFetchError(f"{COGNITO_JWKS_ENV} is not a JSON JWKS document") from None
    try:
        return parse_jwks(document)
    except JwksFetchError as exc:
        raise JwksFetchError(f"{COGNITO_JWKS_ENV}: {exc}") from None


class JwksCache(AsyncClosing):
    """JWKS documents by URI: fetched on demand, one request at a time per URI.

    Share one instance between the verifiers of an application (id and access token
    verifiers, several pools): each URI is then fetched once. Works under asyncio and
    trio. Close it with :meth:`aclose` or use ``async with``; an httpx client passed
    as ``client`` is used as is and left open.

    ``timeout`` bounds a whole download (seconds), ``penalty_seconds`` is how long a
    URI stays blocked after a refetch did not find a kid, ``max_bytes`` caps the body,
    ``use_env`` honours ``COGNITO_JWKS``, ``clock`` (monotonic seconds) is for tests.
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        penalty_seconds: float = 10.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        use_env: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._owns_client = client is None
        self._client_pending: anyio.Event | None = None
        self.timeout = float(timeout)
        self.penalty_seconds = float(penalty_seconds)
        self.max_bytes = int(max_bytes)
        self.use_env = use_env
        self._clock = clock
        self._sets: dict[str, dict[str, Jwk]] = {}
        self._static: set[str] = set()
        self._penalty: dict[str, float] = {}
        self._flights: dict[str, SingleFlight[dict[str, Jwk]]] = {}
        self._env_cache: tuple[str, dict[str, Jwk]] | None = None
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        """Close the httpx client this cache created; cached keys stay usable."""
        self._closed = True
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            await client.aclose()

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

        After a refetch that still lacks the kid, the URI is blocked for
        ``penalty_seconds``: :class:`~acognito.errors.JwksPenaltyBoxError` until then.
        """
        keys = self._sets.get(uri)
        if keys is not None:
            jwk = keys.get(kid)
            if jwk is not None:
                return jwk
            if uri in self._static:
                raise KidNotFoundInJwksError(f"no key with kid {safe_kid(kid)!r} in the JWKS")
        until = self._penalty.get(uri)
        if until is not None:
            if self._clock() < until:
                raise JwksPenaltyBoxError(
                    f"no key with kid {safe_kid(kid)!r}; the JWKS was refetched moments ago "
                    "and is not fetched again until the penalty window ends"
                )
            self._penalty.pop(uri, None)
        keys = await self._fetch(uri)
        jwk = keys.get(kid)
        if jwk is None:
            self._penalty[uri] = self._clock() + self.penalty_seconds
            raise KidNotFoundInJwksError(
                f"no key with kid {safe_kid(kid)!r} in the JWKS, even after refetching it"
            )
        return jwk

    # ------------------------------------------------------------------ fetching

    async def _fetch(self, uri: str) -> dict[str, Jwk]:
        """Download ``uri`` once for every concurrent caller (single flight). A cancelled
        download is abandoned and one of the waiters starts it again."""
        flight = self._flights.get(uri)
        if flight is None:
            flight = self._flights[uri] = SingleFlight()

        async def download() -> dict[str, Jwk]:
            return self._install(uri, await self._download(uri))

        return await flight.run(download)

    async def _download(self, uri: str) -> dict[str, Jwk]:
        env_keys = self._from_env()
        if env_keys is not None:
            return env_keys
        try:
            body = await self._get_body(uri)
        except JwksFetchError:
            raise
        except TimeoutError:
            raise JwksFetchError(f"fetching the JWKS from {uri} timed out") from None
        except Exception as exc:
            raise JwksFetchError(
                f"fetching the JWKS from {uri} failed ({type(exc).__name__})"
            ) from exc
        if len(body) > _PARSE_OFF_LOOP_BYTES:
            return await run_cpu(_decode_body, body)
        return _decode_body(body)

    async def _get_body(self, uri: str) -> bytes:
        client = await self._get_client()
        with anyio.fail_after(self.timeout):
            async with client.stream(
                "GET", uri, headers={"Accept": "application/json"}
            ) as response:
                if response.status_code != 200:
                    raise JwksFetchError(f"the JWKS URI {uri} answered HTTP {response.status_code}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise JwksFetchError(f"the JWKS at {uri} is larger than {self.max_bytes} bytes")
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
        while self._client is None:
            if self._closed:
                raise JwksFetchError("the JWKS cache is closed")
            pending = self._client_pending
            if pending is not None:
                await pending.wait()
                continue
            pending = self._client_pending = anyio.Event()
            try:
                # Building an AsyncClient loads the SSL context: blocking, ~100 ms.
                client = await anyio.to_thread.run_sync(self._new_client)
                if self._closed:
                    await client.aclose()
                else:
                    self._client = client
            finally:
                self._client_pending = None
                pending.set()
        return self._client

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            headers={"User-Agent": "acognito-jwks"},
        )

    def __repr__(self) -> str:
        return f"JwksCache(uris={sorted(self._sets)!r}, closed={self._closed})"
