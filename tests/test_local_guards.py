"""The local Cognito's guards: loopback Host names only (DNS rebinding), a non-simple
header on the test API's POSTs (cross-site pages), loopback trigger URLs, one Server
header (aiohttp's strict parser), CORS on /oauth2/token for registered callback origins
only, a test API that names the keys it refuses, and no password on argv."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
import subprocess
import sys
import textwrap
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from acognito.testing import AppClient, CognitoAdmin, LocalCognito, LocalCognitoError, LocalPool
from acognito.testing.plugin import HOSTED_UI_CALLBACK

pytestmark = pytest.mark.anyio


def raw(
    local: LocalCognito,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request as a browser or curl would send it: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", local.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def header(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in headers if k.lower() == name.lower()]


# ---------------------------------------------------------------- Host (DNS rebinding)


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:80", "127.0.0.1.nip.io", "10.0.0.1"]
)
def test_a_host_that_is_no_loopback_name_is_refused(cognito_local: LocalCognito, host: str) -> None:
    status, _, body = raw(cognito_local, "GET", "/_acognito/inbox", headers={"Host": host})
    assert status == 403 and b"not a loopback name" in body
    # the same for the Cognito API itself and moto's own pages
    target = {"X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools"}
    status, _, _ = raw(cognito_local, "POST", "/", b'{"MaxResults": 1}', {"Host": host, **target})
    assert status == 403
    assert raw(cognito_local, "GET", "/moto-api/", headers={"Host": host})[0] == 403


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.2", "[::1]", "app.localhost"])
def test_loopback_names_are_served(cognito_local: LocalCognito, host: str) -> None:
    status, _, body = raw(
        cognito_local, "GET", "/_acognito/inbox", headers={"Host": f"{host}:{cognito_local.port}"}
    )
    assert status == 200 and "codes" in json.loads(body)


# ---------------------------------------------------------------- the test API


def test_the_test_api_refuses_simple_posts_and_serves_curl_gets(
    cognito_local: LocalCognito,
) -> None:
    # What a cross-site form or a no-cors fetch can send: no JSON content type.
    for ctype in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": ctype} if ctype else {}
        body = json.dumps({"advance": 3600}).encode()
        status, _, answer = raw(cognito_local, "POST", "/_acognito/clock", body, headers)
        assert status == 415, ctype
        assert b"Content-Type: application/json" in answer
        url = "http://127.0.0.1.example/trigger"
        body = json.dumps({"pool_id": "p", "url": url}).encode()
        assert (
            raw(cognito_local, "POST", "/_acognito/custom-auth-triggers", body, headers)[0] == 415
        )
        assert raw(cognito_local, "POST", "/moto-api/reset", b"", headers)[0] == 415
    assert cognito_local.api.advance_clock(0) == cognito_local.api.advance_clock(0)  # unmoved
    # curl http://127.0.0.1:PORT/_acognito/inbox: no special header needed
    status, headers, _ = raw(cognito_local, "GET", "/_acognito/inbox")
    assert status == 200 and header(headers, "Content-Type") == ["application/json"]


def test_unknown_keys_are_refused_by_name(cognito_local: LocalCognito) -> None:
    api = cognito_local.api
    before = api.advance_clock(0)
    with pytest.raises(LocalCognitoError, match="unknown key.*seconds") as refused:
        api.call("clock", {"seconds": 3700})
    assert refused.value.status == 400
    assert api.advance_clock(0) == before  # nothing moved
    body = json.dumps({"seconds": 3700}).encode()
    status, _, answer = raw(
        cognito_local, "POST", "/_acognito/clock", body, {"Content-Type": "application/json"}
    )
    assert status == 400 and json.loads(answer)["unknown"] == ["seconds"]
    with pytest.raises(LocalCognitoError, match="unknown key.*user"):
        api.call("inbox", query={"user": "ann"})
    with pytest.raises(LocalCognitoError, match="missing key.*advance"):
        api.call("clock", {})
    with pytest.raises(LocalCognitoError, match="wrong type.*advance"):
        api.call("clock", {"advance": "an hour"})
    with pytest.raises(LocalCognitoError, match="unknown key.*minutes"):
        api.call("oauth/delay", {"path": "/oauth2/token", "minutes": 1})
    with pytest.raises(LocalCognitoError, match="no such test API") as missing:
        api.call("clocks", {"advance": 1})
    assert missing.value.status == 404
    with pytest.raises(LocalCognitoError, match="answers POST, not GET") as wrong:
        api.call("clock")
    assert wrong.value.status == 405


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example/trigger",
        "https://127.0.0.1:9/trigger",
        "http://127.0.0.1.evil.example/trigger",
        "file:///etc/passwd",
    ],
)
def test_trigger_urls_must_be_loopback(cognito_local: LocalCognito, url: str) -> None:
    with pytest.raises(LocalCognitoError, match="loopback") as refused:
        cognito_local.api.set_custom_auth_trigger_url("us-east-1_any", url)
    assert refused.value.status == 400


# ---------------------------------------------------------------- one Server header


def test_answers_carry_one_server_header_and_no_status_header(cognito_local: LocalCognito) -> None:
    target = {"X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools"}
    for path, body, headers in [
        ("/", b'{"MaxResults": 1}', target),  # moto's answer
        ("/", b"{}", {"X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"}),  # ours
        ("/_acognito/inbox", None, {}),
        ("/moto-api/", None, {}),
    ]:
        _, got, _ = raw(cognito_local, "POST" if body else "GET", path, body, headers)
        assert len(header(got, "Server")) == 1, (path, got)
        assert len(header(got, "Date")) == 1
        assert header(got, "status") == []


def test_aiohttp_strict_parser_under_python_dev_mode(cognito_local: LocalCognito) -> None:
    """``python -X dev`` makes aiohttp parse strictly: a doubled header failed every call."""
    program = textwrap.dedent(
        """
        import asyncio, sys
        from aiobotocore.session import get_session

        async def main():
            session = get_session()
            async with session.create_client(
                "cognito-idp", region_name="us-east-1", endpoint_url=sys.argv[1],
                aws_access_key_id="testing", aws_secret_access_key="testing",
            ) as client:
                answer = await client.list_user_pools(MaxResults=1)
                print("ok", "UserPools" in answer)

        asyncio.run(main())
        """
    )
    done = subprocess.run(  # noqa: S603 - our interpreter, fixed program
        [sys.executable, "-X", "dev", "-W", "ignore", "-c", program, cognito_local.endpoint_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.strip() == "ok True", done.stderr[-2000:]


# ---------------------------------------------------------------- CORS on /oauth2/token


def preflight(local: LocalCognito, origin: str, headers: str = "content-type") -> tuple[int, Any]:
    status, got, _ = raw(
        local,
        "OPTIONS",
        "/oauth2/token",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
    )
    return status, got


async def test_token_endpoint_cors_for_callback_origins_only(
    cognito_local: LocalCognito,
    cognito_admin: CognitoAdmin,
    cognito_pool: LocalPool,
    cognito_hosted_ui_client: AppClient,
) -> None:
    callback_origin = "http://localhost:8765"  # HOSTED_UI_CALLBACK's origin
    status, got = preflight(cognito_local, callback_origin, "content-type, authorization")
    assert status == 204
    assert header(got, "Access-Control-Allow-Origin") == [callback_origin]
    assert "POST" in header(got, "Access-Control-Allow-Methods")[0]
    for stranger in ("http://evil.example", "http://localhost:8766", "https://localhost:8765"):
        status, got = preflight(cognito_local, stranger)
        assert status == 403 and header(got, "Access-Control-Allow-Origin") == []
    status, got = preflight(cognito_local, callback_origin, "x-custom-header")
    assert status == 403 and header(got, "Access-Control-Allow-Origin") == []

    # Another client with another callback: its origin may call, but gets no
    # Access-Control-Allow-Origin on a request naming the hosted-UI client.
    other = await cognito_admin.create_hosted_ui_client(
        cognito_pool.user_pool_id, ["https://other.example:9443/cb"]
    )
    assert preflight(cognito_local, "https://other.example:9443")[0] == 204

    # The code exchange from the browser, as Swagger UI does it.
    username = "cors-user"
    await cognito_admin.create_user(cognito_pool.user_pool_id, username, "Corr3ct-Horse!")
    cognito_local.api.oauth_approve(cognito_hosted_ui_client.client_id, username)
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    query = urlencode(
        {
            "client_id": cognito_hosted_ui_client.client_id,
            "redirect_uri": HOSTED_UI_CALLBACK,
            "response_type": "code",
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    status, got, _ = raw(cognito_local, "GET", f"/oauth2/authorize?{query}")
    assert status == 302
    code = parse_qs(urlsplit(header(got, "Location")[0]).query)["code"][0]

    def exchange(origin: str, client_id: str, code: str) -> tuple[int, Any]:
        form = urlencode(
            {
                "grant_type": "authorization_code",
                "client_id": client_id,
                "code": code,
                "redirect_uri": HOSTED_UI_CALLBACK,
                "code_verifier": verifier,
            }
        ).encode()
        status, got, _ = raw(
            cognito_local,
            "POST",
            "/oauth2/token",
            form,
            {"Content-Type": "application/x-www-form-urlencoded", "Origin": origin},
        )
        return status, got

    status, got = exchange("https://other.example:9443", cognito_hosted_ui_client.client_id, "x")
    assert status == 400 and header(got, "Access-Control-Allow-Origin") == []
    status, got = exchange(callback_origin, other.client_id, "x")
    assert status == 400 and header(got, "Access-Control-Allow-Origin") == []
    status, got = exchange(callback_origin, cognito_hosted_ui_client.client_id, code)
    assert status == 200
    assert header(got, "Access-Control-Allow-Origin") == [callback_origin]
    assert header(got, "Vary") == ["Origin"]
    cognito_local.api.oauth_interactive(cognito_hosted_ui_client.client_id)


# ---------------------------------------------------------------- acognito local's password


def test_local_refuses_a_password_on_the_command_line() -> None:
    done = subprocess.run(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "-m", "acognito", "local", "--password", "Sekrit-123!"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--password-stdin" in done.stderr and "Sekrit-123!" not in done.stderr + done.stdout


def test_local_reads_the_password_from_a_file_or_the_environment(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from acognito.cli.errors import UsageError
    from acognito.cli.local import LOCAL_PASSWORD, PASSWORD_ENV, _password

    def args(**given: Any) -> argparse.Namespace:
        return argparse.Namespace(
            **{"password": None, "password_stdin": False, "password_file": None, **given}
        )

    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    assert _password(args()) == LOCAL_PASSWORD
    monkeypatch.setenv(PASSWORD_ENV, "From-Env-1!")
    assert _password(args()) == "From-Env-1!"
    secret = tmp_path / "pw"
    secret.write_text("From-File-1!\n")
    assert _password(args(password_file=str(secret))) == "From-File-1!"
    with pytest.raises(UsageError, match="cannot read"):
        _password(args(password_file=str(tmp_path / "missing")))
    secret.write_text("\n")
    with pytest.raises(UsageError, match="empty"):
        _password(args(password_file=str(secret)))
