"""``--state DIR``: the local Cognito keeps its pools, clients, users, devices, passkeys and
revocations across a restart, with the same ids and keys; without it every start is fresh.
A state file it did not write (corrupt, or naming code to run) stops it with a message."""

from __future__ import annotations

import json
import os
import pickle
import stat
import sys
import urllib.request
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiobotocore.config import AioConfig

from acognito import AsyncCognito
from acognito.errors import NotAuthorizedError, ResourceNotFoundError
from acognito.testing import (
    CognitoAdmin,
    LocalCognito,
    LocalCognitoError,
    SoftwareAuthenticator,
    fresh_totp,
)

pytestmark = pytest.mark.anyio

PASSWORD = "St4te-Passw0rd!"
NO_RETRIES = AioConfig(retries={"total_max_attempts": 1})


def jwks(local: LocalCognito, pool_id: str) -> Any:
    url = f"{local.endpoint_url}/{pool_id}/.well-known/jwks.json"
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback
        return json.load(answer)


async def test_a_restart_keeps_pools_users_devices_passkeys_and_revocations(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    authenticator = SoftwareAuthenticator()
    with LocalCognito(state_dir=state) as first:
        async with CognitoAdmin(first.endpoint_url, region=first.region) as admin:
            pool = await admin.create_local_pool(device_tracking=True, mfa="OPTIONAL")
            await admin.create_user(pool.user_pool_id, "ann", PASSWORD)
            await admin.create_group(pool.user_pool_id, "staff")
            await admin.add_to_group(pool.user_pool_id, "ann", "staff")
        kwargs = {**pool.cognito_kwargs(), "botocore_config": NO_RETRIES}
        async with AsyncCognito(username="ann", **kwargs) as c:
            await c.authenticate(PASSWORD)
            device = await c.confirm_device()
            await c.register_passkey(authenticator)
            secret = await c.associate_software_token()
            assert await c.verify_software_token(await fresh_totp(secret))
            await c.set_user_mfa_preference(False, True, "SOFTWARE_TOKEN")
            revoked = c.refresh_token
            await c.revoke_token()
        kwargs |= {
            "device_key": device.device_key,
            "device_group_key": device.device_group_key,
            "device_password": device.device_password,
        }
        async with AsyncCognito(username="ann", **kwargs) as c:
            await c.authenticate(PASSWORD)  # the remembered device stands in for MFA
            kept = c.refresh_token
        keys = jwks(first, pool.user_pool_id)
    assert stat.S_IMODE(os.stat(state / "local-cognito.state").st_mode) == 0o600

    with LocalCognito(state_dir=state) as second:
        kwargs["endpoint_url"] = second.endpoint_url
        assert jwks(second, pool.user_pool_id) == keys
        async with CognitoAdmin(second.endpoint_url, region=second.region) as admin:
            described = await admin.idp.call("describe_user_pool", UserPoolId=pool.user_pool_id)
            assert described["UserPool"]["Id"] == pool.user_pool_id
            groups = await admin.idp.call(
                "admin_list_groups_for_user", UserPoolId=pool.user_pool_id, Username="ann"
            )
            assert [g["GroupName"] for g in groups["Groups"]] == ["staff"]
        async with AsyncCognito(username="ann", **kwargs) as c:
            await c.authenticate(PASSWORD)  # same client id, same password, same device
            assert [d.device_key for d in await c.list_devices()] == [device.device_key]
            assert len(await c.list_webauthn_credentials()) == 1
        async with AsyncCognito(username="ann", refresh_token=revoked, **kwargs) as c:
            with pytest.raises(NotAuthorizedError):
                await c.renew_access_token()  # revoked before the restart: still revoked
        async with AsyncCognito(username="ann", refresh_token=kept, **kwargs) as c:
            await c.renew_access_token()
        assert second.api.totp_secret(pool.user_pool_id, "ann") == secret

    with LocalCognito() as fresh:  # no state: nothing kept
        async with CognitoAdmin(fresh.endpoint_url, region=fresh.region) as admin:
            with pytest.raises(ResourceNotFoundError):
                await admin.idp.call("describe_user_pool", UserPoolId=pool.user_pool_id)


def test_a_state_file_it_did_not_write_stops_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "local-cognito.state").write_bytes(b"not a state file")
    with pytest.raises(LocalCognitoError, match="--state"):
        LocalCognito(state_dir=broken).start()

    hostile = tmp_path / "hostile"
    hostile.mkdir()
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self) -> Any:
            return (os.system, (f"touch {marker}",))

    (hostile / "local-cognito.state").write_bytes(pickle.dumps({"format": 1, "x": Payload()}))
    with pytest.raises(LocalCognitoError, match="may not"):
        LocalCognito(state_dir=hostile).start()
    assert not marker.exists()


async def test_acognito_local_with_state_serves_the_same_pool_after_a_restart(
    tmp_path: Path,
) -> None:
    from anyio.streams.buffered import BufferedByteReceiveStream

    async def run_once() -> dict[str, Any]:
        argv = [sys.executable, "-m", "acognito", "local", "--state", str(tmp_path / "st")]
        async with await anyio.open_process(argv) as proc:
            try:
                assert proc.stdout is not None
                out = BufferedByteReceiveStream(proc.stdout)
                lines: list[str] = []
                with anyio.fail_after(90):
                    while not lines or lines[-1] != "}":
                        lines.append((await out.receive_until(b"\n", 65536)).decode())
                info: dict[str, Any] = json.loads("\n".join(lines))
                async with AsyncCognito(
                    info["user_pool_id"],
                    info["client_id"],
                    username=info["username"],
                    user_pool_region=info["region"],
                    endpoint_url=info["endpoint_url"],
                    access_key="testing",
                    secret_key="testing",
                    botocore_config=NO_RETRIES,
                ) as c:
                    await c.authenticate(info["password"])
                proc.terminate()
                with anyio.fail_after(30):
                    await proc.wait()
                return info
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()

    first = await run_once()
    second = await run_once()
    assert (second["user_pool_id"], second["client_id"]) == (
        first["user_pool_id"],
        first["client_id"],
    )
