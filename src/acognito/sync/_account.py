"""Blocking account calls of :class:`acognito.sync.Cognito`: what the signed-in user
does with their own access token (profile, verification, passwords, MFA, devices,
passkeys), each the :class:`~acognito.AsyncCognito` method of the same name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..devices import Device, DeviceCredentials
from ..passkeys import Authenticator, WebAuthnCredential
from ._host import MakesSyncObjects
from .models import UserObj

__all__ = ["SyncAccount"]


class SyncAccount(MakesSyncObjects):
    """The signed-in user's own account, blocking."""

    def get_user(self, attr_map: Mapping[str, str] | None = None) -> UserObj:
        """The signed-in user (GetUser with the access token)."""
        return self._user(self._run(self._async.get_user), attr_map)

    def update_profile(
        self, attrs: Mapping[str, Any], attr_map: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Update the signed-in user's attributes (UpdateUserAttributes)."""
        return self._run(self._async.update_profile, attrs, attr_map)

    def send_verification(self, attribute: str = "email") -> dict[str, Any]:
        """Send a code to verify ``attribute`` (email or phone_number)."""
        return self._run(self._async.send_verification, attribute)

    def validate_verification(self, confirmation_code: str, attribute: str = "email") -> None:
        """Verify ``attribute`` with the code from :meth:`send_verification`."""
        self._run(self._async.validate_verification, confirmation_code, attribute)

    def change_password(self, previous_password: str, proposed_password: str) -> None:
        """Change the signed-in user's password."""
        self._run(self._async.change_password, previous_password, proposed_password)

    def delete_user(self) -> None:
        """Delete the signed-in user (DeleteUser) and drop the tokens."""
        self._run(self._async.delete_user)

    # ------------------------------------------------------------------ MFA

    def associate_software_token(self) -> str:
        """Start TOTP set-up; returns the secret for the authenticator app."""
        return self._run(self._async.associate_software_token)

    def verify_software_token(self, code: str, device_name: str = "") -> bool:
        """Finish TOTP set-up with a code from the app; True on success."""
        return self._run(self._async.verify_software_token, code, device_name)

    def set_user_mfa_preference(
        self,
        sms_mfa: bool,
        software_token_mfa: bool,
        preferred: str | None = None,
        *,
        email_mfa: bool | None = None,
    ) -> None:
        """Enable or disable SMS, TOTP (and email) MFA and pick the preferred one."""
        self._run(
            self._async.set_user_mfa_preference,
            sms_mfa,
            software_token_mfa,
            preferred,
            email_mfa=email_mfa,
        )

    # ------------------------------------------------------------------ devices

    def confirm_device(
        self, device_name: str | None = None, *, remember: bool = True
    ) -> DeviceCredentials:
        """Remember the device the last sign-in reported; returns its credentials
        (also set on the session). Persist them to sign in as this device next time."""
        return self._run(self._async.confirm_device, device_name, remember=remember)

    def update_device_status(self, is_remembered: bool, device_key: str | None = None) -> None:
        """Mark a device (this session's by default) remembered or not."""
        self._run(self._async.update_device_status, is_remembered, device_key)

    def forget_device(self, device_key: str | None = None) -> None:
        """Forget a device (this session's by default): it no longer signs in."""
        self._run(self._async.forget_device, device_key)

    def get_device(self, device_key: str | None = None) -> Device:
        """A device Cognito keeps for the user (this session's by default)."""
        return self._run(self._async.get_device, device_key)

    def list_devices(self) -> list[Device]:
        """Every device Cognito keeps for the signed-in user."""
        return self._run(self._async.list_devices)

    # ------------------------------------------------------------------ passkeys

    def start_webauthn_registration(self) -> dict[str, Any]:
        """Ask Cognito for passkey creation options (PublicKeyCredentialCreationOptions)."""
        return self._run(self._async.start_webauthn_registration)

    def complete_webauthn_registration(self, credential: Mapping[str, Any]) -> None:
        """Register the authenticator's answer to :meth:`start_webauthn_registration`."""
        self._run(self._async.complete_webauthn_registration, credential)

    def register_passkey(self, authenticator: Authenticator) -> None:
        """Create a passkey on ``authenticator`` and register it for the user."""
        self._run(self._async.register_passkey, authenticator)

    def list_webauthn_credentials(self) -> list[WebAuthnCredential]:
        """The user's registered passkeys."""
        return self._run(self._async.list_webauthn_credentials)

    def delete_webauthn_credential(self, credential_id: str) -> None:
        """Delete one of the user's passkeys."""
        self._run(self._async.delete_webauthn_credential, credential_id)
