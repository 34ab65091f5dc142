"""Set up pools, app clients, users and groups on a local Cognito, for tests."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from acognito._idp import IdpClient
from acognito._lifecycle import AsyncClosing
from acognito._secret import secret_hash
from acognito._settings import warn_jwks_url
from acognito.errors import ConfigurationError

__all__ = ["AppClient", "CognitoAdmin", "LocalPool", "LocalUser"]

DEFAULT_PASSWORD = "Corr3ct-Horse-Battery!"  # noqa: S105 - a test fixture value

#: Every first factor of choice-based sign-in (USER_AUTH).
ALL_FIRST_FACTORS = ("PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN")
#: Cognito's default password policy (moto's too).
_PASSWORD_POLICY = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 7,
}

_ALL_FLOWS = [
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_AUTH",
]


@dataclass(frozen=True)
class AppClient:
    """An app client of a local pool. The secret never appears in ``repr()``."""

    client_id: str
    client_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class LocalUser:
    """A confirmed user of a local pool: what it signs in with. No password in ``repr()``."""

    username: str
    password: str = field(repr=False)
    pool_username: str
    email: str


@dataclass(frozen=True)
class LocalPool:
    """A user pool on a local Cognito with a public and a confidential app client."""

    user_pool_id: str
    region: str
    endpoint_url: str
    public_client: AppClient
    secret_client: AppClient
    username_attributes: tuple[str, ...] = ()

    def cognito_kwargs(self, *, secret: bool = False) -> dict[str, Any]:
        """Arguments for ``AsyncCognito(**kwargs)`` bound to this pool and one client."""
        client = self.secret_client if secret else self.public_client
        kwargs: dict[str, Any] = {
            "user_pool_id": self.user_pool_id,
            "client_id": client.client_id,
            "user_pool_region": self.region,
            "endpoint_url": self.endpoint_url,
            "access_key": "testing",
            "secret_key": "testing",
        }
        if client.client_secret is not None:
            kwargs["client_secret"] = client.client_secret
        return kwargs

    @property
    def jwks_uri(self) -> str:
        """The pool's JWKS URL on the local Cognito."""
        return f"{self.endpoint_url}/{self.user_pool_id}/.well-known/jwks.json"

    @property
    def jwks_url(self) -> str:
        """Deprecated spelling of :attr:`jwks_uri` (removed in the next release)."""
        warn_jwks_url(stacklevel=2)
        return self.jwks_uri


class CognitoAdmin(AsyncClosing):
    """Administrative helper over a local Cognito endpoint (moto server or a test server).

    ``async with CognitoAdmin(endpoint_url) as admin:`` then ``await admin.create_pool()``.
    """

    def __init__(self, endpoint_url: str, *, region: str = "us-east-1") -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.idp = IdpClient(
            region=region,
            endpoint_url=endpoint_url,
            access_key="testing",
            secret_key="testing",  # noqa: S106
        )

    async def _aopen(self) -> None:
        await self.idp.open()

    async def aclose(self) -> None:
        """Close the admin client."""
        await self.idp.close()

    async def create_pool(
        self,
        *,
        name: str | None = None,
        username_attributes: Sequence[str] = (),
        alias_attributes: Sequence[str] = (),
        mfa: str = "OFF",
        custom_attributes: Sequence[str] = (),
        device_tracking: bool = False,
        first_factors: Sequence[str] = ALL_FIRST_FACTORS,
        required_attributes: Sequence[str] = (),
    ) -> str:
        """Create a user pool and return its id. ``mfa`` is OFF, OPTIONAL or ON;
        ``first_factors`` its SignInPolicy's AllowedFirstAuthFactors (here every one;
        Cognito's default is PASSWORD only); ``required_attributes`` the standard
        attributes a user must have (NEW_PASSWORD_REQUIRED asks for missing ones)."""
        required = set(required_attributes)
        standard = ["email", "given_name", "family_name", *sorted(required)]
        params: dict[str, Any] = {
            "PoolName": name or f"pool-{uuid.uuid4().hex[:8]}",
            "MfaConfiguration": mfa,
            "Policies": {
                "PasswordPolicy": dict(_PASSWORD_POLICY),
                "SignInPolicy": {"AllowedFirstAuthFactors": list(first_factors)},
            },
            "Schema": [
                *(
                    {
                        "Name": attr,
                        "AttributeDataType": "String",
                        "Mutable": True,
                        "Required": attr in required,
                    }
                    for attr in dict.fromkeys(standard)
                ),
                *(
                    {"Name": attr, "AttributeDataType": "String", "Mutable": True}
                    for attr in custom_attributes
                ),
            ],
        }
        if username_attributes:
            params["UsernameAttributes"] = list(username_attributes)
        if alias_attributes:
            params["AliasAttributes"] = list(alias_attributes)
        if device_tracking:
            params["DeviceConfiguration"] = {
                "ChallengeRequiredOnNewDevice": True,
                "DeviceOnlyRememberedOnUserPrompt": False,
            }
        pool = await self.idp.call("create_user_pool", **params)
        pool_id: str = pool["UserPool"]["Id"]
        if mfa != "OFF":
            await self.idp.call(
                "set_user_pool_mfa_config",
                UserPoolId=pool_id,
                SoftwareTokenMfaConfiguration={"Enabled": True},
                MfaConfiguration=mfa,
            )
        return pool_id

    async def create_client(
        self,
        user_pool_id: str,
        *,
        secret: bool = False,
        name: str | None = None,
        flows: Sequence[str] = _ALL_FLOWS,
        **extra: Any,
    ) -> AppClient:
        """Create an app client, confidential when ``secret`` is true."""
        resp = await self.idp.call(
            "create_user_pool_client",
            UserPoolId=user_pool_id,
            ClientName=name or f"client-{uuid.uuid4().hex[:8]}",
            GenerateSecret=secret,
            ExplicitAuthFlows=list(flows),
            **extra,
        )
        client = resp["UserPoolClient"]
        return AppClient(client["ClientId"], client.get("ClientSecret"))

    async def create_m2m_client(
        self,
        user_pool_id: str,
        *,
        identifier: str = "api",
        scopes: Sequence[str] = ("read", "write"),
        create_resource_server: bool = True,
        **extra: Any,
    ) -> AppClient:
        """A machine-to-machine client: a secret, the client_credentials grant and every
        ``identifier/scope`` of a resource server (created here unless told otherwise)."""
        if create_resource_server:
            await self.idp.call(
                "create_resource_server",
                UserPoolId=user_pool_id,
                Identifier=identifier,
                Name=identifier,
                Scopes=[{"ScopeName": s, "ScopeDescription": s} for s in scopes],
            )
        return await self.create_client(
            user_pool_id,
            secret=True,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=[f"{identifier}/{s}" for s in scopes],
            **extra,
        )

    async def create_hosted_ui_client(
        self,
        user_pool_id: str,
        callback_urls: Sequence[str],
        *,
        logout_urls: Sequence[str] = (),
        scopes: Sequence[str] = ("openid", "email", "profile"),
        secret: bool = False,
        **extra: Any,
    ) -> AppClient:
        """A client for the hosted UI: the code grant (PKCE for a public client), these
        callback and sign-out URLs and scopes, refresh allowed."""
        params: dict[str, Any] = {
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": list(scopes),
            "CallbackURLs": list(callback_urls),
            "SupportedIdentityProviders": ["COGNITO"],
        }
        if logout_urls:
            params["LogoutURLs"] = list(logout_urls)
        return await self.create_client(user_pool_id, secret=secret, **(params | extra))

    async def create_local_pool(
        self, *, username_attributes: Sequence[str] = (), **pool_options: Any
    ) -> LocalPool:
        """A pool with a public and a confidential client, ready for sign-ins."""
        pool_id = await self.create_pool(username_attributes=username_attributes, **pool_options)
        public = await self.create_client(pool_id)
        confidential = await self.create_client(pool_id, secret=True)
        return LocalPool(
            user_pool_id=pool_id,
            region=self.region,
            endpoint_url=self.endpoint_url,
            public_client=public,
            secret_client=confidential,
            username_attributes=tuple(username_attributes),
        )

    async def create_user(
        self,
        user_pool_id: str,
        username: str,
        password: str = DEFAULT_PASSWORD,
        *,
        attributes: Mapping[str, str] | None = None,
        confirmed: bool = True,
    ) -> str:
        """Create a user with a permanent password (or FORCE_CHANGE_PASSWORD when not
        ``confirmed``) and return the pool's user name for it (the ``sub`` when the pool
        signs in by email)."""
        attrs = dict(attributes or {})
        resp = await self.idp.call(
            "admin_create_user",
            UserPoolId=user_pool_id,
            Username=username,
            TemporaryPassword=password,
            UserAttributes=[{"Name": k, "Value": v} for k, v in attrs.items()],
            MessageAction="SUPPRESS",
        )
        if confirmed:
            await self.idp.call(
                "admin_set_user_password",
                UserPoolId=user_pool_id,
                Username=username,
                Password=password,
                Permanent=True,
            )
        pool_username: str = resp["User"]["Username"]
        return pool_username

    async def create_group(
        self,
        user_pool_id: str,
        name: str,
        *,
        description: str | None = None,
        precedence: int | None = None,
    ) -> None:
        params: dict[str, Any] = {"UserPoolId": user_pool_id, "GroupName": name}
        if description is not None:
            params["Description"] = description
        if precedence is not None:
            params["Precedence"] = precedence
        await self.idp.call("create_group", **params)

    async def add_to_group(self, user_pool_id: str, username: str, group: str) -> None:
        await self.idp.call(
            "admin_add_user_to_group", UserPoolId=user_pool_id, Username=username, GroupName=group
        )

    async def enable_sms_mfa(self, user_pool_id: str, username: str) -> None:
        """Turn SMS MFA on (preferred) for a user with a ``phone_number``; the codes it
        "texts" land in the local Cognito's inbox (purpose ``sms_mfa``)."""
        await self.idp.call(
            "admin_set_user_mfa_preference",
            UserPoolId=user_pool_id,
            Username=username,
            SMSMfaSettings={"Enabled": True, "PreferredMfa": True},
        )

    async def forgot_password_code(
        self, client_id: str, username: str, client_secret: str | None = None
    ) -> str:
        """Start a password reset and return the code moto hands out in a response header."""
        params: dict[str, Any] = {"ClientId": client_id, "Username": username}
        if client_secret is not None:
            params["SecretHash"] = secret_hash(username, client_id, client_secret)
        resp = await self.idp.call("forgot_password", **params)
        headers = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        code = headers.get("x-moto-forgot-password-confirmation-code")
        if not code:
            raise ConfigurationError("the server did not hand out a forgot-password code")
        return str(code)
