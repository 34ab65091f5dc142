"""Lifecycle events: signed in, tokens refreshed, signed out, refresh failed.

Amplify JS's Hub events in Python. An :class:`Events` hub holds subscribers, plain
functions or coroutine functions; the sessions and httpx auths that own a hub (their
``events`` attribute, or one you share through ``events=``) emit to it after the fact:
the new tokens are already in place, and in the store, when a subscriber hears of them.
A subscriber that raises is logged and forgotten for that event; it never fails the
request and never loses tokens. Events notify; they never decide anything: a fleet's
lease and store are reached through :mod:`acognito.stores`, before the refresh call.

No event shows a token in its ``repr``; :attr:`SignedIn.tokens` and
:attr:`TokensRefreshed.tokens` hold them for subscribers that keep tokens themselves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tokens import Tokens

__all__ = [
    "AuthEvent",
    "Events",
    "RefreshFailed",
    "SignedIn",
    "SignedOut",
    "Subscriber",
    "TokensRefreshed",
]

log = logging.getLogger("acognito.events")


@dataclass(frozen=True)
class AuthEvent:
    """What every event says: who emitted it (``source``: ``"ClientCredentialsAuth"``,
    ``"CognitoAuth"``, ``"AsyncCognito"``), for which app client and user (None for
    machine-to-machine tokens), and when (``time.time()``)."""

    source: str
    client_id: str | None
    username: str | None
    at: float = field(default_factory=time.time, kw_only=True)


@dataclass(frozen=True)
class SignedIn(AuthEvent):
    """A sign-in succeeded (for machine-to-machine auth: the first token was issued)."""

    tokens: Tokens | None = field(default=None, repr=False, compare=False, kw_only=True)


@dataclass(frozen=True)
class TokensRefreshed(AuthEvent):
    """New tokens replaced old ones. ``rotated``: the refresh token changed too.
    ``from_store``: another process refreshed them and this one read them from the
    store (no call to Cognito was made here)."""

    rotated: bool = field(default=False, kw_only=True)
    from_store: bool = field(default=False, kw_only=True)
    tokens: Tokens | None = field(default=None, repr=False, compare=False, kw_only=True)


@dataclass(frozen=True)
class SignedOut(AuthEvent):
    """The tokens were dropped. ``revoked``: Cognito revoked them (global sign-out or
    token revocation) rather than the session only forgetting them."""

    revoked: bool = field(default=False, kw_only=True)


@dataclass(frozen=True)
class RefreshFailed(AuthEvent):
    """Tokens could not be refreshed; ``error`` is the typed error the caller saw."""

    error: BaseException = field(kw_only=True)


#: A function or coroutine function that receives each event.
Subscriber = Callable[[AuthEvent], object]


class Events:
    """A hub of subscribers to lifecycle events (share one between sessions and auths).

    ``subscribe(fn)`` adds ``fn`` (called with each :class:`AuthEvent`; a coroutine
    function is awaited) and returns the function that removes it. Subscribers run in
    the order they subscribed, in the task that caused the event, after the tokens are
    in place; keep them short. An exception from a subscriber is logged on the
    ``acognito.events`` logger and goes no further.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: tuple[Subscriber, ...] = ()

    def __repr__(self) -> str:
        return f"Events(subscribers={len(self._subscribers)})"

    def __len__(self) -> int:
        return len(self._subscribers)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` with every event from now on; the returned function stops it."""
        if not callable(subscriber):
            from .errors import ConfigurationError

            raise ConfigurationError("an event subscriber must be callable")
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            self.unsubscribe(subscriber)

        return unsubscribe

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Stop calling ``subscriber`` (nothing happens if it is not subscribed)."""
        with self._lock:
            found = list(self._subscribers)
            if subscriber in found:
                found.remove(subscriber)
            self._subscribers = tuple(found)

    async def emit(self, event: AuthEvent) -> None:
        """Deliver ``event`` to every subscriber; awaits coroutine subscribers."""
        for subscriber in self._subscribers:
            try:
                result = subscriber(event)
                if isinstance(result, Awaitable):
                    await result
            except Exception:
                _log_failure(subscriber, event)

    def emit_sync(self, event: AuthEvent) -> None:
        """Deliver ``event`` from blocking code, in the calling thread. A coroutine
        subscriber runs to completion on a short-lived event loop in this thread."""
        for subscriber in self._subscribers:
            try:
                result = subscriber(event)
                if isinstance(result, Awaitable):
                    _run_here(result)
            except Exception:
                _log_failure(subscriber, event)


def _run_here(awaitable: Any) -> None:
    import anyio

    async def wait() -> None:
        await awaitable

    anyio.run(wait)


def _log_failure(subscriber: Subscriber, event: AuthEvent) -> None:
    name = getattr(subscriber, "__qualname__", type(subscriber).__name__)
    log.exception("event subscriber %s raised on %s; the event goes on", name, type(event).__name__)
