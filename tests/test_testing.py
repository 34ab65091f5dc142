"""The local Cognito launcher and admin helpers (acognito.testing)."""

from __future__ import annotations

import base64
import subprocess
import sys
import urllib.request

import pytest

from acognito.testing import LocalCognito, LocalCognitoError, TokenIssuer, totp

pytestmark = pytest.mark.anyio


def test_totp_matches_rfc6238_vector() -> None:
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, at=59, digits=8) == "94287082"
    assert totp(secret, at=1111111109, digits=8) == "07081804"


def test_launcher_starts_answers_and_stops() -> None:
    with LocalCognito() as local:
        assert local.running
        with urllib.request.urlopen(f"{local.endpoint_url}/moto-api/", timeout=5) as resp:
            assert resp.status == 200
        proc = local._proc
        assert proc is not None
    assert not local.running
    assert proc.poll() is not None
    with pytest.raises(LocalCognitoError):
        _ = local.endpoint_url


def test_launcher_stops_when_body_raises() -> None:
    local = LocalCognito()
    with pytest.raises(RuntimeError, match="boom"), local:
        proc = local._proc
        raise RuntimeError("boom")
    assert proc is not None and proc.poll() is not None


def test_launcher_reports_a_port_in_use() -> None:
    with LocalCognito() as first:
        second = LocalCognito(port=first.port, startup_timeout=5)
        with pytest.raises(LocalCognitoError):
            second.start()
        assert not second.running


def test_no_orphan_after_interpreter_exit() -> None:
    code = (
        "from acognito.testing import LocalCognito\n"
        "l = LocalCognito().start()\n"
        "print(l._proc.pid, flush=True)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    pid = int(out.stdout.strip())
    # atexit stopped it: the pid no longer runs (or is a zombie reaped by init).
    import os

    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive


async def test_admin_creates_pool_clients_and_users(cognito_admin, cognito_pool) -> None:
    assert cognito_pool.user_pool_id.startswith("us-east-1_")
    assert cognito_pool.secret_client.client_secret
    assert cognito_pool.public_client.client_secret is None
    assert "client_secret" not in repr(cognito_pool.secret_client).replace("client_secret=", "")
    assert cognito_pool.secret_client.client_secret not in repr(cognito_pool)
    name = await cognito_admin.create_user(cognito_pool.user_pool_id, "alice")
    assert name == "alice"
    users = await cognito_admin.idp.call("list_users", UserPoolId=cognito_pool.user_pool_id)
    assert [u["Username"] for u in users["Users"]] == ["alice"]
    assert users["Users"][0]["UserStatus"] == "CONFIRMED"


async def test_admin_forgot_password_code(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(
        cognito_pool.user_pool_id, "bob", attributes={"email": "bob@example.com"}
    )
    code = await cognito_admin.forgot_password_code(cognito_pool.public_client.client_id, "bob")
    assert code.isdigit() or len(code) >= 6


def test_token_issuer_signs_verifiable_tokens() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    issuer = TokenIssuer("eu-west-1_abc")
    token = issuer.access_token(client_id="cid")
    head, payload, sig = token.split(".")
    raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    issuer.private_key.public_key().verify(
        raw, f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert issuer.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    assert issuer.jwks()["keys"][0]["kid"] == issuer.kid
