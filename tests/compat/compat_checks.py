"""acognito's additions to the ported pycognito tests: what the real checks need.

pycognito's autospec tests call a mock of the method under test, so they prove only
that the method exists with that signature. The ports keep them to the letter and then
make the same calls for real, on the pool conftest.py points the environment at; these
helpers read that environment.
"""

from __future__ import annotations

import os

from acognito.testing import Inbox, TestApi

#: The inbox purposes of the codes the real checks read.
VERIFY_EMAIL = "verify_email"
FORGOT_PASSWORD = "forgot_password"  # noqa: S105 - a purpose name, not a password
#: What the real checks give bob: an address for codes, a new password.
BOB_EMAIL = "bob@example.com"
NEW_PASSWORD = "Bob-N3w-Passw0rd!x"  # noqa: S105 - a test fixture value


def inbox() -> Inbox:
    """The local Cognito's inbox: every code it "sent"."""
    return Inbox(TestApi(os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]))


def wrong(code: str) -> str:
    """A code that is not ``code`` (pycognito's own test codes could match by chance)."""
    return "000000" if code != "000000" else "111111"
