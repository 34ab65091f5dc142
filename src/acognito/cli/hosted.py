"""``login --hosted-ui``: the browser signs in on the pool's domain (authorization code
with PKCE) and comes back to a one-shot listener on this machine's loopback interface."""

from __future__ import annotations

import contextlib
import html
import webbrowser
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
import anyio.abc
import anyio.to_thread

from .cache import CachedLogin
from .config import Profile, resolve_secret
from .errors import CliError, UsageError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from acognito.oauth import OAuth2Client

    from .context import Context

__all__ = ["hosted_login", "oauth_client"]

CALLBACK_PATH = "/callback"
DEFAULT_SCOPES = "openid email profile"
_PAGE = (
    "<!doctype html><meta charset=utf-8><title>acognito</title>"
    "<body style='font-family:sans-serif'><h1>{title}</h1><p>{text}</p></body>"
)


@asynccontextmanager
async def oauth_client(profile: Profile) -> AsyncIterator[OAuth2Client]:
    """An OAuth2 client for the profile's domain (with its secret, if it has one)."""
    from acognito.oauth import OAuth2Client

    domain = profile.need("domain", "--domain")
    client = OAuth2Client(
        domain, profile.need("client_id", "--client-id"), client_secret=resolve_secret(profile)
    )
    try:
        yield client
    finally:
        await client.aclose()


class _Callback:
    """The one redirect the browser makes back to us."""

    def __init__(self) -> None:
        self.target: str | None = None
        self.arrived = anyio.Event()

    async def handle(self, stream: anyio.abc.SocketStream) -> None:
        async with stream:
            data = b""
            with anyio.move_on_after(10):
                while b"\r\n\r\n" not in data and len(data) < 16384:
                    chunk = await stream.receive()
                    if not chunk:
                        break
                    data += chunk
            line = data.split(b"\r\n", 1)[0].decode("latin-1")
            parts = line.split(" ")
            target = parts[1] if len(parts) == 3 and parts[0] == "GET" else ""
            if urlsplit(target).path != CALLBACK_PATH or self.target is not None:
                await _answer(
                    stream, "404 Not Found", "Not here", "This is acognito's sign-in listener."
                )
                return
            self.target = target
            if "error=" in target:
                await _answer(
                    stream, "200 OK", "Sign-in failed", "Go back to the terminal for details."
                )
            else:
                await _answer(
                    stream,
                    "200 OK",
                    "Signed in",
                    "You can close this tab and go back to the terminal.",
                )
            self.arrived.set()


async def _answer(stream: anyio.abc.SocketStream, status: str, title: str, text: str) -> None:
    body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n"
    )
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        await stream.send(head.encode() + body)


async def hosted_login(ctx: Context) -> None:
    from acognito import CognitoVerifier

    args = ctx.args
    profile = ctx.profile()
    profile.need("domain", "--domain")
    pool_id = profile.need("pool_id", "--pool-id")
    scopes = args.scopes or profile.scopes or DEFAULT_SCOPES
    callback = _Callback()
    try:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=args.port)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); pick another --port"
        ) from None
    port = listener.extra(anyio.abc.SocketAttribute.local_port)  # noqa: S610
    redirect_uri = f"http://localhost:{port}{CALLBACK_PATH}"
    async with oauth_client(profile) as client, listener:
        request = client.authorization_url(redirect_uri, scopes=scopes)
        async with anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, callback.handle)
            opened = False
            if not args.no_browser:
                opened = await anyio.to_thread.run_sync(webbrowser.open, request.url)
            ctx.out.say(
                "Opened the browser to sign in."
                if opened
                else "Open this URL in a browser to sign in:"
            )
            if not opened:
                # The URL is what the person needs: shown even with --quiet.
                ctx.out.stderr.write(request.url + "\n")
                ctx.out.stderr.flush()
            ctx.out.say(
                f"(waiting for the redirect to {redirect_uri}; "
                "register it as a callback URL of the app client)"
            )
            with anyio.move_on_after(args.timeout) as scope:
                async with ctx.out.progress("waiting for the browser", after=1.0):
                    await callback.arrived.wait()
            tg.cancel_scope.cancel()
        if scope.cancelled_caught or callback.target is None:
            raise CliError(
                f"no sign-in came back within {args.timeout:.0f} s; "
                "run 'acognito login --hosted-ui' again"
            )
        tokens = await client.complete_authorization(
            request, f"http://localhost:{port}{callback.target}"
        )
    endpoint = profile.endpoint_url.rstrip("/") if profile.endpoint_url else None
    jwks_uri = f"{endpoint}/{pool_id}/.well-known/jwks.json" if endpoint else None
    verifier = CognitoVerifier(
        pool_id,
        client_id=profile.client_id,
        token_use="access",  # noqa: S106 - a claim value
        jwks_uri=jwks_uri,
    )
    async with verifier:
        access = await verifier.verify(tokens.access_token)
    username = str(access.get("username") or access.get("sub"))
    login = CachedLogin.from_profile(
        profile,
        username,
        "oauth",
        access_token=tokens.access_token,
        id_token=tokens.id_token,
        refresh_token=tokens.refresh_token,
    )
    path = ctx.cache.save(login)
    from .signin import report_login

    claims: dict[str, Any] = {"access": access}
    report_login(ctx, login, claims, str(path))
