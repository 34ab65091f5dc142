"""Set-up and inspection helpers over the SHIPPED local Cognito, for our own tests.

Not an emulator: every call goes to :class:`acognito.testing.LocalCognito` (moto plus
acognito's extensions) over HTTP, set-up through boto3 and inspection through the
server's test API (inbox, devices, refresh tokens, request log). It keeps the small
vocabulary the flow tests were written in (``create_pool``, ``last_code``, ...).
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

from acognito.testing import LocalCognito, RequestRecord
from auth_test_servers import ShiftedClock

SIGN_UP = "sign_up"
FORGOT_PASSWORD = "forgot_password"
SMS_MFA = "sms_mfa"

_FLOWS = [
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_AUTH",
]


def verify_purpose(attribute: str) -> str:
    """The inbox purpose of a code that verifies ``attribute``."""
    return f"verify_{attribute}"


@dataclass(frozen=True)
class UserSnapshot:
    username: str
    sub: str
    status: str
    enabled: bool
    attributes: dict[str, str]
    totp_enabled: bool = False
    sms_mfa_enabled: bool = False


class _Requests:
    """The server's request log, read lazily: ``len(...)`` and slicing like a list."""

    def __init__(self, server: LocalServer) -> None:
        self._server = server

    def _all(self) -> list[RequestRecord]:
        return self._server.local.api.requests()

    def __len__(self) -> int:
        return len(self._all())

    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self._all())


class LocalClock(ShiftedClock):
    """The test's clock, moved together with the local Cognito's clock."""

    def __init__(self, server: LocalServer) -> None:
        super().__init__()
        self._server = server

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        self._server.local.api.advance_clock(seconds)

    def rewind(self) -> None:
        """Put the server's clock back where it was (the end of a test)."""
        if self.offset:
            self._server.local.api.advance_clock(-self.offset)
            self.offset = 0.0


class LocalServer:
    """A started :class:`LocalCognito` with set-up helpers (a context manager)."""

    def __init__(self) -> None:
        self.local = LocalCognito()
        self.requests = _Requests(self)
        self._boto: Any = None

    def __enter__(self) -> LocalServer:
        self.local.start()
        self.local.api.record_requests(True)
        self._boto = boto3.client(
            "cognito-idp",
            endpoint_url=self.local.endpoint_url,
            region_name=self.local.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1}),
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._boto is not None:
            self._boto.close()
        self.local.stop()

    @property
    def endpoint_url(self) -> str:
        return self.local.endpoint_url

    @property
    def boto(self) -> Any:
        return self._boto

    @property
    def port(self) -> int:
        return self.local.port

    @property
    def running(self) -> bool:
        return self.local.running

    def totp_secret(self, pool_id: str, username: str, *, pending: bool = False) -> str:
        """The user's own TOTP secret (``pending``: the one associated, not yet verified)."""
        return self.local.api.totp_secret(pool_id, username, pending=pending)

    @property
    def internal_errors(self) -> list[str]:
        return self.local.api.internal_errors()

    # ------------------------------------------------------------ set-up

    def create_pool(
        self,
        *,
        username_attributes: tuple[str, ...] | list[str] = (),
        alias_attributes: tuple[str, ...] | list[str] = (),
        device_tracking: bool = False,
        device_remember_on_prompt: bool = False,
        mfa: str = "OFF",
        region: str = "us-east-1",
    ) -> str:
        assert region == self.local.region, "one region per local server"
        params: dict[str, Any] = {
            "PoolName": f"pool-{uuid.uuid4().hex[:8]}",
            # Every first factor of USER_AUTH (Cognito's default is PASSWORD only).
            "Policies": {
                "PasswordPolicy": {
                    "MinimumLength": 8,
                    "RequireUppercase": True,
                    "RequireLowercase": True,
                    "RequireNumbers": True,
                    "RequireSymbols": True,
                },
                "SignInPolicy": {
                    "AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"]
                },
            },
        }
        if username_attributes:
            params["UsernameAttributes"] = list(username_attributes)
        if alias_attributes:
            params["AliasAttributes"] = list(alias_attributes)
        if device_tracking:
            params["DeviceConfiguration"] = {
                "ChallengeRequiredOnNewDevice": True,
                "DeviceOnlyRememberedOnUserPrompt": device_remember_on_prompt,
            }
        pool_id: str = self._boto.create_user_pool(**params)["UserPool"]["Id"]
        if mfa != "OFF":
            self._boto.set_user_pool_mfa_config(
                UserPoolId=pool_id,
                SoftwareTokenMfaConfiguration={"Enabled": True},
                SmsMfaConfiguration={"SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::1:role/x"}},
                MfaConfiguration=mfa,
            )
        return pool_id

    def create_client(
        self,
        pool_id: str,
        *,
        secret: bool = False,
        explicit_auth_flows: list[str] | None = None,
        refresh_token_rotation: bool = False,
        retry_grace_seconds: int = 0,
        access_token_validity: int | None = None,
        refresh_token_validity: int | None = None,
        enable_token_revocation: bool = True,
        auth_session_validity: int | None = None,
    ) -> tuple[str, str | None]:
        """An app client; validities in seconds, except ``auth_session_validity`` (minutes,
        as Cognito counts it)."""
        flows = list(_FLOWS if explicit_auth_flows is None else explicit_auth_flows)
        if refresh_token_rotation and explicit_auth_flows is None:
            # Rotation goes through GetTokensFromRefreshToken; AWS has such a client drop
            # ALLOW_REFRESH_TOKEN_AUTH (developer guide, refresh tokens).
            flows.remove("ALLOW_REFRESH_TOKEN_AUTH")
        params: dict[str, Any] = {
            "UserPoolId": pool_id,
            "ClientName": f"client-{uuid.uuid4().hex[:8]}",
            "GenerateSecret": secret,
            "ExplicitAuthFlows": flows,
        }
        units: dict[str, str] = {}
        if access_token_validity is not None:
            params["AccessTokenValidity"] = access_token_validity
            params["IdTokenValidity"] = access_token_validity
            units.update(AccessToken="seconds", IdToken="seconds")
        if refresh_token_validity is not None:
            params["RefreshTokenValidity"] = refresh_token_validity
            units["RefreshToken"] = "seconds"
        if units:
            params["TokenValidityUnits"] = units
        if auth_session_validity is not None:
            params["AuthSessionValidity"] = auth_session_validity
        params["EnableTokenRevocation"] = enable_token_revocation
        if refresh_token_rotation:
            params["RefreshTokenRotation"] = {
                "Feature": "ENABLED",
                "RetryGracePeriodSeconds": retry_grace_seconds,
            }
        client = self._boto.create_user_pool_client(**params)["UserPoolClient"]
        return client["ClientId"], client.get("ClientSecret")

    def create_user(
        self,
        pool_id: str,
        username: str,
        password: str,
        *,
        attributes: Mapping[str, str] | None = None,
        confirmed: bool = True,
        status: str | None = None,
    ) -> str:
        """Create a user; its pool user name (the sub in an e-mail pool)."""
        attrs = dict(attributes or {})
        for name in ("email", "phone_number"):
            if name in attrs:
                attrs.setdefault(f"{name}_verified", "true")
        if "@" in username:
            attrs.setdefault("email_verified", "true")
        resp = self._boto.admin_create_user(
            UserPoolId=pool_id,
            Username=username,
            TemporaryPassword=password,
            UserAttributes=[{"Name": k, "Value": v} for k, v in attrs.items()],
            MessageAction="SUPPRESS",
        )
        name: str = resp["User"]["Username"]
        if status != "FORCE_CHANGE_PASSWORD":
            self._boto.admin_set_user_password(
                UserPoolId=pool_id, Username=username, Password=password, Permanent=True
            )
            if not confirmed or status not in (None, "CONFIRMED"):
                self.local.api.set_user_status(pool_id, name, status or "UNCONFIRMED")
        return name

    def update_user(
        self,
        pool_id: str,
        username: str,
        *,
        enabled: bool | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        if enabled is True:
            self._boto.admin_enable_user(UserPoolId=pool_id, Username=username)
        elif enabled is False:
            self._boto.admin_disable_user(UserPoolId=pool_id, Username=username)
        if attributes:
            self._boto.admin_update_user_attributes(
                UserPoolId=pool_id,
                Username=username,
                UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
            )

    def _preference(self, pool_id: str, username: str, kind: str, preferred: bool) -> str | None:
        """The preference to set: ``kind``, or none if it was ``kind``'s, else unchanged."""
        if preferred:
            return kind
        data = self._boto.admin_get_user(UserPoolId=pool_id, Username=username)
        return "" if data.get("PreferredMfaSetting") == kind else None

    def enable_totp(self, pool_id: str, username: str, *, preferred: bool = True) -> str:
        """TOTP MFA on for the user; its secret (a random one of its own)."""
        choice = self._preference(pool_id, username, "SOFTWARE_TOKEN_MFA", preferred)
        self.local.api.set_user_mfa(pool_id, username, totp=True, preferred=choice)
        return self.local.api.totp_secret(pool_id, username)

    def enable_sms_mfa(self, pool_id: str, username: str, *, preferred: bool = True) -> None:
        choice = self._preference(pool_id, username, "SMS_MFA", preferred)
        self.local.api.set_user_mfa(pool_id, username, sms=True, preferred=choice)

    def set_custom_auth(
        self, pool_id: str, answer: str, *, parameters: Mapping[str, str] | None = None
    ) -> None:
        self.local.api.set_custom_auth(pool_id, answer, dict(parameters or {}))

    # ------------------------------------------------------------ inspection

    def jwks_url(self, pool_id: str) -> str:
        return f"{self.endpoint_url}/{pool_id}/.well-known/jwks.json"

    def issuer_url(self, pool_id: str) -> str:
        return f"https://cognito-idp.{self.local.region}.amazonaws.com/{pool_id}"

    def jwks(self, pool_id: str) -> dict[str, Any]:
        with urllib.request.urlopen(self.jwks_url(pool_id), timeout=10) as resp:  # noqa: S310
            keys: dict[str, Any] = json.loads(resp.read())
        return keys

    def _pool_username(self, pool_id: str, username: str) -> str:
        name: str = self._boto.admin_get_user(UserPoolId=pool_id, Username=username)["Username"]
        return name

    def last_code(self, pool_id: str, username: str, purpose: str) -> str:
        return self.local.inbox.last_code(pool_id, self._pool_username(pool_id, username), purpose)

    def user(self, pool_id: str, username: str) -> UserSnapshot:
        data = self._boto.admin_get_user(UserPoolId=pool_id, Username=username)
        attrs = {a["Name"]: a["Value"] for a in data.get("UserAttributes", [])}
        settings = data.get("UserMFASettingList") or []
        return UserSnapshot(
            data["Username"],
            attrs.get("sub", ""),
            data["UserStatus"],
            data["Enabled"],
            attrs,
            "SOFTWARE_TOKEN_MFA" in settings,
            "SMS_MFA" in settings,
        )

    def has_user(self, pool_id: str, username: str) -> bool:
        try:
            self._boto.admin_get_user(UserPoolId=pool_id, Username=username)
        except self._boto.exceptions.UserNotFoundException:
            return False
        return True

    def devices(self, pool_id: str, username: str) -> list[Any]:
        return self.local.api.devices(pool_id, self._pool_username(pool_id, username))

    def refresh_token_status(self, token: str) -> str:
        return self.local.api.refresh_token_status(token)

    def count(self, operation: str) -> int:
        return sum(1 for r in self.requests if r.operation == operation)

    def hold(self, operation: str) -> None:
        self.local.api.hold(operation)

    def release(self, operation: str) -> None:
        self.local.api.release(operation)
