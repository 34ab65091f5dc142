"""Smoke test for a plain ``pip install acognito`` (no extras), run by .ci/run.

Run it in a fresh venv holding only the wheel and its declared dependencies: it imports
the package, verifies a token against an inline JWKS, refuses a tampered one with the
typed error and does the SRP math with pure Python. A missing declared import fails here.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import sys
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

POOL = "us-east-1_Smoke1234"
CLIENT = "smokeclient"
ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def mint(key: rsa.RSAPrivateKey, kid: str) -> str:
    """An RS256 access token shaped like Cognito's, built by hand (no acognito code)."""
    now = int(time.time())
    head = {"kid": kid, "alg": "RS256"}
    claims = {
        "sub": "00000000-0000-4000-8000-000000000000",
        "iss": ISSUER,
        "token_use": "access",
        "client_id": CLIENT,
        "scope": "aws.cognito.signin.user.admin",
        "username": "smoke",
        "iat": now,
        "auth_time": now,
        "exp": now + 600,
        "jti": "smoke-jti",
    }
    signing_input = (
        b64url(json.dumps(head, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def check_extras_absent() -> None:
    for extra_module in ("gmpy2", "moto", "trio", "pytest", "fido2"):
        assert importlib.util.find_spec(extra_module) is None, (
            f"{extra_module} is installed: this is not a plain install"
        )


def check_verification() -> None:
    import acognito
    from acognito import CognitoVerifier
    from acognito.errors import JwtInvalidSignatureError, TokenVerificationError

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    kid = "smoke-kid"
    jwks = {
        "keys": [
            {
                "kty": "RSA",
                "alg": "RS256",
                "use": "sig",
                "kid": kid,
                "n": int_b64(numbers.n),
                "e": int_b64(numbers.e),
            }
        ]
    }
    verifier = CognitoVerifier(POOL, client_id=CLIENT, token_use="access", jwks=jwks)  # noqa: S106
    token = mint(key, kid)
    claims = verifier.verify_sync(token)
    assert claims["username"] == "smoke", claims

    head, payload, signature = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged["username"] = "admin"
    tampered = ".".join(
        [head, b64url(json.dumps(forged, separators=(",", ":")).encode()), signature]
    )
    try:
        verifier.verify_sync(tampered)
    except JwtInvalidSignatureError:
        pass
    except TokenVerificationError as exc:  # a typed error, but not the expected one
        raise AssertionError(f"tampered token refused with {type(exc).__name__}") from None
    else:
        raise AssertionError("a tampered token was accepted")
    print(f"acognito {acognito.__version__}: verify ok, tampered token refused")


def check_integrations_without_frameworks() -> None:
    """The Lambda authorizer needs no extra; each web framework's adapter names its extra."""
    from acognito import CognitoVerifier
    from acognito.integrations.aws_lambda import ApiGatewayAuthorizer, Unauthorized

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    jwks = {"keys": [{"kty": "RSA", "kid": "k", "n": int_b64(numbers.n), "e": int_b64(numbers.e)}]}
    verifier = CognitoVerifier(POOL, client_id=CLIENT, token_use="access", jwks=jwks)  # noqa: S106
    authorizer = ApiGatewayAuthorizer(verifier)
    event = {"type": "TOKEN", "authorizationToken": f"Bearer {mint(key, 'k')}", "methodArn": "a"}
    assert authorizer.rest(event)["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    refusal = ""
    try:
        authorizer.rest({**event, "authorizationToken": "Bearer x"})
    except Unauthorized as exc:
        refusal = str(exc)
    assert refusal == "Unauthorized", refusal or "a bad token was allowed"
    for framework in ("fastapi", "starlette", "flask", "django"):
        if importlib.util.find_spec(framework) is not None:
            continue  # present for another reason: nothing to check here
        message = ""
        try:
            importlib.import_module(f"acognito.integrations.{framework}")
        except ImportError as exc:
            message = str(exc)
        assert f"acognito[{framework}]" in message, message or f"{framework} imported"
    print("integrations: the Lambda authorizer decides; web adapters name their extra")


def check_srp() -> None:
    from acognito import srp

    assert not srp.HAS_GMPY2, "gmpy2 is in use: this is not a plain install"
    assert srp._ARITH is srp._PURE_ARITH
    small_a = srp.generate_small_a()
    big_a = srp.calculate_a(small_a)
    assert big_a > 1, "SRP_A out of range"
    signature = srp.password_claim_signature(
        pool_id=POOL,
        user_id_for_srp="smoke",
        password="Passw0rd!",  # noqa: S106
        small_a=small_a,
        srp_b=format(pow(2, 1000, 2**2048 - 1) + 12345, "x"),
        salt="a1b2c3d4e5f60718",
        secret_block=base64.b64encode(b"secret-block").decode(),
        timestamp="Tue Dec 1 14:00:00 UTC 2026",
    )
    assert len(base64.b64decode(signature)) == 32, "the claim signature is an HMAC-SHA256"
    print("SRP with pure Python: ok")


def check_passkeys_without_fido2() -> None:
    """The passkeys module imports; the security key needs the fido2 extra, and says so."""
    from acognito.passkeys import Authenticator, WebAuthnCredential  # noqa: F401

    message = ""
    try:
        from acognito.passkeys import Fido2Authenticator  # noqa: F401
    except ImportError as exc:
        message = str(exc)
    assert "pip install 'acognito[fido2]'" in message, message or "imported without fido2"
    print("passkeys without fido2: the import names the extra")


def main() -> int:
    check_extras_absent()
    check_verification()
    check_srp()
    # The rest of the public surface imports too (aiobotocore, httpx, anyio, sniffio).
    import acognito.__main__  # noqa: F401
    from acognito import AsyncCognito, CognitoAuth, OAuth2Client  # noqa: F401

    check_passkeys_without_fido2()
    check_integrations_without_frameworks()
    print("plain install smoke: ok", file=sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
