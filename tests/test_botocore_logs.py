"""No secret reaches a log: botocore's DEBUG records pass acognito's filter.

botocore logs request parameters (``botocore.endpoint``), response bodies
(``botocore.parsers``) and what it signs (``botocore.auth``). The integration test runs
with DEBUG on the root logger through a recording proxy in front of the local Cognito:
every secret that crossed the wire (read from the proxy's copy of each request and
answer) is looked for in every record. With the filter switched off the same capture
does see them, so the check can fail.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest

import acognito
from acognito import AsyncCognito, _botocore_logs
from acognito._botocore_logs import REDACTED, RedactSecrets
from acognito.testing import CognitoAdmin, LocalCognito
from fault_proxy import FaultProxy

#: Members whose values the issue names as secrets (tokens, passwords, client secrets),
#: and the challenge-map entries (SRP values, SECRET_HASH, the password claim).
WIRE_SECRETS = {
    "AccessToken",
    "IdToken",
    "RefreshToken",
    "ClientSecret",
    "Password",
    "TemporaryPassword",
    "PreviousPassword",
    "ProposedPassword",
    "Session",
}
WIRE_CHALLENGE_SECRETS = {
    "SRP_A",
    "SRP_B",
    "SALT",
    "SECRET_BLOCK",
    "SECRET_HASH",
    "PASSWORD_CLAIM_SIGNATURE",
    "PASSWORD_CLAIM_SECRET_BLOCK",
    "PASSWORD",
    "REFRESH_TOKEN",
}
#: What the integration test must have seen on the wire, so that it covers them all.
MUST_COVER = {
    "AccessToken",
    "IdToken",
    "RefreshToken",
    "ClientSecret",
    "Password",
    "TemporaryPassword",
    "PreviousPassword",
    "ProposedPassword",
    "SRP_A",
    "SRP_B",
    "SECRET_HASH",
    "PASSWORD_CLAIM_SIGNATURE",
    "PASSWORD",
    "REFRESH_TOKEN",
}


class WireRecorder(FaultProxy):
    """The fault proxy, keeping a copy of every request and answer body it forwards."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.bodies: list[bytes] = []

    def _note_tokens(self, request: bytes, response: bytes) -> None:
        with self._lock:
            self.bodies += [request, response]
        super()._note_tokens(request, response)

    def secrets(self) -> dict[str, set[str]]:
        """Every secret value that crossed the wire, by the member that carried it."""
        found: dict[str, set[str]] = {}

        def walk(value: Any, in_map: bool = False) -> None:
            if isinstance(value, dict):
                for key, item in value.items():
                    wanted = WIRE_CHALLENGE_SECRETS if in_map else WIRE_SECRETS
                    if key in wanted and isinstance(item, str) and len(item) >= 8:
                        found.setdefault(key, set()).add(item)
                    walk(
                        item, key in ("AuthParameters", "ChallengeParameters", "ChallengeResponses")
                    )
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        with self._lock:
            bodies = list(self.bodies)
        for body in bodies:
            try:
                walk(json.loads(body))
            except ValueError:
                continue
        return found


class Records(logging.Handler):
    """Every record the root logger sees, formatted as a handler would write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.name, self.format(record)))

    def count(self, logger: str) -> int:
        return sum(1 for name, _ in self.lines if name == logger)


@pytest.fixture(scope="module")
def local() -> Iterator[LocalCognito]:
    with LocalCognito() as server:
        yield server


@pytest.fixture
def wire(local: LocalCognito) -> Iterator[WireRecorder]:
    with WireRecorder(local.endpoint_url) as proxy:
        yield proxy


@pytest.fixture
def debug_records() -> Iterator[Records]:
    root = logging.getLogger()
    records, level = Records(), root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(records)
        root.setLevel(level)


@pytest.fixture
def redaction_restored() -> Iterator[None]:
    yield
    acognito.redact_botocore_logs(True)


async def _exercise(endpoint: str, region: str) -> None:
    """Sign-in (SRP and password), refresh, admin create-user, set-password, change
    password and create-app-client, all over ``endpoint``, with a confidential client."""
    async with CognitoAdmin(endpoint, region=region) as admin:
        pool = await admin.create_local_pool()  # CreateUserPoolClient answers a ClientSecret
        await admin.create_user(pool.user_pool_id, "alice", "Alice-Passw0rd!x")
        kwargs = {**pool.cognito_kwargs(secret=True), "endpoint_url": endpoint}
        async with AsyncCognito(username="alice", **kwargs) as cognito:
            await cognito.authenticate("Alice-Passw0rd!x")  # USER_SRP_AUTH
            await cognito.renew_access_token()
            await cognito.authenticate("Alice-Passw0rd!x", auth_flow="USER_PASSWORD_AUTH")
            await cognito.change_password("Alice-Passw0rd!x", "Alice-N3w-Passw0rd!x")
            await cognito.admin_create_user("bob", temporary_password="Bob-Temp-Passw0rd!x")


@pytest.mark.anyio
async def test_no_secret_in_any_record_with_debug_on_the_root_logger(
    local: LocalCognito, wire: WireRecorder, debug_records: Records, anyio_backend: str
) -> None:
    await _exercise(wire.url, local.region)

    secrets = wire.secrets()
    assert set(secrets) >= MUST_COVER, sorted(MUST_COVER - set(secrets))
    assert debug_records.count("botocore.endpoint") >= 10
    assert debug_records.count("botocore.parsers") >= 10
    assert any(REDACTED in line for name, line in debug_records.lines)
    leaks = [
        (member, name)
        for member, values in secrets.items()
        for value in values
        for name, line in debug_records.lines
        if value in line
    ]
    assert leaks == [], f"secrets in the logs (member, logger): {sorted(set(leaks))}"


@pytest.mark.anyio
async def test_switched_off_botocore_logs_its_bodies_as_they_are(
    local: LocalCognito,
    wire: WireRecorder,
    debug_records: Records,
    redaction_restored: None,
    anyio_backend: str,
) -> None:
    """The control: the capture above does see secrets when nothing hides them."""
    acognito.redact_botocore_logs(False)
    await _exercise(wire.url, local.region)
    secrets = wire.secrets()
    leaked = {
        member
        for member, values in secrets.items()
        for value in values
        if any(value in line for _, line in debug_records.lines)
    }
    assert {"AccessToken", "Password", "SRP_A", "SECRET_HASH", "ClientSecret"} <= leaked
    # Switched off, acognito building another client does not put the filter back.
    assert all(_botocore_logs._FILTER not in logging.getLogger(n).filters for n in _LOGGERS)
    acognito.redact_botocore_logs()
    assert all(_botocore_logs._FILTER in logging.getLogger(n).filters for n in _LOGGERS)


_LOGGERS = _botocore_logs.LOGGERS


# ------------------------------------------------------------------ the filter itself


def _record(logger: str, msg: str, *args: Any) -> logging.LogRecord:
    return logging.LogRecord(logger, logging.DEBUG, __file__, 1, msg, args, None)


def _filtered(record: logging.LogRecord) -> str:
    assert RedactSecrets().filter(record) is True
    return record.getMessage()


def test_a_request_dict_keeps_its_shape_and_loses_its_secrets() -> None:
    body = json.dumps(
        {
            "ClientId": "client-1",
            "AuthFlow": "USER_SRP_AUTH",
            "AuthParameters": {"USERNAME": "ann", "SRP_A": "a" * 40, "SECRET_HASH": "h" * 40},
            "ClientMetadata": {"note": "kept"},
        }
    ).encode()
    params = {"url_path": "/", "headers": {"X-Amz-Security-Token": "FQoG" + "t" * 40}, "body": body}
    text = _filtered(
        _record("botocore.endpoint", "Making request for %s with params: %s", "Op", params)
    )
    assert "a" * 40 not in text and "h" * 40 not in text and "t" * 40 not in text
    assert "'url_path': '/'" in text and '"USERNAME": "ann"' in text
    assert '"note": "kept"' in text and "client-1" in text
    assert text.count(REDACTED) == 3


def test_a_password_with_quotes_and_backslashes_is_hidden_whole() -> None:
    password = 'pa"ss\\wo\'rd-with-"quotes"'
    body = json.dumps({"Username": "ann", "Password": password}).encode()
    text = _filtered(_record("botocore.parsers", "Response body:\n%r", body))
    assert "quotes" not in text and "wo" not in text.replace("word", "")
    assert REDACTED in text


def test_challenge_maps_keep_only_the_public_names() -> None:
    body = {
        "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeParameters": {
            "USERNAME": "ann",
            "USER_ID_FOR_SRP": "ann",
            "SRP_B": "b" * 40,
            "SALT": "s" * 20,
            "SECRET_BLOCK": "k" * 40,
            "SOMETHING_NEW": "n" * 20,
        },
        "Session": "x" * 40,
    }
    text = _filtered(_record("botocore.parsers", "Response body:\n%s", json.dumps(body).encode()))
    for secret in ("b" * 40, "s" * 20, "k" * 40, "n" * 20, "x" * 40):
        assert secret not in text
    assert text.count('"ann"') == 2


def test_text_that_is_not_json_is_scrubbed_for_tokens_and_session_tokens() -> None:
    jwt = "eyJraWQiOiJrMSIsImFsZyI6IlJTMjU2In0.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJl"
    canonical = (
        f"POST\n/\nx-amz-security-token:FQoGZXIvYXdzE{'q' * 30}\nx-amz-date:20260101T000000Z"
    )
    text = _filtered(_record("botocore.auth", "CanonicalRequest:\n%s %s", canonical, jwt))
    assert "q" * 30 not in text and jwt not in text
    assert "x-amz-date:20260101T000000Z" in text


def test_a_record_the_filter_cannot_read_is_replaced_whole() -> None:
    record = _record("botocore.endpoint", "two args %s %s", "only one: " + "s" * 30)
    text = _filtered(record)
    assert "s" * 30 not in text
    assert "botocore.endpoint" in text


def test_every_member_botocore_marks_sensitive_is_hidden_or_named_here() -> None:
    """botocore's models mark sensitive shapes; a new one must be looked at. AWS marks
    the client id, user names and attribute values sensitive as personal data: they
    are not secrets, and debug logs keep them readable."""
    personal = {"ClientId", "Username", "Value"}
    handled = _botocore_logs.SECRET_MEMBERS | _botocore_logs.SECRET_MAPS | personal
    session = botocore.session.get_session()
    unhandled = {}
    for service in ("cognito-idp", "cognito-identity"):
        shapes = session.get_service_model(service)._shape_resolver._shape_map

        def sensitive(name: str) -> bool:
            return bool(shapes[name].get("sensitive"))

        for shape in shapes.values():
            for member, spec in shape.get("members", {}).items():
                target = shapes[spec["shape"]]
                inner = [target.get(part, {}).get("shape") for part in ("member", "key", "value")]
                if (
                    sensitive(spec["shape"])
                    or spec.get("sensitive")
                    or any(sensitive(name) for name in inner if name)
                ) and member not in handled:
                    unhandled.setdefault(member, service)
    assert unhandled == {}


def test_acognito_installs_the_filter_when_it_builds_a_client() -> None:
    """Importing acognito does nothing to logging; building (or wrapping) a client does."""
    for name in _LOGGERS:
        logging.getLogger(name).removeFilter(_botocore_logs._FILTER)
    from acognito._idp import IdpClient

    IdpClient(region="us-east-1")  # no client built yet
    assert all(_botocore_logs._FILTER not in logging.getLogger(n).filters for n in _LOGGERS)
    IdpClient.wrap(object())
    assert all(_botocore_logs._FILTER in logging.getLogger(n).filters for n in _LOGGERS)
