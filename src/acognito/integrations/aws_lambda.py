"""AWS Lambda: API Gateway authorizers that verify Cognito tokens, in API Gateway's terms.

::

    verifier = CognitoVerifier(POOL_ID, client_id=CLIENT_ID, token_use="access")
    authorizer = ApiGatewayAuthorizer(verifier, scopes=["api/read"])

    def handler(event, context):           # a REST API TOKEN or REQUEST authorizer
        return authorizer.rest(event)

:meth:`ApiGatewayAuthorizer.rest`:

* a valid token: an Allow policy for the method, ``principalId`` the ``sub``, the claims
  in ``context`` (lists such as ``cognito:groups`` joined with commas, objects as JSON:
  API Gateway refuses arrays and objects there);
* a valid token without a required scope or group: a Deny policy (API Gateway: 403);
* no token, or a bad or expired one: raises :class:`Unauthorized`, whose message is
  exactly ``Unauthorized`` (API Gateway: 401);
* a JWKS outage: raises :class:`AuthorizerUnavailable` (API Gateway: 500, never Allow).

:meth:`ApiGatewayAuthorizer.http_api` answers an HTTP API authorizer (payload 2.0, simple
responses): ``{"isAuthorized": ..., "context": ...}``; that format has no 401.

Blocking and loop-free (``verify_sync``). With the ``COGNITO_JWKS`` environment variable
set to the pool's JWKS, the first decision of a cold start needs no network; without it
the JWKS is fetched once per container. Build the verifier and authorizer at module
level so warm invocations reuse them. This module imports no AWS SDK.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import CognitoError, TokenVerificationError
from .core import BearerGuard, CognitoClaims, TokenVerifier, bearer_token, classify

__all__ = ["ApiGatewayAuthorizer", "AuthorizerUnavailable", "Unauthorized", "flatten_context"]


class Unauthorized(Exception):
    """Raised for a missing, bad or expired token: API Gateway answers 401 when an
    authorizer fails with exactly the message ``Unauthorized``."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


class AuthorizerUnavailable(CognitoError):
    """The token could not be checked (the JWKS is unreachable): API Gateway answers 500."""


def flatten_context(claims: Mapping[str, Any]) -> dict[str, str | int | float | bool]:
    """Claims as API Gateway's authorizer ``context`` accepts them: strings, numbers and
    booleans only; lists joined with commas, objects as JSON, ``None`` left out."""
    out: dict[str, str | int | float | bool] = {}
    for name, value in claims.items():
        if value is None:
            continue
        if isinstance(value, (str, bool, int, float)):
            out[name] = value
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            out[name] = ",".join(value)
        else:
            out[name] = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return out


def _header(headers: object, name: str) -> str | None:
    """A header of an API Gateway event, whatever its case (REST keeps the client's)."""
    if not isinstance(headers, Mapping):
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted and isinstance(value, str):
            return value
    return None


class ApiGatewayAuthorizer:
    """A Lambda authorizer over :class:`~.core.BearerGuard`: ``scopes`` all required,
    ``groups`` any-of. ``header`` names the header a REQUEST authorizer reads."""

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        scopes: str | Iterable[str] = (),
        groups: str | Iterable[str] = (),
        header: str = "Authorization",
    ) -> None:
        self.guard = BearerGuard(verifier, scopes=scopes, groups=groups)
        self.header = header

    def _claims(self, authorization: str | None) -> CognitoClaims:
        """Verify (no requirements yet): the claims, or the API Gateway exception."""
        try:
            return CognitoClaims(self.guard.verifier.verify_sync(_token(authorization)))
        except _NoToken:
            raise Unauthorized from None
        except TokenVerificationError as exc:
            kind = classify(exc)  # the one mapping, rendered in API Gateway's terms
            if kind == "unavailable":
                raise AuthorizerUnavailable(
                    "the token could not be verified: the signing keys are unavailable"
                ) from exc
            if kind == "insufficient":  # a verifier configured with scope=/groups=
                raise _Insufficient from exc
            raise Unauthorized from None

    def _allowed(self, claims: CognitoClaims) -> bool:
        try:
            self.guard.check(claims)
        except TokenVerificationError:
            return False
        return True

    def rest(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Answer a REST API TOKEN or REQUEST authorizer event (see the module doc)."""
        if event.get("type") == "TOKEN":
            authorization = event.get("authorizationToken")
            authorization = authorization if isinstance(authorization, str) else None
        else:
            authorization = _header(event.get("headers"), self.header)
        resource = event.get("methodArn")
        if not isinstance(resource, str) or not resource:
            raise Unauthorized
        try:
            claims = self._claims(authorization)
        except _Insufficient:
            return _policy("user", "Deny", resource, {})
        effect = "Allow" if self._allowed(claims) else "Deny"
        context = flatten_context(claims) if effect == "Allow" else {}
        return _policy(claims.sub or "user", effect, resource, context)

    def http_api(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Answer an HTTP API authorizer event (payload 2.0, simple responses)."""
        authorization = _header(event.get("headers"), self.header)
        if authorization is None:
            sources = event.get("identitySource")
            if isinstance(sources, list) and sources and isinstance(sources[0], str):
                authorization = sources[0]
        try:
            claims = self._claims(authorization)
        except (Unauthorized, _Insufficient):
            return {"isAuthorized": False}
        if not self._allowed(claims):
            return {"isAuthorized": False}
        return {"isAuthorized": True, "context": flatten_context(claims)}

    def __repr__(self) -> str:
        return f"ApiGatewayAuthorizer(guard={self.guard!r})"


class _NoToken(Exception):
    pass


class _Insufficient(Exception):
    pass


def _token(authorization: str | None) -> str:
    """A TOKEN authorizer gets the header's value; accept ``Bearer x`` and a bare token."""
    if authorization is None or not authorization.strip():
        raise _NoToken
    token = bearer_token(authorization)
    if token is None:
        token = authorization.strip()
        if " " in token:  # another scheme (Basic ...): no bearer token
            raise _NoToken
    return token


def _policy(principal: str, effect: str, resource: str, context: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
    if context:
        answer["context"] = context
    return answer
