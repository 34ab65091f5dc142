"""The session cookie: an opaque random id, signed, and nothing else.

``<id>.<signature>``: the id is 32 random bytes (base64url), the signature
HMAC-SHA256 over a purpose label and the id with the configured secret. Several secrets
may be given: the first signs, every one verifies, so a secret can be rotated without
signing everyone out. The value never holds a token, a claim or a time; what the
session is lives on the server (:mod:`._sessions`). Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ...errors import ConfigurationError

__all__ = ["AppCookies", "Cookie", "CookieSigner", "new_id", "parse_cookies"]

#: Shortest secret accepted (bytes): a signing key is not a password.
MIN_SECRET_BYTES = 32
_ID_RE = re.compile(r"[A-Za-z0-9_-]{43}")
_SIG_LEN = 43  # base64url of 32 bytes, unpadded


def new_id() -> str:
    """A fresh opaque id: 32 random bytes, base64url without padding (43 characters)."""
    return secrets.token_urlsafe(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _key(secret: str | bytes) -> bytes:
    raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if len(raw) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"a session secret needs at least {MIN_SECRET_BYTES} bytes "
            "(e.g. secrets.token_urlsafe(32))"
        )
    # The configured secret may be shared with the framework (Flask's or Django's
    # SECRET_KEY): derive a key of our own from it.
    return hmac.new(raw, b"acognito session cookie key v1", hashlib.sha256).digest()


class CookieSigner:
    """Signs and checks ``<id>.<signature>`` values; ``purpose`` separates cookie kinds
    (a login cookie's value is no session cookie's)."""

    __slots__ = ("_keys",)

    def __init__(self, secret: str | bytes | Iterable[str | bytes]) -> None:
        items = [secret] if isinstance(secret, (str, bytes)) else list(secret)
        if not items:
            raise ConfigurationError("give at least one session secret")
        self._keys = tuple(_key(item) for item in items)

    def _mac(self, key: bytes, purpose: str, ident: str) -> str:
        message = f"{purpose}\x00{ident}".encode("ascii")
        return _b64(hmac.new(key, message, hashlib.sha256).digest())

    def sign(self, purpose: str, ident: str) -> str:
        """The cookie value for ``ident`` (signed with the first secret)."""
        return f"{ident}.{self._mac(self._keys[0], purpose, ident)}"

    def unsign(self, purpose: str, value: str | None) -> str | None:
        """The id of a value this signer made for ``purpose``; None for anything else
        (missing, malformed, another purpose, a signature of no configured secret)."""
        if not value or len(value) != 44 + _SIG_LEN:
            return None
        ident, dot, signature = value.partition(".")
        if not dot or not _ID_RE.fullmatch(ident) or len(signature) != _SIG_LEN:
            return None
        found = False
        for key in self._keys:  # every key, found or not: the time says nothing
            found |= hmac.compare_digest(self._mac(key, purpose, ident), signature)
        return ident if found else None

    def __repr__(self) -> str:
        return f"CookieSigner(secrets={len(self._keys)})"


@dataclass(frozen=True)
class Cookie:
    """A ``Set-Cookie`` to send: HttpOnly and SameSite=Lax always, Secure unless the app
    runs on loopback over http. ``max_age=0`` deletes the cookie."""

    name: str
    value: str
    max_age: int
    secure: bool
    path: str = "/"

    def header(self) -> str:
        """The ``Set-Cookie`` header value."""
        parts = [f"{self.name}={self.value}", f"Path={self.path}", f"Max-Age={self.max_age}"]
        if self.max_age == 0:
            parts.append("Expires=Thu, 01 Jan 1970 00:00:00 GMT")
        parts += ["HttpOnly", "SameSite=Lax"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)

    def __repr__(self) -> str:
        return f"Cookie(name={self.name!r}, max_age={self.max_age}, secure={self.secure})"


def parse_cookies(header: str | None) -> Mapping[str, str]:
    """The cookies of a ``Cookie`` header, the first of each name (browsers send the
    most specific path first). A malformed part is skipped, never the whole header:
    another site's odd cookie on the same host cannot hide ours."""
    found: dict[str, str] = {}
    if not header:
        return found
    for part in header.split(";"):
        name, eq, value = part.strip().partition("=")
        name = name.strip()
        if eq and name and name not in found:
            found[name] = value.strip()
    return found


class AppCookies:
    """The cookies of one app: the session cookie (a signed session id) and the login
    cookie (a signed id binding a pending sign-in to the browser that started it, and
    keying the form's CSRF token). ``__Host-`` names when ``secure``."""

    def __init__(
        self, secret: str | bytes | Iterable[str | bytes], *, secure: bool, session_max_age: int
    ) -> None:
        self._signer = CookieSigner(secret)
        self.secure = secure
        self.session_max_age = session_max_age
        self.session_name = "__Host-acognito-session" if secure else "acognito-session"
        self.login_name = "__Host-acognito-login" if secure else "acognito-login"

    def session(self, sid: str) -> Cookie:
        """The session cookie for ``sid``."""
        value = self._signer.sign("session", sid)
        return Cookie(self.session_name, value, self.session_max_age, self.secure)

    def session_id(self, cookies: Mapping[str, str]) -> str | None:
        """The id of a well-signed session cookie among ``cookies``."""
        return self._signer.unsign("session", cookies.get(self.session_name))

    def gone(self, name: str) -> Cookie:
        """A ``Set-Cookie`` that deletes cookie ``name``."""
        return Cookie(name, "", 0, self.secure)

    def binding(self, cookies: Mapping[str, str]) -> str | None:
        """The id of a well-signed login cookie among ``cookies``: which browser."""
        return self._signer.unsign("login", cookies.get(self.login_name))

    def binding_cookie(self, binding: str, max_age: int) -> Cookie:
        """The login cookie for ``binding``."""
        value = self._signer.sign("login", binding)
        return Cookie(self.login_name, value, max_age, self.secure)

    def form_token(self, binding: str) -> str:
        """The CSRF token of the sign-in form of the browser ``binding``."""
        return self._signer.sign("form", binding).partition(".")[2]

    def __repr__(self) -> str:
        return f"AppCookies(session={self.session_name!r}, secure={self.secure})"
