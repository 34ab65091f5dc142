"""The token cache: the sign-ins of each profile, one 0600 file per user.

A :class:`~acognito.stores.FileTokenStore` rooted at the cache dir holds one entry per
sign-in under the key ``tokens/<profile>/<user>`` (:func:`._fast.login_key`): a JSON
object with the tokens and the pool settings they belong to (never the client secret:
only where it comes from), so ``acognito token`` can refresh without the config file,
and its fast path can read it with the standard library alone.

Who is signed in with a profile is exactly its entries, and the current user is the one
who signed in last: logging one user out leaves the others, and the newest of them
becomes current.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from ._fast import cache_dir, jwt_exp, login_key, newest, read_logins, split_key
from .config import Profile
from .errors import CliError, UsageError

if TYPE_CHECKING:
    from acognito.stores import FileTokenStore

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
    """Read and write cached sign-ins: a FileTokenStore (files 0600, writes atomic)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.root = directory or cache_dir()
        self.directory = self.root / "tokens"
        self._store: FileTokenStore | None = None

    @property
    def store(self) -> FileTokenStore:
        if self._store is None:
            from acognito.stores import FileTokenStore

            self._store = FileTokenStore(self.root)
        return self._store

    def path(self, profile: str, username: str) -> Path:
        return self.store.path(login_key(profile, username))

    async def save(self, login: CachedLogin) -> Path:
        value = json.dumps(asdict(login), separators=(",", ":")).encode()
        await self.store.set(login_key(login.profile, login.username), value)
        return self.path(login.profile, login.username)

    async def entries(self, profile: str, username: str | None = None) -> list[CachedLogin]:
        """The readable sign-ins of ``profile`` (of ``username`` only, when given)."""
        found = await anyio.to_thread.run_sync(
            read_logins, self.root, profile, username, time.time()
        )
        logins = [login for login in map(_login, found) if login is not None]
        return sorted(logins, key=lambda login: login.username)

    async def users(self, profile: str) -> list[str]:
        return [login.username for login in await self.entries(profile)]

    async def current(self, profile: str) -> CachedLogin | None:
        """The sign-in made last with ``profile`` (None when nobody is signed in)."""
        entries = await self.entries(profile)
        chosen = newest([asdict(e) for e in entries])
        if chosen is None:
            return None
        return next(e for e in entries if e.username == chosen["username"])

    async def current_user(self, profile: str) -> str | None:
        found = await self.current(profile)
        return found.username if found else None

    async def profiles(self) -> set[str]:
        """Every profile with at least one cached sign-in."""

        def scan() -> set[str]:
            from acognito.stores import file_format

            names: set[str] = set()
            try:
                paths = sorted(self.directory.glob("*/*.json"))
            except OSError:
                return names
            for path in paths:
                try:
                    record = file_format.read_record(path)
                except (OSError, ValueError):
                    continue
                found = None if record is None else split_key(record.key)
                if found is not None:
                    names.add(found[0])
            return names

        return await anyio.to_thread.run_sync(scan)

    async def load(self, profile: str, username: str | None = None) -> CachedLogin:
        """The cached sign-in of ``username`` (default: the current one) in ``profile``."""
        if username is None:
            found = await self.current(profile)
            if found is None:
                raise UsageError(
                    f"nobody is signed in with profile {profile!r}",
                    hint=f"acognito login --profile {profile}",
                )
            return found
        logins = await self.entries(profile, username)
        if logins:
            return logins[0]
        path = self.path(profile, username)
        if not await anyio.to_thread.run_sync(path.exists):
            raise UsageError(
                f"{username!r} is not signed in with profile {profile!r}",
                hint=f"acognito login --profile {profile} --username {username}",
            )
        raise CliError(
            f"the token cache {path} is unreadable or from another version",
            hint=f"log in again: acognito login --profile {profile} --username {username}",
        )

    async def delete(self, profile: str, username: str) -> bool:
        path = self.path(profile, username)
        existed = await anyio.to_thread.run_sync(path.exists)
        await self.store.delete(login_key(profile, username))
        return existed
