""":class:`FileTokenStore`: one 0600 JSON file per key, like ``aws sso``'s token cache
(``a/b/c`` in ``<directory>/a/b/c.json``).

The format is :mod:`acognito.stores.file_format` (standard library only, so a fast
reader needs nothing else). File work runs in worker threads; writers on one directory
take an advisory lock on its ``.lock`` file, so processes sharing a directory see
versioned writes and lease locks behave as they do in Redis.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import file_format as fmt
from ._base import Entry, Lease
from ._crypto import warn_undecryptable

if TYPE_CHECKING:
    from ._crypto import EncryptionKey, Sealer

__all__ = ["FileTokenStore"]

T = TypeVar("T")


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold the directory's writer lock (an advisory lock on ``.lock``)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
            try:
                yield
            finally:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class FileTokenStore:
    """Tokens in files under ``directory``: one JSON file per key, mode 0600.

    Plain text by default, as the AWS CLI keeps its ``aws sso`` tokens: anyone who can
    read your files can read them. Give ``encryption_key`` (32 bytes, or a mapping of key
    id to 32 bytes, the first encrypting) to keep values AES-GCM encrypted instead.
    Every write replaces a file whole (write, flush, rename). Processes and threads may
    share one directory. The format is documented in
    :mod:`acognito.stores.file_format`, whose readers need only the standard library.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        encryption_key: EncryptionKey | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._directory = Path(directory)
        self._clock = clock
        self._sealer: Sealer | None = None
        if encryption_key is not None:
            from ._crypto import Sealer

            self._sealer = Sealer(encryption_key)

    @property
    def directory(self) -> Path:
        """Where the files are."""
        return self._directory

    @property
    def encrypted(self) -> bool:
        """Whether values are encrypted on disk."""
        return self._sealer is not None

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self._directory)!r}, encrypted={self.encrypted})"

    def path(self, key: str) -> Path:
        """The file that holds ``key``."""
        return fmt.path_for(self._directory, key)

    async def _run(self, work: Callable[[], T]) -> T:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(work)

    # ------------------------------------------------------------------ records

    def _read(self, key: str) -> fmt.FileRecord | None:
        """The live record of ``key``; a malformed file reads as absent, with a warning."""
        try:
            record = fmt.read_record(self.path(key))
        except ValueError as exc:
            warn_undecryptable(key, str(exc))
            return None
        if record is None or record.expired(self._clock()):
            return None
        if record.key != key:
            warn_undecryptable(key, "its file holds another key")
            return None
        return record

    def _plain(self, key: str, record: fmt.FileRecord) -> bytes | None:
        if self._sealer is None:
            if record.encoding == "sealed":
                warn_undecryptable(key, "it is encrypted and this store has no key")
                return None
            return record.value
        if record.encoding != "sealed":
            warn_undecryptable(key, "it is plain text and this store encrypts")
            return None
        return self._sealer.open(key, record.value)

    def _write(self, key: str, value: bytes, version: int, fence: int, ttl: float | None) -> None:
        encoding = "plain"
        if self._sealer is not None:
            value, encoding = self._sealer.seal(key, value), "sealed"
        expires_at = None if ttl is None else self._clock() + ttl
        record = fmt.FileRecord(key, version, fence, expires_at, encoding, value)
        fmt.write_private(self.path(key), fmt.encode_record(record))

    # ------------------------------------------------------------------ the protocol

    def get_sync(self, key: str) -> Entry | None:
        """Blocking :meth:`get` (for a program with no event loop)."""
        record = self._read(key)
        if record is None:
            return None
        plain = self._plain(key, record)
        return None if plain is None else Entry(plain, record.version)

    async def get(self, key: str) -> Entry | None:
        return await self._run(lambda: self.get_sync(key))

    def set_sync(self, key: str, value: bytes, *, ttl: float | None = None) -> int:
        """Blocking :meth:`set`."""
        with _locked(self._directory):
            record = self._read(key)
            version = 1 if record is None else record.version + 1
            self._write(key, bytes(value), version, 0 if record is None else record.fence, ttl)
            return version

    async def set(self, key: str, value: bytes, *, ttl: float | None = None) -> int:
        return await self._run(lambda: self.set_sync(key, value, ttl=ttl))

    def delete_sync(self, key: str) -> None:
        """Blocking :meth:`delete`."""
        with _locked(self._directory), contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    async def delete(self, key: str) -> None:
        await self._run(lambda: self.delete_sync(key))

    def _compare_and_set(
        self, key: str, value: bytes, version: int, ttl: float | None, fence: int | None
    ) -> int | None:
        with _locked(self._directory):
            record = self._read(key)
            current = 0 if record is None else record.version
            last_fence = 0 if record is None else record.fence
            if current != version or (fence is not None and fence < last_fence):
                return None
            self._write(key, bytes(value), current + 1, last_fence if fence is None else fence, ttl)
            return current + 1

    async def compare_and_set(
        self,
        key: str,
        value: bytes,
        *,
        version: int,
        ttl: float | None = None,
        fence: int | None = None,
    ) -> int | None:
        return await self._run(lambda: self._compare_and_set(key, value, version, ttl, fence))

    # ------------------------------------------------------------------ leases

    def _lease_path(self, key: str) -> Path:
        return fmt.path_for(self._directory, key, ".lease")

    def _read_lease(self, key: str) -> tuple[int, float]:
        try:
            doc: Any = json.loads(self._lease_path(key).read_bytes())
            token, expires_at = int(doc["token"]), float(doc["expires_at"])
        except (OSError, ValueError, TypeError, KeyError):
            return 0, 0.0
        return token, expires_at

    def _write_lease(self, key: str, token: int, expires_at: float) -> None:
        data = json.dumps({"token": token, "expires_at": expires_at}).encode()
        fmt.write_private(self._lease_path(key), data)

    def _acquire(self, key: str, ttl: float) -> Lease | None:
        with _locked(self._directory):
            now = self._clock()
            token, expires_at = self._read_lease(key)
            if expires_at > now:
                return None
            lease = Lease(key, token + 1, now + ttl)
            self._write_lease(key, lease.token, lease.expires_at)
            return lease

    async def acquire(self, key: str, *, ttl: float) -> Lease | None:
        return await self._run(lambda: self._acquire(key, ttl))

    def _release(self, lease: Lease) -> None:
        with _locked(self._directory):
            token, _ = self._read_lease(lease.key)
            if token == lease.token:  # keep the counter: fencing tokens only grow
                self._write_lease(lease.key, token, 0.0)

    async def release(self, lease: Lease) -> None:
        await self._run(lambda: self._release(lease))
