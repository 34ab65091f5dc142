"""The narrow protocol every token store speaks, and what it hands back.

A store holds opaque byte values under string keys, each with a version (so writes can
be conditional) and an optional time to live, plus one lease lock per key with a
fencing token (so a fleet refreshes a token once). Stores never see what the bytes
mean: acognito writes compact JSON records, encrypted by stores that are shared.
Standard library only: importing this module loads nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = [
    "Entry",
    "Lease",
    "StoreUnavailableError",
    "StoredTokensNotFoundError",
    "TokenStore",
    "TokenStoreWarning",
    "UndecryptableValueWarning",
]


@dataclass(frozen=True)
class Entry:
    """A stored value and its version (1 for the first write; every write adds one).

    ``value`` is never shown in ``repr``: it may hold tokens.
    """

    value: bytes = field(repr=False)
    version: int


@dataclass(frozen=True)
class Lease:
    """A held lease lock on ``key``: ``token`` is its fencing token.

    Fencing tokens grow with every lease taken on a key, so a write fenced by an older
    lease than the last fenced write is refused (a holder that stalled past its lease
    cannot overwrite what the next holder wrote). ``expires_at`` is the holder's
    ``time.time()`` reading when the lease lapses by itself.
    """

    key: str
    token: int
    expires_at: float


@runtime_checkable
class TokenStore(Protocol):
    """Where tokens outlive a process: memory, a file, Redis, or your own.

    Every method is a coroutine. ``version`` 0 means "absent" in
    :meth:`compare_and_set`. A key whose time to live has run out reads as absent.
    Implementations raise :class:`StoreUnavailableError` (or any exception) when the
    backing service fails; acognito bounds each call and carries on without the store.
    """

    async def get(self, key: str) -> Entry | None:
        """The value under ``key`` and its version, or None."""
        ...

    async def set(self, key: str, value: bytes, *, ttl: float | None = None) -> int:
        """Write ``value`` unconditionally (kept ``ttl`` seconds); its new version."""
        ...

    async def delete(self, key: str) -> None:
        """Forget ``key`` (nothing happens if it is absent)."""
        ...

    async def compare_and_set(
        self,
        key: str,
        value: bytes,
        *,
        version: int,
        ttl: float | None = None,
        fence: int | None = None,
    ) -> int | None:
        """Write ``value`` only if the stored version is still ``version`` (0: absent)
        and no write fenced by a newer lease came first; the new version, or None."""
        ...

    async def acquire(self, key: str, *, ttl: float) -> Lease | None:
        """Take the lease lock on ``key`` for ``ttl`` seconds; None while another holds it."""
        ...

    async def release(self, lease: Lease) -> None:
        """Give the lease back, if it is still this one (an expired lease is left alone)."""
        ...


class StoreUnavailableError(Exception):
    """The backing service of a store did not answer (down, slow, refused).

    acognito never lets it reach a request: it carries on with the tokens it has.
    """


class StoredTokensNotFoundError(LookupError):
    """Nothing usable is stored under the key a session was to be restored from."""


class TokenStoreWarning(UserWarning):
    """Something about a token store a human should know; the request went on."""


class UndecryptableValueWarning(TokenStoreWarning):
    """A stored value could not be decrypted or parsed (wrong key, corrupted, copied
    under another key): it was treated as absent. The value is never shown."""
