"""RFC 6238 time-based one-time passwords, for tests and the demo."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

import anyio

__all__ = ["MOTO_TOTP_SECRET", "fresh_totp", "totp"]

#: moto's own fixed TOTP secret, the one plain moto hands every user. The local Cognito
#: no longer uses it: each user gets a random secret of their own (read it from
#: AssociateSoftwareToken, the TOTP set-up step, or ``TestApi.totp_secret``). Kept so
#: that imports of it keep working.
MOTO_TOTP_SECRET = "asdfasdfasdf"  # noqa: S105 - the emulator's public constant


def totp(secret: str, *, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """The TOTP code of a base32 ``secret`` at time ``at`` (now by default)."""
    padded = secret.upper() + "=" * (-len(secret) % 8)
    key = base64.b32decode(padded)
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


async def fresh_totp(secret: str, *, min_remaining: float = 3.0, step: int = 30) -> str:
    """The current TOTP code, waiting first if its window closes in under ``min_remaining``
    seconds, so a server that accepts only the current window (moto does) still sees it
    valid when the request lands."""
    left = step - time.time() % step
    if left < min_remaining:
        await anyio.sleep(left + 0.05)
    return totp(secret, step=step)
