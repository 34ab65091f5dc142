"""The server-side sign-in core without a browser: the signed cookie, the trusted
proxies, safe redirects and the configuration refusals (pure); then the sessions against
the shipped local Cognito's OAuth2 domain on both backends: one refresh however many
requests (and workers, through a real Redis) need it, expiries, a revoked refresh token,
a store that stops answering, a pending sign-in used once, and no token in any cookie."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest

from acognito.errors import ConfigurationError
from acognito.integrations.signin import ServerSignIn, TrustedProxies, WebRequest
from acognito.integrations.signin._cookies import Cookie, CookieSigner, new_id, parse_cookies
from acognito.integrations.signin._http import safe_next, same_origin
from acognito.testing import LocalCognito
from auth_test_servers import ShiftedClock
from oauth_domain import DomainClient, LocalDomain

SECRET = "s" * 40
ORIGIN = "http://127.0.0.1:8000"
COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}")

# --------------------------------------------------------------------------- pure parts


def test_the_cookie_signer_checks_signature_purpose_and_rotation() -> None:
    signer = CookieSigner(SECRET)
    ident = new_id()
    value = signer.sign("session", ident)
    assert COOKIE_VALUE.fullmatch(value)
    assert signer.unsign("session", value) == ident
    assert signer.unsign("login", value) is None  # a login cookie is no session cookie
    flipped = value[:-1] + ("A" if value[-1] != "A" else "B")
    for bad in (flipped, value + "x", "", None, "a.b", ident, "x" * 87, value.replace(".", "!")):
        assert signer.unsign("session", bad) is None
    assert CookieSigner("t" * 40).unsign("session", value) is None
    # Rotation: a new first secret signs, the old one still verifies.
    rotated = CookieSigner(["n" * 40, SECRET])
    assert rotated.unsign("session", value) == ident
    assert rotated.sign("session", ident) != value
    assert "s" * 40 not in repr(rotated)
    with pytest.raises(ConfigurationError, match="32 bytes"):
        CookieSigner("short")
    with pytest.raises(ConfigurationError):
        CookieSigner([])


def test_cookie_headers_are_httponly_lax_and_secure_off_loopback() -> None:
    header = Cookie("__Host-acognito-session", "v", 60, secure=True).header()
    assert header == "__Host-acognito-session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
    gone = Cookie("acognito-session", "", 0, secure=False).header()
    assert "Max-Age=0" in gone and "Expires=Thu, 01 Jan 1970" in gone and "Secure" not in gone
    assert parse_cookies("a=1; b=2") == {"a": "1", "b": "2"}
    assert parse_cookies('a=1; b="x; c; =d; a=2; e=f') == {"a": "1", "b": '"x', "e": "f"}


def test_only_trusted_proxies_forward_the_client_ip() -> None:
    nobody = TrustedProxies()
    assert nobody.client_ip("10.0.0.5", ["203.0.113.9"]) == "10.0.0.5"  # trusted by default: none
    proxies = TrustedProxies(["10.0.0.0/8", "192.168.1.1"])
    assert proxies.client_ip("10.0.0.5", ["203.0.113.9"]) == "203.0.113.9"
    # Read right to left: the spoofed left-most entry is not believed.
    assert proxies.client_ip("10.0.0.5", ["6.6.6.6, 203.0.113.9, 192.168.1.1"]) == "203.0.113.9"
    assert proxies.client_ip("10.0.0.5", ["6.6.6.6", "203.0.113.9"]) == "203.0.113.9"
    # An untrusted peer's header is ignored.
    assert proxies.client_ip("198.51.100.7", ["203.0.113.9"]) == "198.51.100.7"
    # A malformed hop stops the walk at the last good address.
    assert proxies.client_ip("10.0.0.5", ["203.0.113.9, junk"]) == "10.0.0.5"
    assert proxies.client_ip("10.0.0.5", ["[2001:db8::1]", "10.1.1.1:443"]) == "2001:db8::1"
    assert proxies.client_ip("::ffff:10.0.0.5", []) == "10.0.0.5"
    assert proxies.client_ip(None, ["1.2.3.4"]) is None
    with pytest.raises(ConfigurationError, match="not an IP"):
        TrustedProxies(["proxy.example.com"])


def test_next_targets_stay_on_the_site() -> None:
    for good in ("/", "/private", "/a/b?c=d&e=%2F", "/x#frag"):
        assert safe_next(good, "/home") == good
    for bad in ("https://evil.example", "//evil.example/x", "/\\evil.example", "evil", "",
                None, "/a b", "/\x00", "javascript:alert(1)", "/" + "a" * 3000):  # fmt: skip
        assert safe_next(bad, "/home") == "/home"


def test_state_changing_requests_must_come_from_the_app() -> None:
    origins = frozenset({ORIGIN})

    def req(**headers: str) -> WebRequest:
        return WebRequest("POST", "/logout", headers=headers)

    assert same_origin(req(origin=ORIGIN), origins)
    assert not same_origin(req(origin="http://localhost:8000"), origins)
    assert not same_origin(req(origin="null"), origins)
    assert same_origin(req(**{"sec-fetch-site": "same-origin"}), origins)
    assert not same_origin(req(**{"sec-fetch-site": "cross-site"}), origins)
    assert not same_origin(req(**{"sec-fetch-site": "same-site"}), origins)
    assert not same_origin(req(), origins)  # neither header: refused


def _signin(**options: Any) -> ServerSignIn:
    base: dict[str, Any] = {
        "domain": "https://example.auth.eu-west-1.amazoncognito.com",
        "app_url": "https://app.example.com",
        "secret": SECRET,
    }
    return ServerSignIn("eu-west-1_AbC123xyz", "client", **(base | options))


def test_configuration_refusals() -> None:
    with pytest.raises(ConfigurationError, match="session secret"):
        _signin(secret=None)  # off loopback, nothing starts without a secret
    with pytest.raises(ConfigurationError, match="https"):
        _signin(app_url="http://app.example.com")
    with pytest.raises(ConfigurationError, match="no path"):
        _signin(app_url="https://app.example.com/app")
    with pytest.raises(ConfigurationError, match="form_path"):
        _signin(domain=None)
    with pytest.raises(ConfigurationError, match="absolute_timeout"):
        _signin(idle_timeout=100, absolute_timeout=50)
    with pytest.raises(ConfigurationError, match="positive"):
        _signin(idle_timeout=0)
    with pytest.raises(ConfigurationError, match="APP_URL"):
        ServerSignIn.from_settings({"USER_POOL_ID": "eu-west-1_AbC123xyz", "CLIENT_ID": "c"})
    # On loopback a developer starts without a secret; cookies are not Secure over http.
    local = _signin(secret=None, app_url="http://localhost:8000")
    assert local.loopback and not local.secure and local.session_cookie == "acognito-session"
    # Off loopback: Secure, and the __Host- prefix (no Domain, Path=/).
    deployed = _signin()
    assert deployed.secure and deployed.session_cookie == "__Host-acognito-session"
    assert deployed.callback_path == "/auth/callback"
    assert deployed.logout_uri == "https://app.example.com/"
    built = ServerSignIn.from_settings(
        {
            "USER_POOL_ID": "eu-west-1_AbC123xyz",
            "CLIENT_ID": "c",
            "DOMAIN": "https://example.auth.eu-west-1.amazoncognito.com",
            "APP_URL": "https://app.example.com",
            "CALLBACK_PATH": "/cb",
            "IDLE_TIMEOUT": 60,
            "TRUSTED_PROXIES": ["10.0.0.0/8"],
        },
        default_secret=SECRET,
    )
    assert built.sessions.idle == 60 and built.trusted_proxies
    assert built.redirect_uri == "https://app.example.com/cb"
    assert SECRET not in repr(built)


# --------------------------------------------------------------------------- sessions


class App:
    """One "worker": a ServerSignIn on the local Cognito's domain, driven without a
    browser (the domain signs the user in at once: non-interactive approval)."""

    def __init__(self, domain: LocalDomain, client: DomainClient, **options: Any) -> None:
        self.domain = domain
        self.signin = ServerSignIn(
            domain.pool_id,
            client.client_id,
            domain=domain.url,
            app_url=ORIGIN,
            secret=SECRET,
            jwks_uri=domain.jwks_url,
            issuer=domain.issuer,
            **options,
        )
        self.set_cookies: list[str] = []

    def _keep(self, answer: Any) -> Any:
        self.set_cookies += [v for k, v in answer.all_headers() if k == "Set-Cookie"]
        return answer

    async def sign_in(self) -> str:
        """A managed login through the domain; the session cookie's value."""
        start = self._keep(await self.signin.login(WebRequest("GET", "/login")))
        login_cookie = start.cookies[0]
        async with httpx.AsyncClient() as http:
            hop = await http.get(start.location)
        callback = urlsplit(hop.headers["location"])
        done = self._keep(
            await self.signin.handle(
                WebRequest(
                    "GET",
                    callback.path,
                    callback.query,
                    headers={"cookie": f"{login_cookie.name}={login_cookie.value}"},
                )
            )
        )
        assert done.status == 303, done.body
        return str(done.cookies[0].value)

    def request(self, cookie: str, method: str = "GET", **headers: str) -> WebRequest:
        return WebRequest(
            method,
            "/private",
            headers={"cookie": f"{self.signin.session_cookie}={cookie}", **headers},
            peer="127.0.0.1",
        )

    async def visit(self, cookie: str, method: str = "GET", **headers: str) -> Any:
        visit = await self.signin.visit(self.request(cookie, method, **headers))
        if visit.refusal is not None:
            self._keep(visit.refusal)
        return visit

    async def record(self, cookie: str) -> dict[str, Any]:
        sid = self.signin.session_id(self.request(cookie))
        assert sid is not None
        loaded = await self.signin.sessions.load(sid)
        return dict(loaded.record)  # type: ignore[union-attr]

    async def rewrite(self, cookie: str, **fields: Any) -> None:
        from acognito.stores._shared import encode

        sid = self.signin.session_id(self.request(cookie))
        assert sid is not None
        record = await self.record(cookie) | fields
        await self.signin.store.set(self.signin.sessions.key(sid), encode(record))


@pytest.fixture(scope="module")
def domain(cognito_local: LocalCognito) -> Iterator[LocalDomain]:
    with LocalDomain(cognito_local) as made:
        made.add_user("sam", email="sam@example.com")
        yield made


@pytest.fixture
def client(domain: LocalDomain) -> DomainClient:
    made = domain.add_client(
        secret=False,
        scopes={"openid", "email", "profile"},
        redirect_uris={f"{ORIGIN}/auth/callback"},
    )
    domain.authorize_user = "sam"
    return made


@pytest.fixture
async def app(domain: LocalDomain, client: DomainClient) -> AsyncIterator[App]:
    made = App(domain, client)
    yield made
    await made.signin.aclose()


@pytest.mark.anyio
async def test_one_refresh_however_many_requests_need_it(app: App, domain: LocalDomain) -> None:
    cookie = await app.sign_in()
    before = await app.record(cookie)
    await app.rewrite(cookie, expires_at=time.time() - 1)
    refreshes = domain.counts["token:refresh_token"]
    users: list[Any] = []

    async def one() -> None:
        users.append((await app.visit(cookie)).user)

    async with anyio.create_task_group() as tg:
        for _ in range(12):
            tg.start_soon(one)
    assert [u.username for u in users] == ["sam"] * 12
    assert domain.counts["token:refresh_token"] == refreshes + 1
    after = await app.record(cookie)
    assert after["access_token"] != before["access_token"]
    assert after["csrf"] == before["csrf"] and after["created"] == before["created"]


@pytest.mark.anyio
async def test_a_fleet_refreshes_a_session_once_through_redis(
    domain: LocalDomain, client: DomainClient, redis_url: str
) -> None:
    from acognito.stores._redis import RedisTokenStore

    key = bytes(range(32))
    workers = [
        # A generous store timeout: this is about one refresh, not a slow store (on a
        # loaded machine a call can pass the default 250 ms; a 503 is right then).
        App(domain, client, store=RedisTokenStore(redis_url, encryption_key=key, timeout=5))
        for _ in range(3)
    ]
    try:
        cookie = await workers[0].sign_in()
        # Any worker reads the session the first one made.
        assert (await workers[2].visit(cookie)).user.username == "sam"
        await workers[1].rewrite(cookie, expires_at=time.time() - 1)
        refreshes = domain.counts["token:refresh_token"]
        seen: list[str] = []

        async def one(worker: App) -> None:
            visit = await worker.visit(cookie)
            seen.append(visit.user.username)

        async with anyio.create_task_group() as tg:
            for worker in workers * 4:
                tg.start_soon(one, worker)
        assert seen == ["sam"] * 12
        assert domain.counts["token:refresh_token"] == refreshes + 1

        # The store holds the session sealed: no token readable without the key.
        def stored_values() -> list[bytes]:
            import redis

            raw = redis.Redis.from_url(redis_url)
            values: list[bytes] = []
            try:
                for k in raw.keys("*"):
                    kind = raw.type(k)
                    if kind == b"hash":
                        values += raw.hgetall(k).values()
                    elif kind == b"string":
                        values.append(raw.get(k))
            finally:
                raw.close()
            return values

        values = await anyio.to_thread.run_sync(stored_values)
        record = await workers[0].record(cookie)
        assert values and not any(
            record["access_token"].encode() in v or record["refresh_token"].encode() in v
            for v in values
            if isinstance(v, bytes)
        )
    finally:
        for worker in workers:
            await worker.signin.aclose()
            await worker.signin.store.aclose()  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_a_store_that_stops_answering_is_a_503_not_a_sign_out(
    domain: LocalDomain, client: DomainClient, redis_server: Any, redis_url: str
) -> None:
    from acognito.stores._redis import RedisTokenStore

    store = RedisTokenStore(redis_url, encryption_key=bytes(32))
    worker = App(domain, client, store=store)
    try:
        cookie = await worker.sign_in()
        redis_server.pause()  # frozen: connections open, nothing answered
        try:
            visit = await worker.visit(cookie)
        finally:
            redis_server.resume()
        assert visit.refusal is not None and visit.refusal.status == 503
        assert not visit.cookies  # the cookie is kept: the session is not over
        await anyio.sleep(1.1)  # the store's retry interval
        assert (await worker.visit(cookie)).user.username == "sam"
    finally:
        await worker.signin.aclose()
        await store.aclose()


@pytest.mark.anyio
async def test_a_revoked_refresh_token_ends_the_session(app: App, domain: LocalDomain) -> None:
    cookie = await app.sign_in()
    record = await app.record(cookie)
    from acognito.oauth import OAuth2Client

    async with OAuth2Client(domain.url, app.signin.client_id) as oauth:
        await oauth.revoke(record["refresh_token"])
    await app.rewrite(cookie, expires_at=time.time() - 1)
    visit = await app.visit(cookie)
    assert visit.user is None and visit.refusal is None
    assert [c.max_age for c in visit.cookies] == [0]  # the cookie is deleted
    sid = app.signin.session_id(app.request(cookie))
    assert sid is not None and await app.signin.sessions.load(sid) is None


@pytest.mark.anyio
async def test_idle_and_absolute_expiry(domain: LocalDomain, client: DomainClient) -> None:
    clock = ShiftedClock()
    app = App(domain, client, idle_timeout=600, absolute_timeout=3600, clock=clock)
    try:
        cookie = await app.sign_in()
        clock.advance(500)
        assert (await app.visit(cookie)).user is not None  # used: the idle clock restarts
        assert (await app.record(cookie))["seen"] >= time.time() + 499
        clock.advance(500)
        assert (await app.visit(cookie)).user is not None  # 1,000 s in, idle 500 s
        clock.advance(601)
        gone = await app.visit(cookie)
        assert gone.user is None and [c.max_age for c in gone.cookies] == [0]

        cookie = await app.sign_in()
        for _ in range(8):  # used every 500 s, yet over after 3,600 s
            clock.advance(500)
            visit = await app.visit(cookie)
        assert visit.user is None
    finally:
        await app.signin.aclose()


@pytest.mark.anyio
async def test_csrf_on_the_apps_own_posts(app: App) -> None:
    cookie = await app.sign_in()
    token = (await app.visit(cookie)).session.csrf_token
    refused = [
        await app.visit(cookie, "POST"),
        await app.visit(cookie, "POST", origin=ORIGIN),
        await app.visit(cookie, "POST", origin="http://evil.example", **{"x-csrf-token": token}),
        await app.visit(cookie, "POST", **{"x-csrf-token": token}),  # neither header
        await app.visit(cookie, "POST", origin=ORIGIN, **{"x-csrf-token": token + "x"}),
    ]
    assert [v.refusal.status for v in refused] == [403] * 5
    passed = await app.visit(cookie, "POST", origin=ORIGIN, **{"x-csrf-token": token})
    assert passed.refusal is None and passed.user.username == "sam"
    same = await app.visit(
        cookie, "DELETE", **{"sec-fetch-site": "same-origin", "x-csrf-token": token}
    )
    assert same.refusal is None


@pytest.mark.anyio
async def test_a_pending_sign_in_is_used_once(app: App) -> None:
    start = await app.signin.login(WebRequest("GET", "/login", "next=%2Fprivate"))
    login = start.cookies[0]
    async with httpx.AsyncClient() as http:
        hop = await http.get(start.location)
    callback = urlsplit(hop.headers["location"])
    request = WebRequest(
        "GET", callback.path, callback.query, headers={"cookie": f"{login.name}={login.value}"}
    )
    answers = []

    async def finish() -> None:
        answers.append(await app.signin.handle(request))

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(finish)
    assert sorted(a.status for a in answers) == [303, 400, 400, 400]
    assert next(a for a in answers if a.status == 303).location == "/private"
    # Without this browser's login cookie, a valid state is not enough.
    start = await app.signin.login(WebRequest("GET", "/login"))
    async with httpx.AsyncClient() as http:
        hop = await http.get(start.location)
    callback = urlsplit(hop.headers["location"])
    stranger = await app.signin.handle(WebRequest("GET", callback.path, callback.query))
    assert stranger.status == 400


@pytest.mark.anyio
async def test_no_cookie_ever_holds_a_token(app: App) -> None:
    cookie = await app.sign_in()
    record = await app.record(cookie)
    await app.rewrite(cookie, expires_at=time.time() - 1)
    await app.visit(cookie)  # a refresh
    fresh = await app.record(cookie)
    out = await app.signin.logout(
        WebRequest(
            "POST",
            "/logout",
            headers={
                "cookie": f"{app.signin.session_cookie}={cookie}",
                "origin": ORIGIN,
                "x-csrf-token": fresh["csrf"],
            },
        )
    )
    assert out.status == 303
    app._keep(out)
    tokens = [
        t for r in (record, fresh) for t in (r["access_token"], r["id_token"], r["refresh_token"])
    ]
    assert len(app.set_cookies) >= 3  # the login cookie, the session cookie, its deletion
    for header in app.set_cookies:
        name, _, rest = header.partition("=")
        value = rest.split(";")[0]
        assert value == "" or COOKIE_VALUE.fullmatch(value), header
        assert not any(token in header for token in tokens)
        assert "eyJ" not in header  # no JWT, whole or in part
        assert "HttpOnly" in header and "SameSite=Lax" in header


@pytest.mark.anyio
async def test_the_client_ip_honours_only_trusted_proxies(
    domain: LocalDomain, client: DomainClient
) -> None:
    for proxies, expected in (((), "127.0.0.1"), (("127.0.0.1",), "203.0.113.9")):
        app = App(domain, client, trusted_proxies=proxies)
        visit = await app.signin.visit(
            WebRequest("GET", "/", peer="127.0.0.1", forwarded_for=("6.6.6.6, 203.0.113.9",))
        )
        assert visit.client_ip == expected
        await app.signin.aclose()


@pytest.mark.anyio
async def test_a_session_signed_out_meanwhile_is_never_refreshed_back(
    app: App, domain: LocalDomain
) -> None:
    # One request read the session and found its token expired; before it refreshes,
    # another request signs out (the record is deleted). The refresh must not write the
    # session back.
    from acognito.integrations.signin._sessions import SessionEnded

    cookie = await app.sign_in()
    await app.rewrite(cookie, expires_at=time.time() - 1)
    sid = app.signin.session_id(app.request(cookie))
    assert sid is not None
    loaded = await app.signin.sessions.load(sid)
    await app.signin.sessions.end(sid)
    refreshes = domain.counts["token:refresh_token"]
    with pytest.raises(SessionEnded):
        await app.signin.sessions.refreshed(
            sid, loaded, usable=app.signin._usable, refresh=app.signin._refresh
        )
    assert await app.signin.sessions.load(sid) is None
    assert domain.counts["token:refresh_token"] == refreshes
