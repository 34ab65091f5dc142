"""Django and Django REST framework: Cognito bearer tokens, configured from settings.

Settings::

    ACOGNITO = {
        "USER_POOL_ID": "eu-west-1_AbC123xyz",
        "CLIENT_ID": "app-client-id",       # or a list
        # optional: "TOKEN_USE" ("access"), "JWKS_URI", "ISSUER", "REALM" ("api")
    }
    MIDDLEWARE = [..., "acognito.integrations.django.CognitoMiddleware"]

* :class:`CognitoMiddleware` verifies a request's bearer token, if it has one, and puts
  the claims in ``request.cognito_claims`` (``None`` without a token); a bad token is
  answered 401 at once. :func:`cognito_required` protects a plain Django view.
* DRF: ``DEFAULT_AUTHENTICATION_CLASSES = ["acognito.integrations.django.CognitoAuthentication"]``
  makes ``request.user`` a :class:`CognitoUser` and ``request.auth`` the claims;
  :class:`HasCognitoScopes` (the view's ``required_scopes``: all) and
  :class:`InCognitoGroup` (the view's ``required_groups``: any), or
  :func:`cognito_permission`, are the permission classes.

Blocking, like Django's views: ``verify_sync`` fetches the JWKS with a blocking request
the first time. Answers follow RFC 6750 (:mod:`acognito.integrations.core`). Requires
the ``django`` extra (``djangorestframework`` for the DRF classes).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

try:
    from django.conf import settings
    from django.http import HttpRequest, HttpResponse, JsonResponse
except ImportError as exc:
    raise ImportError(
        "acognito.integrations.django needs Django: pip install 'acognito[django]'"
    ) from exc

from ..errors import ConfigurationError, TokenVerificationError
from ..verify import CognitoVerifier
from .core import (
    Answer,
    BearerGuard,
    CognitoClaims,
    CognitoDenied,
    Requirements,
    bearer_token,
)

__all__ = [
    "CognitoAuthentication",
    "CognitoClaims",
    "CognitoMiddleware",
    "CognitoUser",
    "HasCognitoScopes",
    "InCognitoGroup",
    "cognito_permission",
    "cognito_required",
    "get_guard",
    "reset",
    "response_for",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_lock = threading.Lock()
_guard: BearerGuard | None = None


def get_guard() -> BearerGuard:
    """The guard built from ``settings.ACOGNITO`` (once per process)."""
    global _guard
    guard = _guard
    if guard is not None:
        return guard
    with _lock:
        if _guard is None:
            config = getattr(settings, "ACOGNITO", None)
            if not isinstance(config, dict):
                raise ConfigurationError("settings.ACOGNITO must be a dict (USER_POOL_ID, ...)")
            pool_id, client_id = config.get("USER_POOL_ID"), config.get("CLIENT_ID")
            if not pool_id or not client_id:
                raise ConfigurationError("settings.ACOGNITO needs USER_POOL_ID and CLIENT_ID")
            verifier = config.get("VERIFIER") or CognitoVerifier(
                pool_id,
                client_id=client_id,
                token_use=config.get("TOKEN_USE", "access"),
                jwks_uri=config.get("JWKS_URI"),
                issuer=config.get("ISSUER"),
            )
            _guard = BearerGuard(verifier, realm=config.get("REALM", "api"))
        return _guard


def reset(**_: Any) -> None:
    """Forget the guard, so the next request reads ``settings.ACOGNITO`` again (connected
    to Django's ``setting_changed`` signal, for tests that override settings)."""
    global _guard
    with _lock:
        _guard = None


def _connect_reset() -> None:
    from django.test.signals import setting_changed

    def on_change(setting: str = "", **kwargs: Any) -> None:
        if setting == "ACOGNITO":
            reset()

    setting_changed.connect(on_change, weak=False, dispatch_uid="acognito-settings")


_connect_reset()


def response_for(answer: Answer) -> HttpResponse:
    """The Django response for an :class:`~.core.Answer`."""
    response = JsonResponse(answer.body, status=answer.status)
    for name, value in answer.headers:
        response[name] = value
    return response


class CognitoMiddleware:
    """Verifies a bearer token when a request has one: ``request.cognito_claims`` is the
    claims, or ``None`` without a token. A token that fails is answered at once (401, or
    503 in a JWKS outage); views that need a user say so with :func:`cognito_required`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = bearer_token(request.headers.get("Authorization"))
        claims = None
        if token is not None:
            try:
                claims = get_guard().verify_token_sync(token)
            except CognitoDenied as denied:
                return response_for(denied.answer)
        request.cognito_claims = claims
        return self.get_response(request)


def cognito_required(
    *, scopes: str | Iterable[str] = (), groups: str | Iterable[str] = ()
) -> Callable[[_F], _F]:
    """Decorate a Django view: a valid bearer token with every one of ``scopes`` and at
    least one of ``groups``; sets ``request.cognito_claims``. Works with or without
    :class:`CognitoMiddleware`."""
    requirements = Requirements(scopes=scopes, groups=groups)

    def decorate(view: _F) -> _F:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            guard = get_guard()
            claims = getattr(request, "cognito_claims", None)
            try:
                if claims is None:
                    claims = guard.verify_token_sync(
                        bearer_token(request.headers.get("Authorization"))
                    )
                requirements.check(claims)
            except CognitoDenied as denied:
                return response_for(denied.answer)
            except TokenVerificationError as exc:
                return response_for(requirements.answer(exc, realm=guard.realm))
            request.cognito_claims = claims
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


class CognitoUser:
    """``request.user`` under :class:`CognitoAuthentication`: no database row, the claims."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, claims: CognitoClaims) -> None:
        self.claims = claims

    @property
    def pk(self) -> str:
        return self.claims.sub

    @property
    def username(self) -> str:
        return self.claims.username or self.claims.sub

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"CognitoUser(sub={self.claims.sub!r}, username={self.claims.username!r})"


# --------------------------------------------------------------------------- DRF

try:
    from rest_framework.authentication import BaseAuthentication
    from rest_framework.exceptions import APIException
    from rest_framework.permissions import BasePermission
except ImportError:  # DRF is optional: plain Django needs none of the below
    _HAVE_DRF = False
else:
    _HAVE_DRF = True


if _HAVE_DRF:

    class CognitoAPIException(APIException):  # type: ignore[misc]
        """An :class:`~.core.Answer` as DRF's exception: its status, its
        ``WWW-Authenticate`` (DRF's handler sends ``auth_header``) and its detail."""

        def __init__(self, answer: Answer) -> None:
            super().__init__(detail=answer.description, code=answer.error or answer.kind)
            self.status_code = answer.status
            self.auth_header = answer.www_authenticate
            self.answer = answer

    class CognitoAuthentication(BaseAuthentication):  # type: ignore[misc]
        """DRF authentication: ``request.user`` is a :class:`CognitoUser` and
        ``request.auth`` the :class:`~.core.CognitoClaims`; no token: not authenticated
        (DRF answers 401 with ``WWW-Authenticate: Bearer realm="..."``)."""

        def authenticate(self, request: Any) -> tuple[CognitoUser, CognitoClaims] | None:
            claims = getattr(request._request, "cognito_claims", None)
            if claims is None:
                token = bearer_token(request.META.get("HTTP_AUTHORIZATION"))
                if token is None:
                    return None
                try:
                    claims = get_guard().verify_token_sync(token)
                except CognitoDenied as denied:
                    raise CognitoAPIException(denied.answer) from None
            return CognitoUser(claims), claims

        def authenticate_header(self, request: Any) -> str:
            return f'Bearer realm="{get_guard().realm}"'

    class _Requirement(BasePermission):  # type: ignore[misc]
        def _check(self, request: Any, requirements: Requirements) -> bool:
            claims = request.auth
            if not isinstance(claims, CognitoClaims):
                return False  # DRF answers 401 (no credentials) or 403
            try:
                requirements.check(claims)
            except TokenVerificationError as exc:
                realm = get_guard().realm
                raise CognitoAPIException(requirements.answer(exc, realm=realm)) from None
            return True

    class HasCognitoScopes(_Requirement):
        """The token has every scope in the view's ``required_scopes``."""

        def has_permission(self, request: Any, view: Any) -> bool:
            return self._check(request, Requirements(scopes=getattr(view, "required_scopes", ())))

    class InCognitoGroup(_Requirement):
        """The user is in at least one group of the view's ``required_groups``."""

        def has_permission(self, request: Any, view: Any) -> bool:
            return self._check(request, Requirements(groups=getattr(view, "required_groups", ())))

    def cognito_permission(
        *, scopes: str | Iterable[str] = (), groups: str | Iterable[str] = ()
    ) -> type[BasePermission]:
        """A permission class requiring ``scopes`` (all) and ``groups`` (any)."""
        requirements = Requirements(scopes=scopes, groups=groups)

        class CognitoPermission(_Requirement):
            def has_permission(self, request: Any, view: Any) -> bool:
                return self._check(request, requirements)

        return CognitoPermission

else:  # pragma: no cover - exercised by the plain-Django import test

    def __getattr__(name: str) -> Any:
        if name in (
            "CognitoAuthentication",
            "HasCognitoScopes",
            "InCognitoGroup",
            "cognito_permission",
            "CognitoAPIException",
        ):
            raise ImportError(
                f"{name} needs Django REST framework: pip install 'acognito[djangorestframework]'"
            )
        raise AttributeError(name)
