"""The tokens room: the user's tokens, their verification and their refresh.

Every sign-in and refresh result goes through :meth:`TokenCommands._accept`, which
verifies it first and then swaps all state at once; sign-out goes through
:meth:`TokenCommands._forget_tokens`. One refresh reaches Cognito however many tasks
ask at once (single flight).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

from .._flight import SingleFlight
from ..errors import ConfigurationError, InvalidParameterError
from ..flows import SignIn
from ..tokens import Tokens, peek_claims
from ..verify import CognitoVerifier

if TYPE_CHECKING:
    from datetime import datetime

    from ..events import Events
    from ..stores import TokenStore
    from ..stores._keeping import Keeper

__all__ = ["TokenCommands", "TokensHost"]


def _refuses_refresh_token_auth(error: InvalidParameterError) -> bool:
    """Whether Cognito refused the REFRESH_TOKEN_AUTH flow itself (a client with rotation,
    or without ALLOW_REFRESH_TOKEN_AUTH), rather than the token."""
    message = error.message or ""
    return "REFRESH_TOKEN_AUTH" in message or "GetTokensFromRefreshToken" in message


class TokensHost(Protocol):
    """What the tokens room uses of the session: the verifiers and the sign-in machine
    (for refresh)."""

    async def _verifiers(self) -> tuple[CognitoVerifier, CognitoVerifier]: ...

    async def _machine(self, *, operation: str = ...) -> SignIn: ...

    username: str | None

    @property
    def client_id(self) -> str | None: ...


class TokenCommands(TokensHost):
    """The user's tokens: the values, acceptance, verification and refresh."""

    _tokens: Tokens
    _refresh_flight: SingleFlight[Tokens]
    id_claims: dict[str, Any] | None
    access_claims: dict[str, Any] | None
    new_device_metadata: dict[str, str] | None
    refresh_token_rotation: bool
    refresh_margin: float
    verify_on_sign_in: bool
    _keeper: Keeper

    # ------------------------------------------------------------------ events, store

    @property
    def events(self) -> Events:
        """The hub this session's lifecycle events go to (``events=``, or its own):
        signed in, tokens refreshed, signed out, refresh failed."""
        return self._keeper.events

    @property
    def store(self) -> TokenStore | None:
        """Where this session keeps its tokens for other processes (``store=``), if anywhere."""
        return self._keeper.store

    @property
    def store_key(self) -> str | None:
        """The key of this session's tokens in :attr:`store` (None without a store)."""
        return self._keeper.store_key

    # ------------------------------------------------------------------ the values

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

    def _require_access_token(self) -> str:
        if not self.access_token:
            raise ConfigurationError("this operation needs an access token: sign in first")
        return self.access_token

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

    def _forget_tokens(self) -> None:
        self._tokens = Tokens()
        self.id_claims = None
        self.access_claims = None

    async def _signed_out(self, *, revoked: bool) -> None:
        """Drop the tokens (every sign-out), forget them in the store, tell the subscribers."""
        self._forget_tokens()
        await self._keeper.signed_out(self.client_id, self.username, revoked=revoked)

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
            await self._keeper.signed_in(tokens, self.client_id, self.username)
        return tokens

    async def _adopt(self, tokens: Tokens) -> Tokens:
        """Take tokens another process refreshed (read from the store): verified first,
        as a refresh result is, then swapped in at once."""
        id_claims = access_claims = None
        if self.verify_on_sign_in:
            id_claims, access_claims = await self._verify_pair(tokens.id_token, tokens.access_token)
        if self._tokens.device_key and not tokens.device_key:
            tokens = tokens.with_changes(device_key=self._tokens.device_key)
        self._tokens = tokens
        self.id_claims, self.access_claims = id_claims, access_claims
        return tokens

    # ------------------------------------------------------------------ verification

    async def _verify_pair(
        self, id_token: str | None, access_token: str | None
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        id_verifier, access_verifier = await self._verifiers()
        access_claims = await access_verifier.verify(access_token) if access_token else None
        id_claims = (
            await id_verifier.verify(id_token, access_token=access_token) if id_token else None
        )
        return id_claims, access_claims

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
        With a store, however many processes hold this user's session: the first takes
        the store's lease and refreshes, the others take its result from the store.
        """
        await self._refresh_flight.run(self._kept_refresh)

    async def _kept_refresh(self) -> Tokens:
        """The refresh, through the keeper (the store's lease, the events)."""

        async def refresh(start: Tokens) -> Tokens:
            if start.refresh_token != self._tokens.refresh_token:  # another process rotated it
                self._tokens = self._tokens.with_changes(refresh_token=start.refresh_token)
            return await self._refresh()

        return await self._keeper.refresh(
            self._tokens,
            refresh,
            self._adopt,
            margin=self.refresh_margin,
            client_id=self.client_id,
            username=self.username,
        )

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
