"""AsyncCognito: one user-pool session, every operation a coroutine.

The session holds who the user is (username, tokens, verified claims, device) and
borrows everything costly from a :class:`~acognito.pool.CognitoPool`: the
aiobotocore client, the JWKS cache and the verifiers. Its operations live in rooms
(:mod:`acognito.session`); method names and arguments follow pycognito's ``Cognito``
so migrating code reads the same, with ``await`` in front.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from ._lifecycle import AsyncClosing
from ._secret import redact
from .devices import DeviceCredentials
from .errors import ConfigurationError
from .jwks import JwksCache
from .pool import CognitoPool, _Settings, make_verifier
from .session.account import AccountCommands
from .session.admin import AdminCommands
from .session.signin import AuthFlow, SignInCommands

if TYPE_CHECKING:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession

__all__ = ["AsyncCognito", "AuthFlow"]


class AsyncCognito(SignInCommands, AccountCommands, AdminCommands, AsyncClosing):
    """A Cognito user-pool session for one app client and (optionally) one user.

    ``async with AsyncCognito(pool_id, client_id, username="bob") as cognito:`` per
    user or per request is the intended use, and it is cheap: the session borrows the
    aiobotocore client, JWKS cache and verifiers of an implicit
    :class:`~acognito.pool.CognitoPool` shared by every session with the same
    configuration on the running event loop. Closing the session keeps them for the
    next one; they are released when the event loop ends, or by
    ``await acognito.aclose_pools()``. A service may hold a pool itself and call
    ``pool.session(username=...)``; :meth:`for_user` is another spelling of that.

    ``endpoint_url`` points at an emulator: the JWKS is then read from
    ``{endpoint_url}/{user_pool_id}/.well-known/jwks.json`` while the expected token
    issuer stays ``https://cognito-idp.{region}.amazonaws.com/{user_pool_id}`` (both
    overridable with ``jwks_url`` and ``issuer``). Calls to Cognito time out after 5 s
    to connect and 10 s per answer (3 tries at most); pass ``botocore_config`` to change
    that. ``max_concurrency`` caps the pool's Cognito calls in flight (default: the
    connection pool size, 10).

    The arguments up to ``boto3_client_kwargs`` are pycognito's, in its positional
    order; acognito's own options are keyword-only. ``client_id=None`` makes an
    admin-only session (``admin_*`` calls, groups, users): operations that need an app
    client (sign-in, sign-up, token verification, ...) raise
    :class:`~acognito.errors.ConfigurationError` naming the operation, before any call.
    ``boto3_client_kwargs`` takes ``create_client``'s ``endpoint_url``, ``region_name``,
    ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token`` and
    ``config`` (a botocore ``Config`` is converted); any other key is refused by name,
    and an explicit argument (``user_pool_region=``, ``access_key=``, ...) wins over
    the same setting there. :attr:`client` is the aiobotocore client once open.

    A session belongs to the event loop it is first used on; used from another loop it
    raises :class:`~acognito.errors.ConfigurationError`. A session never closed leaks
    nothing: the connections are the pool's, closed with the loop. Secrets (tokens,
    client secret, AWS keys, device password) are never shown by ``repr()``.
    """

    def __init__(
        self,
        user_pool_id: str,
        client_id: str | None,
        user_pool_region: str | None = None,
        username: str | None = None,
        id_token: str | None = None,
        refresh_token: str | None = None,
        access_token: str | None = None,
        client_secret: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        session: AioSession | None = None,
        botocore_config: AioConfig | None = None,
        boto3_client_kwargs: Mapping[str, Any] | None = None,
        *,
        endpoint_url: str | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        device_key: str | None = None,
        device_group_key: str | None = None,
        device_password: str | None = None,
        refresh_token_rotation: bool = False,
        refresh_margin: float = 60.0,
        jwks: Mapping[str, Any] | None = None,
        jwks_cache: JwksCache | None = None,
        verify_on_sign_in: bool = True,
        max_concurrency: int | None = None,
    ) -> None:
        settings = _Settings(
            user_pool_id,
            client_id,
            user_pool_region=user_pool_region,
            client_secret=client_secret,
            access_key=access_key,
            secret_key=secret_key,
            session=session,
            botocore_config=botocore_config,
            boto3_client_kwargs=boto3_client_kwargs,
            endpoint_url=endpoint_url,
            jwks_url=jwks_url,
            issuer=issuer,
            max_concurrency=max_concurrency,
        )
        device_parts = (device_key, device_group_key, device_password)
        if any(device_parts) and not all(isinstance(p, str) and p for p in device_parts):
            raise ConfigurationError("device_key, device_group_key and device_password go together")
        self._init_user(
            settings,
            None,
            None,
            username=username,
            id_token=id_token,
            access_token=access_token,
            refresh_token=refresh_token,
            device=(
                DeviceCredentials(device_key, device_group_key, device_password)  # type: ignore[arg-type]
                if device_key
                else None
            ),
            refresh_token_rotation=refresh_token_rotation,
            refresh_margin=refresh_margin,
            verify_on_sign_in=verify_on_sign_in,
        )
        if (jwks is not None or jwks_cache is not None) and settings.client_id is not None:
            # Keys of its own: this session does not share the pool's verifiers.
            self._owns_jwks = jwks_cache is None
            self._own_jwks = cache = (
                jwks_cache
                if jwks_cache is not None
                else JwksCache(allow_http=settings.jwks_allow_http)
            )
            self._own_verifiers = (
                make_verifier(settings, "id", cache, jwks),
                make_verifier(settings, "access", cache, jwks),
            )

    @classmethod
    def _on_pool(
        cls, pool: CognitoPool | None, *, parent: AsyncCognito | None = None, **user: Any
    ) -> AsyncCognito:
        """A session on ``pool`` (or sharing ``parent``'s), without re-validating it."""
        session = object.__new__(cls)
        settings = parent._settings if parent is not None else pool.settings  # type: ignore[union-attr]
        session._init_user(settings, pool, parent, **user)
        return session

    def for_user(
        self,
        username: str | None = None,
        *,
        id_token: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        device: DeviceCredentials | None = None,
    ) -> AsyncCognito:
        """A session for another user of the same pool and client, sharing this one's
        pool (client, connections, keys); the same as ``pool.session(...)``.

        Closing a child leaves the parent open; closing the parent ends its children.
        """
        root = self if self._parent is None else self._parent
        assert isinstance(root, AsyncCognito)
        return AsyncCognito._on_pool(
            None,
            parent=root,
            username=username,
            id_token=id_token,
            access_token=access_token,
            refresh_token=refresh_token,
            device=device,
            refresh_token_rotation=self.refresh_token_rotation,
            refresh_margin=self.refresh_margin,
            verify_on_sign_in=self.verify_on_sign_in,
        )

    # ------------------------------------------------------------------ the client

    @property
    def client(self) -> Any:
        """The aiobotocore ``cognito-idp`` client this session calls through (its pool's),
        for botocore's ``Stubber`` or an API call acognito has no method for.

        It exists once the session is open: inside ``async with``, after a first call,
        or after ``await cognito.get_client()``; before that this raises
        :class:`~acognito.errors.ConfigurationError` (an aiobotocore client is built
        on an event loop). It is shared with the pool's other sessions: do not close it.
        """
        pool = self.pool
        if pool is None or pool.idp.client is None:
            raise ConfigurationError(
                "AsyncCognito.client exists once the session is open: use it inside "
                "`async with AsyncCognito(...)`, or `await cognito.get_client()` first"
            )
        return pool.client

    async def get_client(self) -> Any:
        """The aiobotocore client (see :attr:`client`), opening the session first."""
        idp = await self._idp_client()
        await idp.open()
        return self.client

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> AsyncCognito:
        idp = await self._idp_client()
        await idp.open()
        return self

    def __enter__(self) -> NoReturn:
        raise ConfigurationError(
            "AsyncCognito is asynchronous: use `async with AsyncCognito(...)` inside a "
            "coroutine (blocking code can run one with asyncio.run or anyio.run)"
        )

    def __exit__(self, *exc_info: object) -> None:  # pragma: no cover - __enter__ raises
        return None

    async def aclose(self) -> None:
        """End this session. The pool's client and keys stay for the next session
        (an implicit pool closes when its event loop ends). Cannot be used afterwards."""
        if self._closed:
            return
        self._closed = True
        if self._borrowed and self._pool is not None:
            self._borrowed = False
            self._pool._release()
        if self._owns_jwks and self._own_jwks is not None:
            await self._own_jwks.aclose()

    close = aclose

    def __repr__(self) -> str:
        return (
            f"AsyncCognito(user_pool_id={self.user_pool_id!r}, client_id={self.client_id!r}, "
            f"username={self.username!r}, client_secret={redact(self.client_secret)}, "
            f"tokens={self._tokens!r}, device={'set' if self.device else 'None'})"
        )
