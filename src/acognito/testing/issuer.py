"""Mint real RS256 tokens shaped like Cognito's, with a throw-away key, for tests."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .._ids import parse_pool_id

__all__ = ["TokenIssuer"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class TokenIssuer:
    """A signing key and the JWKS that publishes it, issuing Cognito-shaped JWTs.

    ``issuer`` is the ``iss`` claim; by default the AWS form
    ``https://cognito-idp.{region}.amazonaws.com/{user_pool_id}``.
    """

    def __init__(
        self,
        user_pool_id: str = "us-east-1_TestPool1",
        *,
        region: str | None = None,
        issuer: str | None = None,
        kid: str | None = None,
        key_size: int = 2048,
    ) -> None:
        self.user_pool_id = user_pool_id
        self.region = region or parse_pool_id(user_pool_id)[0]
        self.issuer = issuer or (f"https://cognito-idp.{self.region}.amazonaws.com/{user_pool_id}")
        self.kid = kid or uuid.uuid4().hex
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        self._jose: Any = None

    def _jose_key(self) -> Any:
        """The signing key as a joserfc ``RSAKey`` (imported once)."""
        if self._jose is None:
            from cryptography.hazmat.primitives import serialization
            from joserfc.jwk import RSAKey

            pem = self._key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            self._jose = RSAKey.import_key(pem, {"kid": self.kid})
        return self._jose

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        return self._key

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK (``kty`` RSA, ``use`` sig, ``alg`` RS256)."""
        numbers = self._key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": _int_b64(numbers.n),
            "e": _int_b64(numbers.e),
        }

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [self.jwk()]}

    def sign(self, claims: Mapping[str, Any], *, header: Mapping[str, Any] | None = None) -> str:
        """Sign ``claims`` as they are (no defaults added) with RS256.

        A well-formed token (the default header, a key of 2048 bits or more) is signed by
        joserfc, a JOSE library independent of the verifier's own code path. A
        caller-chosen ``header`` or a short key is signed by hand: negative tests need
        tokens (a wrong ``alg``, a missing ``kid``, a 1024-bit key, ...) that a conforming
        JOSE library rightly refuses to produce.
        """
        payload = json.dumps(dict(claims), separators=(",", ":")).encode()
        if header is None and self._key.key_size >= 2048:
            from joserfc import jws

            return jws.serialize_compact(
                {"kid": self.kid, "alg": "RS256"}, payload, self._jose_key(), algorithms=["RS256"]
            )
        head = {"kid": self.kid, "alg": "RS256"} if header is None else dict(header)
        signing_input = (
            _b64url(json.dumps(head, separators=(",", ":")).encode()) + "." + _b64url(payload)
        )
        signature = self._key.sign(
            signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
        )
        return signing_input + "." + _b64url(signature)

    def _base(self, token_use: str, sub: str, lifetime: int, now: int | None) -> dict[str, Any]:
        iat = int(time.time()) if now is None else now
        return {
            "sub": sub,
            "iss": self.issuer,
            "token_use": token_use,
            "iat": iat,
            "auth_time": iat,
            "exp": iat + lifetime,
            "jti": str(uuid.uuid4()),
            "origin_jti": str(uuid.uuid4()),
        }

    def access_token(
        self,
        *,
        client_id: str,
        username: str = "user",
        sub: str | None = None,
        scope: str = "aws.cognito.signin.user.admin",
        groups: list[str] | None = None,
        lifetime: int = 3600,
        now: int | None = None,
        **extra: Any,
    ) -> str:
        """An access token as Cognito issues it (``client_id``, ``scope``, ``username``)."""
        claims = self._base(
            "access", sub or str(uuid.uuid5(uuid.NAMESPACE_URL, username)), lifetime, now
        )
        claims.update(client_id=client_id, scope=scope, username=username)
        if groups:
            claims["cognito:groups"] = list(groups)
        claims.update(extra)
        return self.sign(claims)

    def id_token(
        self,
        *,
        client_id: str,
        username: str = "user",
        sub: str | None = None,
        groups: list[str] | None = None,
        lifetime: int = 3600,
        now: int | None = None,
        **extra: Any,
    ) -> str:
        """An id token as Cognito issues it (``aud``, ``cognito:username``, attributes)."""
        claims = self._base(
            "id", sub or str(uuid.uuid5(uuid.NAMESPACE_URL, username)), lifetime, now
        )
        claims.update({"aud": client_id, "cognito:username": username})
        if groups:
            claims["cognito:groups"] = list(groups)
        claims.update(extra)
        return self.sign(claims)

    def __repr__(self) -> str:
        return f"TokenIssuer(issuer={self.issuer!r}, kid={self.kid!r})"
