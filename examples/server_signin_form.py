"""A server-rendered sign-in with your own templates: password, TOTP set-up with a QR
code, the code on later sign-ins; no managed login, no JavaScript.

``ServerSignIn(form_path="/signin", form_renderer=...)`` runs the typed steps
(``sign_in`` / ``confirm_sign_in``) and keeps each pending step on the server (in the
store, never in a cookie); the Jinja2 templates in ``examples/templates/signin/`` draw
the pages from a ``FormView``. Against the shipped local Cognito (the ``local`` extra), in
a pool that requires MFA, a "browser" (httpx, keeping cookies) signs up its
authenticator app on the first sign-in, signs out, and signs in again with a code.

    pip install 'acognito[starlette,local]' jinja2 segno hypercorn
    python examples/server_signin_form.py [--trio]
"""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path

import anyio
import httpx
import jinja2
import sniffio
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from acognito.integrations.signin import FormView, ServerSignIn
from acognito.integrations.signin.starlette import SignInMiddleware, csrf_token, visit_of
from acognito.testing import CognitoAdmin, LocalCognito, fresh_totp

templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(default=True),
)
TITLES = {
    "password": "Sign in to the example",
    "totp_setup": "Set up your authenticator app",
    "totp_code": "Enter your authenticator code",
    "sms_code": "Enter the code we texted you",
    "email_code": "Enter the code we e-mailed you",
    "new_password": "Choose a new password",
    "mfa_choice": "How should we check it is you?",
    "email_setup": "Add an e-mail address",
    "unsupported": "Sign in another way",
}


def render(view: FormView) -> str:
    """Every sign-in page, drawn by your template."""
    return templates.get_template("signin/form.html").render(view=view, titles=TITLES)


def make_app(signin: ServerSignIn) -> Starlette:
    async def home(request: Request) -> HTMLResponse:
        user = visit_of(request).user
        page = templates.get_template("signin/home.html")
        return HTMLResponse(page.render(user=user, csrf_token=csrf_token(request)))

    return Starlette(
        routes=[Route("/", home)], middleware=[Middleware(SignInMiddleware, signin=signin)]
    )


async def serve(app: Starlette, sock: socket.socket, stop: anyio.Event) -> None:
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]
    config.accesslog = config.errorlog = None
    if sniffio.current_async_library() == "trio":
        from hypercorn.trio import serve as serve_on
    else:
        from hypercorn.asyncio import serve as serve_on  # type: ignore[assignment]
    await serve_on(app, config, shutdown_trigger=stop.wait)


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} on the page"
    return found.group(1)


def title(page: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", page)
    return found.group(1) if found else "?"


async def browse(app_url: str, username: str, password: str) -> None:
    async with httpx.AsyncClient(base_url=app_url, follow_redirects=True) as browser:

        async def submit(page: httpx.Response, **fields: str) -> httpx.Response:
            data = {"csrf_token": hidden(page.text, "csrf_token"), **fields}
            return await browser.post(str(page.url), data=data, headers={"Origin": app_url})

        form = await browser.get("/login")  # no managed login: /login shows the form
        print("1.", title(form.text))
        setup = await submit(form, step="password", username=username, password=password)
        secret = re.search(r'id="totp-secret">([A-Z2-7=]+)<', setup.text)
        assert secret, "no TOTP key on the set-up page"
        print("2.", title(setup.text), "| QR code:", '<div id="qr"><svg' in setup.text)
        home = await submit(setup, step="answer", code=await fresh_totp(secret.group(1)))
        print("3.", re.sub("<[^>]+>", "", home.text.split('id="who">')[1].split("</p>")[0]))
        print("   cookies:", sorted(browser.cookies))  # opaque ids only: no token
        out = await browser.post(
            "/logout",
            data={"csrf_token": hidden(home.text, "csrf_token")},
            headers={"Origin": app_url},
        )
        print("   signed out:", "Not signed in" in out.text)
        form = await browser.get("/login")
        ask = await submit(form, step="password", username=username, password=password)
        print("4.", title(ask.text))
        home = await submit(ask, step="answer", code=await fresh_totp(secret.group(1)))
        print("  ", re.sub("<[^>]+>", "", home.text.split('id="who">')[1].split("</p>")[0]))


async def demo() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    app_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with LocalCognito() as local:
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            pool = await admin.create_local_pool(mfa="ON")  # MFA required: TOTP set-up
            password = "Form-Example-Passw0rd!"
            await admin.create_user(pool.user_pool_id, "grace", password)
        options = pool.cognito_kwargs()  # endpoint_url, region and keys of the local one
        signin = ServerSignIn(
            options.pop("user_pool_id"),
            options.pop("client_id"),
            app_url=app_url,
            form_path="/signin",
            form_renderer=render,
            totp_issuer="Example app",
            cognito_options=options,
            jwks_uri=pool.jwks_uri,
        )
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(serve, make_app(signin), sock, stop)
            await browse(app_url, "grace", password)
            stop.set()


def main() -> None:
    anyio.run(demo, backend="trio" if "--trio" in sys.argv else "asyncio")


if __name__ == "__main__":
    main()
