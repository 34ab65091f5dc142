"""The typed face of sign-in: ``sign_in`` / ``confirm_sign_in`` on the session.

:class:`SignInStepsMixin` is a base class of :class:`acognito.AsyncCognito`. It drives the
same :class:`acognito.flows.SignIn` state machine as ``authenticate()``; where that face
raises a challenge exception, this one returns a step from :mod:`acognito.steps`, and
keeps ``mfa_tokens`` in step so the pycognito ``respond_to_*`` methods still apply.

What it uses of the session (the host) is :class:`_Host`: ``username``, ``mfa_tokens``,
``user_pool_id``, ``_sign_in()``, ``_accept()``, ``confirm_sign_up()`` and
``confirm_forgot_password()``. Nothing else.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from .errors import (
    ChallengeRequired,
    ConfigurationError,
    EnableSoftwareTokenMFAError,
    PasswordResetRequiredError,
    UnsupportedChallengeError,
    UserNotConfirmedError,
)
from .steps import (
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

if TYPE_CHECKING:
    from .flows import CustomAnswer, SignIn
    from .tokens import Tokens

__all__ = ["SignInFlow", "SignInStepsMixin"]

#: The flows ``sign_in`` starts.
SignInFlow = Literal["USER_SRP_AUTH", "USER_PASSWORD_AUTH", "USER_AUTH", "CUSTOM_AUTH"]
_FLOWS = ("USER_SRP_AUTH", "USER_PASSWORD_AUTH", "USER_AUTH", "CUSTOM_AUTH")
_FIRST_FACTORS = ("PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN")
_PASSWORD_FACTORS = ("PASSWORD", "PASSWORD_SRP")


class _Host(Protocol):
    """The session internals the typed face uses (re-point these when they move)."""

    username: str | None
    mfa_tokens: dict[str, Any] | None
    user_pool_id: str

    async def _sign_in(
        self,
        *,
        admin: bool = False,
        client_metadata: Mapping[str, str] | None = None,
        custom_answer: CustomAnswer | None = None,
    ) -> SignIn: ...

    async def _accept(self, response: Mapping[str, Any], *, sign_in: bool = True) -> Tokens: ...

    async def confirm_sign_up(
        self, confirmation_code: str, username: str | None = None
    ) -> None: ...

    async def confirm_forgot_password(self, confirmation_code: str, password: str) -> None: ...


@dataclass(frozen=True, repr=False)
class _Start:
    """How the sign-in was started, to start it again (after ConfirmSignUp / ResetPassword)."""

    auth_flow: str
    password: str | None = field(default=None, repr=False)
    preferred: str | None = None
    client_metadata: Mapping[str, str] | None = None
    custom_answer: CustomAnswer | None = None
    totp_issuer: str | None = None


@dataclass(frozen=True, repr=False)
class _Pending:
    """The step the session waits on, with what answering it needs. Never shown."""

    step: SignInStep
    start: _Start
    typed_username: str
    username: str
    challenge: str | None = None
    session: str | None = None
    mfa_tokens: dict[str, Any] | None = None
    factor: str | None = None


# Per session, held weakly: a ``for_user`` child (a copy of the parent's __dict__) starts
# with nothing pending, and a dropped session leaves nothing behind.
_PENDING: weakref.WeakKeyDictionary[object, _Pending] = weakref.WeakKeyDictionary()
# Per session: (user name, ConfirmSignUp's session) for :meth:`auto_sign_in`, single use.
_SIGN_UP_SESSIONS: weakref.WeakKeyDictionary[object, tuple[str, str]] = weakref.WeakKeyDictionary()


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} is required")
    return value


class SignInStepsMixin:
    """``sign_in`` returns the next step; ``confirm_sign_in`` answers it, until :class:`Done`."""

    def _host(self) -> _Host:
        return cast("_Host", self)

    @property
    def pending_sign_in_step(self) -> SignInStep | None:
        """The step ``confirm_sign_in`` would answer now, or None."""
        pending = self._pending()
        return pending.step if pending else None

    def _pending(self) -> _Pending | None:
        pending = _PENDING.get(self)
        if pending is None:
            return None
        # authenticate(), respond_to_*() or a refresh replaced the challenge: stale.
        if pending.challenge is not None and self._host().mfa_tokens is not pending.mfa_tokens:
            _PENDING.pop(self, None)
            return None
        return pending

    async def sign_in(
        self,
        username: str | None = None,
        password: str | None = None,
        *,
        auth_flow: SignInFlow = "USER_SRP_AUTH",
        preferred_first_factor: str | None = None,
        client_metadata: Mapping[str, str] | None = None,
        custom_answer: CustomAnswer | None = None,
        totp_issuer: str | None = None,
    ) -> SignInStep:
        """Start signing in; returns :class:`~acognito.steps.Done` or the step to answer.

        ``auth_flow`` USER_SRP_AUTH (default) and USER_PASSWORD_AUTH need ``password``;
        USER_AUTH takes one optionally, with ``preferred_first_factor`` (PASSWORD,
        PASSWORD_SRP, EMAIL_OTP, SMS_OTP, WEB_AUTHN; none: the user picks from what Cognito
        offers); CUSTOM_AUTH runs SRP first when given a password. ``totp_issuer`` names
        your app in the TOTP set-up URI (default: the user pool id).
        """
        host = self._host()
        name = _text(username or host.username, "username")
        if auth_flow not in _FLOWS:
            raise ConfigurationError(f"auth_flow must be one of {', '.join(_FLOWS)}")
        if password is not None:
            _text(password, "password")
        elif auth_flow in ("USER_SRP_AUTH", "USER_PASSWORD_AUTH"):
            raise ConfigurationError(f"password is required for {auth_flow}")
        if preferred_first_factor is not None:
            if auth_flow != "USER_AUTH":
                raise ConfigurationError("preferred_first_factor needs auth_flow='USER_AUTH'")
            if preferred_first_factor not in _FIRST_FACTORS:
                raise ConfigurationError(f"preferred_first_factor must be one of {_FIRST_FACTORS}")
        host.username = name
        _PENDING.pop(self, None)
        start = _Start(
            auth_flow,
            password,
            preferred_first_factor,
            dict(client_metadata) if client_metadata else None,
            custom_answer,
            totp_issuer,
        )
        return await self._start(start, name)

    @property
    def can_auto_sign_in(self) -> bool:
        """Whether :meth:`auto_sign_in` has a session to use (the last
        ``confirm_sign_up`` returned one)."""
        return self in _SIGN_UP_SESSIONS

    async def auto_sign_in(
        self,
        *,
        client_metadata: Mapping[str, str] | None = None,
        totp_issuer: str | None = None,
    ) -> SignInStep:
        """Sign in the user just confirmed by :meth:`confirm_sign_up`, without the password.

        Cognito's ConfirmSignUp returns a session when the app client allows USER_AUTH;
        InitiateAuth USER_AUTH takes it once, within the client's AuthSessionValidity
        (3 minutes by default). Returns :class:`~acognito.steps.Done` or the next step.
        """
        found = _SIGN_UP_SESSIONS.pop(self, None)
        if found is None:
            raise ConfigurationError(
                "no confirmed sign-up to continue: call confirm_sign_up first (Cognito "
                "returns a session for it only when the app client allows USER_AUTH)"
            )
        name, session = found
        host = self._host()
        host.username = name
        _PENDING.pop(self, None)
        start = _Start(
            "USER_AUTH",
            None,
            None,
            dict(client_metadata) if client_metadata else None,
            None,
            totp_issuer,
        )
        flow = await self._flow(start)
        return await self._advance(start, name, flow.start_user_auth_session(name, session))

    async def _start(self, start: _Start, name: str) -> SignInStep:
        flow = await self._flow(start)
        password = start.password
        if start.auth_flow == "USER_SRP_AUTH" and password is not None:
            call = flow.start_srp(name, password)
        elif start.auth_flow == "USER_PASSWORD_AUTH" and password is not None:
            call = flow.start_password(name, password)
        elif start.auth_flow == "CUSTOM_AUTH":
            call = flow.start_custom(name, password)
        elif password is not None and start.preferred in (None, *_PASSWORD_FACTORS):
            call = flow.start_user_auth(name, password, preferred=start.preferred)
        elif start.preferred in _PASSWORD_FACTORS:
            # A password factor without the password: let Cognito offer the factors,
            # then ask the user for the password (ConfirmSignInWithPassword).
            call = flow.start_user_auth_factor(name, None)
        else:
            call = flow.start_user_auth_factor(name, start.preferred)
        try:
            return await self._advance(start, name, call)
        except UserNotConfirmedError:
            return self._park(_Pending(ConfirmSignUp(username=name), start, name, name))
        except PasswordResetRequiredError:
            return self._park(_Pending(ResetPassword(username=name), start, name, name))

    async def _flow(self, start: _Start) -> SignIn:
        return await self._host()._sign_in(
            client_metadata=start.client_metadata, custom_answer=start.custom_answer
        )

    def _park(self, pending: _Pending) -> SignInStep:
        _PENDING[self] = pending
        return pending.step

    async def _advance(
        self, start: _Start, typed: str, call: Awaitable[dict[str, Any]]
    ) -> SignInStep:
        """Await one step of the state machine: tokens make :class:`Done`, a challenge
        the user must answer becomes the pending step."""
        host = self._host()
        try:
            response = await call
        except ChallengeRequired as challenge:
            if type(challenge) is UnsupportedChallengeError and not challenge.challenge_name:
                raise
            return await self._on_challenge(start, typed, challenge)
        await host._accept(response)
        _PENDING.pop(self, None)
        return Done()

    async def _on_challenge(
        self, start: _Start, typed: str, challenge: ChallengeRequired
    ) -> SignInStep:
        host = self._host()
        host.mfa_tokens = tokens = challenge.get_tokens()  # the pycognito face, in step
        name = challenge.challenge_name
        step = step_for_challenge(name, challenge.parameters)
        pending = _Pending(
            step, start, typed, challenge.username or typed, name, challenge.session, tokens
        )
        if isinstance(step, ContinueSignInWithFirstFactorSelection) and (
            start.preferred in _PASSWORD_FACTORS
        ):
            if start.preferred not in step.available:
                raise UnsupportedChallengeError(
                    f"Cognito does not offer {start.preferred} for this user"
                )
            return self._park(
                replace(pending, step=ConfirmSignInWithPassword(), factor=start.preferred)
            )
        if isinstance(step, ContinueSignInWithMFASetupSelection) and step.allowed == ("TOTP",):
            return await self._totp_setup(pending)
        return self._park(pending)

    async def _totp_setup(self, pending: _Pending) -> SignInStep:
        """AssociateSoftwareToken with the challenge session (there is no access token yet)."""
        response = await (await self._flow(pending.start)).idp.call(
            "associate_software_token", Session=pending.session
        )
        secret = response.get("SecretCode")
        if not isinstance(secret, str) or not secret:
            raise UnsupportedChallengeError("AssociateSoftwareToken returned no secret")
        issuer = pending.start.totp_issuer or self._host().user_pool_id
        step = ContinueSignInWithTOTPSetup(
            secret=secret, account_name=pending.typed_username, issuer=issuer
        )
        return self._park(
            replace(pending, step=step, session=response.get("Session") or pending.session)
        )

    async def confirm_sign_in(
        self,
        answer: str | Mapping[str, Any],
        *,
        attributes: Mapping[str, str] | None = None,
        confirmation_code: str | None = None,
        device_name: str | None = None,
    ) -> SignInStep:
        """Answer the pending step (a code, a new password, a choice, an email address, ...);
        returns the next step, :class:`~acognito.steps.Done` once signed in.

        :class:`ConfirmSignInWithWebAuthn` takes the authenticator's assertion (the dict
        ``Authenticator.get(step.options)`` returns, or its JSON text).

        ``attributes`` go with a new password (the step's ``required_attributes``);
        ``confirmation_code`` goes with the new password of :class:`ResetPassword`;
        ``device_name`` names the authenticator in TOTP set-up. A wrong code raises the
        service's error (``CodeMismatchError``, ...) and the step stays pending; when
        Cognito will not take the challenge session again (``NotAuthorizedError``), start
        over with :meth:`sign_in`.
        """
        pending = self._pending()
        if pending is None:
            raise ConfigurationError("no sign-in step is pending: call sign_in first")
        step = pending.step
        if isinstance(step, ConfirmSignInWithWebAuthn) and isinstance(answer, Mapping):
            answer = json.dumps(dict(answer), separators=(",", ":"))
        answer = _text(answer, "answer")
        flow = await self._flow(pending.start)

        def go_on(responses: dict[str, str], session: str | None = None) -> Awaitable[SignInStep]:
            call = flow.continue_with(
                str(pending.challenge),
                session or pending.session,
                responses,
                username=pending.username,
            )
            return self._advance(pending.start, pending.typed_username, call)

        if isinstance(
            step, (ConfirmSignInWithSMSCode, ConfirmSignInWithTOTPCode, ConfirmSignInWithEmailCode)
        ):
            return await go_on({CODE_RESPONSE_KEYS[str(pending.challenge)]: answer})
        if isinstance(step, ConfirmSignInWithNewPassword):
            given = dict(attributes or {})
            missing = [a for a in step.required_attributes if a not in given]
            if missing:
                raise ConfigurationError(f"attributes required with the new password: {missing}")
            responses = {"NEW_PASSWORD": answer}
            responses.update({f"userAttributes.{k}": str(v) for k, v in given.items()})
            return await go_on(responses)
        if isinstance(step, ConfirmSignInWithCustomChallenge):
            return await go_on({"ANSWER": answer})
        if isinstance(step, ConfirmSignInWithWebAuthn):
            return await go_on({"CREDENTIAL": answer})
        if isinstance(step, ContinueSignInWithEmailSetup):
            return await go_on({"EMAIL": answer})
        if isinstance(step, ContinueSignInWithMFASelection):
            kind = mfa_type_of(answer)
            if kind not in step.allowed:
                raise ConfigurationError(f"choose one of {step.allowed}")
            return await go_on({"ANSWER": MFA_CHALLENGES[kind]})
        if isinstance(step, ContinueSignInWithMFASetupSelection):
            kind = mfa_type_of(answer)
            if kind not in step.allowed:
                raise ConfigurationError(f"choose one of {step.allowed}")
            if kind == "TOTP":
                return await self._totp_setup(pending)
            return self._park(replace(pending, step=ContinueSignInWithEmailSetup()))
        if isinstance(step, ContinueSignInWithTOTPSetup):
            return await self._verify_totp_setup(pending, answer, device_name)
        if isinstance(step, ContinueSignInWithFirstFactorSelection):
            return await self._choose_first_factor(pending, step, answer)
        if isinstance(step, ConfirmSignInWithPassword):
            call = flow.select_password_factor(
                pending.session,
                answer,
                username=pending.username,
                srp=pending.factor != "PASSWORD",
            )
            return await self._advance(pending.start, pending.typed_username, call)
        if isinstance(step, ConfirmSignUp):
            await self._host().confirm_sign_up(answer, pending.typed_username)
            if pending.start.password is None and self.can_auto_sign_in:
                # Passwordless: the code just given signs the user in.
                return await self.auto_sign_in(
                    client_metadata=pending.start.client_metadata,
                    totp_issuer=pending.start.totp_issuer,
                )
            return await self._start(pending.start, pending.typed_username)
        if isinstance(step, ResetPassword):
            code = _text(confirmation_code, "confirmation_code")
            host = self._host()
            host.username = pending.typed_username
            await host.confirm_forgot_password(code, answer)
            start = replace(pending.start, password=answer)
            if start.auth_flow == "USER_AUTH" and start.preferred not in (None, *_PASSWORD_FACTORS):
                start = replace(start, preferred=None)
            return await self._start(start, pending.typed_username)
        raise UnsupportedChallengeError(f"no answer for {type(step).__name__}")  # pragma: no cover

    async def _verify_totp_setup(
        self, pending: _Pending, code: str, device_name: str | None
    ) -> SignInStep:
        """VerifySoftwareToken with the challenge session, then answer MFA_SETUP."""
        flow = await self._flow(pending.start)
        params: dict[str, Any] = {"Session": pending.session, "UserCode": code}
        if device_name:
            params["FriendlyDeviceName"] = device_name
        response = await flow.idp.call("verify_software_token", **params)
        if response.get("Status") != "SUCCESS":
            raise EnableSoftwareTokenMFAError("the TOTP code did not verify")
        call = flow.continue_with(
            "MFA_SETUP",
            response.get("Session") or pending.session,
            {},
            username=pending.username,
        )
        return await self._advance(pending.start, pending.typed_username, call)

    async def _choose_first_factor(
        self, pending: _Pending, step: ContinueSignInWithFirstFactorSelection, answer: str
    ) -> SignInStep:
        factor = answer.strip().upper()
        if factor not in step.available:
            raise ConfigurationError(f"choose one of {step.available}")
        flow = await self._flow(pending.start)
        if factor in _PASSWORD_FACTORS:
            password = pending.start.password
            if password is None:
                return self._park(replace(pending, step=ConfirmSignInWithPassword(), factor=factor))
            call = flow.select_password_factor(
                pending.session, password, username=pending.username, srp=factor != "PASSWORD"
            )
        else:
            call = flow.continue_with(
                "SELECT_CHALLENGE", pending.session, {"ANSWER": factor}, username=pending.username
            )
        return await self._advance(pending.start, pending.typed_username, call)
