"""The account room: what the signed-in user does with their own access token.

Profile and attributes, attribute verification, passwords, TOTP MFA set-up,
remembered devices and passkeys. Every call refreshes the access token first when it is about to
expire (``refresh_margin``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .._idp import IdpClient
from ..devices import (
    Device,
    DeviceCredentials,
    confirm_device,
    forget_device,
    get_device,
    iter_devices,
    update_device_status,
)
from ..errors import CognitoError, ConfigurationError
from ..models import User, dict_to_attributes
from ..passkeys import Authenticator, WebAuthnCredential, call_authenticator
from ._base import CallsCognito, MakesUsers, need

__all__ = ["AccountCommands", "AccountHost"]


class AccountHost(CallsCognito, MakesUsers, Protocol):
    """What the account room uses of the session: who the user is, the remembered
    device, a fresh access token, and the client for the device calls."""

    username: str | None

    async def _fresh_access_token(self) -> None: ...

    def _require_access_token(self) -> str: ...

    def _forget_tokens(self) -> None: ...

    async def _signed_out(self, *, revoked: bool) -> None: ...

    async def _idp_client(self) -> IdpClient: ...


class AccountCommands(AccountHost):
    """The signed-in user's own account: profile, passwords, MFA, devices."""

    device: DeviceCredentials | None
    new_device_metadata: dict[str, str] | None

    async def get_user(self, attr_map: Mapping[str, str] | None = None) -> User:
        """The signed-in user (GetUser with the access token)."""
        await self._fresh_access_token()
        response = await self._call("get_user", AccessToken=self._require_access_token())
        metadata = {
            "username": response.get("Username"),
            "mfa_options": response.get("MFAOptions"),
            "preferred_mfa_setting": response.get("PreferredMfaSetting"),
            "user_mfa_setting_list": response.get("UserMFASettingList"),
        }
        return self.get_user_obj(
            username=self.username or response.get("Username"),
            attribute_list=response.get("UserAttributes"),
            metadata=metadata,
            attr_map=attr_map,
        )

    async def update_profile(
        self, attrs: Mapping[str, Any], attr_map: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Update the signed-in user's attributes; returns ``CodeDeliveryDetailsList``
        when a changed email or phone number needs verifying."""
        await self._fresh_access_token()
        response = await self._call(
            "update_user_attributes",
            UserAttributes=dict_to_attributes(attrs, attr_map),
            AccessToken=self._require_access_token(),
        )
        return response

    async def send_verification(self, attribute: str = "email") -> dict[str, Any]:
        """Send a code to verify ``attribute`` (email or phone_number)."""
        await self._fresh_access_token()
        response = await self._call(
            "get_user_attribute_verification_code",
            AccessToken=self._require_access_token(),
            AttributeName=need(attribute, "attribute"),
        )
        return dict(response.get("CodeDeliveryDetails", {}))

    async def validate_verification(self, confirmation_code: str, attribute: str = "email") -> None:
        """Verify ``attribute`` with the code from :meth:`send_verification`."""
        await self._fresh_access_token()
        await self._call(
            "verify_user_attribute",
            AccessToken=self._require_access_token(),
            AttributeName=need(attribute, "attribute"),
            Code=need(confirmation_code, "confirmation_code"),
        )

    async def delete_user(self) -> None:
        """Delete the signed-in user (DeleteUser) and drop the tokens."""
        await self._call("delete_user", AccessToken=self._require_access_token())
        await self._signed_out(revoked=True)

    async def change_password(self, previous_password: str, proposed_password: str) -> None:
        """Change the signed-in user's password (refreshing the access token if needed)."""
        need(previous_password, "previous_password")
        need(proposed_password, "proposed_password")
        await self._fresh_access_token()
        await self._call(
            "change_password",
            PreviousPassword=previous_password,
            ProposedPassword=proposed_password,
            AccessToken=self._require_access_token(),
        )

    async def associate_software_token(self) -> str:
        """Start TOTP set-up; returns the secret to show the user (as text or QR code)."""
        await self._fresh_access_token()
        response = await self._call(
            "associate_software_token", AccessToken=self._require_access_token()
        )
        return str(response["SecretCode"])

    async def verify_software_token(self, code: str, device_name: str = "") -> bool:
        """Finish TOTP set-up with a code from the authenticator app."""
        await self._fresh_access_token()
        response = await self._call(
            "verify_software_token",
            AccessToken=self._require_access_token(),
            UserCode=need(code, "code"),
            FriendlyDeviceName=device_name,
        )
        return response.get("Status") == "SUCCESS"

    async def set_user_mfa_preference(
        self,
        sms_mfa: bool,
        software_token_mfa: bool,
        preferred: str | None = None,
        *,
        email_mfa: bool | None = None,
    ) -> None:
        """Enable SMS, TOTP and/or email MFA and say which one Cognito should ask for.

        ``preferred`` is ``"SMS"``, ``"SOFTWARE_TOKEN"`` or ``"EMAIL"``. ``email_mfa``
        (codes by email; the pool needs an EmailMfaConfiguration) is left as it is when
        ``None``, so pycognito's two-kind calls keep their meaning.
        """
        if preferred == "EMAIL" and not email_mfa:
            raise ConfigurationError("preferred='EMAIL' needs email_mfa=True")
        enabled = sms_mfa or software_token_mfa or bool(email_mfa)
        if enabled and preferred not in ("SMS", "SOFTWARE_TOKEN", "EMAIL"):
            raise ConfigurationError("preferred must be 'SMS', 'SOFTWARE_TOKEN' or 'EMAIL'")
        if not enabled and preferred is not None:
            raise ConfigurationError("preferred must be None when every MFA kind is off")
        params: dict[str, Any] = {
            "SMSMfaSettings": {"Enabled": bool(sms_mfa), "PreferredMfa": preferred == "SMS"},
            "SoftwareTokenMfaSettings": {
                "Enabled": bool(software_token_mfa),
                "PreferredMfa": preferred == "SOFTWARE_TOKEN",
            },
        }
        if email_mfa is not None:
            params["EmailMfaSettings"] = {
                "Enabled": bool(email_mfa),
                "PreferredMfa": preferred == "EMAIL",
            }
        await self._fresh_access_token()
        await self._call(
            "set_user_mfa_preference", **params, AccessToken=self._require_access_token()
        )

    async def confirm_device(
        self, device_name: str | None = None, *, remember: bool = True
    ) -> DeviceCredentials:
        """Remember the device the last sign-in reported (``new_device_metadata``).

        Registers a fresh device verifier with Cognito, marks the device remembered
        (when the pool leaves that to the user and ``remember`` is true) and returns
        the credentials; they are also set on the session, so later sign-ins and
        refreshes use them. Persist them to sign in as this device next time.
        """
        if not self.new_device_metadata:
            raise ConfigurationError("the last sign-in reported no new device to confirm")
        response, credentials = await confirm_device(
            await self._idp_client(),
            access_token=self._require_access_token(),
            new_device_metadata=self.new_device_metadata,
            device_name=device_name,
        )
        if response.get("UserConfirmationNecessary") and remember:
            await update_device_status(
                await self._idp_client(),
                access_token=self._require_access_token(),
                device_key=credentials.device_key,
                remembered=True,
            )
        self.device = credentials
        self.new_device_metadata = None
        return credentials

    async def update_device_status(
        self, is_remembered: bool, device_key: str | None = None
    ) -> None:
        """Mark a device (this session's by default) remembered or not."""
        key = device_key or (self.device.device_key if self.device else None)
        await update_device_status(
            await self._idp_client(),
            access_token=self._require_access_token(),
            device_key=need(key, "device_key"),
            remembered=is_remembered,
        )

    async def forget_device(self, device_key: str | None = None) -> None:
        """Forget a device (this session's by default): it no longer signs in."""
        key = device_key or (self.device.device_key if self.device else None)
        await forget_device(
            await self._idp_client(),
            access_token=self._require_access_token(),
            device_key=need(key, "device_key"),
        )
        if self.device and self.device.device_key == key:
            self.device = None

    async def get_device(self, device_key: str | None = None) -> Device:
        """A device Cognito keeps for the user (GetDevice; this session's by default)."""
        key = device_key or (self.device.device_key if self.device else None)
        return await get_device(
            await self._idp_client(),
            access_token=self._require_access_token(),
            device_key=need(key, "device_key"),
        )

    async def list_devices(self) -> list[Device]:
        """Every device Cognito keeps for the signed-in user."""
        token = self._require_access_token()
        return [d async for d in iter_devices(await self._idp_client(), access_token=token)]

    # ------------------------------------------------------------ passkeys

    async def start_webauthn_registration(self) -> dict[str, Any]:
        """Ask Cognito for passkey creation options (PublicKeyCredentialCreationOptions)."""
        await self._fresh_access_token()
        response = await self._call(
            "start_web_authn_registration", AccessToken=self._require_access_token()
        )
        options = response.get("CredentialCreationOptions")
        if not isinstance(options, dict):
            raise CognitoError("StartWebAuthnRegistration returned no creation options")
        return options

    async def complete_webauthn_registration(self, credential: Mapping[str, Any]) -> None:
        """Hand Cognito the authenticator's registration response; the passkey is kept."""
        if not isinstance(credential, Mapping) or not credential:
            raise ConfigurationError("credential (the registration response) is required")
        await self._fresh_access_token()
        await self._call(
            "complete_web_authn_registration",
            AccessToken=self._require_access_token(),
            Credential=dict(credential),
        )

    async def register_passkey(self, authenticator: Authenticator) -> None:
        """Register a passkey: creation options, ``authenticator.create``, completion.

        The authenticator runs in a worker thread (a real key waits for a touch); on
        cancellation the thread is let go and the authenticator's ``cancel()`` is called.
        """
        options = await self.start_webauthn_registration()
        credential = await call_authenticator(authenticator, "create", options)
        await self.complete_webauthn_registration(credential)

    async def list_webauthn_credentials(self) -> list[WebAuthnCredential]:
        """Every passkey Cognito keeps for the signed-in user (all pages)."""
        found: list[WebAuthnCredential] = []
        token: str | None = None
        while True:
            await self._fresh_access_token()
            params: dict[str, Any] = {"AccessToken": self._require_access_token()}
            if token:
                params["NextToken"] = token
            response = await self._call("list_web_authn_credentials", **params)
            found += [
                WebAuthnCredential.from_response(item) for item in response.get("Credentials") or []
            ]
            token = response.get("NextToken")
            if not token:
                return found

    async def delete_webauthn_credential(self, credential_id: str) -> None:
        """Delete one of the user's passkeys: it no longer signs in."""
        await self._fresh_access_token()
        await self._call(
            "delete_web_authn_credential",
            AccessToken=self._require_access_token(),
            CredentialId=need(credential_id, "credential_id"),
        )
