"""The token cache: the sign-ins of each profile, one 0600 file per user.

A sign-in is a token-store entry (:mod:`._fast` defines the file format and reads it)
under the key ``tokens/<profile>/<user>``; it holds the tokens and the pool settings
they belong to (never the client secret: only where it comes from), so ``acognito
token`` can refresh without the config file. Who is signed in with a profile is exactly
the entries under it, and the current user is the one who signed in last: logging one
user out leaves the others, and the newest of them becomes current.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ._fast import STORE_FORMAT, cache_dir, jwt_exp, key_path, newest, read_entry
from .config import Profile, write_private
from .errors import CliError, UsageError

__all__ = ["CachedLogin", "TokenCache", "expires_within"]


@dataclass
class CachedLogin:
    """What one sign-in left behind. ``source`` is ``idp`` (the user-pool API) or
    ``oauth`` (the hosted UI's token endpoint): refreshes go back to the same place."""

    profile: str
    username: str
    source: str
    pool_id: str
    client_id: str
    access_token: str
    id_token: str | None = None
    refresh_token: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    client_secret_env: str | None = None
    client_secret_keyring: str | None = None
    domain: str | None = None
    refresh_rotation: str | None = None
    #: When this user signed in (epoch seconds): the newest sign-in is the current one.
    signed_in_at: float = 0.0

    def __repr__(self) -> str:  # never the tokens
        return (
            f"CachedLogin(profile={self.profile!r}, username={self.username!r}, "
            f"source={self.source!r})"
        )

    def as_profile(self) -> Profile:
        """The pool settings these tokens came from."""
        return Profile(
            name=self.profile,
            pool_id=self.pool_id,
            client_id=self.client_id,
            region=self.region,
            endpoint_url=self.endpoint_url,
            client_secret_env=self.client_secret_env,
            client_secret_keyring=self.client_secret_keyring,
            domain=self.domain,
            username=self.username,
            refresh_rotation=self.refresh_rotation,
        )

    @classmethod
    def from_profile(
        cls, profile: Profile, username: str, source: str, **tokens: Any
    ) -> CachedLogin:
        return cls(
            profile=profile.name,
            username=username,
            source=source,
            pool_id=profile.need("pool_id", "--pool-id"),
            client_id=profile.need("client_id", "--client-id"),
            region=profile.region,
            endpoint_url=profile.endpoint_url,
            client_secret_env=profile.client_secret_env,
            client_secret_keyring=profile.client_secret_keyring,
            domain=profile.domain,
            refresh_rotation=profile.refresh_rotation,
            signed_in_at=time.time(),
            **tokens,
        )


def expires_within(token: str | None, seconds: float) -> bool:
    """Whether a JWT is missing, unreadable or expires within ``seconds``."""
    exp = jwt_exp(token)
    return exp is None or exp - time.time() <= seconds


def _login(raw: dict[str, Any]) -> CachedLogin | None:
    known = {f.name for f in fields(CachedLogin)}
    try:
        login = CachedLogin(**{k: v for k, v in raw.items() if k in known})
    except TypeError:
        return None
    if not isinstance(login.access_token, str) or not isinstance(login.username, str):
        return None
    return login


class TokenCache:
    """Read and write cached sign-ins; every file 0600, every write atomic."""

    def __init__(self, directory: Path | None = None) -> None:
        self.root = directory or cache_dir()

    def path(self, profile: str, username: str) -> Path:
        return key_path(self.root, f"tokens/{profile}/{username}")

    def _dir(self, profile: str) -> Path:
        return self.path(profile, "x").parent

    def save(self, login: CachedLogin) -> Path:
        path = self.path(login.profile, login.username)
        entry = {
            "acognito_store": STORE_FORMAT,
            "version": 1,
            "expires_at": None,
            "value": asdict(login),
        }
        write_private(path, json.dumps(entry, indent=2))
        return path

    def entries(self, profile: str) -> list[CachedLogin]:
        """Every readable sign-in of ``profile``, sorted by user name."""
        folder = self._dir(profile)
        try:
            names = sorted(p for p in os.listdir(folder) if p.endswith(".json"))
        except OSError:
            return []
        now = time.time()
        found = []
        for name in names:
            raw = read_entry(folder / name, now)
            login = _login(raw) if raw is not None else None
            if login is not None:
                found.append(login)
        return found

    def users(self, profile: str) -> list[str]:
        return [login.username for login in self.entries(profile)]

    def current(self, profile: str) -> CachedLogin | None:
        """The sign-in made last with ``profile`` (None when nobody is signed in)."""
        entries = self.entries(profile)
        chosen = newest([asdict(e) for e in entries])
        if chosen is None:
            return None
        return next(e for e in entries if e.username == chosen["username"])

    def current_user(self, profile: str) -> str | None:
        found = self.current(profile)
        return found.username if found else None

    def load(self, profile: str, username: str | None = None) -> CachedLogin:
        """The cached sign-in of ``username`` (default: the current one) in ``profile``."""
        if username is None:
            found = self.current(profile)
            if found is None:
                raise UsageError(
                    f"nobody is signed in with profile {profile!r}",
                    hint=f"acognito login --profile {profile}",
                )
            return found
        path = self.path(profile, username)
        if not path.exists():
            raise UsageError(
                f"{username!r} is not signed in with profile {profile!r}",
                hint=f"acognito login --profile {profile} --username {username}",
            )
        raw = read_entry(path, time.time())
        login = _login(raw) if raw is not None else None
        if login is None:
            raise CliError(
                f"the token cache {path} is unreadable or from another version",
                hint=f"log in again: acognito login --profile {profile} --username {username}",
            )
        return login

    def delete(self, profile: str, username: str) -> bool:
        try:
            self.path(profile, username).unlink()
        except FileNotFoundError:
            return False
        with contextlib.suppress(OSError):
            self._dir(profile).rmdir()  # only when empty
        return True
