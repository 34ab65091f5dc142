"""A FIDO2 security key (USB or NFC) as a passkey :class:`~acognito.passkeys.Authenticator`.

Built on python-fido2 (the ``fido2`` extra): its client turns Cognito's options into
CTAP requests, handles the PIN exchange and user presence, and gives back the
registration or authentication response, which this module hands over as the JSON
Cognito takes. Import it as ``from acognito.passkeys import Fido2Authenticator``.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from fido2.client import (
    ClientError,
    DefaultClientDataCollector,
    Fido2Client,
    PinRequiredError,
    UserInteraction,
)
from fido2.ctap import CtapDevice, CtapError
from fido2.ctap2.pin import ClientPin
from fido2.webauthn import (
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions,
)

from .errors import AuthenticatorError

__all__ = ["Fido2Authenticator", "find_security_keys"]

_log = logging.getLogger("acognito.passkeys")
#: How long the user has to touch one of several keys plugged in.
_SELECTION_SECONDS = 60.0

PinSource = Callable[[], "str | None"]

_CTAP_REASONS: dict[int, tuple[str, str]] = {
    CtapError.ERR.PIN_INVALID: ("pin_invalid", "the security key refused the PIN"),
    CtapError.ERR.PIN_BLOCKED: (
        "pin_blocked",
        "the security key's PIN is blocked: reset the key (this deletes its passkeys)",
    ),
    CtapError.ERR.PIN_AUTH_BLOCKED: (
        "pin_blocked",
        "too many wrong PINs: unplug the security key and plug it in again",
    ),
    CtapError.ERR.PIN_NOT_SET: ("unsupported", "set a PIN on the security key first"),
    CtapError.ERR.CREDENTIAL_EXCLUDED: (
        "already_registered",
        "this security key already holds a passkey for this user",
    ),
    CtapError.ERR.NO_CREDENTIALS: (
        "no_credentials",
        "this security key holds no passkey for this user and site",
    ),
    CtapError.ERR.OPERATION_DENIED: ("denied", "the request was declined on the security key"),
    CtapError.ERR.KEEPALIVE_CANCEL: ("timeout", "the security key request was cancelled"),
    CtapError.ERR.USER_ACTION_TIMEOUT: ("timeout", "the security key was not touched in time"),
    CtapError.ERR.UNSUPPORTED_ALGORITHM: (
        "unsupported",
        "the security key supports none of the site's algorithms",
    ),
}


def find_security_keys() -> list[CtapDevice]:
    """The FIDO2 keys plugged in: USB (HID) first, then NFC readers when pyscard is there."""
    found: list[CtapDevice] = []
    try:
        from fido2.hid import CtapHidDevice

        found.extend(CtapHidDevice.list_devices())
    except (OSError, ImportError):  # no HID access on this system
        pass
    try:
        from fido2.pcsc import CtapPcscDevice

        found.extend(CtapPcscDevice.list_devices())
    except Exception as exc:  # pyscard absent, or no PC/SC service running
        _log.debug("no NFC readers: %s", type(exc).__name__)
    return found


class _Interaction(UserInteraction):
    """What fido2 asks the user, routed to the callbacks given to the authenticator."""

    def __init__(self, pin: str | PinSource | None, on_touch: Callable[[], None] | None) -> None:
        self._pin = pin
        self._on_touch = on_touch

    def prompt_up(self) -> None:
        if self._on_touch is not None:
            self._on_touch()

    def request_pin(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> str | None:
        return self._pin() if callable(self._pin) else self._pin

    def request_uv(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> bool:
        return True


class Fido2Authenticator:
    """A FIDO2 security key as a passkey authenticator, through python-fido2.

    ``device`` is a fido2 ``CtapDevice`` (default: the key :func:`find_security_keys`
    finds at each call; with several plugged in, the one the user touches first). ``pin``
    is the key's PIN, or a function asked for it only when the key wants one.
    ``on_touch`` is called when the key waits for a touch.
    ``origin`` goes into the client data; by default ``https://<relying party id>``, the
    origin Cognito expects of its managed-login domain or configured relying party.
    Calls block until the key answers: :meth:`AsyncCognito.register_passkey` runs them in
    a worker thread; :meth:`cancel` stops a wait from another thread.
    """

    def __init__(
        self,
        device: CtapDevice | None = None,
        *,
        pin: str | PinSource | None = None,
        on_touch: Callable[[], None] | None = None,
        origin: str | None = None,
    ) -> None:
        self._device = device
        self._interaction = _Interaction(pin, on_touch)
        self._origin = origin
        self._cancel = threading.Event()

    def __repr__(self) -> str:
        device = type(self._device).__name__ if self._device is not None else "first found"
        return f"Fido2Authenticator(device={device})"

    def cancel(self) -> None:
        """Stop the request waiting on the key (it then raises ``reason='timeout'``)."""
        self._cancel.set()

    def _touched(self, keys: list[CtapDevice]) -> CtapDevice:
        """With several keys plugged in, the one the user touches (CTAP selection on each
        at once; the others are then told to stop waiting)."""
        self._interaction.prompt_up()
        won: list[CtapDevice] = []
        lock = threading.Lock()
        stop = self._cancel  # a touch elsewhere, or cancel(), ends every wait

        def wait_for(key: CtapDevice) -> None:
            try:
                Fido2Client(key, DefaultClientDataCollector("https://localhost")).selection(stop)
            except (ClientError, CtapError, OSError):
                return  # cancelled, or a key that cannot be selected
            with lock:
                if not won:
                    won.append(key)
            stop.set()

        waiters = [threading.Thread(target=wait_for, args=(k,), daemon=True) for k in keys]
        for waiter in waiters:
            waiter.start()
        deadline = time.monotonic() + _SELECTION_SECONDS
        for waiter in waiters:
            waiter.join(max(0.0, deadline - time.monotonic()))
        stop.set()  # the keys nobody touched stop waiting
        for waiter in waiters:
            waiter.join(1.0)
        if not won:
            raise AuthenticatorError(
                f"{len(keys)} security keys are plugged in and none was touched",
                reason="timeout",
            )
        stop.clear()  # the request proper may wait on it again
        return won[0]

    def _client(self, rp_id: str) -> Fido2Client:
        device = self._device
        if device is None:
            keys = find_security_keys()
            if not keys:
                hint = (
                    " (on Linux your user also needs access to /dev/hidraw*: install your "
                    "distribution's libfido2 udev rules)"
                    if sys.platform.startswith("linux")
                    else ""
                )
                raise AuthenticatorError(
                    f"no FIDO2 security key found: plug one in and try again{hint}",
                    reason="no_device",
                )
            device = keys[0] if len(keys) == 1 else self._touched(keys)
        origin = self._origin or f"https://{rp_id}"
        try:
            return Fido2Client(device, DefaultClientDataCollector(origin), self._interaction)
        except (CtapError, ClientError, OSError) as exc:
            raise AuthenticatorError(
                f"the security key did not answer ({type(exc).__name__})", reason="other"
            ) from None

    def create(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Make a passkey for Cognito's creation options; the registration response (JSON)."""
        try:
            parsed = PublicKeyCredentialCreationOptions.from_dict(dict(options))
        except (KeyError, TypeError, ValueError):
            raise AuthenticatorError(
                "these are not WebAuthn creation options", reason="bad_options"
            ) from None
        self._cancel.clear()
        client = self._client(parsed.rp.id or "")
        try:
            response = client.make_credential(parsed, event=self._cancel)
        except (ClientError, CtapError) as exc:
            raise _translated(exc) from None
        result = dict(response)
        # A browser reports how the key is reached (getTransports()); Cognito keeps it.
        transports = list(getattr(client.info, "transports", None) or ["usb"])
        inner = result.get("response")
        if isinstance(inner, dict) and "transports" not in inner:
            inner["transports"] = transports
        return result

    def get(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Sign Cognito's request options with a passkey; the authentication response (JSON)."""
        try:
            parsed = PublicKeyCredentialRequestOptions.from_dict(dict(options))
        except (KeyError, TypeError, ValueError):
            raise AuthenticatorError(
                "these are not WebAuthn request options", reason="bad_options"
            ) from None
        self._cancel.clear()
        client = self._client(parsed.rp_id or "")
        try:
            selection = client.get_assertion(parsed, event=self._cancel)
            response = selection.get_response(0)
        except (ClientError, CtapError) as exc:
            raise _translated(exc) from None
        return dict(response)


def _translated(exc: ClientError | CtapError) -> AuthenticatorError:
    """fido2's error as a typed AuthenticatorError with a message saying what to do."""
    if isinstance(exc, PinRequiredError):
        return AuthenticatorError(
            "the security key wants its PIN and none was given", reason="pin_required"
        )
    cause = exc.cause if isinstance(exc, ClientError) else exc
    if isinstance(cause, CtapError) and cause.code in _CTAP_REASONS:
        reason, message = _CTAP_REASONS[cause.code]
        return AuthenticatorError(message, reason=reason)
    if isinstance(exc, ClientError):
        code = exc.code
        if code == ClientError.ERR.TIMEOUT:
            return AuthenticatorError("the security key was not touched in time", reason="timeout")
        if code == ClientError.ERR.DEVICE_INELIGIBLE:
            return AuthenticatorError(
                "this security key cannot answer for this user (already registered, or "
                "holds no passkey for them)",
                reason="already_registered" if cause is None else "no_credentials",
            )
        if code == ClientError.ERR.CONFIGURATION_UNSUPPORTED:
            return AuthenticatorError(
                "the security key cannot verify the user: set a PIN on it", reason="unsupported"
            )
        if code == ClientError.ERR.BAD_REQUEST:
            return AuthenticatorError(
                "the request does not fit this origin or key (relying party, origin or options)",
                reason="bad_options",
            )
        return AuthenticatorError(f"the security key failed ({code.name})", reason="other")
    return AuthenticatorError(f"the security key failed ({exc.code.name})", reason="other")
