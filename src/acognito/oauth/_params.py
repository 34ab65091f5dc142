"""Checks for what callers pass the OAuth2 clients: domain URLs, identifiers, scopes.

Every malformed value is a :class:`~acognito.errors.ConfigurationError` raised before
any call, never a raw ``TypeError``/``ValueError`` or a late ``httpx.InvalidURL``.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import quote_plus, urlsplit

import httpx

from .._ids import check_region
from ..errors import ConfigurationError

__all__ = ["cognito_domain_url"]

# RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN_RE: Final = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_DOMAIN_PREFIX_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")
_MAX_PARAM: Final = 8192
#: A DNS host name (ASCII; IDNs in their xn-- form) or an IPv4 address.
_HOST_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9\-_.]{0,251}[a-z0-9])?", re.ASCII)


def cognito_domain_url(prefix: str, region: str) -> str:
    """The URL of a Cognito-hosted domain: ``https://{prefix}.auth.{region}.amazoncognito.com``."""
    if not isinstance(prefix, str) or not _DOMAIN_PREFIX_RE.fullmatch(prefix):
        raise ConfigurationError("a Cognito domain prefix has 1-63 of a-z 0-9 and '-'")
    if not isinstance(region, str):
        raise ConfigurationError(f"not an AWS region name: {region!r}")
    try:
        check_region(region, what="region")
    except ConfigurationError:
        raise ConfigurationError(f"not an AWS region name: {region[:60]!r}") from None
    return f"https://{prefix}.auth.{region}.amazoncognito.com"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def normalize_domain(domain_url: object) -> str:
    """``domain_url`` as ``scheme://host[:port][/path]``: https, or http on loopback only."""
    if not isinstance(domain_url, str):
        raise ConfigurationError("domain_url must be a string")
    shown = repr(domain_url[:80])
    try:
        parts = urlsplit(domain_url.strip())
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        raise ConfigurationError(f"domain_url is not a valid URL: {shown}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigurationError(f"domain_url must be an absolute https URL: {shown}")
    if not _HOST_RE.fullmatch(host) and not _is_ip(host):
        raise ConfigurationError(f"domain_url has no valid host name: {shown}")
    if parts.scheme == "http" and not _is_loopback(host):
        raise ConfigurationError("domain_url must use https (plain http only on loopback)")
    if parts.username is not None or parts.query or parts.fragment:
        raise ConfigurationError("domain_url takes no user info, query or fragment")
    normalized = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    try:
        httpx.URL(normalized + "/oauth2/token")
    except (httpx.InvalidURL, ValueError, TypeError):
        raise ConfigurationError(f"domain_url is not a valid URL: {shown}") from None
    return normalized


def check_identifier(value: object, what: str) -> str:
    """A client id or secret: 1-256 printable characters, no whitespace."""
    if not isinstance(value, str) or not value or len(value) > 256:
        raise ConfigurationError(f"{what} must be a non-empty string")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ConfigurationError(f"{what} has whitespace or control characters")
    return value


def check_token(value: object, what: str) -> str:
    """A parameter value sent as is (a code, a token, a URI): printable, no whitespace."""
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} must be a non-empty string")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ConfigurationError(f"{what} has whitespace or control characters")
    return value


def scope_string(scopes: str | Iterable[str] | None) -> str | None:
    """Scopes as the space-separated ``scope`` parameter (duplicates dropped), or None."""
    if scopes is None:
        return None
    if isinstance(scopes, str):
        items: list[object] = list(scopes.split())
    elif isinstance(scopes, (bytes, Mapping)) or not isinstance(scopes, Iterable):
        raise ConfigurationError(
            f"scopes must be a string or a list of strings, not {type(scopes).__name__}"
        )
    else:
        items = list(scopes)
    seen: dict[str, None] = {}
    for item in items:
        if not isinstance(item, str) or not _SCOPE_TOKEN_RE.fullmatch(item):
            raise ConfigurationError(f"not a valid OAuth2 scope: {str(item)[:80]!r}")
        seen.setdefault(item, None)
    return " ".join(seen) or None


def extra_params(params: object, taken: Iterable[str]) -> dict[str, str]:
    """``extra_params`` checked: a mapping of string names to string values, none taken."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ConfigurationError(
            f"extra_params must be a mapping of strings, not {type(params).__name__}"
        )
    reserved = set(taken)
    out: dict[str, str] = {}
    for key, value in params.items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise ConfigurationError("extra_params must map non-empty strings to strings")
        if len(key) + len(value) > _MAX_PARAM:
            raise ConfigurationError(f"extra_params[{key[:40]!r}] is too long")
        if key in reserved:
            raise ConfigurationError(f"extra_params may not override {key!r}")
        out[key] = value
    return out


def basic_credentials(client_id: str, client_secret: str) -> str:
    """The ``Authorization: Basic`` value for client authentication (RFC 6749 2.3.1)."""
    # Each part form-urlencoded before joining with ':'.
    raw = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
    return "Basic " + base64.b64encode(raw.encode("utf-8")).decode("ascii")
