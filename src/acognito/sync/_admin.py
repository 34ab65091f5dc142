"""Blocking administration calls of :class:`acognito.sync.Cognito` (AWS credentials):
users, groups, identity providers, app clients, each the
:class:`~acognito.AsyncCognito` method of the same name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._host import MakesSyncObjects
from .models import GroupObj, UserObj, _group_data

__all__ = ["SyncAdmin"]


class SyncAdmin(MakesSyncObjects):
    """User-pool administration with AWS credentials, blocking."""

    # ------------------------------------------------------------------ users

    def admin_get_user(
        self, attr_map: Mapping[str, str] | None = None, *, username: str | None = None
    ) -> UserObj:
        """A user by name with AWS credentials (AdminGetUser)."""
        return self._user(self._run(self._async.admin_get_user, username=username), attr_map)

    def get_users(self, attr_map: Mapping[str, str] | None = None) -> list[UserObj]:
        """Every user of the pool (ListUsers, all pages)."""
        return [self._user(u, attr_map) for u in self._run(self._async.get_users)]

    def admin_create_user(
        self,
        username: str,
        temporary_password: str | None = "",
        additional_kwargs: Mapping[str, Any] | None = None,
        attr_map: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Create a user with AWS credentials (AdminCreateUser)."""
        return self._run(
            self._async.admin_create_user,
            username,
            temporary_password,
            additional_kwargs,
            attr_map,
            **kwargs,
        )

    def admin_delete_user(self, *, username: str | None = None) -> None:
        """Delete the session's user (or ``username``) with AWS credentials."""
        self._run(self._async.admin_delete_user, username=username)

    def admin_enable_user(self, username: str) -> None:
        """Enable a user."""
        self._run(self._async.admin_enable_user, username)

    def admin_disable_user(self, username: str) -> None:
        """Disable a user."""
        self._run(self._async.admin_disable_user, username)

    def admin_update_profile(
        self,
        attrs: Mapping[str, Any],
        attr_map: Mapping[str, str] | None = None,
        *,
        username: str | None = None,
    ) -> None:
        """Update a user's attributes with AWS credentials (AdminUpdateUserAttributes)."""
        self._run(self._async.admin_update_profile, attrs, attr_map, username=username)

    def admin_reset_password(
        self, username: str, client_metadata: Mapping[str, str] | None = None
    ) -> None:
        """Reset a user's password (AdminResetUserPassword)."""
        self._run(self._async.admin_reset_password, username, client_metadata)

    # ------------------------------------------------------------------ groups

    def get_group(self, group_name: str) -> GroupObj:
        """A group by name (GetGroup)."""
        return self.get_group_obj(_group_data(self._run(self._async.get_group, group_name)))

    def get_groups(self) -> list[GroupObj]:
        """Every group of the pool (ListGroups, all pages)."""
        return [self.get_group_obj(_group_data(g)) for g in self._run(self._async.get_groups)]

    def admin_update_group(
        self,
        group_name: str,
        *,
        description: str | None = None,
        precedence: int | None = None,
        role_arn: str | None = None,
    ) -> None:
        """Update a group's description, precedence or role (UpdateGroup)."""
        self._run(
            self._async.admin_update_group,
            group_name,
            description=description,
            precedence=precedence,
            role_arn=role_arn,
        )

    def admin_delete_group(self, group_name: str) -> None:
        """Delete a group (DeleteGroup); its users stay in the pool."""
        self._run(self._async.admin_delete_group, group_name)

    def admin_add_user_to_group(self, username: str, group_name: str) -> None:
        """Add a user to a group."""
        self._run(self._async.admin_add_user_to_group, username, group_name)

    def admin_remove_user_from_group(self, username: str, group_name: str) -> None:
        """Remove a user from a group."""
        self._run(self._async.admin_remove_user_from_group, username, group_name)

    def admin_list_groups_for_user(self, username: str) -> list[str]:
        """The names of a user's groups (all pages)."""
        return self._run(self._async.admin_list_groups_for_user, username)

    # ------------------------------------------------------------------ providers and clients

    def admin_create_identity_provider(
        self,
        pool_id: str,
        provider_name: str,
        provider_type: str,
        provider_details: Mapping[str, str],
        **kwargs: Any,
    ) -> None:
        """Create an identity provider (CreateIdentityProvider)."""
        self._run(
            self._async.admin_create_identity_provider,
            pool_id,
            provider_name,
            provider_type,
            provider_details,
            **kwargs,
        )

    def admin_describe_identity_provider(self, pool_id: str, provider_name: str) -> dict[str, Any]:
        """Describe an identity provider (DescribeIdentityProvider)."""
        return self._run(self._async.admin_describe_identity_provider, pool_id, provider_name)

    def admin_update_identity_provider(
        self, pool_id: str, provider_name: str, **kwargs: Any
    ) -> dict[str, Any]:
        """Update an identity provider (UpdateIdentityProvider)."""
        return self._run(
            self._async.admin_update_identity_provider, pool_id, provider_name, **kwargs
        )

    def describe_user_pool_client(self, pool_id: str, client_id: str) -> dict[str, Any]:
        """An app client's configuration (DescribeUserPoolClient)."""
        return self._run(self._async.describe_user_pool_client, pool_id, client_id)

    def admin_update_user_pool_client(
        self, pool_id: str, client_id: str, **kwargs: Any
    ) -> dict[str, Any]:
        """Update an app client (UpdateUserPoolClient)."""
        return self._run(self._async.admin_update_user_pool_client, pool_id, client_id, **kwargs)
