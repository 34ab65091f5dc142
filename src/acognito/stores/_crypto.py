"""Encryption at rest for token stores: AES-GCM (``cryptography``), keys that rotate.

The envelope: ``0x01``, the key id's length (one byte), the key id (UTF-8), a 12-byte
random nonce, then the AES-GCM ciphertext and tag. The store key is the associated
data, so a value copied under another key fails to decrypt. The first key of the
mapping encrypts; every key decrypts (by the id in the envelope), so keys rotate: put
the new one first, keep the old ones until their values have been rewritten.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Union

from ..errors import ConfigurationError
from ._base import UndecryptableValueWarning

__all__ = ["EncryptionKey", "Sealer"]

#: A single 32-byte key, or a mapping of key id to 32-byte key (the first encrypts).
EncryptionKey = Union[bytes, Mapping[str, bytes]]  # noqa: UP007 - a runtime alias on 3.10

_VERSION = 1
_NONCE = 12
#: The id a single key (not a mapping) has in envelopes.
DEFAULT_KEY_ID = "default"


def _check_keys(encryption_key: object) -> dict[str, bytes]:
    if isinstance(encryption_key, (bytes, bytearray, memoryview)):
        keys = {DEFAULT_KEY_ID: bytes(encryption_key)}
    elif isinstance(encryption_key, Mapping):
        keys = {}
        for kid, key in encryption_key.items():
            if not isinstance(kid, str) or not 0 < len(kid.encode("utf-8")) < 256:
                raise ConfigurationError("an encryption key id is a string of 1 to 255 bytes")
            if not isinstance(key, (bytes, bytearray, memoryview)):
                raise ConfigurationError(f"the encryption key {kid!r} is not bytes")
            keys[kid] = bytes(key)
    else:
        raise ConfigurationError(
            "encryption_key is 32 bytes, or a mapping of key id to 32 bytes (the first encrypts)"
        )
    if not keys:
        raise ConfigurationError("encryption_key has no key")
    for kid, key in keys.items():
        if len(key) != 32:
            raise ConfigurationError(
                f"the encryption key {kid!r} is {len(key)} bytes; AES-256-GCM needs 32 "
                "(make one with os.urandom(32))"
            )
    return keys


def _aad(key: str) -> bytes:
    return b"acognito-token-store/1\x00" + key.encode("utf-8")


class Sealer:
    """Encrypts values under a store key and decrypts them, with rotating keys."""

    def __init__(self, encryption_key: EncryptionKey) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        keys = _check_keys(encryption_key)
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self._current = next(iter(keys))

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The key ids, the one that encrypts first."""
        return tuple(self._ciphers)

    def __repr__(self) -> str:
        return f"Sealer(key_ids={self.key_ids!r})"

    def seal(self, key: str, plain: bytes) -> bytes:
        """``plain`` encrypted for ``key`` with the current key."""
        kid = self._current.encode("utf-8")
        nonce = os.urandom(_NONCE)
        sealed = self._ciphers[self._current].encrypt(nonce, plain, _aad(key))
        return bytes([_VERSION, len(kid)]) + kid + nonce + sealed

    def open(self, key: str, data: bytes) -> bytes | None:
        """The plain value, or None (with an :class:`UndecryptableValueWarning`) when the
        envelope is malformed, its key unknown, or it was not sealed for ``key``."""
        from cryptography.exceptions import InvalidTag

        reason = "it is not an acognito envelope"
        if len(data) > 2 and data[0] == _VERSION:
            end = 2 + data[1]
            try:
                kid = data[2:end].decode("utf-8")
            except UnicodeDecodeError:
                kid = ""
            cipher = self._ciphers.get(kid)
            if cipher is None:
                reason = f"its key id {kid[:40]!r} is not among this store's keys"
            elif len(data) < end + _NONCE + 16:
                reason = "it is truncated"
            else:
                try:
                    return cipher.decrypt(data[end : end + _NONCE], data[end + _NONCE :], _aad(key))
                except InvalidTag:
                    reason = "the key does not open it (another key, or it was altered or moved)"
        warn_undecryptable(key, reason)
        return None


def warn_undecryptable(key: str, reason: str) -> None:
    """Say that the value under ``key`` was treated as absent, never showing the value."""
    message = f"the stored value under {key[:120]!r} was ignored: {reason}"
    try:
        warnings.warn(message, UndecryptableValueWarning, stacklevel=3)
    except Warning:  # warnings turned into errors must not fail the request
        import logging

        logging.getLogger("acognito.stores").warning(message)
