"""The tokens of a signed-in user as one immutable value, and the one home of JWT decoding.

A :class:`Tokens` is swapped as a whole on sign-in and refresh, so a reader never sees
an access token from one refresh next to an id token from another. This module also
holds the JWT segment decoding every other module uses (:func:`split_jwt`,
:func:`decode_segment`, :func:`b64url_decode`): strict, canonical, and failing only with
:class:`~acognito.errors.JwtParseError`. ``peek_claims`` decodes a JWT payload *without
verifying it*: for expiry bookkeeping only, never for authorization decisions (use
:class:`acognito.CognitoVerifier` for those).
"""

from __future__ import annotations

import binascii
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Final

from .errors import JwtParseError

__all__ = [
    "Tokens",
    "b64url_decode",
    "claim_time",
    "decode_segment",
    "expiry_of",
    "peek_claims",
    "split_jwt",
]

_B64URL_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_URL_TO_STD: Final = bytes.maketrans(b"-_", b"+/")
_B64_VALUE: Final = {c: i for i, c in enumerate(_B64URL_ALPHABET)}

#: The latest expiry a :class:`datetime` can show (9999-12-31T23:59:59Z).
_LAST_TIMESTAMP: Final = 253402300799.0


def b64url_decode(segment: str | bytes) -> bytes:
    """Decode unpadded, canonical base64url (RFC 7515 section 2) or raise ValueError.

    Padding, whitespace, the ``+/`` alphabet and non-zero unused trailing bits are all
    rejected, so one byte string has exactly one accepted encoding.
    """
    raw = segment.encode("ascii") if isinstance(segment, str) else segment
    size = len(raw)
    rem = size & 3
    if rem == 1 or raw.translate(None, _B64URL_ALPHABET):
        raise ValueError("not canonical base64url")
    if rem:
        # The last character carries 4 (rem 2) or 2 (rem 3) bits beyond the data.
        if _B64_VALUE[raw[-1]] & (0x0F if rem == 2 else 0x03):
            raise ValueError("not canonical base64url")
        raw += b"==" if rem == 2 else b"="
    return binascii.a2b_base64(raw.translate(_URL_TO_STD))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# One decoder, built once: rejects NaN/Infinity, which json.loads would accept.
_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)


def split_jwt(token: object) -> tuple[str, str, str]:
    """The three dot-separated segments of a compact JWS; :class:`JwtParseError` otherwise."""
    if type(token) is not str:
        raise JwtParseError("a JWT must be a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtParseError("the token is not a compact JWS (three dot-separated parts)")
    return parts[0], parts[1], parts[2]


def decode_segment(segment: str, what: str = "payload") -> dict[str, Any]:
    """A JWT header or payload segment as a dict: canonical base64url of a JSON object.

    Any malformed input (bad base64url, bad UTF-8, bad or too deeply nested JSON, huge
    numbers, NaN) raises :class:`JwtParseError` and nothing else.
    """
    try:
        value = _DECODER.decode(b64url_decode(segment).decode("utf-8"))
    except (ValueError, RecursionError, UnicodeError):
        raise JwtParseError(f"the token {what} is not base64url-encoded JSON") from None
    if type(value) is not dict:
        raise JwtParseError(f"the token {what} is not a JSON object")
    return value


def peek_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, **unverified**. Raises :class:`JwtParseError` if malformed."""
    return decode_segment(split_jwt(token)[1])


def _timestamp(value: object) -> float | None:
    """A claim as epoch seconds: None when it is no number; 0.0 when it is out of range.

    An unverified token may carry any number. One no clock can show (NaN, beyond the
    year 9999, before 1970, too large for a float) is read as *already expired* (0.0):
    a crafted token is never taken for a long-lived one, and nothing raises.
    """
    if type(value) is not int and type(value) is not float:
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return 0.0
    if not (math.isfinite(seconds) and 0.0 <= seconds <= _LAST_TIMESTAMP):
        return 0.0
    return seconds


def expiry_of(token: str | None) -> float | None:
    """The unverified ``exp`` of a JWT as epoch seconds (see :func:`_timestamp`), or None.

    None when the token is missing, malformed, or has no numeric ``exp``. For caching
    and refresh timing only.
    """
    if not token:
        return None
    try:
        return claim_time(peek_claims(token), "exp")
    except JwtParseError:
        return None


def claim_time(claims: Mapping[str, Any], name: str) -> float | None:
    """A time claim (``exp``, ``iat``...) of unverified claims as epoch seconds, or None.

    The same reading as :func:`expiry_of`: out-of-range numbers give 0.0 (expired).
    """
    return _timestamp(claims.get(name))


def _lifetime(value: object) -> int | None:
    """``ExpiresIn`` as whole seconds, or None when absent or not a sane count (0 to 10**9)."""
    try:
        seconds = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return None
    return seconds if 0 <= seconds <= 10**9 else None


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
            expires_in=_lifetime(expires_in),
            issued_at=time.time() if now is None else now,
            device_key=device,
        )

    def with_changes(self, **changes: Any) -> Tokens:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    @property
    def expires_at_timestamp(self) -> float | None:
        """Expiry of the access token as a POSIX timestamp, if known."""
        exp = expiry_of(self.access_token)
        if exp is not None:
            return exp
        if self.expires_in is not None:
            try:
                return _timestamp(self.issued_at + self.expires_in)
            except (TypeError, OverflowError):
                return 0.0
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
