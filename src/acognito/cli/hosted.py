"""``login --hosted-ui``: the browser signs in on the pool's domain (authorization code
with PKCE) and comes back to a listener on this machine's loopback interface.

The redirect URI is ``http://localhost:PORT/callback``; a real pool accepts only the
callback URLs registered for the app client, so the port comes from ``--port``, else
the profile (``configure --callback-port``). Before the browser opens, the authorize
URL is requested once without following redirects: an error answer (a redirect
mismatch, an unknown client) fails at once, naming the callback URL to register.

The listener keeps listening until a callback carrying this sign-in's ``state`` arrives
(or the timeout): a stray connection, a port scan, another path or a forged callback
is answered and ignored. The code is then redeemed, and the id token is checked with
:func:`acognito.oauth.verify_id_token` (signature, audience, nonce) before anything is
cached.
"""

from __future__ import annotations

import contextlib
import html
import webbrowser
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import anyio
import anyio.abc
import anyio.to_thread

from .cache import CachedLogin
from .errors import CliError, UsageError
from .keep import finish_login, oauth_client

if TYPE_CHECKING:
    from acognito.oauth import AuthorizationRequest

    from .config import Profile
    from .context import Context

__all__ = ["Callback", "hosted_login", "preflight"]

CALLBACK_PATH = "/callback"
DEFAULT_SCOPES = "openid email profile"
#: The most a request to the listener may send before its headers end.
_MAX_REQUEST = 16384
_PAGE = (
    "<!doctype html><meta charset=utf-8><title>acognito</title>"
    "<body style='font-family:sans-serif'><h1>{title}</h1><p>{text}</p></body>"
)
#: What a connection to the listener may do without ending the sign-in.
_PEER_TROUBLE = (
    anyio.EndOfStream,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    OSError,
    UnicodeError,
)


class Callback:
    """The loopback listener's handler: waits for the one redirect of this sign-in.

    Only ``GET /callback`` with this request's ``state`` (checked in constant time by
    :meth:`AuthorizationRequest.check_state`) ends the wait; everything else is
    answered (404, or 400 for a callback of another sign-in) and forgotten.
    """

    def __init__(self, request: AuthorizationRequest, on_ignored: Any = None) -> None:
        self.request = request
        self.target: str | None = None
        self.arrived = anyio.Event()
        self.ignored = 0
        self._on_ignored = on_ignored

    async def handle(self, stream: anyio.abc.SocketStream) -> None:
        with contextlib.suppress(*_PEER_TROUBLE):
            async with stream:
                await self._serve(stream)

    async def _serve(self, stream: anyio.abc.SocketStream) -> None:
        data = b""
        with anyio.move_on_after(10):
            while b"\r\n\r\n" not in data and len(data) < _MAX_REQUEST:
                data += await stream.receive()
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        target = parts[1] if len(parts) == 3 and parts[0] == "GET" else ""
        if urlsplit(target).path != CALLBACK_PATH or self.arrived.is_set():
            await _answer(
                stream, "404 Not Found", "Not here", "This is acognito's sign-in listener."
            )
            return
        if not self._ours(target):
            self.ignored += 1
            if self._on_ignored is not None:
                self._on_ignored()
            await _answer(
                stream,
                "400 Bad Request",
                "Not this sign-in",
                "This callback does not belong to the sign-in the terminal is waiting for.",
            )
            return
        self.target = target
        self.arrived.set()  # before answering: a peer that leaves now cannot undo it
        if "error" in dict(parse_qsl(urlsplit(target).query)):
            await _answer(
                stream, "200 OK", "Sign-in failed", "Go back to the terminal for details."
            )
        else:
            await _answer(
                stream, "200 OK", "Signed in", "You can close this tab and go back to the terminal."
            )

    def _ours(self, target: str) -> bool:
        from acognito.errors import OAuthError

        try:
            params = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
            states = [v for k, v in parse_qsl(urlsplit(target).query) if k == "state"]
            if len(states) > 1:
                return False
            self.request.check_state(params.get("state"))
        except (OAuthError, ValueError):
            return False
        return True


async def _answer(stream: anyio.abc.SocketStream, status: str, title: str, text: str) -> None:
    body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n"
    )
    with contextlib.suppress(*_PEER_TROUBLE):
        await stream.send(head.encode() + body)


def _port(ctx: Context, profile: Profile) -> tuple[int, bool]:
    """The loopback port (0: any free one), and whether it is the profile's saved one."""
    if ctx.args.port is not None:
        return int(ctx.args.port), False
    if profile.callback_port:
        return int(profile.callback_port), True
    return 0, False


async def preflight(
    url: str, redirect_uri: str, client_id: str, port_saved: bool, profile: str
) -> None:
    """Ask the domain for the authorize URL once, following no redirect; raise at once
    when it refuses the request (a redirect mismatch, an unknown client, a bad scope)."""
    import httpx

    from acognito.errors import CognitoConnectionError

    def get() -> httpx.Response:
        with httpx.Client(timeout=10) as http:
            return http.get(url, follow_redirects=False)

    try:
        answer = await anyio.to_thread.run_sync(get)
    except httpx.HTTPError as exc:
        raise CognitoConnectionError(
            f"cannot reach the pool's domain at {urlsplit(url).netloc} ({type(exc).__name__})"
        ) from None
    problem: str | None = None
    if answer.status_code >= 400:
        text = " ".join(answer.text[:200].split())
        problem = f"HTTP {answer.status_code}" + (f" ({text})" if text and "<" not in text else "")
    elif answer.is_redirect:
        location = answer.headers.get("location", "")
        query = dict(parse_qsl(urlsplit(location).query))
        if "error" in query:
            problem = query["error"]
            if query.get("error_description"):
                problem += f" ({query['error_description']})"
    if problem is None:
        return
    register = f"register {redirect_uri} as a callback URL of app client {client_id}"
    if "client" in problem.lower() and "redirect" not in problem.lower():
        hint = f"check --client-id and --domain (acognito status); then {register}"
    elif port_saved:
        hint = register
    else:
        port = urlsplit(redirect_uri).port
        hint = (
            f"{register}, then keep the port: "
            f"acognito configure --profile {profile} --callback-port {port}"
        )
    raise UsageError(f"the pool's domain refused this sign-in: {problem}", hint=hint)


async def hosted_login(ctx: Context) -> None:
    from acognito import CognitoVerifier
    from acognito.oauth import verify_id_token

    args = ctx.args
    profile = ctx.profile()
    profile.need("domain", "--domain")
    pool_id = profile.need("pool_id", "--pool-id")
    client_id = profile.need("client_id", "--client-id")
    ctx.check_login_target(profile)
    scopes = args.scopes or profile.scopes or DEFAULT_SCOPES
    wanted, saved = _port(ctx, profile)
    try:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=wanted)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{wanted} ({exc.strerror})",
            hint="another program holds the port: stop it, or use another registered one",
        ) from None
    port = listener.extra(anyio.abc.SocketAttribute.local_port)  # noqa: S610
    redirect_uri = f"http://localhost:{port}{CALLBACK_PATH}"
    async with oauth_client(profile) as client, listener:
        request = client.authorization_url(redirect_uri, scopes=scopes)
        await preflight(request.url, redirect_uri, client_id, saved, profile.name)

        def ignored() -> None:
            ctx.out.warn("ignored a callback that does not belong to this sign-in (wrong state)")

        callback = Callback(request, ignored)
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
            ctx.out.say(f"(waiting for the redirect to {redirect_uri})")
            with anyio.move_on_after(args.timeout) as scope:
                async with ctx.out.progress("waiting for the browser", after=1.0):
                    await callback.arrived.wait()
            tg.cancel_scope.cancel()
        if scope.cancelled_caught or callback.target is None:
            raise CliError(
                f"no sign-in came back within {args.timeout:.0f} s",
                hint="run 'acognito login --hosted-ui' again",
            )
        tokens = await client.complete_authorization(
            request, f"http://localhost:{port}{callback.target}"
        )
    endpoint = profile.endpoint_url.rstrip("/") if profile.endpoint_url else None
    jwks_uri = f"{endpoint}/{pool_id}/.well-known/jwks.json" if endpoint else None
    access_check = CognitoVerifier(
        pool_id,
        client_id=client_id,
        token_use="access",  # noqa: S106 - a claim value
        jwks_uri=jwks_uri,
    )
    id_check = CognitoVerifier(
        pool_id,
        client_id=client_id,
        token_use="id",  # noqa: S106 - a claim value
        jwks_uri=jwks_uri,
        jwks_cache=access_check.jwks_cache,
    )
    async with access_check, id_check:
        access = await access_check.verify(tokens.access_token)
        ident = await verify_id_token(tokens, request, id_check, client_id=client_id)
    username = str(access.get("username") or access.get("sub"))
    login = CachedLogin.from_profile(
        profile,
        username,
        "oauth",
        access_token=tokens.access_token,
        id_token=tokens.id_token,
        refresh_token=tokens.refresh_token,
    )

    claims: dict[str, Any] = {"access": access, "id": ident}
    await finish_login(ctx, profile, login, claims)
