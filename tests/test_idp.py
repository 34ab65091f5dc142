"""The aiobotocore room: backend choice, credentials that do I/O, error mapping."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest
from aiobotocore.session import AioSession

from acognito import AsyncCognito
from acognito._idp import IdpClient
from acognito.errors import ConfigurationError, InternalError, service_error

pytestmark = pytest.mark.anyio


@pytest.fixture
def credential_process_profile(tmp_path, monkeypatch):
    """An AWS config whose only credentials come from a credential_process script."""
    marker = tmp_path / "calls"
    script = tmp_path / "creds.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import json, pathlib
            p = pathlib.Path({str(marker)!r})
            p.write_text(p.read_text() + "x" if p.exists() else "x")
            print(json.dumps({{"Version": 1, "AccessKeyId": "AKIAPROCESS",
                              "SecretAccessKey": "from-process"}}))
            """
        )
    )
    config = tmp_path / "config"
    config.write_text(
        f"[profile acog]\ncredential_process = {sys.executable} {script}\nregion = us-east-1\n"
    )
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "nothing"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return marker


async def test_credential_process_works_on_both_backends(
    credential_process_profile, cognito_pool, anyio_backend
) -> None:
    session = AioSession(profile="acog")
    kwargs = cognito_pool.cognito_kwargs()
    del kwargs["access_key"], kwargs["secret_key"]
    async with AsyncCognito(**kwargs, session=session) as c:
        # An admin call needs signed requests, so the credentials must have resolved.
        await c.admin_create_user("pro", temporary_password="Temp-Passw0rd!")
        users = await c.get_users()
        assert [u.username for u in users] == ["pro"]
    assert credential_process_profile.read_text().startswith("x")
    if anyio_backend == "trio":
        # On trio the session itself must carry the httpx backend.
        cfg = session.get_default_client_config()
        assert cfg is not None and cfg.http_session_cls.__name__ == "HttpxSession"


async def test_no_credentials_for_an_admin_call_is_a_configuration_error(
    cognito_pool, tmp_path, monkeypatch
) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    kwargs = cognito_pool.cognito_kwargs()
    del kwargs["access_key"], kwargs["secret_key"]
    async with AsyncCognito(**kwargs) as c:
        with pytest.raises(ConfigurationError, match="credentials"):
            await c.get_users()


async def test_parameter_errors_never_echo_values(cognito_local) -> None:
    idp = IdpClient(
        region="us-east-1", endpoint_url=cognito_local.endpoint_url, access_key="a", secret_key="b"
    )
    try:
        with pytest.raises(ConfigurationError) as info:
            await idp.call(
                "initiate_auth",
                ClientId="c",
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "u", "PASSWORD": 1234567890},
            )
        assert "PASSWORD" in str(info.value)
        assert "1234567890" not in str(info.value)
        with pytest.raises(ConfigurationError, match="unknown cognito-idp operation"):
            await idp.call("no_such_operation")
    finally:
        await idp.close()


def test_service_error_mapping() -> None:
    err = service_error("InternalServerException", "boom", request_id="r1", operation="GetUser")
    assert isinstance(err, InternalError)
    assert err.code == "InternalServerException"
    unknown = service_error("BrandNewException", "new")
    assert type(unknown).__name__ == "CognitoServiceError"
    assert "r1" in str(err) and "GetUser" in str(err)
    json.dumps(repr(err))
