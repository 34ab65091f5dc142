"""The one home of sign-in.

- :mod:`._machine`: :class:`SignIn`, the state machine over InitiateAuth /
  RespondToAuthChallenge; it answers what it can and stops at a :class:`Challenge`;
- :mod:`._pending`: :class:`PendingSignIn`, the one record of a sign-in waiting on the
  user (plain, serializable data);
- :mod:`._conversation`: :class:`Conversation`, a session's sign-in: the flow chosen
  once, typed steps (:mod:`acognito.steps`) out, the record kept;
- :mod:`._pycognito`: pycognito's challenge exceptions and ``mfa_tokens``, views of the
  same record.

Data flows down: session -> conversation -> machine -> (SRP in a worker thread) -> the
session's one send path (or an ``IdpClient``). Nothing here imports the session.
"""

from ..devices import DeviceCredentials
from ._conversation import FIRST_FACTORS, SIGN_IN_FLOWS, Conversation, SignInFlow, SignInIO
from ._machine import (
    MAX_STEPS,
    Caller,
    Challenge,
    CustomAnswer,
    Outcome,
    SignIn,
    password_verifier_responses,
)
from ._pending import PendingSignIn
from ._pycognito import (
    CHALLENGE_EXCEPTIONS,
    challenge_error,
    mfa_tokens,
    record_from_mfa_tokens,
    tokens_or_raise,
)

__all__ = [
    "CHALLENGE_EXCEPTIONS",
    "FIRST_FACTORS",
    "MAX_STEPS",
    "SIGN_IN_FLOWS",
    "Caller",
    "Challenge",
    "Conversation",
    "CustomAnswer",
    "DeviceCredentials",
    "Outcome",
    "PendingSignIn",
    "SignIn",
    "SignInFlow",
    "SignInIO",
    "challenge_error",
    "mfa_tokens",
    "password_verifier_responses",
    "record_from_mfa_tokens",
    "tokens_or_raise",
]
