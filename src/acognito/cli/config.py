"""Profiles: named pool settings in ``<config dir>/config`` (INI), and where files live.

A profile holds the pool id, app client id, region, an optional ``endpoint_url`` (an
emulator), the Cognito domain for hosted-UI sign-in and where the client secret comes
FROM (an environment variable or a keyring entry) - never the secret itself.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from ._fast import cache_dir, config_dir
from .errors import UsageError

__all__ = [
    "Profile",
    "ProfileStore",
    "cache_dir",
    "config_dir",
    "resolve_secret",
    "write_private",
]

DEFAULT_PROFILE = "default"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only (0600).

    The temporary file is created 0600 in the same directory, then renamed over the
    target, so a reader never sees half a file and the mode is never wider.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@dataclass(frozen=True)
class Profile:
    """One pool configuration. Every field may be overridden on the command line."""

    name: str = DEFAULT_PROFILE
    pool_id: str | None = None
    client_id: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    client_secret_env: str | None = None
    client_secret_keyring: str | None = None
    domain: str | None = None
    username: str | None = None
    scopes: str | None = None
    #: The loopback port of the hosted-UI redirect (``http://localhost:PORT/callback``).
    callback_port: str | None = None
    #: "on" when the app client rotates refresh tokens (GetTokensFromRefreshToken).
    refresh_rotation: str | None = None

    def settings(self) -> dict[str, str]:
        """The non-empty fields except the name (what the config file stores)."""
        return {k: v for k, v in asdict(self).items() if k != "name" and v}

    def merged(self, overrides: Mapping[str, Any]) -> Profile:
        """This profile with every non-None override applied."""
        names = {f.name for f in fields(self)} - {"name"}
        changes = {k: v for k, v in overrides.items() if k in names and v is not None}
        return replace(self, **changes)

    def need(self, field: str, flag: str) -> str:
        """A field that the command cannot do without; a usage error names the fix."""
        value = getattr(self, field)
        if not value:
            raise UsageError(
                f"no {field.replace('_', ' ')} in profile {self.name!r}",
                hint=f"pass {flag}, or save it: acognito configure --profile {self.name}",
            )
        return str(value)


class ProfileStore:
    """The config file: ``[profile NAME]`` sections and an ``[acognito]`` defaults section."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or config_dir()
        self.path = self.directory / "config"

    def _read(self) -> configparser.ConfigParser:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(self.path, encoding="utf-8")
        except configparser.Error as exc:
            raise UsageError(
                f"cannot read {self.path}: {exc.message}", hint="fix or delete that file"
            ) from None
        return parser

    def _write(self, parser: configparser.ConfigParser) -> None:
        import io

        buffer = io.StringIO()
        parser.write(buffer)
        write_private(self.path, buffer.getvalue())

    def names(self) -> list[str]:
        return sorted(
            s[len("profile ") :] for s in self._read().sections() if s.startswith("profile ")
        )

    def default_name(self) -> str:
        """``$ACOGNITO_PROFILE``, else the one chosen with ``profile use``, else ``default``."""
        env = os.environ.get("ACOGNITO_PROFILE")
        if env:
            return env
        return self._read().get("acognito", "default_profile", fallback=DEFAULT_PROFILE)

    def get(self, name: str) -> Profile | None:
        parser = self._read()
        section = f"profile {name}"
        if not parser.has_section(section):
            return None
        known = {f.name for f in fields(Profile)} - {"name"}
        values = {k: v for k, v in parser.items(section) if k in known and v}
        return Profile(name=name, **values)

    def load(self, name: str | None, *, allow_new: bool = False) -> Profile:
        """The named (or default) profile; an empty one when it does not exist yet
        (a named one only with ``allow_new``: the command line gives the pool)."""
        chosen = name or self.default_name()
        found = self.get(chosen)
        if found is None and name is not None and not allow_new:
            raise self.unknown(chosen)
        return found or Profile(name=chosen)

    def unknown(self, name: str) -> UsageError:
        """The error for a profile that does not exist: the near names, how to make it."""
        import difflib

        known = self.names()
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            guess = f"; did you mean {close[0]!r}?"
        elif known:
            guess = f" (known: {', '.join(known)})"
        else:
            guess = " (there are no profiles yet)"
        return UsageError(
            f"no profile {name!r}{guess}",
            hint=f"create it: acognito configure --profile {name} --pool-id ID --client-id ID",
        )

    def save(self, profile: Profile) -> None:
        parser = self._read()
        section = f"profile {profile.name}"
        if parser.has_section(section):
            parser.remove_section(section)
        parser.add_section(section)
        for key, value in profile.settings().items():
            parser.set(section, key, value)
        self._write(parser)

    def delete(self, name: str) -> bool:
        parser = self._read()
        removed = parser.remove_section(f"profile {name}")
        if removed:
            if parser.get("acognito", "default_profile", fallback=None) == name:
                parser.remove_option("acognito", "default_profile")
            self._write(parser)
        return removed

    def use(self, name: str) -> None:
        parser = self._read()
        if not parser.has_section(f"profile {name}"):
            raise self.unknown(name)
        if not parser.has_section("acognito"):
            parser.add_section("acognito")
        parser.set("acognito", "default_profile", name)
        self._write(parser)


def resolve_secret(profile: Profile) -> str | None:
    """The client secret from its source (environment or keyring), or None without one.

    A named source that yields nothing is an error: sending no secret would fail later
    with a message that no longer says why.
    """
    if profile.client_secret_env:
        value = os.environ.get(profile.client_secret_env)
        if not value:
            raise UsageError(
                f"environment variable {profile.client_secret_env} (the client secret) is "
                "not set or empty",
                hint=f"export {profile.client_secret_env}, or drop --client-secret-env for a "
                "public client",
            )
        return value
    if profile.client_secret_keyring:
        service, _, user = profile.client_secret_keyring.partition(":")
        try:
            import keyring
        except ImportError:
            raise UsageError(
                "the profile reads its client secret from a keyring, but 'keyring' is not "
                "installed",
                hint="pip install 'acognito[cli]'",
            ) from None
        secret = keyring.get_password(service, user or profile.client_id or "")
        if not secret:
            raise UsageError(
                f"no keyring entry {profile.client_secret_keyring!r}",
                hint=f"store it: keyring set {service} {user or profile.client_id}",
            )
        return str(secret)
    return None
