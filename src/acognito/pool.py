"""``CognitoPool``: the pool a service makes and holds, and ``aclose_pools()``.

A pool holds, per event loop and configuration, everything that costs to build (the
aiobotocore client, the JWKS cache, the verifiers: :class:`~acognito._pools.SharedPool`);
its sessions (:class:`~acognito.AsyncCognito`) borrow them and keep only who the user
is. ``AsyncCognito(...)`` on its own borrows an implicit pool, one per running event
loop and configuration, so ``async with AsyncCognito(...)`` per request is the fast
path too: closing a session keeps the client and keys for the next one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._pools import SharedPool, aclose_pools
from ._settings import PoolOptions, Settings
from .cognito import AsyncCognito

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["CognitoPool", "aclose_pools"]


class CognitoPool(SharedPool[AsyncCognito]):
    """One user pool and app client on one event loop: the resources sessions share.

    ``async with CognitoPool(pool_id, client_id, ...) as pool:`` then
    ``async with pool.session(username="bob") as cognito:`` per user. ``options`` are
    :class:`~acognito.AsyncCognito`'s pool-wide ones (:class:`~acognito._settings.PoolOptions`,
    all keyword-only here). The pool belongs to the event loop it is first used on; it
    is closed by :meth:`aclose`, or when that loop ends.
    """

    def __init__(
        self, user_pool_id: str, client_id: str | None, **options: Unpack[PoolOptions]
    ) -> None:
        settings = Settings(user_pool_id, client_id, **options)
        super().__init__(settings, implicit=False, make_session=AsyncCognito._on_pool)
