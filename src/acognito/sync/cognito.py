"""pycognito's ``Cognito``, blocking, over :class:`~acognito.AsyncCognito`."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

from .._secret import secret_hash
from ..cognito import AsyncCognito
from ..errors import ConfigurationError
from ..models import User
from ._loop import T, _Loop, _loop
from ._options import _session_kwargs
from .models import GroupObj, UserObj, _attribute_list, _group_data, _jwk_dict

__all__ = ["Cognito"]

#: Attributes that live on the async session; reading or setting them on the sync
#: object reads or sets them there.
_SHARED = frozenset(
    {
        "user_pool_id",
        "client_id",
        "user_pool_region",
        "username",
        "id_token",
        "access_token",
        "refresh_token",
        "id_claims",
        "access_claims",
        "base_attributes",
        "custom_attributes",
        "mfa_tokens",
        "device",
        "new_device_metadata",
        "refresh_margin",
        "verify_on_sign_in",
    }
)

_SET_AFTER_REGISTER_SKIP = frozenset({"password"})


class Cognito:
    """pycognito's ``Cognito`` over acognito's :class:`~acognito.AsyncCognito`, blocking.

    Same positional arguments as pycognito; further :class:`~acognito.AsyncCognito`
    options (``endpoint_url``, ``jwks_url``, device credentials, ...) as keywords.
    ``close()`` (or ``with``) releases the client; a forgotten one is released when the
    object is garbage-collected. Safe to share between threads.
    """

    user_class: type[UserObj] = UserObj
    group_class: type[GroupObj] = GroupObj
    _loop: _Loop
    _async: AsyncCognito

    def __init__(
        self,
        user_pool_id: str,
        client_id: str,
        user_pool_region: str | None = None,
        username: str | None = None,
        id_token: str | None = None,
        refresh_token: str | None = None,
        access_token: str | None = None,
        client_secret: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        session: Any = None,
        botocore_config: Any = None,
        boto3_client_kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        kwargs = _session_kwargs(
            user_pool_region, access_key, secret_key, session, botocore_config, boto3_client_kwargs
        )
        if options.get("endpoint_url") is None:
            options.pop("endpoint_url", None)
        loop = _loop()
        object.__setattr__(self, "_loop", loop)
        self._async = loop.build(
            lambda: AsyncCognito(
                user_pool_id,
                client_id,
                username=username,
                id_token=id_token,
                refresh_token=refresh_token,
                access_token=access_token,
                client_secret=client_secret,
                **kwargs,
                **options,
            )
        )
        self.pool_jwk: dict[str, Any] | None = None
        self._finalizer = weakref.finalize(self, loop.close_soon, self._async.close)

    # ------------------------------------------------------------------ plumbing

    def _run(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        return self._loop.run(func, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self.__dict__["_async"], name)
        if asyncio.iscoroutinefunction(value):
            method = value

            def blocking(*args: Any, **kwargs: Any) -> Any:
                return self._run(method, *args, **kwargs)

            blocking.__name__ = name
            blocking.__doc__ = method.__doc__
            return blocking
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHARED and "_async" in self.__dict__:
            setattr(self._async, name, value)
        else:
            object.__setattr__(self, name, value)

    def close(self) -> None:
        """Release the aiobotocore client and the JWKS cache; the object is then unusable."""
        self._finalizer.detach()
        self._run(self._async.close)

    def __enter__(self) -> Cognito:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<acognito.sync.Cognito over {self._async!r}>"

    @property
    def client_secret(self) -> str | None:
        return self._async.client_secret

    @property
    def client(self) -> Any:
        """The aiobotocore client of the async session, opened first if needed: for
        botocore's ``Stubber``. Its methods are coroutines of the private loop."""
        return self._run(self._async.get_client)

    @property
    def pool_domain_url(self) -> str | None:
        """The endpoint the session talks to when not AWS's (pycognito's name)."""
        return self._async.endpoint_url

    @property
    def user_pool_url(self) -> str:
        """The issuer URL of the pool's tokens (pycognito's ``user_pool_url``)."""
        return self._async.issuer

    @property
    def token_type(self) -> str | None:
        return self._async.token_type

    def _set_attributes(
        self, response: Mapping[str, Any], attribute_dict: Mapping[str, Any]
    ) -> None:
        """pycognito's helper: copy ``attribute_dict`` onto the session after a 200 answer."""
        status = response.get(
            "HTTPStatusCode", response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        )
        if status == 200:
            for key, value in attribute_dict.items():
                setattr(self, key, value)

    def _add_secret_hash(self, parameters: dict[str, Any], key: str) -> None:
        """pycognito's helper: add SECRET_HASH for ``username`` when the client has a secret."""
        if self.client_secret is not None and self.username:
            parameters[key] = secret_hash(self.username, self.client_id, self.client_secret)

    # ------------------------------------------------------------------ tokens

    def get_keys(self) -> dict[str, Any]:
        """The pool's JWKS (downloaded once into the session's JWKS cache)."""
        if self.pool_jwk is None:
            self.pool_jwk = self._run(self._download_keys)
        return self.pool_jwk

    async def _download_keys(self) -> dict[str, Any]:
        # The session borrows its JWKS cache from its pool, bound on its first async use.
        await self._async.__aenter__()
        cache, uri = self._async.jwks_cache, self._async.jwks_url
        if uri not in cache:
            await cache.hydrate(uri)
        keys = [cache.peek(uri, kid) for kid in cache.kids(uri)]
        return {"keys": [_jwk_dict(key) for key in keys if key is not None]}

    def get_key(self, kid: str) -> dict[str, Any] | None:
        """The JWK with ``kid`` from :meth:`get_keys`, or None."""
        for key in self.get_keys().get("keys", []):
            if key.get("kid") == kid:
                return dict(key)
        return None

    def verify_tokens(self) -> None:
        """Verify the id and access tokens; sets ``id_claims`` and ``access_claims``."""
        self._run(self._async.verify_tokens)

    def verify_token(self, token: str, id_name: str, token_use: str) -> dict[str, Any]:
        """Verify one token and store it as ``id_name``; returns its claims."""
        return self._run(self._async.verify_token, token, id_name, token_use)

    def check_token(self, renew: bool = True) -> bool:
        """Whether the access token has expired; with ``renew``, refresh it then."""
        if not self.access_token:
            raise AttributeError("Access Token Required to Check Token")
        return self._run(self._async.check_token, renew)

    def renew_access_token(self) -> None:
        """Fresh id and access tokens from the refresh token."""
        self._run(self._async.renew_access_token)

    def switch_session(self, session: Any) -> None:
        """pycognito's test hook (a boto3 session): not supported, acognito has no boto3 client."""
        raise ConfigurationError(
            "switch_session is not supported: build a new Cognito with session=... instead"
        )

    # ------------------------------------------------------------------ users and groups

    def get_user_obj(
        self,
        username: str | None = None,
        attribute_list: Sequence[Mapping[str, str]] | None = None,
        metadata: Mapping[str, Any] | None = None,
        attr_map: Mapping[str, str] | None = None,
    ) -> UserObj:
        """A ``user_class`` instance bound to this session (pycognito's keywords)."""
        return self.user_class(
            username=username,
            attribute_list=attribute_list,
            cognito_obj=self,
            metadata=metadata,
            attr_map=attr_map,
        )

    def get_group_obj(self, group_data: Mapping[str, Any]) -> GroupObj:
        """A ``group_class`` instance bound to this session."""
        return self.group_class(group_data=group_data, cognito_obj=self)

    def _user(self, user: User, attr_map: Mapping[str, str] | None) -> UserObj:
        return self.get_user_obj(user.username, _attribute_list(user), user.metadata, attr_map)

    def get_user(self, attr_map: Mapping[str, str] | None = None) -> UserObj:
        """The signed-in user (GetUser with the access token)."""
        return self._user(self._run(self._async.get_user), attr_map)

    def admin_get_user(
        self, attr_map: Mapping[str, str] | None = None, *, username: str | None = None
    ) -> UserObj:
        """A user by name with AWS credentials (AdminGetUser)."""
        return self._user(self._run(self._async.admin_get_user, username=username), attr_map)

    def get_users(self, attr_map: Mapping[str, str] | None = None) -> list[UserObj]:
        """Every user of the pool (ListUsers, all pages)."""
        return [self._user(u, attr_map) for u in self._run(self._async.get_users)]

    def get_group(self, group_name: str) -> GroupObj:
        """A group by name (GetGroup)."""
        return self.get_group_obj(_group_data(self._run(self._async.get_group, group_name)))

    def get_groups(self) -> list[GroupObj]:
        """Every group of the pool (ListGroups, all pages)."""
        return [self.get_group_obj(_group_data(g)) for g in self._run(self._async.get_groups)]

    # ------------------------------------------------------------------ with side effects

    def register(
        self,
        username: str,
        password: str,
        attr_map: Mapping[str, str] | None = None,
        client_metadata: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Sign a user up (SignUp); sets ``username`` and the registered attributes."""
        attributes = {**(self.base_attributes or {}), **(self.custom_attributes or {})}
        response = self._run(self._async.register, username, password, attr_map, client_metadata)
        for key, value in attributes.items():
            if key not in _SET_AFTER_REGISTER_SKIP and ":" not in key:
                setattr(self, key, value)
        return response

    def authenticate(self, password: str, client_metadata: Mapping[str, str] | None = None) -> None:
        """Sign in with SRP; MFA and new-password steps raise pycognito's exceptions."""
        self._run(self._async.authenticate, password, client_metadata)

    def admin_authenticate(self, password: str) -> None:
        """Sign in with AdminInitiateAuth (needs AWS credentials)."""
        self._run(self._async.admin_authenticate, password)

    def new_password_challenge(self, password: str, new_password: str) -> None:
        """Sign in with a temporary password and set the permanent one."""
        self._run(self._async.new_password_challenge, password, new_password)

    def respond_to_software_token_mfa_challenge(
        self, code: str, mfa_tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Answer SOFTWARE_TOKEN_MFA with a TOTP code."""
        self._run(self._async.respond_to_software_token_mfa_challenge, str(code), mfa_tokens)

    def respond_to_sms_mfa_challenge(
        self, code: str, mfa_tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Answer SMS_MFA with the code sent by SMS."""
        self._run(self._async.respond_to_sms_mfa_challenge, str(code), mfa_tokens)

    def logout(self) -> None:
        """Sign out everywhere (GlobalSignOut) and drop the tokens."""
        self._run(self._async.logout)

    def admin_update_profile(
        self,
        attrs: Mapping[str, Any],
        attr_map: Mapping[str, str] | None = None,
        *,
        username: str | None = None,
    ) -> None:
        """Update a user's attributes with AWS credentials (AdminUpdateUserAttributes)."""
        self._run(self._async.admin_update_profile, attrs, attr_map, username=username)

    def admin_delete_user(self, *, username: str | None = None) -> None:
        """Delete the session's user (or ``username``) with AWS credentials."""
        self._run(self._async.admin_delete_user, username=username)

    def resend_confirmation_code(self, username: str | None = None) -> dict[str, Any]:
        """Send the sign-up confirmation code again."""
        return self._run(self._async.resend_confirmation_code, username)

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

    # ------------------------------------------------------------------ one-to-one

    def set_base_attributes(self, **kwargs: Any) -> None:
        """Standard attributes for :meth:`register` (``email=...``, ``given_name=...``)."""
        self._async.set_base_attributes(**kwargs)

    def add_custom_attributes(self, **kwargs: Any) -> None:
        """Custom attributes for :meth:`register`; names get the ``custom:`` prefix."""
        self._async.add_custom_attributes(**kwargs)

    def confirm_sign_up(self, confirmation_code: str, username: str | None = None) -> None:
        """Confirm a sign-up with the code Cognito sent."""
        self._run(self._async.confirm_sign_up, confirmation_code, username)

    def admin_confirm_sign_up(self, username: str | None = None) -> None:
        """Confirm a sign-up without a code (needs AWS credentials)."""
        self._run(self._async.admin_confirm_sign_up, username)

    def update_profile(
        self, attrs: Mapping[str, Any], attr_map: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Update the signed-in user's attributes (UpdateUserAttributes)."""
        return self._run(self._async.update_profile, attrs, attr_map)

    def send_verification(self, attribute: str = "email") -> dict[str, Any]:
        """Send a code to verify ``attribute`` (email or phone_number)."""
        return self._run(self._async.send_verification, attribute)

    def validate_verification(self, confirmation_code: str, attribute: str = "email") -> None:
        """Verify ``attribute`` with the code from :meth:`send_verification`."""
        self._run(self._async.validate_verification, confirmation_code, attribute)

    def initiate_forgot_password(self) -> dict[str, Any]:
        """Send the user a code to reset the password."""
        return self._run(self._async.initiate_forgot_password)

    def confirm_forgot_password(self, confirmation_code: str, password: str) -> None:
        """Set a new password with the code from :meth:`initiate_forgot_password`."""
        self._run(self._async.confirm_forgot_password, confirmation_code, password)

    def change_password(self, previous_password: str, proposed_password: str) -> None:
        """Change the signed-in user's password."""
        self._run(self._async.change_password, previous_password, proposed_password)

    def delete_user(self) -> None:
        """Delete the signed-in user (DeleteUser) and drop the tokens."""
        self._run(self._async.delete_user)

    def admin_reset_password(
        self, username: str, client_metadata: Mapping[str, str] | None = None
    ) -> None:
        """Reset a user's password (AdminResetUserPassword)."""
        self._run(self._async.admin_reset_password, username, client_metadata)

    def admin_add_user_to_group(self, username: str, group_name: str) -> None:
        """Add a user to a group."""
        self._run(self._async.admin_add_user_to_group, username, group_name)

    def admin_remove_user_from_group(self, username: str, group_name: str) -> None:
        """Remove a user from a group."""
        self._run(self._async.admin_remove_user_from_group, username, group_name)

    def admin_list_groups_for_user(self, username: str) -> list[str]:
        """The names of a user's groups (all pages)."""
        return self._run(self._async.admin_list_groups_for_user, username)

    def admin_enable_user(self, username: str) -> None:
        """Enable a user."""
        self._run(self._async.admin_enable_user, username)

    def admin_disable_user(self, username: str) -> None:
        """Disable a user."""
        self._run(self._async.admin_disable_user, username)

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

    def associate_software_token(self) -> str:
        """Start TOTP set-up; returns the secret for the authenticator app."""
        return self._run(self._async.associate_software_token)

    def verify_software_token(self, code: str, device_name: str = "") -> bool:
        """Finish TOTP set-up with a code from the app; True on success."""
        return self._run(self._async.verify_software_token, code, device_name)

    def set_user_mfa_preference(
        self, sms_mfa: bool, software_token_mfa: bool, preferred: str | None = None
    ) -> None:
        """Enable or disable SMS and TOTP MFA and pick the preferred one."""
        self._run(self._async.set_user_mfa_preference, sms_mfa, software_token_mfa, preferred)
