"""The steps of a local sign-in that the layers over :class:`~._local_auth.AuthOps` answer.

:class:`AuthOps` calls these where a sign-in leaves moto's ground (custom auth,
USER_AUTH, our MFA steps, email MFA, the sign-up session); by themselves they refuse,
and :class:`~._local_account.AccountOps` and :class:`~._local_mfa.MfaOps` answer them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moto.cognitoidp.models import (
    CognitoIdpBackend,
    CognitoIdpUser,
    CognitoIdpUserPool,
    CognitoIdpUserPoolClient,
)

from ._local_refresh import RefreshOps
from ._local_state import unsupported

__all__ = ["LaterSteps"]


class LaterSteps(RefreshOps):
    """Sign-in steps answered by subclasses; each refuses (or declines) here."""

    def initiate_other(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        flow: str,
        ap: Mapping[str, Any],
    ) -> dict[str, Any]:
        """CUSTOM_AUTH and USER_AUTH (a subclass answers them)."""
        raise unsupported(f"The {flow} flow")

    def respond_other(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        name: str,
        params: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        """Answer a challenge of our own sessions; None when the session is moto's."""
        return None

    def after_sign_up(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        ap: Mapping[str, Any],
        session: Any,
    ) -> dict[str, Any]:
        """USER_AUTH with ConfirmSignUp's session (a subclass answers it)."""
        raise unsupported("A sign-up session")

    def custom_challenge(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        device_key: str | None,
    ) -> dict[str, Any]:
        raise unsupported("CUSTOM_AUTH")

    def mfa_step(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        device_key: str | None,
        name: str,
    ) -> dict[str, Any]:
        raise unsupported(name)

    def own_mfa_step(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        device_key: str | None,
    ) -> dict[str, Any] | None:
        """An MFA step moto does not know (email MFA), or None (a subclass answers it)."""
        return None

    def mfa_setup_extra(self, pool: CognitoIdpUserPool) -> list[str]:
        """MFA kinds MFA_SETUP offers beyond moto's (a subclass answers it)."""
        return []

    def email_setup(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        session: str,
        email: str,
    ) -> dict[str, Any]:
        """MFA_SETUP answered with an email address (a subclass answers it)."""
        raise unsupported("Email MFA set-up")
