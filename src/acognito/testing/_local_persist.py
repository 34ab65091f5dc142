"""The local Cognito's state on disk: ``--state DIR`` (server process only).

What a restart must not lose is kept in one file, ``DIR/local-cognito.state``: moto's
pools (with their app clients, users, groups, resource servers, domains, and the tokens
moto honours or has revoked) and acognito's own records (devices, refresh tokens and
their rotation, TOTP secrets, email MFA, passkeys). Ids stay as they were, and the
signing key is moto's fixed one, so tokens issued before a restart verify after it.

The file is written whole and atomically (a temporary file renamed over it, mode 0600,
at most a few times a second while requests change things, and at shutdown). It is a
pickle read back with an allow-list of the classes it may hold (moto's Cognito models,
our records, a few standard ones): a file that names anything else, or is no such file,
stops the server with a message instead of running code.
"""

from __future__ import annotations

import io
import os
import pickle
import tempfile
import threading
from pathlib import Path
from typing import Any

from moto.cognitoidp.models import CognitoIdpUserPool, cognitoidp_backends

from ._local_state import LocalState

__all__ = ["STATE_FILE", "StateFileError", "StateStore"]

STATE_FILE = "local-cognito.state"
_FORMAT = 1
_KEY = "moto-pool-key"
#: Modules whose classes a state file may name (and, for builtins, these names only).
_MODULES = ("moto.cognitoidp.models", "acognito.testing._local_records")
_STANDARD = {
    ("collections", "OrderedDict"),
    ("collections", "deque"),
    ("datetime", "datetime"),
    ("datetime", "timezone"),
    ("datetime", "timedelta"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
}
#: Seconds between saves while requests keep changing things.
SAVE_EVERY = 0.25


class StateFileError(Exception):
    """The state file cannot be read back (corrupt, foreign, or of another format)."""


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> Any:
        # The pool key (a cryptography object, not picklable) is moto's fixed key anyway.
        if type(obj).__name__ == "RSAKey" and type(obj).__module__.startswith("joserfc"):
            return _KEY
        return None


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module in _MODULES or (module, name) in _STANDARD:
            return super().find_class(module, name)
        raise StateFileError(f"the state file names {module}.{name}, which it may not")

    def persistent_load(self, pid: Any) -> Any:
        if pid != _KEY:
            raise StateFileError("the state file refers to an unknown object")
        return _pool_key()


def _pool_key() -> Any:
    """moto's published pool key, as moto loads it for every pool."""
    from joserfc import jwk
    from moto.utilities.utils import load_resource

    return jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


class StateStore:
    """Loads and saves the state of one server in ``directory``."""

    def __init__(self, directory: str | os.PathLike[str], state: LocalState) -> None:
        self.directory = Path(directory)
        self.path = self.directory / STATE_FILE
        self.state = state
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ reading

    def load(self) -> bool:
        """Read the state back into moto and ``state``; False when there is none yet."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return False
        try:
            found = _Unpickler(io.BytesIO(raw)).load()
        except StateFileError:
            raise
        except Exception as exc:  # a truncated or foreign file
            raise StateFileError(f"{self.path} is no local Cognito state file: {exc}") from None
        if not isinstance(found, dict) or found.get("format") != _FORMAT:
            raise StateFileError(f"{self.path} is of another format")
        with self.state.lock:
            for (account, region), kept in found["backends"].items():
                backend = cognitoidp_backends[account][region]
                backend.user_pools.update(kept["user_pools"])
                backend.user_pool_domains.update(kept["user_pool_domains"])
            self._restore(found["acognito"])
        return True

    def _restore(self, kept: dict[str, Any]) -> None:
        state = self.state
        state.devices.update(kept["devices"])
        state.refresh.update(kept["refresh"])
        state.email_config.update(kept["email_config"])
        state.email_users.update(kept["email_users"])
        state.passkeys.update(kept["passkeys"])
        state.custom_auth.update(kept["custom_auth"])
        for (pool_id, username), (confirmed, pending) in kept["totp"].items():
            pool = _pool(pool_id)
            user = pool.users.get(username) if pool is not None else None
            if user is not None:
                state.totp.restore(user, confirmed, pending)

    # ------------------------------------------------------------ writing

    def snapshot(self) -> bytes:
        """The whole state as the file holds it (call with the state's lock held)."""
        backends = {}
        for account, regions in list(cognitoidp_backends.items()):
            for region, backend in list(regions.items()):
                if backend.user_pools or backend.user_pool_domains:
                    backends[(account, region)] = {
                        "user_pools": dict(backend.user_pools),
                        "user_pool_domains": dict(backend.user_pool_domains),
                    }
        state = self.state
        totp = {}
        for backend in state.backends():
            for pool in list(backend.user_pools.values()):
                for user in list(pool.users.values()):
                    confirmed, pending = state.totp.confirmed(user), state.totp.pending(user)
                    if confirmed or pending:
                        totp[(pool.id, user.username)] = (confirmed, pending)
        kept = {
            "devices": state.devices,
            "refresh": state.refresh,
            "email_config": state.email_config,
            "email_users": state.email_users,
            "passkeys": state.passkeys,
            "custom_auth": state.custom_auth,
            "totp": totp,
        }
        out = io.BytesIO()
        _Pickler(out, protocol=5).dump({"format": _FORMAT, "backends": backends, "acognito": kept})
        return out.getvalue()

    def save(self) -> None:
        """Write the file now, atomically."""
        with self.state.lock:
            data = self.snapshot()
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".state-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def changed(self) -> None:
        """Something may have changed: save soon."""
        self._dirty.set()

    def start(self) -> None:
        """Save in a background thread whenever something changed (at most every 0.25 s)."""

        def run() -> None:
            while not self._stopping.is_set():
                self._dirty.wait()
                if self._stopping.is_set():
                    return
                self._dirty.clear()
                self.save()
                self._stopping.wait(SAVE_EVERY)

        self._thread = threading.Thread(target=run, name="local-cognito-state", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """A last save, then no more."""
        self._stopping.set()
        self._dirty.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.save()


def _pool(pool_id: str) -> CognitoIdpUserPool | None:
    for regions in list(cognitoidp_backends.values()):
        for backend in list(regions.values()):
            pool = backend.user_pools.get(pool_id)
            if pool is not None:
                return pool
    return None
