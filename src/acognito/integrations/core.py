"""The one path every framework adapter runs, and the one table of answers.

request -> :func:`bearer_token` -> the verifier -> :class:`BearerGuard`'s scope and
group requirements -> :class:`CognitoClaims`, or :class:`CognitoDenied` carrying the
:class:`Answer` to send. :func:`classify` is the only place that maps a
:class:`~acognito.errors.TokenVerificationError` subclass to what a client is told
(RFC 6750):

=====================================  ======  =============================================
case                                   status  ``WWW-Authenticate``
=====================================  ======  =============================================
no bearer token                        401     ``Bearer realm="api"`` (no error code)
bad, expired, forged, wrong-client,    401     ``Bearer realm="api", error="invalid_token"``
wrong token_use
missing scope or group                 403     ``..., error="insufficient_scope", scope="..."``
JWKS outage (fetch failed, not cached) 503     (none)
=====================================  ======  =============================================

Bodies are ``{"detail": "<fixed text>"}``; no answer carries token material, a claim or
an exception's message. Nothing here imports a web framework.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any, Literal, Protocol

from ..errors import (
    ConfigurationError,
    JwksFetchError,
    JwksNotAvailableError,
    JwtExpiredError,
    JwtInvalidGroupError,
    JwtInvalidScopeError,
    TokenVerificationError,
)

__all__ = [
    "Answer",
    "AnswerKind",
    "BearerGuard",
    "CognitoClaims",
    "CognitoDenied",
    "Requirements",
    "TokenVerifier",
    "answer_for",
    "bearer_token",
    "classify",
]

#: Why a request does not pass: no token, a token that is not valid, a valid token
#: without what the route requires, or verification that cannot run (JWKS outage).
AnswerKind = Literal["missing", "invalid", "insufficient", "unavailable"]

_STATUS: dict[AnswerKind, int] = {
    "missing": 401,
    "invalid": 401,
    "insufficient": 403,
    "unavailable": 503,
}
# Fixed texts: what a client reads never depends on the token or the verifier's message.
_EXPIRED = "The bearer token has expired."
_TEXT: dict[AnswerKind, str] = {
    "missing": "Not authenticated.",
    "invalid": "The bearer token is not valid.",
    "insufficient": "The bearer token lacks a scope or group this resource requires.",
    "unavailable": "Token verification is unavailable right now; try again later.",
}
# Characters allowed in a realm or a scope put in a quoted header parameter.
_SAFE = frozenset(chr(c) for c in range(0x21, 0x7F)) - {'"', "\\"}


class TokenVerifier(Protocol):
    """What the adapters need of a verifier: :class:`~acognito.CognitoVerifier`,
    :class:`~acognito.MultiPoolVerifier`, :class:`~acognito.verify.OidcVerifier` and
    :class:`~acognito.verify.AlbVerifier` all fit."""

    def verify(self, token: str) -> Awaitable[dict[str, Any]]: ...

    def verify_sync(self, token: str) -> dict[str, Any]: ...


class CognitoClaims(dict[str, Any]):
    """A verified token's claims: a plain ``dict`` (JSON-ready), with typed views.

    ``claims["username"]`` works as before; :attr:`sub`, :attr:`username`,
    :attr:`scopes`, :attr:`groups`, :attr:`client_id`, :attr:`token_use` read the
    claims Cognito puts in id and access tokens.
    """

    __slots__ = ()

    @property
    def sub(self) -> str:
        """The user's (or, for client credentials, the app client's) stable id."""
        return str(self.get("sub", ""))

    @property
    def username(self) -> str | None:
        """``username`` of an access token, ``cognito:username`` of an id token."""
        name = self.get("username", self.get("cognito:username"))
        return name if isinstance(name, str) else None

    @property
    def token_use(self) -> str | None:
        """``"access"`` or ``"id"`` (``None`` for tokens of other issuers)."""
        use = self.get("token_use")
        return use if isinstance(use, str) else None

    @property
    def client_id(self) -> str | None:
        """The app client: ``client_id`` of an access token, ``aud`` of an id token."""
        client = self.get("client_id")
        if isinstance(client, str):
            return client
        aud = self.get("aud")
        return aud if isinstance(aud, str) else None

    @property
    def scopes(self) -> frozenset[str]:
        """The token's OAuth scopes (the space-separated ``scope`` claim)."""
        scope = self.get("scope")
        return frozenset(scope.split()) if isinstance(scope, str) else frozenset()

    @property
    def groups(self) -> frozenset[str]:
        """The user's groups (``cognito:groups``)."""
        groups = self.get("cognito:groups")
        if not isinstance(groups, list):
            return frozenset()
        return frozenset(g for g in groups if isinstance(g, str))

    @property
    def expires_at(self) -> float | None:
        """``exp``, in epoch seconds."""
        exp = self.get("exp")
        return float(exp) if isinstance(exp, (int, float)) else None

    def __repr__(self) -> str:
        return (
            f"CognitoClaims(sub={self.sub!r}, username={self.username!r}, "
            f"token_use={self.token_use!r}, client_id={self.client_id!r})"
        )


class Answer:
    """What to answer a request that does not pass: status, headers and a JSON body."""

    __slots__ = ("description", "error", "headers", "kind", "status")

    def __init__(
        self,
        kind: AnswerKind,
        status: int,
        error: str | None,
        description: str,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.kind = kind
        self.status = status
        self.error = error
        self.description = description
        self.headers = headers

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Answer):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __hash__(self) -> int:
        return hash((self.kind, self.status, self.error, self.description, self.headers))

    def __repr__(self) -> str:
        return f"Answer(status={self.status}, kind={self.kind!r}, error={self.error!r})"

    @property
    def body(self) -> dict[str, str]:
        """The JSON body: ``{"detail": description}``."""
        return {"detail": self.description}

    def body_bytes(self) -> bytes:
        """:attr:`body` encoded as JSON (UTF-8)."""
        return json.dumps(self.body).encode("utf-8")

    @property
    def www_authenticate(self) -> str | None:
        """The ``WWW-Authenticate`` value, if this answer has one."""
        for name, value in self.headers:
            if name == "WWW-Authenticate":
                return value
        return None


class CognitoDenied(Exception):
    """A request did not pass :class:`BearerGuard`: :attr:`answer` says what to send.

    ``__cause__`` is the :class:`~acognito.errors.TokenVerificationError` (``None`` when
    there was no token); log it server-side, never send it.
    """

    def __init__(self, answer: Answer) -> None:
        super().__init__(f"{answer.status} {answer.kind}")
        self.answer = answer


def classify(error: TokenVerificationError | None) -> AnswerKind:
    """THE mapping from a verification failure to what the client is told."""
    if error is None:
        return "missing"
    if isinstance(error, (JwksFetchError, JwksNotAvailableError)):
        return "unavailable"  # includes JwksFetchPenaltyError: an outage, not a bad token
    if isinstance(error, (JwtInvalidScopeError, JwtInvalidGroupError)):
        return "insufficient"
    return "invalid"


def answer_for(
    error: TokenVerificationError | None, *, realm: str = "api", scope: str | None = None
) -> Answer:
    """The RFC 6750 answer for ``error`` (``None``: the request had no bearer token).

    ``scope`` (space-separated) is put in a 403's ``WWW-Authenticate``.
    """
    kind = classify(error)
    description = _EXPIRED if isinstance(error, JwtExpiredError) else _TEXT[kind]
    status = _STATUS[kind]
    if kind == "unavailable":
        return Answer(kind, status, None, description, (("Cache-Control", "no-store"),))
    params = [f'realm="{realm}"']
    code: str | None = None
    if kind == "invalid":
        code = "invalid_token"
    elif kind == "insufficient":
        code = "insufficient_scope"
    if code is not None:
        params.append(f'error="{code}"')
        params.append(f'error_description="{description}"')
    if kind == "insufficient" and scope:
        params.append(f'scope="{scope}"')
    header = "Bearer " + ", ".join(params)
    return Answer(
        kind,
        status,
        code,
        description,
        (("WWW-Authenticate", header), ("Cache-Control", "no-store")),
    )


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; ``None`` when the header
    is missing or uses another scheme (an empty token is returned as ``""``, so that it
    is refused as invalid rather than taken for a missing one)."""
    if not authorization:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return rest.strip()


def _names(value: str | Iterable[str], what: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str) or not item or not _SAFE.issuperset(item):
            raise ConfigurationError(
                f"each of {what} must be a non-empty string of visible ASCII characters "
                "without quotes or backslashes"
            )
    return items


class Requirements:
    """What a route requires of a verified token: **every** scope of ``scopes`` and, for
    each set of ``groups``, membership in **at least one** of its groups."""

    __slots__ = ("group_sets", "scopes")

    def __init__(
        self, *, scopes: str | Iterable[str] = (), groups: str | Iterable[str] = ()
    ) -> None:
        self.scopes = frozenset(_names(scopes, "scopes"))
        group_names = frozenset(_names(groups, "groups"))
        self.group_sets: tuple[frozenset[str], ...] = (group_names,) if group_names else ()

    def stricter(
        self, *, scopes: str | Iterable[str] = (), groups: str | Iterable[str] = ()
    ) -> Requirements:
        """These requirements plus more (scopes all, each group set any-of)."""
        more = Requirements(scopes=scopes, groups=groups)
        more.scopes = self.scopes | more.scopes
        more.group_sets = self.group_sets + more.group_sets
        return more

    def check(self, claims: Mapping[str, Any], *, scopes: Iterable[str] = ()) -> None:
        """Raise :class:`~acognito.errors.JwtInvalidScopeError` or
        :class:`~acognito.errors.JwtInvalidGroupError` unless ``claims`` meet them
        (``scopes``: more scopes required this once)."""
        required = self.scopes.union(scopes) if scopes else self.scopes
        if required:
            scope = claims.get("scope")
            have = scope.split() if isinstance(scope, str) else ()
            if not required.issubset(have):
                raise JwtInvalidScopeError(
                    "the token lacks a scope the route requires", claim="scope"
                )
        if self.group_sets:
            groups = claims.get("cognito:groups")
            have_groups = groups if isinstance(groups, list) else ()
            for accepted in self.group_sets:
                if accepted.isdisjoint(have_groups):
                    raise JwtInvalidGroupError(
                        "the user is in none of the groups the route accepts",
                        claim="cognito:groups",
                    )

    def answer(
        self,
        error: TokenVerificationError | None,
        *,
        realm: str = "api",
        scopes: Iterable[str] = (),
    ) -> Answer:
        """The answer for ``error`` under these requirements (their scopes in a 403)."""
        scope = None
        if isinstance(error, JwtInvalidScopeError):
            shown = self.scopes.union(s for s in scopes if s and _SAFE.issuperset(s))
            scope = " ".join(sorted(shown)) or None
        return answer_for(error, realm=realm, scope=scope)

    def __repr__(self) -> str:
        groups = [sorted(g) for g in self.group_sets]
        return f"Requirements(scopes={sorted(self.scopes)!r}, groups={groups!r})"


class BearerGuard:
    """The shared core: a verifier plus a route's requirements.

    ``scopes``: the token must carry **every** one of them. ``groups``: the user must be
    in **at least one** of them. :meth:`require` adds requirements (a stricter guard).
    ``realm`` names the protection space in ``WWW-Authenticate``.
    """

    __slots__ = ("realm", "requirements", "verifier")

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        scopes: str | Iterable[str] = (),
        groups: str | Iterable[str] = (),
        realm: str = "api",
    ) -> None:
        if not callable(getattr(verifier, "verify", None)) or not callable(
            getattr(verifier, "verify_sync", None)
        ):
            raise ConfigurationError(
                "verifier must be a CognitoVerifier, MultiPoolVerifier, OidcVerifier or "
                f"AlbVerifier, not {type(verifier).__name__}"
            )
        if not isinstance(realm, str) or not realm or not _SAFE.union(" ").issuperset(realm):
            raise ConfigurationError("realm must be visible ASCII without quotes or backslashes")
        self.verifier = verifier
        self.realm = realm
        self.requirements = Requirements(scopes=scopes, groups=groups)

    @property
    def scopes(self) -> frozenset[str]:
        """Every scope a token must carry."""
        return self.requirements.scopes

    @property
    def groups(self) -> tuple[frozenset[str], ...]:
        """Each set: the user must be in at least one of its groups."""
        return self.requirements.group_sets

    def require(
        self, *, scopes: str | Iterable[str] = (), groups: str | Iterable[str] = ()
    ) -> BearerGuard:
        """A guard with this one's requirements plus these (scopes all, groups any-of)."""
        stricter = BearerGuard(self.verifier, realm=self.realm)
        stricter.requirements = self.requirements.stricter(scopes=scopes, groups=groups)
        return stricter

    # ------------------------------------------------------------------ the path
    # ``scopes`` on these calls: more scopes this one request requires (a framework's
    # per-route declaration, FastAPI's ``Security(..., scopes=[...])``).

    async def authenticate(
        self, authorization: str | None, *, scopes: Iterable[str] = ()
    ) -> CognitoClaims:
        """``Authorization`` header -> claims, or :class:`CognitoDenied`."""
        return await self.verify_token(bearer_token(authorization), scopes=scopes)

    def authenticate_sync(
        self, authorization: str | None, *, scopes: Iterable[str] = ()
    ) -> CognitoClaims:
        """:meth:`authenticate` for blocking code (``verify_sync``: it may fetch the JWKS
        with a blocking request in a thread that runs no event loop)."""
        return self.verify_token_sync(bearer_token(authorization), scopes=scopes)

    async def verify_token(self, token: str | None, *, scopes: Iterable[str] = ()) -> CognitoClaims:
        """A token from anywhere (a header, a cookie) -> claims, or :class:`CognitoDenied`."""
        if token is None:
            raise CognitoDenied(self.answer(None))
        try:
            claims = CognitoClaims(await self.verifier.verify(token))
            self.check(claims, scopes=scopes)
        except TokenVerificationError as exc:
            raise CognitoDenied(self.answer(exc, scopes=scopes)) from exc
        return claims

    def verify_token_sync(self, token: str | None, *, scopes: Iterable[str] = ()) -> CognitoClaims:
        """:meth:`verify_token` for blocking code."""
        if token is None:
            raise CognitoDenied(self.answer(None))
        try:
            claims = CognitoClaims(self.verifier.verify_sync(token))
            self.check(claims, scopes=scopes)
        except TokenVerificationError as exc:
            raise CognitoDenied(self.answer(exc, scopes=scopes)) from exc
        return claims

    def check(self, claims: Mapping[str, Any], *, scopes: Iterable[str] = ()) -> None:
        """:meth:`Requirements.check` of this guard's requirements."""
        self.requirements.check(claims, scopes=scopes)

    def answer(self, error: TokenVerificationError | None, *, scopes: Iterable[str] = ()) -> Answer:
        """The answer for ``error`` under this guard (its realm, its scopes in a 403)."""
        return self.requirements.answer(error, realm=self.realm, scopes=scopes)

    def __repr__(self) -> str:
        return (
            f"BearerGuard(verifier={self.verifier!r}, requirements={self.requirements!r}, "
            f"realm={self.realm!r})"
        )
