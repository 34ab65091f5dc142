"""Protect a Python API with Cognito: one thin adapter per framework over one core.

Each adapter is its own module, imported on its own, so a plain install never imports a
web framework: ``acognito.integrations.fastapi`` (``CognitoBearer``),
``acognito.integrations.starlette`` (an ``AuthenticationBackend``),
``acognito.integrations.django`` (middleware, DRF authentication and permissions),
``acognito.integrations.flask`` (``require_cognito``, ``CognitoFlask``) and
``acognito.integrations.aws_lambda`` (``ApiGatewayAuthorizer``).

Every adapter runs the same path, written once in :mod:`acognito.integrations.core`:
the request's ``Authorization`` header -> the bearer token -> the verifier's claims ->
the route's scope and group requirements -> either :class:`~.core.CognitoClaims` or an
:class:`~.core.Answer` (RFC 6750: 401, 403 or 503), mapped from the
:class:`~acognito.errors.TokenVerificationError` subclasses in one table.
"""
