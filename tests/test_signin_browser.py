"""Server-side sign-in end to end: Debian's Chromium (playwright, from a thread of its own)
signs in through the shipped local Cognito's managed login into the same small app in
Starlette and FastAPI (hypercorn on asyncio and on trio), Flask and Django.

Per framework: the login page, the protected page, a forced expiry then a silent
refresh, the logout after which the refresh token is revoked at the server; the refusals
(a forged state, a replayed callback, a replayed code, a tampered cookie, an expired
session, a cross-site logout POST, an app POST without the CSRF token); the cookie never
holds a token; a bearer token is judged by the token, never by the cookie.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from acognito.testing import LocalCognito
from signin_support import BrowserThread, Pool, Site, needs_browser, start_site, stop_site

pytestmark = needs_browser

SITES = [
    "starlette-asyncio",
    "starlette-trio",
    "fastapi-asyncio",
    "fastapi-trio",
    "flask",
    "django",
]
LOGIN_TITLE = "Sign in (local Cognito)"


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserThread]:
    thread = BrowserThread()
    try:
        yield thread
    finally:
        thread.close()


@pytest.fixture(scope="module")
def pool(cognito_local: LocalCognito) -> Iterator[Pool]:
    made = Pool(cognito_local)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="module", params=SITES)
def site(request: pytest.FixtureRequest, pool: Pool) -> Iterator[Site]:
    made = start_site(pool, request.param)
    try:
        yield made
    finally:
        stop_site(made)


class Tab:
    """A fresh browser context (its own cookies) and page; used in the browser thread."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.callbacks: list[str] = []
        self.page.on(
            "request",
            lambda req: self.callbacks.append(req.url) if "/auth/callback" in req.url else None,
        )

    def cookies(self) -> dict[str, dict[str, Any]]:
        return {c["name"]: c for c in self.context.cookies()}

    def text(self, selector: str) -> str:
        return str(self.page.inner_text(selector))


def sign_in(tab: Tab, site: Site, pool: Pool, path: str = "/private") -> None:
    """Open ``path``, sign in on the managed login page, come back to ``path``."""
    tab.page.goto(site.url + path)
    assert tab.page.title() == LOGIN_TITLE
    tab.page.fill("#username", pool.username)
    tab.page.fill("#password", pool.password)
    with tab.page.expect_navigation():
        tab.page.click("button[type=submit]")
    tab.page.wait_for_load_state()


def session_cookie(tab: Tab, site: Site) -> dict[str, Any]:
    return tab.cookies()[site.signin.session_cookie]


def test_managed_login_refresh_and_logout(browser: BrowserThread, site: Site, pool: Pool) -> None:
    counts = pool.domain.counts
    # 1. The protected page sends the browser to the managed login page, and back.
    tab = browser.run(Tab)

    def first_visit(_: Any) -> dict[str, Any]:
        sign_in(tab, site, pool)
        return {
            "url": tab.page.url,
            "who": tab.text("#who"),
            "email": tab.text("#email"),
            "cookie": session_cookie(tab, site),
            "authorize": pool.domain.last_authorize_params,
        }

    seen = browser.run(first_visit)
    assert seen["url"] == site.url + "/private"
    assert seen["who"] == f"Hello {pool.username}"
    assert seen["email"] == pool.email
    authorize = seen["authorize"]
    assert authorize["code_challenge_method"] == "S256"
    assert authorize["state"] and authorize["nonce"] and authorize["code_challenge"]
    assert set(authorize["scope"].split()) == {"openid", "email", "profile"}
    cookie = seen["cookie"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # loopback over plain http: the one exception
    assert pool.domain.counts["token:authorization_code"] == counts["token:authorization_code"] + 1

    # 2. The tokens live on the server: one session record, none of it in the cookie.
    sid = site.sid_of(cookie["value"])
    record = site.record(sid)
    assert record is not None
    for token in (record["access_token"], record["id_token"], record["refresh_token"]):
        assert token not in cookie["value"]
    old_access, refresh_token = record["access_token"], record["refresh_token"]

    # 3. Forced expiry: the next page refreshes silently, once, and stays signed in.
    site.rewrite(sid, expires_at=time.time() - 5)
    refreshes = pool.domain.counts["token:refresh_token"]

    def after_expiry(_: Any) -> str:
        tab.page.goto(site.url + "/private")
        return tab.text("#who")

    assert browser.run(after_expiry) == f"Hello {pool.username}"
    assert pool.domain.counts["token:refresh_token"] == refreshes + 1
    refreshed = site.record(sid)
    assert refreshed is not None and refreshed["access_token"] != old_access
    assert refreshed["expires_at"] > time.time() + 60
    assert pool.domain.verify_access_token(refreshed["access_token"]) is not None

    # 4. Logout (the page's own form, with its CSRF token): the refresh token is revoked
    #    at the server, the browser goes through the domain's /logout to /signed-out.
    def logout(_: Any) -> dict[str, Any]:
        with tab.page.expect_navigation():
            tab.page.click("#logout")
        tab.page.wait_for_load_state()
        landed = {"url": tab.page.url, "bye": tab.text("#bye"), "cookies": tab.cookies()}
        tab.page.goto(site.url + "/private")
        landed["after"] = tab.page.title()
        tab.context.close()
        return landed

    revokes = pool.domain.counts["/oauth2/revoke"]
    out = browser.run(logout)
    assert out["url"] == site.url + "/signed-out" and out["bye"] == "Signed out"
    assert site.signin.session_cookie not in out["cookies"]
    assert out["after"] == LOGIN_TITLE
    assert pool.domain.counts["/oauth2/revoke"] == revokes + 1
    assert pool.domain.counts["/logout"] >= 1
    assert pool.domain.api.refresh_token_status(refresh_token) == "revoked"
    assert site.record(sid) is None


def test_refusals(browser: BrowserThread, site: Site, pool: Pool) -> None:
    tab = browser.run(Tab)

    def forged_state(_: Any) -> dict[str, Any]:
        sign_in(tab, site, pool)
        first_callback = tab.callbacks[-1]
        out: dict[str, Any] = {"callback": first_callback}
        # A state this app never sent.
        response = tab.page.goto(site.url + "/auth/callback?code=abc&state=forged")
        out["forged"] = (response.status, tab.text("h1"))
        # The very same callback again: its state was used up.
        response = tab.page.goto(first_callback)
        out["replayed"] = (response.status, tab.text("p"))
        return out

    out = browser.run(forged_state)
    assert out["forged"] == (400, "Sign-in failed")
    assert out["replayed"][0] == 400 and "already used" in out["replayed"][1]

    # The old code with a fresh state of this browser: the app redeems it, Cognito says
    # invalid_grant (codes are single use), and the sign-in fails.
    old_code = parse_qs(urlsplit(out["callback"]).query)["code"][0]

    def replayed_code(_: Any) -> tuple[int, str]:
        # A new sign-in of this browser (the context's cookies), stopped before the login
        # page: its state is in the redirect to /oauth2/authorize.
        start = tab.page.request.get(site.url + "/login", max_redirects=0)
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        response = tab.page.goto(f"{site.url}/auth/callback?code={old_code}&state={state}")
        return response.status, tab.text("p")

    redeemed = pool.domain.counts["token:authorization_code"]
    status, text = browser.run(replayed_code)
    assert status == 400 and "could not be completed" in text
    assert pool.domain.counts["token:authorization_code"] == redeemed + 1

    # A cross-site POST to /logout (another site's page, its own guess of a token) is
    # refused 403, and the session lives on.
    def cross_site(_: Any) -> dict[str, Any]:
        evil = "http://localhost:9/evil"
        html = (
            f'<form id="f" method="post" action="{site.url}/logout">'
            '<input name="csrf_token" value="guess"></form>'
            "<script>document.getElementById('f').submit()</script>"
        )
        tab.context.route(evil, lambda route: route.fulfill(body=html, content_type="text/html"))
        with tab.page.expect_response(f"{site.url}/logout") as answer:
            tab.page.goto(evil)
        status = answer.value.status
        tab.page.goto(site.url + "/private")
        return {"status": status, "who": tab.text("#who"), "cookie": session_cookie(tab, site)}

    out = browser.run(cross_site)
    assert out["status"] == 403
    assert out["who"] == f"Hello {pool.username}"
    sid = site.sid_of(out["cookie"]["value"])
    record = site.record(sid)
    assert record is not None
    assert pool.domain.api.refresh_token_status(record["refresh_token"]) == "active"

    # The app's own POST: without the CSRF token 403, with it (the page's form) 200.
    def app_post(_: Any) -> tuple[int, int, str]:
        bare = tab.page.request.post(
            site.url + "/action",
            form={"x": "1"},
            headers={"Origin": site.url},
        )
        with tab.page.expect_navigation():
            tab.page.click("#act")
        return bare.status, 200, tab.text("body")

    bare, _, acted = browser.run(app_post)
    assert bare == 403
    assert acted.startswith("acted with")

    # A tampered cookie (one character of the signature changed) is no session: the
    # page asks for a sign-in and the cookie is deleted.
    def tampered(_: Any) -> dict[str, Any]:
        cookie = session_cookie(tab, site)
        value = cookie["value"]
        bad = value[:-1] + ("A" if value[-1] != "A" else "B")
        tab.context.add_cookies([{**cookie, "value": bad}])
        response = tab.page.request.get(site.url + "/api/me")
        gone = tab.page.request.get(site.url + "/private", max_redirects=0)
        return {
            "me": response.json(),
            "private": (gone.status, gone.headers.get("location", "")),
            "cookie": session_cookie(tab, site)["value"]
            if site.signin.session_cookie in tab.cookies()
            else None,
            "good": value,
        }

    out = browser.run(tampered)
    assert out["me"] == {"user": None}
    assert out["private"][0] in (302, 307)
    assert out["private"][1].startswith("/login?next=")
    assert out["cookie"] is None  # deleted by the answer
    assert site.record(site.sid_of(out["good"])) is not None  # the real session is intact

    # An expired session (past its absolute lifetime): anonymous, record deleted.
    sid = site.sid_of(out["good"])
    site.rewrite(sid, created=time.time() - site.signin.sessions.absolute - 5)

    def expired(_: Any) -> Any:
        tab.context.add_cookies([{**session_cookie_of(out["good"]), "url": site.url}])
        me = tab.page.request.get(site.url + "/api/me").json()
        tab.context.close()
        return me

    def session_cookie_of(value: str) -> dict[str, Any]:
        return {"name": site.signin.session_cookie, "value": value}

    assert browser.run(expired) == {"user": None}
    assert site.record(sid) is None


def test_a_bearer_token_is_judged_by_the_token(site: Site, pool: Pool) -> None:
    # A session cookie and a bearer token: the token decides (valid: "bearer"; bad: 401,
    # never falling back to the cookie). Plain HTTP here: no browser needed.
    with httpx.Client(base_url=site.url, follow_redirects=True) as client:
        page = client.get("/private")  # the managed login page, non-interactive below
        assert page.status_code == 200
    # Sign in without the form: the local domain approves this client's user at once.
    pool.domain.api.oauth_approve(site.client.client_id, pool.username)
    try:
        with httpx.Client(base_url=site.url, follow_redirects=True) as client:
            assert client.get("/private").status_code == 200
            sid = site.sid_of(client.cookies[site.signin.session_cookie])
            record = site.record(sid)
            assert record is not None
            assert client.get("/api/me").json()["via"] == "session"
            bearer = {"Authorization": f"Bearer {record['access_token']}"}
            assert client.get("/api/me", headers=bearer).json()["via"] == "bearer"
            refused = client.get("/api/me", headers={"Authorization": "Bearer not-a-token"})
            assert refused.status_code == 401
            assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    finally:
        pool.domain.api.oauth_interactive(site.client.client_id)
