"""``acognito login --hosted-ui`` end to end in a real headless browser (Debian's
Chromium driven by Playwright): the browser signs in on the authorize page and lands
on the CLI's loopback listener; then ``token`` (with a refresh through the OAuth2
domain) and ``logout`` (revoking at the domain)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from acognito.testing import DEFAULT_PASSWORD, LocalCognito, TokenIssuer
from cli_support import Cli, one_line_error
from oauth_domain import LocalDomain

CHROMIUM = os.environ.get("ACOGNITO_TEST_CHROMIUM", "/usr/bin/chromium")

_BROWSER_MISSING = (
    not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM))
    or importlib.util.find_spec("playwright") is None
)
# On a developer's machine without a browser the end-to-end test is skipped, with the
# reason shown; CI installs both (.ci/run), so there a missing browser is a failure.
_browser_test = pytest.mark.skipif(
    _BROWSER_MISSING and not os.environ.get("CI"),
    reason="needs Chromium (apt-get install chromium) and playwright (pip install playwright)",
)


@dataclass
class AuthorizeSite:
    """What the CLI needs to sign in on a pool's domain, and what the test checks there."""

    domain: str
    pool_id: str
    endpoint_url: str  # where the pool's JWKS is served
    client_id: str
    redirect_uri: str
    port: int
    username: str
    server: Any

    def pool_args(self) -> list[str]:
        return [
            "--domain",
            self.domain,
            "--pool-id",
            self.pool_id,
            "--endpoint-url",
            self.endpoint_url,
            "--client-id",
            self.client_id,
        ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def authorize_site(cognito_local: LocalCognito) -> Iterator[AuthorizeSite]:
    """THE authorize page the browser signs in on: the shipped local Cognito's OAuth2
    domain, a public hosted-UI client (PKCE) whose callback is the CLI's listener. The
    user is signed in without the form (test API) unless a test asks for the form."""
    port = _free_port()
    redirect = f"http://localhost:{port}/callback"
    with LocalDomain(cognito_local) as server:
        server.add_user("hana", email="hana@example.com")
        server.authorize_user = "hana"
        client = server.add_client(
            secret=False,
            scopes={"openid", "email", "profile"},
            redirect_uris={redirect},
        )
        yield AuthorizeSite(
            domain=server.url,
            pool_id=server.pool_id,
            endpoint_url=cognito_local.endpoint_url,
            client_id=client.client_id,
            redirect_uri=redirect,
            port=port,
            username="hana",
            server=server,
        )


def _wait_for_url(proc: subprocess.Popen[str], timeout: float) -> tuple[str, list[str]]:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if "/oauth2/authorize?" in line:
            return line.strip(), seen
    raise AssertionError(f"no authorize URL on stderr: {seen}")


@_browser_test
def test_hosted_ui_login_in_a_real_browser(tmp_path, authorize_site) -> None:
    from playwright.sync_api import sync_playwright

    cli = Cli(tmp_path)
    # The real login page this time: the browser fills in the form.
    authorize_site.server.api.oauth_interactive(authorize_site.client_id)
    proc = subprocess.Popen(
        cli.argv(
            "login",
            "--hosted-ui",
            "--no-browser",
            "--port",
            str(authorize_site.port),
            "--timeout",
            "60",
            *authorize_site.pool_args(),
        ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli.env(),
    )
    try:
        url, _ = _wait_for_url(proc, 30)
        assert "code_challenge_method=S256" in url and "state=" in url
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            try:
                page = browser.new_page()
                page.goto(url, timeout=30_000)
                assert page.title() == "Sign in (local Cognito)"
                page.fill("#username", authorize_site.username)
                page.fill("#password", "not-the-password")
                page.click("button[type=submit]")
                page.wait_for_load_state()
                assert "Incorrect username or password." in page.inner_text("#error")
                page.fill("#username", authorize_site.username)
                page.fill("#password", DEFAULT_PASSWORD)
                with page.expect_navigation(timeout=30_000):
                    page.click("button[type=submit]")
                page.wait_for_load_state()
                landed = page.url
                text = page.inner_text("body")
            finally:
                browser.close()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert landed.startswith(authorize_site.redirect_uri + "?")
    assert "Signed in" in text and "close this tab" in text
    assert proc.returncode == 0, err
    assert "Signed in as hana" in err
    # The PKCE verifier the CLI kept matched the challenge the browser carried.
    assert authorize_site.server.counts["token:authorization_code"] == 1

    token = cli("token")
    assert token.code == 0, token.err
    claims = authorize_site.server.verify_access_token(token.out.strip())
    assert claims is not None and claims["username"] == "hana"
    assert cli("token", "--id").code == 0

    # An expired cached token is refreshed at the domain's token endpoint, no prompt.
    cache = cli.cache_file("hana")
    saved = cli.cached("hana")
    assert saved["source"] == "oauth"
    expired = TokenIssuer(authorize_site.pool_id).access_token(
        client_id=authorize_site.client_id, username="hana", now=int(time.time()) - 7200
    )
    saved["access_token"] = expired
    cli.write_cached("hana", saved)
    fresh = cli("token")
    assert fresh.code == 0, fresh.err
    assert fresh.out.strip() != expired
    assert authorize_site.server.counts["token:refresh_token"] == 1

    out = cli("logout")
    assert out.code == 0, out.err
    assert authorize_site.server.counts["/oauth2/revoke"] == 1
    assert not cache.exists()


def test_hosted_ui_needs_a_domain(tmp_path) -> None:
    run = Cli(tmp_path)("login", "--hosted-ui", "--pool-id", "eu-west-1_Cli1", "--client-id", "abc")
    assert run.code == 2
    assert "--domain" in one_line_error(run)


def test_hosted_ui_gives_up_after_the_timeout(tmp_path, authorize_site) -> None:
    run = Cli(tmp_path)(
        "login",
        "--hosted-ui",
        "--no-browser",
        "--port",
        str(authorize_site.port),
        "--timeout",
        "1.5",
        *authorize_site.pool_args(),
    )
    assert run.code == 1
    assert "/oauth2/authorize?" in run.err
    last = run.err.splitlines()[-1]
    assert "no sign-in came back within 2 s; run 'acognito login --hosted-ui' again" in last


def test_hosted_ui_opens_the_browser_with_webbrowser(tmp_path, authorize_site) -> None:
    # $BROWSER is what Python's webbrowser runs: here a command that hands the URL to
    # this test, which follows the redirects like a browser would (no JavaScript).
    import httpx

    seen = tmp_path / "url"
    cli = Cli(tmp_path, extra_env={"BROWSER": f"sh -c 'echo \"$0\" > {seen}' %s"})
    proc = subprocess.Popen(
        cli.argv(
            "login",
            "--hosted-ui",
            "--port",
            str(authorize_site.port),
            "--timeout",
            "30",
            *authorize_site.pool_args(),
        ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli.env(),
    )
    try:
        deadline = time.monotonic() + 30
        while not (seen.exists() and seen.read_text().strip()):
            assert time.monotonic() < deadline and proc.poll() is None, (
                proc.stderr.read() if proc.stderr else ""
            )
            time.sleep(0.05)
        page = httpx.get(seen.read_text().strip(), follow_redirects=True, timeout=10)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert page.status_code == 200 and "Signed in" in page.text
    assert proc.returncode == 0, err
    assert "Opened the browser to sign in." in err
    assert "/oauth2/authorize?" not in err  # the URL went to the browser, not the terminal


# ------------------------------------------------------------------------ the listener


def _login(cli: Cli, site: AuthorizeSite, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cli.argv(
            "login",
            "--hosted-ui",
            "--no-browser",
            "--timeout",
            "60",
            *site.pool_args(),
            *extra,
        ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli.env(),
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_listener_waits_for_the_callback_of_this_sign_in(tmp_path, authorize_site) -> None:
    """A stray connection, a port scan, garbage, another path, a callback with a wrong,
    missing or repeated state: each is answered and ignored, none shows "Signed in";
    then the real callback signs in."""
    import httpx

    cli = Cli(tmp_path)
    proc = _login(cli, authorize_site, "--port", str(authorize_site.port))
    try:
        url, _ = _wait_for_url(proc, 30)
        state = parse_qs(urlsplit(url).query)["state"][0]
        here = ("127.0.0.1", authorize_site.port)
        with socket.create_connection(here, timeout=5):
            pass  # a port scan: connect, say nothing, leave
        with socket.create_connection(here, timeout=5) as sock:
            sock.sendall(b"\x16\x03\x01\x00\x05hello\r\n\r\n")  # not HTTP at all
            sock.recv(4096)
        with socket.create_connection(here, timeout=5) as sock:
            sock.sendall(b"GET /callback?code=x&st")  # half a request, then gone
        base = f"http://127.0.0.1:{authorize_site.port}"
        assert httpx.get(base + "/favicon.ico", timeout=10).status_code == 404
        forged = [
            f"/callback?code=forged&state={'A' * len(state)}",  # wrong state
            "/callback?code=forged",  # no state
            f"/callback?code=forged&state={state}&state={state}",  # state twice
            f"/callback?error=access_denied&state={state[:-1]}",  # an error, wrong state
        ]
        for path in forged:
            page = httpx.get(base + path, timeout=10)
            assert page.status_code == 400, path
            assert "Signed in" not in page.text and "Not this sign-in" in page.text
        assert proc.poll() is None  # still waiting
        page = httpx.get(url, follow_redirects=True, timeout=30)
        assert page.status_code == 200 and "Signed in" in page.text
        out, err = _finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Signed in as hana" in err
    assert err.count("ignored a callback that does not belong to this sign-in") == len(forged)
    assert "Traceback" not in err and "EndOfStream" not in err
    assert authorize_site.server.counts["token:authorization_code"] == 1  # forged codes never sent


def test_an_id_token_for_another_nonce_is_refused(tmp_path, authorize_site) -> None:
    """An attacker who sees the authorize URL asks for a code with their own nonce and
    hands it to the listener with the right state: PKCE and state pass, the nonce does
    not, and nothing is cached."""
    import httpx

    cli = Cli(tmp_path)
    proc = _login(cli, authorize_site, "--port", str(authorize_site.port))
    try:
        url, _ = _wait_for_url(proc, 30)
        query = parse_qs(urlsplit(url).query)
        assert query["nonce"][0]
        query["nonce"] = ["the-attackers-nonce"]
        theirs = url.split("?")[0] + "?" + urlencode({k: v[0] for k, v in query.items()})
        hop = httpx.get(theirs, follow_redirects=False, timeout=10)
        assert hop.status_code in (302, 303), hop.text
        httpx.get(hop.headers["location"], timeout=10)
        out, err = _finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    line = err.strip().splitlines()[-1]
    assert "the id token's nonce is missing or not the one this sign-in sent" in line, err
    assert "the-attackers-nonce" not in err
    assert not cli.cache_file("hana").exists()


def test_a_callback_url_the_client_lacks_fails_before_the_browser(tmp_path, authorize_site):
    other = _free_port()
    run = Cli(tmp_path)(
        "login",
        "--hosted-ui",
        "--no-browser",
        "--port",
        str(other),
        *authorize_site.pool_args(),
        timeout=30,
    )
    assert run.code == 2
    line = one_line_error(run)
    assert "the pool's domain refused this sign-in: HTTP 400 (redirect_mismatch)" in line
    assert (
        f"register http://localhost:{other}/callback as a callback URL of app client "
        f"{authorize_site.client_id}, then keep the port: "
        f"acognito configure --profile default --callback-port {other}"
    ) in line
    assert "/oauth2/authorize?" not in run.err  # no browser was sent anywhere


def test_an_unknown_app_client_fails_before_the_browser(tmp_path, authorize_site) -> None:
    args = authorize_site.pool_args()
    args[args.index("--client-id") + 1] = "unknownclient123"
    run = Cli(tmp_path)("login", "--hosted-ui", "--no-browser", *args, timeout=30)
    assert run.code == 2
    line = one_line_error(run)
    assert "invalid client_id" in line and "check --client-id and --domain" in line


def test_the_callback_port_comes_from_the_profile(tmp_path, authorize_site) -> None:
    import httpx

    cli = Cli(tmp_path)
    saved = cli(
        "configure",
        "--profile",
        "web",
        *authorize_site.pool_args(),
        "--callback-port",
        str(authorize_site.port),
    )
    assert saved.code == 0, saved.err
    proc = _login(cli, authorize_site, "--profile", "web")
    try:
        url, _ = _wait_for_url(proc, 30)
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        assert redirect == authorize_site.redirect_uri
        httpx.get(url, follow_redirects=True, timeout=30)
        out, err = _finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    status = cli("status", "--profile", "web")
    assert f"callback http://localhost:{authorize_site.port}/callback" in status.out
    assert cli("status", "--json").json()["profiles"][0]["callback_port"] == authorize_site.port
