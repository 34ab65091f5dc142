"""The sign-in room: sign-in, challenges, sign-out; both faces, thin.

Sign-in itself lives in :mod:`acognito.flows`: each method here checks its arguments
and hands over to the session's :class:`~acognito.flows.Conversation`. The typed face
(``sign_in`` / ``confirm_sign_in``) returns :mod:`acognito.steps`; pycognito's face
(``authenticate`` / ``respond_to_*``) raises the matching
:class:`~acognito.errors.ChallengeRequired` from the same record, which ``mfa_tokens``
shows as pycognito's dict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from ..context import UserContext
from ..errors import ConfigurationError, ForceChangePasswordException
from ..flows import (
    FIRST_FACTORS,
    SIGN_IN_FLOWS,
    Conversation,
    CustomAnswer,
    PendingSignIn,
    SignIn,
    SignInFlow,
    SignInIO,
    challenge_error,
    mfa_tokens,
    record_from_mfa_tokens,
)
from ..steps import Done, SignInStep
from ._base import CallsCognito, need
from ._lease import PoolLease

if TYPE_CHECKING:
    from ..devices import DeviceCredentials

__all__ = ["AuthFlow", "SignInCommands", "SignInHost"]

AuthFlow = Literal["USER_SRP_AUTH", "USER_PASSWORD_AUTH", "USER_AUTH"]


class SignInHost(CallsCognito, SignInIO, Protocol):
    """What the sign-in room uses of the session: the conversation and what it needs
    (``SignInIO``: the machine, token acceptance, the sign-up and password-reset
    confirmations), the user's name, the refresh token and sign-out."""

    _conversation: Conversation
    _lease: PoolLease[Any]

    @property
    def client_secret(self) -> str | None: ...

    @property
    def refresh_token(self) -> str | None: ...

    @property
    def access_token(self) -> str | None: ...

    new_device_metadata: dict[str, str] | None

    async def renew_access_token(self) -> None: ...

    def _app_client(self, operation: str) -> str: ...

    def _require_username(self, username: str | None = None) -> str: ...

    def _require_access_token(self) -> str: ...

    def _forget_tokens(self) -> None: ...

    async def _signed_out(self, *, revoked: bool) -> None: ...


class _ConfirmsDevices(Protocol):
    """The account room's device confirmation, reached without a stub in the sign-in
    room's contract (a stub there would stand in front of it)."""

    async def confirm_device(
        self, device_name: str | None = None, *, remember: bool = True
    ) -> DeviceCredentials: ...


class SignInCommands(SignInHost):
    """Sign-in (typed steps and pycognito's challenges) and sign-out for the session's user."""

    username: str | None
    #: ``sign_in(remember_device=True)``: confirm and remember the new device once done.
    _remember_device: bool

    # ------------------------------------------------------------------ the user's context

    @property
    def user_context(self) -> UserContext | None:
        """The user behind this session's requests, for Cognito's threat protection: a
        :class:`~acognito.context.UserContext` (their IP address, the JavaScript
        collector's encoded data; server name, path and headers for the Admin calls).
        Set, every call that takes ``UserContextData`` (InitiateAuth,
        RespondToAuthChallenge, SignUp, ConfirmSignUp, ForgotPassword,
        ConfirmForgotPassword, ResendConfirmationCode) or ``ContextData``
        (AdminInitiateAuth, AdminRespondToAuthChallenge) carries it, through the
        session's one send path. None (the default): nothing is sent, and Cognito sees
        the server's own address."""
        return self._lease.user_context

    @user_context.setter
    def user_context(self, context: UserContext | None) -> None:
        if context is not None and not isinstance(context, UserContext):
            raise ConfigurationError("user_context must be an acognito.UserContext or None")
        self._lease.user_context = context

    # ------------------------------------------------------------------ the typed face

    @property
    def pending_sign_in_step(self) -> SignInStep | None:
        """The step :meth:`confirm_sign_in` would answer now, or None."""
        return self._conversation.step

    @property
    def pending_sign_in(self) -> PendingSignIn | None:
        """The record of the sign-in waiting on the user (plain data: keep it with
        ``to_json()`` and continue elsewhere with :meth:`resume_sign_in`), or None."""
        return self._conversation.pending

    def resume_sign_in(
        self, pending: PendingSignIn, *, remember_device: bool = False
    ) -> SignInStep:
        """Continue a sign-in another session (or process) started: ``pending`` becomes
        this session's pending step (returned); answer it with :meth:`confirm_sign_in`.

        Use a session of the same pool, app client (and client secret) and remembered
        device as the one that started it; Cognito's challenge session expires after a
        few minutes (the app client's AuthSessionValidity). ``remember_device`` as for
        :meth:`sign_in`.
        """
        step = self._conversation.resume(pending)
        self.username = pending.username
        self._remember_device = remember_device
        return step

    async def _finish(self, step: SignInStep) -> SignInStep:
        """The step to return; once done, the device confirmed if the sign-in asked."""
        if not isinstance(step, Done):
            return step
        remember, self._remember_device = self._remember_device, False
        if remember and self.new_device_metadata:
            await cast(_ConfirmsDevices, self).confirm_device(remember=True)
        return step

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
        remember_device: bool = False,
    ) -> SignInStep:
        """Start signing in; returns :class:`~acognito.steps.Done` or the step to answer.

        ``auth_flow`` USER_SRP_AUTH (default) and USER_PASSWORD_AUTH need ``password``;
        USER_AUTH takes one optionally, with ``preferred_first_factor`` (PASSWORD,
        PASSWORD_SRP, EMAIL_OTP, SMS_OTP, WEB_AUTHN; none: the user picks from what Cognito
        offers); CUSTOM_AUTH runs SRP first when given a password. ``totp_issuer`` names
        your app in the TOTP set-up URI (default: the user pool id).

        ``remember_device=True`` confirms and remembers the new device Cognito reports
        (a pool that tracks devices) as soon as the sign-in is done, in this call or in
        the :meth:`confirm_sign_in` that finishes it, as Amplify's ``signIn`` does: the
        same as calling :meth:`confirm_device` then (its credentials land on
        :attr:`device`; persist them). If that call fails the sign-in stands, and
        ``new_device_metadata`` stays for an explicit :meth:`confirm_device`.
        """
        name = need(username or self.username, "username")
        if auth_flow not in SIGN_IN_FLOWS:
            raise ConfigurationError(f"auth_flow must be one of {', '.join(SIGN_IN_FLOWS)}")
        if password is not None:
            need(password, "password")
        elif auth_flow in ("USER_SRP_AUTH", "USER_PASSWORD_AUTH"):
            raise ConfigurationError(f"password is required for {auth_flow}")
        if preferred_first_factor is not None:
            if auth_flow != "USER_AUTH":
                raise ConfigurationError("preferred_first_factor needs auth_flow='USER_AUTH'")
            if preferred_first_factor not in FIRST_FACTORS:
                raise ConfigurationError(f"preferred_first_factor must be one of {FIRST_FACTORS}")
        self.username = name
        record = PendingSignIn(
            name,
            auth_flow=auth_flow,
            preferred=preferred_first_factor,
            client_metadata=dict(client_metadata) if client_metadata else None,
            totp_issuer=totp_issuer,
            password=password,
            custom_answer=custom_answer,
        )
        self._remember_device = remember_device
        return await self._finish(await self._conversation.start(self, record))

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

        :class:`~acognito.steps.ConfirmSignInWithWebAuthn` takes the authenticator's
        assertion (the dict ``Authenticator.get(step.options)`` returns, or its JSON text).

        ``attributes`` go with a new password (the step's ``required_attributes``);
        ``confirmation_code`` goes with the new password of
        :class:`~acognito.steps.ResetPassword`; ``device_name`` names the authenticator in
        TOTP set-up. A wrong code raises the service's error (``CodeMismatchError``, ...)
        and the step stays pending; when Cognito will not take the challenge session again
        (``NotAuthorizedError``), start over with :meth:`sign_in`.
        """
        step = await self._conversation.answer(
            self,
            answer,
            attributes=attributes,
            confirmation_code=confirmation_code,
            device_name=device_name,
        )
        return await self._finish(step)

    @property
    def can_auto_sign_in(self) -> bool:
        """Whether :meth:`auto_sign_in` has a session to use (the last
        ``confirm_sign_up`` returned one)."""
        return self._conversation.sign_up is not None

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
        if self._conversation.sign_up is not None:
            self.username = self._conversation.sign_up[0]
        return await self._conversation.auto_sign_in(
            self, client_metadata=client_metadata, totp_issuer=totp_issuer
        )

    # ------------------------------------------------------------------ pycognito's face

    @property
    def mfa_tokens(self) -> dict[str, Any] | None:
        """What :meth:`authenticate` left to continue a challenge (pycognito's dict, the
        exception's ``get_tokens()``), or None; a view of :attr:`pending_sign_in`."""
        return mfa_tokens(self._conversation.pending)

    @mfa_tokens.setter
    def mfa_tokens(self, value: Mapping[str, Any] | None) -> None:
        self._conversation.pending = (
            None if not value else record_from_mfa_tokens(value, self.username)
        )

    async def _authenticate(
        self,
        record: PendingSignIn,
        call: Callable[[SignIn], Any] | None = None,
    ) -> None:
        """Run pycognito's face: tokens accepted, or the challenge raised."""
        pending = await self._conversation.run(self, record, call)
        if pending is not None:
            raise challenge_error(pending)

    async def authenticate(
        self,
        password: str,
        client_metadata: Mapping[str, str] | None = None,
        *,
        auth_flow: AuthFlow = "USER_SRP_AUTH",
    ) -> None:
        """Sign in (SRP by default: the password never leaves this process).

        On success the tokens are set. When Cognito wants more (an MFA code, a new
        password) a :class:`~acognito.errors.ChallengeRequired` subclass is raised and
        ``mfa_tokens`` keeps what the matching ``respond_to_*`` method needs.
        """
        username = self._require_username()
        need(password, "password")
        if auth_flow not in ("USER_SRP_AUTH", "USER_PASSWORD_AUTH", "USER_AUTH"):
            raise ConfigurationError(f"unsupported auth_flow {auth_flow!r}")
        self._app_client("authenticate")
        preferred = "PASSWORD_SRP" if auth_flow == "USER_AUTH" else None
        await self._authenticate(
            PendingSignIn(
                username,
                auth_flow=auth_flow,
                preferred=preferred,
                client_metadata=client_metadata,
                password=password,
            )
        )

    async def admin_authenticate(
        self, password: str, client_metadata: Mapping[str, str] | None = None
    ) -> None:
        """Sign in with AdminInitiateAuth (ADMIN_USER_PASSWORD_AUTH; needs AWS credentials)."""
        username = self._require_username()
        need(password, "password")
        self._app_client("admin_authenticate")
        await self._authenticate(
            PendingSignIn(
                username,
                auth_flow="USER_PASSWORD_AUTH",
                admin=True,
                client_metadata=client_metadata,
                password=password,
            )
        )

    async def custom_authenticate(
        self,
        answer: CustomAnswer,
        *,
        password: str | None = None,
        client_metadata: Mapping[str, str] | None = None,
    ) -> None:
        """CUSTOM_AUTH: ``answer(challenge_parameters)`` (sync or async) answers each
        CUSTOM_CHALLENGE. With ``password``, SRP verifies it first (CUSTOM_WITH_SRP)."""
        username = self._require_username()
        if password is not None:
            need(password, "password")
        self._app_client("custom_authenticate")
        await self._authenticate(
            PendingSignIn(
                username,
                auth_flow="CUSTOM_AUTH",
                client_metadata=client_metadata,
                password=password,
                custom_answer=answer,
            )
        )

    async def new_password_challenge(self, password: str, new_password: str) -> None:
        """Sign in with a temporary password and set the permanent one."""
        need(new_password, "new_password")
        try:
            await self.authenticate(password)
        except ForceChangePasswordException as challenge:
            await self.respond_to_new_password_challenge(new_password, challenge.get_tokens())
            return
        raise ConfigurationError("Cognito did not ask for a new password; signed in as is")

    async def _continue(
        self,
        expected: Sequence[str],
        responses: dict[str, str],
        challenge_tokens: Mapping[str, Any] | None,
    ) -> None:
        record = (
            record_from_mfa_tokens(challenge_tokens, self.username)
            if challenge_tokens
            else self._conversation.pending
        )
        if record is None or record.challenge is None:
            raise ConfigurationError("no sign-in challenge is pending: authenticate first")
        name = record.challenge
        if name not in expected:
            raise ConfigurationError(
                f"the pending challenge is {name!r}, not {' or '.join(expected)}"
            )
        self._app_client(f"answering {name}")
        session, username = record.session, record.answer_as
        await self._authenticate(
            record,
            lambda machine: machine.continue_with(name, session, responses, username=username),
        )

    async def respond_to_software_token_mfa_challenge(
        self, code: str, mfa_tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Answer SOFTWARE_TOKEN_MFA with a TOTP code."""
        need(code, "code")
        await self._continue(["SOFTWARE_TOKEN_MFA"], {"SOFTWARE_TOKEN_MFA_CODE": code}, mfa_tokens)

    async def respond_to_sms_mfa_challenge(
        self, code: str, mfa_tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Answer SMS_MFA with the code sent by SMS."""
        need(code, "code")
        await self._continue(["SMS_MFA"], {"SMS_MFA_CODE": code}, mfa_tokens)

    async def respond_to_email_otp_challenge(
        self, code: str, mfa_tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Answer EMAIL_OTP with the code sent by email."""
        need(code, "code")
        await self._continue(["EMAIL_OTP"], {"EMAIL_OTP_CODE": code}, mfa_tokens)

    async def select_mfa_type(
        self, mfa_type: str, mfa_tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Answer SELECT_MFA_TYPE (``"SMS_MFA"``, ``"SOFTWARE_TOKEN_MFA"`` or ``"EMAIL_OTP"``);
        Cognito then asks for that code."""
        need(mfa_type, "mfa_type")
        await self._continue(["SELECT_MFA_TYPE"], {"ANSWER": mfa_type}, mfa_tokens)

    async def respond_to_new_password_challenge(
        self,
        new_password: str,
        challenge_tokens: Mapping[str, Any] | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        """Answer NEW_PASSWORD_REQUIRED, optionally setting required attributes."""
        need(new_password, "new_password")
        responses = {"NEW_PASSWORD": new_password}
        for key, value in (attributes or {}).items():
            responses[f"userAttributes.{key}"] = value
        await self._continue(["NEW_PASSWORD_REQUIRED"], responses, challenge_tokens)

    # ------------------------------------------------------------------ sign-out

    async def logout(self, *, global_sign_out: bool = True) -> None:
        """Sign the user out and drop the tokens.

        By default, as pycognito: GlobalSignOut, which ends every session of the user
        (every refresh token, this one included). With ``global_sign_out=False`` only
        this session's refresh token is revoked (RevokeToken, see :meth:`revoke_token`);
        the user's other devices stay signed in.

        Nobody signed in (no access and no refresh token) is not an error: nothing is
        sent and nothing changes, as Amplify's ``signOut()``. Without a refresh token,
        ``global_sign_out=False`` just drops the tokens; with only a refresh token, the
        global sign-out renews the access token first (GlobalSignOut needs one).
        """
        if not self.access_token and not self.refresh_token:
            self._forget_tokens()  # an id token alone: nothing to sign out server-side
            return
        if not global_sign_out:
            if self.refresh_token:
                await self.revoke_token()
            else:
                self._forget_tokens()
            return
        if not self.access_token:
            await self.renew_access_token()
        await self._call("global_sign_out", AccessToken=self._require_access_token())
        await self._signed_out(revoked=True)

    async def revoke_token(self) -> None:
        """Revoke the refresh token (RevokeToken) and the tokens issued from it, then drop them."""
        refresh = self.refresh_token
        if not refresh:
            raise ConfigurationError("no refresh token to revoke")
        params: dict[str, Any] = {"Token": refresh, "ClientId": self._app_client("revoke_token")}
        if self.client_secret is not None:
            params["ClientSecret"] = self.client_secret
        await self._call("revoke_token", **params)
        await self._signed_out(revoked=True)
