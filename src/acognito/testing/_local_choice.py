"""USER_AUTH on the local Cognito: choice-based sign-in over the pool's first factors.

The pool's ``Policies.SignInPolicy.AllowedFirstAuthFactors`` decides what may be offered,
as on Cognito (without one, Cognito allows PASSWORD only): PASSWORD (plain, and SRP as
PASSWORD_SRP), EMAIL_OTP and SMS_OTP (for a user with the address or number),
WEB_AUTHN (for a user with a passkey). A PREFERRED_CHALLENGE outside them is refused;
without one the client gets SELECT_CHALLENGE with what is available. ConfirmSignUp's
session signs the user in once without a password.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ._local_mfa import Mfa
from ._local_password import PasswordSteps
from ._local_srp import Srp
from ._local_state import (
    SIGN_UP_SESSION,
    Caller,
    LocalState,
    Pending,
    invalid_parameter,
    not_authorized,
    same,
)
from ._local_tokens import Tokens

__all__ = ["Choice", "Factor", "allowed_first_factors"]

Responder = Callable[[Caller, str, Pending, Mapping[str, Any]], dict[str, Any]]
#: The pool's factor for each challenge name.
_POLICY = {
    "PASSWORD": "PASSWORD",
    "PASSWORD_SRP": "PASSWORD",
    "EMAIL_OTP": "EMAIL_OTP",
    "SMS_OTP": "SMS_OTP",
    "WEB_AUTHN": "WEB_AUTHN",
}


class Factor(Protocol):
    """A first factor another handler serves (WEB_AUTHN)."""

    name: str

    def offered(self, caller: Caller) -> bool: ...

    def start(self, caller: Caller) -> dict[str, Any]: ...


def allowed_first_factors(extended_config: Mapping[str, Any]) -> list[str]:
    """The pool's AllowedFirstAuthFactors (Cognito's default: PASSWORD only)."""
    policy = (extended_config.get("Policies") or {}).get("SignInPolicy") or {}
    allowed = policy.get("AllowedFirstAuthFactors")
    return [str(f) for f in allowed] if isinstance(allowed, list) and allowed else ["PASSWORD"]


class Choice:
    """USER_AUTH over the shared state, SRP, the password steps, MFA codes and tokens."""

    def __init__(
        self,
        state: LocalState,
        srp: Srp,
        steps: PasswordSteps,
        mfa: Mfa,
        tokens: Tokens,
        factors: list[Factor],
    ) -> None:
        self.state = state
        self.srp = srp
        self.steps = steps
        self.mfa = mfa
        self.tokens = tokens
        self.factors = {f.name: f for f in factors}

    def responders(self) -> dict[str, Responder]:
        return {
            "SELECT_CHALLENGE": self.answer_selection,
            "PASSWORD": self.answer_factor,
            "PASSWORD_SRP": self.answer_factor,
        }

    def available(self, caller: Caller) -> list[str]:
        """The first factors this user may use now, in Cognito's order."""
        allowed = set(allowed_first_factors(caller.pool.extended_config))
        attributes = caller.user.attribute_lookup
        found = ["PASSWORD", "PASSWORD_SRP"]
        if attributes.get("email"):
            found.append("EMAIL_OTP")
        if attributes.get("phone_number"):
            found.append("SMS_OTP")
        found += [name for name, f in self.factors.items() if f.offered(caller)]
        return [name for name in found if _POLICY.get(name, name) in allowed]

    def initiate(self, caller: Caller, ap: Mapping[str, Any]) -> dict[str, Any]:
        """InitiateAuth USER_AUTH: the preferred challenge, else SELECT_CHALLENGE."""
        preferred = str(ap.get("PREFERRED_CHALLENGE") or "")
        if preferred:
            return self._choose(caller, preferred, ap)
        offered = self.available(caller)
        session = self.state.open_session(caller, ("SELECT_CHALLENGE", *offered))
        return {
            "ChallengeName": "SELECT_CHALLENGE",
            "Session": session,
            "ChallengeParameters": {"USERNAME": caller.user.username},
            "AvailableChallenges": offered,
        }

    def after_sign_up(self, caller: Caller, session: Any) -> dict[str, Any]:
        """USER_AUTH with ConfirmSignUp's session: tokens, once, for that user."""
        step = self.state.take_session(session, caller.client, SIGN_UP_SESSION)
        if caller.user.username != step.username:
            raise not_authorized("Invalid session for the user.")
        return self.tokens.sign_in(caller)

    def answer_selection(
        self, caller: Caller, name: str, step: Pending, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._choose(caller, str(r.get("ANSWER") or ""), r)

    def answer_factor(
        self, caller: Caller, name: str, step: Pending, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._choose(caller, name, r)

    def _choose(self, caller: Caller, factor: str, r: Mapping[str, Any]) -> dict[str, Any]:
        if factor not in self.available(caller):
            raise invalid_parameter(f"{factor} is not an available challenge for this user")
        user = caller.user
        if factor == "PASSWORD":
            if not user.password or not same(user.password, str(r.get("PASSWORD") or "")):
                raise not_authorized()
            return self.steps.after_password(caller)
        if factor == "PASSWORD_SRP":
            return self.srp.challenge(caller, r)
        if factor in self.factors:
            return self.factors[factor].start(caller)
        purpose = "email_otp" if factor == "EMAIL_OTP" else "sms_otp"
        return self.mfa.code_step(caller, factor, purpose)
