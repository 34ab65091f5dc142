"""The one record of a sign-in waiting on the user: :class:`PendingSignIn`, plain data.

A web server keeps it between requests (in a store, on any worker) and continues the
sign-in on another session: ``record.to_dict()`` / ``to_json()`` and back with
:meth:`PendingSignIn.from_dict` / :meth:`PendingSignIn.from_json`, then
``cognito.resume_sign_in(record)`` and ``confirm_sign_in(answer)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .. import steps as _steps
from ..errors import ConfigurationError
from ..steps import CodeDelivery, SignInStep
from ._machine import Challenge, CustomAnswer

__all__ = ["FORMAT_VERSION", "PendingSignIn"]

#: The ``version`` written by :meth:`PendingSignIn.to_dict`; other versions are refused.
FORMAT_VERSION = 1

_STEP_TYPES: dict[str, type[SignInStep]] = {
    name: obj
    for name in _steps.__all__
    if isinstance(obj := getattr(_steps, name), type)
    and issubclass(obj, SignInStep)
    and obj is not SignInStep
}
#: How each field of a step is written: one kind per field name, across all steps.
_STEP_FIELDS = {
    "code_delivery": "delivery",
    "parameters": "texts",
    "user_attributes": "texts",
    "credential_request_options": "json",
    "required_attributes": "names",
    "allowed": "names",
    "available": "names",
    "secret": "text",
    "account_name": "text",
    "issuer": "text",
    "username": "text",
}
_TEXT_FIELDS = ("username", "pool_username", "challenge", "session", "auth_flow")
_OPTIONAL_TEXT_FIELDS = ("preferred", "factor", "totp_issuer")


def _bad(what: str) -> ConfigurationError:
    return ConfigurationError(f"not a pending sign-in record: {what}")


@dataclass(frozen=True, repr=False)
class PendingSignIn:
    """Everything needed to continue a sign-in that waits on the user, as plain data.

    It holds the name the user typed (``username``), the pool's own name for the rest
    (``pool_username``), Cognito's challenge (``challenge``, ``parameters``) and its
    opaque ``session``, the typed ``step`` to answer, and how the sign-in was started
    (``auth_flow``, ``preferred``, ``client_metadata``, ``totp_issuer``), to start it
    again after a sign-up code or a password reset. ``step`` is None for a sign-in
    started by ``authenticate()`` (the pycognito face, which raises instead).

    The ``session`` is a bearer secret for a few minutes, and a TOTP set-up step holds
    the new TOTP key: keep a record where you would keep tokens (never in a cookie).
    ``password`` and ``custom_answer`` live in memory only: :meth:`to_dict` never writes
    them, so a record read back without the password asks for it
    (:class:`~acognito.steps.ConfirmSignInWithPassword`) if a restart needs it.
    """

    username: str
    step: SignInStep | None = None
    challenge: str | None = None
    session: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    pool_username: str | None = None
    admin: bool = False
    auth_flow: str = "USER_SRP_AUTH"
    preferred: str | None = None
    factor: str | None = None
    client_metadata: Mapping[str, str] | None = None
    totp_issuer: str | None = None
    password: str | None = field(default=None, compare=False)
    custom_answer: CustomAnswer | None = field(default=None, compare=False)

    @classmethod
    def from_challenge(cls, challenge: Challenge, start: PendingSignIn) -> PendingSignIn:
        """The record for ``challenge``, in a sign-in started as ``start`` says."""
        return replace(
            start,
            step=None,
            challenge=challenge.name,
            session=challenge.session,
            parameters=dict(challenge.parameters),
            pool_username=challenge.username or start.username,
            admin=challenge.admin,
            factor=None,
        )

    @property
    def answer_as(self) -> str:
        """The user name the next answer carries (the pool's own, once known)."""
        return self.pool_username or self.username

    # ------------------------------------------------------------------ plain data

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (no password, no callback)."""
        return {
            "version": FORMAT_VERSION,
            "username": self.username,
            "pool_username": self.pool_username,
            "challenge": self.challenge,
            "session": self.session,
            "parameters": dict(self.parameters),
            "admin": self.admin,
            "auth_flow": self.auth_flow,
            "preferred": self.preferred,
            "factor": self.factor,
            "client_metadata": dict(self.client_metadata) if self.client_metadata else None,
            "totp_issuer": self.totp_issuer,
            "step": None if self.step is None else _step_to_dict(self.step),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as compact JSON text."""
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingSignIn:
        """A record from :meth:`to_dict`'s data; anything else raises
        :class:`~acognito.errors.ConfigurationError`."""
        if not isinstance(data, Mapping):
            raise _bad("not a mapping")
        if data.get("version") != FORMAT_VERSION:
            raise _bad(f"version {data.get('version')!r}, expected {FORMAT_VERSION}")
        known = {f.name for f in fields(cls)} - {"password", "custom_answer"} | {"version"}
        unknown = set(data) - known
        if unknown:
            raise _bad(f"unknown keys {sorted(unknown)}")
        values: dict[str, Any] = {}
        for name in (*_TEXT_FIELDS, *_OPTIONAL_TEXT_FIELDS):
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise _bad(f"{name} must be text")
            if value is not None:
                values[name] = value
        if not values.get("username"):
            raise _bad("username is required")
        if not isinstance(data.get("admin", False), bool):
            raise _bad("admin must be true or false")
        values["admin"] = data.get("admin", False)
        values["parameters"] = _texts(data.get("parameters") or {}, "parameters")
        metadata = data.get("client_metadata")
        values["client_metadata"] = None if metadata is None else _texts(metadata, "metadata")
        step = data.get("step")
        values["step"] = None if step is None else _step_from_dict(step)
        return cls(**values)

    @classmethod
    def from_json(cls, text: str | bytes) -> PendingSignIn:
        """A record from :meth:`to_json`'s text."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError):
            raise _bad("not JSON") from None
        return cls.from_dict(data)

    def __repr__(self) -> str:
        step = None if self.step is None else type(self.step).__name__
        return (
            f"PendingSignIn(username={self.username!r}, challenge={self.challenge!r}, step={step})"
        )


# ----------------------------------------------------------------------------- steps


def _step_to_dict(step: SignInStep) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type(step).__name__}
    for f in fields(step):
        value = getattr(step, f.name)
        if isinstance(value, CodeDelivery):
            value = {k: v for k, v in asdict(value).items() if v is not None}
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        data[f.name] = value
    return data


def _step_from_dict(data: Any) -> SignInStep:
    if not isinstance(data, Mapping):
        raise _bad("step is not a mapping")
    cls = _STEP_TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise _bad(f"unknown step type {data.get('type')!r}")
    names = {f.name for f in fields(cls)}
    unknown = set(data) - names - {"type"}
    if unknown:
        raise _bad(f"unknown step keys {sorted(unknown)}")
    kwargs: dict[str, Any] = {}
    for name in names & set(data):
        kwargs[name] = _step_value(_STEP_FIELDS.get(name, ""), data[name], name)
    return cls(**kwargs)


def _step_value(kind: str, value: Any, name: str) -> Any:
    if kind == "text":
        if not isinstance(value, str):
            raise _bad(f"step {name} must be text")
        return value
    if kind == "names":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad(f"step {name} must be a list of names")
        return tuple(value)
    if kind == "texts":
        return _texts(value, f"step {name}")
    if kind == "json":
        if not isinstance(value, Mapping):
            raise _bad(f"step {name} must be an object")
        return dict(value)
    if kind == "delivery":
        if value is None:
            return None
        delivery = _texts(value, f"step {name}")
        if set(delivery) - {"medium", "destination", "attribute"}:
            raise _bad(f"step {name} has unknown keys")
        return CodeDelivery(**delivery)
    raise _bad(f"unknown step field {name!r}")


def _texts(value: Any, what: str) -> dict[str, str]:
    """A mapping of text to text (None values dropped), or a :class:`ConfigurationError`."""
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()
    ):
        raise _bad(f"{what} must map text to text")
    return {k: v for k, v in value.items() if v is not None}
