"""Per-user TOTP secrets of the local Cognito, as Cognito keeps them (server process only).

moto hands every user one fixed secret. Here each AssociateSoftwareToken draws a fresh
random secret that stays pending (replacing any earlier pending one) until
VerifySoftwareToken sees a code of it; it then becomes the user's confirmed secret, the
one SOFTWARE_TOKEN_MFA challenges check. Records hang off moto's user object, so a user
deleted and created again starts with none and a reset of moto forgets them all.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import weakref
from dataclasses import dataclass

from moto.cognitoidp.models import CognitoIdpUser

from .totp import totp

__all__ = ["TotpSecrets", "code_matches", "new_secret"]

#: Random bytes in a secret: 20 (160 bits, RFC 4226's advice) are 32 base32 characters.
SECRET_BYTES = 20


def new_secret() -> str:
    """A fresh random base32 TOTP secret without padding (32 characters, like Cognito's)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def code_matches(secret: str, code: object, now: float) -> bool:
    """Whether ``code`` is ``secret``'s code at ``now``, one 30 s step either way
    (every step compared in constant time)."""
    given = str(code or "").encode("utf-8")
    found = False
    for skew in (-1, 0, 1):
        expected = totp(secret, at=now + 30 * skew).encode("ascii")
        found |= hmac.compare_digest(expected, given)
    return found


@dataclass
class _Record:
    confirmed: str | None = None
    pending: str | None = None


class TotpSecrets:
    """The confirmed and pending TOTP secret of each user (guard with the state's lock)."""

    def __init__(self) -> None:
        self._records: weakref.WeakKeyDictionary[CognitoIdpUser, _Record] = (
            weakref.WeakKeyDictionary()
        )

    def _record(self, user: CognitoIdpUser) -> _Record:
        record = self._records.get(user)
        if record is None:
            record = self._records[user] = _Record()
        return record

    def associate(self, user: CognitoIdpUser) -> str:
        """AssociateSoftwareToken: a new pending secret (the confirmed one stays until
        the new one is verified)."""
        secret = new_secret()
        self._record(user).pending = secret
        return secret

    def pending(self, user: CognitoIdpUser) -> str | None:
        record = self._records.get(user)
        return None if record is None else record.pending

    def confirmed(self, user: CognitoIdpUser) -> str | None:
        record = self._records.get(user)
        return None if record is None else record.confirmed

    def confirm(self, user: CognitoIdpUser) -> None:
        """VerifySoftwareToken succeeded: the pending secret becomes the confirmed one
        (a user with none pending gets a fresh one, when codes are not checked)."""
        record = self._record(user)
        record.confirmed = record.pending or new_secret()
        record.pending = None

    def assign(self, user: CognitoIdpUser) -> str:
        """TOTP switched on without an association: keep a confirmed secret, else draw one."""
        record = self._record(user)
        if record.confirmed is None:
            record.confirmed = new_secret()
        return record.confirmed

    def forget(self, user: CognitoIdpUser) -> None:
        """TOTP switched off from outside: no secret at all any more."""
        self._records.pop(user, None)

    def restore(self, user: CognitoIdpUser, confirmed: str | None, pending: str | None) -> None:
        """The user's secrets as a saved state had them (``--state``)."""
        self._records[user] = _Record(confirmed, pending)
