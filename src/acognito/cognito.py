"""AsyncCognito: one user-pool session, every operation a coroutine.

The session holds who the user is (username, tokens, verified claims, device, a pending
sign-in) and borrows everything costly from a pool through its
:class:`~acognito.session._lease.PoolLease`: the aiobotocore client, the JWKS cache and
the verifiers. Its operations live in command groups (:mod:`acognito.session`), each
over a narrow contract this class implements; method names and arguments follow
pycognito's ``Cognito`` so migrating code reads the same, with ``await`` in front.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import anyio

from ._flight import SingleFlight
from ._idp import IdpClient
from ._lifecycle import AsyncClosing
from ._pools import SharedPool
from ._secret import redact, secret_hash
from ._settings import EndpointOptions, Settings, UserOptions, UserTokens, warn_jwks_url
from .devices import DeviceCredentials
from .errors import ConfigurationError
from .flows import Conversation, CustomAnswer, SignIn
from .jwks import JwksCache
from .models import Group, User
from .session._base import need
from .session._lease import PoolLease
from .session.account import AccountCommands
from .session.admin import AdminCommands
from .session.signin import AuthFlow, SignInCommands
from .session.signup import SignUpCommands
from .session.tokens import TokenCommands
from .stores._keeping import Keeper
from .tokens import Tokens
from .verify import CognitoVerifier

if TYPE_CHECKING:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession
    from typing_extensions import Unpack

    from .events import Events
    from .stores import TokenStore

__all__ = ["AsyncCognito", "AuthFlow"]


class AsyncCognito(
    TokenCommands, SignUpCommands, SignInCommands, AccountCommands, AdminCommands, AsyncClosing
):
    """A Cognito user-pool session for one app client and (optionally) one user.

    ``async with AsyncCognito(pool_id, client_id, username="bob") as cognito:`` per
    user or per request is the intended use, and it is cheap: the session borrows the
    aiobotocore client, JWKS cache and verifiers of an implicit pool shared by every
    session with the same configuration on the running event loop. Closing the session
    keeps them for the next one; they are released when the event loop ends, or by
    ``await acognito.aclose_pools()``. A service may hold a
    :class:`~acognito.pool.CognitoPool` itself and call ``pool.session(username=...)``;
    :meth:`for_user` is another spelling of that.

    The arguments up to ``boto3_client_kwargs`` are pycognito's, in its positional
    order; acognito's own options are keyword-only: the user's remembered device, how
    tokens are kept (``refresh_token_rotation``, ``refresh_margin``,
    ``verify_on_sign_in``), keys of the session's own (``jwks``, ``jwks_cache``), and
    the pool options of :class:`~acognito._settings.EndpointOptions`: ``endpoint_url``
    points at an emulator (the JWKS is then read from
    ``{endpoint_url}/{user_pool_id}/.well-known/jwks.json`` while the expected issuer
    stays ``https://cognito-idp.{region}.amazonaws.com/{user_pool_id}``; both
    overridable with ``jwks_uri`` and ``issuer``), ``max_concurrency`` caps the pool's
    calls in flight. Calls to Cognito time out after 5 s to connect and 10 s per answer
    (3 tries at most); pass ``botocore_config`` to change that.

    ``client_id=None`` makes an admin-only session (``admin_*`` calls, groups, users):
    operations that need an app client (sign-in, sign-up, token verification, ...) raise
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

    user_class: type[User] = User
    group_class: type[Group] = Group

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
        device_key: str | None = None,
        device_group_key: str | None = None,
        device_password: str | None = None,
        refresh_token_rotation: bool = False,
        refresh_margin: float = 60.0,
        jwks: Mapping[str, Any] | None = None,
        jwks_cache: JwksCache | None = None,
        verify_on_sign_in: bool = True,
        store: TokenStore | None = None,
        store_key: str | None = None,
        events: Events | None = None,
        **options: Unpack[EndpointOptions],
    ) -> None:
        settings = Settings(
            user_pool_id,
            client_id,
            user_pool_region=user_pool_region,
            client_secret=client_secret,
            access_key=access_key,
            secret_key=secret_key,
            session=session,
            botocore_config=botocore_config,
            boto3_client_kwargs=boto3_client_kwargs,
            **options,
        )
        device_parts = (device_key, device_group_key, device_password)
        if any(device_parts) and not all(isinstance(p, str) and p for p in device_parts):
            raise ConfigurationError("device_key, device_group_key and device_password go together")
        lease: PoolLease[AsyncCognito] = PoolLease(
            settings, None, None, AsyncCognito._on_pool, jwks=jwks, jwks_cache=jwks_cache
        )
        self._start(
            lease,
            username,
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
            store=store,
            store_key=store_key,
            events=events,
        )

    def _start(
        self, lease: PoolLease[AsyncCognito], username: str | None, **user: Unpack[UserOptions]
    ) -> None:
        """Every piece of per-user state, set here and nowhere else."""
        if username is not None and not isinstance(username, str):
            raise ConfigurationError(
                f"username must be a string or None; got {type(username).__name__}"
            )
        id_token, access_token = user.get("id_token"), user.get("access_token")
        refresh_token = user.get("refresh_token")
        for what, token in (
            ("id_token", id_token),
            ("access_token", access_token),
            ("refresh_token", refresh_token),
        ):
            if token is not None and not isinstance(token, str):
                raise ConfigurationError(f"{what} must be a string or None")
        refresh_margin = user.get("refresh_margin", 60.0)
        if isinstance(refresh_margin, bool) or not isinstance(refresh_margin, (int, float)):
            raise ConfigurationError("refresh_margin must be a number of seconds")
        self._settings = lease.settings
        self._lease = lease
        self.username = username
        self.device = user.get("device")
        self._tokens = Tokens(
            id_token=id_token, access_token=access_token, refresh_token=refresh_token
        )
        self._refresh_flight = SingleFlight(shield=True)
        self.id_claims = None
        self.access_claims = None
        #: ``NewDeviceMetadata`` of the last sign-in, for :meth:`confirm_device`.
        self.new_device_metadata = None
        self.base_attributes = None
        self.custom_attributes = None
        self._conversation = Conversation()
        self._remember_device = False
        self.refresh_token_rotation = user.get("refresh_token_rotation", False)
        self.refresh_margin = refresh_margin
        #: Verify tokens (and set ``id_claims`` / ``access_claims``) on every sign-in and refresh.
        self.verify_on_sign_in = user.get("verify_on_sign_in", True)
        self._keeper = Keeper.make(
            store=user.get("store"),
            store_key=user.get("store_key"),
            events=user.get("events"),
            user_pool_id=self._settings.user_pool_id,
            client_id=self._settings.client_id,
            username=username,
        )

    @classmethod
    def _on_pool(
        cls, pool: SharedPool[AsyncCognito], username: str | None, user: UserOptions
    ) -> AsyncCognito:
        """A session on ``pool`` (what ``pool.session(...)`` makes), not re-validating it."""
        session = object.__new__(cls)
        session._start(PoolLease(pool.settings, pool, None, cls._on_pool), username, **user)
        return session

    def for_user(self, username: str | None = None, **tokens: Unpack[UserTokens]) -> AsyncCognito:
        """A session for another user of the same pool and client, sharing this one's
        pool (client, connections, keys); the same as ``pool.session(...)``.
        ``tokens`` are the user's ``id_token``, ``access_token``, ``refresh_token`` and
        remembered ``device``.

        Closing a child leaves the parent open; closing the parent ends its children.
        """
        session = object.__new__(AsyncCognito)
        session._start(
            self._lease.child(),
            username,
            **tokens,
            refresh_token_rotation=self.refresh_token_rotation,
            refresh_margin=self.refresh_margin,
            verify_on_sign_in=self.verify_on_sign_in,
            # The same hub and store; the child's tokens under its own user's key.
            events=self.events,
            store=self.store if username else None,
        )
        return session

    @classmethod
    async def restore(
        cls,
        store: TokenStore,
        key: str,
        user_pool_id: str,
        client_id: str | None,
        **options: Any,
    ) -> AsyncCognito:
        """A signed-in session rebuilt from the tokens kept under ``key`` in ``store``
        (by a session made with ``store=`` and ``store_key=``, in this process or
        another, before a restart, say). ``options`` are :class:`AsyncCognito`'s.

        The tokens are checked as a sign-in's are; when the access token is due, the
        session refreshes (under the store's lease: once for a fleet), so restoring needs
        no sign-in. :class:`~acognito.stores.StoredTokensNotFoundError` when nothing
        usable is stored, :class:`~acognito.stores.StoreUnavailableError` when the store
        does not answer; :class:`~acognito.errors.ConfigurationError` for bad options.
        """
        session = cls(user_pool_id, client_id, store=store, store_key=key, **options)
        try:
            await session._restore_tokens(key)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await session.close()
            raise
        return session

    async def _restore_tokens(self, key: str) -> None:
        """Take the stored tokens: verified, or refreshed when due."""
        from .stores import StoredTokensNotFoundError

        record = self._keeper.record
        assert record is not None
        found = await record.load()
        if found is None or not found.refresh_token:
            raise StoredTokensNotFoundError(f"no tokens are stored under {key[:80]!r}")
        self._tokens = found
        if found.expires_within(self.refresh_margin):
            await self.renew_access_token()
        elif self.verify_on_sign_in:
            await self._adopt(found)

    # ------------------------------------------------------------------ configuration

    @property
    def user_pool_id(self) -> str:
        return self._settings.user_pool_id

    @property
    def client_id(self) -> str | None:
        """The app client id; ``None`` for an admin-only session."""
        return self._settings.client_id

    @property
    def user_pool_region(self) -> str:
        return self._settings.region

    @property
    def endpoint_url(self) -> str | None:
        return self._settings.endpoint_url

    @property
    def issuer(self) -> str:
        return self._settings.issuer

    @property
    def jwks_uri(self) -> str:
        """Where the pool's signing keys are read (its JWKS URL)."""
        return self._settings.jwks_uri

    @property
    def jwks_url(self) -> str:
        """Deprecated spelling of :attr:`jwks_uri` (removed in the next release)."""
        warn_jwks_url(stacklevel=2)
        return self._settings.jwks_uri

    @property
    def client_secret(self) -> str | None:
        return self._settings.client_secret

    def _app_client(self, operation: str) -> str:
        """The app client id, or a :class:`ConfigurationError` naming ``operation``
        (raised before any call) for a session made with ``client_id=None``."""
        client_id = self._settings.client_id
        if client_id is None:
            raise ConfigurationError(
                f"{operation} needs an app client: this session was made with "
                "client_id=None (admin-only); pass the app client's id"
            )
        return client_id

    def _hash_for(self, username: str) -> dict[str, str]:
        secret = self._settings.client_secret
        if secret is None:
            return {}
        return {"SecretHash": secret_hash(username, self._app_client("SECRET_HASH"), secret)}

    def _require_username(self, username: str | None = None) -> str:
        name = username or self.username
        if not name:
            raise ConfigurationError("a username is required (pass it or set it on the session)")
        return need(name, "username")

    # ------------------------------------------------------------------ the pool

    @property
    def pool(self) -> SharedPool[AsyncCognito] | None:
        """The pool this session borrows from (``None`` until first used): its
        :class:`~acognito.pool.CognitoPool`, or the loop's implicit pool."""
        return self._lease.pool

    @property
    def closed(self) -> bool:
        return self._lease.closed

    @property
    def jwks_cache(self) -> JwksCache:
        """The JWKS cache the session verifies with (its pool's, unless given its own)."""
        return self._lease.jwks_cache

    @property
    def _idp(self) -> IdpClient:
        """The pool's aiobotocore client wrapper once bound (an unopened stand-in before)."""
        return self._lease.current_idp

    async def _idp_client(self) -> IdpClient:
        return await self._lease.idp()

    async def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Every request of every group goes here (and the sign-in machine's, through
        the lease): the one place that sees them all."""
        return await self._lease.call(operation, **params)

    async def _verifiers(self) -> tuple[CognitoVerifier, CognitoVerifier]:
        self._app_client("token verification")
        return await self._lease.verifiers()

    async def _machine(
        self,
        *,
        admin: bool = False,
        client_metadata: Mapping[str, str] | None = None,
        custom_answer: CustomAnswer | None = None,
        operation: str = "sign-in",
    ) -> SignIn:
        """The sign-in state machine for this session's client, device and pool."""
        client_id = self._app_client(operation)
        await self._lease.idp()  # bound and open: a closed session fails here, before any step
        return SignIn(
            self._lease,
            user_pool_id=self.user_pool_id,
            client_id=client_id,
            client_secret=self._settings.client_secret,
            device=self.device,
            client_metadata=client_metadata,
            custom_answer=custom_answer,
            admin=admin,
        )

    # ------------------------------------------------------------------ pycognito's objects

    def get_user_obj(
        self,
        username: str | None = None,
        attribute_list: Sequence[Mapping[str, str]] | None = None,
        metadata: Mapping[str, Any] | None = None,
        attr_map: Mapping[str, str] | None = None,
    ) -> User:
        """A :class:`~acognito.models.User` bound to this session (``await user.save()``
        writes it back)."""
        return self.user_class(
            username=username,
            attribute_list=attribute_list,
            cognito_obj=self,
            metadata=metadata,
            attr_map=attr_map,
        )

    def get_group_obj(self, group_data: Mapping[str, Any]) -> Group:
        """A :class:`~acognito.models.Group` bound to this session (``group_class`` gets
        pycognito's keywords, so a pycognito-style subclass works)."""
        return self.group_class(group_data=group_data, cognito_obj=self)

    def _set_attributes(
        self, response: Mapping[str, Any], attribute_dict: Mapping[str, Any]
    ) -> None:
        """pycognito's helper: copy ``attribute_dict`` onto the session after a successful
        answer (HTTP 200, or one whose metadata acognito already dropped). A password is
        never kept on the session."""
        metadata = response.get("ResponseMetadata") or {}
        status = response.get("HTTPStatusCode", metadata.get("HTTPStatusCode", 200))
        if status != 200:
            return
        for key, value in attribute_dict.items():
            descriptor = getattr(type(self), key, None)
            if key == "password" or (isinstance(descriptor, property) and descriptor.fset is None):
                continue  # never a password; never over a read-only setting (client_id, ...)
            setattr(self, key, value)

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

    async def _aopen(self) -> None:
        idp = await self._idp_client()
        await idp.open()

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
        await self._lease.aclose()

    async def close(self) -> None:
        """pycognito's name for :meth:`aclose`."""
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"AsyncCognito(user_pool_id={self.user_pool_id!r}, client_id={self.client_id!r}, "
            f"username={self.username!r}, client_secret={redact(self.client_secret)}, "
            f"tokens={self._tokens!r}, device={'set' if self.device else 'None'})"
        )
