"""AsyncCognito: one user-pool session, every operation a coroutine.

The session holds who the user is (username, tokens, verified claims) and one
aiobotocore client. Method names and arguments follow pycognito's ``Cognito`` so
migrating code reads the same, with ``await`` in front.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from ._flight import SingleFlight
from ._idp import IdpClient
from ._secret import redact, secret_hash
from .devices import (
    Device,
    confirm_device,
    forget_device,
    get_device,
    iter_devices,
    update_device_status,
)
from .errors import (
    ChallengeRequired,
    ConfigurationError,
    ForceChangePasswordException,
    SessionClosedError,
)
from .flows import CustomAnswer, DeviceCredentials, SignIn
from .jwks import JwksCache
from .models import Group, User, dict_to_attributes
from .tokens import Tokens, peek_claims
from .verify import CognitoVerifier

if TYPE_CHECKING:
    from datetime import datetime

    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession

__all__ = ["AsyncCognito"]

_POOL_ID = re.compile(r"^[\w-]+_[0-9a-zA-Z]+$")
_CLIENT_ID = re.compile(r"^[\w+]{1,128}$")

AuthFlow = Literal["USER_SRP_AUTH", "USER_PASSWORD_AUTH", "USER_AUTH"]


def _need(value: str | None, what: str) -> str:
    if value is None or not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} is required")
    return value


class AsyncCognito:
    """A Cognito user-pool session for one app client and (optionally) one user.

    ``async with AsyncCognito(pool_id, client_id, username="bob") as cognito:`` opens
    one aiobotocore client (built off the event loop) and closes it on exit; without
    ``async with``, the client opens on first use and ``await cognito.close()``
    releases it. ``endpoint_url`` points at an emulator: the JWKS is then read from
    ``{endpoint_url}/{user_pool_id}/.well-known/jwks.json`` while the expected token
    issuer stays ``https://cognito-idp.{region}.amazonaws.com/{user_pool_id}`` (both
    overridable with ``jwks_url`` and ``issuer``).

    ``max_concurrency`` caps the Cognito calls in flight for this session and its
    :meth:`for_user` children (default: the connection pool size, 10): calls beyond it
    wait before their request is built, which bounds event-loop stalls in bursts.

    Secrets (tokens, client secret, AWS keys, device password) are never shown by
    ``repr()``.
    """

    user_class: type[User] = User
    group_class: type[Group] = Group

    def __init__(
        self,
        user_pool_id: str,
        client_id: str,
        *,
        user_pool_region: str | None = None,
        username: str | None = None,
        id_token: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        client_secret: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        session: AioSession | None = None,
        botocore_config: AioConfig | None = None,
        endpoint_url: str | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        device_key: str | None = None,
        device_group_key: str | None = None,
        device_password: str | None = None,
        refresh_token_rotation: bool = False,
        refresh_margin: float = 60.0,
        jwks: Mapping[str, Any] | None = None,
        jwks_cache: JwksCache | None = None,
        verify_on_sign_in: bool = True,
        max_concurrency: int | None = None,
    ) -> None:
        if not isinstance(user_pool_id, str) or not _POOL_ID.match(user_pool_id):
            raise ConfigurationError(
                "user_pool_id must look like '<region>_<id>', e.g. 'eu-west-1_AbC123'"
            )
        if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
            raise ConfigurationError("client_id must be 1-128 word characters")
        if (access_key is None) != (secret_key is None):
            raise ConfigurationError("access_key and secret_key go together")
        device_parts = (device_key, device_group_key, device_password)
        if any(device_parts) and not all(device_parts):
            raise ConfigurationError("device_key, device_group_key and device_password go together")
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self.user_pool_region = user_pool_region or user_pool_id.split("_", 1)[0]
        self.username = username
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self.issuer = issuer or (
            f"https://cognito-idp.{self.user_pool_region}.amazonaws.com/{user_pool_id}"
        )
        self.jwks_url = jwks_url or (
            f"{self.endpoint_url}/{user_pool_id}/.well-known/jwks.json"
            if self.endpoint_url
            else f"{self.issuer}/.well-known/jwks.json"
        )
        self._client_secret = client_secret
        self.refresh_token_rotation = refresh_token_rotation
        self.refresh_margin = refresh_margin
        self.device: DeviceCredentials | None = (
            DeviceCredentials(device_key, device_group_key, device_password)  # type: ignore[arg-type]
            if device_key
            else None
        )
        #: ``NewDeviceMetadata`` of the last sign-in, for :meth:`confirm_device`.
        self.new_device_metadata: dict[str, str] | None = None
        self.base_attributes: dict[str, Any] | None = None
        self.custom_attributes: dict[str, Any] | None = None
        #: What :meth:`authenticate` left to continue an MFA challenge (pycognito name).
        self.mfa_tokens: dict[str, Any] | None = None
        self.id_claims: dict[str, Any] | None = None
        self.access_claims: dict[str, Any] | None = None
        self._tokens = Tokens(
            id_token=id_token, access_token=access_token, refresh_token=refresh_token
        )
        self._idp = IdpClient(
            region=self.user_pool_region,
            endpoint_url=self.endpoint_url,
            access_key=access_key,
            secret_key=secret_key,
            session=session,
            botocore_config=botocore_config,
            max_concurrency=max_concurrency,
        )
        self._refresh_flight: SingleFlight[Tokens] = SingleFlight(shield=True)
        self._owns_idp = True
        self._closed = False
        #: Verify tokens (and set ``id_claims`` / ``access_claims``) on every sign-in and refresh.
        self.verify_on_sign_in = verify_on_sign_in
        self._owns_jwks = jwks_cache is None
        self._jwks_cache = jwks_cache if jwks_cache is not None else JwksCache()
        self._id_verifier = self._verifier("id", jwks)
        self._access_verifier = self._verifier("access", jwks)

    def _verifier(
        self, token_use: Literal["id", "access"], jwks: Mapping[str, Any] | None
    ) -> CognitoVerifier:
        return CognitoVerifier(
            self.user_pool_id,
            client_id=self.client_id,
            token_use=token_use,
            jwks=jwks,
            jwks_uri=self.jwks_url,
            issuer=self.issuer,
            jwks_cache=self._jwks_cache,
        )

    def for_user(
        self,
        username: str | None = None,
        *,
        id_token: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        device: DeviceCredentials | None = None,
    ) -> AsyncCognito:
        """A session for another user of the same pool and client, sharing this one's
        aiobotocore client (and so its connections).

        A service signing many users in keeps one parent session open and makes a cheap
        child per user; closing a child leaves the parent's client open.
        """
        child = object.__new__(type(self))
        child.__dict__.update(self.__dict__)
        child.username = username
        child.device = device
        child.new_device_metadata = None
        child.base_attributes = None
        child.custom_attributes = None
        child.mfa_tokens = None
        child.id_claims = None
        child.access_claims = None
        child._tokens = Tokens(
            id_token=id_token, access_token=access_token, refresh_token=refresh_token
        )
        child._refresh_flight = SingleFlight(shield=True)
        child._owns_idp = False
        child._owns_jwks = False
        child._closed = False
        return child

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> AsyncCognito:
        await self._idp.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Release the aiobotocore client (unless shared from a parent, see
        :meth:`for_user`). The session cannot be used afterwards."""
        self._closed = True
        if self._owns_idp:
            await self._idp.close()
        if self._owns_jwks:
            await self._jwks_cache.aclose()

    @property
    def closed(self) -> bool:
        return self._closed or self._idp.closed

    @property
    def _live_idp(self) -> IdpClient:
        if self.closed:
            raise SessionClosedError("this AsyncCognito session is closed")
        return self._idp

    async def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        response = await self._live_idp.call(operation, **params)
        response.pop("ResponseMetadata", None)
        return response

    # ------------------------------------------------------------------ tokens

    @property
    def tokens(self) -> Tokens:
        """The current tokens, as one consistent value."""
        return self._tokens

    @property
    def id_token(self) -> str | None:
        return self._tokens.id_token

    @id_token.setter
    def id_token(self, value: str | None) -> None:
        self._tokens = self._tokens.with_changes(id_token=value)

    @property
    def access_token(self) -> str | None:
        return self._tokens.access_token

    @access_token.setter
    def access_token(self, value: str | None) -> None:
        self._tokens = self._tokens.with_changes(access_token=value, expires_in=None)

    @property
    def refresh_token(self) -> str | None:
        return self._tokens.refresh_token

    @refresh_token.setter
    def refresh_token(self, value: str | None) -> None:
        self._tokens = self._tokens.with_changes(refresh_token=value)

    @property
    def token_type(self) -> str | None:
        return self._tokens.token_type

    @property
    def expires_in(self) -> int | None:
        return self._tokens.expires_in

    @property
    def expires_datetime(self) -> datetime | None:
        """When the access token expires (aware, UTC)."""
        return self._tokens.expires_datetime

    @property
    def client_secret(self) -> str | None:
        return self._client_secret

    def _pool_username(self) -> str | None:
        """The pool's own user name for these tokens (what SECRET_HASH is computed over)."""
        for token, claim in ((self.access_token, "username"), (self.id_token, "cognito:username")):
            if token:
                try:
                    value = peek_claims(token).get(claim)
                except Exception:  # noqa: S112 - a malformed token just has no name
                    continue
                if isinstance(value, str) and value:
                    return value
        # Not the typed name: with an alias (email) it is the wrong one. Without a name
        # the refresh goes through GetTokensFromRefreshToken, which needs none.
        return None

    def _hash_for(self, username: str) -> dict[str, str]:
        if self._client_secret is None:
            return {}
        return {"SecretHash": secret_hash(username, self.client_id, self._client_secret)}

    async def _accept(self, response: Mapping[str, Any], *, sign_in: bool = True) -> Tokens:
        """Take a sign-in or refresh result: verify it first, then swap all state at once."""
        result = response["AuthenticationResult"]
        tokens = Tokens.from_result(result, previous=self._tokens)
        id_claims = access_claims = None
        if self.verify_on_sign_in:
            id_claims, access_claims = await self._verify_pair(tokens.id_token, tokens.access_token)
        self._tokens = tokens
        self.id_claims, self.access_claims = id_claims, access_claims
        if sign_in:  # a sign-in without new-device metadata clears the previous one
            meta = result.get("NewDeviceMetadata")
            self.new_device_metadata = dict(meta) if meta else None
        self.mfa_tokens = None
        return tokens

    async def _verify_pair(
        self, id_token: str | None, access_token: str | None
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        access_claims = await self._access_verifier.verify(access_token) if access_token else None
        id_claims = (
            await self._id_verifier.verify(id_token, access_token=access_token)
            if id_token
            else None
        )
        return id_claims, access_claims

    # ------------------------------------------------------------------ verification

    @property
    def jwks_cache(self) -> JwksCache:
        """The JWKS cache the session verifies with (shared with :meth:`for_user` children)."""
        return self._jwks_cache

    async def verify_token(
        self, token: str, id_name: str, token_use: Literal["id", "access"]
    ) -> dict[str, Any]:
        """Verify one token (signature, expiry, issuer, ``token_use`` and the app client:
        ``aud`` for id tokens, ``client_id`` for access tokens).

        On success the token is stored as ``id_name`` (``"id_token"`` or
        ``"access_token"``) and its claims as ``{token_use}_claims``; on failure a
        :class:`~acognito.errors.TokenVerificationError` subclass is raised and nothing
        changes.
        """
        if id_name not in ("id_token", "access_token"):
            raise ConfigurationError("id_name must be 'id_token' or 'access_token'")
        verifiers = {"id": self._id_verifier, "access": self._access_verifier}
        if token_use not in verifiers:
            raise ConfigurationError("token_use must be 'id' or 'access'")
        access = self.access_token if token_use == "id" else None  # noqa: S105 - a claim value
        claims = await verifiers[token_use].verify(token, access_token=access)
        self._tokens = self._tokens.with_changes(**{id_name: token})
        setattr(self, f"{token_use}_claims", claims)
        return claims

    async def verify_tokens(self) -> None:
        """Verify the current id and access tokens and set ``id_claims`` and
        ``access_claims``. Useful after building a session from stored tokens."""
        if not self.id_token or not self.access_token:
            raise ConfigurationError("verify_tokens needs both an id token and an access token")
        tokens = self._tokens
        id_claims, access_claims = await self._verify_pair(tokens.id_token, tokens.access_token)
        if self._tokens is tokens:
            self.id_claims, self.access_claims = id_claims, access_claims

    def _sign_in(
        self,
        *,
        admin: bool = False,
        client_metadata: Mapping[str, str] | None = None,
        custom_answer: CustomAnswer | None = None,
    ) -> SignIn:
        return SignIn(
            self._live_idp,
            user_pool_id=self.user_pool_id,
            client_id=self.client_id,
            client_secret=self._client_secret,
            device=self.device,
            client_metadata=client_metadata,
            custom_answer=custom_answer,
            admin=admin,
        )

    def _require_access_token(self) -> str:
        if not self.access_token:
            raise ConfigurationError("this operation needs an access token: sign in first")
        return self.access_token

    def _require_username(self, username: str | None = None) -> str:
        name = username or self.username
        if not name:
            raise ConfigurationError("a username is required (pass it or set it on the session)")
        return name

    # ------------------------------------------------------------------ sign-up

    def set_base_attributes(self, **kwargs: Any) -> None:
        """Standard attributes for :meth:`register` (``email=...``, ``given_name=...``)."""
        self.base_attributes = kwargs

    def add_custom_attributes(self, **kwargs: Any) -> None:
        """Custom attributes for :meth:`register`; names get the ``custom:`` prefix."""
        self.custom_attributes = {f"custom:{key}": value for key, value in kwargs.items()}

    async def register(
        self,
        username: str,
        password: str,
        attr_map: Mapping[str, str] | None = None,
        client_metadata: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Sign a user up (SignUp) with the base and custom attributes set before.

        Returns Cognito's answer (``UserConfirmed``, ``UserSub``, ``CodeDeliveryDetails``)
        and sets ``username`` on the session.
        """
        _need(username, "username")
        _need(password, "password")
        attributes = dict(self.base_attributes or {})
        attributes.update(self.custom_attributes or {})
        params: dict[str, Any] = {
            "ClientId": self.client_id,
            "Username": username,
            "Password": password,
            "UserAttributes": dict_to_attributes(attributes, attr_map),
            **self._hash_for(username),
        }
        if client_metadata is not None:
            params["ClientMetadata"] = dict(client_metadata)
        response = await self._call("sign_up", **params)
        self.username = username
        return response

    async def confirm_sign_up(self, confirmation_code: str, username: str | None = None) -> None:
        """Confirm a sign-up with the code Cognito sent."""
        name = self._require_username(username)
        _need(confirmation_code, "confirmation_code")
        await self._call(
            "confirm_sign_up",
            ClientId=self.client_id,
            Username=name,
            ConfirmationCode=confirmation_code,
            **self._hash_for(name),
        )

    async def admin_confirm_sign_up(self, username: str | None = None) -> None:
        """Confirm a sign-up without a code (needs AWS credentials)."""
        await self._call(
            "admin_confirm_sign_up",
            UserPoolId=self.user_pool_id,
            Username=self._require_username(username),
        )

    async def resend_confirmation_code(self, username: str | None = None) -> dict[str, Any]:
        """Send the sign-up confirmation code again; returns ``CodeDeliveryDetails``."""
        name = self._require_username(username)
        response = await self._call(
            "resend_confirmation_code",
            ClientId=self.client_id,
            Username=name,
            **self._hash_for(name),
        )
        return dict(response.get("CodeDeliveryDetails", {}))

    # ------------------------------------------------------------------ sign-in

    async def authenticate(
        self,
        password: str,
        client_metadata: Mapping[str, str] | None = None,
        *,
        auth_flow: AuthFlow = "USER_SRP_AUTH",
    ) -> None:
        """Sign in (SRP by default: the password never leaves this process).

        On success the tokens are set. When Cognito wants more (an MFA code, a new
        password) a :class:`~acognito.errors.ChallengeRequired` subclass is raised and
        ``mfa_tokens`` keeps what the matching ``respond_to_*`` method needs.
        """
        username = self._require_username()
        _need(password, "password")
        flow = self._sign_in(client_metadata=client_metadata)
        try:
            if auth_flow == "USER_SRP_AUTH":
                response = await flow.start_srp(username, password)
            elif auth_flow == "USER_PASSWORD_AUTH":
                response = await flow.start_password(username, password)
            elif auth_flow == "USER_AUTH":
                response = await flow.start_user_auth(username, password)
            else:
                raise ConfigurationError(f"unsupported auth_flow {auth_flow!r}")
        except ChallengeRequired as challenge:
            self.mfa_tokens = challenge.get_tokens()
            raise
        await self._accept(response)

    async def admin_authenticate(
        self, password: str, client_metadata: Mapping[str, str] | None = None
    ) -> None:
        """Sign in with AdminInitiateAuth (ADMIN_USER_PASSWORD_AUTH; needs AWS credentials)."""
        username = self._require_username()
        _need(password, "password")
        flow = self._sign_in(admin=True, client_metadata=client_metadata)
        try:
            response = await flow.start_password(username, password)
        except ChallengeRequired as challenge:
            self.mfa_tokens = challenge.get_tokens()
            raise
        await self._accept(response)

    async def custom_authenticate(
        self,
        answer: CustomAnswer,
        *,
        password: str | None = None,
        client_metadata: Mapping[str, str] | None = None,
    ) -> None:
        """CUSTOM_AUTH: ``answer(challenge_parameters)`` (sync or async) answers each
        CUSTOM_CHALLENGE. With ``password``, SRP verifies it first (CUSTOM_WITH_SRP)."""
        username = self._require_username()
        if password is not None:
            _need(password, "password")
        flow = self._sign_in(client_metadata=client_metadata, custom_answer=answer)
        try:
            response = await flow.start_custom(username, password)
        except ChallengeRequired as challenge:
            self.mfa_tokens = challenge.get_tokens()
            raise
        await self._accept(response)

    async def new_password_challenge(self, password: str, new_password: str) -> None:
        """Sign in with a temporary password and set the permanent one."""
        _need(new_password, "new_password")
        try:
            await self.authenticate(password)
        except ForceChangePasswordException as challenge:
            await self.respond_to_new_password_challenge(new_password, challenge.get_tokens())
            return
        raise ConfigurationError("Cognito did not ask for a new password; signed in as is")

    async def _continue(
        self,
        expected: Sequence[str],
        responses: dict[str, str],
        challenge_tokens: Mapping[str, Any] | None,
        client_metadata: Mapping[str, str] | None = None,
    ) -> None:
        pending = challenge_tokens or self.mfa_tokens
        if not pending:
            raise ConfigurationError("no sign-in challenge is pending: authenticate first")
        name = pending.get("ChallengeName")
        if name not in expected:
            raise ConfigurationError(
                f"the pending challenge is {name!r}, not {' or '.join(expected)}"
            )
        username = (
            pending.get("Username")
            or (pending.get("ChallengeParameters") or {}).get("USERNAME")
            or (pending.get("ChallengeParameters") or {}).get("USER_ID_FOR_SRP")
            or self._require_username()
        )
        flow = self._sign_in(admin=bool(pending.get("Admin")), client_metadata=client_metadata)
        try:
            response = await flow.continue_with(
                str(name), pending.get("Session"), responses, username=str(username)
            )
        except ChallengeRequired as challenge:
            self.mfa_tokens = challenge.get_tokens()
            raise
        await self._accept(response)

    async def respond_to_software_token_mfa_challenge(
        self, code: str, mfa_tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Answer SOFTWARE_TOKEN_MFA with a TOTP code."""
        _need(code, "code")
        await self._continue(["SOFTWARE_TOKEN_MFA"], {"SOFTWARE_TOKEN_MFA_CODE": code}, mfa_tokens)

    async def respond_to_sms_mfa_challenge(
        self, code: str, mfa_tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Answer SMS_MFA with the code sent by SMS."""
        _need(code, "code")
        await self._continue(["SMS_MFA"], {"SMS_MFA_CODE": code}, mfa_tokens)

    async def respond_to_email_otp_challenge(
        self, code: str, mfa_tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Answer EMAIL_OTP with the code sent by email."""
        _need(code, "code")
        await self._continue(["EMAIL_OTP"], {"EMAIL_OTP_CODE": code}, mfa_tokens)

    async def select_mfa_type(
        self, mfa_type: str, mfa_tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Answer SELECT_MFA_TYPE (``"SMS_MFA"``, ``"SOFTWARE_TOKEN_MFA"`` or ``"EMAIL_OTP"``);
        Cognito then asks for that code."""
        _need(mfa_type, "mfa_type")
        await self._continue(["SELECT_MFA_TYPE"], {"ANSWER": mfa_type}, mfa_tokens)

    async def respond_to_new_password_challenge(
        self,
        new_password: str,
        challenge_tokens: Mapping[str, Any] | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        """Answer NEW_PASSWORD_REQUIRED, optionally setting required attributes."""
        _need(new_password, "new_password")
        responses = {"NEW_PASSWORD": new_password}
        for key, value in (attributes or {}).items():
            responses[f"userAttributes.{key}"] = value
        await self._continue(["NEW_PASSWORD_REQUIRED"], responses, challenge_tokens)

    async def renew_access_token(self) -> None:
        """Fresh id and access tokens from the refresh token.

        However many tasks call this at once, one request reaches Cognito and all of
        them share its outcome. Cancelling the caller does not lose the new tokens.
        """
        await self._refresh_flight.run(self._refresh)

    async def _refresh(self) -> Tokens:
        refresh_token = self.refresh_token
        if not refresh_token:
            raise ConfigurationError("no refresh token: sign in first")
        response = await self._sign_in().refresh(
            refresh_token, self._pool_username(), rotate=self.refresh_token_rotation
        )
        return await self._accept(response, sign_in=False)

    async def check_token(self, renew: bool = True, *, margin: float | None = None) -> bool:
        """Whether the access token has expired or expires within ``margin`` seconds
        (``refresh_margin`` by default); with ``renew``, refresh it then."""
        self._require_access_token()
        window = self.refresh_margin if margin is None else margin
        expired = self._tokens.expires_within(window, now=time.time())
        if expired and renew:
            await self.renew_access_token()
        return expired

    async def logout(self) -> None:
        """Sign the user out everywhere (GlobalSignOut) and drop the tokens."""
        await self._call("global_sign_out", AccessToken=self._require_access_token())
        self._forget_tokens()

    async def revoke_token(self) -> None:
        """Revoke the refresh token (RevokeToken) and the tokens issued from it, then drop them."""
        refresh = self.refresh_token
        if not refresh:
            raise ConfigurationError("no refresh token to revoke")
        params: dict[str, Any] = {"Token": refresh, "ClientId": self.client_id}
        if self._client_secret is not None:
            params["ClientSecret"] = self._client_secret
        await self._call("revoke_token", **params)
        self._forget_tokens()

    def _forget_tokens(self) -> None:
        self._tokens = Tokens()
        self.id_claims = None
        self.access_claims = None

    # ------------------------------------------------------------------ passwords

    async def initiate_forgot_password(self) -> dict[str, Any]:
        """Send the user a code to reset the password; returns ``CodeDeliveryDetails``."""
        name = self._require_username()
        response = await self._call(
            "forgot_password", ClientId=self.client_id, Username=name, **self._hash_for(name)
        )
        return dict(response.get("CodeDeliveryDetails", {}))

    async def confirm_forgot_password(self, confirmation_code: str, password: str) -> None:
        """Set a new password with the code from :meth:`initiate_forgot_password`."""
        name = self._require_username()
        _need(confirmation_code, "confirmation_code")
        _need(password, "password")
        await self._call(
            "confirm_forgot_password",
            ClientId=self.client_id,
            Username=name,
            ConfirmationCode=confirmation_code,
            Password=password,
            **self._hash_for(name),
        )

    async def change_password(self, previous_password: str, proposed_password: str) -> None:
        """Change the signed-in user's password (refreshing the access token if needed)."""
        _need(previous_password, "previous_password")
        _need(proposed_password, "proposed_password")
        await self._fresh_access_token()
        await self._call(
            "change_password",
            PreviousPassword=previous_password,
            ProposedPassword=proposed_password,
            AccessToken=self._require_access_token(),
        )

    async def admin_reset_password(
        self, username: str, client_metadata: Mapping[str, str] | None = None
    ) -> None:
        """Reset a user's password (AdminResetUserPassword): they must choose a new one."""
        params: dict[str, Any] = {
            "UserPoolId": self.user_pool_id,
            "Username": _need(username, "username"),
        }
        if client_metadata:
            params["ClientMetadata"] = dict(client_metadata)
        await self._call("admin_reset_user_password", **params)

    async def _fresh_access_token(self) -> None:
        if self.refresh_token and self.access_token:
            await self.check_token(renew=True)

    # ------------------------------------------------------------------ profile

    async def update_profile(
        self, attrs: Mapping[str, Any], attr_map: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Update the signed-in user's attributes; returns ``CodeDeliveryDetailsList``
        when a changed email or phone number needs verifying."""
        await self._fresh_access_token()
        response = await self._call(
            "update_user_attributes",
            UserAttributes=dict_to_attributes(attrs, attr_map),
            AccessToken=self._require_access_token(),
        )
        return response

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

    async def send_verification(self, attribute: str = "email") -> dict[str, Any]:
        """Send a code to verify ``attribute`` (email or phone_number)."""
        await self._fresh_access_token()
        response = await self._call(
            "get_user_attribute_verification_code",
            AccessToken=self._require_access_token(),
            AttributeName=_need(attribute, "attribute"),
        )
        return dict(response.get("CodeDeliveryDetails", {}))

    async def validate_verification(self, confirmation_code: str, attribute: str = "email") -> None:
        """Verify ``attribute`` with the code from :meth:`send_verification`."""
        await self._fresh_access_token()
        await self._call(
            "verify_user_attribute",
            AccessToken=self._require_access_token(),
            AttributeName=_need(attribute, "attribute"),
            Code=_need(confirmation_code, "confirmation_code"),
        )

    # ------------------------------------------------------------------ users

    def get_user_obj(
        self,
        username: str | None = None,
        attribute_list: Sequence[Mapping[str, str]] | None = None,
        metadata: Mapping[str, Any] | None = None,
        attr_map: Mapping[str, str] | None = None,
    ) -> User:
        """A :class:`User` bound to this session (``await user.save()`` writes it back)."""
        return self.user_class(
            username=username,
            attribute_list=attribute_list,
            cognito=self,
            metadata=metadata,
            attr_map=attr_map,
        )

    def get_group_obj(self, group_data: Mapping[str, Any]) -> Group:
        """A :class:`Group` bound to this session."""
        return self.group_class(group_data=group_data, cognito=self)

    async def get_user(self, attr_map: Mapping[str, str] | None = None) -> User:
        """The signed-in user (GetUser with the access token)."""
        await self._fresh_access_token()
        response = await self._call("get_user", AccessToken=self._require_access_token())
        metadata = {
            "username": response.get("Username"),
            "mfa_options": response.get("MFAOptions"),
            "preferred_mfa_setting": response.get("PreferredMfaSetting"),
            "user_mfa_setting_list": response.get("UserMFASettingList"),
        }
        return self.get_user_obj(
            username=self.username or response.get("Username"),
            attribute_list=response.get("UserAttributes"),
            metadata=metadata,
            attr_map=attr_map,
        )

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
            Username=_need(username, "username"),
            UserAttributes=dict_to_attributes(kwargs, attr_map),
            **params,
        )
        self.username = username
        return response

    async def delete_user(self) -> None:
        """Delete the signed-in user (DeleteUser) and drop the tokens."""
        await self._call("delete_user", AccessToken=self._require_access_token())
        self._forget_tokens()

    async def admin_delete_user(self, *, username: str | None = None) -> None:
        """Delete a user with AWS credentials (AdminDeleteUser)."""
        await self._call(
            "admin_delete_user",
            UserPoolId=self.user_pool_id,
            Username=self._require_username(username),
        )

    async def admin_enable_user(self, username: str) -> None:
        await self._call(
            "admin_enable_user", UserPoolId=self.user_pool_id, Username=_need(username, "username")
        )

    async def admin_disable_user(self, username: str) -> None:
        await self._call(
            "admin_disable_user", UserPoolId=self.user_pool_id, Username=_need(username, "username")
        )

    # ------------------------------------------------------------------ groups

    async def get_group(self, group_name: str) -> Group:
        response = await self._call(
            "get_group", GroupName=_need(group_name, "group_name"), UserPoolId=self.user_pool_id
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
        params: dict[str, Any] = {"UserPoolId": self.user_pool_id, "GroupName": group_name}
        if description is not None:
            params["Description"] = description
        if precedence is not None:
            params["Precedence"] = precedence
        if role_arn is not None:
            params["RoleArn"] = role_arn
        await self._call("update_group", **params)

    async def admin_delete_group(self, group_name: str) -> None:
        await self._call(
            "delete_group", UserPoolId=self.user_pool_id, GroupName=_need(group_name, "group_name")
        )

    async def admin_add_user_to_group(self, username: str, group_name: str) -> None:
        await self._call(
            "admin_add_user_to_group",
            UserPoolId=self.user_pool_id,
            Username=_need(username, "username"),
            GroupName=_need(group_name, "group_name"),
        )

    async def admin_remove_user_from_group(self, username: str, group_name: str) -> None:
        await self._call(
            "admin_remove_user_from_group",
            UserPoolId=self.user_pool_id,
            Username=_need(username, "username"),
            GroupName=_need(group_name, "group_name"),
        )

    async def admin_list_groups_for_user(self, username: str) -> list[str]:
        """Names of the groups ``username`` belongs to, all pages."""
        names: list[str] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {
                "UserPoolId": self.user_pool_id,
                "Username": _need(username, "username"),
                "Limit": 60,
            }
            if token:
                params["NextToken"] = token
            response = await self._call("admin_list_groups_for_user", **params)
            names.extend(g["GroupName"] for g in response.get("Groups", []))
            token = response.get("NextToken")
            if not token:
                return names

    # ------------------------------------------------------------------ pool admin

    async def admin_create_identity_provider(
        self,
        pool_id: str,
        provider_name: str,
        provider_type: str,
        provider_details: Mapping[str, str],
        **kwargs: Any,
    ) -> dict[str, Any]:
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
        return await self._call(
            "describe_identity_provider", UserPoolId=pool_id, ProviderName=provider_name
        )

    async def admin_update_identity_provider(
        self, pool_id: str, provider_name: str, **kwargs: Any
    ) -> dict[str, Any]:
        response = await self._call(
            "update_identity_provider", UserPoolId=pool_id, ProviderName=provider_name, **kwargs
        )
        return dict(response.get("IdentityProvider", {}))

    async def describe_user_pool_client(self, pool_id: str, client_id: str) -> dict[str, Any]:
        response = await self._call(
            "describe_user_pool_client", UserPoolId=pool_id, ClientId=client_id
        )
        return dict(response["UserPoolClient"])

    async def admin_update_user_pool_client(
        self, pool_id: str, client_id: str, **kwargs: Any
    ) -> dict[str, Any]:
        response = await self._call(
            "update_user_pool_client", UserPoolId=pool_id, ClientId=client_id, **kwargs
        )
        return dict(response.get("UserPoolClient", {}))

    # ------------------------------------------------------------------ MFA

    async def associate_software_token(self) -> str:
        """Start TOTP set-up; returns the secret to show the user (as text or QR code)."""
        await self._fresh_access_token()
        response = await self._call(
            "associate_software_token", AccessToken=self._require_access_token()
        )
        return str(response["SecretCode"])

    async def verify_software_token(self, code: str, device_name: str = "") -> bool:
        """Finish TOTP set-up with a code from the authenticator app."""
        await self._fresh_access_token()
        response = await self._call(
            "verify_software_token",
            AccessToken=self._require_access_token(),
            UserCode=_need(code, "code"),
            FriendlyDeviceName=device_name,
        )
        return response.get("Status") == "SUCCESS"

    async def set_user_mfa_preference(
        self, sms_mfa: bool, software_token_mfa: bool, preferred: str | None = None
    ) -> None:
        """Enable SMS and/or TOTP MFA and say which one Cognito should ask for."""
        if (sms_mfa or software_token_mfa) and preferred not in ("SMS", "SOFTWARE_TOKEN"):
            raise ConfigurationError("preferred must be 'SMS' or 'SOFTWARE_TOKEN'")
        if not (sms_mfa or software_token_mfa) and preferred is not None:
            raise ConfigurationError("preferred must be None when both MFA kinds are off")
        await self._fresh_access_token()
        await self._call(
            "set_user_mfa_preference",
            SMSMfaSettings={"Enabled": bool(sms_mfa), "PreferredMfa": preferred == "SMS"},
            SoftwareTokenMfaSettings={
                "Enabled": bool(software_token_mfa),
                "PreferredMfa": preferred == "SOFTWARE_TOKEN",
            },
            AccessToken=self._require_access_token(),
        )

    # ------------------------------------------------------------------ devices

    async def confirm_device(
        self, device_name: str | None = None, *, remember: bool = True
    ) -> DeviceCredentials:
        """Remember the device the last sign-in reported (``new_device_metadata``).

        Registers a fresh device verifier with Cognito, marks the device remembered
        (when the pool leaves that to the user and ``remember`` is true) and returns
        the credentials; they are also set on the session, so later sign-ins and
        refreshes use them. Persist them to sign in as this device next time.
        """
        if not self.new_device_metadata:
            raise ConfigurationError("the last sign-in reported no new device to confirm")
        response, credentials = await confirm_device(
            self._live_idp,
            access_token=self._require_access_token(),
            new_device_metadata=self.new_device_metadata,
            device_name=device_name,
        )
        if response.get("UserConfirmationNecessary") and remember:
            await update_device_status(
                self._live_idp,
                access_token=self._require_access_token(),
                device_key=credentials.device_key,
                remembered=True,
            )
        self.device = credentials
        self.new_device_metadata = None
        return credentials

    async def update_device_status(
        self, is_remembered: bool, device_key: str | None = None
    ) -> None:
        """Mark a device (this session's by default) remembered or not."""
        key = device_key or (self.device.device_key if self.device else None)
        await update_device_status(
            self._live_idp,
            access_token=self._require_access_token(),
            device_key=_need(key, "device_key"),
            remembered=is_remembered,
        )

    async def forget_device(self, device_key: str | None = None) -> None:
        """Forget a device (this session's by default): it no longer signs in."""
        key = device_key or (self.device.device_key if self.device else None)
        await forget_device(
            self._live_idp,
            access_token=self._require_access_token(),
            device_key=_need(key, "device_key"),
        )
        if self.device and self.device.device_key == key:
            self.device = None

    async def get_device(self, device_key: str | None = None) -> Device:
        key = device_key or (self.device.device_key if self.device else None)
        return await get_device(
            self._live_idp,
            access_token=self._require_access_token(),
            device_key=_need(key, "device_key"),
        )

    async def list_devices(self) -> list[Device]:
        """Every device Cognito keeps for the signed-in user."""
        token = self._require_access_token()
        return [d async for d in iter_devices(self._live_idp, access_token=token)]

    # ------------------------------------------------------------------ repr

    def __repr__(self) -> str:
        return (
            f"AsyncCognito(user_pool_id={self.user_pool_id!r}, client_id={self.client_id!r}, "
            f"username={self.username!r}, client_secret={redact(self._client_secret)}, "
            f"tokens={self._tokens!r}, device={'set' if self.device else 'None'})"
        )
