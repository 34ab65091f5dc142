"""The sign-up room: sign-up and its confirmation, and password reset by code.

What a user who is not signed in does with the app client, besides signing in.
ConfirmSignUp's session (for ``auto_sign_in``) goes to the sign-in conversation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ..flows import Conversation
from ..models import dict_to_attributes
from ._base import CallsCognito, MakesObjects, need

__all__ = ["SignUpCommands", "SignUpHost"]


class SignUpHost(CallsCognito, MakesObjects, Protocol):
    """What the sign-up room uses of the session: the user's name and attributes, the
    app client and its secret hash, and the sign-in conversation."""

    _conversation: Conversation

    @property
    def user_pool_id(self) -> str: ...

    def _app_client(self, operation: str) -> str: ...

    def _hash_for(self, username: str) -> dict[str, str]: ...

    def _require_username(self, username: str | None = None) -> str: ...


class SignUpCommands(SignUpHost):
    """Sign a user up, confirm it, and reset a forgotten password."""

    base_attributes: dict[str, Any] | None
    custom_attributes: dict[str, Any] | None

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
        self._conversation.signed_up(
            name, await self._send_confirm_sign_up(name, confirmation_code)
        )

    async def _send_confirm_sign_up(self, username: str, code: str) -> str | None:
        response = await self._call(
            "confirm_sign_up",
            ClientId=self._app_client("confirm_sign_up"),
            Username=username,
            ConfirmationCode=code,
            **self._hash_for(username),
        )
        session = response.get("Session")
        return session if isinstance(session, str) and session else None

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

    async def initiate_forgot_password(self) -> dict[str, Any]:
        """Send the user a code to reset the password; returns ``CodeDeliveryDetails``."""
        name = self._require_username()
        response = await self._call(
            "forgot_password",
            ClientId=self._app_client("initiate_forgot_password"),
            Username=name,
            **self._hash_for(name),
        )
        return dict(response.get("CodeDeliveryDetails", {}))

    async def confirm_forgot_password(self, confirmation_code: str, password: str) -> None:
        """Set a new password with the code from :meth:`initiate_forgot_password`."""
        await self._send_confirm_forgot_password(
            self._require_username(), confirmation_code, password
        )

    async def _send_confirm_forgot_password(self, username: str, code: str, password: str) -> None:
        need(code, "confirmation_code")
        need(password, "password")
        await self._call(
            "confirm_forgot_password",
            ClientId=self._app_client("confirm_forgot_password"),
            Username=username,
            ConfirmationCode=code,
            Password=password,
            **self._hash_for(username),
        )
