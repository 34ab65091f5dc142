"""The token cache reader, and ``acognito token``'s fast path: standard library only.

``curl -H "Authorization: Bearer $(acognito token)"`` runs this before every request,
so with a fresh cached token the command prints it having imported nothing but the
standard library, this module and the token store's file reader
(:mod:`acognito.stores.file_format`): no argparse, no anyio, no httpx. Anything else (a
token near expiry, an option this reader does not know, a damaged file) falls through
to the full command line, which refreshes, explains or fails as usual.

Where the files live is defined here once; :mod:`.config` and :mod:`.cache` use the
same functions. The token cache is a :class:`~acognito.stores.FileTokenStore` rooted at
the cache dir: one 0600 file per sign-in, under the key ``tokens/<profile>/<user>``
(so ``<cache dir>/tokens/<profile>/<user>.json``), whose value is a JSON object.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "cache_dir",
    "config_dir",
    "expiry",
    "fast_token",
    "iso_time",
    "jwt_exp",
    "login_key",
    "newest",
    "read_logins",
    "split_key",
    "token_record",
]


def _platform_dir(kind: str) -> Path | None:
    """The platform's own directory (macOS, Windows) when ``platformdirs`` is installed.

    On Linux it would name the same XDG folders as the fallback, so it is not imported.
    """
    if sys.platform.startswith("linux"):
        return None
    try:
        import platformdirs
    except ImportError:
        return None
    finder = platformdirs.user_config_dir if kind == "config" else platformdirs.user_cache_dir
    return Path(finder("acognito", appauthor=False))


def config_dir() -> Path:
    """``$ACOGNITO_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/acognito``, else the platform's."""
    if os.environ.get("ACOGNITO_CONFIG_DIR"):
        return Path(os.environ["ACOGNITO_CONFIG_DIR"])
    if os.environ.get("XDG_CONFIG_HOME"):
        return Path(os.environ["XDG_CONFIG_HOME"]) / "acognito"
    return _platform_dir("config") or Path.home() / ".config" / "acognito"


def cache_dir() -> Path:
    """``$ACOGNITO_CACHE_DIR``, else ``$XDG_CACHE_HOME/acognito``, else the platform's."""
    if os.environ.get("ACOGNITO_CACHE_DIR"):
        return Path(os.environ["ACOGNITO_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "acognito"
    return _platform_dir("cache") or Path.home() / ".cache" / "acognito"


def _escape(name: str) -> str:
    """``%`` and ``/`` escaped, so a name is one part of a key (no import needed)."""
    return name.replace("%", "%25").replace("/", "%2F")


def _unescape(part: str) -> str:
    return part.replace("%2F", "/").replace("%25", "%")


def login_key(profile: str, username: str) -> str:
    """The store key of a sign-in: ``tokens/<profile>/<user>``.

    A ``/`` in either name is escaped, so it stays inside its part (the store quotes
    each part again for the file name)."""
    return f"tokens/{_escape(profile)}/{_escape(username)}"


def split_key(key: str) -> tuple[str, str] | None:
    """``(profile, user)`` from a store key written by :func:`login_key`."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "tokens" or not parts[1] or not parts[2]:
        return None
    return _unescape(parts[1]), _unescape(parts[2])


def _value(record: Any, now: float) -> dict[str, Any] | None:
    if record is None or record.expired(now) or record.encoding == "sealed":
        return None
    import json

    try:
        value = json.loads(record.value.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def read_logins(root: Path, profile: str, username: str | None, now: float) -> list[dict[str, Any]]:
    """The cached sign-ins of ``profile`` (only ``username``'s, when given) in the store
    rooted at ``root``: the readable ones, each value with its user and profile names."""
    from acognito.stores import file_format

    def one(path: Path) -> dict[str, Any] | None:
        try:
            record = file_format.read_record(path)
        except (OSError, ValueError):
            return None
        found = None if record is None else split_key(record.key)
        if found is None or found[0] != profile or username not in (None, found[1]):
            return None
        value = _value(record, now)
        if value is not None:
            value["username"], value["profile"] = found[1], found[0]
        return value

    if username is not None:
        single = one(file_format.path_for(root, login_key(profile, username)))
        return [single] if single is not None else []
    folder = file_format.path_for(root, login_key(profile, "x")).parent
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found = (one(folder / name) for name in names if name.endswith(".json"))
    return [value for value in found if value is not None]


def jwt_exp(token: object) -> float | None:
    """A JWT's ``exp`` claim, unverified (None when absent or unreadable)."""
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    import base64
    import json

    body = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, TypeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, (int, float)) and not isinstance(exp, bool):
        return float(exp)
    return None


def iso_time(stamp: float) -> str:
    """Epoch seconds as ISO 8601 UTC, to the second: ``2026-12-01T15:25:32Z``."""
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def expiry(exp: float | None, now: float) -> dict[str, Any]:
    """How ``--json`` shows an expiry: ISO 8601 time, seconds left (negative: past)."""
    if exp is None:
        return {"expires_at": None, "expires_in": None}
    return {"expires_at": iso_time(exp), "expires_in": int(exp - now)}


def token_record(token: str, username: str, profile: str, now: float) -> dict[str, Any]:
    """``acognito token --json``'s document (the fast and the full path print the same)."""
    return {"token": token, "username": username, "profile": profile, **expiry(jwt_exp(token), now)}


def _default_profile() -> str:
    """``$ACOGNITO_PROFILE``, else ``[acognito] default_profile`` of the config file,
    else ``default`` (the file is scanned for that one key, without configparser)."""
    env = os.environ.get("ACOGNITO_PROFILE")
    if env:
        return env
    try:
        with open(config_dir() / "config", encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeError):
        return "default"
    section = None
    for line in lines:
        text = line.strip()
        if text.startswith("[") and text.endswith("]"):
            section = text[1:-1].strip()
        elif section == "acognito" and text and text[0] not in "#;":
            cut = min((i for i in (text.find("="), text.find(":")) if i >= 0), default=-1)
            key, value = text[:cut].strip().lower(), text[cut + 1 :].strip()
            if cut > 0 and key == "default_profile" and value:
                return value
    return "default"


def newest(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The sign-in made last (the profile's current user)."""

    def when(entry: dict[str, Any]) -> float:
        at = entry.get("signed_in_at")
        return float(at) if isinstance(at, (int, float)) and not isinstance(at, bool) else 0.0

    return max(entries, key=when, default=None)


def _parse(argv: list[str]) -> dict[str, Any] | None:
    """The options of a plain ``token`` command line; None for anything else."""
    found: dict[str, Any] = {"profile": None, "username": None, "id": False, "min_valid": 60}
    found["json"] = False
    command = False
    items = iter(argv)
    for arg in items:
        name, eq, inline = arg.partition("=")
        if name in ("--profile", "--username", "-u", "--min-valid"):
            value = inline if eq else next(items, None)
            if value is None or (not eq and value.startswith("-")):
                return None
            if name == "--min-valid":
                if not value.isdigit() or not command:
                    return None
                found["min_valid"] = int(value)
            elif name == "--profile":
                found["profile"] = value
            elif not command:
                return None
            else:
                found["username"] = value
        elif eq:
            return None
        elif arg == "token" and not command:
            command = True
        elif arg in ("-q", "--quiet"):
            pass
        elif arg == "--json":
            found["json"] = True
        elif arg == "--id" and command:
            found["id"] = True
        else:
            return None
    return found if command else None


def fast_token(argv: list[str]) -> int | None:
    """Print a fresh cached token for ``acognito token ...``; None: take the full path."""
    options = _parse(argv)
    if options is None:
        return None
    import time

    now = time.time()
    profile = options["profile"] or _default_profile()
    entry = newest(read_logins(cache_dir(), profile, options["username"], now))
    if entry is None:
        return None
    token = entry.get("id_token" if options["id"] else "access_token")
    username = entry.get("username")
    exp = jwt_exp(token)
    if not isinstance(token, str) or not isinstance(username, str) or exp is None:
        return None
    if exp - now <= options["min_valid"]:
        return None
    if options["json"]:
        import json

        text = json.dumps(token_record(token, username, profile, now), indent=2, sort_keys=True)
    else:
        text = token
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        return _broken_pipe()
    return 0


def _broken_pipe() -> int:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    return 141
