"""Typed sign-in steps: what Cognito wants next, as one frozen dataclass per step.

``await cognito.sign_in(...)`` returns one of these and ``await cognito.confirm_sign_in(answer)``
goes on until :class:`Done`: the model of Amplify JS v6's ``nextStep``, over the same
state machine (:class:`acognito.flows.SignIn`) that ``authenticate()`` uses. Match on them::

    match await cognito.sign_in("ann", password):
        case ConfirmSignInWithTOTPCode():
            step = await cognito.confirm_sign_in(code_from_the_app)
        case Done():
            ...

This module holds the step types and the pure mapping from a Cognito challenge to a
step; no I/O. The conversation that produces them is :mod:`acognito.flows`.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeAlias

from .errors import UnsupportedChallengeError

__all__ = [
    "CODE_RESPONSE_KEYS",
    "MFA_CHALLENGES",
    "CodeDelivery",
    "ConfirmSignInWithCustomChallenge",
    "ConfirmSignInWithEmailCode",
    "ConfirmSignInWithNewPassword",
    "ConfirmSignInWithPassword",
    "ConfirmSignInWithSMSCode",
    "ConfirmSignInWithTOTPCode",
    "ConfirmSignInWithWebAuthn",
    "ConfirmSignUp",
    "ContinueSignInWithEmailSetup",
    "ContinueSignInWithFirstFactorSelection",
    "ContinueSignInWithMFASelection",
    "ContinueSignInWithMFASetupSelection",
    "ContinueSignInWithTOTPSetup",
    "Done",
    "FirstFactor",
    "MFAType",
    "ResetPassword",
    "SignInStep",
    "mfa_type_of",
    "step_for_challenge",
    "totp_uri",
]

#: An MFA kind as Amplify names it (``SMS``, ``TOTP``, ``EMAIL``).
MFAType: TypeAlias = Literal["SMS", "TOTP", "EMAIL"]
#: A USER_AUTH first factor, as Cognito names it.
FirstFactor: TypeAlias = Literal["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"]

#: Cognito's MFA challenge name for each MFA kind.
MFA_CHALLENGES: Mapping[str, str] = {
    "SMS": "SMS_MFA",
    "TOTP": "SOFTWARE_TOKEN_MFA",
    "EMAIL": "EMAIL_OTP",
}
_MFA_FROM_COGNITO: Mapping[str, MFAType] = {
    "SMS_MFA": "SMS",
    "SOFTWARE_TOKEN_MFA": "TOTP",
    "EMAIL_OTP": "EMAIL",
}
_FIRST_FACTORS: tuple[FirstFactor, ...] = (
    "PASSWORD",
    "PASSWORD_SRP",
    "EMAIL_OTP",
    "SMS_OTP",
    "WEB_AUTHN",
)

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,127}$")

#: The ChallengeResponses key that carries a code, per code challenge.
CODE_RESPONSE_KEYS: Mapping[str, str] = {
    "SMS_MFA": "SMS_MFA_CODE",
    "SOFTWARE_TOKEN_MFA": "SOFTWARE_TOKEN_MFA_CODE",
    "EMAIL_OTP": "EMAIL_OTP_CODE",
    "SMS_OTP": "SMS_OTP_CODE",
}


@dataclass(frozen=True)
class CodeDelivery:
    """Where Cognito sent a code: ``medium`` (``SMS`` / ``EMAIL``) and a masked destination."""

    medium: str | None = None
    destination: str | None = None
    attribute: str | None = None

    @classmethod
    def from_challenge(cls, params: Mapping[str, str]) -> CodeDelivery | None:
        medium = params.get("CODE_DELIVERY_DELIVERY_MEDIUM")
        destination = params.get("CODE_DELIVERY_DESTINATION")
        if medium is None and destination is None:
            return None
        return cls(medium=medium, destination=destination)

    @classmethod
    def from_api(cls, details: Mapping[str, Any] | None) -> CodeDelivery | None:
        """From Cognito's ``CodeDeliveryDetails`` (SignUp, ForgotPassword, ...)."""
        if not details:
            return None
        return cls(
            medium=details.get("DeliveryMedium"),
            destination=details.get("Destination"),
            attribute=details.get("AttributeName"),
        )


@dataclass(frozen=True)
class SignInStep:
    """Base of every step. ``amplify_step`` is Amplify JS v6's ``signInStep`` value."""

    amplify_step: ClassVar[str] = ""


@dataclass(frozen=True)
class ConfirmSignInWithSMSCode(SignInStep):
    """Answer with the code sent by SMS (SMS MFA, or the SMS_OTP first factor)."""

    amplify_step: ClassVar[str] = "CONFIRM_SIGN_IN_WITH_SMS_CODE"
    code_delivery: CodeDelivery | None = None


@dataclass(frozen=True)
class ConfirmSignInWithTOTPCode(SignInStep):
    """Answer with the current code of the user's authenticator app."""

    amplify_step: ClassVar[str] = "CONFIRM_SIGN_IN_WITH_TOTP_CODE"


@dataclass(frozen=True)
class ConfirmSignInWithEmailCode(SignInStep):
    """Answer with the code sent by email (email MFA, or the EMAIL_OTP first factor)."""

    amplify_step: ClassVar[str] = "CONFIRM_SIGN_IN_WITH_EMAIL_CODE"
    code_delivery: CodeDelivery | None = None


@dataclass(frozen=True)
class ConfirmSignInWithPassword(SignInStep):
    """Answer with the user's password (a password first factor chosen without one)."""

    amplify_step: ClassVar[str] = "CONFIRM_SIGN_IN_WITH_PASSWORD"


@dataclass(frozen=True)
class ConfirmSignInWithCustomChallenge(SignInStep):
    """Answer your custom-auth Lambda's challenge; ``parameters`` are its public parameters
    and ``USERNAME`` (the user name to answer as, like Amplify's ``additionalInfo``)."""

    amplify_step: ClassVar[str] = "CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE"
    parameters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConfirmSignInWithNewPassword(SignInStep):
    """Answer with a new password; ``required_attributes`` must be passed as ``attributes=``.

    ``user_attributes`` are the user's current attributes as Cognito reported them.
    """

    amplify_step: ClassVar[str] = "CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED"
    required_attributes: tuple[str, ...] = ()
    user_attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ContinueSignInWithMFASelection(SignInStep):
    """Answer with one of ``allowed`` (``"SMS"``, ``"TOTP"``, ``"EMAIL"``)."""

    amplify_step: ClassVar[str] = "CONTINUE_SIGN_IN_WITH_MFA_SELECTION"
    allowed: tuple[MFAType, ...] = ()


@dataclass(frozen=True)
class ContinueSignInWithMFASetupSelection(SignInStep):
    """The user must set up MFA: answer with the kind to set up (``"TOTP"`` or ``"EMAIL"``)."""

    amplify_step: ClassVar[str] = "CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION"
    allowed: tuple[MFAType, ...] = ()


@dataclass(frozen=True)
class ContinueSignInWithTOTPSetup(SignInStep):
    """Show ``uri`` as a QR code (or ``secret`` as text), then answer with a code from the app.

    ``secret`` is the new TOTP key; it is not shown by ``repr()``.
    """

    amplify_step: ClassVar[str] = "CONTINUE_SIGN_IN_WITH_TOTP_SETUP"
    secret: str = field(default="", repr=False)
    account_name: str = ""
    issuer: str = ""

    @property
    def uri(self) -> str:
        """The ``otpauth://totp/...`` URI authenticator apps read from a QR code."""
        return totp_uri(self.secret, account_name=self.account_name, issuer=self.issuer)

    def setup_uri(self, issuer: str, account_name: str | None = None) -> str:
        """The ``otpauth://`` URI with your app's name as issuer (Amplify's ``getSetupUri``)."""
        return totp_uri(self.secret, account_name=account_name or self.account_name, issuer=issuer)


@dataclass(frozen=True)
class ContinueSignInWithEmailSetup(SignInStep):
    """Answer with the email address that will receive MFA codes."""

    amplify_step: ClassVar[str] = "CONTINUE_SIGN_IN_WITH_EMAIL_SETUP"


@dataclass(frozen=True)
class ContinueSignInWithFirstFactorSelection(SignInStep):
    """USER_AUTH without a preference: answer with one of ``available``."""

    amplify_step: ClassVar[str] = "CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION"
    available: tuple[FirstFactor, ...] = ()


@dataclass(frozen=True)
class ConfirmSignInWithWebAuthn(SignInStep):
    """WEB_AUTHN: answer with the authenticator's credential (JSON) for these options.

    Not one of Amplify's steps (a browser answers it there without asking the app).
    """

    amplify_step: ClassVar[str] = "WEB_AUTHN"
    credential_request_options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def options(self) -> Mapping[str, Any]:
        """The PublicKeyCredentialRequestOptions to hand ``Authenticator.get``."""
        return self.credential_request_options


@dataclass(frozen=True)
class ConfirmSignUp(SignInStep):
    """The user has not confirmed the sign-up: answer with the confirmation code.

    acognito then confirms it and signs in again with what ``sign_in`` was given.
    """

    amplify_step: ClassVar[str] = "CONFIRM_SIGN_UP"
    username: str = ""
    code_delivery: CodeDelivery | None = None


@dataclass(frozen=True)
class ResetPassword(SignInStep):
    """The password must be reset: send a code (``initiate_forgot_password()``), then
    answer with the new password and ``confirmation_code=``; sign-in then goes on."""

    amplify_step: ClassVar[str] = "RESET_PASSWORD"
    username: str = ""


@dataclass(frozen=True)
class Done(SignInStep):
    """Signed in: the session holds verified tokens."""

    amplify_step: ClassVar[str] = "DONE"


# --------------------------------------------------------------------------- mapping


def totp_uri(secret: str, *, account_name: str, issuer: str) -> str:
    """``otpauth://totp/{issuer}:{account}?secret=...&issuer=...`` (Google's key-URI format),
    issuer and account name percent-encoded so any name makes a valid QR code."""
    label = f"{_enc(issuer)}:{_enc(account_name)}" if issuer else _enc(account_name)
    query = f"secret={_enc(secret)}" + (f"&issuer={_enc(issuer)}" if issuer else "")
    return f"otpauth://totp/{label}?{query}"


def _enc(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def mfa_type_of(answer: str) -> MFAType:
    """``"TOTP"``, ``"SMS"``, ``"EMAIL"`` (or Cognito's own challenge names) -> the MFA kind."""
    upper = answer.strip().upper() if isinstance(answer, str) else ""
    if upper in MFA_CHALLENGES:
        return upper  # type: ignore[return-value]
    if upper in _MFA_FROM_COGNITO:
        return _MFA_FROM_COGNITO[upper]
    raise UnsupportedChallengeError(f"unknown MFA kind {answer!r}: use 'TOTP', 'SMS' or 'EMAIL'")


def _name_list(value: Any, what: str) -> list[str]:
    """A challenge parameter holding names: Cognito sends a JSON array in a string (moto a
    list); a comma-separated string is accepted too."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                # moto sends Python's repr of a list: single quotes
                value = json.loads(text if '"' in text else text.replace("'", '"'))
            except ValueError:
                raise UnsupportedChallengeError(f"{what} is not valid JSON") from None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, str) and _NAME.match(v) for v in value
    ):
        raise UnsupportedChallengeError(f"{what} is not a list of names")
    return list(value)


def _json_object(value: Any, what: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise UnsupportedChallengeError(f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise UnsupportedChallengeError(f"{what} is not a JSON object")
    return value


def mfa_kinds(names: Sequence[str]) -> tuple[MFAType, ...]:
    """Cognito MFA names -> our kinds, order kept, unknown names dropped."""
    return tuple(_MFA_FROM_COGNITO[n] for n in names if n in _MFA_FROM_COGNITO)


def setup_kinds(params: Mapping[str, Any]) -> tuple[MFAType, ...]:
    """The MFA kinds an MFA_SETUP challenge lets the user set up during sign-in.

    SMS is left out: it needs a verified phone number, which sign-in cannot add.
    """
    names = _name_list(params.get("MFAS_CAN_SETUP", "[]"), "MFAS_CAN_SETUP")
    return tuple(kind for kind in mfa_kinds(names) if kind != "SMS")


def step_for_challenge(
    name: str, params: Mapping[str, Any], *, available: Sequence[str] = ()
) -> SignInStep:
    """The step for a challenge only the user can answer (pure; raises
    :class:`UnsupportedChallengeError` for one acognito does not know or malformed parameters).

    MFA_SETUP with TOTP as the only choice maps to :class:`ContinueSignInWithMFASetupSelection`
    here too: becoming a :class:`ContinueSignInWithTOTPSetup` needs a call to Cognito
    (AssociateSoftwareToken), which the session makes.
    """
    if name in ("SMS_MFA", "SMS_OTP"):
        return ConfirmSignInWithSMSCode(CodeDelivery.from_challenge(params))
    if name == "SOFTWARE_TOKEN_MFA":
        return ConfirmSignInWithTOTPCode()
    if name == "EMAIL_OTP":
        return ConfirmSignInWithEmailCode(CodeDelivery.from_challenge(params))
    if name == "CUSTOM_CHALLENGE":
        return ConfirmSignInWithCustomChallenge(
            # USERNAME stays, as in Amplify's additionalInfo: the name to answer with.
            {k: v for k, v in params.items() if k != "USER_ID_FOR_SRP" and isinstance(v, str)}
        )
    if name == "NEW_PASSWORD_REQUIRED":
        required = _name_list(params.get("requiredAttributes", "[]"), "requiredAttributes")
        current = _json_object(params.get("userAttributes"), "userAttributes")
        return ConfirmSignInWithNewPassword(
            required_attributes=tuple(r.removeprefix("userAttributes.") for r in required),
            user_attributes={k: str(v) for k, v in current.items()},
        )
    if name == "SELECT_MFA_TYPE":
        names = _name_list(params.get("MFAS_CAN_CHOOSE", "[]"), "MFAS_CAN_CHOOSE")
        if not mfa_kinds(names):
            raise UnsupportedChallengeError("Cognito offers no MFA kind acognito knows")
        return ContinueSignInWithMFASelection(mfa_kinds(names))
    if name == "MFA_SETUP":
        kinds = setup_kinds(params)
        if kinds == ("EMAIL",):
            return ContinueSignInWithEmailSetup()
        if not kinds:
            raise UnsupportedChallengeError(
                "Cognito asks to set up MFA, but offers no kind that can be set up at sign-in"
            )
        return ContinueSignInWithMFASetupSelection(kinds)
    if name == "SELECT_CHALLENGE":
        offered = list(available) or _name_list(
            params.get("AvailableChallenges", ""), "AvailableChallenges"
        )
        return ContinueSignInWithFirstFactorSelection(
            tuple(f for f in _FIRST_FACTORS if f in offered)
        )
    if name == "WEB_AUTHN":
        options = _json_object(
            params.get("CREDENTIAL_REQUEST_OPTIONS"), "CREDENTIAL_REQUEST_OPTIONS"
        )
        return ConfirmSignInWithWebAuthn(options)
    raise UnsupportedChallengeError(f"acognito has no step for the {name!r} challenge")
