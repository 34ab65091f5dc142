"""The token cache: one 0600 JSON file per profile and user, like ``aws sso login``'s.

``<cache dir>/tokens/<profile>/<user>.json`` holds the tokens and the pool settings
they belong to (never the client secret: only where it comes from), so ``acognito
token`` can refresh without the config file. ``current`` names the last user signed in.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .config import Profile, cache_dir, write_private
from .errors import CliError, UsageError

__all__ = ["CachedLogin", "TokenCache"]


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
            **tokens,
        )


def _exp(token: str | None) -> float | None:
    from acognito.tokens import peek_claims

    if not token:
        return None
    try:
        exp = peek_claims(token).get("exp")
    except Exception:
        return None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


def expires_within(token: str | None, seconds: float) -> bool:
    """Whether a JWT is missing, unreadable or expires within ``seconds``."""
    exp = _exp(token)
    return exp is None or exp - time.time() <= seconds


class TokenCache:
    """Read and write cached sign-ins; every file 0600, every write atomic."""

    def __init__(self, directory: Path | None = None) -> None:
        self.root = (directory or cache_dir()) / "tokens"

    def _dir(self, profile: str) -> Path:
        return self.root / quote(profile, safe="")

    def path(self, profile: str, username: str) -> Path:
        return self._dir(profile) / f"{quote(username, safe='')}.json"

    def current_user(self, profile: str) -> str | None:
        try:
            name = (self._dir(profile) / "current").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def save(self, login: CachedLogin) -> Path:
        path = self.path(login.profile, login.username)
        write_private(path, json.dumps({"version": 1, **asdict(login)}, indent=2))
        write_private(self._dir(login.profile) / "current", login.username + "\n")
        return path

    def load(self, profile: str, username: str | None = None) -> CachedLogin:
        """The cached sign-in of ``username`` (default: the last one) in ``profile``."""
        name = username or self.current_user(profile)
        if not name:
            raise UsageError(
                f"nobody is signed in with profile {profile!r}: "
                f"run 'acognito login --profile {profile}'"
            )
        path = self.path(profile, name)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError(
                f"{name!r} is not signed in with profile {profile!r}: run "
                f"'acognito login --profile {profile} --username {name}'"
            ) from None
        except (OSError, ValueError) as exc:
            raise CliError(
                f"the token cache {path} is unreadable ({exc}); "
                "run 'acognito logout' and log in again"
            ) from None
        known = {f.name for f in fields(CachedLogin)}
        try:
            return CachedLogin(**{k: v for k, v in raw.items() if k in known})
        except TypeError:
            raise CliError(f"the token cache {path} is incomplete; log in again") from None

    def delete(self, profile: str, username: str) -> bool:
        removed = False
        with contextlib.suppress(FileNotFoundError):
            self.path(profile, username).unlink()
            removed = True
        if self.current_user(profile) == username:
            with contextlib.suppress(FileNotFoundError):
                (self._dir(profile) / "current").unlink()
        return removed

    def users(self, profile: str) -> list[str]:
        from urllib.parse import unquote

        folder = self._dir(profile)
        if not folder.is_dir():
            return []
        return sorted(unquote(p.stem) for p in folder.glob("*.json"))
