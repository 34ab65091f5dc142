"""Sign a user in with the authorization-code grant and PKCE, as a command-line app.

The script listens on ``http://localhost:<port>/callback``, sends the browser to the
pool's ``/oauth2/authorize``, waits for the redirect, checks ``state`` and redeems the
code with the PKCE verifier. It prints who signed in and which tokens it got (never
the tokens themselves), calls ``/oauth2/userInfo``, refreshes once and revokes the
refresh token.

Configure a real pool with environment variables (register the callback URL
``http://localhost:<port>/callback`` as an allowed callback of the app client):

    ACOGNITO_DOMAIN         https://<prefix>.auth.<region>.amazoncognito.com
    ACOGNITO_CLIENT_ID      a public app client (no secret) with the code grant
    ACOGNITO_REDIRECT_PORT  default 8765

Without them it runs offline against the shipped local Cognito
(``acognito.testing.LocalCognito``, the ``local`` extra): a hosted-UI app client and a
user, and the "browser" is an httpx client that fills in the local Cognito's login
page (user name and password) and follows the redirect.

    python examples/pkce_login.py [--trio]
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import webbrowser
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import anyio
import anyio.to_thread
import httpx

from acognito.oauth import OAuth2Client


class CallbackReceiver:
    """A one-shot HTTP listener on localhost that captures the redirect URL."""

    def __init__(self, port: int) -> None:
        self.redirect_url: str | None = None
        self.done = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host = self.headers.get("Host", f"localhost:{port}")
                receiver.redirect_url = f"http://{host}{self.path}"
                body = b"Signed in. You can close this tab."
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                receiver.done.set()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CallbackReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def redirect_uri(self) -> str:
        return f"http://localhost:{self.port}/callback"


def peek(token: str) -> dict[str, Any]:
    """A token's claims, unverified, for display only (verify tokens before trusting them)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def sign_in_on_the_login_page(url: str, username: str, password: str) -> None:
    """What a person does in the browser: open the login page, submit the form."""
    async with httpx.AsyncClient(follow_redirects=True) as browser:
        page = await browser.get(url)
        assert "Sign in" in page.text
        await browser.post(url, data={"username": username, "password": password})


async def login(
    domain: str, client_id: str, receiver: CallbackReceiver, user: tuple[str, str] | None
) -> None:
    async with OAuth2Client(domain, client_id) as oauth:
        request = oauth.authorization_url(receiver.redirect_uri, scopes=["openid", "email"])
        # Keep request.state and request.code_verifier until the redirect comes back
        # (in a web app: in the server-side session).
        if user is not None:
            await sign_in_on_the_login_page(request.url, *user)
        else:
            print(f"Opening the browser at:\n  {request.url}")
            webbrowser.open(request.url)
        await anyio.to_thread.run_sync(receiver.done.wait)
        assert receiver.redirect_url is not None

        tokens = await oauth.complete_authorization(request, receiver.redirect_url)
        print(f"got {tokens!r}")
        if tokens.id_token:
            claims = peek(tokens.id_token)
            print(f"signed in: {claims.get('cognito:username')} (nonce ok: "
                  f"{claims.get('nonce') == request.nonce})")  # fmt: skip
        print("userInfo:", await oauth.user_info(tokens.access_token))
        if tokens.refresh_token:
            refreshed = await oauth.refresh(tokens.refresh_token)
            print(f"refreshed: access token expires at {refreshed.expires_at:.0f}")
            await oauth.revoke(tokens.refresh_token)
            print("refresh token revoked")
        print("sign-out URL:", oauth.logout_url(redirect_uri=receiver.redirect_uri))


def main() -> None:
    backend = "trio" if "--trio" in sys.argv else "asyncio"
    with ExitStack() as stack:
        domain = os.environ.get("ACOGNITO_DOMAIN")
        port = int(os.environ.get("ACOGNITO_REDIRECT_PORT", "8765"))
        if domain:
            client_id = os.environ["ACOGNITO_CLIENT_ID"]
            receiver = stack.enter_context(CallbackReceiver(port))
            user = None
        else:
            from acognito.testing import DEFAULT_PASSWORD, CognitoAdmin, LocalCognito

            receiver = stack.enter_context(CallbackReceiver(0))
            cognito = stack.enter_context(LocalCognito())

            async def set_up() -> str:
                async with CognitoAdmin(cognito.endpoint_url, region=cognito.region) as admin:
                    pool_id = await admin.create_pool()
                    await admin.create_user(
                        pool_id, "alice", attributes={"email": "alice@example.com"}
                    )
                    app = await admin.create_hosted_ui_client(
                        pool_id, [receiver.redirect_uri], scopes=("openid", "email")
                    )
                return app.client_id

            client_id = anyio.run(set_up)
            domain, user = cognito.oauth_domain_url(), ("alice", DEFAULT_PASSWORD)
            print(f"(no ACOGNITO_DOMAIN: using the local Cognito's OAuth2 domain at {domain})")
        anyio.run(login, domain, client_id, receiver, user, backend=backend)


if __name__ == "__main__":
    main()
