"""pytest fixtures for the local Cognito (moto + acognito's extensions, on loopback).

Installed as a pytest plugin with acognito. Fixtures:

``cognito_local``
    session-scoped :class:`~acognito.testing.LocalCognito`, started on first use.
``cognito_admin``
    an open :class:`~acognito.testing.CognitoAdmin` on it (async, anyio).
``cognito_pool``
    a fresh :class:`~acognito.testing.LocalPool` per test: a public and a confidential
    app client (async, anyio).
``cognito_user``
    a confirmed :class:`~acognito.testing.LocalUser` (user name, password, e-mail) in
    ``cognito_pool``.
``cognito_session``
    an :class:`~acognito.AsyncCognito` signed in as ``cognito_user`` (public client).
``cognito_m2m_client``
    an M2M :class:`~acognito.testing.AppClient` of ``cognito_pool`` (secret,
    client_credentials, resource server ``api`` with scopes ``api/read``, ``api/write``).
``cognito_hosted_ui_client``
    a public hosted-UI :class:`~acognito.testing.AppClient` of ``cognito_pool``: code
    grant with PKCE, callback :data:`HOSTED_UI_CALLBACK`, sign-out :data:`HOSTED_UI_LOGOUT`,
    scopes openid, email, profile. Its domain: ``cognito_local.oauth_domain_url()``.
``cognito_inbox``
    the :class:`~acognito.testing.Inbox`: every code the server "sent" by mail or SMS.
``cognito_triggers``
    sets ``cognito_pool``'s Lambda triggers: ``cognito_triggers(LambdaTriggers(...))``;
    they run in the test process and are taken away after the test.

Answers held against Cognito's model: with ``ACOGNITO_LOCAL_CHECK_SHAPES=1`` every
:class:`~acognito.testing.LocalCognito` this process starts checks each answer against
botocore's model of its operation, and a test during which one broke it fails (at its
teardown, naming the operation and the member).

The async fixtures run under anyio's pytest plugin, so they follow the test's
``anyio_backend`` (asyncio, trio, or both when parametrized).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

#: The callback (redirect) URL of ``cognito_hosted_ui_client``.
HOSTED_UI_CALLBACK = "http://localhost:8765/callback"
#: The sign-out URL of ``cognito_hosted_ui_client``.
HOSTED_UI_LOGOUT = "http://localhost:8765/signed-out"

if TYPE_CHECKING:
    from acognito import AsyncCognito

    from ._server import LocalCognito
    from ._test_api import Inbox
    from .admin import AppClient, CognitoAdmin, LocalPool, LocalUser
    from .triggers import LambdaTriggers

#: Seconds a trigger may take in the fixtures' server (Cognito's 5, for loaded CI machines).
FIXTURE_TRIGGER_TIMEOUT = 30.0


@pytest.fixture(scope="session")
def cognito_local() -> Iterator[LocalCognito]:
    """A local Cognito on 127.0.0.1, shared by the whole test session."""
    from ._server import LocalCognito

    with LocalCognito(trigger_timeout=FIXTURE_TRIGGER_TIMEOUT) as server:
        yield server


@pytest.fixture
async def cognito_admin(cognito_local: LocalCognito) -> AsyncIterator[CognitoAdmin]:
    """An admin helper on the local Cognito, open for the test."""
    from .admin import CognitoAdmin

    async with CognitoAdmin(cognito_local.endpoint_url, region=cognito_local.region) as admin:
        yield admin


@pytest.fixture
async def cognito_pool(cognito_admin: CognitoAdmin) -> LocalPool:
    """A fresh user pool with a public and a confidential app client."""
    return await cognito_admin.create_local_pool()


@pytest.fixture
async def cognito_user(cognito_admin: CognitoAdmin, cognito_pool: LocalPool) -> LocalUser:
    """A confirmed user (verified e-mail) in ``cognito_pool``, password DEFAULT_PASSWORD."""
    from .admin import DEFAULT_PASSWORD, LocalUser

    username = f"user-{uuid.uuid4().hex[:8]}"
    email = f"{username}@example.com"
    pool_username = await cognito_admin.create_user(
        cognito_pool.user_pool_id,
        username,
        DEFAULT_PASSWORD,
        attributes={"email": email, "email_verified": "true"},
    )
    return LocalUser(username, DEFAULT_PASSWORD, pool_username, email)


@pytest.fixture
async def cognito_session(
    cognito_pool: LocalPool, cognito_user: LocalUser
) -> AsyncIterator[AsyncCognito]:
    """An AsyncCognito signed in (SRP) as ``cognito_user`` through the public client."""
    from acognito import AsyncCognito

    async with AsyncCognito(username=cognito_user.username, **cognito_pool.cognito_kwargs()) as c:
        await c.authenticate(cognito_user.password)
        yield c


@pytest.fixture
async def cognito_m2m_client(cognito_admin: CognitoAdmin, cognito_pool: LocalPool) -> AppClient:
    """An M2M app client (secret, client_credentials, scopes api/read and api/write)."""
    return await cognito_admin.create_m2m_client(cognito_pool.user_pool_id)


@pytest.fixture
async def cognito_hosted_ui_client(
    cognito_admin: CognitoAdmin, cognito_pool: LocalPool
) -> AppClient:
    """A public hosted-UI app client: code grant + PKCE, fixed callback and sign-out URLs."""
    return await cognito_admin.create_hosted_ui_client(
        cognito_pool.user_pool_id, [HOSTED_UI_CALLBACK], logout_urls=[HOSTED_UI_LOGOUT]
    )


@pytest.fixture
def cognito_inbox(cognito_local: LocalCognito) -> Inbox:
    """Codes the local Cognito sent: ``cognito_inbox.last_code(pool_id, user, purpose)``."""
    return cognito_local.inbox


class PoolTriggers:
    """Sets one pool's Lambda triggers; what the ``cognito_triggers`` fixture hands out."""

    def __init__(self, local: LocalCognito, pool_id: str) -> None:
        self.local = local
        self.pool_id = pool_id

    def __call__(self, triggers: LambdaTriggers) -> None:
        """The pool's triggers are now these (callables of this process)."""
        self.local.set_triggers(self.pool_id, triggers)

    def clear(self) -> None:
        """No triggers any more."""
        self.local.clear_triggers(self.pool_id)


@pytest.fixture
def cognito_triggers(
    cognito_local: LocalCognito, cognito_pool: LocalPool
) -> Iterator[PoolTriggers]:
    """Set ``cognito_pool``'s Lambda triggers: ``cognito_triggers(LambdaTriggers(...))``."""
    setter = PoolTriggers(cognito_local, cognito_pool.user_pool_id)
    yield setter
    if cognito_local.running:
        setter.clear()


@pytest.fixture(autouse=True)
def _cognito_answer_shapes() -> Iterator[None]:
    """Fail the test when a local Cognito with shape checks on answered outside
    Cognito's model during it (nothing to do when none is running)."""
    yield
    from ._server import live_servers

    broken: list[str] = []
    for server in live_servers():
        if not (server.check_shapes and server.running):
            continue
        found = server.api.shape_violations(server.shape_violations_seen)
        server.shape_violations_seen += len(found)
        broken += found
    if broken:
        pytest.fail(
            "the local Cognito answered outside Cognito's model (botocore's cognito-idp):\n"
            + "\n".join(broken),
            pytrace=False,
        )
