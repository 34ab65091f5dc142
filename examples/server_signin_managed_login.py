"""Sign users in on the server: a Starlette app served on loopback, managed login, an
HttpOnly session cookie, the tokens kept on the server.

The app has a public page, a page that needs a user (with a sign-out form carrying the
session's CSRF token) and nothing else: ``SignInMiddleware`` answers ``/login``,
``/auth/callback`` and ``/logout``. Against the shipped local Cognito (the ``local``
extra), a "browser" (httpx, keeping cookies) opens the private page, is sent to the
managed login page, fills in the form, lands back signed in, and signs out; the refresh
token is then revoked at the server. It prints what it sees (never a token).

    pip install 'acognito[starlette,local]' hypercorn
    python examples/server_signin_managed_login.py [--trio]   # --trio: served on trio

Against a real pool, set ``COGNITO_USER_POOL_ID``, ``COGNITO_CLIENT_ID``,
``COGNITO_DOMAIN``, ``SESSION_SECRET`` and ``APP_URL``, run ``serve(app, APP_URL)`` and
open the URL in a browser.
"""

from __future__ import annotations

import html
import socket
import sys
from typing import Any

import anyio
import httpx
import sniffio
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from acognito.integrations.signin import ServerSignIn
from acognito.integrations.signin.starlette import (
    SignInMiddleware,
    csrf_token,
    login_required,
    visit_of,
)


def make_app(signin: ServerSignIn) -> Starlette:
    async def home(request: Request) -> HTMLResponse:
        user = visit_of(request).user
        who = "nobody" if user is None else html.escape(user.username or "")
        return HTMLResponse(f"<p>Signed in: {who}</p><a href='/private'>private</a>")

    @login_required
    async def private(request: Request) -> HTMLResponse:
        user = request.user
        token = html.escape(csrf_token(request))
        return HTMLResponse(
            f"<p>Hello {html.escape(user.display_name)} ({html.escape(user.email or '')})</p>"
            '<form method="post" action="/logout">'
            f'<input type="hidden" name="csrf_token" value="{token}">'
            "<button>Sign out</button></form>"
        )

    async def signed_out(request: Request) -> HTMLResponse:
        return HTMLResponse("<p>Signed out.</p>")

    return Starlette(
        routes=[Route("/", home), Route("/private", private), Route("/signed-out", signed_out)],
        middleware=[Middleware(SignInMiddleware, signin=signin)],
    )


async def serve(app: Any, sock: socket.socket, stop: anyio.Event) -> None:
    """hypercorn on this backend (asyncio or trio), on an already bound socket."""
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]
    config.accesslog = None
    if sniffio.current_async_library() == "trio":
        from hypercorn.trio import serve as serve_on
    else:
        from hypercorn.asyncio import serve as serve_on  # type: ignore[assignment]
    await serve_on(app, config, shutdown_trigger=stop.wait)


def form_field(page: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


async def browse(app_url: str, username: str, password: str) -> str:
    """What a person does in a browser: open the private page, sign in, sign out."""
    async with httpx.AsyncClient(follow_redirects=True) as browser:
        login_page = await browser.get(f"{app_url}/private")
        print("asked to sign in on:", login_page.url.path)  # the domain's /oauth2/authorize
        page = await browser.post(
            str(login_page.url), data={"username": username, "password": password}
        )
        print("back at:", page.url.path, "->", page.text.split("</p>")[0].removeprefix("<p>"))
        print("cookies:", sorted(browser.cookies))  # opaque ids, no token
        signed_out = await browser.post(
            f"{app_url}/logout",
            data={"csrf_token": form_field(page.text, "csrf_token")},
            headers={"Origin": app_url},
        )
        print("after sign-out:", signed_out.url.path, "cookies:", sorted(browser.cookies))
    return str(page.url)


async def demo() -> None:
    from acognito.testing import CognitoAdmin, LocalCognito

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    app_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with LocalCognito() as local:
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            pool_id = await admin.create_pool()
            password = "Server-Sign1n-Example!"
            await admin.create_user(
                pool_id, "ada", password, attributes={"email": "ada@example.com"}
            )
            client = await admin.create_hosted_ui_client(
                pool_id, [f"{app_url}/auth/callback"], logout_urls=[f"{app_url}/signed-out"]
            )
        signin = ServerSignIn(
            pool_id,
            client.client_id,
            domain=local.oauth_domain_url(pool_id),
            app_url=app_url,
            logout_uri=f"{app_url}/signed-out",
            jwks_uri=f"{local.endpoint_url}/{pool_id}/.well-known/jwks.json",
            # secret=...: on loopback a random one is made; deployed, it is required
        )
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(serve, make_app(signin), sock, stop)
            await browse(app_url, "ada", password)
            stop.set()
        counts = local.api.oauth_counts()
        print(
            "codes redeemed:",
            counts["token:authorization_code"],
            "revoked:",
            counts["/oauth2/revoke"],
        )


def main() -> None:
    anyio.run(demo, backend="trio" if "--trio" in sys.argv else "asyncio")


if __name__ == "__main__":
    main()
