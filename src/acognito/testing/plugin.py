"""pytest fixtures for a local Cognito (moto server on loopback).

Installed as a pytest plugin with acognito. Fixtures:

``cognito_local``
    session-scoped :class:`~acognito.testing.LocalCognito`, started on first use.
``cognito_admin``
    an open :class:`~acognito.testing.CognitoAdmin` on it (async, anyio).
``cognito_pool``
    a fresh :class:`~acognito.testing.LocalPool` per test (async, anyio).

The async fixtures run under anyio's pytest plugin, so they follow the test's
``anyio_backend`` (asyncio, trio, or both when parametrized).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._server import LocalCognito
    from .admin import CognitoAdmin, LocalPool


@pytest.fixture(scope="session")
def cognito_local() -> Iterator[LocalCognito]:
    """A moto server on 127.0.0.1, shared by the whole test session."""
    from ._server import LocalCognito

    with LocalCognito() as server:
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
