"""A session's hold on its pool: :class:`PoolLease`.

The lease binds the session to a pool on first use (its own ``CognitoPool``, the
parent's for a ``for_user`` child, or the running loop's implicit pool), counts it as a
borrower, and releases it at close. It is the session's one send path to Cognito
(:meth:`PoolLease.call`): every request of every group and of the sign-in machine goes
through it. It holds no reference to the session, so a session can be collected while
its lease is released.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from .._idp import IdpClient
from .._pools import SessionFactory, SharedPool, implicit_pool
from .._settings import Settings
from ..context import UserContext, context_parameters
from ..errors import ConfigurationError, SessionClosedError
from ..jwks import JwksCache
from ..verify import CognitoVerifier

__all__ = ["PoolLease"]

S = TypeVar("S")


class PoolLease(Generic[S]):
    """Borrow a pool for one session; its own JWKS cache and verifiers, if given keys."""

    def __init__(
        self,
        settings: Settings,
        pool: SharedPool[S] | None,
        parent: PoolLease[S] | None,
        make_session: SessionFactory[S],
        *,
        jwks: Mapping[str, Any] | None = None,
        jwks_cache: JwksCache | None = None,
    ) -> None:
        self.settings = settings
        self._pool, self._parent = pool, parent
        self._make_session = make_session
        self._borrowed = self._closed = False
        self._detached: IdpClient | None = None
        self._own_jwks: JwksCache | None = None
        self._owns_jwks = False
        self._own_verifiers: tuple[CognitoVerifier, CognitoVerifier] | None = None
        #: The user behind this session's requests, for Cognito's threat protection
        #: (``UserContextData`` / ``ContextData`` on the calls that take them).
        self.user_context: UserContext | None = None
        if (jwks is not None or jwks_cache is not None) and settings.client_id is not None:
            # Keys of its own: this session does not share the pool's verifiers.
            self._owns_jwks = jwks_cache is None
            self._own_jwks = cache = (
                jwks_cache
                if jwks_cache is not None
                else JwksCache(allow_http=settings.jwks_allow_http)
            )
            self._own_verifiers = (
                settings.verifier("id", cache, jwks),
                settings.verifier("access", cache, jwks),
            )

    def child(self) -> PoolLease[S]:
        """The lease of a ``for_user`` child: the same pool, keys and verifiers."""
        root = self if self._parent is None else self._parent
        return PoolLease(root.settings, None, root, self._make_session)

    @property
    def pool(self) -> SharedPool[S] | None:
        """The pool borrowed (``None`` until first used)."""
        if self._parent is not None:
            return self._parent.pool
        return self._pool

    @property
    def closed(self) -> bool:
        if self._closed:
            return True
        if self._parent is not None:
            return self._parent.closed
        return self._pool is not None and self._pool.closed

    async def bind(self) -> SharedPool[S]:
        """The pool, bound on first use to the running loop's pool for these settings."""
        known = self.pool
        if known is not None:
            known.check_loop()  # another loop's session: say so, not "closed"
        if self.closed:
            raise SessionClosedError("this AsyncCognito session is closed")
        if self._parent is not None:
            return await self._parent.bind()
        pool = self._pool
        if pool is None:
            pool = self._pool = await implicit_pool(self.settings, self._make_session)
        else:
            await pool._bind()
        if not self._borrowed:
            self._borrowed = True
            pool._borrow()
        return pool

    async def idp(self) -> IdpClient:
        """The pool's aiobotocore client wrapper, the pool bound first."""
        pool = await self.bind()
        if self.closed:  # a sibling closed the pool meanwhile
            raise SessionClosedError("this AsyncCognito session is closed")
        return pool.idp

    @property
    def current_idp(self) -> IdpClient:
        """The pool's client wrapper once bound (an unopened stand-in before)."""
        pool = self.pool
        if pool is not None:
            return pool.idp
        if self._detached is None:
            self._detached = IdpClient(
                region=self.settings.region, endpoint_url=self.settings.endpoint_url
            )
        return self._detached

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Send one request (botocore's snake_case ``operation``); the answer without
        its ``ResponseMetadata``. The session's one send path: the user's context goes
        with every call that takes it (a parameter the caller passed wins)."""
        if self.user_context is not None:
            params = {**context_parameters(operation, self.user_context), **params}
        response = await (await self.idp()).call(operation, **params)
        response.pop("ResponseMetadata", None)
        return response

    async def verifiers(self) -> tuple[CognitoVerifier, CognitoVerifier]:
        """(id, access) verifiers: the session's own (``jwks=`` / ``jwks_cache=``), else
        the pool's."""
        if self._parent is not None:
            return await self._parent.verifiers()
        if self._own_verifiers is not None:
            return self._own_verifiers
        pool = await self.bind()
        if pool.id_verifier is None or pool.access_verifier is None:
            raise ConfigurationError("verifying tokens needs the app client's client_id")
        return pool.id_verifier, pool.access_verifier

    @property
    def jwks_cache(self) -> JwksCache:
        """The JWKS cache the session verifies with (its pool's, unless given its own)."""
        if self._parent is not None:
            return self._parent.jwks_cache
        if self._own_jwks is not None:
            return self._own_jwks
        pool = self.pool
        if pool is None:
            raise ConfigurationError(
                "the session has no JWKS cache before its first call: it uses its pool's"
            )
        return pool.jwks_cache

    async def aclose(self) -> None:
        """Release the pool (it stays open for its other sessions) and close the JWKS
        cache made for this session alone. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._borrowed and self._pool is not None:
            self._borrowed = False
            self._pool._release()
        if self._owns_jwks and self._own_jwks is not None:
            await self._own_jwks.aclose()
