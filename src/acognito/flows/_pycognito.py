"""pycognito's face of a pending sign-in: its challenge exceptions and ``mfa_tokens``.

Both are views of the one record (:class:`~acognito.flows.PendingSignIn`): the
exception ``authenticate()`` raises, the ``mfa_tokens`` dict it leaves on the session,
and the dict a ``respond_to_*`` call takes back (possibly on another session).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import (
    ChallengeRequired,
    ConfigurationError,
    CustomChallengeException,
    EmailOTPChallengeException,
    ForceChangePasswordException,
    MFASetupChallengeException,
    SelectMFATypeChallengeException,
    SMSMFAChallengeException,
    SoftwareTokenMFAChallengeException,
    UnsupportedChallengeError,
)
from ._machine import Challenge, Outcome
from ._pending import PendingSignIn

__all__ = [
    "CHALLENGE_EXCEPTIONS",
    "challenge_error",
    "mfa_tokens",
    "record_from_mfa_tokens",
    "tokens_or_raise",
]

CHALLENGE_EXCEPTIONS: Mapping[str, type[ChallengeRequired]] = {
    "SMS_MFA": SMSMFAChallengeException,
    "SOFTWARE_TOKEN_MFA": SoftwareTokenMFAChallengeException,
    "EMAIL_OTP": EmailOTPChallengeException,
    "SELECT_MFA_TYPE": SelectMFATypeChallengeException,
    "MFA_SETUP": MFASetupChallengeException,
    "NEW_PASSWORD_REQUIRED": ForceChangePasswordException,
    "CUSTOM_CHALLENGE": CustomChallengeException,
}


def challenge_error(record: PendingSignIn) -> ChallengeRequired:
    """The exception pycognito raises for the record's challenge."""
    return _error(
        record.challenge or "",
        record.session,
        record.parameters,
        record.pool_username,
        admin=record.admin,
    )


def tokens_or_raise(outcome: Outcome) -> dict[str, Any]:
    """Cognito's answer with tokens, or the challenge's exception raised (for faces that
    drive the machine directly, such as ``AWSSRP``)."""
    if isinstance(outcome, Challenge):
        raise _error(
            outcome.name, outcome.session, outcome.parameters, outcome.username, outcome.admin
        )
    return outcome


def _error(
    name: str,
    session: str | None,
    parameters: Mapping[str, str],
    username: str | None,
    admin: bool,
) -> ChallengeRequired:
    cls = CHALLENGE_EXCEPTIONS.get(name, UnsupportedChallengeError)
    return cls(
        challenge_name=name,
        session=session,
        parameters=parameters,
        username=username,
        admin=admin,
    )


def mfa_tokens(record: PendingSignIn | None) -> dict[str, Any] | None:
    """pycognito's ``mfa_tokens`` for a record with a Cognito challenge, else None
    (the same dict as the exception's ``get_tokens()``)."""
    if record is None or record.challenge is None:
        return None
    return challenge_error(record).get_tokens()


def record_from_mfa_tokens(tokens: Mapping[str, Any], username: str | None) -> PendingSignIn:
    """The record behind a ``mfa_tokens`` dict (``get_tokens()``'s shape);
    ``username`` is the session's, for a dict that names no user."""
    if not isinstance(tokens, Mapping):
        raise ConfigurationError("mfa_tokens must be the dict authenticate() left")
    name = tokens.get("ChallengeName")
    if not isinstance(name, str) or not name:
        raise ConfigurationError("mfa_tokens has no ChallengeName")
    raw = tokens.get("ChallengeParameters") or {}
    if not isinstance(raw, Mapping):
        raise ConfigurationError("mfa_tokens' ChallengeParameters must be a mapping")
    parameters = {str(k): str(v) for k, v in raw.items()}
    pool_username = (
        tokens.get("Username") or parameters.get("USERNAME") or parameters.get("USER_ID_FOR_SRP")
    )
    typed = pool_username or username
    if not typed:
        raise ConfigurationError("a username is required (pass it or set it on the session)")
    session = tokens.get("Session")
    return PendingSignIn(
        username=str(typed),
        challenge=name,
        session=None if session is None else str(session),
        parameters=parameters,
        pool_username=None if pool_username is None else str(pool_username),
        admin=bool(tokens.get("Admin")),
    )
