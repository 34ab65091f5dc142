"""The sans-I/O core of the bearer auths, in the style of httpx's ``Auth.auth_flow``.

:func:`bearer_flow` decides everything about one request and does no I/O: it asks for
a token (:class:`NeedToken`), attaches it, sends, and on a 401 asks for a token other
than the rejected one and sends once more. A custom token header is bound to the
request's origin (:class:`OriginGuard`): httpx drops only ``Authorization`` when it
follows a redirect to another origin, so the transport writes ours into each hop that
stays on the origin, and a transport that cannot is refused. :func:`drive_sync` and
:func:`drive_async` are the thin drivers that answer :class:`NeedToken` from a token
cache, with threads or with tasks.
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, Union

import httpx

from ..errors import ConfigurationError

__all__ = [
    "DEFAULT_MARGIN_FRACTION",
    "DEFAULT_REFRESH_MARGIN",
    "Bearer",
    "Grant",
    "NeedToken",
    "OriginGuard",
    "bearer_flow",
    "bind_to_origin",
    "check_header",
    "check_margin",
    "drive_async",
    "drive_sync",
    "header_survives_redirect",
]

#: Refresh this many seconds before expiry (capped by a fraction of the lifetime).
DEFAULT_REFRESH_MARGIN: Final = 300.0
#: For short-lived tokens the margin is at most this fraction of their lifetime.
DEFAULT_MARGIN_FRACTION: Final = 0.25

#: An RFC 9110 field name: one or more token characters.
_FIELD_NAME: Final = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
#: A field-value prefix: visible ASCII and spaces, no control characters.
_FIELD_PREFIX: Final = re.compile(r"^[\x20-\x7e]*$")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


class Grant(NamedTuple):
    """What a fetcher returns: the bearer value and its lifetime in seconds (None: unknown).

    ``margin`` (seconds before expiry to refresh) overrides the cache's own rule when
    the fetcher knows better, e.g. from the token's full lifetime.
    """

    token: str
    lifetime: float | None
    margin: float | None = None


@dataclass(frozen=True, eq=False)
class Bearer:
    """An immutable cached token: published whole, so no request sees half an update.

    ``refresh_at`` and ``expires_at`` are readings of the cache's clock.
    """

    token: str
    refresh_at: float
    expires_at: float

    def __repr__(self) -> str:
        return f"Bearer(token='***', refresh_at={self.refresh_at!r})"


class NeedToken(NamedTuple):
    """The flow asks its driver for a fresh token that is not ``stale``."""

    stale: Bearer | None


Step = Union[NeedToken, httpx.Request]  # noqa: UP007 - a runtime alias on Python 3.10
Flow = Generator[Step, Union[Bearer, httpx.Response], None]  # noqa: UP007


def check_margin(value: object) -> float:
    """``refresh_margin``: a finite number of seconds, zero or more."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ConfigurationError(
            f"refresh_margin must be a finite number of seconds >= 0, not {str(value)[:40]!r}"
        )
    return float(value)


def check_header(name: object, prefix: object) -> tuple[str, str]:
    """``http_header`` (an RFC 9110 field name) and ``http_header_prefix`` (printable ASCII)."""
    if not isinstance(name, str) or not _FIELD_NAME.match(name):
        raise ConfigurationError("http_header must be a valid HTTP header name")
    if not isinstance(prefix, str) or not _FIELD_PREFIX.match(prefix):
        raise ConfigurationError("http_header_prefix must be printable ASCII")
    return name, prefix


def _origin(scheme: str, host: str, port: int | None) -> tuple[str, str, int | None]:
    scheme = scheme.lower()
    return scheme, host.lower(), port if port is not None else _DEFAULT_PORTS.get(scheme)


def header_survives_redirect(
    original: tuple[str, str, int | None], hop: tuple[str, str, int | None]
) -> bool:
    """Whether the token header may go to ``hop`` (an origin) after a redirect from ``original``.

    The rule httpx applies to ``Authorization``: the same origin, or the same host
    upgraded from http to https on the default ports.
    """
    if hop == original:
        return True
    scheme, host, port = original
    return (scheme, port, hop) == ("http", 80, ("https", host, 443))


def _hop_origin(request: Any) -> tuple[str, str, int | None] | None:
    """The origin an httpcore request goes to (its absolute-form target through a proxy)."""
    try:
        target = bytes(request.url.target)
        if target.startswith((b"http://", b"https://")):
            url = httpx.URL(target.decode("ascii"))
            return _origin(url.scheme, url.host, url.port)
        url = request.url
        return _origin(url.scheme.decode("ascii"), url.host.decode("ascii"), url.port)
    except (AttributeError, UnicodeError, ValueError, httpx.InvalidURL):
        return None


_HEADERS_EVENT: Final = ".send_request_headers.started"


class OriginGuard:
    """The token header of one request, written by the transport into each hop's headers.

    httpx follows redirects below the auth flow, copying every header but
    ``Authorization`` onto each hop and handing the hop straight to the transport, so
    a custom header put on the request would reach whatever origin a redirect names.
    The token is therefore never put on the httpx request: httpcore-based transports
    report each hop's headers just before sending them (the ``trace`` extension, kept
    across hops), and there the guard writes the header into hops bound for the
    request's own origin and only those (the rule httpx applies to ``Authorization``).

    A transport that does not report that moment (``httpx.MockTransport``,
    ``httpx.ASGITransport``, a third-party one) sends the request without the token;
    the flow then refuses the combination (:meth:`check_reported`).
    """

    def __init__(self, origin: tuple[str, str, int | None], header: str) -> None:
        self.origin = origin
        self.header = header
        self._name = header.lower().encode("ascii")
        self._raw_name = header.encode("ascii")
        self.value: bytes | None = None
        self.reported = False

    def write(self, info: dict[str, Any]) -> None:
        """At ``send_request_headers.started``: the header, for this hop's origin only."""
        self.reported = True
        request = info.get("request")
        if request is None:
            return
        kept = [(k, v) for k, v in request.headers if k.lower() != self._name]
        hop = _hop_origin(request)
        if (
            self.value is not None
            and hop is not None
            and header_survives_redirect(self.origin, hop)
        ):
            kept.append((self._raw_name, self.value))
        request.headers[:] = kept

    def check_reported(self) -> None:
        """Refuse a transport that sent the request without reporting its headers."""
        if not self.reported:
            raise ConfigurationError(
                f"http_header={self.header!r}: this httpx client's transport does not report "
                "the headers it sends (it is not httpx's default, httpcore-based transport: "
                "httpx.MockTransport, httpx.ASGITransport and third-party transports do not), "
                "so acognito cannot keep the token off redirects to other origins and sent "
                "the request without it. Use httpx's default transport, or the Authorization "
                "header, which httpx itself drops on those redirects"
            )


def _sync_trace(guard: OriginGuard, previous: Any) -> Callable[[str, dict[str, Any]], None]:
    def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith(_HEADERS_EVENT):
            guard.write(info)
        if previous is not None:
            previous(event, info)

    trace.acognito_guard = guard  # type: ignore[attr-defined]
    return trace


def _async_trace(
    guard: OriginGuard, previous: Any
) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    async def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith(_HEADERS_EVENT):
            guard.write(info)
        if previous is not None:
            await previous(event, info)

    trace.acognito_guard = guard  # type: ignore[attr-defined]
    return trace


def bind_to_origin(request: httpx.Request, header: str, is_async: bool) -> OriginGuard:
    """The request's :class:`OriginGuard` for ``header``, hooked into its ``trace``."""
    previous = request.extensions.get("trace")
    guard = getattr(previous, "acognito_guard", None)
    if isinstance(guard, OriginGuard) and guard.header.lower() == header.lower():
        return guard  # the same request sent again
    url = request.url
    guard = OriginGuard(_origin(url.scheme, url.host, url.port), header)
    wrap = _async_trace if is_async else _sync_trace
    request.extensions["trace"] = wrap(guard, previous)
    return guard


def _attach(request: httpx.Request, header: str, value: str, guard: OriginGuard | None) -> None:
    if guard is None:
        request.headers[header] = value
    else:
        request.headers.pop(header, None)  # the guard owns it: never on the httpx request
        guard.value = value.encode()  # as httpx encodes header values


def replayable(request: httpx.Request) -> bool:
    """Whether the request body is in memory, so the request can be sent again."""
    try:
        _ = request.content
    except httpx.RequestNotRead:
        return False
    return True


def bearer_flow(request: httpx.Request, header: str, prefix: str, *, is_async: bool) -> Flow:
    """One request's life: attach a token, send, on a 401 attach a newer one and resend.

    A request whose body is a stream that was not read into memory is not retried (its
    body cannot be sent twice); its 401 response is returned as it is. A header other
    than ``Authorization`` goes through an :class:`OriginGuard`.
    """
    guard = None if header.lower() == "authorization" else bind_to_origin(request, header, is_async)
    bearer = yield NeedToken(None)
    assert isinstance(bearer, Bearer)
    _attach(request, header, prefix + bearer.token, guard)
    response = yield request
    assert isinstance(response, httpx.Response)
    if guard is not None:
        guard.check_reported()
    if response.status_code == 401 and replayable(request):
        newer = yield NeedToken(bearer)
        assert isinstance(newer, Bearer)
        _attach(request, header, prefix + newer.token, guard)
        yield request


def drive_sync(
    flow: Flow, token: Callable[[Bearer | None], Bearer]
) -> Generator[httpx.Request, httpx.Response, None]:
    """Run ``flow`` for ``httpx.Client``: tokens come from ``token(stale)`` (blocking)."""
    step = next(flow)
    while True:
        answer: Bearer | httpx.Response
        if isinstance(step, NeedToken):
            answer = token(step.stale)
        else:
            answer = yield step
        try:
            step = flow.send(answer)
        except StopIteration:
            return


async def drive_async(
    flow: Flow, token: Callable[[Bearer | None], Awaitable[Bearer]]
) -> AsyncGenerator[httpx.Request, httpx.Response]:
    """Run ``flow`` for ``httpx.AsyncClient``: tokens come from ``await token(stale)``."""
    step = next(flow)
    while True:
        answer: Bearer | httpx.Response
        if isinstance(step, NeedToken):
            answer = await token(step.stale)
        else:
            answer = yield step
        try:
            step = flow.send(answer)
        except StopIteration:
            return
