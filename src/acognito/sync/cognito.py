"""pycognito's ``Cognito``, blocking, over :class:`~acognito.AsyncCognito`.

The object holds an ``AsyncCognito`` made on the process's one loop thread
(:func:`acognito._loop_thread.shared_loop`) and runs each call there. Its methods are
written out in three groups (:mod:`._signin`, :mod:`._account`, :mod:`._admin`);
the user's state (``username``, the tokens, the claims, ...) lives on the async session
and is read and set there (:class:`~acognito.sync._host.OnAsync`).
"""

from __future__ import annotations

import collections
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from .._loop_thread import LoopThread, shared_loop
from .._secret import secret_hash
from ..cognito import AsyncCognito
from ..context import UserContext
from ..devices import DeviceCredentials
from ..errors import ConfigurationError
from ..events import AuthEvent, Events
from ..models import User
from ..tokens import Tokens
from ._account import SyncAccount
from ._admin import SyncAdmin
from ._errors import run_mapped
from ._host import OnAsync
from ._options import _session_kwargs
from ._signin import SyncSignIn
from .models import GroupObj, UserObj, _attribute_list, _jwk_dict

__all__ = ["Cognito"]

T = TypeVar("T")


class Cognito(SyncSignIn, SyncAccount, SyncAdmin):
    """pycognito's ``Cognito`` over acognito's :class:`~acognito.AsyncCognito`, blocking.

    Same positional arguments as pycognito; further :class:`~acognito.AsyncCognito`
    options (``endpoint_url``, ``jwks_uri``, device credentials, ...) as keywords.
    ``close()`` (or ``with``) releases the client; a forgotten one is released when the
    object is garbage-collected. Safe to share between threads.
    """

    user_class: type[UserObj] = UserObj
    group_class: type[GroupObj] = GroupObj
    _loop: LoopThread
    _async: AsyncCognito

    user_pool_id: OnAsync[str] = OnAsync()
    client_id: OnAsync[str | None] = OnAsync()
    user_pool_region: OnAsync[str] = OnAsync()
    endpoint_url: OnAsync[str | None] = OnAsync()
    issuer: OnAsync[str] = OnAsync()
    jwks_uri: OnAsync[str] = OnAsync()
    username: OnAsync[str | None] = OnAsync()
    tokens: OnAsync[Tokens] = OnAsync()
    id_token: OnAsync[str | None] = OnAsync()
    access_token: OnAsync[str | None] = OnAsync()
    refresh_token: OnAsync[str | None] = OnAsync()
    token_type: OnAsync[str | None] = OnAsync()
    expires_in: OnAsync[int | None] = OnAsync()
    expires_datetime: OnAsync[datetime | None] = OnAsync()
    id_claims: OnAsync[dict[str, Any] | None] = OnAsync()
    access_claims: OnAsync[dict[str, Any] | None] = OnAsync()
    base_attributes: OnAsync[dict[str, Any] | None] = OnAsync()
    custom_attributes: OnAsync[dict[str, Any] | None] = OnAsync()
    mfa_tokens: OnAsync[dict[str, Any] | None] = OnAsync()
    device: OnAsync[DeviceCredentials | None] = OnAsync()
    new_device_metadata: OnAsync[dict[str, str] | None] = OnAsync()
    refresh_token_rotation: OnAsync[bool] = OnAsync()
    refresh_margin: OnAsync[float] = OnAsync()
    verify_on_sign_in: OnAsync[bool] = OnAsync()
    user_context: OnAsync[UserContext | None] = OnAsync()
    closed: OnAsync[bool] = OnAsync()
    store: OnAsync[Any] = OnAsync()
    store_key: OnAsync[str | None] = OnAsync()

    def __init__(
        self,
        user_pool_id: str,
        client_id: str,
        user_pool_region: str | None = None,
        username: str | None = None,
        id_token: str | None = None,
        refresh_token: str | None = None,
        access_token: str | None = None,
        client_secret: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        session: Any = None,
        botocore_config: Any = None,
        boto3_client_kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        kwargs = _session_kwargs(
            user_pool_region, access_key, secret_key, session, botocore_config, boto3_client_kwargs
        )
        if options.get("endpoint_url") is None:
            options.pop("endpoint_url", None)
        relay = self._relay_events(options)
        loop = shared_loop()
        self._loop = loop
        self._async = loop.build(
            lambda: AsyncCognito(
                user_pool_id,
                client_id,
                username=username,
                id_token=id_token,
                refresh_token=refresh_token,
                access_token=access_token,
                client_secret=client_secret,
                events=relay,
                **kwargs,
                **options,
            )
        )
        self.pool_jwk: dict[str, Any] | None = None
        self._finalizer = weakref.finalize(self, loop.close_soon, self._async.close)

    def _relay_events(self, options: dict[str, Any]) -> Events:
        """The async session's hub: it only queues; :meth:`_run` delivers to
        :attr:`events` in the thread that made the call, never on the loop thread."""
        events = options.pop("events", None)
        if events is not None and not isinstance(events, Events):
            raise ConfigurationError("events must be an acognito.events.Events hub")
        self._events = Events() if events is None else events
        self._queued: collections.deque[AuthEvent] = collections.deque()
        relay = Events()
        relay.subscribe(self._queued.append)
        return relay

    @classmethod
    def restore(
        cls, store: Any, key: str, user_pool_id: str, client_id: str | None, **options: Any
    ) -> Cognito:
        """A signed-in object rebuilt from the tokens kept under ``key`` in ``store``
        (blocking :meth:`AsyncCognito.restore <acognito.AsyncCognito.restore>`; the same
        options as the constructor's keywords)."""
        self = object.__new__(cls)
        if options.get("endpoint_url") is None:
            options.pop("endpoint_url", None)
        relay = self._relay_events(options)
        loop = shared_loop()
        self._loop = loop
        self._async = loop.run(
            AsyncCognito.restore, store, key, user_pool_id, client_id, events=relay, **options
        )
        self.pool_jwk = None
        self._finalizer = weakref.finalize(self, loop.close_soon, self._async.close)
        self._deliver()
        return self

    # ------------------------------------------------------------------ plumbing

    def _run(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        # Cognito's refusals come out as pycognito code catches them: botocore's
        # ClientError and self.client.exceptions.<Code> too (see _errors).
        try:
            return run_mapped(self._loop.run, self._client_exceptions, func, *args, **kwargs)
        finally:
            self._deliver()

    def _client_exceptions(self) -> Any:
        return self._async.client.exceptions

    def _deliver(self) -> None:
        """Hand the queued lifecycle events to the subscribers, in this thread."""
        queued = self._queued
        while queued:
            try:
                event = queued.popleft()
            except IndexError:  # another thread delivered it
                return
            self._events.emit_sync(event)

    @property
    def events(self) -> Events:
        """The hub of this object's lifecycle events; its subscribers are called in the
        thread that made the call (a coroutine subscriber on a short-lived loop there)."""
        return self._events

    def close(self) -> None:
        """Release the aiobotocore client and the JWKS cache; the object is then unusable."""
        self._finalizer.detach()
        self._run(self._async.close)

    def __enter__(self) -> Cognito:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<acognito.sync.Cognito over {self._async!r}>"

    @property
    def client_secret(self) -> str | None:
        return self._async.client_secret

    @property
    def client(self) -> Any:
        """The aiobotocore client of the async session, opened first if needed: for
        botocore's ``Stubber``. Its methods are coroutines of the private loop."""
        return self._run(self._async.get_client)

    @property
    def pool_domain_url(self) -> str | None:
        """The endpoint the session talks to when not AWS's (pycognito's name)."""
        return self._async.endpoint_url

    @property
    def user_pool_url(self) -> str:
        """The issuer URL of the pool's tokens (pycognito's ``user_pool_url``)."""
        return self._async.issuer

    def _set_attributes(
        self, response: Mapping[str, Any], attribute_dict: Mapping[str, Any]
    ) -> None:
        """pycognito's helper: copy ``attribute_dict`` onto the session after a 200 answer."""
        status = response.get(
            "HTTPStatusCode", response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        )
        if status == 200:
            for key, value in attribute_dict.items():
                setattr(self, key, value)

    def _add_secret_hash(self, parameters: dict[str, Any], key: str) -> None:
        """pycognito's helper: add SECRET_HASH for ``username`` when the client has a secret."""
        if self.client_secret is not None and self.username and self.client_id:
            parameters[key] = secret_hash(self.username, self.client_id, self.client_secret)

    # ------------------------------------------------------------------ tokens

    def get_keys(self) -> dict[str, Any]:
        """The pool's JWKS (downloaded once into the session's JWKS cache)."""
        if self.pool_jwk is None:
            self.pool_jwk = self._run(self._download_keys)
        return self.pool_jwk

    async def _download_keys(self) -> dict[str, Any]:
        # The session borrows its JWKS cache from its pool, bound on its first async use.
        await self._async.__aenter__()
        cache, uri = self._async.jwks_cache, self._async.jwks_uri
        if uri not in cache:
            await cache.hydrate(uri)
        keys = [cache.peek(uri, kid) for kid in cache.kids(uri)]
        return {"keys": [_jwk_dict(key) for key in keys if key is not None]}

    def get_key(self, kid: str) -> dict[str, Any] | None:
        """The JWK with ``kid`` from :meth:`get_keys`, or None."""
        for key in self.get_keys().get("keys", []):
            if key.get("kid") == kid:
                return dict(key)
        return None

    def verify_tokens(self) -> None:
        """Verify the id and access tokens; sets ``id_claims`` and ``access_claims``."""
        self._run(self._async.verify_tokens)

    def verify_token(self, token: str, id_name: str, token_use: str) -> dict[str, Any]:
        """Verify one token and store it as ``id_name``; returns its claims."""
        return self._run(self._async.verify_token, token, id_name, token_use)

    def check_token(self, renew: bool = True) -> bool:
        """Whether the access token has expired; with ``renew``, refresh it then."""
        if not self.access_token:
            raise AttributeError("Access Token Required to Check Token")
        return self._run(self._async.check_token, renew)

    def renew_access_token(self) -> None:
        """Fresh id and access tokens from the refresh token."""
        self._run(self._async.renew_access_token)

    def switch_session(self, session: Any) -> None:
        """pycognito's test hook (a boto3 session): not supported, acognito has no boto3 client."""
        raise ConfigurationError(
            "switch_session is not supported: build a new Cognito with session=... instead"
        )

    # ------------------------------------------------------------------ users and groups

    def get_user_obj(
        self,
        username: str | None = None,
        attribute_list: Sequence[Mapping[str, str]] | None = None,
        metadata: Mapping[str, Any] | None = None,
        attr_map: Mapping[str, str] | None = None,
    ) -> UserObj:
        """A ``user_class`` instance bound to this session (pycognito's keywords)."""
        return self.user_class(
            username=username,
            attribute_list=attribute_list,
            cognito_obj=self,
            metadata=metadata,
            attr_map=attr_map,
        )

    def get_group_obj(self, group_data: Mapping[str, Any]) -> GroupObj:
        """A ``group_class`` instance bound to this session."""
        return self.group_class(group_data=group_data, cognito_obj=self)

    def _user(self, user: User, attr_map: Mapping[str, str] | None) -> UserObj:
        return self.get_user_obj(user.username, _attribute_list(user), user.metadata, attr_map)
