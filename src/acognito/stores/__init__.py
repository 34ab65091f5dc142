"""Where tokens outlive a process and are shared by a fleet: :class:`TokenStore`.

A store holds byte values under string keys, with versions (conditional writes, so an
older refresh token never overwrites a newer one), a time to live, and a lease lock
with a fencing token per key (so a fleet refreshes a token once). Three ship:

- :class:`MemoryTokenStore`: this process only (the default).
- :class:`FileTokenStore`: one 0600 file per key, plain text unless given a key; its
  format is read by :mod:`acognito.stores.file_format` with the standard library alone.
- :class:`RedisTokenStore`: a Redis (or Valkey) shared by a fleet, AES-GCM encrypted
  (the ``redis`` extra).

Importing this package loads nothing but the standard library; a store loads anyio,
``cryptography`` or ``redis`` when it needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._base import (
        Entry,
        Lease,
        StoredTokensNotFoundError,
        StoreUnavailableError,
        TokenStore,
        TokenStoreWarning,
        UndecryptableValueWarning,
    )
    from ._crypto import EncryptionKey
    from ._file import FileTokenStore
    from ._memory import MemoryTokenStore
    from ._redis import RedisTokenStore

__all__ = [
    "EncryptionKey",
    "Entry",
    "FileTokenStore",
    "Lease",
    "MemoryTokenStore",
    "RedisTokenStore",
    "StoreUnavailableError",
    "StoredTokensNotFoundError",
    "TokenStore",
    "TokenStoreWarning",
    "UndecryptableValueWarning",
]

_HOMES = {
    "EncryptionKey": "._crypto",
    "Entry": "._base",
    "FileTokenStore": "._file",
    "Lease": "._base",
    "MemoryTokenStore": "._memory",
    "RedisTokenStore": "._redis",
    "StoreUnavailableError": "._base",
    "StoredTokensNotFoundError": "._base",
    "TokenStore": "._base",
    "TokenStoreWarning": "._base",
    "UndecryptableValueWarning": "._base",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
