"""What the blocking groups of :class:`acognito.sync.Cognito` stand on.

Each group (:mod:`._signin`, :mod:`._account`, :mod:`._admin`) is a class over
:class:`SyncHost`: the async session it runs and the one way to run it (on the process's
loop thread). :class:`OnAsync` is an attribute that lives on the async session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from ..cognito import AsyncCognito
    from ..models import User
    from .models import GroupObj, UserObj

__all__ = ["OnAsync", "SyncHost"]

T = TypeVar("T")


class SyncHost(Protocol):
    """The async session a blocking group runs, and how it runs a coroutine of it."""

    _async: AsyncCognito

    def _run(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T: ...


class MakesSyncObjects(SyncHost, Protocol):
    """pycognito's blocking ``UserObj`` / ``GroupObj`` from the async core's values."""

    def _user(self, user: User, attr_map: Mapping[str, str] | None) -> UserObj: ...

    def get_group_obj(self, group_data: Mapping[str, Any]) -> GroupObj: ...


class OnAsync(Generic[T]):
    """An attribute of the async session, read and set there (``username``, tokens,
    claims, ...), so both objects always agree."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> OnAsync[T]: ...

    @overload
    def __get__(self, obj: SyncHost, owner: type) -> T: ...

    def __get__(self, obj: SyncHost | None, owner: type) -> OnAsync[T] | T:
        if obj is None:
            return self
        value: T = getattr(obj._async, self.name)
        return value

    def __set__(self, obj: SyncHost, value: T) -> None:
        setattr(obj._async, self.name, value)
