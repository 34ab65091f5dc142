"""The session's own state: who the user is, the tokens, and the plumbing every room uses.

:class:`SessionState` is the base of :class:`~acognito.AsyncCognito` and of each room
(:mod:`.signin`, :mod:`.account`, :mod:`.admin`): per-user state (username, tokens,
verified claims, device), the borrowed :class:`~acognito.pool.CognitoPool`, token
acceptance and verification, refresh (single flight), and the call helper.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .._flight import SingleFlight
from .._idp import IdpClient
from .._secret import secret_hash
from ..errors import ConfigurationError, InvalidParameterError, SessionClosedError
from ..flows import Conversation, CustomAnswer, SignIn
from ..jwks import JwksCache
from ..models import Group, User
from ..pool import CognitoPool, _implicit_pool, _Settings
from ..tokens import Tokens, peek_claims
from ..verify import CognitoVerifier

if TYPE_CHECKING:
    from datetime import datetime

    from ..devices import DeviceCredentials

__all__ = ["SessionState", "need"]


def need(value: object, what: str) -> str:
    """``value`` if it is a non-empty string, else a :class:`ConfigurationError`."""
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} is required (a non-empty string)")
    return value


def _refuses_refresh_token_auth(error: InvalidParameterError) -> bool:
    """Whether Cognito refused the REFRESH_TOKEN_AUTH flow itself (a client with rotation,
    or without ALLOW_REFRESH_TOKEN_AUTH), rather than the token."""
    message = error.message or ""
    return "REFRESH_TOKEN_AUTH" in message or "GetTokensFromRefreshToken" in message


class SessionState:
    """Per-user state over a borrowed pool; the rooms add the operations."""

    user_class: type[User] = User
    group_class: type[Group] = Group

    _settings: _Settings
    _pool: CognitoPool | None
    _parent: SessionState | None
    _own_jwks: JwksCache | None
    _own_verifiers: tuple[CognitoVerifier, CognitoVerifier] | None
    _owns_jwks: bool
    _borrowed: bool
    _closed: bool
    _detached_idp: IdpClient | None
    _tokens: Tokens
    _refresh_flight: SingleFlight[Tokens]
    username: str | None
    device: DeviceCredentials | None
    new_device_metadata: dict[str, str] | None
    base_attributes: dict[str, Any] | None
    custom_attributes: dict[str, Any] | None
    _conversation: Conversation
    id_claims: dict[str, Any] | None
    access_claims: dict[str, Any] | None
    refresh_token_rotation: bool
    refresh_margin: float
    verify_on_sign_in: bool

    def _init_user(
        self,
        settings: _Settings,
        pool: CognitoPool | None,
        parent: SessionState | None,
        *,
        username: str | None,
        id_token: str | None,
        access_token: str | None,
        refresh_token: str | None,
        device: DeviceCredentials | None,
        refresh_token_rotation: bool,
        refresh_margin: float,
        verify_on_sign_in: bool,
    ) -> None:
        if username is not None and not isinstance(username, str):
            raise ConfigurationError(
                f"username must be a string or None; got {type(username).__name__}"
            )
        for what, token in (
            ("id_token", id_token),
            ("access_token", access_token),
            ("refresh_token", refresh_token),
        ):
            if token is not None and not isinstance(token, str):
                raise ConfigurationError(f"{what} must be a string or None")
        if isinstance(refresh_margin, bool) or not isinstance(refresh_margin, (int, float)):
            raise ConfigurationError("refresh_margin must be a number of seconds")
        self._settings, self._pool, self._parent = settings, pool, parent
        self._own_jwks = self._own_verifiers = None
        self._owns_jwks = False
        self.username = username
        self.device = device
        #: ``NewDeviceMetadata`` of the last sign-in, for :meth:`confirm_device`.
        self.new_device_metadata = None
        self.base_attributes = None
        self.custom_attributes = None
        self._conversation = Conversation()
        self.id_claims = None
        self.access_claims = None
        self._tokens = Tokens(
            id_token=id_token, access_token=access_token, refresh_token=refresh_token
        )
        self._refresh_flight = SingleFlight(shield=True)
        self.refresh_token_rotation = refresh_token_rotation
        self.refresh_margin = refresh_margin
        #: Verify tokens (and set ``id_claims`` / ``access_claims``) on every sign-in and refresh.
        self.verify_on_sign_in = verify_on_sign_in
        self._closed = False
        self._borrowed = False
        self._detached_idp = None

    # ------------------------------------------------------------------ configuration

    @property
    def user_pool_id(self) -> str:
        return self._settings.user_pool_id

    @property
    def client_id(self) -> str | None:
        """The app client id; ``None`` for an admin-only session."""
        return self._settings.client_id

    def _app_client(self, operation: str) -> str:
        """The app client id, or a :class:`ConfigurationError` naming ``operation``
        (raised before any call) for a session made with ``client_id=None``."""
        client_id = self._settings.client_id
        if client_id is None:
            raise ConfigurationError(
                f"{operation} needs an app client: this session was made with "
                "client_id=None (admin-only); pass the app client's id"
            )
        return client_id

    @property
    def user_pool_region(self) -> str:
        return self._settings.region

    @property
    def endpoint_url(self) -> str | None:
        return self._settings.endpoint_url

    @property
    def issuer(self) -> str:
        return self._settings.issuer

    @property
    def jwks_url(self) -> str:
        return self._settings.jwks_url

    @property
    def client_secret(self) -> str | None:
        return self._settings.client_secret

    # ------------------------------------------------------------------ the pool

    @property
    def pool(self) -> CognitoPool | None:
        """The pool this session borrows from (``None`` until first used)."""
        if self._parent is not None:
            return self._parent.pool
        return self._pool

    async def _bound(self) -> CognitoPool:
        """The pool, bound on first use to the running loop's pool for these settings."""
        known = self.pool
        if known is not None:
            known.check_loop()  # another loop's session: say so, not "closed"
        if self.closed:
            raise SessionClosedError("this AsyncCognito session is closed")
        if self._parent is not None:
            return await self._parent._bound()
        pool = self._pool
        if pool is None:
            pool = self._pool = await _implicit_pool(self._settings)
        else:
            await pool._bind()
        if not self._borrowed:
            self._borrowed = True
            pool._borrow()
        return pool

    async def _idp_client(self) -> IdpClient:
        pool = await self._bound()
        if self.closed:  # a sibling closed the pool meanwhile
            raise SessionClosedError("this AsyncCognito session is closed")
        return pool.idp

    @property
    def _idp(self) -> IdpClient:
        """The pool's aiobotocore client once bound (an unopened stand-in before)."""
        pool = self.pool
        if pool is not None:
            return pool.idp
        if self._detached_idp is None:
            self._detached_idp = IdpClient(
                region=self._settings.region, endpoint_url=self._settings.endpoint_url
            )
        return self._detached_idp

    @property
    def closed(self) -> bool:
        if self._closed:
            return True
        if self._parent is not None:
            return self._parent.closed
        return self._pool is not None and self._pool.closed

    async def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        idp = await self._idp_client()
        response = await idp.call(operation, **params)
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
        secret = self._settings.client_secret
        if secret is None:
            return {}
        return {"SecretHash": secret_hash(username, self._app_client("SECRET_HASH"), secret)}

    def _forget_tokens(self) -> None:
        self._tokens = Tokens()
        self.id_claims = None
        self.access_claims = None

    async def _accept(self, response: Mapping[str, Any], *, sign_in: bool = True) -> Tokens:
        """Take a sign-in or refresh result: verify it first, then swap all state at once.

        If verification fails (a JWKS outage, say), the unverified id and access tokens
        are dropped but a new refresh token is kept: Cognito may have retired the one
        sent (rotation), and losing both would sign the user out.
        """
        result = response["AuthenticationResult"]
        tokens = Tokens.from_result(result, previous=self._tokens)
        id_claims = access_claims = None
        if self.verify_on_sign_in:
            try:
                id_claims, access_claims = await self._verify_pair(
                    tokens.id_token, tokens.access_token
                )
            except BaseException:
                if tokens.refresh_token != self._tokens.refresh_token:
                    self._tokens = self._tokens.with_changes(refresh_token=tokens.refresh_token)
                raise
        self._tokens = tokens
        self.id_claims, self.access_claims = id_claims, access_claims
        if sign_in:  # a sign-in without new-device metadata clears the previous one
            meta = result.get("NewDeviceMetadata")
            self.new_device_metadata = dict(meta) if meta else None
        return tokens

    # ------------------------------------------------------------------ verification

    async def _verifiers(self) -> tuple[CognitoVerifier, CognitoVerifier]:
        """(id, access) verifiers: the session's own (``jwks=`` / ``jwks_cache=``), else
        the pool's."""
        self._app_client("token verification")
        if self._parent is not None:
            return await self._parent._verifiers()
        if self._own_verifiers is not None:
            return self._own_verifiers
        pool = await self._bound()
        assert pool.id_verifier is not None
        assert pool.access_verifier is not None
        return pool.id_verifier, pool.access_verifier

    async def _verify_pair(
        self, id_token: str | None, access_token: str | None
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        id_verifier, access_verifier = await self._verifiers()
        access_claims = await access_verifier.verify(access_token) if access_token else None
        id_claims = (
            await id_verifier.verify(id_token, access_token=access_token) if id_token else None
        )
        return id_claims, access_claims

    @property
    def jwks_cache(self) -> JwksCache:
        """The JWKS cache the session verifies with (its pool's, unless given its own)."""
        if self._parent is not None:
            return self._parent.jwks_cache
        if self._own_jwks is not None:
            return self._own_jwks
        pool = self.pool
        if pool is None:
            raise ConfigurationError(
                "the session has no JWKS cache before its first call: it uses its pool's"
            )
        return pool.jwks_cache

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
        if token_use not in ("id", "access"):
            raise ConfigurationError("token_use must be 'id' or 'access'")
        id_verifier, access_verifier = await self._verifiers()
        verifier = id_verifier if token_use == "id" else access_verifier  # noqa: S105
        access = self.access_token if token_use == "id" else None  # noqa: S105 - a claim value
        claims = await verifier.verify(token, access_token=access)
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

    # ------------------------------------------------------------------ refresh

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
        flow = await self._machine(operation="renew_access_token")
        rotate = self.refresh_token_rotation
        try:
            response = await flow.refresh(refresh_token, self._pool_username(), rotate=rotate)
        except InvalidParameterError as error:
            if rotate or not _refuses_refresh_token_auth(error):
                raise
            # A client with rotation enabled takes no REFRESH_TOKEN_AUTH: switch to
            # GetTokensFromRefreshToken (which works with rotation off too) and remember.
            self.refresh_token_rotation = True
            response = await flow.refresh(refresh_token, self._pool_username(), rotate=True)
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

    async def _fresh_access_token(self) -> None:
        if self.refresh_token and self.access_token:
            await self.check_token(renew=True)

    # ------------------------------------------------------------------ helpers

    async def _machine(
        self,
        *,
        admin: bool = False,
        client_metadata: Mapping[str, str] | None = None,
        custom_answer: CustomAnswer | None = None,
        operation: str = "sign-in",
    ) -> SignIn:
        """The sign-in state machine for this session's client, device and pool."""
        client_id = self._app_client(operation)
        return SignIn(
            await self._idp_client(),
            user_pool_id=self.user_pool_id,
            client_id=client_id,
            client_secret=self._settings.client_secret,
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
        return need(name, "username")

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
            cognito_obj=self,  # type: ignore[arg-type]
            metadata=metadata,
            attr_map=attr_map,
        )

    def get_group_obj(self, group_data: Mapping[str, Any]) -> Group:
        """A :class:`Group` bound to this session (``group_class`` gets pycognito's
        keywords, so a pycognito-style subclass works)."""
        return self.group_class(group_data=group_data, cognito_obj=self)  # type: ignore[arg-type]

    def _set_attributes(
        self, response: Mapping[str, Any], attribute_dict: Mapping[str, Any]
    ) -> None:
        """pycognito's helper: copy ``attribute_dict`` onto the session after a successful
        answer (HTTP 200, or one whose metadata acognito already dropped). A password is
        never kept on the session."""
        metadata = response.get("ResponseMetadata") or {}
        status = response.get("HTTPStatusCode", metadata.get("HTTPStatusCode", 200))
        if status != 200:
            return
        for key, value in attribute_dict.items():
            descriptor = getattr(type(self), key, None)
            if key == "password" or (isinstance(descriptor, property) and descriptor.fset is None):
                continue  # never a password; never over a read-only setting (client_id, ...)
            setattr(self, key, value)
