"""What every command gets: its arguments, the output channels, profiles, the token
cache, questions to the person at the terminal, and sessions built from a profile."""

from __future__ import annotations

import argparse
import getpass
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from .cache import CachedLogin, TokenCache
from .config import Profile, ProfileStore, resolve_secret
from .errors import UsageError
from .output import Output

if TYPE_CHECKING:
    from acognito import AsyncCognito

__all__ = ["PROMPTING", "Context"]

#: Set while a worker thread waits for a line from the terminal: Ctrl-C then ends
#: the process at once (the thread cannot be cancelled, and waiting for it hangs).
PROMPTING = threading.Event()

#: The pool options a command line may give instead of (or over) a profile.
POOL_FIELDS = (
    "pool_id",
    "client_id",
    "region",
    "endpoint_url",
    "client_secret_env",
    "client_secret_keyring",
    "domain",
    "scopes",
)


def _read_line(prompt: str, secret: bool, from_stdin: bool) -> str | None:
    """One answer (blocking: runs in a worker thread). None at end of input."""
    PROMPTING.set()
    try:
        if from_stdin:
            line = sys.stdin.readline()
            return line.rstrip("\r\n") if line else None
        if secret:
            return getpass.getpass(prompt, stream=sys.stderr)
        sys.stderr.write(prompt)
        sys.stderr.flush()
        line = sys.stdin.readline()
        return line.rstrip("\r\n") if line else None
    except EOFError:
        return None
    finally:
        PROMPTING.clear()


@dataclass
class Context:
    """The per-invocation state handed to each command."""

    args: argparse.Namespace
    out: Output
    store: ProfileStore = field(default_factory=ProfileStore)
    cache: TokenCache = field(default_factory=TokenCache)

    # profiles -------------------------------------------------------------------

    def profile(self) -> Profile:
        """The chosen profile with this command line's pool options applied on top."""
        given = getattr(self.args, "pool_id", None) is not None
        base = self.store.load(getattr(self.args, "profile", None), allow_new=given)
        overrides = {name: getattr(self.args, name, None) for name in POOL_FIELDS}
        return base.merged(overrides)

    def username(self, profile: Profile) -> str | None:
        return getattr(self.args, "username", None) or profile.username

    # questions ------------------------------------------------------------------

    @property
    def interactive(self) -> bool:
        return not getattr(self.args, "password_stdin", False) and sys.stdin.isatty()

    async def ask(self, prompt: str, *, secret: bool = False, what: str = "an answer") -> str:
        """Ask the terminal (or read a line of stdin when it is not a terminal)."""
        answer = await anyio.to_thread.run_sync(_read_line, prompt, secret, not self.interactive)
        if answer is None:
            raise UsageError(
                f"no {what}: stdin ended; pipe it in (one line per question) or run in a terminal"
            )
        if not answer:
            raise UsageError(f"{what} may not be empty")
        return answer

    async def ask_new_password(self) -> str:
        first = await self.ask("new password: ", secret=True, what="new password")
        if self.interactive:
            again = await self.ask("new password (again): ", secret=True, what="new password")
            if again != first:
                raise UsageError("the two new passwords differ; run the command again")
        return first

    # sessions -------------------------------------------------------------------

    def cognito(self, profile: Profile, username: str | None = None, **extra: Any) -> AsyncCognito:
        """An AsyncCognito session for ``profile`` (the secret read from its source)."""
        from acognito import AsyncCognito

        return AsyncCognito(
            profile.need("pool_id", "--pool-id"),
            profile.need("client_id", "--client-id"),
            user_pool_region=profile.region,
            username=username,
            client_secret=resolve_secret(profile),
            endpoint_url=profile.endpoint_url,
            refresh_token_rotation=profile.refresh_rotation == "on",
            **extra,
        )

    def cached_cognito(self) -> tuple[CachedLogin, AsyncCognito]:
        """The cached sign-in and a session holding its tokens (for account commands)."""
        login = self.cached()
        return login, self.cognito(
            login.as_profile(),
            login.username,
            access_token=login.access_token,
            refresh_token=login.refresh_token,
            id_token=login.id_token,
        )

    def cached(self, profile: Profile | None = None) -> CachedLogin:
        """The cached sign-in this command is about (``--username`` or the last one)."""
        name = profile.name if profile else None
        # A sign-in made with pool options on the command line has a cache but maybe no
        # saved profile: the cache alone is enough.
        name = name or getattr(self.args, "profile", None) or self.store.default_name()
        return self.cache.load(name, getattr(self.args, "username", None))
