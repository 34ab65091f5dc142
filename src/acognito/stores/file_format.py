"""The on-disk format of :class:`~acognito.stores.FileTokenStore`, read and written with
the standard library alone.

This module imports nothing outside the standard library (a test checks it), so a
program that only needs a cached token, such as ``acognito token``, can read one
without loading acognito's dependencies.

One key, one file. The key is split on ``/``: every part but the last is a folder, the
last names the file, ``<part>.json``. Each part is percent-quoted as
``urllib.parse.quote(part, safe="")`` does (only ``A-Z a-z 0-9 _ . - ~`` stay as they
are), except that an empty part is ``%``, ``.`` is ``%2E`` and ``..`` is ``%2E%2E``, and
a part whose quoted form is longer than 200 characters is ``sha256-<hex digest of the
part>``. So ``tokens/default/ann`` lives in ``<directory>/tokens/default/ann.json``.
Folders are made 0700. A file is UTF-8 JSON, mode 0600, replaced whole on every write
(a reader never sees half a file)::

    {
      "acognito_store": 1,         # the format's version
      "key": "<the key>",
      "version": 3,                # 1 at the first write, +1 per write
      "fence": 0,                  # the fencing token of the last fenced write (0: none)
      "expires_at": 1767225600.0,  # epoch seconds; null: never; past: the key is absent
      "encoding": "json",          # how "value" holds the stored bytes:
      "value": {...}               #   json: a JSON object whose compact UTF-8 text they are
    }                              #   text: a string (UTF-8); base64: a base64 string;
                                   #   sealed: base64 of an AES-GCM envelope (encrypted)

A ``<part>.lease`` file beside it holds the key's lease lock, and ``.lock`` in the
store's directory serialises writers; readers need neither.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "FORMAT",
    "FileRecord",
    "decode_record",
    "encode_record",
    "file_name",
    "path_for",
    "read_json",
    "read_record",
    "read_value",
    "write_private",
]

#: The ``acognito_store`` field of every file this module writes (the format's version).
FORMAT = 1
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_MAX_NAME = 200
_SPECIAL = {"": "%", ".": "%2E", "..": "%2E%2E"}


class FileRecord(NamedTuple):
    """One key's file, decoded. ``value`` is the stored bytes (sealed bytes if encrypted)."""

    key: str
    version: int
    fence: int
    expires_at: float | None
    encoding: str
    value: bytes

    def __repr__(self) -> str:  # never the value: it may hold tokens
        return (
            f"FileRecord(key={self.key!r}, version={self.version}, "
            f"encoding={self.encoding!r}, expires_at={self.expires_at!r})"
        )

    def expired(self, now: float | None = None) -> bool:
        """Whether the record's time to live has run out (it then reads as absent)."""
        moment = time.time() if now is None else now
        return self.expires_at is not None and self.expires_at <= moment


def _part(part: str) -> str:
    special = _SPECIAL.get(part)
    if special is not None:
        return special
    raw = part.encode("utf-8")
    name = "".join(chr(b) if b in _SAFE else f"%{b:02X}" for b in raw)
    if len(name) > _MAX_NAME:
        import hashlib  # only for long names: the fast readers skip its ~2.5 ms

        name = "sha256-" + hashlib.sha256(raw).hexdigest()
    return name


def file_name(key: str) -> str:
    """The relative path (``/``-separated, without ``.json``) of the file holding ``key``."""
    if not isinstance(key, str) or not key:
        raise ValueError("a store key is a non-empty string")
    return "/".join(_part(part) for part in key.split("/"))


def path_for(directory: str | os.PathLike[str], key: str, suffix: str = ".json") -> Path:
    """The path of the file holding ``key`` in a store rooted at ``directory``
    (``suffix=".lease"``: its lease file)."""
    return (
        Path(directory)
        .joinpath(*file_name(key).split("/"))
        .with_name(file_name(key).rsplit("/", 1)[-1] + suffix)
    )


def _as_json_object(value: bytes) -> Any:
    """The JSON object ``value`` is the compact text of, or None when it is anything else."""
    try:
        obj = json.loads(value.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(obj, dict):
        return None
    compact = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return obj if compact == value else None


def encode_record(record: FileRecord) -> bytes:
    """The file content for ``record`` (``encoding`` "json"/"text"/"base64" is chosen
    here from the bytes unless it is "sealed")."""
    import base64

    value: Any
    if record.encoding == "sealed":
        encoding, value = "sealed", base64.b64encode(record.value).decode("ascii")
    else:
        obj = _as_json_object(record.value)
        if obj is not None:
            encoding, value = "json", obj
        else:
            try:
                encoding, value = "text", record.value.decode("utf-8")
            except UnicodeDecodeError:
                encoding, value = "base64", base64.b64encode(record.value).decode("ascii")
    doc = {
        "acognito_store": FORMAT,
        "key": record.key,
        "version": record.version,
        "fence": record.fence,
        "expires_at": record.expires_at,
        "encoding": encoding,
        "value": value,
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _int(doc: dict[str, Any], name: str) -> int:
    value = doc.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"the {name!r} field is not a count")
    return value


def _raw_value(encoding: object, value: object) -> bytes:
    """The stored bytes from a file's ``encoding`` and ``value`` fields."""
    if encoding == "json" and isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if encoding == "text" and isinstance(value, str):
        return value.encode("utf-8")
    if encoding in ("base64", "sealed") and isinstance(value, str):
        import base64  # not for the JSON values acognito and its CLI write

        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (UnicodeError, ValueError):
            raise ValueError("the 'value' field is not base64") from None
    raise ValueError("the 'encoding' field does not match the 'value' field")


def decode_record(data: bytes) -> FileRecord:
    """Parse a file's content; ``ValueError`` (never with the value in it) if malformed."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("not a token store file (not UTF-8 JSON)") from None
    if not isinstance(doc, dict) or doc.get("acognito_store") != FORMAT:
        raise ValueError(f"not a token store file (acognito_store is not {FORMAT})")
    key, encoding, value = doc.get("key"), doc.get("encoding"), doc.get("value")
    expires_at = doc.get("expires_at")
    if not isinstance(key, str) or not key:
        raise ValueError("the 'key' field is not a string")
    if expires_at is not None and (
        isinstance(expires_at, bool) or not isinstance(expires_at, (int, float))
    ):
        raise ValueError("the 'expires_at' field is not a number")
    raw = _raw_value(encoding, value)
    return FileRecord(
        key,
        _int(doc, "version"),
        _int(doc, "fence"),
        None if expires_at is None else float(expires_at),
        str(encoding),
        raw,
    )


def read_record(path: str | os.PathLike[str]) -> FileRecord | None:
    """The record in the file at ``path``, expired or not; None if there is no file.

    ``ValueError`` if the file is not a token store file.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    return decode_record(data)


def read_value(
    directory: str | os.PathLike[str], key: str, *, now: float | None = None
) -> bytes | None:
    """The bytes stored under ``key`` (None: absent or expired). ``ValueError`` if the
    file is malformed or its value is encrypted (use the store with its key)."""
    record = read_record(path_for(directory, key))
    if record is None or record.key != key or record.expired(now):
        return None
    if record.encoding == "sealed":
        raise ValueError("this value is encrypted: read it with FileTokenStore and its key")
    return record.value


def read_json(
    directory: str | os.PathLike[str], key: str, *, now: float | None = None
) -> dict[str, Any] | None:
    """The JSON object stored under ``key`` (None: absent or expired); ``ValueError`` if
    the value is not a JSON object."""
    value = read_value(directory, key, now=now)
    if value is None:
        return None
    try:
        obj = json.loads(value.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("the stored value is not JSON") from None
    if not isinstance(obj, dict):
        raise ValueError("the stored value is not a JSON object")  # noqa: TRY004 - a format error
    return obj


def write_private(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace the file at ``path`` with ``data`` atomically, readable by its owner only.

    The data goes to a new 0600 file in the same directory (created 0700 if missing),
    is flushed to disk, then renamed over ``path``: a reader sees the old file or the
    new one, never a mix, and a crash leaves no half-written file in its place.
    """
    target = Path(path)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
