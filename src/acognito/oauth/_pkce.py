"""PKCE (RFC 7636): code verifiers and their S256 challenges. Pure functions, no I/O."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import string
from typing import Final

from ..errors import ConfigurationError

__all__ = ["code_challenge", "generate_code_verifier"]

# RFC 7636 section 4.1: unreserved characters, 43 to 128 of them.
_VERIFIER_ALPHABET: Final = string.ascii_letters + string.digits + "-._~"
_VERIFIER_RE: Final = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def generate_code_verifier(length: int = 64) -> str:
    """A fresh PKCE code verifier: ``length`` (43-128) random unreserved characters.

    RFC 7636 section 4.1; 64 characters carry about 386 bits from :mod:`secrets`.
    """
    if isinstance(length, bool) or not isinstance(length, int) or not 43 <= length <= 128:
        raise ConfigurationError("a PKCE code verifier has 43 to 128 characters")
    return "".join(secrets.choice(_VERIFIER_ALPHABET) for _ in range(length))


def code_challenge(code_verifier: str) -> str:
    """The S256 code challenge: base64url(SHA-256(verifier)) without padding (RFC 7636 4.2)."""
    if not isinstance(code_verifier, str) or not _VERIFIER_RE.fullmatch(code_verifier):
        raise ConfigurationError(
            "a PKCE code verifier has 43 to 128 characters from A-Z a-z 0-9 - . _ ~"
        )
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
