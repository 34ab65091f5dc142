"""A software passkey for tests: answers WebAuthn creation and request options in Python.

:class:`SoftwareAuthenticator` plays the browser and the authenticator together, so a
test can register a passkey and sign in with it without a security key: attestation
"none", an EC P-256 key (ES256) made with ``cryptography``, the JSON shapes the
WebAuthn Level 3 ``toJSON()`` methods give (base64url fields). Signing side only: the
local Cognito checks what it produces with the ``webauthn`` package.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["SoftwareAuthenticator", "StoredPasskey"]

_UP, _UV, _AT = 0x01, 0x04, 0x40
#: An all-zero AAGUID: a software authenticator that makes no claim about its model.
_AAGUID = bytes(16)


def b64url(data: bytes) -> str:
    """Base64url without padding, as WebAuthn's JSON forms carry binary fields."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Decode base64url with or without padding (binascii.Error, a ValueError, if not)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _cbor(value: Any) -> bytes:
    """Encode the few CBOR types a COSE key and an attestation object need."""

    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        for extra, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
            if n < 1 << (8 * struct.calcsize(fmt)):
                return bytes([major << 5 | extra]) + struct.pack(fmt, n)
        raise ValueError("integer too large for CBOR")

    if isinstance(value, bool):
        raise TypeError("booleans are not needed here")
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode()
        return head(3, len(raw)) + raw
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(_cbor(k) + _cbor(v) for k, v in value.items())
    raise TypeError(f"no CBOR encoding for {type(value).__name__}")


@dataclass
class StoredPasskey:
    """One credential the authenticator holds: its id, key, relying party and counter."""

    credential_id: bytes
    rp_id: str
    user_handle: bytes
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    sign_count: int = 0


@dataclass
class SoftwareAuthenticator:
    """A passkey in memory: ``create`` registers, ``get`` signs in (both JSON dicts).

    ``origin`` goes into clientDataJSON (the local Cognito expects ``https://localhost``);
    set ``tamper`` to make every assertion carry a broken signature (negative tests).
    """

    origin: str = "https://localhost"
    tamper: bool = False
    user_verified: bool = True
    credentials: list[StoredPasskey] = field(default_factory=list, repr=False)

    def _client_data(self, kind: str, challenge: Any) -> bytes:
        if not isinstance(challenge, str) or not challenge:
            raise ValueError("the options carry no challenge")
        unb64url(challenge)  # must be base64url
        data = {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        return json.dumps(data, separators=(",", ":")).encode()

    def _flags(self, extra: int = 0) -> int:
        return _UP | (_UV if self.user_verified else 0) | extra

    def create(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Answer PublicKeyCredentialCreationOptions (JSON) with a registration response."""
        rp = options.get("rp") or {}
        user = options.get("user") or {}
        rp_id = str(rp.get("id") or "")
        if not rp_id:
            raise ValueError("the creation options name no relying party id")
        algs = [p.get("alg") for p in options.get("pubKeyCredParams") or []]
        if algs and -7 not in algs:
            raise ValueError("the relying party does not accept ES256")
        excluded = {unb64url(str(c.get("id", ""))) for c in options.get("excludeCredentials") or []}
        if any(c.credential_id in excluded and c.rp_id == rp_id for c in self.credentials):
            raise ValueError("this authenticator already holds a credential for the user")
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = {
            1: 2,
            3: -7,
            -1: 1,
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
        credential_id = os.urandom(32)
        passkey = StoredPasskey(credential_id, rp_id, unb64url(str(user.get("id", ""))), key)
        attested = _AAGUID + struct.pack(">H", len(credential_id)) + credential_id + _cbor(cose)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(_AT)])
            + struct.pack(">I", passkey.sign_count)
            + attested
        )
        attestation = _cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options.get("challenge"))
        self.credentials.append(passkey)
        return {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }

    def get(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Answer PublicKeyCredentialRequestOptions (JSON) with an ES256-signed assertion."""
        rp_id = str(options.get("rpId") or "")
        allowed = {unb64url(str(c.get("id", ""))) for c in options.get("allowCredentials") or []}
        candidates = [
            c
            for c in self.credentials
            if (not rp_id or c.rp_id == rp_id) and (not allowed or c.credential_id in allowed)
        ]
        if not candidates:
            raise LookupError("this authenticator holds no credential the options allow")
        passkey = candidates[-1]
        passkey.sign_count += 1
        client_data = self._client_data("webauthn.get", options.get("challenge"))
        auth_data = (
            hashlib.sha256(passkey.rp_id.encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", passkey.sign_count)
        )
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = passkey.private_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        if self.tamper:
            signature = tampered(signature)
        return {
            "id": b64url(passkey.credential_id),
            "rawId": b64url(passkey.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(passkey.user_handle),
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }


def tampered(signature: bytes) -> bytes:
    """The DER signature with one bit of its last byte flipped: well-formed, wrong."""
    return signature[:-1] + bytes([signature[-1] ^ 0x01])
