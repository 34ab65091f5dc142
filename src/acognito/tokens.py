"""The tokens of a signed-in user, as one immutable value.

A :class:`Tokens` is swapped as a whole on sign-in and refresh, so a reader never sees
an access token from one refresh next to an id token from another. ``peek_claims``
decodes a JWT payload *without verifying it*: for expiry bookkeeping only, never for
authorization decisions (use :class:`acognito.CognitoVerifier` for those).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from .errors import JwtParseError

__all__ = ["Tokens", "peek_claims"]


def peek_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, **unverified**. Raises :class:`JwtParseError` if malformed."""
    if not isinstance(token, str):
        raise JwtParseError("a JWT must be a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtParseError("a JWT has three dot-separated parts")
    payload = parts[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise JwtParseError("the JWT payload is not base64url-encoded JSON") from exc
    if not isinstance(claims, dict):
        raise JwtParseError("the JWT payload is not a JSON object")
    return claims


def _exp(token: str | None) -> float | None:
    if not token:
        return None
    try:
        exp = peek_claims(token).get("exp")
    except JwtParseError:
        return None
    if isinstance(exp, (int, float)) and not isinstance(exp, bool):
        return float(exp)
    return None


@dataclass(frozen=True, repr=False)
class Tokens:
    """Id, access and refresh tokens from one sign-in or refresh.

    ``expires_at`` is the access token's ``exp`` when it has one, else the time of
    issue plus ``expires_in``. ``repr()`` says which tokens are present, never what
    they are.
    """

    id_token: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    token_type: str | None = None
    expires_in: int | None = None
    issued_at: float = field(default_factory=time.time)
    device_key: str | None = None

    @classmethod
    def from_result(
        cls,
        result: Mapping[str, Any],
        *,
        previous: Tokens | None = None,
        now: float | None = None,
    ) -> Tokens:
        """Build from an ``AuthenticationResult``; a refresh keeps ``previous``'s refresh
        token (and device key) when Cognito does not send new ones."""
        refresh = result.get("RefreshToken") or (previous.refresh_token if previous else None)
        device = (result.get("NewDeviceMetadata") or {}).get("DeviceKey") or (
            previous.device_key if previous else None
        )
        expires_in = result.get("ExpiresIn")
        return cls(
            id_token=result.get("IdToken"),
            access_token=result.get("AccessToken"),
            refresh_token=refresh,
            token_type=result.get("TokenType"),
            expires_in=int(expires_in) if expires_in is not None else None,
            issued_at=time.time() if now is None else now,
            device_key=device,
        )

    def with_changes(self, **changes: Any) -> Tokens:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    @property
    def expires_at_timestamp(self) -> float | None:
        """Expiry of the access token as a POSIX timestamp, if known."""
        exp = _exp(self.access_token)
        if exp is not None:
            return exp
        if self.expires_in is not None:
            return self.issued_at + self.expires_in
        return None

    @property
    def expires_datetime(self) -> datetime | None:
        """Expiry of the access token as an aware UTC datetime, if known."""
        ts = self.expires_at_timestamp
        return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc)

    def expires_within(self, seconds: float, *, now: float | None = None) -> bool:
        """Whether the access token is missing, expired, or expires within ``seconds``."""
        if not self.access_token:
            return True
        ts = self.expires_at_timestamp
        if ts is None:
            return False
        return (time.time() if now is None else now) + seconds >= ts

    def __repr__(self) -> str:
        def state(value: str | None) -> str:
            return "set" if value else "None"

        return (
            f"Tokens(id_token={state(self.id_token)}, access_token={state(self.access_token)}, "
            f"refresh_token={state(self.refresh_token)}, "
            f"expires_datetime={self.expires_datetime!r})"
        )
