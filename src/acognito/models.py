"""User and Group objects, and the attribute-list conversions they rest on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from .errors import ConfigurationError

__all__ = ["Group", "User", "attributes_to_dict", "dict_to_attributes"]

AttrMap = Mapping[str, str]


class _Owner(Protocol):
    """What a :class:`User` or :class:`Group` needs from the session that made it
    (so this module never imports the session)."""

    async def update_profile(
        self, attrs: Mapping[str, Any], attr_map: Mapping[str, str] | None = None
    ) -> dict[str, Any]: ...

    async def admin_update_profile(
        self,
        attrs: Mapping[str, Any],
        attr_map: Mapping[str, str] | None = None,
        *,
        username: str | None = None,
    ) -> None: ...

    async def delete_user(self) -> None: ...

    async def admin_delete_user(self, *, username: str | None = None) -> None: ...

    async def admin_update_group(
        self,
        group_name: str,
        *,
        description: str | None = None,
        precedence: int | None = None,
        role_arn: str | None = None,
    ) -> None: ...

    async def admin_delete_group(self, group_name: str) -> None: ...


def _owner(cognito: _Owner | None, cognito_obj: _Owner | None, what: str) -> _Owner:
    """The session a User or Group belongs to: ``cognito=`` or pycognito's ``cognito_obj=``."""
    if cognito is not None and cognito_obj is not None and cognito is not cognito_obj:
        raise ConfigurationError(
            f"{what}: pass cognito= or cognito_obj= (the same session), not both"
        )
    owner = cognito if cognito is not None else cognito_obj
    if owner is None:
        raise ConfigurationError(f"{what} needs the session it belongs to (cognito=)")
    return owner


def attributes_to_dict(
    attribute_list: Iterable[Mapping[str, str]] | None, attr_map: AttrMap | None = None
) -> dict[str, Any]:
    """Cognito's ``[{"Name": n, "Value": v}]`` as a dict, names renamed by ``attr_map``
    (Cognito name -> your name) and ``"true"``/``"false"`` turned into booleans."""
    mapping = dict(attr_map or {})
    result: dict[str, Any] = {}
    for attr in attribute_list or ():
        name = attr.get("Name")
        if name is None:
            continue
        value: Any = attr.get("Value")
        if value == "true":
            value = True
        elif value == "false":
            value = False
        result[mapping.get(name, name)] = value
    return result


def dict_to_attributes(
    attributes: Mapping[str, Any], attr_map: AttrMap | None = None
) -> list[dict[str, str]]:
    """The reverse of :func:`attributes_to_dict`: your names mapped back to Cognito's,
    booleans as ``"true"``/``"false"``. The input is not modified."""
    reverse = {mine: cognito for cognito, mine in (attr_map or {}).items()}
    result = []
    for name, value in attributes.items():
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        result.append({"Name": reverse.get(name, name), "Value": text})
    return result


class User:
    """A user of the pool: attributes by name (``user.email``), metadata, and
    ``await user.save()`` / ``await user.delete()`` through the session that made it.

    The session is ``cognito=`` (pycognito's ``cognito_obj=`` is the same argument).
    ``sub``, ``email_verified`` and ``phone_number_verified`` are plain attributes;
    other attributes and metadata are reachable as attributes or through
    :attr:`attributes` and :attr:`metadata`.
    """

    _FIELDS = frozenset({"username", "sub", "email_verified", "phone_number_verified"})

    def __init__(
        self,
        username: str | None,
        attribute_list: Iterable[Mapping[str, str]] | None,
        cognito: _Owner | None = None,
        metadata: Mapping[str, Any] | None = None,
        attr_map: AttrMap | None = None,
        *,
        cognito_obj: _Owner | None = None,
    ) -> None:
        owner = _owner(cognito, cognito_obj, "User")
        data = attributes_to_dict(attribute_list, attr_map)
        object.__setattr__(self, "username", username)
        object.__setattr__(self, "_cognito", owner)
        object.__setattr__(self, "_attr_map", dict(attr_map or {}))
        object.__setattr__(self, "sub", data.pop("sub", None))
        object.__setattr__(self, "email_verified", data.pop("email_verified", None))
        object.__setattr__(self, "phone_number_verified", data.pop("phone_number_verified", None))
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_metadata", dict(metadata or {}))

    username: str | None
    sub: str | None
    email_verified: bool | None
    phone_number_verified: bool | None

    @property
    def attributes(self) -> dict[str, Any]:
        """The user's attributes (mapped names), without sub and the verified flags."""
        return dict(self._data)

    @property
    def metadata(self) -> dict[str, Any]:
        """What Cognito says about the user beyond attributes (status, dates, ...)."""
        return dict(self._metadata)

    @property
    def status(self) -> str | None:
        value = self._metadata.get("user_status")
        return None if value is None else str(value)

    @property
    def enabled(self) -> bool | None:
        value = self._metadata.get("enabled")
        return None if value is None else bool(value)

    @property
    def create_date(self) -> datetime | None:
        value = self._metadata.get("create_date")
        return value if isinstance(value, datetime) else None

    def __getattr__(self, name: str) -> Any:
        data = self.__dict__.get("_data", {})
        if name in data:
            return data[name]
        meta = self.__dict__.get("_metadata", {})
        if name in meta:
            return meta[name]
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._FIELDS:
            object.__setattr__(self, name, value)
        else:
            self._data[name] = value

    async def save(self, admin: bool = False) -> None:
        """Write the attributes back (``update_profile``, or ``admin_update_profile``)."""
        if admin:
            await self._cognito.admin_update_profile(
                dict(self._data), self._attr_map, username=self.username
            )
        else:
            await self._cognito.update_profile(dict(self._data), self._attr_map)

    async def delete(self, admin: bool = False) -> None:
        """Delete the user (``delete_user`` with its tokens, or ``admin_delete_user``)."""
        if admin:
            await self._cognito.admin_delete_user(username=self.username)
        else:
            await self._cognito.delete_user()

    def __repr__(self) -> str:
        return f"<User: {self.username}>"


class Group:
    """A group of the pool; ``await group.save()`` / ``await group.delete()`` (admin).

    The session is ``cognito=`` (pycognito's ``cognito_obj=`` is the same argument)."""

    def __init__(
        self,
        group_data: Mapping[str, Any],
        cognito: _Owner | None = None,
        *,
        cognito_obj: _Owner | None = None,
    ) -> None:
        data = dict(group_data)
        self._cognito = _owner(cognito, cognito_obj, "Group")
        self.group_name: str | None = data.pop("GroupName", None)
        self.description: str | None = data.pop("Description", None)
        self.creation_date: datetime | None = data.pop("CreationDate", None)
        self.last_modified_date: datetime | None = data.pop("LastModifiedDate", None)
        self.role_arn: str | None = data.pop("RoleArn", None)
        self.precedence: int | None = data.pop("Precedence", None)
        self.user_pool_id: str | None = data.pop("UserPoolId", None)
        self.extra: dict[str, Any] = data

    async def save(self) -> None:
        """Write description, precedence and role back (UpdateGroup)."""
        if self.group_name is None:
            raise ConfigurationError("a group without a name cannot be saved")
        await self._cognito.admin_update_group(
            self.group_name,
            description=self.description,
            precedence=self.precedence,
            role_arn=self.role_arn,
        )

    async def delete(self) -> None:
        """Delete the group (DeleteGroup); its users stay in the pool."""
        if self.group_name is None:
            raise ConfigurationError("a group without a name cannot be deleted")
        await self._cognito.admin_delete_group(self.group_name)

    def __repr__(self) -> str:
        return f"<Group: {self.group_name}>"
