"""A user's own pytest project testing its sign-in code against acognito's local Cognito.

Run it with ``pytest`` from this directory (``pip install 'acognito[local]' pytest``).
The fixtures (``cognito_pool``, ``cognito_user``, ``cognito_inbox``, ...) come from the
pytest plugin acognito installs; this file only picks the event loops to test on.
"""

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
