"""Passkeys: what acognito asks of a WebAuthn authenticator, and the credentials Cognito keeps.

An :class:`Authenticator` answers the options Cognito sends (JSON, base64url fields)
with the authenticator's response (JSON too): ``create`` registers, ``get`` signs in.
:class:`acognito.testing.SoftwareAuthenticator` is one for tests; a browser or a FIDO2
library (``fido2``) wraps a real key the same way.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["Authenticator", "WebAuthnCredential"]


@runtime_checkable
class Authenticator(Protocol):
    """A passkey holder: PublicKeyCredentialCreation/RequestOptions in, credential JSON out.

    Both calls may block (a real key waits for a touch): acognito runs them in a thread.
    """

    def create(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Make a credential for these creation options; the registration response."""
        ...

    def get(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Sign these request options' challenge; the authentication response."""
        ...


@dataclass(frozen=True)
class WebAuthnCredential:
    """One passkey Cognito keeps for the user (ListWebAuthnCredentials), without its key."""

    credential_id: str
    relying_party_id: str
    friendly_name: str | None = None
    authenticator_attachment: str | None = None
    transports: tuple[str, ...] = ()
    created_at: datetime.datetime | None = None

    @classmethod
    def from_response(cls, item: Mapping[str, Any]) -> WebAuthnCredential:
        """Read one entry of ListWebAuthnCredentials' ``Credentials``."""
        created = item.get("CreatedAt")
        return cls(
            credential_id=str(item["CredentialId"]),
            relying_party_id=str(item.get("RelyingPartyId") or ""),
            friendly_name=item.get("FriendlyCredentialName"),
            authenticator_attachment=item.get("AuthenticatorAttachment"),
            transports=tuple(str(t) for t in item.get("AuthenticatorTransports") or ()),
            created_at=created if isinstance(created, datetime.datetime) else None,
        )
