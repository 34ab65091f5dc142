"""The shipped local Cognito (acognito.testing) checks what moto alone fakes.

SRP proofs against the user's password, SECRET_HASH with Cognito's alias rules,
remembered devices with a real device proof, refresh rotation, revocation and global
sign-out, and a named, immediate error for what it does not emulate. Every test goes
through acognito's public API to the server over HTTP, on asyncio and trio.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from aiobotocore.config import AioConfig

from acognito import AsyncCognito
from acognito.auth import CognitoAuth
from acognito.errors import (
    InvalidParameterError,
    NotAuthorizedError,
    RefreshTokenReuseError,
    ResourceNotFoundError,
    UnsupportedOperationError,
)
from acognito.testing import CognitoAdmin, LocalCognito, LocalPool
from acognito.tokens import peek_claims

pytestmark = pytest.mark.anyio

PASSWORD = "Passw0rd!local"
WRONG = "WRONG-Passw0rd!"
NO_RETRIES = AioConfig(retries={"total_max_attempts": 1})


def session(pool: LocalPool, username: str, *, secret: bool = False, **kw: Any) -> AsyncCognito:
    return AsyncCognito(
        username=username, botocore_config=NO_RETRIES, **pool.cognito_kwargs(secret=secret), **kw
    )


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    """A tiny ASGI app answering 200, for the httpx auth to sign in against."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


# ---------------------------------------------------------------- 1. SRP checked for real


@pytest.mark.parametrize("kind", ["username", "email"])
@pytest.mark.parametrize("secret", [False, True], ids=["public", "secret"])
async def test_a_wrong_password_is_refused_by_srp(
    cognito_admin: CognitoAdmin, kind: str, secret: bool
) -> None:
    attrs = ["email"] if kind == "email" else []
    pool = await cognito_admin.create_local_pool(username_attributes=attrs)
    typed = "ann@example.com" if kind == "email" else "ann"
    pool_username = await cognito_admin.create_user(pool.user_pool_id, typed, PASSWORD)
    async with session(pool, typed, secret=secret) as c:
        with pytest.raises(NotAuthorizedError, match="Incorrect username or password"):
            await c.authenticate(WRONG)
        assert c.access_token is None
        await c.authenticate(PASSWORD)
        assert peek_claims(c.access_token or "")["username"] == pool_username
        await c.verify_tokens()


async def test_user_id_for_srp_is_the_pool_user_name(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool
) -> None:
    """AWS's JS client answers with USER_ID_FOR_SRP: it must be the user name, not the sub."""
    await cognito_admin.create_user(cognito_pool.user_pool_id, "bob", PASSWORD)
    resp = await cognito_admin.idp.call(
        "initiate_auth",
        ClientId=cognito_pool.public_client.client_id,
        AuthFlow="USER_SRP_AUTH",
        AuthParameters={"USERNAME": "bob", "SRP_A": "abcdef" * 20},
    )
    params = resp["ChallengeParameters"]
    assert resp["ChallengeName"] == "PASSWORD_VERIFIER"
    assert params["USER_ID_FOR_SRP"] == params["USERNAME"] == "bob"
    assert len(params["SRP_B"]) > 500 and len(params["SALT"]) >= 16
    # SECRET_BLOCK is opaque base64 (Cognito's is not a UUID either).
    assert "-" not in params["SECRET_BLOCK"]


async def test_from_password_refuses_a_wrong_password(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "carl", PASSWORD)
    options = dict(cognito_pool.cognito_kwargs())
    pool_id, client_id = options.pop("user_pool_id"), options.pop("client_id")
    for password, expect_ok in ((WRONG, False), (PASSWORD, True)):
        auth = CognitoAuth.from_password(
            pool_id, client_id, "carl", password, botocore_config=NO_RETRIES, **options
        )
        transport = httpx.ASGITransport(app=_ok)
        async with httpx.AsyncClient(auth=auth, transport=transport, base_url="http://app") as h:
            if expect_ok:
                assert (await h.get("/")).status_code == 200
            else:
                with pytest.raises(NotAuthorizedError):
                    await h.get("/")
        await auth.aclose()


async def test_cli_login_refuses_a_wrong_password(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool, tmp_path: Path
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "dora", PASSWORD)
    args = [
        *(sys.executable, "-m", "acognito", "login"),
        *("--pool-id", cognito_pool.user_pool_id),
        *("--client-id", cognito_pool.public_client.client_id),
        *("--username", "dora", "--endpoint-url", cognito_pool.endpoint_url),
        "--password-stdin",
        "--json",
    ]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    # The CLI's own profiles and token cache, not the ones of whoever runs the tests.
    env.update(ACOGNITO_CONFIG_DIR=str(tmp_path / "config"), ACOGNITO_CACHE_DIR=str(tmp_path))
    with anyio.fail_after(120):
        bad = await anyio.run_process(args, input=f"{WRONG}\n".encode(), env=env, check=False)
        good = await anyio.run_process(args, input=f"{PASSWORD}\n".encode(), env=env, check=False)
    assert bad.returncode == 1
    assert b"NotAuthorized" in bad.stderr
    assert WRONG.encode() not in bad.stderr + bad.stdout
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["access"]["username"] == "dora"


async def test_secret_hash_is_checked_with_the_alias_rules(cognito_admin: CognitoAdmin) -> None:
    pool = await cognito_admin.create_local_pool(username_attributes=["email"])
    sub = await cognito_admin.create_user(pool.user_pool_id, "eve@example.com", PASSWORD)
    client = pool.secret_client
    # Signed in by e-mail: the hash over what was typed works (and the session's answers
    # are hashed over the pool user name, the sub, which acognito does).
    async with session(pool, "eve@example.com", secret=True) as c:
        await c.authenticate(PASSWORD)
        await c.renew_access_token()  # refresh: hashed over the sub
    # A hash over anything else, or a missing one, is refused.
    assert client.client_secret is not None
    wrong = AsyncCognito(
        pool.user_pool_id,
        client.client_id,
        username="eve@example.com",
        client_secret=client.client_secret[::-1],
        user_pool_region=pool.region,
        endpoint_url=pool.endpoint_url,
        access_key="testing",
        secret_key="testing",
        botocore_config=NO_RETRIES,
    )
    async with wrong:
        with pytest.raises(NotAuthorizedError, match="secret hash"):
            await wrong.authenticate(PASSWORD)
    with pytest.raises(NotAuthorizedError, match="SECRET_HASH was not received"):
        await cognito_admin.idp.call(
            "initiate_auth",
            ClientId=client.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "eve@example.com", "PASSWORD": PASSWORD},
        )
    assert sub != "eve@example.com"


# ---------------------------------------------------------------- 2. not emulated: named, at once


async def test_an_operation_it_lacks_answers_at_once_with_a_named_error(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool
) -> None:
    start = time.monotonic()
    with pytest.raises(UnsupportedOperationError, match="not supported by the local Cognito"):
        await cognito_admin.idp.call(
            "describe_risk_configuration", UserPoolId=cognito_pool.user_pool_id
        )
    with pytest.raises(UnsupportedOperationError, match="GetUICustomization"):
        await cognito_admin.idp.call("get_ui_customization", UserPoolId=cognito_pool.user_pool_id)
    assert time.monotonic() - start < 5  # no retries of a 500


async def test_custom_auth_answers_the_challenge_set_through_the_test_api(
    cognito_local: LocalCognito, cognito_admin: CognitoAdmin, cognito_pool: LocalPool
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "fay", PASSWORD)
    async with session(cognito_pool, "fay") as c:
        with pytest.raises(InvalidParameterError, match="set_custom_auth"):
            await c.custom_authenticate(lambda params: "42")
    cognito_local.api.set_custom_auth(cognito_pool.user_pool_id, "42", {"question": "6*7"})
    seen: list[dict[str, str]] = []

    def answer(params: dict[str, str]) -> str:
        seen.append(dict(params))
        return str(eval(params["question"], {}))  # noqa: S307 - a fixed test expression

    async with session(cognito_pool, "fay") as c:
        await c.custom_authenticate(answer, password=PASSWORD)  # SRP first, then the challenge
        assert c.access_token and seen[0]["question"] == "6*7"
    async with session(cognito_pool, "fay") as c:
        with pytest.raises(NotAuthorizedError):
            await c.custom_authenticate(lambda params: "41")


# ---------------------------------------------------------------- 3. devices and tokens


async def test_remembered_device_proves_itself_and_is_forgotten(
    cognito_local: LocalCognito, cognito_admin: CognitoAdmin
) -> None:
    pool = await cognito_admin.create_local_pool(device_tracking=True)
    pool_username = await cognito_admin.create_user(pool.user_pool_id, "gus", PASSWORD)
    async with session(pool, "gus", secret=True) as first:
        await first.authenticate(PASSWORD)
        meta = first.new_device_metadata
        assert meta is not None
        # Before ConfirmDevice, the device-bound refresh token is refused.
        with pytest.raises(NotAuthorizedError, match="Invalid Refresh Token"):
            await first.renew_access_token()
        creds = await first.confirm_device("laptop")
        assert creds.device_key == meta["DeviceKey"]
        (record,) = cognito_local.api.devices(pool.user_pool_id, pool_username)
        assert (record.confirmed, record.remembered, record.name) == (True, True, "laptop")
        await first.renew_access_token()
        assert peek_claims(first.access_token or "")["device_key"] == creds.device_key

    device = {
        "device_key": creds.device_key,
        "device_group_key": creds.device_group_key,
        "device_password": creds.device_password,
    }
    async with session(pool, "gus", secret=True, **device) as again:
        await again.authenticate(PASSWORD)  # USER_SRP_AUTH, then DEVICE_SRP_AUTH
        assert again.new_device_metadata is None
        assert peek_claims(again.access_token or "")["device_key"] == creds.device_key
        assert [d.device_key for d in await again.list_devices()] == [creds.device_key]
        got = await again.get_device()
        assert (got.name, got.remembered) == ("laptop", True)
        await again.update_device_status(False)
        assert not (await again.get_device()).remembered
        await again.update_device_status(True)
        await again.forget_device()
        assert cognito_local.api.devices(pool.user_pool_id, pool_username) == []

    async with session(pool, "gus", secret=True, **device) as forgotten:
        with pytest.raises(ResourceNotFoundError, match="Device does not exist"):
            await forgotten.authenticate(PASSWORD)


async def test_a_wrong_device_secret_is_refused(cognito_admin: CognitoAdmin) -> None:
    pool = await cognito_admin.create_local_pool(device_tracking=True)
    await cognito_admin.create_user(pool.user_pool_id, "hal", PASSWORD)
    async with session(pool, "hal") as c:
        await c.authenticate(PASSWORD)
        creds = await c.confirm_device("phone")
    async with session(
        pool,
        "hal",
        device_key=creds.device_key,
        device_group_key=creds.device_group_key,
        device_password=creds.device_password + "x",
    ) as thief:
        with pytest.raises(NotAuthorizedError):
            await thief.authenticate(PASSWORD)
        assert thief.access_token is None


async def test_refresh_rotation_retires_the_old_token_after_the_grace_period(
    cognito_local: LocalCognito, cognito_admin: CognitoAdmin
) -> None:
    pool = await cognito_admin.create_local_pool()
    await cognito_admin.create_user(pool.user_pool_id, "ida", PASSWORD)
    client = await cognito_admin.create_client(
        pool.user_pool_id,
        secret=True,
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 30},
    )
    kw = {
        **pool.cognito_kwargs(),
        "client_id": client.client_id,
        "client_secret": client.client_secret,
    }
    async with AsyncCognito(
        username="ida", botocore_config=NO_RETRIES, refresh_token_rotation=True, **kw
    ) as c:
        await c.authenticate(PASSWORD)
        old = c.refresh_token
        assert old is not None
        await c.renew_access_token()
        new = c.refresh_token
        assert new and new != old
        assert cognito_local.api.refresh_token_status(old) == "rotated"
        assert cognito_local.api.refresh_token_status(new) == "active"
        # Within the grace period the old token still works once more...
        c.refresh_token = old
        await c.renew_access_token()
        # ...and after it, it is refused.
        cognito_local.api.advance_clock(31)
        try:
            c.refresh_token = old
            with pytest.raises(RefreshTokenReuseError):
                await c.renew_access_token()
        finally:
            cognito_local.api.advance_clock(-31)


async def test_revoke_and_global_sign_out_retire_refresh_tokens(
    cognito_local: LocalCognito, cognito_admin: CognitoAdmin, cognito_pool: LocalPool
) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "jo", PASSWORD)
    for secret in (False, True):
        async with session(cognito_pool, "jo", secret=secret) as c:
            await c.authenticate(PASSWORD)
            token = c.refresh_token
            assert token is not None
            await c.revoke_token()
            assert cognito_local.api.refresh_token_status(token) == "revoked"
            c.refresh_token = token
            with pytest.raises(NotAuthorizedError, match="revoked"):
                await c.renew_access_token()

    async with session(cognito_pool, "jo") as c:
        await c.authenticate(PASSWORD)
        token = c.refresh_token
        await c.logout()  # GlobalSignOut
        c.refresh_token = token
        with pytest.raises(NotAuthorizedError, match="revoked"):
            await c.renew_access_token()


# ---------------------------------------------------------------- the demo and `python -m acognito local`


async def test_the_demo_shows_a_wrong_password_refused(anyio_backend: str) -> None:
    from acognito.cli.demo import run_demo

    lines: list[str] = []
    with anyio.fail_after(120):
        await run_demo(lines.append)
    text = "\n".join(lines)
    assert "confirm_sign_up(code from the local inbox) -> ok" in text
    assert "refresh token rotated: the old one is retired" in text
    assert "authenticate(wrong password) with SRP -> refused: NotAuthorizedException" in text
    assert "eyJ" not in text


def _port_closed(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


@pytest.mark.parametrize("stop_signal", ["SIGTERM", "SIGINT"])
async def test_local_command_serves_a_ready_user_and_leaves_no_orphan(stop_signal: str) -> None:
    import signal
    import urllib.parse

    from anyio.streams.buffered import BufferedByteReceiveStream

    chosen = "Zoe-Ch0sen-Passw0rd!"
    async with await anyio.open_process(
        [sys.executable, "-m", "acognito", "local", "--username", "zoe", "--password-stdin"]
    ) as proc:
        try:
            assert proc.stdout is not None and proc.stdin is not None
            await proc.stdin.send(chosen.encode() + b"\n")
            out = BufferedByteReceiveStream(proc.stdout)
            lines: list[str] = []
            with anyio.fail_after(90):  # data on stdout: one JSON document
                while not lines or lines[-1] != "}":
                    lines.append((await out.receive_until(b"\n", 65536)).decode())
            info = json.loads("\n".join(lines))
            assert info["username"] == "zoe"
            assert "password" not in info  # a chosen password stays off the output
            assert info["oauth_domain_url"] == info["endpoint_url"]
            options = {
                "user_pool_region": info["region"],
                "endpoint_url": info["endpoint_url"],
                "access_key": "testing",
                "secret_key": "testing",
                "botocore_config": NO_RETRIES,
            }
            async with AsyncCognito(
                info["user_pool_id"], info["client_id"], username="zoe", **options
            ) as c:
                with pytest.raises(NotAuthorizedError):
                    await c.authenticate(WRONG)
                await c.authenticate(chosen)
                await c.verify_tokens()
            port = urllib.parse.urlsplit(info["endpoint_url"]).port
            assert port is not None and not _port_closed(port)
            proc.send_signal(getattr(signal, stop_signal))
            with anyio.fail_after(30):
                code = await proc.wait()
            # SIGTERM is a requested stop; Ctrl-C exits 130, as every command does.
            assert code == (0 if stop_signal == "SIGTERM" else 130)
            assert _port_closed(port)  # the moto server process went with it
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def test_the_server_exits_when_the_program_that_started_it_is_killed() -> None:
    """SIGKILL leaves no time for clean-up: the server notices its parent is gone."""
    import signal

    from anyio.streams.buffered import BufferedByteReceiveStream

    program = (
        "from acognito.testing import LocalCognito\n"
        "import sys, time\n"
        "local = LocalCognito(); local.start()\n"
        "print(local.endpoint_url, flush=True)\n"
        "time.sleep(600)\n"
    )
    async with await anyio.open_process([sys.executable, "-c", program]) as proc:
        try:
            assert proc.stdout is not None
            with anyio.fail_after(90):
                line = await BufferedByteReceiveStream(proc.stdout).receive_until(b"\n", 4096)
            port = int(line.decode().rsplit(":", 1)[1])
            assert not _port_closed(port)
            proc.send_signal(signal.SIGKILL)
            with anyio.fail_after(30):
                await proc.wait()
                while not _port_closed(port):  # noqa: ASYNC110 - polling another process
                    await anyio.sleep(0.2)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
