"""pycognito's ``UserObj`` and ``GroupObj`` over acognito's User and Group, blocking."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, cast

from ..jwks import Jwk
from ..models import Group, User, dict_to_attributes

__all__ = ["GroupObj", "UserObj"]


class _Owner(Protocol):
    """What a blocking ``UserObj`` / ``GroupObj`` calls on the session that made it (so
    this module never imports :class:`acognito.sync.Cognito`)."""

    def update_profile(
        self, attrs: Mapping[str, Any], attr_map: Mapping[str, str] | None = None
    ) -> dict[str, Any]: ...

    def admin_update_profile(
        self,
        attrs: Mapping[str, Any],
        attr_map: Mapping[str, str] | None = None,
        *,
        username: str | None = None,
    ) -> None: ...

    def delete_user(self) -> None: ...

    def admin_delete_user(self, *, username: str | None = None) -> None: ...

    def admin_update_group(
        self,
        group_name: str,
        *,
        description: str | None = None,
        precedence: int | None = None,
        role_arn: str | None = None,
    ) -> None: ...

    def admin_delete_group(self, group_name: str) -> None: ...


class UserObj(User):
    """pycognito's ``UserObj``: attributes by name, ``save()`` and ``delete()`` blocking."""

    def __init__(
        self,
        username: str | None,
        attribute_list: Sequence[Mapping[str, str]] | None,
        cognito_obj: _Owner,
        metadata: Mapping[str, Any] | None = None,
        attr_map: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(username, attribute_list, cast(Any, cognito_obj), metadata, attr_map)

    def save(self, admin: bool = False) -> None:  # type: ignore[override]
        """Write the attributes back (``update_profile``, or ``admin_update_profile``)."""
        cognito = cast("_Owner", self._cognito)
        if admin:
            cognito.admin_update_profile(dict(self._data), self._attr_map, username=self.username)
        else:
            cognito.update_profile(dict(self._data), self._attr_map)

    def delete(self, admin: bool = False) -> None:  # type: ignore[override]
        """Delete the user (``delete_user`` with its tokens, or ``admin_delete_user``)."""
        cognito = cast("_Owner", self._cognito)
        if admin:
            cognito.admin_delete_user(username=self.username)
        else:
            cognito.delete_user()


class GroupObj(Group):
    """pycognito's ``GroupObj`` (``group_name``, ``precedence``, ...)."""

    def __init__(self, group_data: Mapping[str, Any], cognito_obj: _Owner) -> None:
        super().__init__(group_data, cast(Any, cognito_obj))

    def save(self) -> None:  # type: ignore[override]
        """Write description, precedence and role back (UpdateGroup)."""
        cast("_Owner", self._cognito).admin_update_group(
            self.group_name or "",
            description=self.description,
            precedence=self.precedence,
            role_arn=self.role_arn,
        )

    def delete(self) -> None:  # type: ignore[override]
        """Delete the group (DeleteGroup); its users stay in the pool."""
        cast("_Owner", self._cognito).admin_delete_group(self.group_name or "")


def _attribute_list(user: User) -> list[dict[str, str]]:
    """The Cognito attribute list a :class:`User` (built without attr_map) came from."""
    data = user.attributes
    for name in ("sub", "email_verified", "phone_number_verified"):
        value = getattr(user, name)
        if value is not None:
            data[name] = value
    return dict_to_attributes(data)


def _b64_int(value: int | None) -> str:
    raw = (value or 0).to_bytes(max(1, ((value or 0).bit_length() + 7) // 8), "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _jwk_dict(key: Jwk) -> dict[str, Any]:
    """A cached key back in JWK form (what pycognito's ``get_keys`` returned)."""
    data: dict[str, Any] = {"kid": key.kid, "kty": key.kty}
    if key.alg:
        data["alg"] = key.alg
    if key.use:
        data["use"] = key.use
    if key.n is not None and key.e is not None:
        data["n"], data["e"] = _b64_int(key.n), _b64_int(key.e)
    return data


def _group_data(group: Group) -> dict[str, Any]:
    data = dict(group.extra)
    for key, value in (
        ("GroupName", group.group_name),
        ("Description", group.description),
        ("CreationDate", group.creation_date),
        ("LastModifiedDate", group.last_modified_date),
        ("RoleArn", group.role_arn),
        ("Precedence", group.precedence),
        ("UserPoolId", group.user_pool_id),
    ):
        if value is not None:
            data[key] = value
    return data
