"""The shipped local Cognito itself (moto + acognito.testing's extensions), over real HTTP.

Async tests go through acognito's aiobotocore room (IdpClient) on asyncio and trio;
the rest use a plain botocore client. SRP answers are computed with pycognito's
math (an independent client), never with acognito's own SRP code.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import re
import secrets
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio.to_thread
import botocore.session
import pytest
from aiobotocore.config import AioConfig
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pycognito.aws_srp import AWSSRP, generate_hash_device, hex_to_long

from acognito._idp import IdpClient
from acognito.errors import (
    CodeMismatchError,
    NotAuthorizedError,
    ResourceNotFoundError,
    UserNotConfirmedError,
    UserNotFoundError,
)
from acognito.testing import totp
from local_server import (
    FORGOT_PASSWORD,
    SIGN_UP,
    SMS_MFA,
    LocalServer,
    verify_purpose,
)

REGION = "us-east-1"
PASSWORD = "Passw0rd!"
CLIENT_CONFIG = Config(retries={"total_max_attempts": 1})


# ---------------------------------------------------------------- fixtures and helpers


class FakeClock:
    """A clock the test moves by hand, with the server's (its test API) moving along."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.offset = 0.0

    @property
    def now(self) -> float:
        return datetime.datetime.now(datetime.timezone.utc).timestamp() + self.offset

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        self.server.local.api.advance_clock(seconds)


def _boto(endpoint_url: str) -> Any:
    return botocore.session.get_session().create_client(
        "cognito-idp",
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=CLIENT_CONFIG,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv
        assert srv.internal_errors == []


@pytest.fixture(scope="module")
def boto(server: LocalServer) -> Iterator[Any]:
    client = _boto(server.endpoint_url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def clocked() -> Iterator[tuple[LocalServer, Any]]:
    with LocalServer() as srv:
        client = _boto(srv.endpoint_url)
        yield srv, client
        client.close()
        assert srv.internal_errors == []


@pytest.fixture(scope="module")
def clock(clocked: tuple[LocalServer, Any]) -> FakeClock:
    return FakeClock(clocked[0])


@pytest.fixture
async def idp(server: LocalServer, anyio_backend: str) -> AsyncIterator[IdpClient]:
    client = IdpClient(
        region=REGION,
        endpoint_url=server.endpoint_url,
        access_key="test",
        secret_key="test",
        botocore_config=AioConfig(retries={"total_max_attempts": 1}),
    )
    yield client
    await client.close()


@pytest.fixture(scope="module")
def plain(server: LocalServer) -> tuple[str, str]:
    """A pool with user names and a public app client."""
    pool_id = server.create_pool()
    client_id, _ = server.create_client(pool_id)
    return pool_id, client_id


@pytest.fixture(scope="module")
def email_pool(server: LocalServer) -> tuple[str, str, str]:
    """A pool where users sign in by e-mail, with a confidential app client."""
    pool_id = server.create_pool(username_attributes=["email"])
    client_id, secret = server.create_client(pool_id, secret=True)
    assert secret is not None
    return pool_id, client_id, secret


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def message_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Message"])


def shash(username: str, client_id: str, secret: str) -> str:
    return str(AWSSRP.get_secret_hash(username, client_id, secret))


def cognito_timestamp(moment: datetime.datetime | None = None) -> str:
    now = moment or datetime.datetime.now(datetime.timezone.utc)
    return f"{now:%a %b} {now.day} {now:%H:%M:%S} UTC {now.year}"


def srp_client(
    username: str,
    password: str,
    pool_id: str,
    client_id: str,
    secret: str | None = None,
    **device: str,
) -> AWSSRP:
    # ``client`` only keeps pycognito from building a boto3 client: its math is all we use.
    srp = AWSSRP(
        username=username,
        password=password,
        pool_id=pool_id,
        client_id=client_id,
        client_secret=secret,
        client=object(),
        **device,
    )
    # A 256-bit ephemeral secret instead of pycognito's 1024-bit one: the same
    # equations, a quarter of the modular exponentiation (the suite stays quick).
    srp.small_a_value = secrets.randbits(256) | (1 << 255)
    srp.large_a_value = srp.calculate_a()
    return srp


def srp_start(srp: AWSSRP) -> dict[str, str]:
    params = {"USERNAME": srp.username, "SRP_A": format(srp.large_a_value, "x")}
    if srp.client_secret:
        params["SECRET_HASH"] = shash(srp.username, srp.client_id, srp.client_secret)
    if srp.device_key:
        params["DEVICE_KEY"] = srp.device_key
    return params


def srp_answer(
    srp: AWSSRP,
    challenge: dict[str, str],
    *,
    timestamp: str | None = None,
    username: str | None = None,
) -> dict[str, str]:
    """PASSWORD_VERIFIER responses from pycognito's key derivation and our own HMAC."""
    user_id = challenge["USER_ID_FOR_SRP"]
    key = srp.get_password_authentication_key(
        user_id, srp.password, hex_to_long(challenge["SRP_B"]), challenge["SALT"]
    )
    stamp = timestamp or cognito_timestamp()
    message = (
        srp.pool_id.split("_")[1].encode()
        + user_id.encode()
        + base64.b64decode(challenge["SECRET_BLOCK"])
        + stamp.encode()
    )
    answer = {
        "TIMESTAMP": stamp,
        "USERNAME": username or challenge["USERNAME"],
        "PASSWORD_CLAIM_SECRET_BLOCK": challenge["SECRET_BLOCK"],
        "PASSWORD_CLAIM_SIGNATURE": base64.b64encode(
            hmac.new(key, message, hashlib.sha256).digest()
        ).decode(),
    }
    if srp.client_secret:
        answer["SECRET_HASH"] = shash(answer["USERNAME"], srp.client_id, srp.client_secret)
    if srp.device_key:
        answer["DEVICE_KEY"] = srp.device_key
    return answer


def device_answer(srp: AWSSRP, challenge: dict[str, str]) -> dict[str, str]:
    """DEVICE_PASSWORD_VERIFIER responses, from the device secret pycognito generated."""
    key = srp.get_device_authentication_key(
        srp.device_group_key,
        srp.device_key,
        srp.device_password,
        hex_to_long(challenge["SRP_B"]),
        challenge["SALT"],
    )
    stamp = cognito_timestamp()
    message = (
        srp.device_group_key.encode()
        + srp.device_key.encode()
        + base64.b64decode(challenge["SECRET_BLOCK"])
        + stamp.encode()
    )
    answer = {
        "TIMESTAMP": stamp,
        "USERNAME": challenge["USERNAME"],
        "DEVICE_KEY": srp.device_key,
        "PASSWORD_CLAIM_SECRET_BLOCK": challenge["SECRET_BLOCK"],
        "PASSWORD_CLAIM_SIGNATURE": base64.b64encode(
            hmac.new(key, message, hashlib.sha256).digest()
        ).decode(),
    }
    if srp.client_secret:
        answer["SECRET_HASH"] = shash(answer["USERNAME"], srp.client_id, srp.client_secret)
    return answer


def b64url_json(part: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def claims(token: str) -> dict[str, Any]:
    return b64url_json(token.split(".")[1])


def password_login(
    boto: Any, client_id: str, username: str, password: str = PASSWORD, **extra: str
) -> Any:
    return boto.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password, **extra},
    )


# ---------------------------------------------------------------- the HTTP side


def test_lifecycle_frees_port_and_process_even_with_an_open_connection() -> None:
    srv = LocalServer()
    seen: dict[str, Any] = {}

    def use_then_fail() -> None:
        with srv:
            seen["port"] = srv.port
            seen["proc"] = srv.local._proc
            seen["conn"] = conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
            conn.request("GET", "/nope/.well-known/jwks.json")
            assert conn.getresponse().read()  # keep-alive: the connection stays open
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        use_then_fail()
    assert not srv.running
    assert seen["proc"] is not None and seen["proc"].poll() is not None  # the server exited
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", seen["port"]), timeout=1):
        pass
    seen["conn"].close()


def test_wire_format_of_success_and_errors(server: LocalServer, plain: tuple[str, str]) -> None:
    def post(target: str, body: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
        req = urllib.request.Request(
            server.endpoint_url + "/",
            data=body,
            headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"},
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, dict(resp.headers), json.loads(resp.read())
        except urllib.error.HTTPError as err:
            with err:
                return err.code, dict(err.headers), json.loads(err.read())

    pool_id, client_id = plain
    server.create_user(pool_id, "wire", PASSWORD)
    body = json.dumps(
        {
            "ClientId": client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "wire", "PASSWORD": PASSWORD},
        }
    ).encode()
    status, headers, data = post("AWSCognitoIdentityProviderService.InitiateAuth", body)
    assert status == 200
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert headers["x-amzn-RequestId"]
    assert set(data["AuthenticationResult"]) >= {"AccessToken", "IdToken", "RefreshToken"}

    # An operation the local Cognito lacks: a named 400 (moto alone would answer 500).
    status, headers, data = post("AWSCognitoIdentityProviderService.GetUICustomization", b"{}")
    assert status == 400
    assert data["__type"] == "UnsupportedOperationException"
    assert "not supported by the local Cognito" in data["message"]
    assert headers["x-amzn-ErrorType"].startswith("UnsupportedOperationException")

    status, _, data = post("AWSCognitoIdentityProviderService.InitiateAuth", b"not json")
    assert (status, data["__type"]) == (400, "SerializationException")


def test_unknown_operation_is_a_400_botocore_does_not_retry(server: LocalServer, boto: Any) -> None:
    before = server.count("DescribeRiskConfiguration")
    with pytest.raises(ClientError) as exc:
        boto.describe_risk_configuration(UserPoolId="us-east-1_nothere1")
    assert code_of(exc) == "UnsupportedOperationException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert server.count("DescribeRiskConfiguration") == before + 1


def test_jwks_endpoint_serves_the_key_that_signs_the_tokens(
    server: LocalServer, boto: Any, plain: tuple[str, str]
) -> None:
    pool_id, client_id = plain
    name = server.create_user(pool_id, "jwks", PASSWORD, attributes={"email": "jwks@example.com"})
    result = password_login(boto, client_id, "jwks")["AuthenticationResult"]
    with urllib.request.urlopen(server.jwks_url(pool_id), timeout=5) as resp:
        keys = json.loads(resp.read())["keys"]
    assert len(keys) == 1
    assert keys[0]["alg"] == "RS256"
    assert keys[0]["kty"] == "RSA"

    def as_int(value: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")

    public = rsa.RSAPublicNumbers(as_int(keys[0]["e"]), as_int(keys[0]["n"])).public_key()
    for token in (result["AccessToken"], result["IdToken"]):
        head, body, sig = token.split(".")
        assert b64url_json(head)["kid"] == keys[0]["kid"]
        public.verify(
            base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)),
            f"{head}.{body}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    access, ident = claims(result["AccessToken"]), claims(result["IdToken"])
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    assert access["iss"] == ident["iss"] == issuer == server.issuer_url(pool_id)
    assert access["token_use"] == "access"
    assert access["client_id"] == client_id
    assert access["scope"] == "aws.cognito.signin.user.admin"
    assert access["username"] == name
    assert ident["token_use"] == "id"
    assert ident["aud"] == client_id
    assert ident["cognito:username"] == name
    assert ident["email"] == "jwks@example.com"
    assert ident["email_verified"] is True
    assert ident["sub"] == access["sub"]
    assert "at_hash" not in ident
    assert access["origin_jti"] == ident["origin_jti"]
    assert access["exp"] - access["iat"] == 3600
    assert ident["auth_time"] == access["auth_time"]
    assert result["RefreshToken"].count(".") == 0  # opaque, not a JWT
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(server.jwks_url("us-east-1_none"), timeout=5)
    assert missing.value.code == 404
    missing.value.close()


# ---------------------------------------------------------------- password and SRP (both backends)


async def test_password_sign_in_through_aiobotocore(
    server: LocalServer, idp: IdpClient, plain: tuple[str, str]
) -> None:
    pool_id, client_id = plain
    if not server.has_user(pool_id, "pat"):
        server.create_user(pool_id, "pat", PASSWORD)
        server.create_user(pool_id, "new", PASSWORD, confirmed=False)

    async def login(user: str, password: str) -> dict[str, Any]:
        return await idp.call(
            "initiate_auth",
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": password},
        )

    result = (await login("pat", PASSWORD))["AuthenticationResult"]
    user = await idp.call("get_user", AccessToken=result["AccessToken"])
    assert user["Username"] == "pat"
    with pytest.raises(NotAuthorizedError, match="Incorrect username or password"):
        await login("pat", "Wrong-passw0rd")
    with pytest.raises(UserNotFoundError):
        await login("nobody", PASSWORD)
    with pytest.raises(UserNotConfirmedError):
        await login("new", "even the wrong password")  # AWS says so before checking it


async def test_srp_proof_is_checked(
    server: LocalServer, idp: IdpClient, plain: tuple[str, str]
) -> None:
    pool_id, client_id = plain
    if not server.has_user(pool_id, "sam"):
        server.create_user(pool_id, "sam", PASSWORD)

    async def sign_in(password: str) -> dict[str, Any]:
        srp = await anyio.to_thread.run_sync(srp_client, "sam", password, pool_id, client_id)
        first = await idp.call(
            "initiate_auth",
            ClientId=client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters=srp_start(srp),
        )
        assert first["ChallengeName"] == "PASSWORD_VERIFIER"
        assert "Session" not in first
        assert first["ChallengeParameters"]["USER_ID_FOR_SRP"] == "sam"
        answer = await anyio.to_thread.run_sync(srp_answer, srp, first["ChallengeParameters"])
        return await idp.call(
            "respond_to_auth_challenge",
            ClientId=client_id,
            ChallengeName="PASSWORD_VERIFIER",
            ChallengeResponses=answer,
        )

    assert "AccessToken" in (await sign_in(PASSWORD))["AuthenticationResult"]
    with pytest.raises(NotAuthorizedError, match="Incorrect username or password"):
        await sign_in("Not-the-passw0rd")


def test_srp_secret_block_is_single_use_and_timestamp_is_cognitos(
    server: LocalServer, boto: Any, plain: tuple[str, str]
) -> None:
    pool_id, client_id = plain
    server.create_user(pool_id, "tim", PASSWORD)

    def challenge() -> tuple[AWSSRP, dict[str, str]]:
        srp = srp_client("tim", PASSWORD, pool_id, client_id)
        first = boto.initiate_auth(
            ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=srp_start(srp)
        )
        return srp, first["ChallengeParameters"]

    def respond(answer: dict[str, str]) -> Any:
        return boto.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answer
        )

    srp, params = challenge()
    answer = srp_answer(srp, params)
    respond(answer)
    with pytest.raises(ClientError) as replay:
        respond(answer)
    assert code_of(replay) == "NotAuthorizedException"

    # Signed over a zero-padded day: AWS verifies over its own rendering, so it fails.
    padded_day = cognito_timestamp(datetime.datetime(2024, 3, 5, 9, 3, 7)).replace(" 5 ", " 05 ")
    srp, params = challenge()
    with pytest.raises(ClientError) as padded:
        respond(srp_answer(srp, params, timestamp=padded_day))
    assert code_of(padded) == "NotAuthorizedException"
    srp, params = challenge()
    with pytest.raises(ClientError) as garbage:
        respond(srp_answer(srp, params, timestamp="2024-03-05T09:03:07Z"))
    assert code_of(garbage) == "InvalidParameterException"
    # A well-formed claim over an unpadded past date still verifies.
    srp, params = challenge()
    respond(
        srp_answer(srp, params, timestamp=cognito_timestamp(datetime.datetime(2024, 3, 5, 9, 3, 7)))
    )


# ---------------------------------------------------------------- SECRET_HASH


def test_secret_hash_rules_in_an_email_pool(
    server: LocalServer, boto: Any, email_pool: tuple[str, str, str]
) -> None:
    pool_id, client_id, secret = email_pool
    email = "eve@example.com"
    sub = server.create_user(pool_id, email, PASSWORD)
    assert sub != email
    assert server.user(pool_id, email).attributes["email"] == email

    with pytest.raises(ClientError) as missing:
        password_login(boto, client_id, email)
    assert message_of(missing) == (
        f"Client {client_id} is configured with secret but SECRET_HASH was not received"
    )
    with pytest.raises(ClientError) as wrong:
        password_login(
            boto, client_id, email, SECRET_HASH=shash(email, client_id, "not-the-secret")
        )
    assert code_of(wrong) == "NotAuthorizedException"

    # First step: the hash over what the user typed (the e-mail) is accepted.
    srp = srp_client(email, PASSWORD, pool_id, client_id, secret)
    first = boto.initiate_auth(
        ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=srp_start(srp)
    )
    params = first["ChallengeParameters"]
    assert params["USERNAME"] == params["USER_ID_FOR_SRP"] == sub
    # Answering with the e-mail (and a hash over it) is refused...
    with pytest.raises(ClientError) as alias:
        boto.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="PASSWORD_VERIFIER",
            ChallengeResponses=srp_answer(srp, params, username=email),
        )
    assert code_of(alias) == "NotAuthorizedException"
    # ...the pool user name with its hash works.
    first = boto.initiate_auth(
        ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=srp_start(srp)
    )
    tokens = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=srp_answer(srp, first["ChallengeParameters"]),
    )["AuthenticationResult"]

    def refresh(hash_over: str) -> Any:
        return boto.initiate_auth(
            ClientId=client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={
                "REFRESH_TOKEN": tokens["RefreshToken"],
                "SECRET_HASH": shash(hash_over, client_id, secret),
            },
        )

    with pytest.raises(ClientError) as by_email:
        refresh(email)  # pycognito's bug
    assert message_of(by_email) == f"SecretHash does not match for the client: {client_id}"
    renewed = refresh(sub)["AuthenticationResult"]
    assert "RefreshToken" not in renewed
    assert (
        claims(renewed["AccessToken"])["origin_jti"] == claims(tokens["AccessToken"])["origin_jti"]
    )


# ---------------------------------------------------------------- devices


async def test_remembered_device_sign_in_refresh_and_forget(
    server: LocalServer, idp: IdpClient
) -> None:
    pool_id = server.create_pool(device_tracking=True)
    client_id, secret = server.create_client(pool_id, secret=True)
    server.create_user(pool_id, "dora", PASSWORD)

    async def srp_sign_in(srp: AWSSRP) -> dict[str, Any]:
        first = await idp.call(
            "initiate_auth",
            ClientId=client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters=srp_start(srp),
        )
        answer = await anyio.to_thread.run_sync(srp_answer, srp, first["ChallengeParameters"])
        return await idp.call(
            "respond_to_auth_challenge",
            ClientId=client_id,
            ChallengeName="PASSWORD_VERIFIER",
            ChallengeResponses=answer,
        )

    plain_srp = await anyio.to_thread.run_sync(
        srp_client, "dora", PASSWORD, pool_id, client_id, secret
    )
    first = (await srp_sign_in(plain_srp))["AuthenticationResult"]
    meta = first["NewDeviceMetadata"]
    assert meta["DeviceKey"].startswith(f"{REGION}_")
    assert meta["DeviceGroupKey"].startswith("-")
    assert claims(first["AccessToken"])["device_key"] == meta["DeviceKey"]
    device_password, config = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    confirmed = await idp.call(
        "confirm_device",
        AccessToken=first["AccessToken"],
        DeviceKey=meta["DeviceKey"],
        DeviceSecretVerifierConfig=config,
        DeviceName="laptop",
    )
    assert confirmed["UserConfirmationNecessary"] is False

    device = {
        "device_key": meta["DeviceKey"],
        "device_group_key": meta["DeviceGroupKey"],
        "device_password": device_password,
    }
    srp = await anyio.to_thread.run_sync(
        lambda: srp_client("dora", PASSWORD, pool_id, client_id, secret, **device)
    )
    step = await srp_sign_in(srp)
    assert step["ChallengeName"] == "DEVICE_SRP_AUTH"
    device_srp = {
        "USERNAME": "dora",
        "DEVICE_KEY": srp.device_key,
        "SRP_A": format(srp.large_a_value, "x"),
        "SECRET_HASH": shash("dora", client_id, secret),
    }
    verifier = await idp.call(
        "respond_to_auth_challenge",
        ClientId=client_id,
        ChallengeName="DEVICE_SRP_AUTH",
        Session=step["Session"],
        ChallengeResponses=device_srp,
    )
    assert verifier["ChallengeName"] == "DEVICE_PASSWORD_VERIFIER"
    answer = await anyio.to_thread.run_sync(device_answer, srp, verifier["ChallengeParameters"])
    done = await idp.call(
        "respond_to_auth_challenge",
        ClientId=client_id,
        ChallengeName="DEVICE_PASSWORD_VERIFIER",
        ChallengeResponses=answer,
    )
    tokens = done["AuthenticationResult"]
    assert "NewDeviceMetadata" not in tokens
    assert claims(tokens["AccessToken"])["device_key"] == meta["DeviceKey"]

    listed = await idp.call("list_devices", AccessToken=tokens["AccessToken"])
    assert [d["DeviceKey"] for d in listed["Devices"]] == [meta["DeviceKey"]]
    got = await idp.call(
        "get_device", AccessToken=tokens["AccessToken"], DeviceKey=meta["DeviceKey"]
    )
    assert {"Name": "device_name", "Value": "laptop"} in got["Device"]["DeviceAttributes"]

    async def refresh(device_key: str | None) -> dict[str, Any]:
        ap = {
            "REFRESH_TOKEN": tokens["RefreshToken"],
            "SECRET_HASH": shash("dora", client_id, secret),
        }
        if device_key:
            ap["DEVICE_KEY"] = device_key
        return await idp.call(
            "initiate_auth", ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters=ap
        )

    with pytest.raises(NotAuthorizedError, match="Invalid Refresh Token"):
        await refresh(None)
    assert "AccessToken" in (await refresh(meta["DeviceKey"]))["AuthenticationResult"]

    await idp.call("forget_device", AccessToken=tokens["AccessToken"], DeviceKey=meta["DeviceKey"])
    assert server.devices(pool_id, "dora") == []
    with pytest.raises(NotAuthorizedError, match="Invalid Refresh Token"):
        await refresh(meta["DeviceKey"])
    with pytest.raises(ResourceNotFoundError, match="Device does not exist"):
        await srp_sign_in(srp)


def test_device_proof_with_a_wrong_device_secret_fails(server: LocalServer, boto: Any) -> None:
    pool_id = server.create_pool(device_tracking=True)
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "wade", PASSWORD)
    meta = password_login(boto, client_id, "wade")["AuthenticationResult"]
    access, meta = meta["AccessToken"], meta["NewDeviceMetadata"]
    _, config = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    boto.confirm_device(
        AccessToken=access, DeviceKey=meta["DeviceKey"], DeviceSecretVerifierConfig=config
    )
    with pytest.raises(ClientError) as twice:
        boto.confirm_device(
            AccessToken=access, DeviceKey=meta["DeviceKey"], DeviceSecretVerifierConfig=config
        )
    assert code_of(twice) == "DeviceKeyExistsException"

    wrong = srp_client(
        "wade",
        PASSWORD,
        pool_id,
        client_id,
        device_key=meta["DeviceKey"],
        device_group_key=meta["DeviceGroupKey"],
        device_password="not-the-device-password",
    )
    step = password_login(boto, client_id, "wade", DEVICE_KEY=meta["DeviceKey"])
    assert step["ChallengeName"] == "DEVICE_SRP_AUTH"
    # pycognito answers DEVICE_SRP_AUTH without the Session: bound to this sign-in instead.
    verifier = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="DEVICE_SRP_AUTH",
        ChallengeResponses={
            "USERNAME": "wade",
            "DEVICE_KEY": meta["DeviceKey"],
            "SRP_A": format(wrong.large_a_value, "x"),
        },
    )
    with pytest.raises(ClientError) as bad:
        boto.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="DEVICE_PASSWORD_VERIFIER",
            ChallengeResponses=device_answer(wrong, verifier["ChallengeParameters"]),
        )
    assert code_of(bad) == "NotAuthorizedException"
    # Without a password proof first there is no device step to answer.
    with pytest.raises(ClientError) as unbound:
        boto.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="DEVICE_SRP_AUTH",
            ChallengeResponses={
                "USERNAME": "wade",
                "DEVICE_KEY": meta["DeviceKey"],
                "SRP_A": "ab12",
            },
        )
    assert code_of(unbound) == "NotAuthorizedException"


def test_device_status_listing_and_admin_variants(server: LocalServer, boto: Any) -> None:
    pool_id = server.create_pool(
        device_tracking=True, device_remember_on_prompt=True, mfa="OPTIONAL"
    )
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "max", PASSWORD)
    secret = server.enable_totp(pool_id, "max")
    keys = []
    access = ""
    for _ in range(3):
        mfa = password_login(boto, client_id, "max")
        assert mfa["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        result = boto.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=mfa["Session"],
            ChallengeResponses={"USERNAME": "max", "SOFTWARE_TOKEN_MFA_CODE": totp(secret)},
        )["AuthenticationResult"]
        access, meta = result["AccessToken"], result["NewDeviceMetadata"]
        _, config = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
        reply = boto.confirm_device(
            AccessToken=access, DeviceKey=meta["DeviceKey"], DeviceSecretVerifierConfig=config
        )
        assert reply["UserConfirmationNecessary"] is True
        keys.append(meta["DeviceKey"])

    page1 = boto.list_devices(AccessToken=access, Limit=2)
    page2 = boto.list_devices(AccessToken=access, Limit=2, PaginationToken=page1["PaginationToken"])
    assert [d["DeviceKey"] for d in page1["Devices"] + page2["Devices"]] == keys
    assert "PaginationToken" not in page2

    # Not remembered until the user says so: the device does not stand in for MFA yet.
    assert not any(d.remembered for d in server.devices(pool_id, "max"))
    assert (
        password_login(boto, client_id, "max", DEVICE_KEY=keys[0])["ChallengeName"]
        == "SOFTWARE_TOKEN_MFA"
    )
    boto.update_device_status(
        AccessToken=access, DeviceKey=keys[0], DeviceRememberedStatus="remembered"
    )
    assert (
        password_login(boto, client_id, "max", DEVICE_KEY=keys[0])["ChallengeName"]
        == "DEVICE_SRP_AUTH"
    )

    boto.admin_update_device_status(
        UserPoolId=pool_id, Username="max", DeviceKey=keys[1], DeviceRememberedStatus="remembered"
    )
    got = boto.admin_get_device(UserPoolId=pool_id, Username="max", DeviceKey=keys[1])["Device"]
    assert {"Name": "dev:device_remembered_status", "Value": "remembered"} in got[
        "DeviceAttributes"
    ]
    boto.admin_forget_device(UserPoolId=pool_id, Username="max", DeviceKey=keys[2])
    listed = boto.admin_list_devices(UserPoolId=pool_id, Username="max")["Devices"]
    assert [d["DeviceKey"] for d in listed] == keys[:2]
    with pytest.raises(ClientError) as gone:
        boto.get_device(AccessToken=access, DeviceKey=keys[2])
    assert code_of(gone) == "ResourceNotFoundException"


def test_remembered_device_skips_mfa(server: LocalServer, boto: Any) -> None:
    pool_id = server.create_pool(device_tracking=True, mfa="ON")
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "ria", PASSWORD)
    secret = server.enable_totp(pool_id, "ria")
    mfa = password_login(boto, client_id, "ria")
    tokens = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=mfa["Session"],
        ChallengeResponses={"USERNAME": "ria", "SOFTWARE_TOKEN_MFA_CODE": totp(secret)},
    )["AuthenticationResult"]
    meta = tokens["NewDeviceMetadata"]
    device_password, config = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    boto.confirm_device(
        AccessToken=tokens["AccessToken"],
        DeviceKey=meta["DeviceKey"],
        DeviceSecretVerifierConfig=config,
    )
    srp = srp_client(
        "ria",
        PASSWORD,
        pool_id,
        client_id,
        device_key=meta["DeviceKey"],
        device_group_key=meta["DeviceGroupKey"],
        device_password=device_password,
    )
    step = password_login(boto, client_id, "ria", DEVICE_KEY=meta["DeviceKey"])
    verifier = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="DEVICE_SRP_AUTH",
        Session=step["Session"],
        ChallengeResponses={
            "USERNAME": "ria",
            "DEVICE_KEY": meta["DeviceKey"],
            "SRP_A": format(srp.large_a_value, "x"),
        },
    )
    done = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="DEVICE_PASSWORD_VERIFIER",
        ChallengeResponses=device_answer(srp, verifier["ChallengeParameters"]),
    )
    assert "AccessToken" in done["AuthenticationResult"]  # no SOFTWARE_TOKEN_MFA this time


# ---------------------------------------------------------------- refresh, rotation, revocation


def test_rotation_issues_new_refresh_tokens_and_refuses_reuse(
    server: LocalServer, boto: Any
) -> None:
    pool_id = server.create_pool()
    client_id, secret = server.create_client(pool_id, secret=True, refresh_token_rotation=True)
    assert secret is not None
    server.create_user(pool_id, "rob", PASSWORD)
    first = password_login(boto, client_id, "rob", SECRET_HASH=shash("rob", client_id, secret))
    old = first["AuthenticationResult"]["RefreshToken"]

    with pytest.raises(ClientError) as no_secret:
        boto.get_tokens_from_refresh_token(RefreshToken=old, ClientId=client_id)
    assert code_of(no_secret) == "NotAuthorizedException"
    rotated = boto.get_tokens_from_refresh_token(
        RefreshToken=old, ClientId=client_id, ClientSecret=secret
    )
    new = rotated["AuthenticationResult"]["RefreshToken"]
    assert new != old
    assert server.refresh_token_status(old) == "rotated"
    assert server.refresh_token_status(new) == "active"
    with pytest.raises(ClientError) as reuse:
        boto.get_tokens_from_refresh_token(
            RefreshToken=old, ClientId=client_id, ClientSecret=secret
        )
    assert code_of(reuse) == "RefreshTokenReuseException"
    again = boto.get_tokens_from_refresh_token(
        RefreshToken=new, ClientId=client_id, ClientSecret=secret
    )
    assert again["AuthenticationResult"]["RefreshToken"] not in (old, new)
    with pytest.raises(ClientError) as flow:
        boto.initiate_auth(
            ClientId=client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": new, "SECRET_HASH": shash("rob", client_id, secret)},
        )
    assert code_of(flow) == "InvalidParameterException"


def test_concurrent_rotations_of_one_refresh_token_let_exactly_one_through(
    server: LocalServer, boto: Any
) -> None:
    pool_id = server.create_pool()
    client_id, _ = server.create_client(pool_id, refresh_token_rotation=True)
    server.create_user(pool_id, "con", PASSWORD)
    token = password_login(boto, client_id, "con")["AuthenticationResult"]["RefreshToken"]
    before = server.count("GetTokensFromRefreshToken")
    outcomes: list[str] = []
    gate = threading.Barrier(8)

    def rotate() -> None:
        gate.wait(timeout=30)  # bounded: a stuck thread breaks the barrier, not the suite
        try:
            boto.get_tokens_from_refresh_token(RefreshToken=token, ClientId=client_id)
            outcomes.append("ok")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=rotate) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert sorted(outcomes) == ["RefreshTokenReuseException"] * 7 + ["ok"]
    assert server.count("GetTokensFromRefreshToken") == before + 8


def test_refresh_without_rotation_and_from_another_client(
    server: LocalServer, boto: Any, plain: tuple[str, str]
) -> None:
    pool_id, client_id = plain
    other_client, _ = server.create_client(pool_id)
    server.create_user(pool_id, "ray", PASSWORD)
    token = password_login(boto, client_id, "ray")["AuthenticationResult"]["RefreshToken"]
    result = boto.get_tokens_from_refresh_token(RefreshToken=token, ClientId=client_id)
    assert "RefreshToken" not in result["AuthenticationResult"]
    before = server.count("InitiateAuth")
    boto.initiate_auth(
        ClientId=client_id, AuthFlow="REFRESH_TOKEN", AuthParameters={"REFRESH_TOKEN": token}
    )
    assert server.count("InitiateAuth") == before + 1
    with pytest.raises(ClientError) as other:
        boto.initiate_auth(
            ClientId=other_client,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": token},
        )
    assert message_of(other) == "Invalid Refresh Token."


def test_revoke_token(server: LocalServer, boto: Any) -> None:
    pool_id = server.create_pool()
    client_id, secret = server.create_client(pool_id, secret=True)
    assert secret is not None
    no_revoke, _ = server.create_client(pool_id, enable_token_revocation=False)
    server.create_user(pool_id, "val", PASSWORD)
    login = password_login(boto, client_id, "val", SECRET_HASH=shash("val", client_id, secret))
    kept = password_login(boto, client_id, "val", SECRET_HASH=shash("val", client_id, secret))
    tokens, other = login["AuthenticationResult"], kept["AuthenticationResult"]

    def revoke(token: str, client: str = client_id, client_secret: str | None = secret) -> Any:
        extra = {"ClientSecret": client_secret} if client_secret else {}
        return boto.revoke_token(Token=token, ClientId=client, **extra)

    with pytest.raises(ClientError) as bad_secret:
        revoke(tokens["RefreshToken"], client_secret="x" * 30)
    assert code_of(bad_secret) == "UnauthorizedException"
    with pytest.raises(ClientError) as wrong_client:
        revoke(tokens["RefreshToken"], client=no_revoke, client_secret=None)
    assert code_of(wrong_client) == "UnsupportedOperationException"
    with pytest.raises(ClientError) as access:
        revoke(tokens["AccessToken"])
    assert code_of(access) == "UnsupportedTokenTypeException"

    revoke(tokens["RefreshToken"])
    assert server.refresh_token_status(tokens["RefreshToken"]) == "revoked"
    with pytest.raises(ClientError) as refresh:
        boto.initiate_auth(
            ClientId=client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={
                "REFRESH_TOKEN": tokens["RefreshToken"],
                "SECRET_HASH": shash("val", client_id, secret),
            },
        )
    assert message_of(refresh) == "Refresh Token has been revoked"
    with pytest.raises(ClientError) as revoked_access:
        boto.get_user(AccessToken=tokens["AccessToken"])
    assert message_of(revoked_access) == "Access Token has been revoked"
    assert (
        boto.get_user(AccessToken=other["AccessToken"])["Username"] == "val"
    )  # other sign-in untouched


def test_revoke_token_issued_to_another_client(
    server: LocalServer, boto: Any, plain: tuple[str, str]
) -> None:
    pool_id, client_id = plain
    other, _ = server.create_client(pool_id)
    server.create_user(pool_id, "oli", PASSWORD)
    token = password_login(boto, client_id, "oli")["AuthenticationResult"]["RefreshToken"]
    with pytest.raises(ClientError) as exc:
        boto.revoke_token(Token=token, ClientId=other)
    assert code_of(exc) == "UnauthorizedException"
    assert server.refresh_token_status(token) == "active"


def test_global_sign_out(server: LocalServer, boto: Any, plain: tuple[str, str]) -> None:
    pool_id, client_id = plain
    server.create_user(pool_id, "gus", PASSWORD)
    one = password_login(boto, client_id, "gus")["AuthenticationResult"]
    two = password_login(boto, client_id, "gus")["AuthenticationResult"]
    boto.global_sign_out(AccessToken=one["AccessToken"])
    for tokens in (one, two):
        assert server.refresh_token_status(tokens["RefreshToken"]) == "revoked"
        with pytest.raises(ClientError) as exc:
            boto.get_user(AccessToken=tokens["AccessToken"])
        assert code_of(exc) == "NotAuthorizedException"
    fresh = password_login(boto, client_id, "gus")["AuthenticationResult"]
    assert boto.get_user(AccessToken=fresh["AccessToken"])["Username"] == "gus"


def test_expiry_of_tokens_sessions_and_grace(
    clocked: tuple[LocalServer, Any], clock: FakeClock
) -> None:
    srv, boto = clocked
    pool_id = srv.create_pool(mfa="ON")
    client_id, _ = srv.create_client(
        pool_id,
        access_token_validity=60,
        refresh_token_validity=600,
        refresh_token_rotation=True,
        retry_grace_seconds=10,
        auth_session_validity=3,  # minutes, as Cognito counts them
    )
    srv.create_user(pool_id, "eli", PASSWORD)
    secret = srv.enable_totp(pool_id, "eli")
    mfa = password_login(boto, client_id, "eli")
    clock.advance(181)
    with pytest.raises(ClientError) as late:
        boto.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=mfa["Session"],
            ChallengeResponses={
                "USERNAME": "eli",
                "SOFTWARE_TOKEN_MFA_CODE": totp(secret, at=clock.now),
            },
        )
    assert message_of(late) == "Invalid session for the user, session is expired."

    mfa = password_login(boto, client_id, "eli")
    tokens = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=mfa["Session"],
        ChallengeResponses={
            "USERNAME": "eli",
            "SOFTWARE_TOKEN_MFA_CODE": totp(secret, at=clock.now),
        },
    )["AuthenticationResult"]
    assert tokens["ExpiresIn"] == 60
    clock.advance(61)
    with pytest.raises(ClientError) as expired:
        boto.get_user(AccessToken=tokens["AccessToken"])
    assert message_of(expired) == "Access Token has expired"

    old = tokens["RefreshToken"]
    new = boto.get_tokens_from_refresh_token(RefreshToken=old, ClientId=client_id)[
        "AuthenticationResult"
    ]
    clock.advance(5)  # within the retry grace period the old token still works
    boto.get_tokens_from_refresh_token(RefreshToken=old, ClientId=client_id)
    clock.advance(6)
    with pytest.raises(ClientError) as reuse:
        boto.get_tokens_from_refresh_token(RefreshToken=old, ClientId=client_id)
    assert code_of(reuse) == "RefreshTokenReuseException"
    clock.advance(600)  # the replacement runs out when the original would have
    with pytest.raises(ClientError) as gone:
        boto.get_tokens_from_refresh_token(RefreshToken=new["RefreshToken"], ClientId=client_id)
    assert message_of(gone) == "Refresh Token has expired"


# ---------------------------------------------------------------- codes


def test_sign_up_confirm_and_resend(
    server: LocalServer, boto: Any, email_pool: tuple[str, str, str]
) -> None:
    pool_id, client_id, secret = email_pool
    email = "sue@example.com"
    h = shash(email, client_id, secret)
    with pytest.raises(ClientError) as weak:
        boto.sign_up(ClientId=client_id, SecretHash=h, Username=email, Password="short")
    assert code_of(weak) == "InvalidPasswordException"
    reply = boto.sign_up(ClientId=client_id, SecretHash=h, Username=email, Password=PASSWORD)
    assert reply["UserConfirmed"] is False
    assert reply["CodeDeliveryDetails"] == {
        "Destination": "s***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    assert server.user(pool_id, email).username == reply["UserSub"]
    with pytest.raises(ClientError) as exists:
        boto.sign_up(ClientId=client_id, SecretHash=h, Username=email, Password=PASSWORD)
    assert code_of(exists) == "UsernameExistsException"
    with pytest.raises(ClientError) as unconfirmed:
        password_login(boto, client_id, email, SECRET_HASH=h)
    assert code_of(unconfirmed) == "UserNotConfirmedException"

    first = server.last_code(pool_id, email, SIGN_UP)
    boto.resend_confirmation_code(ClientId=client_id, SecretHash=h, Username=email)
    second = server.last_code(pool_id, email, SIGN_UP)
    wrong = "000000" if second != "000000" else "111111"
    for code in {first, wrong} - {second}:
        with pytest.raises(ClientError) as mismatch:
            boto.confirm_sign_up(
                ClientId=client_id, SecretHash=h, Username=email, ConfirmationCode=code
            )
        assert code_of(mismatch) == "CodeMismatchException"
    boto.confirm_sign_up(ClientId=client_id, SecretHash=h, Username=email, ConfirmationCode=second)
    assert server.user(pool_id, email).status == "CONFIRMED"
    assert server.user(pool_id, email).attributes["email_verified"] == "true"
    with pytest.raises(ClientError) as twice:
        boto.confirm_sign_up(
            ClientId=client_id, SecretHash=h, Username=email, ConfirmationCode=second
        )
    assert code_of(twice) == "NotAuthorizedException"
    assert (
        "AccessToken"
        in password_login(boto, client_id, email, SECRET_HASH=h)["AuthenticationResult"]
    )


def test_forgot_password(server: LocalServer, boto: Any, plain: tuple[str, str]) -> None:
    pool_id, client_id = plain
    server.create_user(pool_id, "fay", PASSWORD, attributes={"email": "fay@example.com"})
    sent = boto.forgot_password(ClientId=client_id, Username="fay")["CodeDeliveryDetails"]
    assert sent["DeliveryMedium"] == "EMAIL"
    code = server.last_code(pool_id, "fay", FORGOT_PASSWORD)
    with pytest.raises(ClientError) as wrong:
        boto.confirm_forgot_password(
            ClientId=client_id,
            Username="fay",
            ConfirmationCode=str((int(code) + 1) % 10**6).zfill(6),
            Password="N3w-passw0rd",
        )
    assert code_of(wrong) == "CodeMismatchException"
    boto.confirm_forgot_password(
        ClientId=client_id, Username="fay", ConfirmationCode=code, Password="N3w-passw0rd"
    )
    with pytest.raises(ClientError):
        password_login(boto, client_id, "fay")
    password_login(boto, client_id, "fay", "N3w-passw0rd")
    # The SRP verifier moved with the password.
    srp = srp_client("fay", "N3w-passw0rd", pool_id, client_id)
    first = boto.initiate_auth(
        ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=srp_start(srp)
    )
    boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=srp_answer(srp, first["ChallengeParameters"]),
    )


def test_attributes_verification_change_password_and_delete(
    server: LocalServer, boto: Any, plain: tuple[str, str]
) -> None:
    pool_id, client_id = plain
    server.create_user(pool_id, "ada", PASSWORD, attributes={"email": "ada@example.com"})
    access = password_login(boto, client_id, "ada")["AuthenticationResult"]["AccessToken"]
    updated = boto.update_user_attributes(
        AccessToken=access,
        UserAttributes=[
            {"Name": "email", "Value": "ada@new.example"},
            {"Name": "name", "Value": "Ada"},
        ],
    )
    assert updated["CodeDeliveryDetailsList"][0]["AttributeName"] == "email"
    attrs = {a["Name"]: a["Value"] for a in boto.get_user(AccessToken=access)["UserAttributes"]}
    assert attrs["email"] == "ada@new.example"
    assert attrs["email_verified"] == "false"
    assert attrs["name"] == "Ada"
    with pytest.raises(ClientError) as immutable:
        boto.update_user_attributes(
            AccessToken=access, UserAttributes=[{"Name": "sub", "Value": "x"}]
        )
    assert code_of(immutable) == "InvalidParameterException"

    stale = server.last_code(pool_id, "ada", verify_purpose("email"))
    boto.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")
    fresh = server.last_code(pool_id, "ada", verify_purpose("email"))
    if stale != fresh:
        with pytest.raises(ClientError) as old:
            boto.verify_user_attribute(AccessToken=access, AttributeName="email", Code=stale)
        assert code_of(old) == "CodeMismatchException"
    boto.verify_user_attribute(AccessToken=access, AttributeName="email", Code=fresh)
    assert server.user(pool_id, "ada").attributes["email_verified"] == "true"

    with pytest.raises(ClientError) as wrong_previous:
        boto.change_password(
            AccessToken=access, PreviousPassword="Wr0ng-password", ProposedPassword="N3w-passw0rd"
        )
    assert code_of(wrong_previous) == "NotAuthorizedException"
    boto.change_password(
        AccessToken=access, PreviousPassword=PASSWORD, ProposedPassword="N3w-passw0rd"
    )
    access = password_login(boto, client_id, "ada", "N3w-passw0rd")["AuthenticationResult"][
        "AccessToken"
    ]

    boto.delete_user(AccessToken=access)
    assert not server.has_user(pool_id, "ada")
    with pytest.raises(ClientError) as deleted:
        boto.get_user(AccessToken=access)
    assert code_of(deleted) == "NotAuthorizedException"
    with pytest.raises(ClientError) as gone:
        password_login(boto, client_id, "ada", "N3w-passw0rd")
    assert code_of(gone) == "UserNotFoundException"


# ---------------------------------------------------------------- challenges


def test_custom_auth_with_and_without_srp(server: LocalServer, boto: Any) -> None:
    pool_id = server.create_pool()
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "cat", PASSWORD)
    with pytest.raises(ClientError) as off:
        boto.initiate_auth(
            ClientId=client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "cat"}
        )
    assert code_of(off) == "InvalidParameterException"
    server.set_custom_auth(pool_id, "42", parameters={"question": "the answer?"})

    first = boto.initiate_auth(
        ClientId=client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "cat"}
    )
    assert first["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert first["ChallengeParameters"]["question"] == "the answer?"
    with pytest.raises(ClientError) as wrong:
        boto.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="CUSTOM_CHALLENGE",
            Session=first["Session"],
            ChallengeResponses={"USERNAME": "cat", "ANSWER": "41"},
        )
    assert code_of(wrong) == "NotAuthorizedException"
    with pytest.raises(ClientError) as reused:
        boto.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="CUSTOM_CHALLENGE",
            Session=first["Session"],
            ChallengeResponses={"USERNAME": "cat", "ANSWER": "42"},
        )
    assert message_of(reused) == "Invalid session for the user, session can only be used once."

    srp = srp_client("cat", PASSWORD, pool_id, client_id)
    first = boto.initiate_auth(
        ClientId=client_id,
        AuthFlow="CUSTOM_AUTH",
        AuthParameters={**srp_start(srp), "CHALLENGE_NAME": "SRP_A"},
    )
    assert first["ChallengeName"] == "PASSWORD_VERIFIER"
    custom = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=srp_answer(srp, first["ChallengeParameters"]),
    )
    assert custom["ChallengeName"] == "CUSTOM_CHALLENGE"
    done = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=custom["Session"],
        ChallengeResponses={"USERNAME": "cat", "ANSWER": "42"},
    )
    assert "AccessToken" in done["AuthenticationResult"]


def test_totp_association_preference_and_mfa_sign_in(server: LocalServer, boto: Any) -> None:
    pool_id = server.create_pool(mfa="OPTIONAL")
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "tom", PASSWORD)
    access = password_login(boto, client_id, "tom")["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as early:
        boto.set_user_mfa_preference(
            AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
        )
    assert code_of(early) == "InvalidParameterException"
    secret = boto.associate_software_token(AccessToken=access)["SecretCode"]
    assert server.totp_secret(pool_id, "tom", pending=True) == secret
    with pytest.raises(LookupError):
        server.totp_secret(pool_id, "tom")  # not verified yet
    wrong = str((int(totp(secret)) + 500000) % 10**6).zfill(6)
    with pytest.raises(ClientError) as mismatch:
        boto.verify_software_token(AccessToken=access, UserCode=wrong)
    assert code_of(mismatch) == "EnableSoftwareTokenMFAException"
    assert (
        boto.verify_software_token(AccessToken=access, UserCode=totp(secret))["Status"] == "SUCCESS"
    )
    assert server.totp_secret(pool_id, "tom") == secret
    boto.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    user = boto.get_user(AccessToken=access)
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    assert user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"

    mfa = password_login(boto, client_id, "tom")
    assert mfa["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    with pytest.raises(ClientError) as bad:
        boto.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=mfa["Session"],
            ChallengeResponses={"USERNAME": "tom", "SOFTWARE_TOKEN_MFA_CODE": wrong},
        )
    assert code_of(bad) == "CodeMismatchException"
    mfa = password_login(boto, client_id, "tom")
    done = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=mfa["Session"],
        ChallengeResponses={"USERNAME": "tom", "SOFTWARE_TOKEN_MFA_CODE": totp(secret)},
    )
    assert "AccessToken" in done["AuthenticationResult"]


def test_mfa_setup_inside_the_sign_in(server: LocalServer, boto: Any) -> None:
    pool_id = server.create_pool(mfa="ON")
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "una", PASSWORD)
    setup = password_login(boto, client_id, "una")
    assert setup["ChallengeName"] == "MFA_SETUP"
    assert json.loads(setup["ChallengeParameters"]["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA"]
    associated = boto.associate_software_token(Session=setup["Session"])
    verified = boto.verify_software_token(
        Session=associated["Session"], UserCode=totp(associated["SecretCode"])
    )
    assert verified["Status"] == "SUCCESS"
    done = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="MFA_SETUP",
        Session=verified["Session"],
        ChallengeResponses={"USERNAME": "una"},
    )
    assert "AccessToken" in done["AuthenticationResult"]
    assert server.user(pool_id, "una").totp_enabled
    assert password_login(boto, client_id, "una")["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


def _totp_answer(boto: Any, client_id: str, username: str, code: str) -> Any:
    """Sign in with the password, then answer the SOFTWARE_TOKEN_MFA challenge with ``code``."""
    mfa = password_login(boto, client_id, username)
    assert mfa["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    return boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=mfa["Session"],
        ChallengeResponses={"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": code},
    )


def test_each_user_has_a_totp_secret_of_their_own(server: LocalServer, boto: Any) -> None:
    pool_id = server.create_pool(mfa="OPTIONAL")
    client_id, _ = server.create_client(pool_id)
    for name in ("ada", "bea"):
        server.create_user(pool_id, name, PASSWORD)
    # TOTP switched on through the test API draws a random secret for each user.
    ada, bea = server.enable_totp(pool_id, "ada"), server.enable_totp(pool_id, "bea")
    assert ada != bea and all(re.fullmatch("[A-Z2-7]{32}", s) for s in (ada, bea))
    assert server.enable_totp(pool_id, "ada") == ada  # on again: the secret stays
    with pytest.raises(ClientError) as refused:
        _totp_answer(boto, client_id, "bea", totp(ada))
    assert code_of(refused) == "CodeMismatchException"
    assert "AccessToken" in _totp_answer(boto, client_id, "bea", totp(bea))["AuthenticationResult"]
    # Off: the secret is gone (on again, a new one).
    server.local.api.set_user_mfa(pool_id, "ada", totp=False)
    with pytest.raises(LookupError):
        server.totp_secret(pool_id, "ada")
    assert server.enable_totp(pool_id, "ada") not in (ada, bea)
    with pytest.raises(LookupError, match="no user 'nobody'"):
        server.totp_secret(pool_id, "nobody")


def test_a_new_association_replaces_the_pending_secret_only(server: LocalServer, boto: Any) -> None:
    pool_id = server.create_pool(mfa="OPTIONAL")
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "ivo", PASSWORD)
    access = password_login(boto, client_id, "ivo")["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as unassociated:
        boto.verify_software_token(AccessToken=access, UserCode="123456")
    assert code_of(unassociated) == "SoftwareTokenMFANotFoundException"
    first = boto.associate_software_token(AccessToken=access)["SecretCode"]
    second = boto.associate_software_token(AccessToken=access)["SecretCode"]
    assert first != second  # a new secret each call; the first is no longer pending
    with pytest.raises(ClientError) as stale:
        boto.verify_software_token(AccessToken=access, UserCode=totp(first))
    assert code_of(stale) == "EnableSoftwareTokenMFAException"
    assert boto.verify_software_token(AccessToken=access, UserCode=totp(second))["Status"] == (
        "SUCCESS"
    )
    boto.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    # A new phone: until its secret is verified, sign-ins still check the old one.
    third = boto.associate_software_token(AccessToken=access)["SecretCode"]
    assert server.totp_secret(pool_id, "ivo") == second
    assert server.totp_secret(pool_id, "ivo", pending=True) == third
    assert "AuthenticationResult" in _totp_answer(boto, client_id, "ivo", totp(second))
    assert boto.verify_software_token(AccessToken=access, UserCode=totp(third))["Status"] == (
        "SUCCESS"
    )
    assert server.totp_secret(pool_id, "ivo") == third
    with pytest.raises(LookupError):
        server.totp_secret(pool_id, "ivo", pending=True)
    with pytest.raises(ClientError) as old_phone:
        _totp_answer(boto, client_id, "ivo", totp(second))
    assert code_of(old_phone) == "CodeMismatchException"
    assert "AuthenticationResult" in _totp_answer(boto, client_id, "ivo", totp(third))


def test_sms_mfa_and_choosing_a_method(server: LocalServer, boto: Any) -> None:
    pool_id = server.create_pool(mfa="OPTIONAL")
    client_id, _ = server.create_client(pool_id)
    server.create_user(pool_id, "sid", PASSWORD, attributes={"phone_number": "+15555550123"})
    server.enable_sms_mfa(pool_id, "sid")
    mfa = password_login(boto, client_id, "sid")
    assert mfa["ChallengeName"] == "SMS_MFA"
    assert mfa["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == "+*******0123"
    done = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="SMS_MFA",
        Session=mfa["Session"],
        ChallengeResponses={
            "USERNAME": "sid",
            "SMS_MFA_CODE": server.last_code(pool_id, "sid", SMS_MFA),
        },
    )
    assert "AccessToken" in done["AuthenticationResult"]

    server.enable_totp(pool_id, "sid", preferred=False)
    server.enable_sms_mfa(pool_id, "sid", preferred=False)
    choose = password_login(boto, client_id, "sid")
    assert choose["ChallengeName"] == "SELECT_MFA_TYPE"
    chosen = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="SELECT_MFA_TYPE",
        Session=choose["Session"],
        ChallengeResponses={"USERNAME": "sid", "ANSWER": "SMS_MFA"},
    )
    assert chosen["ChallengeName"] == "SMS_MFA"


def test_new_password_required(server: LocalServer, boto: Any, plain: tuple[str, str]) -> None:
    pool_id, client_id = plain
    server.create_user(
        pool_id,
        "nia",
        "Temp-passw0rd",
        status="FORCE_CHANGE_PASSWORD",
        attributes={"email": "nia@example.com"},
    )
    step = password_login(boto, client_id, "nia", "Temp-passw0rd")
    assert step["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert json.loads(step["ChallengeParameters"]["userAttributes"])["email"] == "nia@example.com"
    with pytest.raises(ClientError) as weak:
        boto.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=step["Session"],
            ChallengeResponses={"USERNAME": "nia", "NEW_PASSWORD": "weak"},
        )
    assert code_of(weak) == "InvalidPasswordException"
    step = password_login(boto, client_id, "nia", "Temp-passw0rd")
    done = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=step["Session"],
        ChallengeResponses={
            "USERNAME": "nia",
            "NEW_PASSWORD": "N3w-passw0rd",
            "userAttributes.name": "Nia",
        },
    )
    assert "AccessToken" in done["AuthenticationResult"]
    assert server.user(pool_id, "nia").status == "CONFIRMED"
    assert server.user(pool_id, "nia").attributes["name"] == "Nia"
    password_login(boto, client_id, "nia", "N3w-passw0rd")


def test_user_auth_choices(server: LocalServer, boto: Any, plain: tuple[str, str]) -> None:
    pool_id, client_id = plain
    server.create_user(pool_id, "uma", PASSWORD)

    def start(**extra: str) -> Any:
        return boto.initiate_auth(
            ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "uma", **extra}
        )

    direct = start(PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)
    assert "AccessToken" in direct["AuthenticationResult"]
    with pytest.raises(ClientError):
        start(PREFERRED_CHALLENGE="PASSWORD", PASSWORD="Wr0ng-password")

    srp = srp_client("uma", PASSWORD, pool_id, client_id)
    verifier = start(PREFERRED_CHALLENGE="PASSWORD_SRP", SRP_A=format(srp.large_a_value, "x"))
    assert verifier["ChallengeName"] == "PASSWORD_VERIFIER"
    boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=srp_answer(srp, verifier["ChallengeParameters"]),
    )

    choice = start()
    assert choice["ChallengeName"] == "SELECT_CHALLENGE"
    assert choice["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]
    done = boto.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="SELECT_CHALLENGE",
        Session=choice["Session"],
        ChallengeResponses={"USERNAME": "uma", "ANSWER": "PASSWORD", "PASSWORD": PASSWORD},
    )
    assert "AccessToken" in done["AuthenticationResult"]


def test_client_flow_permissions(server: LocalServer, boto: Any) -> None:
    pool_id = server.create_pool()
    client_id, _ = server.create_client(pool_id, explicit_auth_flows=["ALLOW_USER_SRP_AUTH"])
    server.create_user(pool_id, "flo", PASSWORD)
    with pytest.raises(ClientError) as exc:
        password_login(boto, client_id, "flo")
    assert message_of(exc) == "USER_PASSWORD_AUTH flow not enabled for this client"
    with pytest.raises(ClientError) as admin:
        boto.initiate_auth(
            ClientId=client_id, AuthFlow="ADMIN_NO_SRP_AUTH", AuthParameters={"USERNAME": "flo"}
        )
    assert code_of(admin) == "InvalidParameterException"
    with pytest.raises(ClientError) as unknown:
        password_login(boto, "nosuchclient", "flo")
    assert code_of(unknown) == "ResourceNotFoundException"


async def test_errors_map_to_acognito_classes(
    server: LocalServer, idp: IdpClient, plain: tuple[str, str]
) -> None:
    pool_id, client_id = plain
    if not server.has_user(pool_id, "ned"):
        server.create_user(pool_id, "ned", PASSWORD, attributes={"email": "ned@example.com"})
    await idp.call("forgot_password", ClientId=client_id, Username="ned")
    with pytest.raises(CodeMismatchError) as exc:
        await idp.call(
            "confirm_forgot_password",
            ClientId=client_id,
            Username="ned",
            ConfirmationCode="not-a-code",
            Password="N3w-passw0rd",
        )
    assert exc.value.code == "CodeMismatchException"
    assert exc.value.request_id
    with pytest.raises(NotAuthorizedError, match="Invalid Access Token"):
        await idp.call("get_user", AccessToken="a.b.c")
