"""OidcVerifier: tokens of any OpenID Connect issuer, keys found through discovery."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .._flight import SingleFlight, ThreadSingleFlight
from ..errors import (
    ConfigurationError,
    JwksFetchError,
    JwtInvalidAudienceError,
    JwtInvalidIssuerError,
    OidcDiscoveryError,
    TokenVerificationError,
)
from ..jwks import JwksCache, check_jwks_uri
from ..jwks._keys import ALGORITHMS
from ._checks import DEFAULT_CACHE_SIZE, CustomCheck, _issuer_shown, _string_set
from ._jws import _JwsVerifier, check_scope, check_times

#: Where discovery looks, under the issuer (OpenID Connect Discovery 1.0, section 4).
DISCOVERY_PATH = "/.well-known/openid-configuration"


class OidcVerifier(_JwsVerifier):
    """Verifies the JWTs of any OpenID Connect issuer: the JWKS is found through the
    issuer's discovery document (or given as ``jwks_uri`` / ``jwks``).

    ``audience`` (one or several; ``None`` skips the check explicitly) must overlap the
    token's ``aud``. ``algorithms`` is the allow-list (default: RS256/384/512,
    ES256/384/512, EdDSA); a key's own ``alg``, type and curve must fit the token's.
    The same claim checks, typed errors, JWKS cache and penalty box as
    :class:`~acognito.CognitoVerifier`: ``iss`` exact (before any key is fetched),
    ``exp``/``nbf`` with ``grace_seconds``, ``scope`` (at least one), ``custom_check``.
    """

    def __init__(
        self,
        issuer: str,
        *,
        audience: str | Sequence[str] | None,
        algorithms: str | Iterable[str] = tuple(sorted(ALGORITHMS)),
        jwks_uri: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        grace_seconds: float = 0,
        scope: str | Sequence[str] | None = None,
        custom_check: CustomCheck | None = None,
        jwks_cache: JwksCache | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise ConfigurationError("issuer must be a non-empty string URL")
        self.issuer = issuer
        self._audience = _string_set(audience, "audience")
        self._scopes = _string_set(scope, "scope")
        self._setup(
            algorithms=algorithms,
            grace_seconds=grace_seconds,
            custom_check=custom_check,
            jwks_cache=jwks_cache,
            cache_size=cache_size,
            clock=clock,
        )
        self.discovery_url = issuer.rstrip("/") + DISCOVERY_PATH
        if jwks_uri is None and jwks is not None:
            jwks_uri = issuer.rstrip("/") + "/.well-known/jwks.json"  # a name for the keys
        self.jwks_uri: str | None = (
            check_jwks_uri(jwks_uri, allow_http=self._jwks.allow_http)
            if jwks_uri is not None
            else None
        )
        if self.jwks_uri is None:
            check_jwks_uri(self.discovery_url, allow_http=self._jwks.allow_http)
        if jwks is not None:
            assert self.jwks_uri is not None
            try:
                self._jwks.add(self.jwks_uri, jwks, static=True)
            except TokenVerificationError as exc:
                raise ConfigurationError(f"jwks= is not a valid JWKS: {exc}") from None
        self._discovery: SingleFlight[str] = SingleFlight()
        self._discovery_threads: ThreadSingleFlight[str] = ThreadSingleFlight()
        self._discovery_failed_until = 0.0

    # ------------------------------------------------------------------ discovery

    def _discovered(self, body: bytes) -> str:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise OidcDiscoveryError("the discovery document is not JSON") from None
        if not isinstance(document, dict):
            raise OidcDiscoveryError("the discovery document is not a JSON object")
        if document.get("issuer") != self.issuer:
            # OIDC Discovery 4.3: the document must name exactly the issuer asked for.
            raise OidcDiscoveryError(
                f"the discovery document's issuer {_issuer_shown(document.get('issuer'))} "
                f"is not {self.issuer!r}"
            )
        uri = document.get("jwks_uri")
        if not isinstance(uri, str):
            raise OidcDiscoveryError("the discovery document has no jwks_uri")
        try:
            return check_jwks_uri(uri, allow_http=self._jwks.allow_http)
        except ConfigurationError as exc:
            raise OidcDiscoveryError(f"the discovery document's jwks_uri: {exc}") from None

    def _discovery_blocked(self) -> None:
        if self._jwks._clock() < self._discovery_failed_until:
            raise OidcDiscoveryError(
                "discovery failed moments ago; it is not retried until the penalty window ends"
            )

    def _discovery_failed(self) -> None:
        self._discovery_failed_until = self._jwks._clock() + self._jwks.penalty_seconds

    async def _key_uri(self, kid: str) -> str:
        if self.jwks_uri is not None:
            return self.jwks_uri
        self._discovery_blocked()

        async def discover() -> str:
            if self.jwks_uri is not None:
                return self.jwks_uri
            try:
                self.jwks_uri = self._discovered(
                    await self._jwks.fetch_document(self.discovery_url)
                )
            except JwksFetchError as exc:
                self._discovery_failed()
                if isinstance(exc, OidcDiscoveryError):
                    raise
                raise OidcDiscoveryError(f"OpenID Connect discovery failed: {exc}") from None
            return self.jwks_uri

        return await self._discovery.run(discover)

    def _key_uri_sync(self, kid: str) -> str:
        if self.jwks_uri is not None:
            return self.jwks_uri
        from ..errors import JwksNotAvailableError
        from ..jwks._cache import _in_event_loop

        if _in_event_loop():
            raise JwksNotAvailableError("discovery has not run; await verify() or hydrate() first")
        self._discovery_blocked()

        def discover() -> str:
            if self.jwks_uri is not None:
                return self.jwks_uri
            try:
                body = self._jwks.fetch_document_blocking(self.discovery_url)
                self.jwks_uri = self._discovered(body)
            except JwksFetchError as exc:
                self._discovery_failed()
                if isinstance(exc, OidcDiscoveryError):
                    raise
                raise OidcDiscoveryError(f"OpenID Connect discovery failed: {exc}") from None
            return self.jwks_uri

        return self._discovery_threads.run(discover)

    async def hydrate(self) -> None:
        """Run discovery and fetch the JWKS now."""
        uri = await self._key_uri("")
        await self._jwks.hydrate(uri)

    def hydrate_sync(self) -> None:
        """:meth:`hydrate` from blocking code."""
        self._jwks.hydrate_sync(self._key_uri_sync(""))

    # ------------------------------------------------------------------ claims

    def _check_before_key(self, header: dict[str, Any], payload: dict[str, Any]) -> None:
        iss = payload.get("iss")
        if iss != self.issuer:
            raise JwtInvalidIssuerError(
                f"the token's iss {_issuer_shown(iss)} is not the issuer {self.issuer!r}",
                claim="iss",
            )

    def _check_claims(self, header: dict[str, Any], payload: dict[str, Any], now: float) -> float:
        expires_at = check_times(payload, now, self.grace_seconds)
        audience = self._audience
        if audience is not None:
            aud = payload.get("aud")
            if not (aud in audience if type(aud) is str else aud and not audience.isdisjoint(aud)):
                raise JwtInvalidAudienceError(
                    "the token's aud is not an accepted audience", claim="aud"
                )
        check_scope(payload, self._scopes)
        return expires_at

    def __repr__(self) -> str:
        audience = sorted(self._audience) if self._audience is not None else None
        return (
            f"OidcVerifier(issuer={self.issuer!r}, audience={audience!r}, "
            f"algorithms={sorted(self.algorithms)!r})"
        )
