"""What went wrong and what to do: every failure as one line, with its exit code.

:func:`explain` turns any exception a command raised into a :class:`Failure`: the
message first, then (for Cognito's refusals) the error code and request id, then one
hint that fits *this* error. :data:`RULES` is the table of message -> hint, read top to
bottom, first match wins; tests/test_cli_errors.py has a test for every row.

Exit codes: 1 when Cognito (or a token check) refused; 2 for usage, configuration and
environment problems (a missing AWS profile or credentials, no keyring), which the
person at the terminal fixes before trying again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import EXIT_FAILED, EXIT_USAGE, CliError

__all__ = ["RULES", "Facts", "Failure", "Rule", "explain"]


@dataclass
class Facts:
    """What the command knew when it failed, for hints that name the next command."""

    command: str = ""
    profile: str = "default"
    username: str | None = None
    endpoint_url: str | None = None
    #: What the person was asked for when Cognito refused the answer ("TOTP code" ...).
    answering: str | None = None

    @property
    def local(self) -> bool:
        """Whether the pool is a local Cognito on this machine."""
        host = urlsplit(self.endpoint_url or "").hostname or ""
        return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")

    @property
    def user(self) -> str:
        return self.username or "USER"


@dataclass
class Failure:
    """One failure, ready to print: ``message [code, request id ...]; hint``."""

    message: str
    exit_code: int = EXIT_FAILED
    code: str | None = None
    request_id: str | None = None
    hint: str | None = None
    error: str = "CliError"  # the exception class
    #: The name of the row of :data:`RULES` that matched (None: the CLI's own error).
    rule: str | None = None

    def line(self) -> str:
        text = self.message.rstrip()
        meta = [m for m in (self.code, self.request_id and f"request id {self.request_id}") if m]
        if meta:
            text += f" [{', '.join(meta)}]"
        if self.hint:
            text += f"; {self.hint}"
        return text

    def document(self) -> dict[str, Any]:
        """The ``--json`` form (on stderr)."""
        return {
            "error": {
                "message": self.message,
                "type": self.error,
                "code": self.code,
                "request_id": self.request_id,
                "hint": self.hint,
                "exit_code": self.exit_code,
            }
        }


Hint = str | Callable[[Facts, BaseException], str | None] | None


@dataclass(frozen=True)
class Rule:
    """One row of the table: which errors it matches, the hint, the exit code."""

    #: Exception class names, anywhere in the error's class hierarchy or its causes.
    errors: tuple[str, ...]
    hint: Hint
    exit_code: int = EXIT_FAILED
    #: Only when the message contains one of these (case-insensitive).
    message: tuple[str, ...] = ()
    #: Only for these Cognito operations (``ConfirmSignUp`` ...).
    operations: tuple[str, ...] = ()
    #: Only while the person was answering this kind of question.
    answering: tuple[str, ...] = ()
    #: A message to show instead of the error's own (for library wording).
    say: Callable[[Facts, BaseException], str] | None = field(default=None, compare=False)
    #: The row's name (tests/test_cli_errors.py has a case for each).
    name: str = ""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for item in _chain(exc) for cls in type(item).__mro__}


def _local_credentials(facts: Facts, exc: BaseException) -> str:
    if facts.local:
        return (
            "the local Cognito takes any credentials: "
            "export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local"
        )
    return "configure them (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID and its secret)"


def _aws_profile(facts: Facts, exc: BaseException) -> str:
    for item in _chain(exc):
        profile = getattr(item, "kwargs", {}).get("profile")
        if profile:
            return f"the AWS profile {profile!r} (AWS_PROFILE) is not in ~/.aws/config"
    return "the AWS profile (AWS_PROFILE) is not in ~/.aws/config"


def _unreachable(facts: Facts, exc: BaseException) -> str:
    if facts.local:
        return (
            "is 'acognito local' still running? It makes a new pool each time: "
            "acognito local --profile NAME saves it"
        )
    return "check --endpoint-url / --domain and the network"


def _log_in_again(facts: Facts, exc: BaseException) -> str:
    return f"sign in again: acognito login --profile {facts.profile}"


def _enable(facts: Facts, exc: BaseException) -> str:
    return f"an administrator can enable the user: acognito admin user enable {facts.user}"


def _password(facts: Facts, exc: BaseException) -> str:
    return f"check the user name and password; forgotten? acognito forgot-password {facts.user}"


_CODE = ("CodeMismatchError",)

#: The message -> hint table (first match wins). Each row is tested.
RULES: tuple[Rule, ...] = (
    # ---- the environment: exit 2
    Rule(
        ("NoKeyringError",),
        "use --client-secret-env VAR instead, or install a keyring backend "
        "(pip install keyrings.alt)",
        EXIT_USAGE,
        say=lambda f, e: f"no system keyring is available ({_first_line(e)})",
        name="no-keyring",
    ),
    Rule(
        ("KeyringError", "KeyringLocked", "InitError"),
        "unlock the keyring, or use --client-secret-env VAR instead",
        EXIT_USAGE,
        say=lambda f, e: f"the keyring failed: {_first_line(e)}",
        name="keyring-failed",
    ),
    Rule(
        ("ProfileNotFound",),
        "check AWS_PROFILE, or list the profiles: aws configure list-profiles",
        EXIT_USAGE,
        say=_aws_profile,
        name="aws-profile",
    ),
    Rule(
        ("NoCredentialsError", "PartialCredentialsError"),
        _local_credentials,
        EXIT_USAGE,
        say=lambda f, e: "admin commands need AWS credentials, and none were found",
        name="no-aws-credentials",
    ),
    Rule(  # the library's own words for botocore's NoCredentialsError
        ("ConfigurationError",),
        _local_credentials,
        EXIT_USAGE,
        message=("needs aws credentials",),
        say=lambda f, e: "admin commands need AWS credentials, and none were found",
        name="no-aws-credentials-library",
    ),
    # ---- refusals of a sign-in
    Rule(("NotAuthorizedError",), _enable, message=("user is disabled",), name="user-disabled"),
    Rule(
        ("NotAuthorizedError",),
        _password,
        message=("incorrect username or password",),
        name="wrong-password",
    ),
    Rule(
        ("NotAuthorizedError", "InvalidGrantOAuthError", "RefreshTokenReuseError"),
        _log_in_again,
        message=("refresh token", "access token", "revoked", "expired"),
        name="sign-in-again",
    ),
    Rule(
        ("NotAuthorizedError",),
        "check the current password (forgotten? acognito logout, then forgot-password)",
        operations=("ChangePassword",),
        name="change-password",
    ),
    Rule(
        _CODE,
        "type the code the authenticator app shows now (and check this machine's clock), "
        "then sign in again",
        answering=("TOTP code",),
        name="totp-code",
    ),
    Rule(
        _CODE,
        "check the code, then sign in again (a refused code ends the sign-in)",
        answering=("SMS code", "email code", "sign-up code"),
        name="sent-code",
    ),
    Rule(
        (*_CODE, "EnableSoftwareTokenMFAError"),
        "type the code the authenticator app shows now (and check this machine's clock)",
        operations=("VerifySoftwareToken",),
        name="totp-setup",
    ),
    Rule(
        (*_CODE, "ExpiredCodeError"),
        lambda f, e: f"check the code, or ask for a new one: acognito resend-code {f.user}",
        operations=("ConfirmSignUp",),
        name="sign-up-code",
    ),
    Rule(
        (*_CODE, "ExpiredCodeError"),
        lambda f, e: f"check the code, or ask for a new one: acognito forgot-password {f.user}",
        operations=("ConfirmForgotPassword",),
        name="reset-code",
    ),
    Rule(("ExpiredCodeError",), "ask for a new code and try again", name="expired-code"),
    Rule(_CODE, "check the code and try again", name="wrong-code"),
    Rule(
        ("UserNotConfirmedError",),
        lambda f, e: (
            f"confirm the sign-up first: acognito confirm-sign-up {f.user} CODE"
            + (" (acognito local inbox shows the code)" if f.local else "")
        ),
        name="not-confirmed",
    ),
    Rule(
        ("PasswordResetRequiredError",),
        lambda f, e: f"reset it: acognito forgot-password {f.user}",
        name="reset-required",
    ),
    Rule(
        ("UserNotFoundError",),
        "check the user name and the pool (acognito status shows the profile's pool)",
        name="user-not-found",
    ),
    Rule(
        ("InvalidPasswordError",),
        "choose a password the pool's policy accepts",
        name="weak-password",
    ),
    Rule(
        ("UsernameExistsError",),
        "pick another user name, or sign in with that one",
        name="username-taken",
    ),
    Rule(
        ("InvalidParameterError",),
        "the user has no passkey: sign in another way, then acognito passkey add",
        message=("web_authn is not an available challenge",),
        name="no-passkey",
    ),
    Rule(
        ("AuthenticatorError",),
        "type the security key's PIN again; the key counts the wrong ones and locks itself",
        message=("refused the pin",),
        name="wrong-pin",
    ),
    Rule(
        ("ResourceNotFoundError",),
        "check the pool id and client id (acognito status shows them)",
        name="pool-not-found",
    ),
    Rule(
        ("TooManyRequestsError", "LimitExceededError"),
        "wait a little and try again",
        name="throttled",
    ),
    Rule(
        ("GroupExistsError",),
        "the group exists already: acognito admin group get NAME",
        name="group-exists",
    ),
    # ---- the OAuth2 domain
    Rule(
        ("InvalidClientOAuthError",),
        "check the app client id and its secret (--client-secret-env)",
        name="oauth-client",
    ),
    Rule(("InvalidGrantOAuthError",), _log_in_again, name="oauth-grant"),
    Rule(
        ("InvalidScopeOAuthError",),
        "ask only for scopes the app client allows (--scopes)",
        name="oauth-scope",
    ),
    Rule(
        ("OAuthStateMismatchError",),
        "a callback that this sign-in did not start; run 'acognito login --hosted-ui' again",
        name="oauth-state",
    ),
    # ---- token checks (verify, whoami)
    Rule(("JwtExpiredError",), "get a fresh token: acognito token", name="token-expired"),
    Rule(
        ("JwksFetchError",),
        "check where the keys come from (--endpoint-url, the JWKS URL option), "
        "or give them with --jwks-file",
        name="jwks",
    ),
    # ---- the network
    Rule(("CognitoConnectionError",), _unreachable, name="unreachable"),
    # ---- configuration the library refused before any call: exit 2
    Rule(("LocalCognitoError",), None, EXIT_USAGE, name="local-extra"),
    Rule(
        ("ConfigurationError",),
        "check the options given (acognito status)",
        EXIT_USAGE,
        name="configuration",
    ),
)

_REQUEST_ID = re.compile(r"\s*\(request id [^)]*\)\s*$")


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _message(exc: BaseException) -> str:
    """The error's own words: a Cognito error's message without code and request id.

    A bare word (some servers answer just the user name) gets the code's meaning in
    front: ``username exists: zoe``.
    """
    description = getattr(exc, "description", None)
    if isinstance(description, str) and isinstance(getattr(exc, "error", None), str):
        return " ".join(description.split()) or str(getattr(exc, "error", ""))
    own = getattr(exc, "message", None)
    code = getattr(exc, "code", None)
    if isinstance(own, str) and isinstance(code, str):
        text = " ".join(own.split())
        if " " not in text:
            meaning = re.sub(r"(?<!^)(?=[A-Z])", " ", code.removesuffix("Exception")).lower()
            return f"{meaning}: {text}" if text else meaning
        return text
    return _REQUEST_ID.sub("", _first_line(exc))


def _matches(rule: Rule, exc: BaseException, names: set[str], facts: Facts) -> bool:
    if not names.intersection(rule.errors):
        return False
    if rule.message:
        text = " ".join(str(item) for item in _chain(exc)).lower()
        if not any(part in text for part in rule.message):
            return False
    if rule.operations and getattr(exc, "operation", None) not in rule.operations:
        return False
    return not rule.answering or facts.answering in rule.answering


def explain(exc: BaseException, facts: Facts | None = None) -> Failure | None:
    """The failure to print for ``exc``; None when it is unexpected (a bug)."""
    facts = facts or Facts()
    if isinstance(exc, CliError):
        return Failure(exc.message, exc.exit_code, hint=exc.hint, error=type(exc).__name__)
    names = _names(exc)
    code = getattr(exc, "code", None)
    failure = Failure(
        _message(exc),
        code=code if isinstance(code, str) and "CognitoError" in names else None,
        request_id=getattr(exc, "request_id", None),
        error=type(exc).__name__,
    )
    if isinstance(getattr(exc, "error", None), str) and "OAuthError" in names:
        failure.code = exc.error  # type: ignore[attr-defined]
    elif "TokenVerificationError" in names:
        failure.code = type(exc).__name__  # which check refused the token
    elif "AuthenticatorError" in names:
        failure.code = str(getattr(exc, "reason", "")) or None  # pin_invalid, no_device ...
    for rule in RULES:
        if _matches(rule, exc, names, facts):
            failure.rule = rule.name
            if rule.say is not None:
                failure.message = rule.say(facts, exc)
                failure.code = failure.request_id = None
            hint = rule.hint(facts, exc) if callable(rule.hint) else rule.hint
            failure.hint = hint
            failure.exit_code = rule.exit_code
            return failure
    if "CognitoError" in names:
        return failure
    return None
