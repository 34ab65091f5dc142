"""AlbVerifier: the ``x-amzn-oidc-data`` header an Application Load Balancer adds after
its Cognito (or OIDC) authentication action, and its ``x-amzn-oidc-accesstoken``."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ..errors import (
    AlbJwtInvalidSignerError,
    ConfigurationError,
    JwksFetchError,
    JwtInvalidClaimError,
    JwtInvalidClientIdError,
    JwtInvalidIssuerError,
    JwtWithoutValidKidError,
)
from ..jwks import Jwk, JwksCache, check_jwks_uri
from ._checks import DEFAULT_CACHE_SIZE, CustomCheck, _issuer_shown, _string_set
from ._jws import _JwsVerifier, check_times
from ._verifier import CognitoVerifier

#: The header an ALB puts the signed user claims in.
DATA_HEADER = "x-amzn-oidc-data"
#: The header an ALB puts the identity provider's access token in.
ACCESS_TOKEN_HEADER = "x-amzn-oidc-accesstoken"  # noqa: S105 - a header name

_ARN = re.compile(r"^arn:aws[a-z-]*:elasticloadbalancing:([a-z]{2}(?:-[a-z]+)+-\d):\d{12}:.+$")
# ALB key ids are UUIDs; anything else never reaches a URL.
_KID = re.compile(r"^[A-Za-z0-9-]{1,128}$")


def alb_key_url(region: str) -> str:
    """Where an ALB of ``region`` publishes its signing keys (PEM, one URL per kid)."""
    if region.startswith("us-gov-"):
        return f"https://s3-{region}.amazonaws.com/aws-elb-public-keys-prod-{region}"
    return f"https://public-keys.auth.elb.{region}.amazonaws.com"


class AlbKeyCache(JwksCache):
    """A :class:`~acognito.jwks.JwksCache` for ALB keys: ``{key_url}/{kid}`` answers one
    PEM public key (EC P-256). One penalty box covers every kid of a key URL, so forged
    kids cannot make us fetch once each. ``COGNITO_JWKS`` does not apply."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("use_env", False)
        super().__init__(**options)

    def _penalty_key(self, uri: str) -> str:
        return uri.rsplit("/", 1)[0]

    def _penalise_failure(self, uri: str) -> None:
        # Every kid is its own URL, so a failed fetch (an outage, or a 404 for a forged
        # kid) blocks the whole key URL a while: one request, not one per token.
        self._penalty[self._penalty_key(uri)] = (self._clock() + self.penalty_seconds, True)

    def _decode(self, uri: str, body: bytes) -> dict[str, Jwk]:
        kid = uri.rsplit("/", 1)[1]
        try:
            key = load_pem_public_key(body)
        except (ValueError, TypeError):
            raise JwksFetchError(f"the ALB key URL {uri} did not answer a PEM public key") from None
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise JwksFetchError(f"the ALB key at {uri} is not an EC P-256 key")
        return {kid: Jwk(kid=kid, kty="EC", crv="P-256", alg="ES256", use="sig", public_key=key)}


class AlbVerifier(_JwsVerifier):
    """Verifies the ``x-amzn-oidc-data`` token of an ALB with an authentication action.

    ``alb_arn``: the load balancer ARN(s) whose signature is accepted (the header's
    ``signer``); ``client_id``: the app client(s) of the action (the header's ``client``;
    ``None`` skips the check explicitly); ``issuer``: the identity provider's issuer (for
    Cognito ``https://cognito-idp.{region}.amazonaws.com/{pool}``, derived from
    ``user_pool_id``). ES256 only, segments in ALB's padded base64. The key is fetched by
    ``kid`` from ``key_url`` (default: the region's ALB key endpoint) and cached.

    With ``user_pool_id``, :meth:`verify_access_token` checks ``x-amzn-oidc-accesstoken``
    as a Cognito access token of that pool and client, and :meth:`verify_headers` checks
    both headers and that they name the same user.
    """

    _padded = True

    def __init__(
        self,
        alb_arn: str | Sequence[str],
        *,
        client_id: str | Sequence[str] | None,
        issuer: str | None = None,
        user_pool_id: str | None = None,
        key_url: str | None = None,
        grace_seconds: float = 0,
        custom_check: CustomCheck | None = None,
        key_cache: AlbKeyCache | None = None,
        access_token_verifier: CognitoVerifier | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        clock: Callable[[], float] | None = None,
    ) -> None:
        arns = _string_set(alb_arn, "alb_arn")
        assert arns is not None
        regions = set()
        for arn in arns:
            match = _ARN.match(arn)
            if match is None:
                raise ConfigurationError(f"{arn[:120]!r} is not a load balancer ARN")
            regions.add(match.group(1))
        if len(regions) != 1:
            raise ConfigurationError("the ALB ARNs are in several regions")
        self.region = regions.pop()
        self._arns = arns
        self._client_ids = _string_set(client_id, "client_id")
        if key_cache is not None and not isinstance(key_cache, AlbKeyCache):
            raise ConfigurationError("key_cache must be an AlbKeyCache")
        self._setup(
            algorithms="ES256",
            grace_seconds=grace_seconds,
            custom_check=custom_check,
            jwks_cache=key_cache,
            cache_size=cache_size,
            clock=clock,
        )
        self.key_url = check_jwks_uri(
            (key_url or alb_key_url(self.region)).rstrip("/"), allow_http=self._jwks.allow_http
        )
        self.access_verifier = access_token_verifier
        if user_pool_id is not None:
            if self.access_verifier is None:
                self.access_verifier = CognitoVerifier(
                    user_pool_id,
                    client_id=client_id,
                    token_use="access",  # noqa: S106
                    clock=clock,
                )
            if issuer is None:
                issuer = self.access_verifier.issuer
        if issuer is not None and (not isinstance(issuer, str) or not issuer):
            raise ConfigurationError("issuer must be a non-empty string")
        self.issuer = issuer

    def _new_cache(self) -> JwksCache:
        return AlbKeyCache()

    async def _key_uri(self, kid: str) -> str:
        return self._key_uri_sync(kid)

    def _key_uri_sync(self, kid: str) -> str:
        if not _KID.match(kid):
            raise JwtWithoutValidKidError("the token header's kid is not an ALB key id")
        return f"{self.key_url}/{quote(kid, safe='')}"

    def _check_before_key(self, header: dict[str, Any], payload: dict[str, Any]) -> None:
        signer = header.get("signer")
        if type(signer) is not str or signer not in self._arns:
            raise AlbJwtInvalidSignerError(
                "the token's signer is not an accepted load balancer", claim="signer"
            )
        if self.issuer is not None:
            for where in (payload, header):
                iss = where.get("iss")
                if iss is not None and iss != self.issuer:
                    raise JwtInvalidIssuerError(
                        f"the token's iss {_issuer_shown(iss)} is not {self.issuer!r}",
                        claim="iss",
                    )
            if payload.get("iss") is None and header.get("iss") is None:
                raise JwtInvalidIssuerError("the token has no iss", claim="iss")

    def _check_claims(self, header: dict[str, Any], payload: dict[str, Any], now: float) -> float:
        if self._client_ids is not None:
            client = header.get("client")
            if type(client) is not str or client not in self._client_ids:
                raise JwtInvalidClientIdError(
                    "the token's client is not an accepted app client", claim="client"
                )
        if "exp" not in payload and "exp" in header:
            exp = header.get("exp")
            if type(exp) not in (int, float):
                raise JwtInvalidClaimError("the token header's exp is not a number", claim="exp")
            payload = {**payload, "exp": exp}
        return check_times(payload, now, self.grace_seconds)

    # ------------------------------------------------------------------ the access token

    def _access(self) -> CognitoVerifier:
        if self.access_verifier is None:
            raise ConfigurationError(
                "verifying x-amzn-oidc-accesstoken needs user_pool_id= (or access_token_verifier=)"
            )
        return self.access_verifier

    async def verify_access_token(self, token: str) -> dict[str, Any]:
        """Verify ``x-amzn-oidc-accesstoken`` as a Cognito access token."""
        return await self._access().verify(token)

    def verify_access_token_sync(self, token: str) -> dict[str, Any]:
        """:meth:`verify_access_token` from blocking code."""
        return self._access().verify_sync(token)

    async def verify_headers(self, headers: Mapping[str, str]) -> dict[str, Any]:
        """Verify a request's ALB headers (both, when an access verifier is set) and
        return the user claims; both tokens must name the same ``sub``."""
        data, access = _pick(headers, self.access_verifier is not None)
        claims = await self.verify(data)
        if access is not None:
            _same_user(claims, await self.verify_access_token(access))
        return claims

    def verify_headers_sync(self, headers: Mapping[str, str]) -> dict[str, Any]:
        """:meth:`verify_headers` from blocking code."""
        data, access = _pick(headers, self.access_verifier is not None)
        claims = self.verify_sync(data)
        if access is not None:
            _same_user(claims, self.verify_access_token_sync(access))
        return claims

    async def aclose(self) -> None:
        """Close the key cache's HTTP client, and the access-token verifier's."""
        await super().aclose()
        if self.access_verifier is not None:
            await self.access_verifier.aclose()

    def __repr__(self) -> str:
        clients = sorted(self._client_ids) if self._client_ids is not None else None
        return f"AlbVerifier(alb_arn={sorted(self._arns)!r}, client_id={clients!r})"


def _pick(headers: Mapping[str, str], want_access: bool) -> tuple[str, str | None]:
    found: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in (DATA_HEADER, ACCESS_TOKEN_HEADER) and isinstance(value, str):
            found[lowered] = value
    from ..errors import JwtParseError

    data = found.get(DATA_HEADER)
    if data is None:
        raise JwtParseError(f"the request has no {DATA_HEADER} header")
    access = found.get(ACCESS_TOKEN_HEADER)
    if want_access and access is None:
        raise JwtParseError(f"the request has no {ACCESS_TOKEN_HEADER} header")
    return data, access if want_access else None


def _same_user(data: dict[str, Any], access: dict[str, Any]) -> None:
    if data.get("sub") != access.get("sub"):
        raise JwtInvalidClaimError("the ALB headers are for two different users", claim="sub")
