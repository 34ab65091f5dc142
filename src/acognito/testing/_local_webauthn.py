"""Passkeys on the local Cognito: WebAuthn registration and the WEB_AUTHN first factor.

The relying party is ``localhost`` and the one origin allowed is ``https://localhost``
(what :class:`~acognito.testing.SoftwareAuthenticator` sends by default); real Cognito
takes them from the pool's WebAuthn configuration or its hosted-UI domain. Every
registration and assertion is verified by the ``webauthn`` package (py_webauthn), never
by hand: attestation, relying-party hash, origin, challenge, signature and counter.
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool

from ._local_state import (
    Caller,
    Fault,
    LocalState,
    Passkey,
    Pending,
    invalid_parameter,
    not_authorized,
    required,
)
from ._local_tokens import Tokens

__all__ = ["RP_ID", "RP_ORIGIN", "WebAuthn"]

#: The relying party of every local pool, and the origin its passkeys must come from.
RP_ID = "localhost"
RP_ORIGIN = "https://localhost"
_ES256, _RS256 = -7, -257
Responder = Callable[[Caller, str, Pending, Mapping[str, Any]], dict[str, Any]]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


Op = Callable[[Mapping[str, Any]], dict[str, Any]]


class WebAuthn:
    """Start/Complete/List/Delete WebAuthn credentials; the WEB_AUTHN first factor."""

    #: Its name among USER_AUTH's first factors.
    name = "WEB_AUTHN"

    def __init__(self, state: LocalState, tokens: Tokens) -> None:
        self.state = state
        self.tokens = tokens

    def operations(self) -> dict[str, Op]:
        return {
            "StartWebAuthnRegistration": self.start_registration,
            "CompleteWebAuthnRegistration": self.complete_registration,
            "ListWebAuthnCredentials": self.list_credentials,
            "DeleteWebAuthnCredential": self.delete_credential,
        }

    def _of(self, pool: CognitoIdpUserPool, user: CognitoIdpUser) -> list[Passkey]:
        return self.state.passkeys.setdefault((pool.id, user.id), [])

    # ------------------------------------------------------------ registration

    def start_registration(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, pool, user, _ = self.state.access(required(params, "AccessToken"))
        challenge = secrets.token_bytes(32)
        self.state.registering[(pool.id, user.id)] = (
            challenge,
            self.state.now() + self.state.SESSION_SECONDS,
        )
        name = str(user.attribute_lookup.get("email") or user.username)
        options = {
            "challenge": _b64url(challenge),
            "rp": {"id": RP_ID, "name": RP_ID},
            "user": {"id": _b64url(user.id.encode()), "name": name, "displayName": name},
            "pubKeyCredParams": [
                {"type": "public-key", "alg": _ES256},
                {"type": "public-key", "alg": _RS256},
            ],
            "timeout": self.state.SESSION_SECONDS * 1000,
            "excludeCredentials": [
                {"type": "public-key", "id": p.credential_id} for p in self._of(pool, user)
            ],
            "authenticatorSelection": {
                "requireResidentKey": True,
                "residentKey": "required",
                "userVerification": "preferred",
            },
        }
        return {"CredentialCreationOptions": options}

    def complete_registration(self, params: Mapping[str, Any]) -> dict[str, Any]:
        from webauthn import verify_registration_response
        from webauthn.helpers.exceptions import WebAuthnException

        _, pool, user, _ = self.state.access(required(params, "AccessToken"))
        credential = required(params, "Credential")
        if not isinstance(credential, dict):
            raise invalid_parameter("Credential must be a JSON object")
        pending = self.state.registering.pop((pool.id, user.id), None)
        if pending is None or self.state.now() >= pending[1]:
            raise Fault("WebAuthnChallengeNotFoundException", "No WebAuthn challenge is pending.")
        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=pending[0],
                expected_rp_id=RP_ID,
                expected_origin=RP_ORIGIN,
            )
        except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
            raise _registration_fault(exc) from None
        credential_id = _b64url(verified.credential_id)
        mine = self._of(pool, user)
        if any(p.credential_id == credential_id for p in mine):
            raise invalid_parameter("This credential is already registered.")
        response = credential.get("response")
        transports = response.get("transports") if isinstance(response, dict) else None
        attachment = credential.get("authenticatorAttachment")
        mine.append(
            Passkey(
                credential_id,
                verified.credential_public_key,
                verified.sign_count,
                self.state.now(),
                attachment if isinstance(attachment, str) else None,
                [str(t) for t in transports] if isinstance(transports, list) else [],
            )
        )
        return {}

    def list_credentials(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, pool, user, _ = self.state.access(required(params, "AccessToken"))
        limit = params.get("MaxResults", 20)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 20:
            raise invalid_parameter("MaxResults must be between 1 and 20")
        start = str(params.get("NextToken") or "0")
        if not start.isdigit():
            raise invalid_parameter("Invalid NextToken")
        mine = self._of(pool, user)
        page = mine[int(start) : int(start) + limit]
        answer: dict[str, Any] = {
            "Credentials": [
                {
                    "CredentialId": p.credential_id,
                    # Cognito names a passkey after its authenticator's model; ours
                    # carry no model (attestation "none"), so a generic name.
                    "FriendlyCredentialName": "Passkey",
                    "RelyingPartyId": RP_ID,
                    "AuthenticatorTransports": p.transports,
                    "CreatedAt": datetime.datetime.fromtimestamp(
                        p.created_at, datetime.timezone.utc
                    ),
                    **({"AuthenticatorAttachment": p.attachment} if p.attachment else {}),
                }
                for p in page
            ]
        }
        if int(start) + limit < len(mine):
            answer["NextToken"] = str(int(start) + limit)
        return answer

    def delete_credential(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, pool, user, _ = self.state.access(required(params, "AccessToken"))
        wanted = str(required(params, "CredentialId"))
        mine = self._of(pool, user)
        kept = [p for p in mine if p.credential_id != wanted]
        if len(kept) == len(mine):
            raise Fault("ResourceNotFoundException", "Credential not found.")
        mine[:] = kept
        return {}

    # ------------------------------------------------------------ the WEB_AUTHN factor

    def offered(self, caller: Caller) -> bool:
        return bool(self.state.passkeys.get((caller.pool.id, caller.user.id)))

    def start(self, caller: Caller) -> dict[str, Any]:
        """The WEB_AUTHN challenge: request options over the user's passkeys."""
        challenge = _b64url(secrets.token_bytes(32))
        options = {
            "challenge": challenge,
            "timeout": self.state.SESSION_SECONDS * 1000,
            "rpId": RP_ID,
            "allowCredentials": [
                {"type": "public-key", "id": p.credential_id, "transports": p.transports}
                for p in self._of(caller.pool, caller.user)
            ],
            "userVerification": "preferred",
        }
        session = self.state.open_session(caller, ("WEB_AUTHN",), challenge)
        return {
            "ChallengeName": "WEB_AUTHN",
            "Session": session,
            "ChallengeParameters": {
                "USERNAME": caller.user.username,
                "CREDENTIAL_REQUEST_OPTIONS": json.dumps(options),
            },
        }

    def responders(self) -> dict[str, Responder]:
        return {"WEB_AUTHN": self.answer}

    def answer(
        self, caller: Caller, name: str, step: Pending, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._verify_assertion(caller.pool, caller.user, str(step.code or ""), r.get("CREDENTIAL"))
        return self.tokens.sign_in(caller)

    def _verify_assertion(
        self, pool: CognitoIdpUserPool, user: CognitoIdpUser, challenge: str, answer: Any
    ) -> None:
        from webauthn import base64url_to_bytes, verify_authentication_response
        from webauthn.helpers.exceptions import WebAuthnException

        try:
            credential = json.loads(str(answer or ""))
        except ValueError:
            raise invalid_parameter("CREDENTIAL must be the credential's JSON") from None
        if not isinstance(credential, dict):
            raise invalid_parameter("CREDENTIAL must be a JSON object")
        passkey = next(
            (p for p in self._of(pool, user) if p.credential_id == credential.get("id")), None
        )
        if passkey is None:
            raise not_authorized("The credential is not registered for the user.")
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=base64url_to_bytes(challenge),
                expected_rp_id=RP_ID,
                expected_origin=RP_ORIGIN,
                credential_public_key=passkey.public_key,
                credential_current_sign_count=passkey.sign_count,
            )
        except (WebAuthnException, ValueError, TypeError, KeyError):
            raise not_authorized("The WebAuthn credential could not be verified.") from None
        passkey.sign_count = verified.new_sign_count


def _registration_fault(exc: Exception) -> Fault:
    """Cognito's error for a registration py_webauthn refused (by what it names)."""
    text = str(exc).lower()
    if "origin" in text:
        return Fault("WebAuthnOriginNotAllowedException", "The origin is not allowed.")
    if "rp id" in text or "relying party" in text:
        return Fault("WebAuthnRelyingPartyMismatchException", "The relying party does not match.")
    if "challenge" in text:
        return Fault("WebAuthnChallengeNotFoundException", "The challenge does not match.")
    return invalid_parameter("The WebAuthn credential could not be verified.")
