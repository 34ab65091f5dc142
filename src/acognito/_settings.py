"""The one definition of a pool's settings, and of a session's per-user options.

:class:`PoolOptions` names every pool-wide option once (``AsyncCognito``,
``CognitoPool``, ``acognito.sync.Cognito``, ``acognito.testing``'s ``cognito_kwargs``
and the CLI all take these); :class:`Settings` validates them. Equal settings share one
implicit pool. :class:`UserOptions` names the per-user options of a session made on a
pool (``pool.session(...)``, ``for_user(...)``).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict
from urllib.parse import urlsplit

from ._client_options import aio_config, read_client_kwargs
from ._idp import check_max_concurrency
from ._ids import check_client_id, check_region, parse_pool_id
from .errors import ConfigurationError
from .jwks import JwksCache
from .verify import CognitoVerifier

if TYPE_CHECKING:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession
    from typing_extensions import Unpack

    from .devices import DeviceCredentials
    from .events import Events
    from .stores import TokenStore

__all__ = [
    "EndpointOptions",
    "PoolOptions",
    "Settings",
    "UserOptions",
    "UserTokens",
    "warn_jwks_url",
]


class EndpointOptions(TypedDict, total=False):
    """Where a pool is reached and how its tokens are checked (keyword-only everywhere).

    - ``endpoint_url``: an emulator's URL; the JWKS is then read from
      ``{endpoint_url}/{user_pool_id}/.well-known/jwks.json``.
    - ``jwks_uri``: the JWKS URL, when neither default fits.
    - ``jwks_url``: deprecated spelling of ``jwks_uri`` (one release).
    - ``issuer``: the tokens' ``iss`` (default
      ``https://cognito-idp.{region}.amazonaws.com/{user_pool_id}``).
    - ``max_concurrency``: the pool's Cognito calls in flight at most (default: the
      connection pool size, 10).
    """

    endpoint_url: str | None
    jwks_uri: str | None
    jwks_url: str | None
    issuer: str | None
    max_concurrency: int | None


class PoolOptions(EndpointOptions, total=False):
    """Every pool-wide option: pycognito's (region, client secret, AWS credentials, a
    session, a botocore config, ``boto3_client_kwargs``) and :class:`EndpointOptions`.

    - ``user_pool_region``: the region (default: the pool id's prefix).
    - ``client_secret``: the app client's secret (SECRET_HASH is then sent).
    - ``access_key`` / ``secret_key``: AWS credentials for admin calls.
    - ``session``: an aiobotocore ``AioSession`` (a profile, a credential process).
    - ``botocore_config``: a botocore ``Config`` or ``AioConfig`` (timeouts, retries).
    - ``boto3_client_kwargs``: ``create_client``'s ``endpoint_url``, ``region_name``,
      ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token``,
      ``config``; an explicit option wins over the same setting here.
    """

    user_pool_region: str | None
    client_secret: str | None
    access_key: str | None
    secret_key: str | None
    session: AioSession | None
    botocore_config: AioConfig | None
    boto3_client_kwargs: Mapping[str, Any] | None


class UserTokens(TypedDict, total=False):
    """A user's tokens and remembered device, to start a session signed in."""

    id_token: str | None
    access_token: str | None
    refresh_token: str | None
    device: DeviceCredentials | None


class UserOptions(UserTokens, total=False):
    """:class:`UserTokens` and how the session keeps them: ``refresh_token_rotation``
    (the client rotates refresh tokens), ``refresh_margin`` (seconds before expiry to
    refresh), ``verify_on_sign_in`` (verify every token received), ``store`` (an
    :class:`~acognito.stores.TokenStore` shared with other processes) and ``store_key``
    (the tokens' key there; default: from the pool, client and user name), ``events``
    (an :class:`~acognito.events.Events` hub for the lifecycle events)."""

    refresh_token_rotation: bool
    refresh_margin: float
    verify_on_sign_in: bool
    store: TokenStore | None
    store_key: str | None
    events: Events | None


_OPTION_NAMES = frozenset(PoolOptions.__annotations__)


def _optional_text(value: object, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigurationError(f"{what} must be a string or None; got {type(value).__name__}")
    return value


def _http_url(value: object, what: str) -> str | None:
    """``value`` without trailing slashes, if it is an absolute http(s) URL."""
    text = _optional_text(value, what)
    if text is None:
        return None
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise ConfigurationError(
            f"{what} must be an http(s) URL such as 'http://127.0.0.1:4566'; got {shown!r}"
        )
    return text.rstrip("/")


def _config_key(config: object) -> object:
    """A botocore config's identity by value, so ``AioConfig(...)`` written inline per
    session still shares one pool. botocore rewrites ``retries`` in place when a client
    is made (``max_attempts`` -> ``total_max_attempts``); both spellings key alike."""
    options = getattr(config, "_user_provided_options", None)
    if config is None or not isinstance(options, dict):
        return config
    items = []
    for name, value in sorted(options.items()):
        if name == "retries" and isinstance(value, Mapping):
            value = dict(value)
            total, retries = value.pop("total_max_attempts", None), value.pop("max_attempts", None)
            value["total"] = total if total is not None or retries is None else retries + 1
            value = sorted(value.items())
        items.append((name, repr(value)))
    return (type(config), tuple(items))


def warn_jwks_url(stacklevel: int) -> None:
    """The one warning for the deprecated spelling ``jwks_url`` (``stacklevel`` as
    :func:`warnings.warn` counts it from the caller of this function)."""
    warnings.warn(
        "jwks_url is deprecated and will be removed in the next release: use jwks_uri",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )


def _jwks_uri(options: PoolOptions) -> object:
    """``jwks_uri``, or the deprecated ``jwks_url`` (with a warning); both must agree."""
    uri, url = options.get("jwks_uri"), options.get("jwks_url")
    if url is None:
        return uri
    warn_jwks_url(stacklevel=3)
    if uri is not None and uri != url:
        raise ConfigurationError("jwks_uri and its deprecated spelling jwks_url disagree")
    return url


class Settings:
    """A pool's validated configuration (:class:`PoolOptions`); equal settings share one
    implicit pool.

    Secrets (client secret, AWS keys) take part in the identity only through a
    digest, and never appear in ``repr``.
    """

    def __init__(
        self, user_pool_id: object, client_id: object, **options: Unpack[PoolOptions]
    ) -> None:
        unknown = set(options) - _OPTION_NAMES
        if unknown:
            raise TypeError(f"unexpected keyword argument {sorted(unknown)[0]!r}")
        # An explicit option wins over the same setting in ``boto3_client_kwargs``.
        extra = read_client_kwargs(options.get("boto3_client_kwargs"))
        user_pool_region = options.get("user_pool_region") or extra.get("user_pool_region")
        access_key, secret_key = options.get("access_key"), options.get("secret_key")
        if access_key is None and secret_key is None:
            access_key, secret_key = extra.get("access_key"), extra.get("secret_key")
        session_token = _optional_text(extra.get("session_token"), "aws_session_token")
        endpoint_url = options.get("endpoint_url") or extra.get("endpoint_url")
        botocore_config = options.get("botocore_config")
        self.botocore_config: AioConfig | None = aio_config(
            botocore_config if botocore_config is not None else extra.get("botocore_config")
        )
        region, self.user_pool_id = parse_pool_id(user_pool_id)
        #: ``None`` for an admin-only session: operations that need an app client refuse.
        self.client_id: str | None = None if client_id is None else check_client_id(client_id)
        if user_pool_region is not None:
            region = check_region(user_pool_region)
        self.region = region
        self.client_secret = _optional_text(options.get("client_secret"), "client_secret")
        if self.client_secret is not None and self.client_id is None:
            raise ConfigurationError("client_secret needs the client_id it belongs to")
        access_key = _optional_text(access_key, "access_key")
        secret_key = _optional_text(secret_key, "secret_key")
        if (access_key is None) != (secret_key is None):
            raise ConfigurationError("access_key and secret_key go together")
        if session_token is not None and access_key is None:
            raise ConfigurationError("aws_session_token needs aws_access_key_id and its secret")
        self.access_key, self.secret_key = access_key, secret_key
        self.session_token = session_token
        self.session: AioSession | None = options.get("session")
        max_concurrency = options.get("max_concurrency")
        self.max_concurrency = check_max_concurrency(max_concurrency)
        self.endpoint_url = _http_url(endpoint_url, "endpoint_url")
        issuer = _optional_text(options.get("issuer"), "issuer")
        self.issuer = issuer or (
            f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"
        )
        explicit_jwks = _http_url(_jwks_uri(options), "jwks_uri")
        self.jwks_uri = explicit_jwks or (
            f"{self.endpoint_url}/{self.user_pool_id}/.well-known/jwks.json"
            if self.endpoint_url
            else f"{self.issuer}/.well-known/jwks.json"
        )
        #: A plain-http ``endpoint_url`` is an emulator the user chose (maybe on a container
        #: network): its JWKS may be fetched over http too. An explicit ``jwks_uri`` gets
        #: no such pass; JWKS over plain http elsewhere is for loopback hosts only.
        self.jwks_allow_http = explicit_jwks is None and bool(
            self.endpoint_url and self.endpoint_url.lower().startswith("http://")
        )
        digest = hashlib.sha256()
        for secret in (self.client_secret, access_key, secret_key, session_token):
            digest.update(b"\x00" if secret is None else b"\x01" + secret.encode() + b"\x00")
        self.key = (
            self.user_pool_id,
            self.client_id,
            self.region,
            self.endpoint_url,
            self.jwks_uri,
            self.issuer,
            digest.digest(),
            self.session,
            _config_key(self.botocore_config),
            max_concurrency,
        )

    def verifier(
        self,
        token_use: Literal["id", "access"],
        jwks_cache: JwksCache,
        jwks: Mapping[str, Any] | None = None,
    ) -> CognitoVerifier:
        """A verifier of the pool's ``token_use`` tokens for its app client."""
        if self.client_id is None:
            raise ConfigurationError("verifying tokens needs the app client's client_id")
        return CognitoVerifier(
            self.user_pool_id,
            client_id=self.client_id,
            token_use=token_use,
            jwks=jwks,
            jwks_uri=self.jwks_uri,
            issuer=self.issuer,
            jwks_cache=jwks_cache,
        )

    def __repr__(self) -> str:
        return f"Settings({self.user_pool_id!r}, {self.client_id!r}, region={self.region!r})"
