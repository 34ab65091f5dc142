"""Managed login: the pool's hosted sign-in pages, through the authorization-code grant.

:class:`ManagedLogin` sends the browser to ``/oauth2/authorize`` (PKCE S256, a fresh
``state`` and ``nonce``, the pending sign-in kept in the store and bound to the browser
by its login cookie) and finishes the sign-in at the callback: the state used once and
only by that browser, the code redeemed with the verifier, the id token verified
(:func:`acognito.oauth.verify_id_token`: signature, audience, ``at_hash``, nonce) and
the access token too. It also refreshes and revokes the tokens of the sessions it began.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..._secret import constant_time_equal
from ...errors import CognitoConnectionError, OAuthError, TokenVerificationError
from ...oauth import AuthorizationRequest, OAuth2Client, OAuthTokens, verify_id_token
from ...stores._shared import Record, _Unavailable
from ._cookies import new_id
from ._http import WebAnswer, WebRequest, failed, redirect, safe_next, unavailable

if TYPE_CHECKING:
    from ._core import ServerSignIn

__all__ = ["ManagedLogin"]

log = logging.getLogger("acognito.integrations.signin")


def _binding_hash(binding: str) -> str:
    return hashlib.sha256(binding.encode("ascii")).hexdigest()


class ManagedLogin:
    """The managed-login routes of one :class:`~._core.ServerSignIn`."""

    def __init__(
        self,
        signin: ServerSignIn,
        domain: str,
        *,
        client_secret: str | None,
        scopes: Iterable[str],
    ) -> None:
        self.signin = signin
        self.scopes = tuple(scopes)
        self.oauth = OAuth2Client(domain, signin.client_id, client_secret=client_secret)

    async def aclose(self) -> None:
        await self.oauth.aclose()

    async def login(self, request: WebRequest, target: str) -> WebAnswer:
        """To ``/oauth2/authorize``; the pending sign-in goes to the store."""
        signin = self.signin
        binding = signin.browser_binding(request) or new_id()
        auth = self.oauth.authorization_url(signin.redirect_uri, scopes=self.scopes)
        record: Record = {
            "state": auth.state,
            "verifier": auth.code_verifier,
            "nonce": auth.nonce,
            "next": target,
            "binding": _binding_hash(binding),
        }
        if not await signin.sessions.save_login(auth.state, record):
            return unavailable()
        return redirect(auth.url, cookies=[signin.binding_cookie(binding)])

    async def callback(self, request: WebRequest) -> WebAnswer:
        """Finish the sign-in; a new session, or a 400 page saying why not."""
        signin = self.signin
        state = request.single("state")
        binding = signin.browser_binding(request)
        if state is None or binding is None:
            return failed("This sign-in was not started in this browser.", signin.login_path)
        pending = await signin.sessions.take_login(state)
        if isinstance(pending, _Unavailable):
            return unavailable()
        if pending is None or not constant_time_equal(
            str(pending.get("binding", "")), _binding_hash(binding)
        ):
            return failed("This sign-in expired or was already used.", signin.login_path)
        auth = AuthorizationRequest(
            url="",
            redirect_uri=signin.redirect_uri,
            state=str(pending["state"]),
            code_verifier=str(pending["verifier"]),
            nonce=pending.get("nonce"),
        )
        try:
            code = auth.code_from_redirect(f"{signin.redirect_uri}?{request.query_string}")
            tokens = await self.oauth.exchange_code(code, auth.redirect_uri, auth.code_verifier)
            await verify_id_token(tokens, auth, signin.id_verifier, client_id=signin.client_id)
            claims = await signin.access_verifier.verify(tokens.access_token)
        except (OAuthError, TokenVerificationError) as exc:
            log.info("managed login refused: %s", type(exc).__name__)
            return failed("The sign-in could not be completed.", signin.login_path)
        except CognitoConnectionError:
            return unavailable("The sign-in service did not answer; try again.")
        target = safe_next(str(pending.get("next", "")), signin.after_login)
        fields = {**self.tokens_of(tokens), "username": claims.get("username")}
        return await signin.start_session(request, fields, "oauth", target)

    def tokens_of(self, tokens: OAuthTokens) -> dict[str, Any]:
        """A session record's token fields from the token endpoint's answer."""
        expires_at = tokens.expires_at
        if expires_at is None:
            expires_at = self.signin.clock() + 3600
        return {
            "access_token": tokens.access_token,
            "id_token": tokens.id_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": expires_at,
        }

    def logout_location(self) -> str:
        """The domain's ``/logout``, which ends the managed-login session, then
        ``logout_uri``."""
        return self.oauth.logout_url(logout_uri=self.signin.logout_uri)

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        return self.tokens_of(await self.oauth.refresh(refresh_token))

    async def revoke(self, refresh_token: str) -> None:
        await self.oauth.revoke(refresh_token)
