"""The local Cognito launcher and admin helpers (acognito.testing)."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from acognito.errors import ConfigurationError
from acognito.testing import LocalCognito, LocalCognitoError, TokenIssuer, totp

pytestmark = pytest.mark.anyio


def test_totp_matches_rfc6238_vector() -> None:
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, at=59, digits=8) == "94287082"
    assert totp(secret, at=1111111109, digits=8) == "07081804"


def test_local_totp_secrets_and_the_one_step_of_skew() -> None:
    from acognito.testing._local_totp import code_matches, new_secret

    drawn = {new_secret() for _ in range(50)}
    assert len(drawn) == 50  # random: no two alike
    for secret in drawn:
        assert len(secret) == 32 and len(base64.b32decode(secret)) == 20
    secret = drawn.pop()
    now = 1_700_000_015.0
    for skew in (-1, 0, 1):
        assert code_matches(secret, totp(secret, at=now + 30 * skew), now)
    for skew in (-3, -2, 2, 3):
        code = totp(secret, at=now + 30 * skew)
        if code not in {totp(secret, at=now + 30 * s) for s in (-1, 0, 1)}:
            assert not code_matches(secret, code, now)
    assert not code_matches(secret, None, now) and not code_matches(secret, "", now)
    assert not code_matches(secret, totp(new_secret(), at=now) + "0", now)


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


# ------------------------------------------------------- the keep-alive moto runner

COGNITO_HEADERS = {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools",
    "Authorization": (
        "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/cognito-idp/aws4_request, "
        "SignedHeaders=host, Signature=0"
    ),
}


def _connection(local: LocalCognito) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(local.host, local.port, timeout=10)


def test_local_cognito_reuses_one_connection_for_many_requests(cognito_local) -> None:
    conn = _connection(cognito_local)
    try:
        conn.request("GET", "/moto-api/")
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        assert first.status == 200 and sock is not None
        assert first.getheader("Connection") is None
        local_port = sock.getsockname()[1]
        conn.request("POST", "/", body=b'{"MaxResults": 5}', headers=COGNITO_HEADERS)
        second = conn.getresponse()
        body = second.read()
        # http.client drops its socket when the server says close; the same one is kept.
        assert second.status == 200 and conn.sock is sock
        assert sock.getsockname()[1] == local_port
        assert "UserPools" in json.loads(body)
        assert int(second.getheader("Content-Length") or -1) == len(body)
    finally:
        conn.close()


def test_local_cognito_drains_unread_request_bodies(cognito_local) -> None:
    """A body the app ignores (sized or chunked) must not leak into the next request."""
    conn = _connection(cognito_local)

    def chunks():
        yield b"GET /moto-api/reset HTTP/1.1\r\n"  # would be a request if left unread
        yield b"\r\n"

    try:
        conn.request("GET", "/moto-api/", body=b"POST /moto-api/reset HTTP/1.1\r\n\r\n")
        assert conn.getresponse().read() and conn.sock is not None
        sock = conn.sock
        conn.request("GET", "/moto-api/", body=chunks(), encode_chunked=True)
        chunked = conn.getresponse()
        assert chunked.read() and chunked.status == 200
        conn.request("POST", "/", body=b"{}", headers=COGNITO_HEADERS)
        response = conn.getresponse()
        assert response.status == 200 and "UserPools" in json.loads(response.read())
        assert conn.sock is sock
    finally:
        conn.close()


def test_local_cognito_closes_for_http_1_0_clients(cognito_local) -> None:
    with socket.create_connection((cognito_local.host, cognito_local.port), timeout=10) as sock:
        sock.sendall(b"GET /moto-api/ HTTP/1.0\r\nHost: localhost\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):  # ends only when the server closes
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"Connection: close" in head
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    assert len(body) == length


def test_local_cognito_error_closes_the_connection(cognito_local) -> None:
    """An operation moto does not implement: a 500, and the connection is not reused."""
    conn = _connection(cognito_local)
    try:
        headers = {**COGNITO_HEADERS, "X-Amz-Target": "AWSCognitoIdentityProviderService.X"}
        conn.request("POST", "/", body=b"{}", headers=headers)
        response = conn.getresponse()
        response.read()
        assert response.status >= 400
        if response.status >= 500:
            assert response.getheader("Connection") == "close" and conn.sock is None
    finally:
        conn.close()


def test_moto_own_server_closes_every_connection() -> None:
    with LocalCognito(keep_alive=False) as local:
        conn = _connection(local)
        try:
            conn.request("GET", "/moto-api/")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            assert response.getheader("Connection") == "close"
            assert conn.sock is None
        finally:
            conn.close()


def test_response_delay_holds_every_response() -> None:
    with LocalCognito(response_delay=0.3) as local:
        conn = _connection(local)
        try:
            for _ in range(2):
                start = time.perf_counter()
                conn.request("GET", "/moto-api/")
                response = conn.getresponse()
                response.read()
                assert response.status == 200
                assert time.perf_counter() - start >= 0.3
        finally:
            conn.close()


def test_response_delay_is_checked() -> None:
    with pytest.raises(ConfigurationError):
        LocalCognito(response_delay=-1)
    with pytest.raises(ConfigurationError):
        LocalCognito(response_delay=float("nan"))
    with pytest.raises(ConfigurationError, match="keep_alive"):
        LocalCognito(response_delay=0.1, keep_alive=False)


def test_launcher_leaves_moto_out_of_this_process() -> None:
    """moto runs in its own process; importing it here would only grow this heap."""
    code = (
        "import sys\n"
        "from acognito.testing import LocalCognito\n"
        "with LocalCognito() as local:\n"
        "    assert local.running\n"
        "print(sorted(m for m in ('moto', 'flask', 'werkzeug') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


async def test_fresh_totp_leaves_time_in_its_window(anyio_backend) -> None:
    import time

    from acognito.testing import fresh_totp

    secret = base64.b32encode(b"12345678901234567890").decode()
    # A 2-second window keeps the wait short: it waits (75% of the time) until at least
    # 1.5 s of a window are left, so the code is still the current one now.
    code = await fresh_totp(secret, min_remaining=1.5, step=2)
    assert 2 - time.time() % 2 > 1.4
    assert code == totp(secret, step=2)
