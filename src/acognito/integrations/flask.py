"""Flask: a decorator and an extension that verify Cognito bearer tokens, blocking.

One line per view::

    @app.get("/me")
    @require_cognito(verifier)
    def me(): return {"user": flask.g.cognito_claims.username}

or configured from ``app.config`` (``COGNITO_USER_POOL_ID``, ``COGNITO_CLIENT_ID``, ...)::

    cognito = CognitoFlask(app)

    @app.get("/admin")
    @cognito.required(groups=["admin"])
    def admin(): ...

The claims go in ``flask.g.cognito_claims`` (:class:`~.core.CognitoClaims`). Everything
is blocking and needs no event loop: ``verify_sync`` fetches the JWKS with a blocking
request the first time (and again for a rotated key), into the same cache and penalty box
an async verifier uses. Refusals are answered as RFC 6750 says (401, 403 with ``scope=``,
503 for a JWKS outage: :mod:`acognito.integrations.core`). Requires the ``flask`` extra.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

try:
    import flask
except ImportError as exc:
    raise ImportError(
        "acognito.integrations.flask needs Flask: pip install 'acognito[flask]'"
    ) from exc

from ..errors import ConfigurationError
from ..verify import CognitoVerifier
from .core import Answer, BearerGuard, CognitoClaims, CognitoDenied, TokenVerifier

__all__ = ["CognitoClaims", "CognitoFlask", "require_cognito", "response_for"]

_F = TypeVar("_F", bound=Callable[..., Any])
_EXTENSION = "acognito"


def response_for(answer: Answer) -> flask.Response:
    """The Flask response for an :class:`~.core.Answer`."""
    response = flask.jsonify(answer.body)
    response.status_code = answer.status
    for name, value in answer.headers:
        response.headers[name] = value
    return response


def _protect(guard: Callable[[], BearerGuard]) -> Callable[[_F], _F]:
    def decorate(view: _F) -> _F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                claims = guard().authenticate_sync(flask.request.headers.get("Authorization"))
            except CognitoDenied as denied:
                return response_for(denied.answer)
            flask.g.cognito_claims = claims
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def require_cognito(
    verifier: TokenVerifier | None = None,
    *,
    scopes: str | Iterable[str] = (),
    groups: str | Iterable[str] = (),
    realm: str = "api",
) -> Callable[[_F], _F]:
    """Decorate a view: the request must carry a valid bearer token with every one of
    ``scopes`` and at least one of ``groups``. Without ``verifier``, the app's
    :class:`CognitoFlask` extension's verifier is used."""
    if verifier is not None:
        fixed = BearerGuard(verifier, scopes=scopes, groups=groups, realm=realm)
        return _protect(lambda: fixed)

    def from_app() -> BearerGuard:
        return _extension().guard.require(scopes=scopes, groups=groups)

    return _protect(from_app)


def _extension() -> CognitoFlask:
    extension = flask.current_app.extensions.get(_EXTENSION)
    if not isinstance(extension, CognitoFlask):
        raise ConfigurationError(
            "require_cognito() without a verifier needs CognitoFlask(app) (or init_app)"
        )
    return extension


class CognitoFlask:
    """The Flask extension: builds a :class:`~acognito.CognitoVerifier` from
    ``app.config`` (or takes ``verifier``) and offers :meth:`required`.

    Config keys: ``COGNITO_USER_POOL_ID`` and ``COGNITO_CLIENT_ID`` (one id or a list),
    required; ``COGNITO_TOKEN_USE`` (``"access"``), ``COGNITO_JWKS_URI``,
    ``COGNITO_ISSUER``, ``COGNITO_REALM`` (``"api"``), ``COGNITO_HYDRATE`` (fetch the
    JWKS at ``init_app``: ``False``).
    """

    def __init__(self, app: flask.Flask | None = None, *, verifier: TokenVerifier | None = None):
        self._verifier = verifier
        self.guard: BearerGuard
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask) -> None:
        config = app.config
        verifier = self._verifier or verifier_from_config(config)
        self.guard = BearerGuard(verifier, realm=str(config.get("COGNITO_REALM", "api")))
        if config.get("COGNITO_HYDRATE") and isinstance(verifier, CognitoVerifier):
            verifier.hydrate_sync()
        app.extensions[_EXTENSION] = self

    @property
    def verifier(self) -> TokenVerifier:
        return self.guard.verifier

    def required(
        self, *, scopes: str | Iterable[str] = (), groups: str | Iterable[str] = ()
    ) -> Callable[[_F], _F]:
        """A view decorator with this extension's verifier (see :func:`require_cognito`)."""
        return _protect(lambda: self.guard.require(scopes=scopes, groups=groups))


def verifier_from_config(config: Mapping[str, Any]) -> CognitoVerifier:
    """A :class:`~acognito.CognitoVerifier` from ``COGNITO_*`` keys (Flask's config)."""
    pool_id = config.get("COGNITO_USER_POOL_ID")
    client_id = config.get("COGNITO_CLIENT_ID")
    if not pool_id or not client_id:
        raise ConfigurationError(
            "CognitoFlask needs COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID in app.config"
        )
    return CognitoVerifier(
        pool_id,
        client_id=client_id,
        token_use=config.get("COGNITO_TOKEN_USE", "access"),
        jwks_uri=config.get("COGNITO_JWKS_URI"),
        issuer=config.get("COGNITO_ISSUER"),
    )
