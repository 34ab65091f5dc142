"""What the sign-in core hands the adapters: the request's user, its session, and the
outcome of judging a request (:class:`Visit`). Plain values, no framework."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from ...context import UserContext
from ..core import Answer, CognitoClaims
from ._cookies import Cookie
from ._http import WebAnswer, WebRequest
from ._proxies import TrustedProxies

__all__ = ["Visit", "WebSession", "WebUser", "answer_from", "context_of"]


@dataclass(frozen=True)
class WebUser:
    """The user of a request: :attr:`claims` are the verified access token's (the
    bearer token's, or the session's), :attr:`id_claims` the session's id token's (None
    for a bearer token). ``via`` says which judged the request."""

    claims: CognitoClaims
    id_claims: Mapping[str, Any] | None
    via: Literal["session", "bearer"]

    @property
    def sub(self) -> str:
        return self.claims.sub

    @property
    def username(self) -> str | None:
        return self.claims.username

    @property
    def email(self) -> str | None:
        email = (self.id_claims or {}).get("email")
        return email if isinstance(email, str) else None

    @property
    def groups(self) -> frozenset[str]:
        return self.claims.groups

    @property
    def scopes(self) -> frozenset[str]:
        return self.claims.scopes

    def __repr__(self) -> str:
        return f"WebUser(sub={self.sub!r}, username={self.username!r}, via={self.via!r})"


@dataclass(frozen=True)
class WebSession:
    """The signed-in session of a request: its CSRF token (put it in your forms as
    ``csrf_token`` or send it as ``X-CSRF-Token``) and its current tokens, for calls the
    server makes on the user's behalf. Tokens never appear in ``repr``."""

    csrf_token: str = field(repr=False)
    access_token: str = field(repr=False)
    id_token: str | None = field(repr=False)
    signed_in_at: float
    expires_at: float


@dataclass
class Visit:
    """What :meth:`~._core.ServerSignIn.visit` found: the user (None: anonymous), the
    session (None: none, or a bearer request), a refusal to send instead of calling the
    app (401 for a bad bearer token, 403 for a failed CSRF check, 503 when the store does
    not answer), cookies to add to whatever is answered (deleting a bad one), and the
    client's IP address (:attr:`client_ip`: trusted proxies honoured)."""

    request: WebRequest = field(repr=False)
    proxies: TrustedProxies = field(repr=False)
    server_name: str = field(default="", repr=False)
    user: WebUser | None = None
    session: WebSession | None = None
    refusal: WebAnswer | None = None
    cookies: list[Cookie] = field(default_factory=list)

    @cached_property
    def client_ip(self) -> str | None:
        """The client's IP address: the peer's, or ``X-Forwarded-For``'s when the peer
        is a trusted proxy (worked out on first use)."""
        return self.proxies.client_ip(self.request.peer, self.request.forwarded_for)

    @cached_property
    def user_context(self) -> UserContext:
        """The user's context for Cognito's threat protection, for calls the app makes
        itself (``cognito.user_context = visit.user_context``): the client's IP, the
        app's host name, the path, the allow-listed headers (never ``Cookie`` or
        ``Authorization``)."""
        return context_of(self.request, self.client_ip, self.server_name)


def context_of(
    request: WebRequest, client_ip: str | None, server_name: str, encoded_data: str | None = None
) -> UserContext:
    """A :class:`~acognito.context.UserContext` for ``request``."""
    return UserContext.from_request(
        ip_address=client_ip,
        headers=request.headers,
        server_name=server_name or None,
        server_path=request.path,
        encoded_data=encoded_data,
    )


def answer_from(answer: Answer) -> WebAnswer:
    """An RFC 6750 :class:`~acognito.integrations.core.Answer` as a :class:`WebAnswer`."""
    return WebAnswer(
        answer.status,
        list(answer.headers),
        body=answer.body_bytes(),
        content_type="application/json",
    )
