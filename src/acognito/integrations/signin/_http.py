"""What every framework adapter hands the sign-in core and gets back: a request and an
answer in plain terms (no framework imported), the same-origin check of CSRF, safe
``next`` targets and the few fixed pages the routes answer with."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import parse_qsl, urlsplit

from ._cookies import Cookie, parse_cookies

__all__ = [
    "SAFE_METHODS",
    "WebAnswer",
    "WebRequest",
    "failed",
    "forbidden",
    "origin_of",
    "page",
    "safe_next",
    "unavailable",
]

#: Methods that change nothing (no CSRF check).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: The form field and header that carry the per-session CSRF token.
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class WebRequest:
    """One request, as an adapter sees it: ``headers`` with lower-case names (repeated
    ones joined with ``", "``, ``X-Forwarded-For`` kept whole in ``forwarded_for``),
    ``peer`` the socket's address, ``form`` the urlencoded body when the adapter read
    one (POSTs to the sign-in routes, unsafe requests that carry no CSRF header)."""

    method: str
    path: str
    query_string: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    peer: str | None = None
    forwarded_for: tuple[str, ...] = ()
    form: Mapping[str, str] | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @cached_property
    def cookies(self) -> Mapping[str, str]:
        return parse_cookies(self.headers.get("cookie"))

    def query(self) -> dict[str, list[str]]:
        """The query parameters (each name to every value it was given)."""
        found: dict[str, list[str]] = {}
        for name, value in parse_qsl(self.query_string, keep_blank_values=True):
            found.setdefault(name, []).append(value)
        return found

    def single(self, name: str) -> str | None:
        """A query parameter given once (None when missing or repeated)."""
        values = self.query().get(name)
        return values[0] if values is not None and len(values) == 1 else None

    @property
    def csrf_token(self) -> str | None:
        """The CSRF token the request carries: the header, else the form field."""
        token = self.headers.get(CSRF_HEADER)
        if token is None and self.form is not None:
            token = self.form.get(CSRF_FIELD)
        return token

    def __repr__(self) -> str:
        return f"WebRequest({self.method} {self.path})"


@dataclass
class WebAnswer:
    """What to send: status, headers (``Location``, ``Cache-Control``...), cookies to
    set or delete, and a body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    cookies: list[Cookie] = field(default_factory=list)
    body: bytes = b""
    content_type: str | None = None

    @property
    def location(self) -> str | None:
        for name, value in self.headers:
            if name == "Location":
                return value
        return None

    def all_headers(self) -> list[tuple[str, str]]:
        """Every header to send, ``Set-Cookie`` and ``Content-Type`` included."""
        out = list(self.headers)
        if self.content_type is not None:
            out.append(("Content-Type", self.content_type))
        out += [("Set-Cookie", cookie.header()) for cookie in self.cookies]
        return out


def redirect(location: str, *, status: int = 302, cookies: list[Cookie] | None = None) -> WebAnswer:
    return WebAnswer(
        status,
        [("Location", location), ("Cache-Control", "no-store")],
        cookies or [],
    )


_PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head>"
    "<body><main><h1>{title}</h1><p>{text}</p>{link}</main></body></html>"
)


def page(status: int, title: str, text: str, *, link: tuple[str, str] | None = None) -> WebAnswer:
    """A small fixed HTML page (no request data in it)."""
    shown = ""
    if link is not None:
        shown = f'<p><a href="{html.escape(link[0])}">{html.escape(link[1])}</a></p>'
    body = _PAGE.format(title=html.escape(title), text=html.escape(text), link=shown)
    return WebAnswer(
        status,
        [("Cache-Control", "no-store")],
        body=body.encode("utf-8"),
        content_type="text/html; charset=utf-8",
    )


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL (lower case, default port left out)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = "" if parts.port in (None, default) else f":{parts.port}"
    return f"{parts.scheme.lower()}://{host}{port}"


def same_origin(request: WebRequest, origins: frozenset[str]) -> bool:
    """Whether a state-changing request comes from the app's own pages: its ``Origin``
    is one of ``origins``, or (no ``Origin``) ``Sec-Fetch-Site`` says ``same-origin``.
    A request with neither is refused."""
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.strip().lower() in origins
    return request.headers.get("sec-fetch-site") == "same-origin"


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site (``/...``, not ``//host`` or
    ``/\\host``, no scheme, no control characters); ``default`` otherwise."""
    if not target or len(target) > 2048 or not target.startswith("/"):
        return default
    if target.startswith(("//", "/\\")) or any(ord(c) < 0x21 or c == "\\" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def failed(text: str, login_path: str) -> WebAnswer:
    return page(400, "Sign-in failed", text, link=(login_path, "Sign in again"))


def forbidden() -> WebAnswer:
    return page(403, "Forbidden", "This request did not come from this site's own pages.")


def unavailable(text: str = "Sessions are unavailable right now; try again.") -> WebAnswer:
    answer = page(503, "Unavailable", text)
    answer.headers.append(("Retry-After", "5"))
    return answer
