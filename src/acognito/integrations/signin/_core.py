"""The server-side sign-in, once for every framework: managed login, the session behind
it, and who a request's user is.

:class:`ServerSignIn` answers the three routes (``/login``, the callback, ``/logout``)
and judges every other request (:meth:`ServerSignIn.visit`): a bearer token by the
token, else the session cookie. Adapters turn their framework's request into a
:class:`~._http.WebRequest` and send the :class:`~._http.WebAnswer` back; nothing here
imports a web framework.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from ..._secret import constant_time_equal
from ...context import UserContext
from ...errors import (
    CognitoConnectionError,
    CognitoError,
    ConfigurationError,
    InvalidGrantOAuthError,
    NotAuthorizedError,
    TokenVerificationError,
)
from ...jwks import JwksCache
from ...stores._base import TokenStore
from ...stores._shared import UNAVAILABLE, Record
from ...verify import CognitoVerifier
from ..core import (
    BearerGuard,
    CognitoClaims,
    CognitoDenied,
    TokenVerifier,
    bearer_token,
    classify,
)
from ._config import DEFAULT_SCOPES, check_url, is_loopback, seconds, settings_arguments
from ._cookies import AppCookies, Cookie, new_id
from ._forms import FormFlow, FormView
from ._http import (
    SAFE_METHODS,
    WebAnswer,
    WebRequest,
    forbidden,
    origin_of,
    page,
    redirect,
    safe_next,
    unavailable,
)
from ._http import same_origin as _same_origin
from ._managed import ManagedLogin
from ._models import Visit, WebSession, WebUser, answer_from, context_of
from ._proxies import TrustedProxies
from ._sessions import LOGIN_TTL, Loaded, SessionEnded, Sessions
from ._userpool import UserPoolAccess

__all__ = ["ServerSignIn", "Visit", "WebSession", "WebUser"]

log = logging.getLogger("acognito.integrations.signin")


class ServerSignIn:
    """Server-side sign-in: managed login (authorization code + PKCE S256, ``state`` and
    ``nonce`` checked, the id token verified) and/or a server-rendered sign-in form, and
    the session behind them.

    ``app_url`` is the app's origin (``https://app.example.com``). ``domain`` (the pool's
    managed-login domain) turns on managed login: register ``{app_url}{callback_path}``
    as a callback URL of the app client and ``logout_uri`` (default: the app's root) as a
    sign-out URL. ``form_path`` (``"/signin"``) turns on the server-rendered sign-in over
    the typed steps (password, MFA codes, TOTP set-up with a QR code, new password, an
    e-mailed code with ``email_otp``); ``auth_flow`` is its password flow,
    ``form_renderer`` renders its pages (a :class:`~._forms.FormView` -> HTML; a plain
    built-in page by default) and ``cognito_options`` go to the
    :class:`~acognito.AsyncCognito` it signs in with (``endpoint_url``, ``user_pool_region``...).

    ``secret`` signs the cookies (one secret, or several to rotate: the first signs);
    without one, only an app on loopback starts (with a random secret per process).
    ``store`` keeps sessions and pending sign-ins
    (:class:`~acognito.stores.MemoryTokenStore` by default; a
    :class:`~acognito.stores.RedisTokenStore` for a fleet). ``idle_timeout`` and
    ``absolute_timeout`` end sessions. ``trusted_proxies`` are the proxies whose
    ``X-Forwarded-For`` gives the client's IP (none by default). ``allowed_origins`` are
    further origins whose state-changing requests pass the CSRF check (``app_url``'s
    always does). ``bearer_verifier`` judges requests that carry ``Authorization: Bearer``
    (default: this client's access tokens). ``jwks_uri`` and ``issuer`` are for an
    emulator.
    """

    def __init__(
        self,
        user_pool_id: str,
        client_id: str,
        *,
        app_url: str,
        domain: str | None = None,
        form_path: str | None = None,
        secret: str | bytes | Iterable[str | bytes] | None = None,
        client_secret: str | None = None,
        callback_path: str = "/auth/callback",
        logout_uri: str | None = None,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        store: TokenStore | None = None,
        idle_timeout: float = 3600.0,
        absolute_timeout: float = 43200.0,
        trusted_proxies: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
        login_path: str = "/login",
        logout_path: str = "/logout",
        after_login: str = "/",
        csrf_exempt: Iterable[str] = (),
        bearer_verifier: TokenVerifier | None = None,
        auth_flow: str = "USER_SRP_AUTH",
        email_otp: bool = False,
        totp_issuer: str | None = None,
        form_renderer: Callable[[FormView], str] | None = None,
        cognito_options: Mapping[str, Any] | None = None,
        jwks_uri: str | None = None,
        issuer: str | None = None,
        refresh_margin: float = 60.0,
        store_prefix: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        app = urlsplit(check_url(app_url, "app_url"))
        if app.path not in ("", "/") or app.query:
            raise ConfigurationError("app_url is the app's origin (https://host[:port]), no path")
        host = app.hostname or ""
        #: The app runs on loopback (a developer's machine): no secret needed.
        self.loopback = is_loopback(host)
        #: Cookies carry ``Secure`` unless the app runs on loopback over plain http.
        self.secure = not (self.loopback and app.scheme == "http")
        self.origin = origin_of(app_url)
        #: The app's host name (``ServerName`` in the Admin calls' ``ContextData``).
        self.server_name = host
        paths = {
            "callback_path": callback_path,
            "login_path": login_path,
            "logout_path": logout_path,
            "form_path": form_path,
        }
        for what, path in paths.items():
            if path is not None and (not isinstance(path, str) or not path.startswith("/")):
                raise ConfigurationError(f"{what} must be a path starting with /")
        if domain is None and form_path is None:
            raise ConfigurationError(
                "give domain= (managed login), form_path= (the sign-in form), or both"
            )
        self.callback_path = callback_path
        #: The callback URL managed login redirects to (register it on the app client).
        self.redirect_uri = self.origin + callback_path
        self.logout_uri = check_url(logout_uri or self.origin + "/", "logout_uri")
        self.allowed_origins = frozenset(
            {self.origin, *(origin_of(check_url(o, "allowed_origins")) for o in allowed_origins)}
        )
        self.login_path, self.logout_path, self.form_path = login_path, logout_path, form_path
        self.after_login = safe_next(after_login, "/")
        self.csrf_exempt = frozenset(csrf_exempt)
        if secret is None:
            if not self.loopback:
                raise ConfigurationError(
                    "ServerSignIn needs a session secret (secret=..., from your configuration: "
                    "at least 32 random bytes); only an app on loopback starts without one"
                )
            secret = secrets.token_bytes(32)
        cookie_secret = secret
        self.scopes = tuple(scopes)
        idle = seconds(idle_timeout, "idle_timeout")
        absolute = seconds(absolute_timeout, "absolute_timeout")
        if absolute < idle:
            raise ConfigurationError("absolute_timeout must not be shorter than idle_timeout")
        self.refresh_margin = float(refresh_margin)
        self.clock = clock
        self.trusted_proxies = TrustedProxies(trusted_proxies)
        if store is None:
            from ...stores import MemoryTokenStore

            store = MemoryTokenStore()
        self.store = store
        prefix = store_prefix or f"acognito/web/{user_pool_id}/{client_id}"
        self.sessions = Sessions(store, idle=idle, absolute=absolute, prefix=prefix, clock=clock)
        #: The app's cookies (signed ids only); their names:
        self.cookies = AppCookies(cookie_secret, secure=self.secure, session_max_age=int(absolute))
        self.session_cookie = self.cookies.session_name
        self.login_cookie = self.cookies.login_name
        self._jwks = JwksCache()
        common: dict[str, Any] = {"jwks_uri": jwks_uri, "issuer": issuer, "jwks_cache": self._jwks}
        self.access_verifier = CognitoVerifier(
            user_pool_id,
            client_id=client_id,
            token_use="access",  # noqa: S106 - a claim value
            **common,
        )
        self.id_verifier = CognitoVerifier(
            user_pool_id,
            client_id=client_id,
            token_use="id",  # noqa: S106 - a claim value
            **common,
        )
        self.bearer = BearerGuard(bearer_verifier or self.access_verifier)
        #: Managed login (None without ``domain``).
        self.managed = (
            ManagedLogin(self, domain, client_secret=client_secret, scopes=scopes)
            if domain is not None
            else None
        )
        #: The user-pool API (the form flow, and refreshing its sessions).
        self.cognito = UserPoolAccess(
            user_pool_id,
            client_id,
            client_secret=client_secret,
            options={"jwks_uri": jwks_uri, "issuer": issuer, **(cognito_options or {})},
        )
        #: The server-rendered sign-in (None without ``form_path``).
        self.form = (
            FormFlow(
                self,
                auth_flow=auth_flow,
                email_otp=email_otp,
                totp_issuer=totp_issuer,
                renderer=form_renderer,
            )
            if form_path is not None
            else None
        )

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], *, default_secret: str | bytes | None = None
    ) -> ServerSignIn:
        """A :class:`ServerSignIn` from configuration keys (Django's ``ACOGNITO_SIGNIN``
        dict, Flask's ``COGNITO_*`` keys without the prefix): ``USER_POOL_ID``,
        ``CLIENT_ID``, ``APP_URL`` (required), ``DOMAIN`` and/or ``FORM_PATH``,
        ``SESSION_SECRET`` (else ``default_secret``: the framework's ``SECRET_KEY``), and
        optionally the other arguments in capitals (``CLIENT_SECRET``, ``LOGOUT_URI``,
        ``STORE``, ``IDLE_TIMEOUT``, ``TRUSTED_PROXIES``, ...)."""
        return cls(**settings_arguments(settings, default_secret))

    async def aclose(self) -> None:
        """Close the HTTP clients (the OAuth2 domain's, the JWKS cache's, the user pool's).

        The ASGI middleware does it at the app's lifespan shutdown; the blocking adapters
        when the sign-in is dropped."""
        for close in self._closers():
            await close()

    def _closers(self) -> tuple[Callable[[], Awaitable[None]], ...]:
        """What :meth:`aclose` awaits, without holding this object."""
        closers: list[Callable[[], Awaitable[None]]] = [self._jwks.aclose, self.cognito.aclose]
        if self.managed is not None:
            closers.append(self.managed.aclose)
        return tuple(closers)

    def __repr__(self) -> str:
        return (
            f"ServerSignIn(user_pool_id={self.user_pool_id!r}, client_id={self.client_id!r}, "
            f"app_url={self.origin!r}, store={self.store!r})"
        )

    # ------------------------------------------------------------------ cookies

    def session_id(self, request: WebRequest) -> str | None:
        """The session id of the request's cookie, if it carries a well-signed one."""
        return self.cookies.session_id(request.cookies)

    # ------------------------------------------------------------------ routing

    def route(self, request: WebRequest) -> str | None:
        """Which sign-in route ``request`` is for (``"login"``, ``"callback"``,
        ``"logout"``, ``"form"``), or None."""
        path, method = request.path, request.method
        if path == self.login_path and method in ("GET", "HEAD"):
            return "login"
        if path == self.callback_path and method in ("GET", "HEAD") and self.managed is not None:
            return "callback"
        if path == self.logout_path:
            return "logout"
        if path == self.form_path and self.form is not None:
            return "form"
        return None

    async def handle(self, request: WebRequest) -> WebAnswer | None:
        """The answer of a sign-in route, or None for any other request."""
        route = self.route(request)
        if route == "login":
            return await self.login(request)
        if route == "callback" and self.managed is not None:
            return await self.managed.callback(request)
        if route == "logout":
            return await self.logout(request)
        if route == "form" and self.form is not None:
            return await self.form.handle(request)
        return None

    def client_ip(self, request: WebRequest) -> str | None:
        """The client's IP address (``X-Forwarded-For`` only from trusted proxies)."""
        return self.trusted_proxies.client_ip(request.peer, request.forwarded_for)

    def user_context(self, request: WebRequest, encoded_data: str | None = None) -> UserContext:
        """The user's context of ``request`` for Cognito's threat protection (its
        client IP, trusted proxies honoured; ``encoded_data`` from Cognito's JavaScript
        collector when the page sent it)."""
        return context_of(request, self.client_ip(request), self.server_name, encoded_data)

    def login_redirect(self, request: WebRequest) -> WebAnswer:
        """For a page that needs a user: GET and HEAD go to the login route (back here
        afterwards), anything else is answered 401."""
        if request.method not in ("GET", "HEAD"):
            return page(401, "Sign-in required", "Sign in to continue.")
        target = request.path + (f"?{request.query_string}" if request.query_string else "")
        return redirect(f"{self.login_path}?{urlencode({'next': target})}")

    # ------------------------------------------------------------------ /login

    async def login(self, request: WebRequest) -> WebAnswer:
        """Send the browser to the managed login (code + PKCE S256, state, nonce); the
        pending sign-in is kept in the store, bound to this browser by a login cookie.
        Without a managed-login domain: to the sign-in form."""
        target = safe_next(request.single("next"), self.after_login)
        if self.managed is None:
            return redirect(f"{self.form_path}?{urlencode({'next': target})}")
        return await self.managed.login(request, target)

    def browser_binding(self, request: WebRequest) -> str | None:
        """The id of the request's login cookie: which browser started a sign-in."""
        return self.cookies.binding(request.cookies)

    def binding_cookie(self, binding: str) -> Cookie:
        """The login cookie for ``binding`` (10 minutes)."""
        return self.cookies.binding_cookie(binding, int(LOGIN_TTL))

    async def start_session(
        self, request: WebRequest, tokens: Record, source: str, target: str
    ) -> WebAnswer:
        """A new session (a new id: no fixation; the request's old one ends) holding
        ``tokens``; the browser goes to ``target`` with its cookie."""
        old = self.session_id(request)
        if old is not None:
            await self.sessions.end(old)
        sid = new_id()
        record = self.sessions.new_record(source=source, csrf=new_id(), **tokens)
        if not await self.sessions.create(sid, record):
            return unavailable()
        return redirect(target, status=303, cookies=[self.cookies.session(sid)])

    # ------------------------------------------------------------------ /logout

    async def logout(self, request: WebRequest) -> WebAnswer:
        """A POST from the app's own page (Origin or Sec-Fetch-Site, and the session's
        CSRF token): the session ends, its refresh token is revoked, and the browser goes
        through the domain's ``/logout`` (which ends the managed-login session) to
        ``logout_uri``. Anything else is answered 403 (405 for other methods)."""
        if request.method != "POST":
            return WebAnswer(405, [("Allow", "POST")], body=b"Method Not Allowed")
        if not _same_origin(request, self.allowed_origins):
            return forbidden()
        sid = self.session_id(request)
        source = "oauth"
        if sid is not None:
            loaded = await self.sessions.load(sid)
            if loaded is UNAVAILABLE:
                return unavailable()
            if isinstance(loaded, Loaded):
                if not self._csrf_ok(request, loaded.record):
                    return forbidden()
                await self.sessions.end(sid)
                await self._revoke(loaded.record)
                source = str(loaded.record.get("source", "oauth"))
        gone = [self.cookies.gone(self.session_cookie)]
        if self.managed is None or source != "oauth":
            return redirect(self.logout_uri, status=303, cookies=gone)
        return redirect(self.managed.logout_location(), status=303, cookies=gone)

    async def _revoke(self, record: Record) -> None:
        token = record.get("refresh_token")
        if not isinstance(token, str) or not token:
            return
        try:
            if record.get("source") == "oauth" and self.managed is not None:
                await self.managed.revoke(token)
            else:
                await self.cognito.revoke(token)
        except CognitoError as exc:  # the session is over here whatever Cognito says
            log.warning("revoking a signed-out session's refresh token failed: %s", exc)

    @staticmethod
    def _csrf_ok(request: WebRequest, record: Record) -> bool:
        given = request.csrf_token
        return bool(given) and constant_time_equal(given or "", str(record.get("csrf", "")))

    # ------------------------------------------------------------------ every request

    async def visit(self, request: WebRequest) -> Visit:
        """Who the request's user is. A bearer token is judged by the token (a bad one
        is refused 401, never passed on to the cookie); otherwise the session cookie.
        A state-changing request judged by the cookie must pass the CSRF check (its
        Origin or Sec-Fetch-Site, and the session's token) or is refused 403. An expired
        access token is refreshed, once for every request and worker that needs it."""
        found = Visit(request, self.trusted_proxies, self.server_name)
        token = bearer_token(request.headers.get("authorization"))
        if token is not None:
            try:
                claims = await self.bearer.verify_token(token)
            except CognitoDenied as denied:
                found.refusal = answer_from(denied.answer)
                return found
            found.user = WebUser(claims, None, "bearer")
            return found
        raw = request.cookies.get(self.session_cookie)
        if raw is None:
            return found
        sid = self.cookies.session_id(request.cookies)
        loaded = None if sid is None else await self.sessions.load(sid)
        if loaded is UNAVAILABLE:
            found.refusal = unavailable()
            return found
        if sid is None or not isinstance(loaded, Loaded):
            found.cookies.append(self.cookies.gone(self.session_cookie))  # tampered or ended
            return found
        checked = request.method not in SAFE_METHODS and request.path not in self.csrf_exempt
        if checked and not (
            _same_origin(request, self.allowed_origins) and self._csrf_ok(request, loaded.record)
        ):
            found.refusal = forbidden()
            return found
        record = loaded.record
        try:
            if not self._usable(record):
                context = found.user_context  # the user's, for a refresh at the user pool

                async def refresh(record: Record) -> Record:
                    return await self._refresh(record, context)

                record = await self.sessions.refreshed(
                    sid, loaded, usable=self._usable, refresh=refresh
                )
            else:
                await self.sessions.touch(sid, loaded)
            claims = CognitoClaims(await self.access_verifier.verify(record["access_token"]))
            id_token = record.get("id_token")
            id_claims = await self.id_verifier.verify(id_token) if id_token else None
        except SessionEnded:
            await self.sessions.end(sid)
            found.cookies.append(self.cookies.gone(self.session_cookie))
            return found
        except TokenVerificationError as exc:
            if classify(exc) == "unavailable":  # a JWKS outage: not the session's fault
                found.refusal = unavailable("Sign-in checks are unavailable; try again.")
                return found
            log.warning("a stored session's token failed verification: %s", type(exc).__name__)
            await self.sessions.end(sid)
            found.cookies.append(self.cookies.gone(self.session_cookie))
            return found
        except CognitoConnectionError:
            found.refusal = unavailable("The sign-in service did not answer; try again.")
            return found
        found.user = WebUser(claims, id_claims, "session")
        found.session = WebSession(
            csrf_token=str(record["csrf"]),
            access_token=str(record["access_token"]),
            id_token=id_token,
            signed_in_at=float(record["created"]),
            expires_at=float(record["expires_at"]),
        )
        return found

    def _usable(self, record: Record) -> bool:
        expires_at = record.get("expires_at")
        return isinstance(expires_at, (int, float)) and (
            expires_at - self.clock() > self.refresh_margin
        )

    async def _refresh(self, record: Record, context: UserContext | None = None) -> Record:
        token = record.get("refresh_token")
        if not isinstance(token, str) or not token:
            raise SessionEnded
        try:
            if record.get("source") == "oauth" and self.managed is not None:
                fresh = await self.managed.refresh(token)
            else:
                username = str(record.get("username") or "")
                fresh = await self.cognito.refresh(token, username, context)
        except (InvalidGrantOAuthError, NotAuthorizedError):
            raise SessionEnded from None  # revoked or expired: signed out
        return {
            **record,
            **fresh,
            "id_token": fresh.get("id_token") or record.get("id_token"),
            "refresh_token": fresh.get("refresh_token") or token,
        }
