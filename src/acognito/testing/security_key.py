"""A FIDO2 security key in software, for tests of the ``fido2`` path without hardware.

:class:`VirtualSecurityKey` is a python-fido2 ``CtapDevice``: it answers CTAP 2.1
commands (getInfo, makeCredential, getAssertion, clientPIN with PIN/UV protocol 2,
selection) encoded in CBOR, the way a USB key answers them behind the HID framing. So
:class:`acognito.passkeys.Fido2Authenticator` drives it through fido2's real client
(option parsing, client data, PIN token exchange, user-presence keep-alives, the JSON
of the response), and only the HID transport is left out.

Keys are ES256 with "packed" self attestation, discoverable, kept in memory or (with
``path``) in a JSON file (mode 0600) so separate processes share one key, as a command
line test needs. That file holds private keys in the clear: it is a test device.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import struct
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fido2 import cbor
from fido2.ctap import STATUS, CtapDevice, CtapError
from fido2.hid import CAPABILITY, CTAPHID

__all__ = ["VirtualSecurityKey"]

_ERR = CtapError.ERR
_UP, _UV, _AT = 0x01, 0x04, 0x40
_ES256 = -7
_PIN_RETRIES = 8
#: AAGUID of this virtual model (random, fixed): real keys name their model this way.
_AAGUID = bytes.fromhex("6163676e69746f2d7669727475616c31")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Refused(Exception):
    """A CTAP status other than success, raised inside a command and returned as a byte."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class _Credential:
    credential_id: bytes
    rp_id: str
    user_id: bytes
    user_name: str
    key: ec.EllipticCurvePrivateKey = field(repr=False)
    sign_count: int = 0

    def to_json(self) -> dict[str, Any]:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return {
            "id": _b64(self.credential_id),
            "rp_id": self.rp_id,
            "user_id": _b64(self.user_id),
            "user_name": self.user_name,
            "key": pem.decode("ascii"),
            "sign_count": self.sign_count,
        }

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> _Credential:
        key = serialization.load_pem_private_key(str(item["key"]).encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TypeError("a virtual security key holds only EC keys")
        return cls(
            _unb64(str(item["id"])),
            str(item["rp_id"]),
            _unb64(str(item["user_id"])),
            str(item.get("user_name") or ""),
            key,
            int(item.get("sign_count") or 0),
        )


def _cose_p256(key: ec.EllipticCurvePublicKey, alg: int) -> dict[int, Any]:
    numbers = key.public_numbers()
    return {
        1: 2,
        3: alg,
        -1: 1,
        -2: numbers.x.to_bytes(32, "big"),
        -3: numbers.y.to_bytes(32, "big"),
    }


class VirtualSecurityKey(CtapDevice):
    """A CTAP 2.1 authenticator in software (a python-fido2 ``CtapDevice``).

    ``pin`` sets a client PIN (the client must then prove it); without one the key
    verifies the user itself (``uv``, like a fingerprint key), or with ``uv=False`` only
    checks presence. ``path`` keeps the credentials in a JSON file across processes.
    ``tamper`` breaks every assertion's signature and ``deny`` refuses every touch
    (negative tests); ``touch_delay`` is how many seconds the user takes to touch the key
    (the client may cancel meanwhile). ``touches`` counts the user-presence checks.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        pin: str | None = None,
        uv: bool = True,
        tamper: bool = False,
        deny: bool = False,
        touch_delay: float | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.tamper = tamper
        self.deny = deny
        self.touches = 0
        self._lock = threading.Lock()
        self._credentials: list[_Credential] = []
        self._pin_hash: bytes | None = None
        self._pin_retries = _PIN_RETRIES
        self._agreement = ec.generate_private_key(ec.SECP256R1())
        self._token = secrets.token_bytes(32)
        self.touch_delay = 0.0
        self._load()
        if touch_delay is not None:
            self.touch_delay = touch_delay
            self._save()
        if pin is not None:
            self._pin_hash = hashlib.sha256(pin.encode()).digest()[:16]
            self._save()
        self.builtin_uv = uv and self._pin_hash is None

    def __repr__(self) -> str:
        where = str(self.path) if self.path else "memory"
        return f"VirtualSecurityKey({where!r}, credentials={len(self._credentials)})"

    # ------------------------------------------------------------------ CtapDevice

    @property
    def capabilities(self) -> int:
        """CBOR (CTAP2) and no U2F messages, like a FIDO2-only key."""
        return int(CAPABILITY.CBOR | CAPABILITY.NMSG)

    @classmethod
    def list_devices(cls) -> Iterator[VirtualSecurityKey]:
        """None are plugged in: a virtual key exists only where a test makes one."""
        return iter(())

    def call(
        self,
        cmd: int,
        data: bytes = b"",
        event: threading.Event | None = None,
        on_keepalive: Callable[[STATUS], None] | None = None,
    ) -> bytes:
        """Answer one CTAPHID_CBOR request: a status byte, then the CBOR response."""
        if cmd != CTAPHID.CBOR or not data:
            return bytes([_ERR.INVALID_COMMAND])
        handlers: dict[int, Callable[[Mapping[int, Any], Any], Mapping[int, Any] | None]] = {
            0x01: self._make_credential,
            0x02: self._get_assertion,
            0x04: lambda _params, _touch: self._info(),
            0x06: self._client_pin,
            0x0B: self._selection,
        }
        handler = handlers.get(data[0])
        if handler is None:
            return bytes([_ERR.INVALID_COMMAND])
        try:
            params = cbor.decode(data[1:]) if len(data) > 1 else {}
        except Exception:
            return bytes([_ERR.INVALID_CBOR])
        if not isinstance(params, dict):
            return bytes([_ERR.INVALID_CBOR])

        def touch() -> None:
            if on_keepalive is not None:
                on_keepalive(STATUS.UPNEEDED)  # "touch your key"; the client may cancel now
            if self.touch_delay > 0 and event is not None:
                event.wait(self.touch_delay)  # the user reaching for the key
            elif self.touch_delay > 0:
                threading.Event().wait(self.touch_delay)
            if event is not None and event.is_set():
                raise _Refused(_ERR.KEEPALIVE_CANCEL)
            if self.deny:
                raise _Refused(_ERR.OPERATION_DENIED)
            self.touches += 1

        with self._lock:
            try:
                answer = handler(params, touch)
            except _Refused as refused:
                return bytes([refused.status])
        return b"\x00" + (cbor.encode(dict(answer)) if answer else b"")

    # ------------------------------------------------------------------ commands

    def _info(self) -> Mapping[int, Any]:
        options: dict[str, bool] = {"rk": True, "up": True, "plat": False}
        if self._pin_hash is not None:
            options["clientPin"] = True
        elif self.builtin_uv:
            options["uv"] = True
        return {
            1: ["FIDO_2_0", "FIDO_2_1"],
            3: _AAGUID,
            4: options,
            5: 2048,
            6: [2],
            7: 8,
            8: 64,
            9: ["usb"],
            10: [{"type": "public-key", "alg": _ES256}],
        }

    def _verified(self, params: Mapping[int, Any], param_key: int, client_data_hash: bytes) -> bool:
        """Check the pinUvAuthParam (or built-in UV); True when the user is verified."""
        param = params.get(param_key)
        options = params.get(7 if param_key == 8 else 5) or {}
        if param is not None:
            if len(param) == 0:  # a probe: is a PIN set?
                raise _Refused(_ERR.PIN_INVALID if self._pin_hash else _ERR.PIN_NOT_SET)
            if params.get(param_key + 1) != 2:
                raise _Refused(_ERR.PIN_AUTH_INVALID)
            expected = hmac.new(self._token, client_data_hash, hashlib.sha256).digest()
            if self._pin_hash is None or not hmac.compare_digest(expected, bytes(param)):
                raise _Refused(_ERR.PIN_AUTH_INVALID)
            return True
        if options.get("uv"):
            if not self.builtin_uv:
                raise _Refused(_ERR.INVALID_OPTION)
            return True
        if self._pin_hash is not None and param_key == 8:
            raise _Refused(_ERR.PUAT_REQUIRED)  # makeCredential with a PIN set needs it
        return False

    def _make_credential(self, params: Mapping[int, Any], touch: Any) -> Mapping[int, Any]:
        client_data_hash, rp, user, algs = (params.get(k) for k in (1, 2, 3, 4))
        if not isinstance(client_data_hash, bytes) or not isinstance(rp, dict):
            raise _Refused(_ERR.MISSING_PARAMETER)
        if not isinstance(user, dict) or not isinstance(algs, list):
            raise _Refused(_ERR.MISSING_PARAMETER)
        if not any(isinstance(a, dict) and a.get("alg") == _ES256 for a in algs):
            raise _Refused(_ERR.UNSUPPORTED_ALGORITHM)
        rp_id = str(rp.get("id") or "")
        verified = self._verified(params, 8, client_data_hash)
        excluded = {bytes(c["id"]) for c in params.get(5) or [] if isinstance(c, dict)}
        if any(c.credential_id in excluded and c.rp_id == rp_id for c in self._credentials):
            touch()
            raise _Refused(_ERR.CREDENTIAL_EXCLUDED)
        touch()
        user_id = bytes(user.get("id") or b"")
        credential = _Credential(
            secrets.token_bytes(32),
            rp_id,
            user_id,
            str(user.get("name") or ""),
            ec.generate_private_key(ec.SECP256R1()),
        )
        # A discoverable credential replaces the key's earlier one for the same account.
        self._credentials = [
            c for c in self._credentials if (c.rp_id, c.user_id) != (rp_id, user_id)
        ]
        self._credentials.append(credential)
        public = cbor.encode(_cose_p256(credential.key.public_key(), _ES256))
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([_UP | (_UV if verified else 0) | _AT])
            + struct.pack(">I", credential.sign_count)
            + _AAGUID
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + public
        )
        signature = credential.key.sign(auth_data + client_data_hash, ec.ECDSA(hashes.SHA256()))
        self._save()
        return {1: "packed", 2: auth_data, 3: {"alg": _ES256, "sig": signature}}

    def _get_assertion(self, params: Mapping[int, Any], touch: Any) -> Mapping[int, Any]:
        rp_id, client_data_hash = params.get(1), params.get(2)
        if not isinstance(rp_id, str) or not isinstance(client_data_hash, bytes):
            raise _Refused(_ERR.MISSING_PARAMETER)
        allowed = {bytes(c["id"]) for c in params.get(3) or [] if isinstance(c, dict)}
        mine = [
            c
            for c in self._credentials
            if c.rp_id == rp_id and (not allowed or c.credential_id in allowed)
        ]
        verified = self._verified(params, 6, client_data_hash)
        presence = (params.get(5) or {}).get("up", True)
        if not mine:
            raise _Refused(_ERR.NO_CREDENTIALS)
        if presence:
            touch()
        credential = mine[-1]
        credential.sign_count += 1
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([(_UP if presence else 0) | (_UV if verified else 0)])
            + struct.pack(">I", credential.sign_count)
        )
        signature = credential.key.sign(auth_data + client_data_hash, ec.ECDSA(hashes.SHA256()))
        if self.tamper:
            signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
        self._save()
        answer: dict[int, Any] = {
            1: {"type": "public-key", "id": credential.credential_id},
            2: auth_data,
            3: signature,
        }
        if not allowed:
            answer[4] = {"id": credential.user_id}
        return answer

    def _selection(self, _params: Mapping[int, Any], touch: Any) -> None:
        touch()

    # ------------------------------------------------------------------ client PIN, protocol 2

    def _keys(self, platform_key: Any) -> tuple[bytes, bytes]:
        """The HMAC and AES keys shared with the platform (ECDH, then HKDF-SHA256)."""
        if not isinstance(platform_key, dict):
            raise _Refused(_ERR.MISSING_PARAMETER)
        try:
            peer = ec.EllipticCurvePublicNumbers(
                int.from_bytes(platform_key[-2], "big"),
                int.from_bytes(platform_key[-3], "big"),
                ec.SECP256R1(),
            ).public_key()
        except (KeyError, TypeError, ValueError):
            raise _Refused(_ERR.INVALID_PARAMETER) from None
        z = self._agreement.exchange(ec.ECDH(), peer)

        def derive(info: bytes) -> bytes:
            return HKDF(hashes.SHA256(), 32, bytes(32), info).derive(z)

        return derive(b"CTAP2 HMAC key"), derive(b"CTAP2 AES key")

    @staticmethod
    def _aes(key: bytes, data: bytes, *, encrypt: bool) -> bytes:
        if encrypt:
            iv = os.urandom(16)
            enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
            return iv + enc.update(data) + enc.finalize()
        if len(data) < 32 or len(data) % 16:
            raise _Refused(_ERR.INVALID_PARAMETER)
        dec = Cipher(algorithms.AES(key), modes.CBC(data[:16])).decryptor()
        return dec.update(data[16:]) + dec.finalize()

    def _client_pin(self, params: Mapping[int, Any], _touch: Any) -> Mapping[int, Any]:
        if params.get(1) != 2:
            raise _Refused(_ERR.INVALID_PARAMETER)
        sub = params.get(2)
        if sub == 0x01:  # getPinRetries
            return {3: self._pin_retries}
        if sub == 0x02:  # getKeyAgreement
            return {1: _cose_p256(self._agreement.public_key(), -25)}
        if sub != 0x05:  # only the legacy getPinToken: no pinUvAuthToken option advertised
            raise _Refused(_ERR.INVALID_SUBCOMMAND)
        if self._pin_hash is None:
            raise _Refused(_ERR.PIN_NOT_SET)
        if self._pin_retries <= 0:
            raise _Refused(_ERR.PIN_BLOCKED)
        _, aes_key = self._keys(params.get(3))
        given = self._aes(aes_key, bytes(params.get(6) or b""), encrypt=False)
        # A new key agreement after every attempt, as the spec requires.
        self._agreement = ec.generate_private_key(ec.SECP256R1())
        if not hmac.compare_digest(given, self._pin_hash):
            self._pin_retries -= 1
            self._save()
            raise _Refused(_ERR.PIN_BLOCKED if self._pin_retries <= 0 else _ERR.PIN_INVALID)
        self._pin_retries = _PIN_RETRIES
        self._token = secrets.token_bytes(32)
        self._save()
        return {2: self._aes(aes_key, self._token, encrypt=True)}

    # ------------------------------------------------------------------ persistence

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        state = json.loads(self.path.read_text(encoding="utf-8"))
        self._credentials = [_Credential.from_json(c) for c in state.get("credentials", [])]
        pin_hash = state.get("pin_hash")
        self._pin_hash = bytes.fromhex(pin_hash) if pin_hash else None
        self._pin_retries = int(state.get("pin_retries", _PIN_RETRIES))
        self.touch_delay = float(state.get("touch_delay") or 0.0)

    def _save(self) -> None:
        if self.path is None:
            return
        state = {
            "credentials": [c.to_json() for c in self._credentials],
            "pin_hash": self._pin_hash.hex() if self._pin_hash else None,
            "pin_retries": self._pin_retries,
            "touch_delay": self.touch_delay,
        }
        partial = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(state, out)
        os.replace(partial, self.path)

    # ------------------------------------------------------------------ for tests

    @property
    def credential_count(self) -> int:
        """How many discoverable credentials the key holds."""
        return len(self._credentials)

    def wait_idle(self, timeout: float) -> bool:
        """Block until no command is being answered; False if ``timeout`` s pass first."""
        if not self._lock.acquire(timeout=timeout):
            return False
        self._lock.release()
        return True

    @property
    def pin_retries(self) -> int:
        """PIN attempts left before the key locks."""
        return self._pin_retries
