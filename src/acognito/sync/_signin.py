"""Blocking sign-up, sign-in and sign-out of :class:`acognito.sync.Cognito`.

Each method runs the :class:`~acognito.AsyncCognito` method of the same name on the
process's loop thread; pycognito's challenge exceptions and the typed steps come back
as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..flows import CustomAnswer, PendingSignIn, SignInFlow
from ..steps import SignInStep
from ._host import SyncHost

__all__ = ["SyncSignIn"]

_SET_AFTER_REGISTER_SKIP = frozenset({"password"})


class SyncSignIn(SyncHost):
    """Sign-up, sign-in (pycognito's challenges and the typed steps) and sign-out."""

    # ------------------------------------------------------------------ sign-up

    def set_base_attributes(self, **kwargs: Any) -> None:
        """Standard attributes for :meth:`register` (``email=...``, ``given_name=...``)."""
        self._async.set_base_attributes(**kwargs)

    def add_custom_attributes(self, **kwargs: Any) -> None:
        """Custom attributes for :meth:`register`; names get the ``custom:`` prefix."""
        self._async.add_custom_attributes(**kwargs)

    def register(
        self,
        username: str,
        password: str,
        attr_map: Mapping[str, str] | None = None,
        client_metadata: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Sign a user up (SignUp); sets ``username`` and the registered attributes."""
        session = self._async
        attributes = {**(session.base_attributes or {}), **(session.custom_attributes or {})}
        response = self._run(session.register, username, password, attr_map, client_metadata)
        for key, value in attributes.items():
            if key not in _SET_AFTER_REGISTER_SKIP and ":" not in key:
                setattr(self, key, value)
        return response

    def confirm_sign_up(self, confirmation_code: str, username: str | None = None) -> None:
        """Confirm a sign-up with the code Cognito sent."""
        self._run(self._async.confirm_sign_up, confirmation_code, username)

    def admin_confirm_sign_up(self, username: str | None = None) -> None:
        """Confirm a sign-up without a code (needs AWS credentials)."""
        self._run(self._async.admin_confirm_sign_up, username)

    def resend_confirmation_code(self, username: str | None = None) -> dict[str, Any]:
        """Send the sign-up confirmation code again."""
        return self._run(self._async.resend_confirmation_code, username)

    def initiate_forgot_password(self) -> dict[str, Any]:
        """Send the user a code to reset the password."""
        return self._run(self._async.initiate_forgot_password)

    def confirm_forgot_password(self, confirmation_code: str, password: str) -> None:
        """Set a new password with the code from :meth:`initiate_forgot_password`."""
        self._run(self._async.confirm_forgot_password, confirmation_code, password)

    # ------------------------------------------------------------------ pycognito's face

    def authenticate(self, password: str, client_metadata: Mapping[str, str] | None = None) -> None:
        """Sign in with SRP; MFA and new-password steps raise pycognito's exceptions."""
        self._run(self._async.authenticate, password, client_metadata)

    def admin_authenticate(
        self, password: str, client_metadata: Mapping[str, str] | None = None
    ) -> None:
        """Sign in with AdminInitiateAuth (needs AWS credentials)."""
        self._run(self._async.admin_authenticate, password, client_metadata)

    def custom_authenticate(
        self,
        answer: CustomAnswer,
        *,
        password: str | None = None,
        client_metadata: Mapping[str, str] | None = None,
    ) -> None:
        """CUSTOM_AUTH: ``answer(challenge_parameters)`` answers each CUSTOM_CHALLENGE (it
        runs on the loop thread: keep it quick). With ``password``, SRP verifies it first."""
        self._run(
            self._async.custom_authenticate,
            answer,
            password=password,
            client_metadata=client_metadata,
        )

    def new_password_challenge(self, password: str, new_password: str) -> None:
        """Sign in with a temporary password and set the permanent one."""
        self._run(self._async.new_password_challenge, password, new_password)

    def respond_to_software_token_mfa_challenge(
        self, code: str, mfa_tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Answer SOFTWARE_TOKEN_MFA with a TOTP code."""
        self._run(self._async.respond_to_software_token_mfa_challenge, str(code), mfa_tokens)

    def respond_to_sms_mfa_challenge(
        self, code: str, mfa_tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Answer SMS_MFA with the code sent by SMS."""
        self._run(self._async.respond_to_sms_mfa_challenge, str(code), mfa_tokens)

    def respond_to_email_otp_challenge(
        self, code: str, mfa_tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Answer EMAIL_OTP with the code sent by email."""
        self._run(self._async.respond_to_email_otp_challenge, str(code), mfa_tokens)

    def select_mfa_type(self, mfa_type: str, mfa_tokens: Mapping[str, Any] | None = None) -> None:
        """Answer SELECT_MFA_TYPE (``"SMS_MFA"``, ``"SOFTWARE_TOKEN_MFA"`` or ``"EMAIL_OTP"``)."""
        self._run(self._async.select_mfa_type, mfa_type, mfa_tokens)

    def respond_to_new_password_challenge(
        self,
        new_password: str,
        challenge_tokens: Mapping[str, Any] | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        """Answer NEW_PASSWORD_REQUIRED, optionally setting required attributes."""
        self._run(
            self._async.respond_to_new_password_challenge,
            new_password,
            challenge_tokens,
            attributes,
        )

    # ------------------------------------------------------------------ the typed face

    @property
    def pending_sign_in_step(self) -> SignInStep | None:
        """The step :meth:`confirm_sign_in` would answer now, or None."""
        return self._async.pending_sign_in_step

    @property
    def pending_sign_in(self) -> PendingSignIn | None:
        """The record of the sign-in waiting on the user (see ``AsyncCognito``), or None."""
        return self._async.pending_sign_in

    @property
    def can_auto_sign_in(self) -> bool:
        """Whether :meth:`auto_sign_in` has a session to use."""
        return self._async.can_auto_sign_in

    def sign_in(
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
        ``remember_device=True`` confirms and remembers the new device once done."""
        return self._run(
            self._async.sign_in,
            username,
            password,
            auth_flow=auth_flow,
            preferred_first_factor=preferred_first_factor,
            client_metadata=client_metadata,
            custom_answer=custom_answer,
            totp_issuer=totp_issuer,
            remember_device=remember_device,
        )

    def confirm_sign_in(
        self,
        answer: str | Mapping[str, Any],
        *,
        attributes: Mapping[str, str] | None = None,
        confirmation_code: str | None = None,
        device_name: str | None = None,
    ) -> SignInStep:
        """Answer the pending step; returns the next one, :class:`~acognito.steps.Done`
        once signed in."""
        return self._run(
            self._async.confirm_sign_in,
            answer,
            attributes=attributes,
            confirmation_code=confirmation_code,
            device_name=device_name,
        )

    def auto_sign_in(
        self,
        *,
        client_metadata: Mapping[str, str] | None = None,
        totp_issuer: str | None = None,
    ) -> SignInStep:
        """Sign in the user just confirmed by :meth:`confirm_sign_up`, without the password."""
        return self._run(
            self._async.auto_sign_in, client_metadata=client_metadata, totp_issuer=totp_issuer
        )

    def resume_sign_in(
        self, pending: PendingSignIn, *, remember_device: bool = False
    ) -> SignInStep:
        """Continue a sign-in another session (or process) started; returns its step."""
        return self._async.resume_sign_in(pending, remember_device=remember_device)

    # ------------------------------------------------------------------ sign-out

    def logout(self, *, global_sign_out: bool = True) -> None:
        """Sign out everywhere (GlobalSignOut; with ``global_sign_out=False`` only this
        session's refresh token is revoked) and drop the tokens. Nobody signed in: a
        no-op."""
        self._run(self._async.logout, global_sign_out=global_sign_out)

    def revoke_token(self) -> None:
        """Revoke the refresh token (RevokeToken) and the tokens issued from it."""
        self._run(self._async.revoke_token)
