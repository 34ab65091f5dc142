"""OidcVerifier against an issuer serving ES256, ES384, ES512, EdDSA and RS* keys through
discovery; AlbVerifier against ALB-format tokens (ES256, padded base64, the signer ARN in
the header) signed by a test ALB key server (PEM by kid). Tokens are signed by joserfc,
independently of the verifiers' code; both run on asyncio and trio, and from blocking
code."""

from __future__ import annotations

import base64
import json
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc import jws
from joserfc.jwk import ECKey, OKPKey, RSAKey

from acognito.errors import (
    AlbJwtInvalidSignerError,
    ConfigurationError,
    JwkInvalidKtyError,
    JwksFetchError,
    JwksFetchPenaltyError,
    JwtExpiredError,
    JwtInvalidAudienceError,
    JwtInvalidClientIdError,
    JwtInvalidIssuerError,
    JwtInvalidScopeError,
    JwtInvalidSignatureAlgorithmError,
    JwtInvalidSignatureError,
    JwtParseError,
    JwtWithoutValidKidError,
    OidcDiscoveryError,
    TokenVerificationError,
)
from acognito.integrations.core import classify
from acognito.testing import TokenIssuer
from acognito.verify import AlbVerifier, OidcVerifier, alb_key_url
from jwks_server import JwksTestServer

pytestmark = pytest.mark.anyio

AUD = "my-api"


def sign(key: Any, alg: str, claims: dict[str, Any], **header: Any) -> str:
    with warnings.catch_warnings():  # joserfc warns that "EdDSA" is deprecated (RFC 9864)
        warnings.simplefilter("ignore")
        return jws.serialize_compact(
            {"alg": alg, "kid": key.kid, **header},
            json.dumps(claims).encode(),
            key,
            algorithms=[alg],
        )


class Idp:
    """An OIDC issuer on loopback: discovery at the issuer, a JWKS of several key types."""

    def __init__(self) -> None:
        self.keys = {
            "ES256": ECKey.generate_key("P-256", {"kid": "es256"}, private=True),
            "ES384": ECKey.generate_key("P-384", {"kid": "es384"}, private=True),
            "ES512": ECKey.generate_key("P-521", {"kid": "es512"}, private=True),
            "EdDSA": OKPKey.generate_key("Ed25519", {"kid": "ed25519"}, private=True),
            "RS384": RSAKey.generate_key(2048, {"kid": "rs384"}, private=True),
        }
        self.server = JwksTestServer({"keys": []})
        self.issuer = self.server.base_url
        self.server.only_documents = True
        self.publish()

    def publish(self, discovery: dict[str, Any] | None = None) -> None:
        jwks = {"keys": [key.as_dict(private=False) for key in self.keys.values()]}
        doc = discovery or {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/keys"}
        self.server.documents = {
            "/.well-known/openid-configuration": ("application/json", json.dumps(doc).encode()),
            "/keys": ("application/json", json.dumps(jwks).encode()),
        }

    def token(self, alg: str = "ES256", **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": AUD, "sub": "u-1", "iat": now, "exp": now + 600}
        body.update(claims)
        return sign(self.keys[alg], alg, body)


@pytest.fixture
def idp() -> Iterator[Idp]:
    provider = Idp()
    provider.server.start()
    yield provider
    provider.server.stop()


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "EdDSA", "RS384"])
async def test_oidc_verifies_each_key_type_found_through_discovery(idp: Idp, alg: str) -> None:
    async with OidcVerifier(idp.issuer, audience=AUD) as verifier:
        claims = await verifier.verify(idp.token(alg))
        assert claims["sub"] == "u-1"
        assert (await verifier.verify(idp.token(alg, sub="u-2")))["sub"] == "u-2"
    assert idp.server.paths == ["/.well-known/openid-configuration", "/keys"]


async def test_oidc_rejections_are_typed(idp: Idp) -> None:
    async with OidcVerifier(idp.issuer, audience=AUD, algorithms=["ES256", "EdDSA"]) as v:
        await v.verify(idp.token("ES256"))
        rejections = {
            "expired": (idp.token(exp=int(time.time()) - 10), JwtExpiredError),
            "audience": (idp.token(aud="other"), JwtInvalidAudienceError),
            "issuer": (idp.token(iss="https://evil.example"), JwtInvalidIssuerError),
            "alg not allowed": (idp.token("ES384"), JwtInvalidSignatureAlgorithmError),
            "tampered": (idp.token()[:-6] + "AAAAAA", JwtInvalidSignatureError),
        }
        for name, (token, expected) in rejections.items():
            with pytest.raises(TokenVerificationError) as info:
                await v.verify(token)
            assert type(info.value) is expected, name
        # An EdDSA header over an EC key's kid: the key does not fit the algorithm.
        swapped = sign(idp.keys["EdDSA"], "EdDSA", {"iss": idp.issuer}, kid="es256")
        with pytest.raises(JwkInvalidKtyError):
            await v.verify(swapped)
        # "none" and HS256 never pass, whatever the allow-list says.
        head = base64.urlsafe_b64encode(b'{"alg":"none","kid":"es256"}').rstrip(b"=").decode()
        with pytest.raises(JwtInvalidSignatureAlgorithmError):
            await v.verify(f"{head}.e30.")
    with pytest.raises(ConfigurationError):
        OidcVerifier(idp.issuer, audience=AUD, algorithms=["HS256"])
    scoped = OidcVerifier(idp.issuer, audience=None, scope=["api/read"])
    with pytest.raises(JwtInvalidScopeError):
        await scoped.verify(idp.token(scope="openid"))
    assert (await scoped.verify(idp.token(scope="openid api/read")))["scope"]
    await scoped.aclose()


async def test_discovery_must_name_the_issuer_and_failures_are_outages(idp: Idp) -> None:
    idp.publish({"issuer": "https://elsewhere.example", "jwks_uri": f"{idp.issuer}/keys"})
    async with OidcVerifier(idp.issuer, audience=AUD) as v:
        with pytest.raises(OidcDiscoveryError, match="issuer"):
            await v.verify(idp.token())
        assert classify(OidcDiscoveryError("x")) == "unavailable"
    idp.server.status = 503
    async with OidcVerifier(idp.issuer, audience=AUD) as v:
        with pytest.raises(OidcDiscoveryError):
            await v.verify(idp.token())
        requests = idp.server.requests
        with pytest.raises(OidcDiscoveryError, match="penalty"):
            await v.verify(idp.token())
        assert idp.server.requests == requests  # not asked again during the penalty


def test_oidc_from_blocking_code(idp: Idp) -> None:
    verifier = OidcVerifier(idp.issuer, audience=AUD)
    for alg in ("ES256", "EdDSA", "ES512"):
        assert verifier.verify_sync(idp.token(alg))["aud"] == AUD
    assert idp.server.requests == 2  # discovery + JWKS, once


async def test_oidc_in_an_event_loop_verify_sync_does_no_io(idp: Idp) -> None:
    verifier = OidcVerifier(idp.issuer, audience=AUD)
    from acognito.errors import JwksNotAvailableError

    with pytest.raises(JwksNotAvailableError):
        verifier.verify_sync(idp.token())
    assert idp.server.requests == 0
    await verifier.hydrate()
    assert verifier.verify_sync(idp.token())["sub"] == "u-1"
    await verifier.aclose()


async def test_oidc_with_a_given_jwks_never_fetches(idp: Idp) -> None:
    jwks = {"keys": [idp.keys["EdDSA"].as_dict(private=False)]}
    verifier = OidcVerifier(idp.issuer, audience=AUD, jwks=jwks)
    assert (await verifier.verify(idp.token("EdDSA")))["sub"] == "u-1"
    assert verifier.verify_sync(idp.token("EdDSA", sub="x"))["sub"] == "x"
    assert idp.server.requests == 0


# --------------------------------------------------------------------------- ALB

ALB_ARN = (
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
)
POOL = "eu-west-1_AlbPool1"
ISSUER = f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL}"
CLIENT = "alb-client"


class AlbKeys:
    """The region's ALB key endpoint on loopback: ``/{kid}`` answers a PEM public key."""

    def __init__(self) -> None:
        self.server = JwksTestServer({"keys": []})
        self.server.only_documents = True
        self.keys: dict[str, ECKey] = {}
        self.add_key()

    def add_key(self) -> str:
        kid = str(uuid.uuid4())
        key = ECKey.generate_key("P-256", {"kid": kid}, private=True)
        self.keys[kid] = key
        public = key.private_key.public_key() if key.private_key else key.public_key
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.server.documents[f"/{kid}"] = ("application/octet-stream", pem)
        return kid

    @property
    def kid(self) -> str:
        return next(iter(self.keys))

    def token(
        self,
        *,
        kid: str | None = None,
        kid_header: str | None = None,
        signer: str = ALB_ARN,
        client: str = CLIENT,
        **claims: Any,
    ) -> str:
        kid = kid or self.kid
        now = int(time.time())
        body = {"sub": "u-alb", "email": "a@example.com", "username": "u-alb", "iss": ISSUER}
        body["exp"] = now + 120
        body.update(claims)
        header = {
            "typ": "JWT",
            "kid": kid_header or kid,
            "alg": "ES256",
            "iss": ISSUER,
            "client": client,
            "signer": signer,
            "exp": now + 120,
        }

        def segment(value: dict[str, Any]) -> str:
            # What an ALB sends: base64url *with* padding.
            return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()

        signing_input = f"{segment(header)}.{segment(body)}".encode()
        raw = self.keys[kid].private_key
        assert isinstance(raw, ec.EllipticCurvePrivateKey)
        r, s = decode_dss_signature(raw.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        sig = base64.urlsafe_b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
        return f"{signing_input.decode()}.{sig}"


@pytest.fixture
def alb() -> Iterator[AlbKeys]:
    keys = AlbKeys()
    keys.server.start()
    yield keys
    keys.server.stop()


def alb_verifier(alb: AlbKeys, **options: Any) -> AlbVerifier:
    options.setdefault("client_id", CLIENT)
    return AlbVerifier(ALB_ARN, issuer=ISSUER, key_url=alb.server.base_url, **options)


async def test_alb_tokens_verify_with_the_key_fetched_by_kid(alb: AlbKeys) -> None:
    token = alb.token(username="padding")  # the claim sizes make every segment padded
    assert all(part.endswith("=") for part in token.split(".")[:2]) or "=" in token
    async with alb_verifier(alb) as verifier:
        claims = await verifier.verify(token)
        assert claims["email"] == "a@example.com"
        assert (await verifier.verify(alb.token(sub="other")))["sub"] == "other"
        kid2 = alb.add_key()  # the ALB rotates: the new kid is fetched once
        assert (await verifier.verify(alb.token(kid=kid2)))["sub"] == "u-alb"
    assert alb.server.paths == [f"/{alb.kid}", f"/{kid2}"]


def test_alb_from_blocking_code(alb: AlbKeys) -> None:
    verifier = alb_verifier(alb)
    assert verifier.verify_sync(alb.token())["username"] == "u-alb"
    assert verifier.verify_sync(alb.token(sub="b"))["sub"] == "b"
    assert alb.server.requests == 1


async def test_alb_rejections(alb: AlbKeys) -> None:
    other_arn = ALB_ARN.replace("web", "other")
    async with alb_verifier(alb) as verifier:
        with pytest.raises(AlbJwtInvalidSignerError):
            await verifier.verify(alb.token(signer=other_arn))
        assert alb.server.requests == 0  # another signer never causes a fetch
        with pytest.raises(JwtInvalidClientIdError):
            await verifier.verify(alb.token(client="someone-else"))
        with pytest.raises(JwtExpiredError):
            await verifier.verify(alb.token(exp=int(time.time()) - 5))
        with pytest.raises(JwtInvalidIssuerError):
            await verifier.verify(alb.token(iss="https://evil.example"))
        with pytest.raises(JwtWithoutValidKidError):  # never put in a URL
            await verifier.verify(alb.token(kid_header="../../etc/passwd"))
        tampered = alb.token()
        with pytest.raises(JwtInvalidSignatureError):
            await verifier.verify(tampered[:-8] + "AAAAAAA=")
        with pytest.raises(JwtParseError):
            await verifier.verify(alb.token().replace("=", "===", 1))
        # A Cognito RS256 token is not an ALB token.
        with pytest.raises(JwtInvalidSignatureAlgorithmError):
            await verifier.verify(TokenIssuer(POOL).access_token(client_id=CLIENT))


async def test_an_unknown_alb_kid_is_fetched_once_then_penalised(alb: AlbKeys) -> None:
    async with alb_verifier(alb) as verifier:
        await verifier.verify(alb.token())
        ghost = str(uuid.uuid4())
        alb.keys[ghost] = ECKey.generate_key("P-256", {"kid": ghost}, private=True)  # unpublished
        with pytest.raises(JwksFetchError):
            await verifier.verify(alb.token(kid=ghost))
        with pytest.raises(JwksFetchPenaltyError):
            await verifier.verify(alb.token(kid=ghost))
        with pytest.raises(JwksFetchPenaltyError):  # the whole key URL waits, not one kid
            await verifier.verify(alb.token(kid=alb.add_key()))
        assert (await verifier.verify(alb.token()))["sub"] == "u-alb"  # cached keys work
    assert alb.server.requests == 2


async def test_alb_access_token_and_both_headers(alb: AlbKeys) -> None:
    cognito = TokenIssuer(POOL)
    from acognito import CognitoVerifier

    access_verifier = CognitoVerifier(
        POOL, client_id=CLIENT, token_use="access", jwks=cognito.jwks()
    )
    verifier = alb_verifier(alb, access_token_verifier=access_verifier)
    access = cognito.access_token(client_id=CLIENT, sub="u-alb")
    headers = {"X-Amzn-Oidc-Data": alb.token(), "X-Amzn-Oidc-Accesstoken": access}
    assert (await verifier.verify_headers(headers))["sub"] == "u-alb"
    assert verifier.verify_headers_sync(headers)["sub"] == "u-alb"
    assert (await verifier.verify_access_token(access))["client_id"] == CLIENT
    mixed = {**headers, "x-amzn-oidc-accesstoken": cognito.access_token(client_id=CLIENT)}
    with pytest.raises(TokenVerificationError, match="two different users"):
        await verifier.verify_headers(mixed)
    with pytest.raises(JwtParseError):
        await verifier.verify_headers({"x-amzn-oidc-data": alb.token()})
    with pytest.raises(TokenVerificationError):  # an id token is not the access token
        await verifier.verify_access_token(cognito.id_token(client_id=CLIENT))
    await verifier.aclose()


def test_alb_configuration() -> None:
    assert alb_key_url("eu-west-1") == "https://public-keys.auth.elb.eu-west-1.amazonaws.com"
    assert "s3-us-gov-west-1" in alb_key_url("us-gov-west-1")
    verifier = AlbVerifier(ALB_ARN, client_id=CLIENT, user_pool_id=POOL)
    assert verifier.key_url == alb_key_url("eu-west-1")
    assert verifier.issuer == ISSUER
    for bad in ("not-an-arn", [ALB_ARN, ALB_ARN.replace("eu-west-1", "us-east-1")]):
        with pytest.raises(ConfigurationError):
            AlbVerifier(bad, client_id=CLIENT)
    with pytest.raises(ConfigurationError):
        AlbVerifier(ALB_ARN, client_id=CLIENT, key_url="http://keys.example.com")
    with pytest.raises(ConfigurationError, match="user_pool_id"):
        anyio.run(AlbVerifier(ALB_ARN, client_id=CLIENT).verify_access_token, "x")
