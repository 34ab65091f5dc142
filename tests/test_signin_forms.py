"""The server-rendered sign-in (no managed login), end to end in Debian's Chromium
(playwright, from a thread of its own) against the shipped local Cognito, in Starlette
and FastAPI (hypercorn on asyncio and on trio) and Flask: the form, TOTP set-up with a QR
code, signed in, a second sign-in with a code. The pending challenge stays on the
server; two workers sharing a real Redis continue each other's sign-ins."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest

from acognito.integrations.signin import ServerSignIn
from acognito.stores import MemoryTokenStore, TokenStore
from acognito.stores._shared import decode
from acognito.testing import CognitoAdmin, LocalCognito, LocalPool, fresh_totp
from signin_support import (
    BrowserThread,
    Site,
    listening_socket,
    needs_browser,
    serve_site,
    stop_site,
)

SITES = ["starlette-asyncio", "starlette-trio", "fastapi-asyncio", "fastapi-trio", "flask"]
PASSWORD = "Form-Sign1n-Passw0rd!"
SECRET = "form-tests-" + "s" * 32


class MfaPool:
    """A pool of the local Cognito that requires MFA (TOTP): a first sign-in sets it up."""

    def __init__(self, local: LocalCognito) -> None:
        self.local = local

        async def make() -> LocalPool:
            async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
                return await admin.create_local_pool(mfa="ON")

        self.pool = anyio.run(make)

    def add_user(self) -> str:
        name = f"tess-{uuid.uuid4().hex[:6]}"

        async def make() -> None:
            async with CognitoAdmin(self.local.endpoint_url, region=self.local.region) as admin:
                await admin.create_user(
                    self.pool.user_pool_id,
                    name,
                    PASSWORD,
                    attributes={"email": f"{name}@example.com"},
                )

        anyio.run(make)
        return name

    def signin(self, origin: str, store: TokenStore | None = None) -> ServerSignIn:
        options = self.pool.cognito_kwargs()
        pool_id, client_id = options.pop("user_pool_id"), options.pop("client_id")
        return ServerSignIn(
            pool_id,
            client_id,
            app_url=origin,
            form_path="/signin",
            secret=SECRET,
            store=store or MemoryTokenStore(),
            cognito_options=options,
            jwks_uri=self.pool.jwks_uri,
            totp_issuer="Form Tests",
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserThread]:
    thread = BrowserThread()
    try:
        yield thread
    finally:
        thread.close()


@pytest.fixture(scope="module")
def mfa_pool(cognito_local: LocalCognito) -> MfaPool:
    return MfaPool(cognito_local)


@pytest.fixture(scope="module", params=SITES)
def site(request: pytest.FixtureRequest, mfa_pool: MfaPool) -> Iterator[Site]:
    sock, port = listening_socket()
    made = serve_site(request.param, sock, mfa_pool.signin(f"http://127.0.0.1:{port}"))
    try:
        yield made
    finally:
        stop_site(made)


def code_for(secret: str) -> str:
    return anyio.run(fresh_totp, secret)


def pending_records(site: Site) -> list[dict[str, Any]]:
    store = site.store
    assert isinstance(store, MemoryTokenStore)
    prefix = site.signin.sessions.prefix + "/pending/"
    found = []
    for key in list(store._slots):
        if key.startswith(prefix):
            record = decode(key, site.server.call(store.get, key))
            if record is not None:
                found.append(record)
    return found


@needs_browser
def test_form_sign_in_with_totp_set_up_then_a_code(
    browser: BrowserThread, site: Site, mfa_pool: MfaPool
) -> None:
    username = mfa_pool.add_user()
    state: dict[str, Any] = {}
    api = mfa_pool.local.api
    api.record_requests(True, clear=True)

    # 1. The form: a protected page sends the browser to /signin (no managed login).
    def the_form(browser_: Any) -> dict[str, Any]:
        context = browser_.new_context()
        page = context.new_page()
        state["context"], state["page"] = context, page
        page.goto(site.url + "/private")
        seen = {"url": page.url, "title": page.title()}
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("#submit")
        page.wait_for_load_state()
        seen.update(
            after=page.title(),
            secret=page.inner_text("#totp-secret"),
            qr=page.inner_html("#qr"),
            cookies={c["name"]: c["value"] for c in context.cookies()},
        )
        return seen

    seen = browser.run(the_form)
    assert urlsplit(seen["url"]).path == "/signin" and "next=%2Fprivate" in seen["url"]
    assert seen["title"] == "Sign in"
    # 2. TOTP set-up: a QR code and the key, from the set-up step on the server.
    assert seen["after"] == "Set up your authenticator app"
    secret = seen["secret"]
    assert re.fullmatch(r"[A-Z2-7]{16,}=*", secret)
    assert seen["qr"].lstrip().startswith("<svg")
    assert secret == mfa_pool.local.api.totp_secret(
        mfa_pool.pool.user_pool_id, username, pending=True
    )
    # The pending challenge lives in the store; the browser holds only opaque ids.
    [pending] = pending_records(site)
    assert pending["pending"]["challenge"] == "MFA_SETUP"
    assert list(seen["cookies"]) == [site.signin.login_cookie]
    for value in seen["cookies"].values():
        assert secret not in value and pending["pending"]["session"] not in value

    # 3. Signed in: the code from the authenticator app finishes the set-up.
    code = code_for(secret)

    def set_up(_: Any) -> dict[str, Any]:
        page = state["page"]
        page.fill("#code", code)
        with page.expect_navigation():
            page.click("#submit")
        page.wait_for_load_state()
        cookies = {c["name"]: c["value"] for c in state["context"].cookies()}
        out = {"url": page.url, "who": page.inner_text("#who"), "cookies": cookies}
        state["context"].close()
        return out

    done = browser.run(set_up)
    assert done["url"] == site.url + "/private"
    assert done["who"] == f"Hello {username}"
    assert pending_records(site) == []
    sid = site.sid_of(done["cookies"][site.signin.session_cookie])
    record = site.record(sid)
    assert record is not None and record["source"] == "idp"
    assert all(record[t] not in done["cookies"].values() for t in ("access_token", "refresh_token"))
    # Cognito saw the browser's address, not the server's alone (threat protection).
    sent = [
        r.params.get("UserContextData")
        for r in api.requests()
        if r.operation in ("InitiateAuth", "RespondToAuthChallenge")
    ]
    api.record_requests(False, clear=True)
    assert len(sent) >= 3 and all(s == {"IpAddress": "127.0.0.1"} for s in sent)

    # 4. A second sign-in, in a fresh browser: the code from the app, no set-up.
    def second(browser_: Any) -> dict[str, Any]:
        context = browser_.new_context()
        page = context.new_page()
        state["context"], state["page"] = context, page
        page.goto(site.url + "/private")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("#submit")
        page.wait_for_load_state()
        return {"title": page.title()}

    assert browser.run(second)["title"] == "Enter the code from your authenticator app"
    code = code_for(secret)

    def with_code(_: Any) -> dict[str, Any]:
        page = state["page"]
        page.fill("#code", code)
        with page.expect_navigation():
            page.click("#submit")
        page.wait_for_load_state()
        out = {"url": page.url, "who": page.inner_text("#who")}
        state["context"].close()
        return out

    assert browser.run(with_code) == {
        "url": site.url + "/private",
        "who": f"Hello {username}",
    }


# --------------------------------------------------------------------------- without a browser


class FormClient:
    """A browser played by httpx: cookies kept, forms posted from the app's origin."""

    def __init__(self, client: httpx.Client, origin: str) -> None:
        self.client = client
        self.origin = origin

    def token(self, page: str) -> str:
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, page
        return match.group(1)

    def post(self, url: str, page: str, **fields: str) -> httpx.Response:
        data = {"csrf_token": self.token(page), **fields}
        return self.client.post(url, data=data, headers={"Origin": self.origin})


def test_any_worker_continues_a_sign_in_through_redis(mfa_pool: MfaPool, redis_url: str) -> None:
    # Two workers of one app (the same origin, secret and Redis): the password goes to
    # one, the TOTP set-up to the other, the second sign-in's code to the first again.
    from acognito.stores._redis import RedisTokenStore

    username = mfa_pool.add_user()
    sockets = [listening_socket() for _ in range(2)]
    origin = "http://127.0.0.1:8000"  # the app's public origin, behind a balancer
    workers = []
    for sock, _ in sockets:
        store = RedisTokenStore(redis_url, encryption_key=bytes(range(32)), timeout=5)
        workers.append(serve_site("starlette-asyncio", sock, mfa_pool.signin(origin, store)))
    a, b = (f"http://127.0.0.1:{port}" for _, port in sockets)
    try:
        with httpx.Client() as http:
            browser = FormClient(http, origin)
            form = http.get(f"{a}/signin")
            step = browser.post(
                f"{a}/signin", form.text, step="password", username=username, password=PASSWORD
            )
            assert step.status_code == 303
            setup = http.get(f"{b}/signin")  # the other worker shows the pending step
            assert "Set up your authenticator app" in setup.text
            secret = re.search(r'id="totp-secret">([A-Z2-7=]+)<', setup.text).group(1)
            done = browser.post(f"{b}/signin", setup.text, step="answer", code=code_for(secret))
            assert done.status_code == 303 and done.headers["location"] == "/"
            assert http.get(f"{a}/api/me").json()["user"] == username  # either worker
            assert http.get(f"{b}/api/me").json()["user"] == username
            # A wrong CSRF token or a foreign origin: 403, and nothing happens.
            page = http.get(f"{a}/signin")
            bad = http.post(
                f"{a}/signin",
                data={
                    "csrf_token": "x" * 43,
                    "step": "password",
                    "username": username,
                    "password": PASSWORD,
                },
                headers={"Origin": origin},
            )
            assert bad.status_code == 403
            foreign = http.post(
                f"{a}/signin",
                data={"csrf_token": browser.token(page.text), "step": "password"},
                headers={"Origin": "http://evil.example"},
            )
            assert foreign.status_code == 403
            # A wrong password: the form again, with a message.
            wrong = browser.post(
                f"{a}/signin",
                page.text,
                step="password",
                username=username,
                password="nope-Nope-1!",
            )
            assert wrong.status_code == 400 and "Incorrect user name or password." in wrong.text
    finally:
        for worker in workers:
            worker.server.call(worker.store.aclose)  # on the loop its connections belong to
            stop_site(worker)


def test_the_form_signs_in_with_a_new_password(
    mfa_pool: MfaPool, cognito_local: LocalCognito
) -> None:
    # An admin-created user with a temporary password chooses a new one, then sets up TOTP.
    name = f"newbie-{uuid.uuid4().hex[:6]}"

    async def make() -> None:
        async with CognitoAdmin(cognito_local.endpoint_url, region=cognito_local.region) as admin:
            await admin.idp.call(
                "admin_create_user",
                UserPoolId=mfa_pool.pool.user_pool_id,
                Username=name,
                TemporaryPassword="Temp-Passw0rd!x",
                MessageAction="SUPPRESS",
            )

    anyio.run(make)
    sock, port = listening_socket()
    origin = f"http://127.0.0.1:{port}"
    site = serve_site("flask", sock, mfa_pool.signin(origin))
    try:
        with httpx.Client(base_url=origin) as http:
            browser = FormClient(http, origin)
            form = http.get("/signin")
            step = browser.post(
                "/signin", form.text, step="password", username=name, password="Temp-Passw0rd!x"
            )
            assert step.status_code == 303
            page = http.get("/signin")
            assert "Choose a new password" in page.text
            weak = browser.post("/signin", page.text, step="answer", new_password="x")
            assert weak.status_code == 400 and "does not meet the rules" in weak.text
            page = http.get("/signin")
            assert "Choose a new password" in page.text
            ok = browser.post("/signin", page.text, step="answer", new_password=PASSWORD)
            assert ok.status_code == 303
            assert "Set up your authenticator app" in http.get("/signin").text
            # Start again: the pending sign-in is dropped.
            page = http.get("/signin")
            again = browser.post("/signin", page.text, step="cancel")
            assert again.status_code == 303
            assert "<title>Sign in</title>" in http.get("/signin").text
    finally:
        stop_site(site)


def test_email_code_sign_in(cognito_local: LocalCognito) -> None:
    # A passwordless sign-in: the form's "e-mail me a code", the code from the inbox.
    async def make() -> tuple[LocalPool, str]:
        async with CognitoAdmin(cognito_local.endpoint_url, region=cognito_local.region) as admin:
            pool = await admin.create_local_pool()
            name = "otto"
            await admin.create_user(
                pool.user_pool_id, name, PASSWORD,
                attributes={"email": "otto@example.com", "email_verified": "true"},
            )  # fmt: skip
            return pool, name

    pool, name = anyio.run(make)
    options = pool.cognito_kwargs()
    pool_id, client_id = options.pop("user_pool_id"), options.pop("client_id")
    sock, port = listening_socket()
    origin = f"http://127.0.0.1:{port}"
    signin = ServerSignIn(
        pool_id, client_id, app_url=origin, form_path="/signin", email_otp=True,
        cognito_options=options, jwks_uri=pool.jwks_uri,
    )  # fmt: skip
    site = serve_site("starlette-trio", sock, signin)
    try:
        with httpx.Client(base_url=origin) as http:
            browser = FormClient(http, origin)
            form = http.get("/signin")
            assert 'value="email_code"' in form.text
            sent = browser.post("/signin", form.text, step="email_code", username=name)
            assert sent.status_code == 303, sent.text
            page = http.get("/signin")
            assert "Enter the code we sent by e-mail" in page.text
            code = cognito_local.inbox.last_code(pool_id, name, "email_otp")
            done = browser.post("/signin", page.text, step="answer", code=code)
            assert done.status_code == 303
            assert http.get("/api/me").json()["user"] == name
            # Its session refreshes through the user-pool API (no domain here) ...
            sid = site.sid_of(http.cookies[signin.session_cookie])
            before = site.record(sid)
            assert before is not None and before["source"] == "idp"
            site.rewrite(sid, expires_at=0)
            assert http.get("/api/me").json()["user"] == name
            after = site.record(sid)
            assert after is not None and after["access_token"] != before["access_token"]
            assert after["expires_at"] > time.time() + 60  # rewritten to 0, fresh again
            # ... and signing out revokes its refresh token and lands on logout_uri.
            private = http.get("/private")
            out = browser.post("/logout", private.text)
            assert out.status_code == 303 and out.headers["location"] == f"{origin}/"
            assert cognito_local.api.refresh_token_status(after["refresh_token"]) == "revoked"
            assert http.get("/api/me").json()["user"] is None
    finally:
        stop_site(site)


def test_the_sign_in_carries_the_users_context(cognito_local: LocalCognito) -> None:
    # What the local Cognito received: the browser's IP (the socket's peer; a forged
    # X-Forwarded-For is ignored), or with 127.0.0.1 as a trusted proxy, the forwarded
    # client's; and the encoded data of Cognito's collector from the form.
    async def make() -> LocalPool:
        async with CognitoAdmin(cognito_local.endpoint_url, region=cognito_local.region) as admin:
            pool = await admin.create_local_pool()
            await admin.create_user(pool.user_pool_id, "cleo", PASSWORD)
            return pool

    pool = anyio.run(make)
    api = cognito_local.api
    for proxies, expected in (((), "127.0.0.1"), (("127.0.0.1",), "203.0.113.7")):
        options = pool.cognito_kwargs()
        pool_id, client_id = options.pop("user_pool_id"), options.pop("client_id")
        sock, port = listening_socket()
        origin = f"http://127.0.0.1:{port}"
        signin = ServerSignIn(
            pool_id, client_id, app_url=origin, form_path="/signin", cognito_options=options,
            jwks_uri=pool.jwks_uri, trusted_proxies=proxies,
        )  # fmt: skip
        site = serve_site("starlette-asyncio", sock, signin)
        api.record_requests(True, clear=True)
        try:
            with httpx.Client(base_url=origin) as http:
                browser = FormClient(http, origin)
                form = http.get("/signin")
                data = {
                    "csrf_token": browser.token(form.text),
                    "step": "password",
                    "username": "cleo",
                    "password": PASSWORD,
                    "cognito_context_data": "ASF-ENCODED",
                }
                headers = {"Origin": origin, "X-Forwarded-For": "203.0.113.7"}
                done = http.post("/signin", data=data, headers=headers)
                assert done.status_code == 303
                seen = [
                    r.params["UserContextData"]
                    for r in api.requests()
                    if r.operation in ("InitiateAuth", "RespondToAuthChallenge")
                ]
                assert seen == [{"IpAddress": expected, "EncodedData": "ASF-ENCODED"}] * 2
                # A refresh at the user pool carries the user's context too.
                sid = site.sid_of(http.cookies[signin.session_cookie])
                site.rewrite(sid, expires_at=0)
                api.record_requests(True, clear=True)
                assert (
                    http.get("/api/me", headers={"X-Forwarded-For": "203.0.113.8"}).json()["user"]
                    == "cleo"
                )
                [(operation, sent)] = [
                    (r.operation, r.params.get("UserContextData"))
                    for r in api.requests()
                    if r.operation in ("InitiateAuth", "GetTokensFromRefreshToken")
                ]
                if operation == "InitiateAuth":  # REFRESH_TOKEN_AUTH takes the context
                    assert sent == {"IpAddress": "203.0.113.8" if proxies else "127.0.0.1"}
                else:  # GetTokensFromRefreshToken has no context parameter
                    assert sent is None
        finally:
            api.record_requests(False, clear=True)
            stop_site(site)
