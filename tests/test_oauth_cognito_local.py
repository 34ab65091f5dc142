"""authorization_code + PKCE against the ``cognito-local`` emulator (npm), a second opinion.

cognito-local 5.x implements ``/oauth2/authorize`` (a sign-in form that redirects with
a real single-use code bound to the client, the redirect URI and the S256 challenge)
and ``/oauth2/token`` (authorization_code, refresh_token). The test installs the npm
package into a cache directory on first use (``ACOGNITO_COGNITO_LOCAL_DIR`` or
``~/.cache/acognito-tests/cognito-local-<version>``), starts it on 127.0.0.1 with its
data in a temporary directory, and stops it afterwards. It is skipped only when node
or npm is not installed; a failed install or start fails the test.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from acognito.errors import InvalidGrantOAuthError
from acognito.oauth import OAuth2Client, generate_code_verifier

pytestmark = pytest.mark.anyio

VERSION = "5.3.0"
REDIRECT = "http://127.0.0.1:9/callback"
USERNAME = "alice@example.com"
PASSWORD = "Corr3ct-Horse!"


def claims_of(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _install_dir() -> Path:
    configured = os.environ.get("ACOGNITO_COGNITO_LOCAL_DIR")
    if configured:
        return Path(configured)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "acognito-tests" / f"cognito-local-{VERSION}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def cognito_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """cognito-local on 127.0.0.1, installed with npm on first use; yields its URL."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        # A developer's machine may lack Node; CI has it, so there a skip would hide a gap.
        if os.environ.get("CI"):
            pytest.fail("node/npm not installed: cannot install the cognito-local emulator")
        pytest.skip("node/npm not installed: cannot install the cognito-local emulator")
    prefix = _install_dir()
    start_js = prefix / "node_modules" / "cognito-local" / "lib" / "bin" / "start.js"
    if not start_js.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
             f"cognito-local@{VERSION}"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )  # fmt: skip
        if done.returncode != 0 or not start_js.exists():
            pytest.fail(f"npm install cognito-local@{VERSION} failed:\n{done.stderr[-2000:]}")
    data = tmp_path_factory.mktemp("cognito-local")
    port = _free_port()
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [node, str(start_js)],
        cwd=data,
        env={**os.environ, "PORT": str(port), "HOST": "127.0.0.1"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"cognito-local exited: {(data / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("cognito-local did not answer /health within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@dataclass
class Pool:
    url: str
    client_id: str


@pytest.fixture(scope="module")
def pool(cognito_local: str) -> Pool:
    """A pool, a public app client allowed the code grant, and a confirmed user."""
    import boto3

    idp = boto3.client(
        "cognito-idp",
        endpoint_url=cognito_local,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the emulator ignores credentials
    )
    pool_id = idp.create_user_pool(PoolName="oauth-test")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="spa",
        CallbackURLs=[REDIRECT],
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        AllowedOAuthFlowsUserPoolClient=True,
    )["UserPoolClient"]
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=USERNAME,
        TemporaryPassword="Temp0rary!pass",
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username=USERNAME, Password=PASSWORD, Permanent=True
    )
    return Pool(cognito_local, client["ClientId"])


@pytest.fixture
async def oauth(pool: Pool) -> AsyncIterator[OAuth2Client]:
    async with OAuth2Client(pool.url, pool.client_id) as client:
        yield client


async def sign_in(url: str, password: str = PASSWORD) -> httpx.Response:
    """What a person does in the browser: open the authorize URL, submit the form."""
    async with httpx.AsyncClient() as browser:
        page = await browser.get(url)
        assert page.status_code == 200, page.text
        assert "<form" in page.text
        form = dict(parse_qsl(urlsplit(url).query))
        form.update(username=USERNAME, password=password)
        action = url.split("?", 1)[0]
        return await browser.post(action, data=form)


async def test_code_grant_with_pkce_on_cognito_local(oauth: OAuth2Client, pool: Pool) -> None:
    request = oauth.authorization_url(REDIRECT, scopes=["openid", "email"])
    answer = await sign_in(request.url)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT)

    tokens = await oauth.complete_authorization(request, location)
    assert tokens.token_type == "Bearer"
    assert tokens.expires_in == 3600
    assert tokens.id_token is not None
    assert tokens.refresh_token is not None
    access = claims_of(tokens.access_token)
    assert access["client_id"] == pool.client_id
    assert access["token_use"] == "access"
    assert claims_of(tokens.id_token)["aud"] == pool.client_id

    refreshed = await oauth.refresh(tokens.refresh_token)
    assert refreshed.access_token != tokens.access_token
    assert refreshed.refresh_token == tokens.refresh_token  # kept, not rotated

    # The code was single use.
    with pytest.raises(InvalidGrantOAuthError):
        await oauth.complete_authorization(request, location)


async def test_wrong_verifier_is_refused_by_cognito_local(oauth: OAuth2Client) -> None:
    request = oauth.authorization_url(REDIRECT, scopes=["openid"])
    answer = await sign_in(request.url)
    code = request.code_from_redirect(answer.headers["location"])
    with pytest.raises(InvalidGrantOAuthError):
        await oauth.exchange_code(code, REDIRECT, generate_code_verifier())


async def test_wrong_password_gets_no_code(oauth: OAuth2Client) -> None:
    request = oauth.authorization_url(REDIRECT, scopes=["openid"])
    answer = await sign_in(request.url, password="not-the-password")
    assert answer.status_code == 200
    assert "Incorrect username or password" in answer.text
