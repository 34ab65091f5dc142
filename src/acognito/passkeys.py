"""Passkeys: what acognito asks of a WebAuthn authenticator, and the credentials Cognito keeps.

An :class:`Authenticator` answers the options Cognito sends (JSON, base64url fields)
with the authenticator's response (JSON too): ``create`` registers, ``get`` signs in.
:class:`acognito.testing.SoftwareAuthenticator` is one for tests;
:class:`Fido2Authenticator` (the ``fido2`` extra: ``pip install 'acognito[fido2]'``) is
one for a real security key, USB or NFC, on a desktop.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ._fido2 import Fido2Authenticator, find_security_keys

__all__ = [
    "Authenticator",
    "Fido2Authenticator",
    "WebAuthnCredential",
    "call_authenticator",
    "find_security_keys",
]

_FIDO2_NAMES = ("Fido2Authenticator", "find_security_keys")


def __getattr__(name: str) -> Any:
    # The fido2 names import python-fido2: only when asked for, with a hint when absent.
    if name in _FIDO2_NAMES:
        try:
            from . import _fido2
        except ModuleNotFoundError as exc:
            if exc.name != "fido2" and not str(exc.name or "").startswith("fido2."):
                raise
            raise ImportError(
                f"acognito.passkeys.{name} needs python-fido2: pip install 'acognito[fido2]'",
                name="fido2",
            ) from None
        return getattr(_fido2, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


async def call_authenticator(
    authenticator: Authenticator, operation: str, options: Mapping[str, Any]
) -> Mapping[str, Any]:
    """Run ``authenticator.create`` or ``.get`` in a worker thread, cancellably.

    A security key can wait a minute for a touch: when the caller is cancelled the thread
    is abandoned and the authenticator's ``cancel()`` (if it has one) stops the wait.
    """
    import anyio
    import anyio.to_thread

    call = authenticator.create if operation == "create" else authenticator.get
    try:
        return await anyio.to_thread.run_sync(call, options, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        cancel = getattr(authenticator, "cancel", None)
        if callable(cancel):
            cancel()
        raise


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
