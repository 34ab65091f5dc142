"""The sign-in conversation of one session: the flow chosen once, the one record.

A :class:`Conversation` starts sign-ins (choosing the machine's ``start_*`` in one
place), turns each :class:`~acognito.flows.Challenge` the machine stops at into the
typed step the user answers, keeps the one :class:`~acognito.flows.PendingSignIn`,
and answers it with ``confirm_sign_in``'s answer. pycognito's face (``authenticate``,
``respond_to_*``) runs the same machine through :meth:`Conversation.run` and raises
from the same record.

It holds no session: each call gets a :class:`SignInIO`, the few things it uses of the
session that holds it (the machine, token acceptance, two sign-up/reset calls).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, Literal, Protocol

from ..errors import (
    ConfigurationError,
    PasswordResetRequiredError,
    UnsupportedChallengeError,
    UserNotConfirmedError,
)
from ..steps import (
    CODE_RESPONSE_KEYS,
    MFA_CHALLENGES,
    ConfirmSignInWithCustomChallenge,
    ConfirmSignInWithEmailCode,
    ConfirmSignInWithNewPassword,
    ConfirmSignInWithPassword,
    ConfirmSignInWithSMSCode,
    ConfirmSignInWithTOTPCode,
    ConfirmSignInWithWebAuthn,
    ConfirmSignUp,
    ContinueSignInWithEmailSetup,
    ContinueSignInWithFirstFactorSelection,
    ContinueSignInWithMFASelection,
    ContinueSignInWithMFASetupSelection,
    ContinueSignInWithTOTPSetup,
    Done,
    ResetPassword,
    SignInStep,
    mfa_type_of,
    step_for_challenge,
)
from ._machine import Challenge, CustomAnswer, Outcome, SignIn
from ._pending import PendingSignIn

__all__ = ["FIRST_FACTORS", "SIGN_IN_FLOWS", "Conversation", "SignInFlow", "SignInIO"]

#: The flows ``sign_in`` starts.
SignInFlow = Literal["USER_SRP_AUTH", "USER_PASSWORD_AUTH", "USER_AUTH", "CUSTOM_AUTH"]
SIGN_IN_FLOWS = ("USER_SRP_AUTH", "USER_PASSWORD_AUTH", "USER_AUTH", "CUSTOM_AUTH")
FIRST_FACTORS = ("PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN")
_PASSWORD_FACTORS = ("PASSWORD", "PASSWORD_SRP")
_CODE_STEPS = (ConfirmSignInWithSMSCode, ConfirmSignInWithTOTPCode, ConfirmSignInWithEmailCode)


class SignInIO(Protocol):
    """What a conversation uses of the session that holds it, and nothing else."""

    async def _machine(
        self,
        *,
        admin: bool = False,
        client_metadata: Mapping[str, str] | None = None,
        custom_answer: CustomAnswer | None = None,
    ) -> SignIn: ...

    async def _accept(self, response: Mapping[str, Any], *, sign_in: bool = True) -> object: ...

    async def _send_confirm_sign_up(self, username: str, code: str) -> str | None: ...

    async def _send_confirm_forgot_password(
        self, username: str, code: str, password: str
    ) -> None: ...


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} is required")
    return value


def begin(machine: SignIn, record: PendingSignIn) -> Awaitable[Outcome]:
    """The one flow choice: the machine's ``start_*`` for how ``record`` says to start."""
    name, password, preferred = record.username, record.password, record.preferred
    flow = record.auth_flow
    if flow == "USER_SRP_AUTH" and password is not None:
        return machine.start_srp(name, password)
    if flow == "USER_PASSWORD_AUTH" and password is not None:
        return machine.start_password(name, password)
    if flow == "CUSTOM_AUTH":
        return machine.start_custom(name, password)
    if password is not None and preferred in (None, *_PASSWORD_FACTORS):
        return machine.start_user_auth(name, password, preferred=preferred)
    if preferred in _PASSWORD_FACTORS:
        # A password factor without the password: let Cognito offer the factors,
        # then ask the user for the password (ConfirmSignInWithPassword).
        return machine.start_user_auth_factor(name, None)
    return machine.start_user_auth_factor(name, preferred)


class Conversation:
    """One session's sign-in conversation: at most one :attr:`pending` record.

    ``sign_up`` is ConfirmSignUp's session (user name, session), kept once for
    ``auto_sign_in``.
    """

    __slots__ = ("pending", "sign_up")

    def __init__(self) -> None:
        self.pending: PendingSignIn | None = None
        self.sign_up: tuple[str, str] | None = None

    @property
    def step(self) -> SignInStep | None:
        """The typed step ``confirm_sign_in`` answers now (None: nothing typed pending)."""
        return self.pending.step if self.pending is not None else None

    # ------------------------------------------------------------------ pycognito's face

    async def run(
        self,
        io: SignInIO,
        record: PendingSignIn,
        call: Callable[[SignIn], Awaitable[Outcome]] | None = None,
    ) -> PendingSignIn | None:
        """Run the machine to tokens (accepted: None) or a challenge (kept as the pending
        record, returned, with no typed step): a new start (``begin`` for ``record``), or
        ``call`` to continue. A refused answer raises and leaves the record as it was."""
        if call is None:
            self.pending = None  # a new start replaces what was pending
        machine = await self._machine(io, record)
        outcome = await (begin(machine, record) if call is None else call(machine))
        if isinstance(outcome, Challenge):
            self.pending = PendingSignIn.from_challenge(outcome, record)
            return self.pending
        await io._accept(outcome)
        self.pending = None
        return None

    # ------------------------------------------------------------------ the typed face

    async def start(self, io: SignInIO, record: PendingSignIn) -> SignInStep:
        """Start the sign-in ``record`` describes; returns :class:`Done` or the next step."""
        self.pending = None
        record = replace(
            record, step=None, challenge=None, session=None, parameters={}, pool_username=None
        )
        if record.password is None and record.auth_flow in ("USER_SRP_AUTH", "USER_PASSWORD_AUTH"):
            # A record read back without its password, restarting: ask for it.
            return self._park(replace(record, step=ConfirmSignInWithPassword()))
        machine = await self._machine(io, record)
        try:
            return await self._advance(io, machine, record, begin(machine, record))
        except UserNotConfirmedError:
            return self._park(replace(record, step=ConfirmSignUp(username=record.username)))
        except PasswordResetRequiredError:
            return self._park(replace(record, step=ResetPassword(username=record.username)))

    async def auto_sign_in(
        self,
        io: SignInIO,
        *,
        client_metadata: Mapping[str, str] | None = None,
        totp_issuer: str | None = None,
    ) -> SignInStep:
        """Sign in with ConfirmSignUp's session (kept once), without the password."""
        found, self.sign_up = self.sign_up, None
        if found is None:
            raise ConfigurationError(
                "no confirmed sign-up to continue: call confirm_sign_up first (Cognito "
                "returns a session for it only when the app client allows USER_AUTH)"
            )
        name, session = found
        record = PendingSignIn(
            name,
            auth_flow="USER_AUTH",
            client_metadata=dict(client_metadata) if client_metadata else None,
            totp_issuer=totp_issuer,
        )
        self.pending = None
        machine = await self._machine(io, record)
        return await self._advance(
            io, machine, record, machine.start_user_auth_session(name, session)
        )

    def signed_up(self, username: str, session: str | None) -> None:
        """Keep ConfirmSignUp's session (when Cognito returned one) for auto sign-in."""
        self.sign_up = (username, session) if session else None

    def resume(self, record: PendingSignIn) -> SignInStep:
        """Make ``record`` (from another session, or read back from a store) the pending
        step; a record without a typed step gets the one for its challenge."""
        if not isinstance(record, PendingSignIn):
            raise ConfigurationError("resume_sign_in takes a PendingSignIn")
        if record.step is None:
            if record.challenge is None:
                raise ConfigurationError("this record holds neither a step nor a challenge")
            record = replace(record, step=step_for_challenge(record.challenge, record.parameters))
        self.pending = record
        assert record.step is not None
        return record.step

    async def _machine(self, io: SignInIO, record: PendingSignIn) -> SignIn:
        return await io._machine(
            admin=record.admin,
            client_metadata=record.client_metadata,
            custom_answer=record.custom_answer,
        )

    def _park(self, record: PendingSignIn) -> SignInStep:
        self.pending = record
        assert record.step is not None
        return record.step

    async def _advance(
        self, io: SignInIO, machine: SignIn, record: PendingSignIn, call: Awaitable[Outcome]
    ) -> SignInStep:
        """Await one run of the machine: tokens make :class:`Done`, a challenge the user
        must answer becomes the pending step."""
        outcome = await call
        if isinstance(outcome, Challenge):
            return await self._on_challenge(machine, PendingSignIn.from_challenge(outcome, record))
        await io._accept(outcome)
        self.pending = None
        return Done()

    async def _on_challenge(self, machine: SignIn, record: PendingSignIn) -> SignInStep:
        step = step_for_challenge(str(record.challenge), record.parameters)
        record = replace(record, step=step)
        if isinstance(step, ContinueSignInWithFirstFactorSelection) and (
            record.preferred in _PASSWORD_FACTORS
        ):
            if record.preferred not in step.available:
                raise UnsupportedChallengeError(
                    f"Cognito does not offer {record.preferred} for this user"
                )
            return self._park(
                replace(record, step=ConfirmSignInWithPassword(), factor=record.preferred)
            )
        if isinstance(step, ContinueSignInWithMFASetupSelection) and step.allowed == ("TOTP",):
            return await self._totp_setup(machine, record)
        return self._park(record)

    async def _totp_setup(self, machine: SignIn, record: PendingSignIn) -> SignInStep:
        secret, session = await machine.associate_software_token(record.session)
        step = ContinueSignInWithTOTPSetup(
            secret=secret,
            account_name=record.username,
            issuer=record.totp_issuer or machine.user_pool_id,
        )
        return self._park(replace(record, step=step, session=session))

    async def answer(
        self,
        io: SignInIO,
        answer: str | Mapping[str, Any],
        *,
        attributes: Mapping[str, str] | None = None,
        confirmation_code: str | None = None,
        device_name: str | None = None,
    ) -> SignInStep:
        """Answer the pending step; returns the next one, :class:`Done` once signed in.
        A refused answer raises the service's error and leaves the step pending."""
        record = self.pending
        if record is None or record.step is None:
            raise ConfigurationError("no sign-in step is pending: call sign_in first")
        step = record.step
        if isinstance(step, ConfirmSignInWithWebAuthn) and isinstance(answer, Mapping):
            answer = json.dumps(dict(answer), separators=(",", ":"))
        text = _text(answer, "answer")
        if isinstance(step, ConfirmSignInWithNewPassword):
            given = dict(attributes or {})
            missing = [a for a in step.required_attributes if a not in given]
            if missing:
                raise ConfigurationError(f"attributes required with the new password: {missing}")
            responses = {"NEW_PASSWORD": text}
            responses.update({f"userAttributes.{k}": str(v) for k, v in given.items()})
            return await self._go_on(io, record, responses)
        if isinstance(step, (ContinueSignInWithMFASelection, ContinueSignInWithMFASetupSelection)):
            kind = mfa_type_of(text)
            if kind not in step.allowed:
                raise ConfigurationError(f"choose one of {step.allowed}")
            if isinstance(step, ContinueSignInWithMFASelection):
                return await self._go_on(io, record, {"ANSWER": MFA_CHALLENGES[kind]})
            if kind == "TOTP":
                return await self._totp_setup(await self._machine(io, record), record)
            return self._park(replace(record, step=ContinueSignInWithEmailSetup()))
        if isinstance(step, ContinueSignInWithFirstFactorSelection):
            return await self._choose_first_factor(io, record, step, text)
        if isinstance(step, ResetPassword):
            code = _text(confirmation_code, "confirmation_code")
            await io._send_confirm_forgot_password(record.username, code, text)
            start = replace(record, password=text)
            if start.auth_flow == "USER_AUTH" and start.preferred not in (None, *_PASSWORD_FACTORS):
                start = replace(start, preferred=None)
            return await self.start(io, start)
        if isinstance(step, ConfirmSignUp):
            self.signed_up(record.username, await io._send_confirm_sign_up(record.username, text))
            if self.sign_up is not None and record.password is None:
                # The code just given signs the user in (passwordless, or a record read
                # back without its password).
                return await self.auto_sign_in(
                    io, client_metadata=record.client_metadata, totp_issuer=record.totp_issuer
                )
            return await self.start(io, record)
        if isinstance(step, ConfirmSignInWithPassword):
            return await self._with_password(io, record, text)
        if isinstance(step, ContinueSignInWithTOTPSetup):
            machine = await self._machine(io, record)
            call = machine.verify_software_token(
                record.session, text, username=record.answer_as, device_name=device_name
            )
            return await self._advance(io, machine, record, call)
        if isinstance(step, _CODE_STEPS):
            return await self._go_on(io, record, {CODE_RESPONSE_KEYS[str(record.challenge)]: text})
        if isinstance(step, ConfirmSignInWithCustomChallenge):
            return await self._go_on(io, record, {"ANSWER": text})
        if isinstance(step, ConfirmSignInWithWebAuthn):
            return await self._go_on(io, record, {"CREDENTIAL": text})
        if isinstance(step, ContinueSignInWithEmailSetup):
            return await self._go_on(io, record, {"EMAIL": text})
        raise UnsupportedChallengeError(f"no answer for {type(step).__name__}")  # pragma: no cover

    async def _go_on(
        self, io: SignInIO, record: PendingSignIn, responses: dict[str, str]
    ) -> SignInStep:
        machine = await self._machine(io, record)
        call = machine.continue_with(
            str(record.challenge), record.session, responses, username=record.answer_as
        )
        return await self._advance(io, machine, record, call)

    async def _with_password(
        self, io: SignInIO, record: PendingSignIn, password: str
    ) -> SignInStep:
        """The password asked for: a USER_AUTH password factor, or a restart that needs it."""
        if record.challenge != "SELECT_CHALLENGE":
            return await self.start(io, replace(record, password=password, step=None))
        machine = await self._machine(io, record)
        call = machine.select_password_factor(
            record.session, password, username=record.answer_as, srp=record.factor != "PASSWORD"
        )
        return await self._advance(io, machine, record, call)

    async def _choose_first_factor(
        self,
        io: SignInIO,
        record: PendingSignIn,
        step: ContinueSignInWithFirstFactorSelection,
        answer: str,
    ) -> SignInStep:
        factor = answer.strip().upper()
        if factor not in step.available:
            raise ConfigurationError(f"choose one of {step.available}")
        if factor in _PASSWORD_FACTORS:
            record = replace(record, factor=factor)
            if record.password is None:
                return self._park(replace(record, step=ConfirmSignInWithPassword()))
            return await self._with_password(io, record, record.password)
        return await self._go_on(io, record, {"ANSWER": factor})
