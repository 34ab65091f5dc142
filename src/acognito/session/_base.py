"""What every command group of the session stands on: the narrow contract they share.

Each group (:mod:`.tokens`, :mod:`.signin`, :mod:`.account`, :mod:`.admin`) is a class
over a Protocol naming only what it uses of the session, the way redis-py's command
groups sit on ``CommandsProtocol``. :class:`~acognito.AsyncCognito` is composed of the
groups and implements every contract; a test checks that no contract's stub shadows an
implementation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ..errors import ConfigurationError
from ..models import Group, User

__all__ = ["CallsCognito", "MakesObjects", "MakesUsers", "need"]


def need(value: object, what: str) -> str:
    """``value`` if it is a non-empty string, else a :class:`ConfigurationError`."""
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} is required (a non-empty string)")
    return value


class CallsCognito(Protocol):
    """The session's one send path to Cognito (every request of every group)."""

    async def _call(self, operation: str, **params: Any) -> dict[str, Any]: ...


class MakesUsers(Protocol):
    """pycognito's ``User`` objects bound to the session."""

    def get_user_obj(
        self,
        username: str | None = None,
        attribute_list: Sequence[Mapping[str, str]] | None = None,
        metadata: Mapping[str, Any] | None = None,
        attr_map: Mapping[str, str] | None = None,
    ) -> User: ...


class MakesObjects(MakesUsers, Protocol):
    """pycognito's ``User`` / ``Group`` objects bound to the session, and its attribute
    copy after a successful call."""

    def get_group_obj(self, group_data: Mapping[str, Any]) -> Group: ...

    def _set_attributes(
        self, response: Mapping[str, Any], attribute_dict: Mapping[str, Any]
    ) -> None: ...
