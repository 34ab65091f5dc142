"""Checking :class:`~._core.ServerSignIn`'s configuration: URLs, durations, and the
settings keys of the framework adapters (Django's dict, Flask's ``COGNITO_*``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ...errors import ConfigurationError
from ...oauth._params import _is_loopback

__all__ = ["DEFAULT_SCOPES", "check_url", "is_loopback", "seconds", "settings_arguments"]

#: The scopes asked of the managed login unless told otherwise.
DEFAULT_SCOPES = ("openid", "email", "profile")
# Optional settings keys (Django's ACOGNITO, Flask's COGNITO_*) -> constructor names.
OPTIONAL_SETTINGS = {
    key: key.lower()
    for key in (
        "DOMAIN",
        "FORM_PATH",
        "CALLBACK_PATH",
        "AUTH_FLOW",
        "EMAIL_OTP",
        "TOTP_ISSUER",
        "FORM_RENDERER",
        "COGNITO_OPTIONS",
        "CLIENT_SECRET",
        "LOGOUT_URI",
        "SCOPES",
        "STORE",
        "IDLE_TIMEOUT",
        "ABSOLUTE_TIMEOUT",
        "TRUSTED_PROXIES",
        "ALLOWED_ORIGINS",
        "LOGIN_PATH",
        "LOGOUT_PATH",
        "AFTER_LOGIN",
        "CSRF_EXEMPT",
        "JWKS_URI",
        "ISSUER",
    )
}


#: Whether a host name is loopback (``localhost``, 127.0.0.0/8, ``::1``).
is_loopback = _is_loopback


def seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigurationError(f"{what} must be a positive number of seconds")
    return float(value)


def check_url(url: object, what: str) -> str:
    if not isinstance(url, str):
        raise ConfigurationError(f"{what} must be an absolute URL")
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        raise ConfigurationError(f"{what} is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(f"{what} must be an absolute https URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigurationError(f"{what} must use https (plain http only on loopback)")
    if parts.fragment or parts.username is not None:
        raise ConfigurationError(f"{what} takes no fragment or user info")
    return url


def settings_arguments(
    settings: Mapping[str, Any], default_secret: str | bytes | None
) -> dict[str, Any]:
    """:class:`~._core.ServerSignIn`'s keyword arguments from settings keys: the required
    ``USER_POOL_ID``, ``CLIENT_ID``, ``APP_URL``; ``SESSION_SECRET`` (else
    ``default_secret``); any other argument in capitals."""
    required = ("USER_POOL_ID", "CLIENT_ID", "APP_URL")
    missing = [key for key in required if not settings.get(key)]
    if missing:
        raise ConfigurationError(f"server sign-in needs {', '.join(missing)} in its settings")
    arguments = {
        name: settings[key]
        for key, name in OPTIONAL_SETTINGS.items()
        if settings.get(key) is not None
    }
    arguments.update(
        user_pool_id=settings["USER_POOL_ID"],
        client_id=settings["CLIENT_ID"],
        app_url=settings["APP_URL"],
        secret=settings.get("SESSION_SECRET") or default_secret or None,
    )
    return arguments
