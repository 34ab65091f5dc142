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
from .hints import Facts
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
#: The settings that name a pool: a profile pointed elsewhere is another pool.
POOL_IDENTITY = ("pool_id", "endpoint_url")


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
    facts: Facts = field(default_factory=Facts)

    # profiles -------------------------------------------------------------------

    @property
    def named_profile(self) -> str | None:
        """The profile given with ``--profile`` (None: the default one)."""
        name = getattr(self.args, "profile", None)
        return str(name) if name else None

    def profile_name(self) -> str:
        return self.named_profile or self.store.default_name()

    def pool_options(self) -> dict[str, Any]:
        """The pool options given on this command line (None: not given)."""
        return {name: getattr(self.args, name, None) for name in POOL_FIELDS}

    def profile(self) -> Profile:
        """The chosen profile with this command line's pool options applied on top."""
        given = getattr(self.args, "pool_id", None) is not None
        base = self.store.load(self.named_profile, allow_new=given)
        profile = base.merged(self.pool_options())
        self.facts.profile = profile.name
        self.facts.endpoint_url = profile.endpoint_url
        return profile

    def username(self, profile: Profile) -> str | None:
        name = getattr(self.args, "username", None) or profile.username
        self.facts.username = name
        return name

    async def record_profile(self, profile: Profile, *, explicit: bool) -> str | None:
        """Save ``profile`` when the command line gave pool options (a flag login, a
        ``local --profile``): created when new, updated when named with ``--profile``.

        A profile that names another pool is only repointed when ``explicit``; then its
        sign-ins of the old pool are forgotten (they belong to that pool). Returns what
        happened, for a message; None when nothing changed.
        """
        saved = self.store.get(profile.name)
        if saved is not None and saved.settings() == profile.settings():
            return None
        if saved is not None and _other_pool(saved, profile):
            if not explicit:
                raise self.repoint_refused(saved, profile)
            await self.forget_sign_ins(profile.name, f"they belong to {saved.pool_id}")
        self.store.save(profile)
        verb = "Saved" if saved is None else "Updated"
        return f"{verb} profile {profile.name!r} ({profile.pool_id})."

    def repoint_refused(self, saved: Profile, wanted: Profile) -> UsageError:
        return UsageError(
            f"profile {saved.name!r} is for pool {saved.pool_id}"
            + (f" at {saved.endpoint_url}" if saved.endpoint_url else "")
            + f", not {wanted.pool_id}",
            hint="keep both: add --profile NEW_NAME; or repoint it: "
            f"acognito configure --profile {saved.name} --pool-id {wanted.pool_id}",
        )

    def check_login_target(self, profile: Profile) -> None:
        """Before asking a password: refuse a flag login that would repoint a profile
        the user did not name."""
        saved = self.store.get(profile.name)
        if saved is not None and self.named_profile is None and _other_pool(saved, profile):
            raise self.repoint_refused(saved, profile)

    async def forget_sign_ins(self, name: str, why: str) -> None:
        users = await self.cache.users(name)
        for user in users:
            await self.cache.delete(name, user)
        if users:
            self.out.say(
                f"Forgot the cached sign-in(s) of {', '.join(users)} in profile {name!r} "
                f"({why}; they were not revoked)."
            )

    # questions ------------------------------------------------------------------

    @property
    def interactive(self) -> bool:
        piped = getattr(self.args, "password_stdin", False) or getattr(
            self.args, "temporary_password_stdin", False
        )
        return not piped and sys.stdin.isatty()

    async def ask(self, prompt: str, *, secret: bool = False, what: str = "an answer") -> str:
        """Ask the terminal (or read a line of stdin when it is not a terminal)."""
        self.facts.answering = what  # a refusal of this answer gets the matching hint
        answer = await anyio.to_thread.run_sync(_read_line, prompt, secret, not self.interactive)
        if answer is None:
            raise UsageError(
                f"no {what}: stdin ended; pipe it in (one line per question) or run in a terminal"
            )
        if not answer:
            raise UsageError(f"{what} may not be empty")
        return answer

    async def ask_optional(self, prompt: str) -> str:
        """A question that Enter (an empty line) answers with "keep it"."""
        self.facts.answering = None
        answer = await anyio.to_thread.run_sync(_read_line, prompt, False, not self.interactive)
        return (answer or "").strip()

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

    async def cached_cognito(self) -> tuple[CachedLogin, AsyncCognito]:
        """The cached sign-in and a session holding its tokens (for account commands)."""
        login = await self.cached()
        return login, self.cognito(
            login.as_profile(),
            login.username,
            access_token=login.access_token,
            refresh_token=login.refresh_token,
            id_token=login.id_token,
        )

    async def cached(self) -> CachedLogin:
        """The cached sign-in this command is about (``--username``, else the current one).

        A profile that neither exists nor has sign-ins is a mistyped name: said so,
        with the near names, rather than "nobody is signed in".
        """
        name = self.profile_name()
        username = getattr(self.args, "username", None)
        self.facts.profile = name
        self.facts.username = username
        if self.store.get(name) is None and not await self.cache.users(name):
            if self.named_profile is not None or self.store.names():
                raise self.store.unknown(name)
            raise UsageError(
                "nobody is signed in, and there are no profiles yet",
                hint="acognito configure --pool-id ID --client-id ID, then acognito login "
                "(no AWS account? acognito local --profile local)",
            )
        login = await self.cache.load(name, username)
        self.facts.username = login.username
        self.facts.endpoint_url = login.endpoint_url
        return login


def _other_pool(a: Profile, b: Profile) -> bool:
    """Whether two profiles name different pools (a missing setting matches anything)."""
    return any(
        getattr(a, key) and getattr(b, key) and getattr(a, key) != getattr(b, key)
        for key in POOL_IDENTITY
    )
