"""Small secret-handling helpers shared by the sign-in code."""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["constant_time_equal", "redact", "secret_hash"]


def secret_hash(username: str, client_id: str, client_secret: str) -> str:
    """Cognito's SECRET_HASH: base64(HMAC-SHA256(client_secret, username + client_id)).

    ``username`` must be the identifier Cognito expects for the call: what the user
    typed on the first sign-in step, the pool's own user name (``USER_ID_FOR_SRP``)
    afterwards.
    """
    digest = hmac.new(
        client_secret.encode("utf-8"),
        (username + client_id).encode("utf-8"),
        hashlib.sha256,
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    """Compare two secrets without leaking where they differ."""
    # surrogatepass: any str compares (a lone surrogate must not raise here).
    ab = a.encode("utf-8", "surrogatepass") if isinstance(a, str) else a
    bb = b.encode("utf-8", "surrogatepass") if isinstance(b, str) else b
    return hmac.compare_digest(ab, bb)


def redact(value: str | None) -> str:
    """What a repr shows in place of a secret: whether it is set, never its value."""
    return "None" if value is None else "'***'"
