"""The user's context for Cognito's threat protection: who is really signing in.

A server that signs users in calls Cognito from its own address. Without the user's
context every sign-in looks as if it came from the server, and adaptive authentication
cannot tell users apart. :class:`UserContext` carries what Cognito asks for:

- ``UserContextData`` (InitiateAuth, RespondToAuthChallenge, SignUp, ConfirmSignUp,
  ForgotPassword, ConfirmForgotPassword, ResendConfirmationCode): the user's IP address
  and, when the page ran Cognito's JavaScript collector, its encoded data string;
- ``ContextData`` (AdminInitiateAuth, AdminRespondToAuthChallenge): the IP address, the
  server's name and the request's path, the request's HTTP headers and the encoded data.
  Headers are copied from an allow-list (:data:`CONTEXT_HEADERS`) that can never include
  ``Cookie`` or ``Authorization``.

Give it to a session (``cognito.user_context = UserContext(...)``) and every call above
carries it. The web integrations build it from the request (the client's IP honours
``X-Forwarded-For`` only from trusted proxies). Standard library only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .errors import ConfigurationError

__all__ = [
    "ADMIN_CONTEXT_OPERATIONS",
    "CONTEXT_HEADERS",
    "USER_CONTEXT_OPERATIONS",
    "UserContext",
    "context_parameters",
]

#: Operations (botocore's snake-case names) that take ``UserContextData``.
USER_CONTEXT_OPERATIONS: Final = frozenset(
    {
        "initiate_auth",
        "respond_to_auth_challenge",
        "sign_up",
        "confirm_sign_up",
        "forgot_password",
        "confirm_forgot_password",
        "resend_confirmation_code",
    }
)
#: Operations that take ``ContextData``.
ADMIN_CONTEXT_OPERATIONS: Final = frozenset(
    {"admin_initiate_auth", "admin_respond_to_auth_challenge"}
)
#: Request headers that may go to Cognito in ``ContextData`` (lower case). Never
#: ``cookie`` or ``authorization`` (or ``proxy-authorization``): they carry credentials.
CONTEXT_HEADERS: Final = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "host",
        "origin",
        "referer",
        "sec-ch-ua",
        "sec-ch-ua-mobile",
        "sec-ch-ua-platform",
        "user-agent",
        "x-forwarded-for",
    }
)
_NEVER: Final = frozenset({"cookie", "authorization", "proxy-authorization", "set-cookie"})
_MAX_HEADERS = 32
_MAX_VALUE = 2048
_MAX_ENCODED = 32 * 1024


def _ip(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigurationError("ip_address must be a string")
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ConfigurationError("ip_address is not an IP address") from None


@dataclass(frozen=True)
class UserContext:
    """The user behind a request, as Cognito's threat protection wants it.

    ``ip_address``: the user's address (not the server's). ``encoded_data``: what
    Cognito's JavaScript collector (``AmazonCognitoAdvancedSecurityData.getData``)
    produced in the user's browser, sent back with the form. ``server_name``,
    ``server_path`` and ``http_headers`` are for the Admin calls' ``ContextData``:
    the host the user reached, the path, and the request's headers (only those of
    ``allowed_headers``, :data:`CONTEXT_HEADERS` by default; ``Cookie`` and
    ``Authorization`` are refused even if listed).
    """

    ip_address: str | None = None
    encoded_data: str | None = field(default=None, repr=False)
    server_name: str | None = None
    server_path: str | None = None
    http_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ip_address", _ip(self.ip_address))
        data = self.encoded_data
        if data is not None and (not isinstance(data, str) or len(data) > _MAX_ENCODED):
            raise ConfigurationError("encoded_data must be a string of at most 32 KiB")
        for name in ("server_name", "server_path"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or len(value) > _MAX_VALUE):
                raise ConfigurationError(f"{name} must be a string")

    @classmethod
    def from_request(
        cls,
        *,
        ip_address: str | None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        server_name: str | None = None,
        server_path: str | None = None,
        encoded_data: str | None = None,
        allowed_headers: Iterable[str] = CONTEXT_HEADERS,
    ) -> UserContext:
        """A context from a web request: its headers filtered by ``allowed_headers``
        (case-insensitive; ``Cookie``, ``Authorization`` never pass)."""
        allowed = {h.lower() for h in allowed_headers}
        refused = allowed & _NEVER
        if refused:
            raise ConfigurationError(
                f"{', '.join(sorted(refused))} may never be sent to Cognito as context"
            )
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        kept: list[tuple[str, str]] = []
        for name, value in pairs:
            lower = str(name).lower()
            if lower in allowed and len(kept) < _MAX_HEADERS:
                kept.append((lower, str(value)[:_MAX_VALUE]))
        return cls(
            ip_address=ip_address,
            encoded_data=encoded_data or None,
            server_name=server_name,
            server_path=server_path,
            http_headers=tuple(kept),
        )

    def user_context_data(self) -> dict[str, str] | None:
        """``UserContextData`` for the user-facing calls (None when there is nothing)."""
        data: dict[str, str] = {}
        if self.ip_address:
            data["IpAddress"] = self.ip_address
        if self.encoded_data:
            data["EncodedData"] = self.encoded_data
        return data or None

    def context_data(self) -> dict[str, Any] | None:
        """``ContextData`` for the Admin calls. Cognito requires ``IpAddress``,
        ``ServerName``, ``ServerPath`` and ``HttpHeaders``: None unless the first three
        are known (the headers may be empty)."""
        if not (self.ip_address and self.server_name and self.server_path):
            return None
        data: dict[str, Any] = {
            "IpAddress": self.ip_address,
            "ServerName": self.server_name,
            "ServerPath": self.server_path,
            "HttpHeaders": [
                {"headerName": name, "headerValue": value} for name, value in self.http_headers
            ],
        }
        if self.encoded_data:
            data["EncodedData"] = self.encoded_data
        return data


def context_parameters(operation: str, context: UserContext | None) -> dict[str, Any]:
    """The context parameter ``operation`` takes (``UserContextData`` or
    ``ContextData``), or nothing."""
    if context is None:
        return {}
    if operation in USER_CONTEXT_OPERATIONS:
        data = context.user_context_data()
        return {"UserContextData": data} if data else {}
    if operation in ADMIN_CONTEXT_OPERATIONS:
        admin = context.context_data()
        return {"ContextData": admin} if admin else {}
    return {}
