"""Keep secrets out of botocore's DEBUG logs: a filter on its loggers, process-wide.

At DEBUG, botocore logs every request's parameters (``botocore.endpoint``), every
response body (``botocore.parsers``) and the request it signs (``botocore.auth``):
tokens, passwords, SECRET_HASH, SRP values, app-client secrets, a session token. Those
loggers belong to the process, so this filter does too. acognito installs it when it
first builds an aiobotocore client; :func:`redact_botocore_logs` switches it off (or on).

The filter keeps every record (logger, level, the rest of the text) and replaces each
secret value with ``<redacted>``: JSON bodies are parsed and the values of secret
members hidden (:data:`SECRET_MEMBERS`; in the challenge maps every value but a few
names), then the formatted text is scrubbed once more for anything shaped like a JWT
and for ``X-Amz-Security-Token``. A record the filter cannot read is replaced whole.
It costs nothing unless those loggers are enabled for DEBUG.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from typing import Any

__all__ = [
    "LOGGERS",
    "PUBLIC_CHALLENGE_KEYS",
    "REDACTED",
    "SECRET_MAPS",
    "SECRET_MEMBERS",
    "install",
    "redact_botocore_logs",
]

#: What a secret value is replaced with.
REDACTED = "<redacted>"

#: botocore's loggers whose DEBUG records carry request or response data.
LOGGERS = ("botocore.endpoint", "botocore.parsers", "botocore.auth")

#: JSON members whose value is secret wherever they appear, in a request or an answer
#: (cognito-idp and cognito-identity).
SECRET_MEMBERS = frozenset(
    {
        "AccessToken",
        "ClientSecret",
        "ClientSecretValue",
        "ConfirmationCode",
        "FeedbackToken",
        "IdToken",
        "Logins",
        "Password",
        "PasswordVerifier",
        "PreviousPassword",
        "ProposedPassword",
        "RefreshToken",
        "Secret",
        "SecretAccessKey",
        "SecretCode",
        "SecretHash",
        "SecretKey",
        "Session",
        "SessionToken",
        "TemporaryPassword",
        "Token",
        "UserCode",
        "UserContextData",
    }
)

#: Maps of challenge data: every value is hidden but those of :data:`PUBLIC_CHALLENGE_KEYS`
#: (SRP_A, SRP_B, SALT, SECRET_BLOCK, SECRET_HASH, PASSWORD_CLAIM_SIGNATURE, PASSWORD,
#: codes, answers, refresh tokens, and whatever a future challenge adds).
SECRET_MAPS = frozenset({"AuthParameters", "ChallengeParameters", "ChallengeResponses"})

#: The challenge-map entries that stay readable: who signs in and what is asked.
PUBLIC_CHALLENGE_KEYS = frozenset(
    {
        "AVAILABLE_CHALLENGES",
        "CODE_DELIVERY_DELIVERY_MEDIUM",
        "CODE_DELIVERY_DESTINATION",
        "DEVICE_KEY",
        "MFAS_CAN_CHOOSE",
        "MFAS_CAN_SETUP",
        "PREFERRED_CHALLENGE",
        "USERNAME",
        "USER_ID_FOR_SRP",
    }
)

#: HTTP headers whose value is a credential (compared lower-case).
_SECRET_HEADERS = frozenset({"x-amz-security-token"})

#: A JWT (three dot-separated base64url parts) or a JWE (five), as Cognito issues them.
_JWT = re.compile(r"eyJ[\w-]{4,}\.[\w-]*\.[\w-]*(?:\.[\w-]*\.[\w-]*)?")
#: ``X-Amz-Security-Token`` in a header dict's repr or a canonical request line.
_SESSION_TOKEN = re.compile(r"(?i)(x-amz-security-token['\"]?\s*[:=]\s*(?:b?['\"])?)[^'\"\s,}]+")
#: ``"Member": "value"`` for a secret member, in text no JSON parser could read.
_MEMBER_TEXT = re.compile(
    r'("(?:' + "|".join(sorted(SECRET_MEMBERS)) + r')"\s*:\s*)"(?:[^"\\]|\\.)*"'
)
_MAX_DEPTH = 32


def _hide_map(value: object) -> object:
    if not isinstance(value, Mapping):
        return REDACTED
    return {k: (v if k in PUBLIC_CHALLENGE_KEYS else REDACTED) for k, v in value.items()}


def _clean(value: object, depth: int = 0) -> object:
    """``value`` with secret members hidden: dicts, lists and JSON in str or bytes."""
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        cleaned: dict[Any, object] = {}
        for key, item in value.items():
            name = key if isinstance(key, str) else None
            if name in SECRET_MEMBERS or (name and name.lower() in _SECRET_HEADERS):
                cleaned[key] = REDACTED
            elif name in SECRET_MAPS:
                cleaned[key] = _hide_map(item)
            else:
                cleaned[key] = _clean(item, depth + 1)
        return cleaned
    if isinstance(value, (list, tuple)):
        items = [_clean(item, depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, (bytes, bytearray, str)):
        return _clean_json_text(value, depth)
    return value


def _clean_json_text(value: str | bytes | bytearray, depth: int) -> object:
    head = value[:64].lstrip()
    opens = head[:1] in ("{", "[") if isinstance(head, str) else head[:1] in (b"{", b"[")
    if not opens:
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    text = json.dumps(_clean(parsed, depth + 1))
    return text if isinstance(value, str) else text.encode()


def _scrub(text: str) -> str:
    text = _JWT.sub(REDACTED, text)
    text = _SESSION_TOKEN.sub(lambda m: m.group(1) + REDACTED, text)
    return _MEMBER_TEXT.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)


class RedactSecrets(logging.Filter):
    """Rewrites each record of botocore's data loggers with its secret values hidden."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            args = record.args
            if isinstance(args, Mapping):
                record.args = _clean(args)  # type: ignore[assignment]
            elif isinstance(args, tuple):
                record.args = tuple(_clean(arg) for arg in args)
            record.msg = _scrub(record.getMessage())
            record.args = ()
        except Exception:  # a record we cannot read is not let through as it was
            record.msg = f"<a {record.name} record acognito could not redact>"
            record.args = ()
        return True

    def __repr__(self) -> str:
        return "RedactSecrets()"


_FILTER = RedactSecrets()
_LOCK = threading.Lock()
_wanted: bool | None = None  # None: on, the default, once acognito builds a client


def _attach() -> None:
    for name in LOGGERS:
        logging.getLogger(name).addFilter(_FILTER)  # idempotent for one filter object


def _detach() -> None:
    for name in LOGGERS:
        logging.getLogger(name).removeFilter(_FILTER)


def install() -> None:
    """Put the filter on botocore's loggers unless the application switched it off.

    acognito calls this each time it builds (or is handed) an aiobotocore client.
    """
    with _LOCK:
        if _wanted is not False:
            _attach()


def redact_botocore_logs(enabled: bool = True) -> None:
    """Switch the filter that hides secrets in botocore's DEBUG logs on or off.

    On by default: acognito puts it on ``botocore.endpoint``, ``botocore.parsers`` and
    ``botocore.auth`` when it first builds an aiobotocore client, so tokens, passwords,
    SECRET_HASH, SRP values and client secrets never reach a log handler, whatever logs
    at DEBUG. The loggers are process-wide: the switch is too, and it also covers
    botocore clients the application made itself. ``redact_botocore_logs(False)``
    removes it (to read raw request bodies while debugging, on a machine of your own)
    and keeps acognito from putting it back; ``redact_botocore_logs()`` puts it back.
    """
    global _wanted
    with _LOCK:
        _wanted = bool(enabled)
        if _wanted:
            _attach()
        else:
            _detach()
