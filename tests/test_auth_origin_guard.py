"""A custom-header token never follows a redirect to another origin, on any transport.

httpx drops only ``Authorization`` on a cross-origin redirect, and follows redirects
below the auth flow. acognito therefore never puts a custom-header token on the httpx
request: httpcore-based transports report each hop's headers just before sending them,
and the token is written there, into hops bound for the request's own origin. Other
transports (``httpx.MockTransport``, ``httpx.ASGITransport``, third-party ones) never
see the token, and the auth refuses the combination with a ConfigurationError.

The tokens come from the local Cognito (``CognitoAuth.from_password``); the transports
are the ones the issue names, plus real loopback servers for the httpcore path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest

from acognito.auth import CognitoAuth
from acognito.errors import ConfigurationError
from acognito.testing import CognitoAdmin, LocalCognito, LocalPool, LocalUser
from acognito.testing.admin import DEFAULT_PASSWORD
from auth_test_servers import HeaderRecorder

HEADER = "X-Api-Token"


def _auth(pool: LocalPool, user: LocalUser, header: str = HEADER) -> CognitoAuth:
    return CognitoAuth.from_password(
        username=user.username, password=user.password, http_header=header, **_kwargs(pool)
    )


def _kwargs(pool: LocalPool) -> dict[str, Any]:
    kwargs = pool.cognito_kwargs()
    return {k: kwargs[k] for k in kwargs if k != "client_secret"}


class Origins:
    """Two origins behind one test transport: ``a`` redirects to ``b``; every request's
    headers are kept by origin and path."""

    A = "https://a.example"
    B = "https://b.example"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    def answer(self, request: httpx.Request) -> httpx.Response:
        origin = f"{request.url.scheme}://{request.url.host}"
        self.seen.append((origin, request.url.path, dict(request.headers)))
        if request.url.path == "/start":
            return httpx.Response(302, headers={"Location": f"{self.B}/landing"})
        if request.url.path == "/same":
            return httpx.Response(302, headers={"Location": f"{self.A}/landing"})
        return httpx.Response(200, json={"ok": True})

    def tokens_sent(self, header: str = HEADER) -> list[tuple[str, str]]:
        return [(o, p) for o, p, headers in self.seen if header.lower() in headers]

    async def asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The same two origins as an ASGI app (the Host header tells them apart)."""
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request = httpx.Request(
            scope["method"], f"https://{headers['host']}{scope['path']}", headers=headers
        )
        response = self.answer(request)
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": response.content})


@pytest.fixture
def origins() -> Origins:
    return Origins()


@pytest.fixture
async def auth(cognito_pool: LocalPool, cognito_user: LocalUser) -> AsyncIterator[CognitoAuth]:
    auth = _auth(cognito_pool, cognito_user)
    yield auth
    await auth.aclose()


@pytest.mark.anyio
async def test_mock_transport_never_sees_the_token_and_is_refused(
    auth: CognitoAuth, origins: Origins
) -> None:
    transport = httpx.MockTransport(origins.answer)
    async with httpx.AsyncClient(transport=transport, auth=auth, follow_redirects=True) as http:
        with pytest.raises(ConfigurationError, match="does not report the headers"):
            await http.get(f"{Origins.A}/start")
    assert [(o, p) for o, p, _ in origins.seen] == [
        (Origins.A, "/start"),
        (Origins.B, "/landing"),
    ]
    assert origins.tokens_sent() == []


@pytest.mark.anyio
async def test_asgi_transport_never_sees_the_token_and_is_refused(
    auth: CognitoAuth, origins: Origins
) -> None:
    transport = httpx.ASGITransport(origins.asgi)
    async with httpx.AsyncClient(transport=transport, auth=auth, follow_redirects=True) as http:
        with pytest.raises(ConfigurationError, match="http_header='X-Api-Token'"):
            await http.get(f"{Origins.A}/start")
    assert (Origins.B, "/landing") in [(o, p) for o, p, _ in origins.seen]
    assert origins.tokens_sent() == []


@pytest.mark.anyio
async def test_no_refresh_is_spent_on_the_refused_request(
    auth: CognitoAuth, origins: Origins
) -> None:
    """The request went without the token, so its 401 says nothing about the token: the
    flow refuses before it would ask for a newer one."""
    transport = httpx.MockTransport(lambda request: httpx.Response(401))
    async with httpx.AsyncClient(transport=transport, auth=auth) as http:
        with pytest.raises(ConfigurationError):
            await http.get(f"{Origins.A}/x")
    first = auth.cognito.access_token
    assert first is not None
    assert await auth.get_token() == first


@pytest.fixture
def blocking_pool_user(cognito_local: LocalCognito) -> tuple[LocalPool, LocalUser]:
    """A pool and a user, made without an event loop of the test's own."""

    async def make() -> tuple[LocalPool, LocalUser]:
        async with CognitoAdmin(cognito_local.endpoint_url, region=cognito_local.region) as a:
            pool = await a.create_local_pool()
            await a.create_user(pool.user_pool_id, "sync-user", DEFAULT_PASSWORD)
            return pool, LocalUser("sync-user", DEFAULT_PASSWORD, "sync-user", "")

    return anyio.run(make)


def test_sync_mock_transport_never_sees_the_token_and_is_refused(
    blocking_pool_user: tuple[LocalPool, LocalUser], origins: Origins
) -> None:
    transport = httpx.MockTransport(origins.answer)
    with (
        _auth(*blocking_pool_user) as auth,
        httpx.Client(transport=transport, auth=auth, follow_redirects=True) as http,
    ):
        with pytest.raises(ConfigurationError, match="does not report the headers"):
            http.get(f"{Origins.A}/start")
    assert origins.tokens_sent() == []


@pytest.mark.anyio
async def test_the_authorization_header_works_on_any_transport(
    cognito_pool: LocalPool, cognito_user: LocalUser, origins: Origins
) -> None:
    """The control: httpx itself drops Authorization on a cross-origin redirect, so the
    default header needs no report from the transport."""
    auth = _auth(cognito_pool, cognito_user, header="Authorization")
    transport = httpx.MockTransport(origins.answer)
    try:
        async with httpx.AsyncClient(transport=transport, auth=auth, follow_redirects=True) as http:
            assert (await http.get(f"{Origins.A}/start")).status_code == 200
    finally:
        await auth.aclose()
    assert origins.tokens_sent("Authorization") == [(Origins.A, "/start")]


@pytest.fixture
def recorder() -> Iterator[HeaderRecorder]:
    with HeaderRecorder() as server:
        yield server


@pytest.mark.anyio
async def test_a_hop_to_a_mounted_mock_transport_gets_no_token(
    auth: CognitoAuth, origins: Origins, recorder: HeaderRecorder
) -> None:
    """Mixed transports: the first hop goes through httpx's own transport (which reports
    its headers, so the token is written there), the redirect lands on another origin
    served by a mounted MockTransport: it never sees the token, and nothing is refused."""
    mounts = {"https://b.example": httpx.MockTransport(origins.answer)}
    async with httpx.AsyncClient(mounts=mounts, auth=auth, follow_redirects=True) as http:
        with anyio.fail_after(20):
            response = await http.get(f"{recorder.url}/redirect?to={Origins.B}/landing")
    assert response.status_code == 200
    token = recorder.seen["/redirect"][0][HEADER.lower()]
    assert token == "Bearer " + str(auth.cognito.access_token)
    assert [(o, p) for o, p, _ in origins.seen] == [(Origins.B, "/landing")]
    assert origins.tokens_sent() == []


@pytest.mark.anyio
async def test_same_origin_hops_keep_the_token_through_httpcore(
    auth: CognitoAuth, recorder: HeaderRecorder
) -> None:
    async with httpx.AsyncClient(auth=auth, follow_redirects=True) as http:
        with anyio.fail_after(20):
            response = await http.get(f"{recorder.url}/redirect?to={recorder.url}/landing")
    assert response.status_code == 200
    sent = "Bearer " + str(auth.cognito.access_token)
    assert recorder.seen["/redirect"][0][HEADER.lower()] == sent
    assert recorder.seen["/landing"][0][HEADER.lower()] == sent
    assert HEADER.lower() not in response.request.headers  # never on the httpx request
