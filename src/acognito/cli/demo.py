"""``demo``: a walk from sign-up to sign-out against an embedded local Cognito, each
step a real call, with how long each step took."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import anyio.to_thread
import httpx
import sniffio

from .app import add_command

if TYPE_CHECKING:
    from acognito import CognitoVerifier

    from .context import Context

__all__ = ["DEMO_PASSWORD", "DEMO_USER", "register", "run_demo"]

DEMO_USER = "ada@example.com"
DEMO_PASSWORD = "Demo-Passw0rd!-not-secret"  # noqa: S105 - a throw-away local user

Progress = Callable[[str], AbstractAsyncContextManager[None]]


def register(sub: Any, parents: dict[str, Any]) -> None:
    demo = add_command(
        sub,
        "demo",
        "walk from sign-up to sign-out on an embedded local Cognito (no AWS account)",
        run_demo_command,
        parents=[parents["output"]],
        description=(
            "Start a local Cognito (moto server on 127.0.0.1; needs the 'local' extra), then\n"
            "sign up, confirm, sign in with SRP, see a wrong password refused, verify tokens,\n"
            "call an API with httpx, refresh and sign out. Each step shows its own time."
        ),
    )
    demo.add_argument(
        "--backend",
        choices=["asyncio", "trio"],
        default="asyncio",
        help="the async library to run on (default: asyncio)",
    )


class _Steps:
    """Numbered steps, each with the time it took (not the time since the start)."""

    def __init__(self, out: Callable[[str], None]) -> None:
        self.out = out
        self.n = 0
        self.mark = time.perf_counter()

    def restart(self) -> None:
        self.mark = time.perf_counter()

    def step(self, text: str) -> None:
        now = time.perf_counter()
        self.n += 1
        self.out(f"[{self.n:2d}] {text}  ({(now - self.mark) * 1000:.0f} ms)")
        self.mark = now

    def detail(self, text: str) -> None:
        self.out(f"       {text}")


@contextlib.asynccontextmanager
async def _no_progress(text: str) -> AsyncIterator[None]:
    yield


def _short(claims: dict[str, Any], *names: str) -> str:
    return ", ".join(f"{n}={claims[n]}" for n in names if n in claims)


async def run_demo(out: Callable[[str], None] = print, progress: Progress = _no_progress) -> None:
    """The walk-through; every step is a real call to the local Cognito."""
    from acognito.testing import CognitoAdmin, LocalCognito

    p = _Steps(out)
    backend = sniffio.current_async_library()
    local = LocalCognito()
    async with progress("starting the local Cognito"):
        await anyio.to_thread.run_sync(local.start)
    p.step(f"started the embedded local Cognito (moto server on 127.0.0.1) under {backend}")
    try:
        p.detail(f"endpoint {local.endpoint_url}")
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            pool = await admin.create_local_pool(username_attributes=["email"])
            client = await admin.create_client(
                pool.user_pool_id,
                secret=True,
                RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
            )
        p.step(
            f"created user pool {pool.user_pool_id} with a confidential app client "
            "that rotates refresh tokens"
        )
        settings = {
            **pool.cognito_kwargs(),
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        }
        await _walk(p, local, pool.user_pool_id, settings)
    finally:
        p.restart()
        with anyio.CancelScope(shield=True):  # Ctrl-C cancels the walk, not the clean-up
            await anyio.to_thread.run_sync(local.stop)
            p.step("stopped the local Cognito")
    out("")
    out("Next, serve a local pool and user for the command line (Ctrl-C stops it):")
    out("  acognito local")
    out("Then, or on your own pool:")
    out("  acognito configure --pool-id <pool id> --client-id <app client id>")
    out("  acognito login --username <user>")
    out('  curl -H "Authorization: Bearer $(acognito token)" https://your.api/')
    out("  acognito whoami")
    out("  acognito logout --global")
    out("  acognito --help")


async def _walk(p: _Steps, local: Any, pool_id: str, settings: dict[str, Any]) -> None:
    from acognito import AsyncCognito, CognitoAuth, CognitoVerifier
    from acognito.errors import NotAuthorizedError, TokenVerificationError
    from acognito.tokens import peek_claims

    async with AsyncCognito(**settings, refresh_token_rotation=True) as cognito:
        cognito.set_base_attributes(email=DEMO_USER, given_name="Ada")
        result = await cognito.register(DEMO_USER, DEMO_PASSWORD)
        p.step(f"register({DEMO_USER!r}) -> confirmed={result['UserConfirmed']}")
        p.detail(f"user sub {result['UserSub']}")

        sent = await anyio.to_thread.run_sync(lambda: local.inbox.codes(pool_id, purpose="sign_up"))
        await cognito.confirm_sign_up(sent[-1].code)
        p.step("confirm_sign_up(code from the local inbox) -> ok (a wrong code is refused)")

        await cognito.authenticate(DEMO_PASSWORD)
        claims = peek_claims(cognito.access_token or "")
        p.step("authenticate(password) with SRP -> tokens issued")
        p.detail(_short(claims, "username", "client_id", "token_use"))
        p.detail(f"access token expires {cognito.expires_datetime:%Y-%m-%d %H:%M:%S %Z}")

        intruder = cognito.for_user(DEMO_USER)
        try:
            await intruder.authenticate("not-the-password")
        except NotAuthorizedError as exc:
            p.step(f"authenticate(wrong password) with SRP -> refused: {exc.code}")
        else:
            raise AssertionError("the local Cognito accepted a wrong password")

        verifier = CognitoVerifier(
            pool_id,
            client_id=settings["client_id"],
            token_use="access",  # noqa: S106 - a claim value, not a secret
            jwks_uri=cognito.jwks_uri,
            issuer=cognito.issuer,
            jwks_cache=cognito.jwks_cache,
        )
        token = cognito.access_token or ""
        claims = await verifier.verify(token)
        p.step(f"CognitoVerifier.verify(access token) -> valid, sub={claims['sub']}")
        head, payload, signature = token.split(".")
        flipped = "B" if signature[10] == "A" else "A"
        forged = f"{head}.{payload}.{signature[:10]}{flipped}{signature[11:]}"
        try:
            await verifier.verify(forged)
        except TokenVerificationError as exc:
            p.step(f"verify(forged token) -> rejected: {type(exc).__name__}")

        user = await cognito.get_user()
        p.step(f"get_user() -> given_name={user.given_name!r}, email={user.email!r}")

        seen: list[str] = []
        async with anyio.create_task_group() as tg:
            port = await tg.start(_serve_demo_api, verifier, seen)
            async with httpx.AsyncClient(
                auth=CognitoAuth(cognito), base_url=f"http://127.0.0.1:{port}"
            ) as http:
                answer = await http.get("/hello")
            tg.cancel_scope.cancel()
        p.step(f"GET /hello with httpx + CognitoAuth -> {answer.status_code} {answer.text}")
        p.detail(f"the API checked {len(seen)} bearer token(s) with CognitoVerifier")

        await cognito.update_profile({"given_name": "Augusta Ada"})
        user = await cognito.get_user()
        p.step(f"update_profile(given_name) -> given_name={user.given_name!r}")

        before = cognito.tokens
        await cognito.renew_access_token()
        rotated = cognito.refresh_token != before.refresh_token
        p.step(
            "renew_access_token() with SECRET_HASH over the pool's user name -> "
            f"new access token: {cognito.access_token != before.access_token}"
        )
        if not rotated:
            raise AssertionError("the local Cognito did not rotate the refresh token")
        p.detail("refresh token rotated: the old one is retired (GetTokensFromRefreshToken)")

        await cognito.logout()
        p.step(
            "logout() -> signed out everywhere; tokens left in the session: "
            f"{'none' if not cognito.access_token else 'some'}"
        )


async def _serve_demo_api(
    verifier: CognitoVerifier,
    seen: list[str],
    *,
    task_status: anyio.abc.TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """A tiny HTTP API on loopback that answers only requests with a valid access token.

    Just enough HTTP/1.1 for the demo, with no web framework: one request a connection.
    Runs until cancelled; reports its port through ``task_status``.
    """
    from acognito.errors import TokenVerificationError

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                data += await stream.receive()
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            prefix = "authorization: bearer "
            token = next((h[len(prefix) :] for h in head[1:] if h.lower().startswith(prefix)), "")
            try:
                claims = await verifier.verify(token)
                seen.append(claims["jti"])
                status, body = "200 OK", json.dumps({"hello": claims["username"]})
            except TokenVerificationError as exc:
                status, body = "401 Unauthorized", json.dumps({"error": type(exc).__name__})
            await stream.send(
                f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n{body}".encode()
            )

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    async with listener:
        task_status.started(listener.extra(anyio.abc.SocketAttribute.local_port))  # noqa: S610
        await listener.serve(handle)


async def run_demo_command(ctx: Context) -> None:
    await run_demo(ctx.out.data, ctx.out.progress)
