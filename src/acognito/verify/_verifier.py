"""CognitoVerifier (one pool) and MultiPoolVerifier (several, routed by ``iss``)."""

from __future__ import annotations

import hmac
import inspect
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature

from .._ids import check_region, parse_pool_id
from .._lifecycle import AsyncClosing
from ..errors import (
    ConfigurationError,
    JwtAtHashMismatchError,
    JwtCustomCheckError,
    JwtExpiredError,
    JwtInvalidAudienceError,
    JwtInvalidClaimError,
    JwtInvalidClientIdError,
    JwtInvalidGroupError,
    JwtInvalidIssuerError,
    JwtInvalidScopeError,
    JwtInvalidSignatureError,
    JwtInvalidTokenUseError,
    JwtNotBeforeError,
    TokenVerificationError,
)
from ..jwks import Jwk, JwksCache, check_jwks_uri
from ._checks import (
    _ACCESS,
    _HEADER_KIDS,
    _HEADER_KIDS_MAX,
    _ID,
    _PKCS1,
    _SHA256,
    DEFAULT_CACHE_SIZE,
    MAX_POOL_ID_LENGTH,
    CustomCheck,
    TokenUse,
    _isfinite,
    _issuer_shown,
    _Parsed,
    _string_set,
    _VerifiedCache,
    _verify,
    _verify_sync,
    at_hash,
)


class _VerifiedTokens(AsyncClosing):
    """What both verifiers say about their verified-token cache."""

    _verified: _VerifiedCache[Any] | None

    def clear_cache(self) -> None:
        """Forget every verified token (the JWKS cache is left alone)."""
        if self._verified is not None:
            self._verified.clear()

    @property
    def cached_tokens(self) -> int:
        """How many verified tokens the verified-token cache holds now."""
        return len(self._verified) if self._verified is not None else 0


class CognitoVerifier(_VerifiedTokens):
    """Verifies the id or access tokens of one Cognito user pool.

    ``client_id`` (one id or several) and ``token_use`` (``"id"`` or ``"access"``)
    must be given; ``None`` skips that check explicitly. ``issuer`` defaults to
    ``https://cognito-idp.{region}.amazonaws.com/{user_pool_id}`` and ``jwks_uri`` to
    ``{issuer}/.well-known/jwks.json``; set either for an emulator. ``jwks`` pins
    the keys (nothing is fetched). ``jwks_cache`` shares one
    :class:`~acognito.jwks.JwksCache` between verifiers. ``groups``/``scope``: at
    least one must be in the token. ``grace_seconds`` tolerates clock skew on
    ``exp``/``nbf``. ``cache_size=0`` disables the verified-token cache. ``clock``
    (epoch seconds) is for tests. ``jwks_url`` is the deprecated spelling of ``jwks_uri``
    (one release, with a ``DeprecationWarning``).
    """

    def __init__(
        self,
        user_pool_id: str,
        *,
        client_id: str | Sequence[str] | None,
        token_use: TokenUse | None,
        jwks: Mapping[str, Any] | None = None,
        jwks_uri: str | None = None,
        issuer: str | None = None,
        grace_seconds: float = 0,
        groups: str | Sequence[str] | None = None,
        scope: str | Sequence[str] | None = None,
        custom_check: CustomCheck | None = None,
        jwks_cache: JwksCache | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        clock: Callable[[], float] | None = None,
        jwks_url: str | None = None,
    ) -> None:
        if jwks_url is not None:
            # The spelling AsyncCognito used to take: accepted for one release.
            warnings.warn(
                "jwks_url is deprecated and will be removed in the next release: use jwks_uri",
                DeprecationWarning,
                stacklevel=2,
            )
            if jwks_uri is not None and jwks_uri != jwks_url:
                raise ConfigurationError("jwks_uri and its deprecated spelling jwks_url disagree")
            jwks_uri = jwks_url
        if isinstance(user_pool_id, str) and len(user_pool_id) > MAX_POOL_ID_LENGTH:
            raise ConfigurationError(f"user_pool_id has more than {MAX_POOL_ID_LENGTH} characters")
        self.region, self.user_pool_id = parse_pool_id(user_pool_id)
        if issuer is None:
            try:
                check_region(self.region)
            except ConfigurationError:
                raise ConfigurationError(
                    f"user_pool_id {user_pool_id!r} does not start with an AWS region; "
                    "pass issuer= explicitly"
                ) from None
            issuer = f"https://cognito-idp.{self.region}.amazonaws.com/{user_pool_id}"
        if not isinstance(issuer, str) or not issuer:
            raise ConfigurationError("issuer must be a non-empty string")
        self.issuer = issuer
        if jwks_uri is None:
            jwks_uri = issuer.rstrip("/") + "/.well-known/jwks.json"
        if token_use not in ("id", "access", None):
            raise ConfigurationError("token_use must be 'id', 'access' or None")
        self.token_use: TokenUse | None = token_use
        self._client_ids = _string_set(client_id, "client_id")
        self._groups = _string_set(groups, "groups")
        self._scopes = _string_set(scope, "scope")
        if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, (int, float)):
            raise ConfigurationError("grace_seconds must be a number")
        if not grace_seconds >= 0 or not _isfinite(grace_seconds):
            raise ConfigurationError("grace_seconds must be zero or more")
        self.grace_seconds = float(grace_seconds)
        if custom_check is not None and not callable(custom_check):
            raise ConfigurationError("custom_check must be callable")
        self._custom_check = custom_check
        self._custom_is_async = custom_check is not None and (
            inspect.iscoroutinefunction(custom_check)
            or inspect.iscoroutinefunction(getattr(custom_check, "__call__", None))  # noqa: B004
        )
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ConfigurationError("cache_size must be an int >= 0")
        self._verified = _VerifiedCache(cache_size) if cache_size else None
        self._clock: Callable[[], float] = clock if clock is not None else time.time
        self._owns_cache = jwks_cache is None
        self._jwks = jwks_cache if jwks_cache is not None else JwksCache()
        # Refused here, at construction, not at the first verify.
        self.jwks_uri = check_jwks_uri(jwks_uri, allow_http=self._jwks.allow_http)
        if jwks is not None:
            try:
                self._jwks.add(jwks_uri, jwks, static=True)
            except TokenVerificationError as exc:
                raise ConfigurationError(f"jwks= is not a valid JWKS: {exc}") from None

    # ------------------------------------------------------------------ construction

    @classmethod
    def for_pools(
        cls,
        pools: Iterable[Mapping[str, Any] | CognitoVerifier],
        *,
        jwks_cache: JwksCache | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        clock: Callable[[], float] | None = None,
    ) -> MultiPoolVerifier:
        """A verifier for several pools, each token routed by its (unverified) ``iss``.

        Each item is a mapping of this constructor's arguments (``user_pool_id``,
        ``client_id``, ``token_use``, ...) or a ready :class:`CognitoVerifier`.
        """
        return MultiPoolVerifier(pools, jwks_cache=jwks_cache, cache_size=cache_size, clock=clock)

    @property
    def jwks_cache(self) -> JwksCache:
        """The JWKS cache this verifier reads keys from (possibly shared)."""
        return self._jwks

    @property
    def client_ids(self) -> frozenset[str] | None:
        return self._client_ids

    # ------------------------------------------------------------------ lifecycle

    async def hydrate(self) -> None:
        """Fetch the pool's JWKS now, so the first ``verify_sync`` can succeed."""
        await self._jwks.hydrate(self.jwks_uri)

    def hydrate_sync(self) -> None:
        """:meth:`hydrate` from blocking code (a WSGI app's start, a Lambda's init)."""
        self._jwks.hydrate_sync(self.jwks_uri)

    async def aclose(self) -> None:
        """Close the JWKS cache if this verifier created it (a shared one stays open)."""
        if self._owns_cache:
            await self._jwks.aclose()

    # ------------------------------------------------------------------ verification

    def verify_sync(self, token: str, *, access_token: str | None = None) -> dict[str, Any]:
        """Verify ``token`` from blocking code and return its claims.

        In a thread that runs no event loop (Flask, Django, a Lambda handler), a missing
        JWKS or an unknown kid is fetched with a blocking request, into the same cache
        and under the same penalty box as :meth:`verify`. In a thread that runs an event
        loop it never does I/O: without a cached JWKS it raises
        :class:`~acognito.errors.JwksNotAvailableError`. With ``access_token``, an id
        token's ``at_hash`` (when it has one) must match it. ``custom_check`` must be
        synchronous here.
        """
        if self._custom_is_async:
            raise ConfigurationError(
                "an async custom_check needs await verify(), not verify_sync()"
            )
        return _verify_sync(self._verified, self._clock(), token, access_token, self._own)

    async def verify(self, token: str, *, access_token: str | None = None) -> dict[str, Any]:
        """Verify ``token`` and return its claims, fetching the JWKS if needed.

        The RSA check (~30 us) runs on the event loop: cheaper than a thread hop.
        With ``access_token``, an id token's ``at_hash`` must match it.
        """
        return await _verify(self._verified, self._clock(), token, access_token, self._own)

    # ------------------------------------------------------------------ internals

    def _own(self, payload: dict[str, Any]) -> CognitoVerifier:
        """The route of a single-pool verifier: itself, once the issuer is right."""
        self._check_issuer(payload)
        return self

    def _check_issuer(self, payload: dict[str, Any]) -> None:
        # Checked before the key is looked up: a token of another pool never makes
        # us fetch (or penalise) this pool's JWKS. The signature covers it later.
        iss = payload.get("iss")
        if iss != self.issuer:
            raise JwtInvalidIssuerError(
                f"the token's iss {_issuer_shown(iss)} is not this user pool's issuer "
                f"{self.issuer!r}",
                claim="iss",
            )

    def _verify_parsed(
        self, parsed: _Parsed, jwk: Jwk, access_token: str | None
    ) -> tuple[dict[str, Any], float]:
        """Key, signature and claim checks; returns the claims and when they expire."""
        head, kid, payload, signing_input, signature = parsed
        try:
            # public_key() raises the key's typed problem (use, kty, alg, size).
            jwk.public_key().verify(signature, signing_input, _PKCS1, _SHA256)
        except InvalidSignature:
            raise JwtInvalidSignatureError("the token's signature does not verify") from None
        if head not in _HEADER_KIDS:
            if len(_HEADER_KIDS) >= _HEADER_KIDS_MAX:
                _HEADER_KIDS.clear()
            _HEADER_KIDS[head] = kid

        get = payload.get
        now = self._clock()
        grace = self.grace_seconds
        exp = get("exp")
        if exp is None:
            raise JwtInvalidClaimError("the token has no exp claim", claim="exp")
        expires_at = exp + grace
        if now >= expires_at:
            raise JwtExpiredError("the token has expired", claim="exp")
        nbf = get("nbf")
        if nbf is not None and nbf - grace > now:
            raise JwtNotBeforeError("the token is not valid yet (nbf)", claim="nbf")
        token_use = get("token_use")
        if token_use != _ID and token_use != _ACCESS:
            raise JwtInvalidTokenUseError(
                "the token's token_use is neither 'id' nor 'access'", claim="token_use"
            )
        if self.token_use is not None and token_use != self.token_use:
            raise JwtInvalidTokenUseError(f"expected an {self.token_use} token", claim="token_use")
        client_ids = self._client_ids
        if client_ids is not None:
            if token_use == _ID:
                aud = get("aud")
                if not (
                    aud in client_ids
                    if type(aud) is str
                    else aud and not client_ids.isdisjoint(aud)
                ):
                    raise JwtInvalidAudienceError(
                        "the id token's aud is not an accepted client id", claim="aud"
                    )
            elif get("client_id") not in client_ids:
                raise JwtInvalidClientIdError(
                    "the access token's client_id is not an accepted client id", claim="client_id"
                )
        groups = self._groups
        if groups is not None:
            have = get("cognito:groups")
            if not have or groups.isdisjoint(have):
                raise JwtInvalidGroupError(
                    "the token is in none of the required groups", claim="cognito:groups"
                )
        scopes = self._scopes
        if scopes is not None:
            have_scope = get("scope")
            if not have_scope or scopes.isdisjoint(have_scope.split(" ")):
                raise JwtInvalidScopeError(
                    "the token has none of the required scopes", claim="scope"
                )
        if access_token is not None:
            expected = get("at_hash")
            if expected is not None and not (
                expected.isascii()
                and access_token.isascii()
                and hmac.compare_digest(expected, at_hash(access_token))
            ):
                raise JwtAtHashMismatchError(
                    "the id token's at_hash does not match the access token", claim="at_hash"
                )
        return payload, expires_at

    def _run_check_sync(self, claims: dict[str, Any]) -> None:
        check = self._custom_check
        assert check is not None
        try:
            result = check(claims)
        except TokenVerificationError:
            raise
        except Exception as exc:
            raise JwtCustomCheckError(
                f"the custom check rejected the token ({type(exc).__name__})"
            ) from exc
        if inspect.isawaitable(result):
            close = getattr(result, "close", None)
            if close is not None:
                close()
            raise ConfigurationError("custom_check returned an awaitable: use await verify()")
        if result is False:
            raise JwtCustomCheckError("the custom check returned False")

    async def _run_check(self, claims: dict[str, Any]) -> None:
        check = self._custom_check
        assert check is not None
        try:
            result = check(claims)
            if inspect.isawaitable(result):
                result = await result
        except TokenVerificationError:
            raise
        except Exception as exc:
            raise JwtCustomCheckError(
                f"the custom check rejected the token ({type(exc).__name__})"
            ) from exc
        if result is False:
            raise JwtCustomCheckError("the custom check returned False")

    def __repr__(self) -> str:
        clients = sorted(self._client_ids) if self._client_ids is not None else None
        return (
            f"CognitoVerifier(user_pool_id={self.user_pool_id!r}, client_id={clients!r}, "
            f"token_use={self.token_use!r}, issuer={self.issuer!r})"
        )


class MultiPoolVerifier(_VerifiedTokens):
    """Verifies tokens of several user pools, picking the pool by the token's ``iss``.

    Build it with :meth:`CognitoVerifier.for_pools`. An ``iss`` that is none of the
    pools' issuers is rejected with :class:`~acognito.errors.JwtInvalidIssuerError`
    before any key is looked up. The pools share one JWKS cache unless a ready
    verifier with its own was given.
    """

    def __init__(
        self,
        pools: Iterable[Mapping[str, Any] | CognitoVerifier],
        *,
        jwks_cache: JwksCache | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ConfigurationError("cache_size must be an int >= 0")
        self._owns_cache = jwks_cache is None
        self._jwks = jwks_cache if jwks_cache is not None else JwksCache()
        self._clock: Callable[[], float] = clock if clock is not None else time.time
        self._routes: dict[str, CognitoVerifier] = {}
        if isinstance(pools, (str, bytes, Mapping)) or not isinstance(pools, Iterable):
            raise ConfigurationError(
                "for_pools() takes a list of pool configurations (mappings) or verifiers, "
                f"not {type(pools).__name__}"
            )
        for pool in pools:
            if isinstance(pool, CognitoVerifier):
                verifier = pool
            elif isinstance(pool, Mapping):
                options: dict[str, Any] = {"jwks_cache": self._jwks, "clock": self._clock}
                options.update(pool)
                options["cache_size"] = 0  # this verifier caches for all pools
                try:
                    verifier = CognitoVerifier(**options)
                except TypeError as exc:
                    raise ConfigurationError(f"bad pool configuration: {exc}") from None
            else:
                raise ConfigurationError("each pool must be a mapping or a CognitoVerifier")
            if verifier.issuer in self._routes:
                raise ConfigurationError(f"the issuer {verifier.issuer} is configured twice")
            self._routes[verifier.issuer] = verifier
        if not self._routes:
            raise ConfigurationError("for_pools() needs at least one pool")
        self._verified = _VerifiedCache(cache_size) if cache_size else None

    @property
    def verifiers(self) -> dict[str, CognitoVerifier]:
        """The pool verifiers by issuer."""
        return dict(self._routes)

    @property
    def jwks_cache(self) -> JwksCache:
        return self._jwks

    def _route(self, payload: dict[str, Any]) -> CognitoVerifier:
        iss = payload.get("iss")
        verifier = self._routes.get(iss) if type(iss) is str else None
        if verifier is None:
            known = ", ".join(repr(issuer) for issuer in list(self._routes)[:3])
            more = ", ..." if len(self._routes) > 3 else ""
            raise JwtInvalidIssuerError(
                f"the token's iss {_issuer_shown(iss)} is none of the configured pools' "
                f"issuers ({known}{more})",
                claim="iss",
            )
        return verifier

    def verify_sync(self, token: str, *, access_token: str | None = None) -> dict[str, Any]:
        """Verify a token of any configured pool from blocking code (fetching as
        :meth:`CognitoVerifier.verify_sync` does: never in a thread that runs a loop)."""
        return _verify_sync(self._verified, self._clock(), token, access_token, self._route)

    async def verify(self, token: str, *, access_token: str | None = None) -> dict[str, Any]:
        """Verify a token of any configured pool, fetching that pool's JWKS if needed."""
        return await _verify(self._verified, self._clock(), token, access_token, self._route)

    async def hydrate(self) -> None:
        """Fetch every pool's JWKS now."""
        for verifier in self._routes.values():
            await verifier.hydrate()

    def hydrate_sync(self) -> None:
        """Fetch every pool's JWKS now, from blocking code."""
        for verifier in self._routes.values():
            verifier.hydrate_sync()

    async def aclose(self) -> None:
        """Close the JWKS cache this verifier created (given ones stay open)."""
        if self._owns_cache:
            await self._jwks.aclose()

    def __repr__(self) -> str:
        return f"MultiPoolVerifier(issuers={sorted(self._routes)!r})"
