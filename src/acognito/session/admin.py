"""The administration room: admin_* user calls, groups, identity providers, app clients.

These calls sign requests with AWS credentials (``access_key``/``secret_key``, a
session, or the usual AWS environment); no user needs to be signed in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from ..models import Group, User, dict_to_attributes
from ._base import CallsCognito, MakesObjects, need

__all__ = ["AdminCommands", "AdminHost"]


class AdminHost(CallsCognito, MakesObjects, Protocol):
    """What the admin room uses of the session: the pool, the session's user as a
    default, pycognito's objects."""

    @property
    def user_pool_id(self) -> str: ...

    def _require_username(self, username: str | None = None) -> str: ...


class AdminCommands(AdminHost):
    """User-pool administration with AWS credentials."""

    async def admin_get_user(
        self, attr_map: Mapping[str, str] | None = None, *, username: str | None = None
    ) -> User:
        """A user by name with AWS credentials (AdminGetUser)."""
        name = self._require_username(username)
        response = await self._call("admin_get_user", UserPoolId=self.user_pool_id, Username=name)
        metadata = {
            "enabled": response.get("Enabled"),
            "user_status": response.get("UserStatus"),
            "username": response.get("Username"),
            "create_date": response.get("UserCreateDate"),
            "modified_date": response.get("UserLastModifiedDate"),
            "preferred_mfa_setting": response.get("PreferredMfaSetting"),
            "user_mfa_setting_list": response.get("UserMFASettingList"),
        }
        return self.get_user_obj(
            username=name,
            attribute_list=response.get("UserAttributes"),
            metadata=metadata,
            attr_map=attr_map,
        )

    async def iter_users(
        self,
        filter: str | None = None,
        attr_map: Mapping[str, str] | None = None,
        *,
        page_size: int = 60,
    ) -> AsyncIterator[User]:
        """Every user of the pool (ListUsers), page by page; ``filter`` is Cognito's
        filter expression, e.g. ``'email ^= "ali"'``."""
        token: str | None = None
        while True:
            params: dict[str, Any] = {"UserPoolId": self.user_pool_id, "Limit": page_size}
            if filter:
                params["Filter"] = filter
            if token:
                params["PaginationToken"] = token
            response = await self._call("list_users", **params)
            for user in response.get("Users", []):
                yield self.get_user_obj(
                    username=user.get("Username"),
                    attribute_list=user.get("Attributes"),
                    metadata={
                        "username": user.get("Username"),
                        "enabled": user.get("Enabled"),
                        "user_status": user.get("UserStatus"),
                        "create_date": user.get("UserCreateDate"),
                        "modified_date": user.get("UserLastModifiedDate"),
                    },
                    attr_map=attr_map,
                )
            token = response.get("PaginationToken")
            if not token:
                return

    async def get_users(self, attr_map: Mapping[str, str] | None = None) -> list[User]:
        """Every user of the pool, all pages."""
        return [user async for user in self.iter_users(attr_map=attr_map)]

    async def admin_create_user(
        self,
        username: str,
        temporary_password: str | None = "",
        additional_kwargs: Mapping[str, Any] | None = None,
        attr_map: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Create a user with AWS credentials (AdminCreateUser); ``kwargs`` are attributes.

        Without ``temporary_password`` Cognito generates one. ``additional_kwargs`` go
        to the API call as they are (``MessageAction="SUPPRESS"``, ...).
        """
        params: dict[str, Any] = dict(additional_kwargs or {})
        if temporary_password:
            params["TemporaryPassword"] = temporary_password
        response = await self._call(
            "admin_create_user",
            UserPoolId=self.user_pool_id,
            Username=need(username, "username"),
            UserAttributes=dict_to_attributes(kwargs, attr_map),
            **params,
        )
        # As pycognito: the session's username and the user's attributes are set.
        self._set_attributes(response, {**kwargs, "username": username})
        return response

    async def admin_delete_user(self, *, username: str | None = None) -> None:
        """Delete a user with AWS credentials (AdminDeleteUser)."""
        await self._call(
            "admin_delete_user",
            UserPoolId=self.user_pool_id,
            Username=self._require_username(username),
        )

    async def admin_enable_user(self, username: str) -> None:
        """Enable a user (AdminEnableUser): they can sign in again."""
        await self._call(
            "admin_enable_user", UserPoolId=self.user_pool_id, Username=need(username, "username")
        )

    async def admin_disable_user(self, username: str) -> None:
        """Disable a user (AdminDisableUser): their sign-ins and refreshes are refused."""
        await self._call(
            "admin_disable_user", UserPoolId=self.user_pool_id, Username=need(username, "username")
        )

    async def admin_update_profile(
        self,
        attrs: Mapping[str, Any],
        attr_map: Mapping[str, str] | None = None,
        *,
        username: str | None = None,
    ) -> None:
        """Update a user's attributes with AWS credentials (AdminUpdateUserAttributes)."""
        await self._call(
            "admin_update_user_attributes",
            UserPoolId=self.user_pool_id,
            Username=self._require_username(username),
            UserAttributes=dict_to_attributes(attrs, attr_map),
        )

    async def admin_reset_password(
        self, username: str, client_metadata: Mapping[str, str] | None = None
    ) -> None:
        """Reset a user's password (AdminResetUserPassword): they must choose a new one."""
        params: dict[str, Any] = {
            "UserPoolId": self.user_pool_id,
            "Username": need(username, "username"),
        }
        if client_metadata:
            params["ClientMetadata"] = dict(client_metadata)
        await self._call("admin_reset_user_password", **params)

    async def get_group(self, group_name: str) -> Group:
        """A group by name (GetGroup), as a :class:`~acognito.models.Group`."""
        response = await self._call(
            "get_group", GroupName=need(group_name, "group_name"), UserPoolId=self.user_pool_id
        )
        return self.get_group_obj(response.get("Group", {}))

    async def get_groups(self) -> list[Group]:
        """Every group of the pool, all pages."""
        groups: list[Group] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"UserPoolId": self.user_pool_id, "Limit": 60}
            if token:
                params["NextToken"] = token
            response = await self._call("list_groups", **params)
            groups.extend(self.get_group_obj(g) for g in response.get("Groups", []))
            token = response.get("NextToken")
            if not token:
                return groups

    async def admin_update_group(
        self,
        group_name: str,
        *,
        description: str | None = None,
        precedence: int | None = None,
        role_arn: str | None = None,
    ) -> None:
        """Update a group's description, precedence or IAM role (UpdateGroup); only the
        keywords given change."""
        params: dict[str, Any] = {"UserPoolId": self.user_pool_id, "GroupName": group_name}
        if description is not None:
            params["Description"] = description
        if precedence is not None:
            params["Precedence"] = precedence
        if role_arn is not None:
            params["RoleArn"] = role_arn
        await self._call("update_group", **params)

    async def admin_delete_group(self, group_name: str) -> None:
        """Delete a group (DeleteGroup); its users stay in the pool."""
        await self._call(
            "delete_group", UserPoolId=self.user_pool_id, GroupName=need(group_name, "group_name")
        )

    async def admin_add_user_to_group(self, username: str, group_name: str) -> None:
        """Add a user to a group (AdminAddUserToGroup)."""
        await self._call(
            "admin_add_user_to_group",
            UserPoolId=self.user_pool_id,
            Username=need(username, "username"),
            GroupName=need(group_name, "group_name"),
        )

    async def admin_remove_user_from_group(self, username: str, group_name: str) -> None:
        """Remove a user from a group (AdminRemoveUserFromGroup)."""
        await self._call(
            "admin_remove_user_from_group",
            UserPoolId=self.user_pool_id,
            Username=need(username, "username"),
            GroupName=need(group_name, "group_name"),
        )

    async def admin_list_groups_for_user(self, username: str) -> list[str]:
        """Names of the groups ``username`` belongs to, all pages."""
        names: list[str] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {
                "UserPoolId": self.user_pool_id,
                "Username": need(username, "username"),
                "Limit": 60,
            }
            if token:
                params["NextToken"] = token
            response = await self._call("admin_list_groups_for_user", **params)
            names.extend(g["GroupName"] for g in response.get("Groups", []))
            token = response.get("NextToken")
            if not token:
                return names

    async def admin_create_identity_provider(
        self,
        pool_id: str,
        provider_name: str,
        provider_type: str,
        provider_details: Mapping[str, str],
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Create an identity provider of the pool (CreateIdentityProvider): ``provider_type``
        is ``SAML``, ``OIDC``, ``Google``, ...; ``kwargs`` go to the call as they are."""
        response = await self._call(
            "create_identity_provider",
            UserPoolId=pool_id,
            ProviderName=provider_name,
            ProviderType=provider_type,
            ProviderDetails=dict(provider_details),
            **kwargs,
        )
        return dict(response.get("IdentityProvider", {}))

    async def admin_describe_identity_provider(
        self, pool_id: str, provider_name: str
    ) -> dict[str, Any]:
        """An identity provider's configuration (DescribeIdentityProvider)."""
        return await self._call(
            "describe_identity_provider", UserPoolId=pool_id, ProviderName=provider_name
        )

    async def admin_update_identity_provider(
        self, pool_id: str, provider_name: str, **kwargs: Any
    ) -> dict[str, Any]:
        """Update an identity provider (UpdateIdentityProvider); ``kwargs`` go to the call
        as they are (``ProviderDetails=...``, ``AttributeMapping=...``)."""
        response = await self._call(
            "update_identity_provider", UserPoolId=pool_id, ProviderName=provider_name, **kwargs
        )
        return dict(response.get("IdentityProvider", {}))

    async def describe_user_pool_client(self, pool_id: str, client_id: str) -> dict[str, Any]:
        """An app client's configuration (DescribeUserPoolClient)."""
        response = await self._call(
            "describe_user_pool_client", UserPoolId=pool_id, ClientId=client_id
        )
        return dict(response["UserPoolClient"])

    async def admin_update_user_pool_client(
        self, pool_id: str, client_id: str, **kwargs: Any
    ) -> dict[str, Any]:
        """Update an app client (UpdateUserPoolClient); ``kwargs`` go to the call as they
        are."""
        response = await self._call(
            "update_user_pool_client", UserPoolId=pool_id, ClientId=client_id, **kwargs
        )
        return dict(response.get("UserPoolClient", {}))
