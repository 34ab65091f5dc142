"""The codes a user would get by mail or SMS, and the CustomMessage trigger that words them.

Every code (sign-up, password reset, attribute verification, SMS and email MFA, one-time
passwords) is drawn here, lands in the inbox with the message the user would read, and
is checked when it comes back (moto accepts any). The message is the pool's verification
template (``VerificationMessageTemplate``), or, with a CustomMessage trigger, its
``emailMessage``/``emailSubject`` or ``smsMessage``; ``{####}`` is the code.
"""

from __future__ import annotations

import secrets
from typing import Any

from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool

from ._local_state import Fault, LocalState, SentCode, invalid_parameter, same
from ._local_triggers import TriggerRunner, user_attributes

__all__ = ["CODE_TTL", "Codes", "mask"]

#: Seconds each kind of code stays valid (Cognito: 24 h for sign-up, 3 min for MFA).
CODE_TTL = {"sign_up": 86400, "sms_mfa": 180, "email_mfa": 180, "email_otp": 180, "sms_otp": 180}
_MISMATCH = "Invalid verification code provided, please try again."
_PLACEHOLDER = "{####}"
#: The CustomMessage trigger source of each purpose (the sign-up code's depends on the call).
_SOURCES = {
    "forgot_password": "CustomMessage_ForgotPassword",
    "sms_mfa": "CustomMessage_Authentication",
    "email_mfa": "CustomMessage_Authentication",
    "email_otp": "CustomMessage_Authentication",
    "sms_otp": "CustomMessage_Authentication",
}


def mask(attribute: str, value: str) -> dict[str, str]:
    """CodeDeliveryDetails as Cognito shows them: the destination masked."""
    if attribute == "email":
        local, _, domain = value.partition("@")
        shown = f"{local[:1]}***@{domain[:1]}***"
        return {"Destination": shown, "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    shown = "+" + "*" * max(len(value) - 5, 0) + value[-4:]
    return {"Destination": shown, "DeliveryMedium": "SMS", "AttributeName": attribute}


class Codes:
    """Issues and checks codes over the shared state."""

    def __init__(self, state: LocalState, triggers: TriggerRunner) -> None:
        self.state = state
        self.triggers = triggers

    def issue(
        self,
        pool: CognitoIdpUserPool,
        user: CognitoIdpUser,
        purpose: str,
        attribute: str,
        *,
        client_id: str | None = None,
        source: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> tuple[str, dict[str, str]]:
        """A fresh code to the user's ``attribute`` (email or phone_number): the code and
        its CodeDeliveryDetails. ``source`` is the CustomMessage trigger source when the
        purpose alone does not tell it."""
        destination = user.attribute_lookup.get(attribute)
        if not destination:
            raise invalid_parameter(f"User has no {attribute} to send a code to")
        code = f"{secrets.randbelow(10**6):06d}"
        message, subject = self._words(
            pool, user, purpose, attribute, code, client_id, source, metadata
        )
        with self.state.lock:
            self.state.inbox.append(
                SentCode(
                    pool.id, user.username, purpose, code, str(destination), self.state.now(),
                    message, subject,
                )
            )  # fmt: skip
            self.state.codes[(pool.id, user.username, purpose)] = (
                code,
                self.state.now() + CODE_TTL.get(purpose, 86400),
            )
        return code, mask(attribute, str(destination))

    def use(self, pool: CognitoIdpUserPool, user: CognitoIdpUser, purpose: str, code: Any) -> None:
        """Spend the user's ``purpose`` code: CodeMismatch when wrong, ExpiredCode when old."""
        key = (pool.id, user.username, purpose)
        with self.state.lock:
            found = self.state.codes.get(key)
            if found is None or not same(found[0], str(code or "")):
                raise Fault("CodeMismatchException", _MISMATCH)
            if self.state.now() >= found[1]:
                raise Fault(
                    "ExpiredCodeException", "Invalid code provided, please request a code again."
                )
            del self.state.codes[key]

    def _words(
        self,
        pool: CognitoIdpUserPool,
        user: CognitoIdpUser,
        purpose: str,
        attribute: str,
        code: str,
        client_id: str | None,
        source: str | None,
        metadata: dict[str, str] | None,
    ) -> tuple[str, str | None]:
        """The message (and e-mail subject) the user reads: the trigger's, else the default."""
        email = attribute == "email"
        config = pool.extended_config
        template = config.get("EmailVerificationMessage" if email else "SmsVerificationMessage")
        if not isinstance(template, str) or _PLACEHOLDER not in template:
            template = "Your verification code is {####}."
        default = template.replace(_PLACEHOLDER, code)
        subject = str(config.get("EmailVerificationSubject") or "") or None if email else None
        source = source or _SOURCES.get(purpose) or "CustomMessage_VerifyUserAttribute"
        if not self.triggers.configured(pool, "CustomMessage"):
            return default, subject
        request: dict[str, Any] = {
            "userAttributes": user_attributes(user),
            "codeParameter": _PLACEHOLDER,
            "linkParameter": "{##Click Here##}",
            "usernameParameter": None,
        }
        if metadata:
            request["clientMetadata"] = metadata
        response = self.triggers.run(
            "CustomMessage", source, pool, client_id, user.username, request,
            {"smsMessage": None, "emailMessage": None, "emailSubject": None},
        )  # fmt: skip
        text = response.get("emailMessage" if email else "smsMessage")
        if not isinstance(text, str) or _PLACEHOLDER not in text:
            return default, subject  # no usable message: Cognito keeps its own
        if email and isinstance(response.get("emailSubject"), str):
            subject = response["emailSubject"]
        return text.replace(_PLACEHOLDER, code), subject
