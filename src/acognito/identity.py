"""AWS credentials for the signed-in user, from a Cognito identity pool.

:class:`IdentityPoolCredentials` calls GetId and GetCredentialsForIdentity (the
``cognito-identity`` service, through aiobotocore) with the session's id token, and
hands the result to aiobotocore as refreshable credentials: they fetch fresh ones before
they expire, refreshing the user's tokens through the session first when those are
close to expiry. So any aiobotocore client runs as the user::

    async with IdentityPoolCredentials(cognito, "eu-west-1:1234-...") as identity:
        session = identity.install(aiobotocore.session.get_session())
        async with session.create_client("s3", region_name="eu-west-1") as s3:
            await s3.list_buckets()
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import anyio.to_thread
import sniffio
from aiobotocore.config import AioConfig
from aiobotocore.credentials import AnyioRefreshableCredentials
from botocore import UNSIGNED
from botocore.credentials import CredentialProvider
from botocore.exceptions import BotoCoreError

from ._idp import IdpClient, _default_config, _httpx_session_cls, _prepare_session, _uses_httpx
from ._lifecycle import AsyncClosing
from .errors import ConfigurationError, TokenRefreshError

if TYPE_CHECKING:
    from aiobotocore.session import AioSession

__all__ = ["IdentityPoolCredentials", "session_for_this_loop"]

SERVICE = "cognito-identity"

#: Refresh this many seconds before expiry when convenient (advisory), or at the latest
#: this many (mandatory: callers wait for the refresh). botocore's defaults.
ADVISORY_REFRESH = 15 * 60
MANDATORY_REFRESH = 10 * 60


class _TokenSource(Protocol):
    """What is used of the session: its pool, its id token, and its refresh."""

    user_pool_id: str
    user_pool_region: str

    @property
    def id_token(self) -> str | None: ...

    async def check_token(self, renew: bool = True, *, margin: float | None = None) -> bool: ...


class _IdentityClient(IdpClient):
    """An aiobotocore ``cognito-identity`` client: the same lifecycle, backend choice and
    error mapping as the user-pool client. Requests are unsigned: GetId and
    GetCredentialsForIdentity take the user's id token, not AWS credentials."""

    async def _create(self) -> tuple[Any, Any]:
        library = sniffio.current_async_library()
        session = await anyio.to_thread.run_sync(_prepare_session, self._session, library)
        config = _default_config().merge(AioConfig(signature_version=UNSIGNED))
        if self._config is not None:
            config = config.merge(self._config)
        if library == "trio" and not _uses_httpx(config):
            config = config.merge(AioConfig(http_session_cls=_httpx_session_cls()))
        await anyio.to_thread.run_sync(session.warm_up_loader_caches, SERVICE, None)
        try:
            context = session.create_client(
                SERVICE, region_name=self.region, endpoint_url=self.endpoint_url, config=config
            )
            client = await context.__aenter__()
        except (BotoCoreError, ValueError) as exc:
            raise self._map(exc, "CreateClient") from None
        self.library = library
        self._session = session
        return context, client


def session_for_this_loop(session: AioSession | None = None) -> AioSession:
    """``session`` (or a new aiobotocore session) with an HTTP backend that runs on the
    current event loop: on trio, aiobotocore's httpx backend (its default, aiohttp,
    cannot run there); on asyncio, or outside any loop, it is left as it is."""
    if session is None:
        from aiobotocore.session import get_session

        session = get_session()
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return session
    return _prepare_session(session, library)


class IdentityPoolCredentials(AsyncClosing):
    """The signed-in user's AWS credentials from identity pool ``identity_pool_id``.

    ``cognito`` is a signed-in :class:`~acognito.AsyncCognito` (its id token is the login).
    ``provider_name`` is the identity pool's provider for the user pool, by default
    ``cognito-idp.{region}.amazonaws.com/{user_pool_id}`` (the token's issuer without
    ``https://``). ``endpoint_url`` points the ``cognito-identity`` client at an emulator.
    """

    METHOD = "acognito-identity-pool"

    def __init__(
        self,
        cognito: _TokenSource,
        identity_pool_id: str,
        *,
        region: str | None = None,
        provider_name: str | None = None,
        endpoint_url: str | None = None,
        botocore_config: AioConfig | None = None,
        advisory_timeout: float = ADVISORY_REFRESH,
        mandatory_timeout: float = MANDATORY_REFRESH,
    ) -> None:
        if not isinstance(identity_pool_id, str) or ":" not in identity_pool_id:
            raise ConfigurationError("identity_pool_id must look like '<region>:<uuid>'")
        if not 0 <= mandatory_timeout <= advisory_timeout:
            raise ConfigurationError("need 0 <= mandatory_timeout <= advisory_timeout")
        self._cognito = cognito
        self.identity_pool_id = identity_pool_id
        self.region = region or identity_pool_id.split(":", 1)[0]
        self.provider_name = provider_name or (
            f"cognito-idp.{cognito.user_pool_region}.amazonaws.com/{cognito.user_pool_id}"
        )
        self._client = _IdentityClient(
            region=self.region, endpoint_url=endpoint_url, botocore_config=botocore_config
        )
        self._advisory = float(advisory_timeout)
        self._mandatory = float(mandatory_timeout)
        self._identity_id: str | None = None
        self._credentials: AnyioRefreshableCredentials | None = None
        self._fetches = 0

    # ------------------------------------------------------------------ lifecycle

    async def _aopen(self) -> None:
        await self._client.open()

    async def aclose(self) -> None:
        """Release the ``cognito-identity`` client; refreshes fail afterwards."""
        await self._client.close()

    close = aclose

    # ------------------------------------------------------------------ the calls

    @property
    def fetches(self) -> int:
        """How many times credentials were fetched (the first time and every refresh)."""
        return self._fetches

    async def _logins(self) -> dict[str, str]:
        # Fresh user tokens first: the id token is the login, and it must not expire
        # between here and Cognito.
        try:
            await self._cognito.check_token(renew=True)
        except ConfigurationError:
            raise
        except Exception as exc:
            raise TokenRefreshError("the user's tokens could not be refreshed") from exc
        token = self._cognito.id_token
        if not token:
            raise ConfigurationError("identity-pool credentials need a signed-in user (id token)")
        return {self.provider_name: token}

    async def identity_id(self) -> str:
        """The user's identity id in the pool (GetId, once)."""
        if self._identity_id is None:
            response = await self._client.call(
                "get_id", IdentityPoolId=self.identity_pool_id, Logins=await self._logins()
            )
            identity = response.get("IdentityId")
            if not isinstance(identity, str) or not identity:
                raise ConfigurationError("GetId returned no identity id")
            self._identity_id = identity
        return self._identity_id

    async def fetch(self) -> dict[str, Any]:
        """Fresh credentials (GetCredentialsForIdentity), in botocore's refresh format."""
        identity = await self.identity_id()
        response = await self._client.call(
            "get_credentials_for_identity", IdentityId=identity, Logins=await self._logins()
        )
        creds: Mapping[str, Any] = response.get("Credentials") or {}
        expiration = creds.get("Expiration")
        if isinstance(expiration, (int, float)):
            expiration = datetime.fromtimestamp(expiration, timezone.utc)
        if not isinstance(expiration, datetime) or not all(
            isinstance(creds.get(k), str) for k in ("AccessKeyId", "SecretKey", "SessionToken")
        ):
            raise ConfigurationError("GetCredentialsForIdentity returned incomplete credentials")
        self._fetches += 1
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretKey"],
            "token": creds["SessionToken"],
            "expiry_time": expiration.isoformat(),
        }

    async def credentials(self) -> AnyioRefreshableCredentials:
        """aiobotocore credentials that refresh themselves (fetched on first use)."""
        if self._credentials is None:
            first = await self.fetch()
            self._credentials = AnyioRefreshableCredentials.create_from_metadata(
                first,
                self.fetch,
                self.METHOD,
                advisory_timeout=self._advisory,
                mandatory_timeout=self._mandatory,
            )
        return self._credentials

    def provider(self) -> CredentialProvider:
        """An aiobotocore credential provider handing out :meth:`credentials`."""
        return _Provider(self)

    def install(self, session: AioSession) -> AioSession:
        """Put these credentials first in ``session``'s provider chain; returns it.

        Install before the session resolves credentials (before its first client).
        Called on trio, it also gives the session aiobotocore's httpx backend (aiohttp,
        the default, cannot run there).
        """
        resolver = session_for_this_loop(session).get_component("credential_provider")
        resolver.providers.insert(0, self.provider())
        return session

    def __repr__(self) -> str:
        return (
            f"IdentityPoolCredentials(identity_pool_id={self.identity_pool_id!r}, "
            f"provider_name={self.provider_name!r}, identity_id={self._identity_id!r})"
        )


class _Provider(CredentialProvider):  # type: ignore[misc]
    METHOD = IdentityPoolCredentials.METHOD
    CANONICAL_NAME = "custom-acognito-identity-pool"

    def __init__(self, source: IdentityPoolCredentials) -> None:
        self._source = source

    async def load(self) -> AnyioRefreshableCredentials:
        return await self._source.credentials()
