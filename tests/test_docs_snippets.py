"""Every Python snippet of the documentation site and the README is a complete script.

Each one runs here against a fresh pool on the local Cognito, on asyncio and on trio
(the snippets call ``anyio.run(main)``; the harness picks the backend). They read their
settings from environment variables, as production code does: ``COGNITO_USER_POOL_ID``,
``COGNITO_CLIENT_ID``, ``COGNITO_USERNAME``, ``COGNITO_PASSWORD`` and ``API_URL`` (a
loopback API that wants a bearer token). botocore's
``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`` sends their Cognito calls to the local
server and ``COGNITO_JWKS`` hands them its keys, so the snippets carry no test hooks.

A snippet that needs a real AWS account (something the local Cognito does not emulate)
follows a ``<!-- needs-aws -->`` line: it is compiled and its imports are checked, not run.
None does today.

A snippet that needs a particular pool state follows a ``<!-- snippet-setup: NAME -->``
line; NAME is one of ``SETUPS`` below (a user who must choose a new password, a pool with
MFA required, a user with TOTP set up, custom auth triggers, a pool tracking devices, an
M2M client, a code from the local OAuth2 login page, ...). The harness builds that state
with ``CognitoAdmin`` and plays the user: what the snippet asks with ``input()`` is
answered through ``sys.stdin`` (a new password, a code from an authenticator app holding
the user's TOTP secret, a code the snippet had Cognito send, read from the local
Cognito's inbox when the prompt comes), and every scripted answer must be asked for, so
the step was reached. A setup's ``checks`` then confirm what the snippet cannot show by
itself (the password was proven before the custom challenge, the remembered device
answered its own SRP proof). For the OAuth2 snippets the local Cognito is the pool's
domain: ``COGNITO_DOMAIN``, ``M2M_CLIENT_ID`` and ``M2M_CLIENT_SECRET``, or the callback
URL and what the app kept (``CALLBACK_URL``, ``OAUTH_STATE``, ``OAUTH_VERIFIER``,
``OAUTH_NONCE``).
"""

from __future__ import annotations

import ast
import importlib
import io
import itertools
import json
import re
import runpy
import sys
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest

from acognito import AsyncCognito
from acognito.identity import session_for_this_loop
from acognito.oauth import OAuth2Client
from acognito.testing import CognitoAdmin, LocalCognito, LocalPool, fresh_totp, totp
from acognito.testing._test_api import Inbox, TestApi

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
NEEDS_AWS = "<!-- needs-aws -->"
OWN_PROCESS = "<!-- snippet-process -->"
SETUP = re.compile(r"<!-- snippet-setup: ([a-z0-9-]+) -->")
USERNAME = "ann"
PASSWORD = "Ann-Passw0rd!x"
NEW_PASSWORD = "Ann-N3w-Passw0rd!x"
SNIPPET_TIMEOUT = 120  # seconds
CALLBACK = "https://app.example.com/callback"  # the redirect URI of docs/oauth.md


@dataclass(frozen=True)
class Snippet:
    source: str  # "docs/sign-in.md#2"
    code: str
    needs_aws: bool
    setup: str = "default"
    own_process: bool = False  # runs in a fresh interpreter (Django's settings are global)


def extract(path: Path) -> list[Snippet]:
    """The page's Python fences, with the HTML comments right above each one."""
    text = path.read_text()
    found = []
    for number, match in enumerate(FENCE.finditer(text), start=1):
        before = text[: match.start()].rstrip().splitlines()
        above = (line.strip() for line in reversed(before))
        comments = list(itertools.takewhile(lambda line: line.startswith("<!--"), above))
        setups = [m.group(1) for line in comments if (m := SETUP.fullmatch(line))]
        source = f"{path.relative_to(ROOT)}#{number}"
        assert len(setups) <= 1, f"{source}: more than one snippet-setup"
        found.append(
            Snippet(
                source,
                match.group(1),
                NEEDS_AWS in comments,
                *(setups[:1] or ["default"]),
                own_process=OWN_PROCESS in comments,
            )
        )
    return found


DOC_SNIPPETS = [s for page in sorted(DOCS.glob("*.md")) for s in extract(page)]
README_SNIPPETS = extract(ROOT / "README.md")

# README snippets that are fragments (top-level await) until the lead merges the README
# text this branch proposes; strict, so each flips to a failure once it is fixed.
README_FRAGMENTS: dict[str, str] = {}


# ----------------------------------------------------------------------------- harness


class _Api(BaseHTTPRequestHandler):
    """A loopback API: 200 with a bearer token, 401 without."""

    def do_GET(self) -> None:
        auth = self.headers.get("Authorization", "")
        ok = auth.startswith("Bearer ") and auth.count(".") == 2
        body = json.dumps({"ok": ok, "path": self.path}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def api_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


class _TypedAnswers(io.TextIOBase):
    """``sys.stdin`` for a snippet: what its user types at each ``input()`` prompt.

    ``answers`` are typed in order; an answer that is a function is called when its prompt
    comes (a code the snippet has just had sent, read from the inbox then); then
    ``then()`` (if given) answers every later prompt. Past the script ``input()`` sees end
    of file (``EOFError``), so a snippet asking more than its user knows fails."""

    def __init__(
        self, answers: list[str | Callable[[], str]], then: Callable[[], str] | None = None
    ) -> None:
        super().__init__()
        self._answers: Iterator[str | Callable[[], str]] = iter(answers)
        self.unanswered = len(answers)
        self.then = then
        self.asked = 0

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        self.asked += 1
        answer = next(self._answers, None)
        if answer is not None:
            self.unanswered -= 1
            return (answer if isinstance(answer, str) else answer()) + "\n"
        return "" if self.then is None else self.then() + "\n"


def authenticator(pool: LocalPool, username: str = USERNAME) -> Callable[[], str]:
    """An authenticator app holding the TOTP secret the user scanned last (the one a
    set-up awaits a code of, else the verified one, read from the server's test API):
    each call its current code, from the next window when this one closes in under 3 s."""
    api = TestApi(pool.endpoint_url)

    def code() -> str:
        try:
            secret = api.totp_secret(pool.user_pool_id, username, pending=True)
        except LookupError:
            secret = api.totp_secret(pool.user_pool_id, username)
        left = 30 - time.time() % 30
        if left < 3:
            time.sleep(left + 0.05)
        return totp(secret)

    return code


def mailed_code(pool: LocalPool, purpose: str) -> Callable[[], str]:
    """ann reading her mail when the snippet asks: the newest ``purpose`` code in the local
    Cognito's inbox, which must have come after this call (the snippet had it sent)."""
    inbox = Inbox(TestApi(pool.endpoint_url))
    before = len(inbox.codes(pool.user_pool_id, USERNAME, purpose))

    def read() -> str:
        sent = inbox.codes(pool.user_pool_id, USERNAME, purpose)
        if len(sent) <= before:
            raise LookupError(f"the snippet asks for a {purpose} code, but none was sent")
        return sent[-1].code

    return read


@dataclass
class PoolState:
    """What a setup built: the pool, extra environment, the user's scripted answers, what
    must hold once the snippet has run (``checks``: the step it shows was really taken)
    and what undoes server-wide settings."""

    pool: LocalPool
    env: dict[str, str] = field(default_factory=dict)
    stdin: _TypedAnswers = field(default_factory=lambda: _TypedAnswers([]))
    checks: list[Callable[[], None]] = field(default_factory=list)
    cleanup: list[Callable[[], None]] = field(default_factory=list)


async def _default(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """A pool without MFA; ann is confirmed, with a permanent password."""
    pool = await admin.create_local_pool()
    await admin.create_user(
        pool.user_pool_id, USERNAME, PASSWORD, attributes={"email": "ann@example.com"}
    )
    return PoolState(pool)


async def _new_password_user(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """ann was created by an administrator: PASSWORD is temporary, she types a new one."""
    pool = await admin.create_local_pool()
    await admin.create_user(
        pool.user_pool_id,
        USERNAME,
        PASSWORD,
        attributes={"email": "ann@example.com"},
        confirmed=False,
    )
    return PoolState(pool, stdin=_TypedAnswers([NEW_PASSWORD]))


async def _unconfirmed_user(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """ann signed up and has not confirmed; she types the code from her mail (the local
    Cognito's inbox: it checks the code)."""
    pool = await admin.create_local_pool()
    await admin.idp.call(
        "sign_up",
        ClientId=pool.public_client.client_id,
        Username=USERNAME,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "ann@example.com"}],
    )
    inbox = Inbox(TestApi(pool.endpoint_url))
    code = inbox.codes(pool.user_pool_id, purpose="sign_up")[-1].code
    return PoolState(pool, stdin=_TypedAnswers([code]))


async def _mfa_on(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """A pool that requires MFA; ann has none yet, so signing in sets up TOTP."""
    pool = await admin.create_local_pool(mfa="ON")
    await admin.create_user(pool.user_pool_id, USERNAME, PASSWORD)
    return PoolState(pool, stdin=_TypedAnswers([], then=authenticator(pool)))


async def _totp_user(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """A pool with optional MFA; ann has set up TOTP and prefers it."""
    pool = await admin.create_local_pool(mfa="OPTIONAL")
    await admin.create_user(pool.user_pool_id, USERNAME, PASSWORD)
    async with AsyncCognito(**pool.cognito_kwargs(), username=USERNAME) as ann:
        await ann.authenticate(PASSWORD)
        secret = await ann.associate_software_token()
        assert await ann.verify_software_token(await fresh_totp(secret))
        await ann.set_user_mfa_preference(False, True, "SOFTWARE_TOKEN")
    return PoolState(pool, stdin=_TypedAnswers([], then=authenticator(pool)))


async def _identity_pool(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """The default pool plus an identity pool trusting it (moto serves cognito-identity
    and S3 on the same endpoint); its id is in COGNITO_IDENTITY_POOL_ID."""
    state = await _default(admin, local)
    pool = state.pool
    async with session_for_this_loop().create_client(
        "cognito-identity",
        region_name=pool.region,
        endpoint_url=pool.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106
    ) as identity:
        created = await identity.create_identity_pool(
            IdentityPoolName="docs",
            AllowUnauthenticatedIdentities=False,
            CognitoIdentityProviders=[
                {
                    "ProviderName": f"cognito-idp.{pool.region}.amazonaws.com/{pool.user_pool_id}",
                    "ClientId": pool.public_client.client_id,
                }
            ],
        )
    state.env["COGNITO_IDENTITY_POOL_ID"] = created["IdentityPoolId"]
    return state


class _Quiz:
    """The pool's custom auth triggers: a question, one right answer signs in, three
    wrong ones fail the sign-in (Cognito's Lambda event shapes, run by the local Cognito).
    A sign-in that starts with SRP proves the password first (PASSWORD_VERIFIER)."""

    def __init__(self) -> None:
        self.histories: list[list[str]] = []

    def define(self, event: dict[str, Any]) -> dict[str, Any]:
        history = event["request"]["session"]
        self.histories.append([s["challengeName"] for s in history])
        answers = [s for s in history if s["challengeName"] == "CUSTOM_CHALLENGE"]
        if answers and answers[-1]["challengeResult"] is True:
            return {"issueTokens": True, "failAuthentication": False}
        if len(answers) >= 3:
            return {"issueTokens": False, "failAuthentication": True}
        if history and history[-1]["challengeName"] == "SRP_A":
            return {
                "challengeName": "PASSWORD_VERIFIER",
                "issueTokens": False,
                "failAuthentication": False,
            }
        return {
            "challengeName": "CUSTOM_CHALLENGE",
            "issueTokens": False,
            "failAuthentication": False,
        }

    def create(self, event: dict[str, Any]) -> dict[str, Any]:
        return {
            "publicChallengeParameters": {"question": "2+2?"},
            "privateChallengeParameters": {"answer": "4"},
        }

    def verify(self, event: dict[str, Any]) -> dict[str, Any]:
        expected = event["request"]["privateChallengeParameters"]["answer"]
        return {"answerCorrect": event["request"]["challengeAnswer"] == expected}


async def _with_quiz(state: PoolState, local: LocalCognito) -> _Quiz:
    """Install the quiz triggers on the state's pool (taken away again at cleanup)."""
    pool_id = state.pool.user_pool_id
    quiz = _Quiz()
    await anyio.to_thread.run_sync(
        lambda: local.set_custom_auth_triggers(
            pool_id, define=quiz.define, create=quiz.create, verify=quiz.verify
        )
    )
    state.cleanup.append(lambda: local.clear_custom_auth_triggers(pool_id))
    return quiz


async def _custom_auth(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """The default pool with custom auth triggers asking "2+2?"; ann first types a wrong
    answer (a new challenge comes), then the right one."""
    state = await _default(admin, local)
    await _with_quiz(state, local)
    state.stdin = _TypedAnswers(["5", "4"])
    return state


async def _custom_auth_with_password(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """The custom auth quiz after an SRP password proof: ann answers "5", then "4", and
    the triggers must have seen SRP_A and PASSWORD_VERIFIER before the first question."""
    state = await _default(admin, local)
    quiz = await _with_quiz(state, local)
    state.stdin = _TypedAnswers(["5", "4"])

    def the_password_was_proven_first() -> None:
        assert ["SRP_A", "PASSWORD_VERIFIER"] in quiz.histories, quiz.histories

    state.checks.append(the_password_was_proven_first)
    return state


async def _email_mfa_setup(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """A pool that requires MFA and offers TOTP and email; ann has none yet: she picks
    email, gives her address and types the code mailed there."""
    pool = await admin.create_local_pool()
    await admin.idp.call(
        "set_user_pool_mfa_config",
        UserPoolId=pool.user_pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        EmailMfaConfiguration={"Message": "Your code: {####}", "Subject": "Sign-in code"},
        MfaConfiguration="ON",
    )
    await admin.create_user(pool.user_pool_id, USERNAME, PASSWORD)
    code = await anyio.to_thread.run_sync(mailed_code, pool, "email_mfa")
    return PoolState(pool, stdin=_TypedAnswers(["EMAIL", "ann@example.com", code]))


async def _passwordless_user(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """ann has a verified email address, so USER_AUTH offers her EMAIL_OTP: she picks it
    and types the code mailed to her."""
    pool = await admin.create_local_pool()
    attributes = {"email": "ann@example.com", "email_verified": "true"}
    await admin.create_user(pool.user_pool_id, USERNAME, PASSWORD, attributes=attributes)
    code = await anyio.to_thread.run_sync(mailed_code, pool, "email_otp")
    return PoolState(pool, stdin=_TypedAnswers(["EMAIL_OTP", code]))


async def _password_reset_by_admin(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """An administrator reset ann's password (AdminResetUserPassword): she types the code
    from the reset mail, then a new password."""
    pool = await admin.create_local_pool()
    attributes = {"email": "ann@example.com", "email_verified": "true"}
    await admin.create_user(pool.user_pool_id, USERNAME, PASSWORD, attributes=attributes)
    await admin.idp.call(
        "admin_reset_user_password", UserPoolId=pool.user_pool_id, Username=USERNAME
    )
    code = await anyio.to_thread.run_sync(mailed_code, pool, "forgot_password")
    return PoolState(pool, stdin=_TypedAnswers([code, NEW_PASSWORD]))


async def _security_key_user(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """The default pool; ann types her security key's PIN (the snippet's virtual key has
    PIN 1234) once to register a passkey and once to sign in with it."""
    state = await _default(admin, local)
    state.stdin = _TypedAnswers(["1234", "1234"])
    return state


async def _device_tracking(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """A pool that tracks every device (ChallengeRequiredOnNewDevice; no user prompt, so
    a confirmed device is remembered); ann is confirmed. The server logs the requests:
    the snippet's second sign-in must have answered DEVICE_PASSWORD_VERIFIER."""
    pool = await admin.create_local_pool(device_tracking=True)
    await admin.create_user(pool.user_pool_id, USERNAME, PASSWORD)
    state = PoolState(pool)
    api = local.api
    await anyio.to_thread.run_sync(lambda: api.record_requests(True, clear=True))
    state.cleanup.append(lambda: api.record_requests(False, clear=True))

    def the_device_proved_itself() -> None:
        answered = [
            r.params.get("ChallengeName")
            for r in api.requests()
            if r.operation == "RespondToAuthChallenge" and r.status == 200
        ]
        assert "DEVICE_PASSWORD_VERIFIER" in answered, answered

    state.checks.append(the_device_proved_itself)
    return state


async def _m2m_client(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """The default pool with resource server ``orders`` (scope ``read``) and a client with
    a secret and the client_credentials grant; the local Cognito is the pool's OAuth2
    domain: COGNITO_DOMAIN, M2M_CLIENT_ID, M2M_CLIENT_SECRET."""
    state = await _default(admin, local)
    pool_id = state.pool.user_pool_id
    m2m = await admin.create_m2m_client(pool_id, identifier="orders", scopes=["read"])
    assert m2m.client_secret is not None
    state.env.update(
        COGNITO_DOMAIN=local.oauth_domain_url(pool_id),
        M2M_CLIENT_ID=m2m.client_id,
        M2M_CLIENT_SECRET=m2m.client_secret,
    )
    return state


async def _redis_m2m(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """The m2m-client setup and a real redis-server of its own (tests/redis_server.py):
    REDIS_URL, and TOKEN_ENCRYPTION_KEY (32 random bytes, base64) as a secrets manager
    would hand it over."""
    import base64
    import os

    from redis_server import RedisServer

    state = await _m2m_client(admin, local)
    redis = RedisServer().start()
    state.cleanup.append(redis.close)
    state.env.update(
        REDIS_URL=redis.url, TOKEN_ENCRYPTION_KEY=base64.b64encode(os.urandom(32)).decode()
    )
    return state


async def _oauth_callback(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """ann signed in on the local Cognito's login page for a hosted-UI client (code grant,
    PKCE) whose callback is the docs' one, and her browser was sent there with a code:
    CALLBACK_URL, and what the app kept when it built the authorize URL (OAUTH_STATE,
    OAUTH_VERIFIER, OAUTH_NONCE). COGNITO_CLIENT_ID is that client, COGNITO_DOMAIN the
    local OAuth2 domain."""
    state = await _default(admin, local)
    pool_id = state.pool.user_pool_id
    client = await admin.create_hosted_ui_client(pool_id, [CALLBACK])
    domain = local.oauth_domain_url(pool_id)
    async with OAuth2Client(domain, client.client_id) as oauth, httpx.AsyncClient() as browser:
        request = oauth.authorization_url(CALLBACK, scopes=["openid", "email"])
        page = await browser.get(request.url)
        assert page.status_code == 200 and 'name="password"' in page.text
        signed_in = await browser.post(
            request.url, data={"username": USERNAME, "password": PASSWORD}
        )
    assert signed_in.status_code == 302, signed_in.status_code
    location = signed_in.headers["location"]
    assert location.startswith(CALLBACK + "?code="), "no code in the redirect"
    assert request.nonce is not None  # the openid scope asks for one
    state.env.update(
        COGNITO_DOMAIN=domain,
        COGNITO_CLIENT_ID=client.client_id,
        CALLBACK_URL=location,
        OAUTH_STATE=request.state,
        OAUTH_VERIFIER=request.code_verifier,
        OAUTH_NONCE=request.nonce,
    )
    return state


APP_URL = "http://localhost:8000"  # the web app of docs/server-sign-in.md


async def _server_signin(admin: CognitoAdmin, local: LocalCognito) -> PoolState:
    """The default pool, a managed-login client whose callback is the docs' web app
    (APP_URL/auth/callback) and whose domain signs ann in at once (no login page):
    COGNITO_CLIENT_ID, COGNITO_DOMAIN, APP_URL, SESSION_SECRET. The domain must have
    redeemed a code for the app."""
    import secrets

    state = await _default(admin, local)
    pool_id = state.pool.user_pool_id
    client = await admin.create_hosted_ui_client(
        pool_id, [f"{APP_URL}/auth/callback"], logout_urls=[f"{APP_URL}/"]
    )
    api = local.api
    await anyio.to_thread.run_sync(api.oauth_reset)
    await anyio.to_thread.run_sync(lambda: api.oauth_approve(client.client_id, USERNAME))
    state.env.update(
        COGNITO_CLIENT_ID=client.client_id,
        COGNITO_DOMAIN=local.oauth_domain_url(pool_id),
        APP_URL=APP_URL,
        SESSION_SECRET=secrets.token_urlsafe(32),
    )

    def a_code_was_redeemed() -> None:
        assert api.oauth_counts().get("token:authorization_code", 0) >= 1

    state.checks.append(a_code_was_redeemed)
    state.cleanup.append(api.oauth_reset)
    return state


SETUPS: dict[str, Callable[[CognitoAdmin, LocalCognito], Awaitable[PoolState]]] = {
    "default": _default,
    "new-password-user": _new_password_user,
    "unconfirmed-user": _unconfirmed_user,
    "mfa-on": _mfa_on,
    "totp-user": _totp_user,
    "identity-pool": _identity_pool,
    "custom-auth": _custom_auth,
    "email-mfa-setup": _email_mfa_setup,
    "passwordless-user": _passwordless_user,
    "password-reset-by-admin": _password_reset_by_admin,
    "security-key-user": _security_key_user,
    "custom-auth-with-password": _custom_auth_with_password,
    "device-tracking": _device_tracking,
    "m2m-client": _m2m_client,
    "redis-m2m": _redis_m2m,
    "oauth-callback": _oauth_callback,
    "server-signin": _server_signin,
}


@pytest.fixture
def snippet_env(snippet, cognito_local, api_url, monkeypatch) -> Iterator[PoolState]:
    """A fresh pool in the state the snippet's setup names, and the environment to use it."""

    async def make() -> PoolState:
        async with CognitoAdmin(cognito_local.endpoint_url, region=cognito_local.region) as admin:
            return await SETUPS[snippet.setup](admin, cognito_local)

    state = anyio.run(make)
    pool = state.pool
    with urllib.request.urlopen(pool.jwks_uri, timeout=30) as answer:  # loopback
        jwks = answer.read().decode()
    for name, value in {
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": cognito_local.endpoint_url,
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY": cognito_local.endpoint_url,
        "AWS_ENDPOINT_URL_S3": cognito_local.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": cognito_local.region,
        "COGNITO_JWKS": jwks,
        "COGNITO_USER_POOL_ID": pool.user_pool_id,
        "COGNITO_CLIENT_ID": pool.public_client.client_id,
        "COGNITO_USERNAME": USERNAME,
        "COGNITO_PASSWORD": PASSWORD,
        "API_URL": api_url,
        **state.env,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdin", state.stdin)
    yield state
    for undo in state.cleanup:
        undo()


def run_snippet(
    snippet: Snippet, env: PoolState, backend: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    real_run = anyio.run

    def run_on_backend(func, *args, backend_options=None, **kwargs):
        kwargs.pop("backend", None)
        return real_run(func, *args, backend=backend, **kwargs)

    monkeypatch.setattr(anyio, "run", run_on_backend)
    script = tmp_path / "snippet.py"
    script.write_text(snippet.code)
    if snippet.own_process:
        _run_in_own_process(snippet, env, script)
        return
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            runpy.run_path(str(script), run_name="__main__")
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=SNIPPET_TIMEOUT)
    assert outcome, f"{snippet.source} did not finish within {SNIPPET_TIMEOUT} s"
    if outcome[0] is not None:
        raise outcome[0]
    out = capsys.readouterr().out
    assert "eyJ" not in out, "a snippet printed a token"
    for check in env.checks:
        check()
    assert env.stdin.unanswered == 0, f"{snippet.source} never asked its user for an answer"
    if env.stdin.then is not None:
        assert env.stdin.asked, f"{snippet.source} never asked for a code"


def _run_in_own_process(snippet: Snippet, env: PoolState, script: Path) -> None:
    """A snippet that configures process-wide state (Django's settings) runs in a fresh
    interpreter with the same environment; it needs no stdin and does the same on both
    backends."""
    import os
    import subprocess

    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=SNIPPET_TIMEOUT,
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, f"{snippet.source}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    assert "eyJ" not in done.stdout, "a snippet printed a token"
    for check in env.checks:
        check()


def check_compiles_and_imports(snippet: Snippet) -> None:
    tree = ast.parse(snippet.code, filename=snippet.source)
    compile(tree, snippet.source, "exec")  # top-level await is a SyntaxError here
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name):
                    importlib.import_module(f"{node.module}.{alias.name}")


# ----------------------------------------------------------------------------- tests


def test_the_docs_have_snippets_and_every_page_is_in_the_site() -> None:
    assert len(DOC_SNIPPETS) >= 15
    for snippet in DOC_SNIPPETS + README_SNIPPETS:
        assert snippet.setup in SETUPS, f"{snippet.source}: unknown snippet-setup"
        assert not (snippet.needs_aws and snippet.setup != "default"), snippet.source
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in DOCS.glob("*.md"):
        assert f" {page.name}" in nav, f"{page.name} is not in mkdocs.yml's nav"


@pytest.mark.parametrize("snippet", DOC_SNIPPETS + README_SNIPPETS, ids=lambda s: s.source)
def test_every_snippet_compiles_and_its_imports_exist(snippet: Snippet) -> None:
    if snippet.source in README_FRAGMENTS:
        with pytest.raises(SyntaxError):
            check_compiles_and_imports(snippet)
        return
    check_compiles_and_imports(snippet)


RUNNABLE = [s for s in DOC_SNIPPETS if not s.needs_aws]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("snippet", RUNNABLE, ids=lambda s: s.source)
def test_doc_snippet_runs(snippet, backend, snippet_env, tmp_path, monkeypatch, capsys) -> None:
    run_snippet(snippet, snippet_env, backend, tmp_path, monkeypatch, capsys)


def _readme_param(snippet: Snippet):
    reason = README_FRAGMENTS.get(snippet.source)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(snippet, marks=marks, id=snippet.source)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("snippet", [_readme_param(s) for s in README_SNIPPETS if not s.needs_aws])
def test_readme_snippet_runs(snippet, backend, snippet_env, tmp_path, monkeypatch, capsys) -> None:
    run_snippet(snippet, snippet_env, backend, tmp_path, monkeypatch, capsys)


def _pycognito_public_names() -> list[str]:
    """pycognito's public names: module-level definitions, and each class's methods,
    class constants and instance attributes (``self.x = ...``)."""
    import inspect

    names = []
    for module_name in (
        "pycognito",
        "pycognito.aws_srp",
        "pycognito.exceptions",
        "pycognito.utils",
    ):
        tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
        for node in tree.body:
            if isinstance(node, ast.Assign):
                names += [
                    f"{module_name}.{t.id}"
                    for t in node.targets
                    if isinstance(t, ast.Name) and not t.id.startswith("_")
                ]
            if not isinstance(node, ast.FunctionDef | ast.ClassDef) or node.name.startswith("_"):
                continue
            names.append(f"{module_name}.{node.name}")
            if isinstance(node, ast.ClassDef):
                for item in ast.walk(node):
                    member = None
                    if isinstance(item, ast.FunctionDef) and item in node.body:
                        member = item.name
                    elif isinstance(item, ast.Assign) and item in node.body:
                        member = next((t.id for t in item.targets if isinstance(t, ast.Name)), None)
                    elif (
                        isinstance(item, ast.Attribute)
                        and isinstance(item.ctx, ast.Store)
                        and isinstance(item.value, ast.Name)
                        and item.value.id == "self"
                    ):
                        member = item.attr
                    if member and not member.startswith("_"):
                        names.append(f"{module_name}.{node.name}.{member}")
    return sorted(set(names))


def test_the_migration_table_covers_every_public_name_of_pycognito() -> None:
    names = _pycognito_public_names()
    table = (DOCS / "migration.md").read_text()
    rows = set(re.findall(r"^\| `(pycognito[\w.]*)` \|", table, re.MULTILINE))
    assert not [n for n in names if n not in rows], "pycognito names missing from migration.md"
    assert not rows - set(names), "migration.md lists names pycognito does not have"
    assert f"{len(names)} in all" in table
