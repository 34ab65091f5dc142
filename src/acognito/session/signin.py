"""The sign-in room: sign-up, sign-in (SRP, password, custom), challenges, sign-out.

Each method drives :class:`~acognito.flows.SignIn` and hands the result to
:meth:`SessionState._accept`; challenges only the user can answer raise the matching
:class:`~acognito.errors.ChallengeRequired` and leave ``mfa_tokens`` to continue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .._steps_session import _SIGN_UP_SESSIONS
from ..errors import ChallengeRequired, ConfigurationError, ForceChangePasswordException
from ..flows import CustomAnswer
from ..models import dict_to_attributes
from .state import SessionState, need

__all__ = ["AuthFlow", "SignInCommands"]

AuthFlow = Literal["USER_SRP_AUTH", "USER_PASSWORD_AUTH", "USER_AUTH"]


class SignInCommands(SessionState):
    """Sign-up, sign-in and sign-out for the session's user."""

    def set_base_attributes(self, **kwargs: Any) -> None:
        """Standard attributes for :meth:`register` (``email=...``, ``given_name=...``)."""
        self.base_attributes = kwargs

    def add_custom_attributes(self, **kwargs: Any) -> None:
        """Custom attributes for :meth:`register`; names get the ``custom:`` prefix."""
        self.custom_attributes = {f"custom:{key}": value for key, value in kwargs.items()}

    async def register(
        self,
        username: str,
        password: str,
        attr_map: Mapping[str, str] | None = None,
        client_metadata: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Sign a user up (SignUp) with the base and custom attributes set before.

        Returns Cognito's answer (``UserConfirmed``, ``UserSub``, ``CodeDeliveryDetails``)
        and sets ``username`` on the session.
        """
        need(username, "username")
        need(password, "password")
        attributes = dict(self.base_attributes or {})
        attributes.update(self.custom_attributes or {})
        params: dict[str, Any] = {
            "ClientId": self._app_client("register"),
            "Username": username,
            "Password": password,
            "UserAttributes": dict_to_attributes(attributes, attr_map),
            **self._hash_for(username),
        }
        if client_metadata is not None:
            params["ClientMetadata"] = dict(client_metadata)
        response = await self._call("sign_up", **params)
        # As pycognito: the session's username and the registered attributes are set.
        self._set_attributes(response, {**attributes, "username": username})
        return response

    async def confirm_sign_up(self, confirmation_code: str, username: str | None = None) -> None:
        """Confirm a sign-up with the code Cognito sent.

        Returns ``None``, as pycognito. When Cognito answers with a session (app clients
        that allow USER_AUTH), it is kept for :meth:`auto_sign_in`, which signs the user
        in without the password.
        """
        name = self._require_username(username)
        need(confirmation_code, "confirmation_code")
        response = await self._call(
            "confirm_sign_up",
            ClientId=self._app_client("confirm_sign_up"),
            Username=name,
            ConfirmationCode=confirmation_code,
            **self._hash_for(name),
        )
        session = response.get("Session")
        if isinstance(session, str) and session:
            _SIGN_UP_SESSIONS[self] = (name, session)
        else:
            _SIGN_UP_SESSIONS.pop(self, None)

    async def admin_confirm_sign_up(self, username: str | None = None) -> None:
        """Confirm a sign-up without a code (needs AWS credentials)."""
        await self._call(
            "admin_confirm_sign_up",
            UserPoolId=self.user_pool_id,
            Username=self._require_username(username),
        )

    async def resend_confirmation_code(self, username: str | None = None) -> dict[str, Any]:
        """Send the sign-up confirmation code again; returns ``CodeDeliveryDetails``."""
        name = self._require_username(username)
        response = await self._call(
            "resend_confirmation_code",
            ClientId=self._app_client("resend_confirmation_code"),
            Username=name,
            **self._hash_for(name),
        )
        return dict(response.get("CodeDeliveryDetails", {}))

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
        flow = await self._sign_in(client_metadata=client_metadata, operation="authenticate")
        try:
            if auth_flow == "USER_SRP_AUTH":
                response = await flow.start_srp(username, password)
            elif auth_flow == "USER_PASSWORD_AUTH":
                response = await flow.start_password(username, password)
            elif auth_flow == "USER_AUTH":
                response = await flow.start_user_auth(username, password)
            else:
                raise ConfigurationError(f"unsupported auth_flow {auth_flow!r}")
        except ChallengeRequired as challenge:
            self.mfa_tokens = challenge.get_tokens()
            raise
        await self._accept(response)

    async def admin_authenticate(
        self, password: str, client_metadata: Mapping[str, str] | None = None
    ) -> None:
        """Sign in with AdminInitiateAuth (ADMIN_USER_PASSWORD_AUTH; needs AWS credentials)."""
        username = self._require_username()
        need(password, "password")
        flow = await self._sign_in(
            admin=True, client_metadata=client_metadata, operation="admin_authenticate"
        )
        try:
            response = await flow.start_password(username, password)
        except ChallengeRequired as challenge:
            self.mfa_tokens = challenge.get_tokens()
            raise
        await self._accept(response)

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
        flow = await self._sign_in(
            client_metadata=client_metadata,
            custom_answer=answer,
            operation="custom_authenticate",
        )
        try:
            response = await flow.start_custom(username, password)
        except ChallengeRequired as challenge:
            self.mfa_tokens = challenge.get_tokens()
            raise
        await self._accept(response)

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
        client_metadata: Mapping[str, str] | None = None,
    ) -> None:
        pending = challenge_tokens or self.mfa_tokens
        if not pending:
            raise ConfigurationError("no sign-in challenge is pending: authenticate first")
        name = pending.get("ChallengeName")
        if name not in expected:
            raise ConfigurationError(
                f"the pending challenge is {name!r}, not {' or '.join(expected)}"
            )
        username = (
            pending.get("Username")
            or (pending.get("ChallengeParameters") or {}).get("USERNAME")
            or (pending.get("ChallengeParameters") or {}).get("USER_ID_FOR_SRP")
            or self._require_username()
        )
        flow = await self._sign_in(
            admin=bool(pending.get("Admin")),
            client_metadata=client_metadata,
            operation=f"answering {name}",
        )
        try:
            response = await flow.continue_with(
                str(name), pending.get("Session"), responses, username=str(username)
            )
        except ChallengeRequired as challenge:
            self.mfa_tokens = challenge.get_tokens()
            raise
        await self._accept(response)

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

    async def logout(self, *, global_sign_out: bool = True) -> None:
        """Sign the user out and drop the tokens.

        By default, as pycognito: GlobalSignOut, which ends every session of the user
        (every refresh token, this one included). With ``global_sign_out=False`` only
        this session's refresh token is revoked (RevokeToken, see :meth:`revoke_token`);
        the user's other devices stay signed in.
        """
        if not global_sign_out:
            await self.revoke_token()
            return
        await self._call("global_sign_out", AccessToken=self._require_access_token())
        self._forget_tokens()

    async def revoke_token(self) -> None:
        """Revoke the refresh token (RevokeToken) and the tokens issued from it, then drop them."""
        refresh = self.refresh_token
        if not refresh:
            raise ConfigurationError("no refresh token to revoke")
        params: dict[str, Any] = {"Token": refresh, "ClientId": self._app_client("revoke_token")}
        if self.client_secret is not None:
            params["ClientSecret"] = self.client_secret
        await self._call("revoke_token", **params)
        self._forget_tokens()
