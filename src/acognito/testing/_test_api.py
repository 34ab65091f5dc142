"""Typed client of the local Cognito's test API (``/_acognito/...`` on its endpoint).

The server runs in another process, so what a test needs to see or steer there (the
codes a user would get by mail or SMS, TOTP secrets, devices, refresh tokens, the
clock) is read over HTTP; the routes are plain JSON, usable from any language.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from acognito.errors import ConfigurationError

__all__ = ["DeviceRecord", "Inbox", "LocalCognitoError", "RequestRecord", "SentCode", "TestApi"]


class LocalCognitoError(ConfigurationError):
    """The local Cognito could not be started or reached, or refused a test API call
    (``status`` is then its HTTP status, and the message names what it refused)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SentCode:
    """A code the local Cognito "sent" to a user (it lands in the inbox only)."""

    pool_id: str
    username: str
    purpose: str
    code: str = field(repr=False)
    destination: str
    at: float
    #: The text the user got: the CustomMessage trigger's when the pool has one.
    message: str | None = field(default=None, repr=False)
    #: The e-mail's subject (None for an SMS).
    subject: str | None = None


@dataclass(frozen=True)
class DeviceRecord:
    """A device as the local Cognito keeps it (no verifier)."""

    device_key: str
    group_key: str
    username: str
    confirmed: bool
    remembered: bool
    name: str | None


class TestApi:
    """Blocking calls to the test API of the local Cognito at ``endpoint_url``."""

    __test__ = False  # not a pytest test class

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")

    def call(
        self, route: str, body: dict[str, Any] | None = None, query: dict[str, str] | None = None
    ) -> Any:
        """GET (or POST ``body`` to) ``/_acognito/<route>?query``; the decoded JSON answer.

        A refusal (an unknown route or key, a bad value) raises :class:`LocalCognitoError`
        with the server's message."""
        url = f"{self.endpoint_url}/_acognito/{route}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        if body is None:
            request = urllib.request.Request(url, method="GET")  # noqa: S310 - our endpoint
        else:
            request = urllib.request.Request(  # noqa: S310 - our endpoint
                url,
                data=json.dumps(body).encode(),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 - loopback
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            with exc:
                try:
                    message = str(json.loads(exc.read()).get("message"))
                except (ValueError, AttributeError):
                    message = f"HTTP {exc.code}"
            raise LocalCognitoError(
                f"the local Cognito's test API refused {route}: {message}", status=exc.code
            ) from None

    def devices(self, pool_id: str, username: str | None = None) -> list[DeviceRecord]:
        """The devices the server knows in ``pool_id`` (of ``username``, pool user name)."""
        query = {"pool_id": pool_id} | ({"username": username} if username else {})
        rows = self.call("devices", query=query)["devices"]
        return [
            DeviceRecord(
                r["device_key"],
                r["group_key"],
                r["username"],
                r["confirmed"],
                r["remembered"],
                r["name"],
            )
            for r in rows
        ]

    def refresh_token_status(self, token: str) -> str:
        """``active``, ``rotated``, ``revoked``, ``expired`` or ``unknown``."""
        status: str = self.call("refresh-token", {"token": token})["status"]
        return status

    def advance_clock(self, seconds: float) -> float:
        """Move the server's clock forward (codes, sessions, refresh tokens); the offset."""
        offset: float = self.call("clock", {"advance": seconds})["offset"]
        return offset

    def set_custom_auth(
        self, pool_id: str, answer: str, parameters: dict[str, str] | None = None
    ) -> None:
        """Stand in for the pool's custom auth triggers: one challenge, this answer."""
        self.call(
            "custom-auth", {"pool_id": pool_id, "answer": answer, "parameters": parameters or {}}
        )

    def set_custom_auth_trigger_url(self, pool_id: str, url: str | None) -> None:
        """Send the pool's auth challenge trigger events to ``url`` (None: no triggers).

        ``LocalCognito.set_custom_auth_triggers`` serves such a URL in the test process."""
        self.call("custom-auth-triggers", {"pool_id": pool_id, "url": url})

    def set_user_mfa(
        self,
        pool_id: str,
        username: str,
        *,
        totp: bool | None = None,
        sms: bool | None = None,
        preferred: str | None = None,
    ) -> None:
        """Turn a user's TOTP / SMS MFA on or off, without the association steps.

        TOTP switched on gives a user without a verified secret a random one of its own
        (read it with :meth:`totp_secret`); switched off, the user's secrets are dropped."""
        body: dict[str, Any] = {"pool_id": pool_id, "username": username}
        for key, value in (("totp", totp), ("sms", sms), ("preferred", preferred)):
            if value is not None:
                body[key] = value
        self.call("user-mfa", body)

    def totp_secret(self, pool_id: str, username: str, *, pending: bool = False) -> str:
        """The user's TOTP secret (base32, for :func:`acognito.testing.totp`): the verified
        one that sign-ins check, or with ``pending=True`` the one AssociateSoftwareToken
        handed out last and VerifySoftwareToken has not confirmed yet.

        ``username`` is the pool user name or a sign-in alias (email, phone); LookupError
        when there is no such user or the user has no such secret."""
        try:
            found = self.call("totp-secret", query={"pool_id": pool_id, "username": username})
        except LocalCognitoError as exc:
            if exc.status == 404:
                raise LookupError(f"no user {username!r} in {pool_id}") from None
            raise
        secret = found["pending" if pending else "secret"]
        if not secret:
            kind = "pending" if pending else "verified"
            raise LookupError(f"{username!r} has no {kind} TOTP secret")
        return str(secret)

    def set_user_status(self, pool_id: str, username: str, status: str) -> None:
        """Put a user in a status (UNCONFIRMED, RESET_REQUIRED, ...) without the flow."""
        self.call("user-mfa", {"pool_id": pool_id, "username": username, "status": status})

    def hold(self, operation: str) -> None:
        """Park every ``operation`` request inside the server until :meth:`release`
        (at most 10 s): a way to test what a client does while a call is in flight."""
        self.call("hold", {"operation": operation})

    def release(self, operation: str) -> None:
        """Let the held ``operation`` requests go on."""
        self.call("release", {"operation": operation})

    def shape_violations(self, since: int = 0) -> list[str]:
        """Answers that broke botocore's model of their operation, from index ``since``
        (only with ``check_shapes`` on)."""
        found: list[str] = self.call("shape-violations", query={"since": str(since)})["violations"]
        return found

    def set_trigger_url(
        self, pool_id: str, trigger: str, url: str | None, *, version: str | None = None
    ) -> None:
        """Send the pool's ``trigger`` (a LambdaConfig name, ``PreSignUp`` ...) events to
        ``url``, a loopback ``http://`` URL (None: no such trigger). ``version`` is
        PreTokenGeneration's (``V1_0``, ``V2_0``, ``V3_0``)."""
        body: dict[str, Any] = {"pool_id": pool_id, "trigger": trigger, "url": url}
        if version is not None:
            body["version"] = version
        self.call("triggers", body)

    def internal_errors(self) -> list[str]:
        """Tracebacks of bugs in the local Cognito's own extensions (empty, we hope)."""
        errors: list[str] = self.call("internal-errors")["errors"]
        return errors

    # ------------------------------------------------------------ the OAuth2 domain

    def oauth_approve(self, client_id: str, username: str | None, *, deny: bool = False) -> None:
        """Non-interactive ``/oauth2/authorize`` for ``client_id``: sign ``username`` in at
        once without the login page, or (``deny=True``) answer ``error=access_denied``."""
        self.call("oauth/approve", {"client_id": client_id, "username": None if deny else username})

    def oauth_interactive(self, client_id: str) -> None:
        """Back to the login page for ``client_id`` (undo :meth:`oauth_approve`)."""
        self.call("oauth/approve", {"client_id": client_id, "interactive": True})

    def oauth_counts(self) -> dict[str, int]:
        """Requests per OAuth2 path (``/oauth2/token`` ...) and per grant
        (``token:client_credentials`` ...) since the last :meth:`oauth_reset`."""
        counts: dict[str, int] = self.call("oauth/stats")["counts"]
        return counts

    def oauth_last_authorize(self) -> dict[str, str]:
        """The query of the last ``/oauth2/authorize`` request."""
        params: dict[str, str] = self.call("oauth/stats")["last_authorize"]
        return params

    def oauth_fail_next(
        self, path: str, status: int, error: str | None = None, *, times: int = 1
    ) -> None:
        """Answer the next ``times`` requests to ``path`` with ``status``: an OAuth error
        body ``{"error": error}``, or a non-JSON text body when ``error`` is None."""
        self.call("oauth/fail", {"path": path, "status": status, "error": error, "times": times})

    def oauth_delay(self, path: str, seconds: float) -> None:
        """Wait ``seconds`` before answering each request to ``path`` (0 to stop)."""
        self.call("oauth/delay", {"path": path, "seconds": seconds})

    def oauth_set_client(
        self, client_id: str, *, secret: str | None = None, new_client_id: str | None = None
    ) -> None:
        """Give an app client a chosen secret or id (Cognito picks both; tests of how a
        client encodes odd credentials need odd ones)."""
        body = {"client_id": client_id, "secret": secret, "new_client_id": new_client_id}
        self.call("oauth/client", body)

    def oauth_reset(self) -> None:
        """Forget OAuth2 counts, injected failures and delays, approvals and codes."""
        self.call("oauth/reset", {})

    def record_requests(self, on: bool = True, *, clear: bool = False) -> None:
        """Log every user-pool request the server answers (off by default: it costs)."""
        self.call("requests", {"record": on, "clear": clear})

    def requests(self, since: int = 0) -> list[RequestRecord]:
        """The logged requests from index ``since`` on (parameters include secrets)."""
        rows = self.call("requests", query={"since": str(since)})["requests"]
        return [RequestRecord(**row) for row in rows]


@dataclass(frozen=True)
class RequestRecord:
    """One user-pool request the server answered (``params`` holds secrets: not in repr)."""

    operation: str
    status: int
    error_code: str | None
    params: dict[str, Any] = field(repr=False, compare=False)


class Inbox:
    """Every code the local Cognito sent by "mail" or "SMS": sign-up, password reset, ..."""

    def __init__(self, api: TestApi) -> None:
        self._api = api

    def codes(
        self, pool_id: str | None = None, username: str | None = None, purpose: str | None = None
    ) -> list[SentCode]:
        """The codes sent so far, oldest first, filtered by pool, pool user name, purpose."""
        query = {
            k: v
            for k, v in (("pool_id", pool_id), ("username", username), ("purpose", purpose))
            if v is not None
        }
        return [SentCode(**row) for row in self._api.call("inbox", query=query)["codes"]]

    def last_code(self, pool_id: str, username: str, purpose: str) -> str:
        """The newest ``purpose`` code sent to ``username`` (its pool user name)."""
        found = self.codes(pool_id, username, purpose)
        if not found:
            raise LookupError(f"no {purpose} code was sent to {username!r}")
        return found[-1].code
