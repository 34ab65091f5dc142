"""``python -m acognito``: the demo against an embedded local Cognito, and small tools.

``demo``    starts moto server on 127.0.0.1 (no AWS account, no network) and walks a user
            through sign-up, confirmation, SRP sign-in, verification, profile, refresh
            and sign-out.
``local``   runs the local Cognito in the foreground with a pool, an app client and a
            user, and prints them (for the CLI, boto3 or another language's client).
``login``   signs a user in with SRP (asking for the password, and a TOTP code if MFA
            wants one) and prints the verified claims, never the tokens.
``verify``  verifies a token against a pool's JWKS and prints its claims as JSON.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread
import httpx
import sniffio

from . import AsyncCognito
from .auth import CognitoAuth
from .errors import (
    CognitoError,
    NotAuthorizedError,
    SMSMFAChallengeException,
    SoftwareTokenMFAChallengeException,
    TokenVerificationError,
)
from .tokens import peek_claims
from .verify import CognitoVerifier

DEMO_USER = "ada@example.com"
DEMO_PASSWORD = "Demo-Passw0rd!-not-secret"  # noqa: S105 - a throw-away local user


class _Printer:
    def __init__(self, out: Callable[[str], None]) -> None:
        self.out = out
        self.n = 0
        self.t0 = time.perf_counter()

    def step(self, text: str) -> None:
        self.n += 1
        ms = (time.perf_counter() - self.t0) * 1000
        self.out(f"[{self.n:2d}] {text}  ({ms:.0f} ms)")

    def detail(self, text: str) -> None:
        self.out(f"       {text}")


def _short(claims: dict[str, Any], *names: str) -> str:
    return ", ".join(f"{n}={claims[n]}" for n in names if n in claims)


async def run_demo(out: Callable[[str], None] = print) -> None:
    """The walk-through; every step is a real call to the local Cognito."""
    from .testing import CognitoAdmin, LocalCognito

    p = _Printer(out)
    backend = sniffio.current_async_library()
    p.step(f"starting the embedded local Cognito (moto server on 127.0.0.1) under {backend}")
    local = LocalCognito()
    await anyio.to_thread.run_sync(local.start)
    try:
        p.detail(f"endpoint {local.endpoint_url}")
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            pool = await admin.create_local_pool(username_attributes=["email"])
        p.step(f"created user pool {pool.user_pool_id} with a confidential app client")

        async with AsyncCognito(**pool.cognito_kwargs(secret=True)) as cognito:
            cognito.set_base_attributes(email=DEMO_USER, given_name="Ada")
            result = await cognito.register(DEMO_USER, DEMO_PASSWORD)
            p.step(f"register({DEMO_USER!r}) -> confirmed={result['UserConfirmed']}")
            p.detail(f"user sub {result['UserSub']}")

            codes = await anyio.to_thread.run_sync(
                lambda: local.inbox.codes(pool.user_pool_id, purpose="sign_up")
            )
            await cognito.confirm_sign_up(codes[-1].code)
            p.step("confirm_sign_up(code from the local inbox) -> ok")

            try:
                await cognito.authenticate("Wrong-Passw0rd!")
            except NotAuthorizedError as exc:
                p.step(f"authenticate(wrong password) with SRP -> refused: {exc.code}")

            await cognito.authenticate(DEMO_PASSWORD)
            claims = peek_claims(cognito.access_token or "")
            p.step("authenticate(password) with SRP -> tokens issued")
            p.detail(_short(claims, "username", "client_id", "token_use"))
            p.detail(f"access token expires {cognito.expires_datetime:%Y-%m-%d %H:%M:%S %Z}")

            verifier = CognitoVerifier(
                pool.user_pool_id,
                client_id=pool.secret_client.client_id,
                token_use="access",  # noqa: S106 - a claim value, not a secret
                jwks_uri=cognito.jwks_url,
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
            p.step(
                "renew_access_token() with SECRET_HASH over the pool's user name -> "
                f"new tokens: {cognito.tokens is not before}"
            )

            await cognito.logout()
            p.step(f"logout() -> signed out everywhere; tokens kept: {cognito.tokens!r}")
    finally:
        await anyio.to_thread.run_sync(local.stop)
        p.step("stopped the local Cognito")


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


def _ask(prompt: str, from_stdin: bool, secret: bool) -> str:
    """One line from stdin or the terminal (blocking: called in a worker thread)."""
    if from_stdin:
        return sys.stdin.readline().strip()
    return getpass.getpass(prompt) if secret else input(prompt)


async def run_login(args: argparse.Namespace, out: Callable[[str], None] = print) -> None:
    """``login``: SRP sign-in, an MFA code if asked, then the verified claims."""
    password = await anyio.to_thread.run_sync(_ask, "password: ", args.password_stdin, True)
    secret = os.environ.get(args.client_secret_env) if args.client_secret_env else None
    async with AsyncCognito(
        args.pool_id,
        args.client_id,
        username=args.username,
        client_secret=secret,
        endpoint_url=args.endpoint_url,
        user_pool_region=args.region,
    ) as cognito:
        try:
            await cognito.authenticate(password)
        except SoftwareTokenMFAChallengeException:
            code = await anyio.to_thread.run_sync(_ask, "TOTP code: ", args.password_stdin, False)
            await cognito.respond_to_software_token_mfa_challenge(code)
        except SMSMFAChallengeException:
            code = await anyio.to_thread.run_sync(_ask, "SMS code: ", args.password_stdin, False)
            await cognito.respond_to_sms_mfa_challenge(code)
        out(json.dumps({"id": cognito.id_claims, "access": cognito.access_claims}, indent=2))


async def run_verify(args: argparse.Namespace, out: Callable[[str], None] = print) -> None:
    """``verify``: one token, printed claims or a typed error."""
    token = args.token
    if token == "-":  # noqa: S105 - the "read from stdin" marker
        token = await anyio.to_thread.run_sync(_ask, "", True, False)
    jwks = None
    if args.jwks_file:
        with open(args.jwks_file, encoding="utf-8") as fh:  # noqa: ASYNC230 - a small local file
            jwks = json.load(fh)
    verifier = CognitoVerifier(
        args.pool_id,
        client_id=args.client_id,
        token_use=args.token_use,
        jwks=jwks,
        jwks_uri=args.jwks_url,
        issuer=args.issuer,
    )
    async with verifier:
        claims = await verifier.verify(token)
    out(json.dumps(claims, indent=2, sort_keys=True))


LOCAL_USER = "demo"
LOCAL_PASSWORD = "Local-Passw0rd!"  # noqa: S105 - a throw-away local user


async def _set_up_local(local: Any, username: str, password: str) -> dict[str, str]:
    from .testing import CognitoAdmin

    async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
        pool = await admin.create_local_pool()
        await admin.create_user(
            pool.user_pool_id,
            username,
            password,
            attributes={"email": f"{username}@example.com", "email_verified": "true"},
        )
    return {
        "endpoint_url": local.endpoint_url,
        "region": local.region,
        "user_pool_id": pool.user_pool_id,
        "client_id": pool.public_client.client_id,
        "username": username,
        "password": password,
        "jwks_url": f"{local.endpoint_url}/{pool.user_pool_id}/.well-known/jwks.json",
    }


def run_local(args: argparse.Namespace, out: Callable[[str], None] = print) -> None:
    """Serve the local Cognito in the foreground until Ctrl-C or SIGTERM (no orphan)."""
    import signal

    from .testing import LocalCognito

    def _stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    local = LocalCognito(port=args.port)
    local.start()
    try:
        info = anyio.run(_set_up_local, local, args.username, args.password)
        out(json.dumps(info, indent=2))
        out(
            f"# try: python -m acognito login --endpoint-url {info['endpoint_url']} "
            f"--pool-id {info['user_pool_id']} --client-id {info['client_id']} "
            f"--username {info['username']}"
        )
        out("# boto3 / AWS CLI: AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + local.endpoint_url)
        out("# Ctrl-C stops it.")
        sys.stdout.flush()
        while local.running:
            time.sleep(0.5)
        raise CognitoError("the local Cognito server stopped on its own")
    except KeyboardInterrupt:
        pass
    finally:
        local.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acognito", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="walk through sign-up to sign-out on a local Cognito")
    demo.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")

    local = sub.add_parser("local", help="run the local Cognito with a pool and a user")
    local.add_argument("--port", type=int, default=None, help="default: a free port")
    local.add_argument("--username", default=LOCAL_USER)
    local.add_argument("--password", default=LOCAL_PASSWORD)

    login = sub.add_parser("login", help="sign a user in with SRP and print the verified claims")
    login.add_argument("--pool-id", required=True)
    login.add_argument("--client-id", required=True)
    login.add_argument("--username", required=True)
    login.add_argument("--region", default=None)
    login.add_argument("--endpoint-url", default=None, help="an emulator's URL")
    login.add_argument(
        "--client-secret-env", default=None, help="name of an environment variable with the secret"
    )
    login.add_argument(
        "--password-stdin", action="store_true", help="read the password (and a code) from stdin"
    )

    verify = sub.add_parser("verify", help="verify a token and print its claims")
    verify.add_argument("token", help="the JWT, or - to read it from stdin")
    verify.add_argument("--pool-id", required=True)
    verify.add_argument("--client-id", default=None, help="omit to skip the app-client check")
    verify.add_argument("--token-use", choices=["id", "access"], default=None)
    verify.add_argument("--jwks-url", default=None)
    verify.add_argument("--jwks-file", default=None, help="a JWKS JSON file (no fetch)")
    verify.add_argument("--issuer", default=None)
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            anyio.run(run_demo, backend=args.backend)
        elif args.command == "local":
            run_local(args)
        elif args.command == "login":
            anyio.run(run_login, args)
        elif args.command == "verify":
            anyio.run(run_verify, args)
    except CognitoError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
