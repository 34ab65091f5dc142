"""SRP-6a math for Cognito's USER_SRP_AUTH and DEVICE_SRP_AUTH sign-ins.

Pure and synchronous: no I/O, no state that changes. Each call costs a few
milliseconds of CPU, so callers on an event loop run it in a worker thread
(``acognito._threads.run_cpu``). With the ``fast`` extra (gmpy2) the big-number work
is about ten times faster and releases the GIL, so the event loop keeps running.

Cognito's conventions (those of amazon-cognito-identity-js / Amplify): the 3072-bit
group of RFC 5054 with g = 2; numbers are hashed in their shortest big-endian form
with a leading zero byte when the high bit is set ("padded hex");
k = H(PAD(N) | PAD(g)); x = H(PAD(salt) | H(name + id + ":" + password));
u = H(PAD(A) | PAD(B)); the claim key is HKDF-SHA256(PAD(S), salt=PAD(u),
info="Caldera Derived Key"), 16 bytes; the claim is
base64(HMAC-SHA256(key, name + id + secret_block + timestamp)).

Two implementation notes. ``g^e mod N`` for g = 2 uses a table of
``g^(16^i) mod N`` computed at import (fixed-base exponentiation), about 2.5 times
faster than a plain modular exponentiation, so that re-deriving A from ``small_a``
costs little. The arithmetic backend in use is the private module attribute
``_ARITH`` (``_FAST_ARITH`` with gmpy2, else ``_PURE_ARITH``); tests set it to
``_PURE_ARITH`` to exercise the builtin-``pow`` path. The library never changes it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ._ids import pool_name
from .errors import ConfigurationError, SRPError

try:
    import gmpy2 as _gmpy2
except ImportError:  # pragma: no cover - exercised where the fast extra is absent
    _gmpy2 = None

__all__ = [
    "HAS_GMPY2",
    "calculate_a",
    "cognito_timestamp",
    "device_claim_signature",
    "device_verifier",
    "generate_device_secret",
    "generate_small_a",
    "password_claim_signature",
]

#: True when gmpy2 (the ``fast`` extra) is installed and used for the big-number math.
HAS_GMPY2: bool = _gmpy2 is not None

_N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
_N = int(_N_HEX, 16)
_G = 2


def _pad(value: int) -> bytes:
    """Cognito's padded form of a non-negative integer: big-endian, high bit clear."""
    return value.to_bytes(value.bit_length() // 8 + 1, "big")


_K = int.from_bytes(hashlib.sha256(_pad(_N) + _pad(_G)).digest(), "big")
_INFO = b"Caldera Derived Key\x01"  # HKDF info followed by the first block counter

#: Bits of a fresh secret ``a``: RFC 5054 asks for at least 256, RFC 7919 advises 275+
#: for a 3072-bit group; 512 also matches the size of ``u * x`` in the final exponent.
_A_BITS = 512
#: Exponents up to this many bits use the fixed-base table (``a`` and ``x`` both fit).
_TABLE_BITS = 512
_WINDOW = 4

_HEX = re.compile(r"[0-9a-fA-F]{1,2048}")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, repr=False)
class _Arith:
    """One way to do the modular arithmetic: builtin ints or gmpy2 mpz."""

    name: str
    n: Any  # N in the backend's integer type
    powers: tuple[Any, ...]  # g^(16^i) mod N for the fixed-base table
    powmod: Callable[[Any, Any, Any], Any]
    release_gil: Callable[[], AbstractContextManager[Any]]

    def __repr__(self) -> str:
        return f"<SRP arithmetic {self.name}>"


def _table(powmod: Callable[[Any, Any, Any], Any], g: Any, n: Any) -> tuple[Any, ...]:
    """g^(16^i) mod N for every 4-bit window of a ``_TABLE_BITS``-bit exponent."""
    powers = [g]
    for _ in range(_TABLE_BITS // _WINDOW - 1):
        powers.append(powmod(powers[-1], 1 << _WINDOW, n))
    return tuple(powers)


if _gmpy2 is not None:
    _gmpy2_module = _gmpy2

    def _gmpy2_release_gil() -> AbstractContextManager[Any]:
        # gmpy2 contexts are per thread: this enables GIL release in the thread doing
        # the math, for the duration of the block, and restores the caller's context.
        ctx: AbstractContextManager[Any] = _gmpy2_module.context(
            _gmpy2_module.get_context(), allow_release_gil=True
        )
        return ctx

    _mpz_n = _gmpy2.mpz(_N)
    _mpz_powers = _table(_gmpy2.powmod, _gmpy2.mpz(_G), _mpz_n)
    _FAST_ARITH: _Arith | None = _Arith(
        name="gmpy2",
        n=_mpz_n,
        powers=_mpz_powers,
        powmod=_gmpy2.powmod,
        release_gil=_gmpy2_release_gil,
    )
    _pure_powers: tuple[Any, ...] = tuple(int(p) for p in _mpz_powers)
else:  # pragma: no cover - exercised where the fast extra is absent
    _FAST_ARITH = None
    _pure_powers = _table(pow, _G, _N)

_PURE_ARITH = _Arith(
    name="builtin",
    n=_N,
    powers=_pure_powers,
    powmod=pow,
    release_gil=contextlib.nullcontext,
)

#: The backend the public functions use (tests may set it to ``_PURE_ARITH``).
_ARITH: _Arith = _FAST_ARITH if _FAST_ARITH is not None else _PURE_ARITH


def _g_pow(arith: _Arith, exponent: int) -> Any:
    """g^exponent mod N, by fixed-base exponentiation when the exponent fits the table.

    Brickell-Gordon-McCurley-Wilson: gather the table entries by 4-bit digit, then
    combine them with about (number of digits + 30) modular multiplications.
    """
    if exponent.bit_length() > _TABLE_BITS:
        return arith.powmod(_G, exponent, arith.n)
    n = arith.n
    powers = arith.powers
    by_digit: list[list[Any]] = [[] for _ in range(16)]
    for i, byte in enumerate(exponent.to_bytes(_TABLE_BITS // 8, "little")):
        if byte & 15:
            by_digit[byte & 15].append(powers[2 * i])
        if byte >> 4:
            by_digit[byte >> 4].append(powers[2 * i + 1])
    result: Any = None
    running: Any = None
    for digit in range(15, 0, -1):
        for power in by_digit[digit]:
            running = power if running is None else running * power % n
        if running is not None:
            result = running if result is None else result * running % n
    return 1 if result is None else result


def _parse_hex(value: object, what: str) -> int:
    """A positive hex string from the challenge, as an integer (SRPError when malformed)."""
    if not isinstance(value, str) or _HEX.fullmatch(value) is None:
        raise SRPError(f"{what} in the challenge is not a hex string")
    return int(value, 16)


def _parse_b64(value: object, what: str) -> bytes:
    """A non-empty base64 string from the challenge, decoded (SRPError when malformed).

    Characters outside the base64 alphabet are skipped, as pycognito and
    amazon-cognito-identity-js do: moto sends a UUID as SECRET_BLOCK. Bad padding or
    length, non-ASCII text and an empty result are still refused.
    """
    if not isinstance(value, str):
        raise SRPError(f"{what} in the challenge is not a base64 string")
    try:
        decoded = base64.b64decode(value)
    except (binascii.Error, ValueError):
        raise SRPError(f"{what} in the challenge is not valid base64") from None
    if not decoded:
        raise SRPError(f"{what} in the challenge is empty")
    return decoded


def _u_value(digest: bytes) -> int:
    """u from H(PAD(A) | PAD(B)); RFC 5054 requires aborting when it is zero."""
    u = int.from_bytes(digest, "big")
    if u == 0:
        raise SRPError("SRP safety check failed: u is zero")
    return u


def _x_value(salt: int, identity: str, password: str) -> int:
    """x = H(PAD(salt) | H(identity ":" password)), the private key behind the verifier."""
    inner = hashlib.sha256(f"{identity}:{password}".encode()).digest()
    return int.from_bytes(hashlib.sha256(_pad(salt) + inner).digest(), "big")


def _check_small_a(small_a: int) -> None:
    if small_a < 1:
        raise SRPError("the SRP secret a must be a positive integer")


def _claim_signature(
    arith: _Arith,
    *,
    name: str,
    identity: str,
    password: str,
    small_a: int,
    srp_b: str,
    salt: str,
    secret_block: str,
    timestamp: str,
) -> str:
    """The PASSWORD_CLAIM_SIGNATURE for ``name + identity`` (user or device)."""
    big_b = _parse_hex(srp_b, "SRP_B")
    salt_value = _parse_hex(salt, "SALT")
    block = _parse_b64(secret_block, "SECRET_BLOCK")
    _check_small_a(small_a)
    if big_b % _N == 0:
        raise SRPError("SRP safety check failed: B mod N is zero")
    n = arith.n
    with arith.release_gil():
        big_a = int(_g_pow(arith, small_a))
        u = _u_value(hashlib.sha256(_pad(big_a) + _pad(big_b)).digest())
        x = _x_value(salt_value, name + identity, password)
        base = (big_b - _K * _g_pow(arith, x)) % n
        shared = int(arith.powmod(base, small_a + u * x, n))
    prk = hmac.digest(_pad(u), _pad(shared), "sha256")
    key = hmac.digest(prk, _INFO, "sha256")[:16]
    message = name.encode() + identity.encode() + block + timestamp.encode()
    return base64.b64encode(hmac.digest(key, message, "sha256")).decode("ascii")


def calculate_a(small_a: int) -> int:
    """A = g^a mod N, the public value sent as SRP_A (in hex: ``format(A, "x")``).

    ``small_a`` comes from :func:`generate_small_a` and must stay secret.
    """
    _check_small_a(small_a)
    arith = _ARITH
    with arith.release_gil():
        return int(_g_pow(arith, small_a))


def password_claim_signature(
    *,
    pool_id: str,
    user_id_for_srp: str,
    password: str,
    small_a: int,
    srp_b: str,
    salt: str,
    secret_block: str,
    timestamp: str,
) -> str:
    """PASSWORD_CLAIM_SIGNATURE (base64) answering Cognito's PASSWORD_VERIFIER challenge.

    ``srp_b``, ``salt`` (hex) and ``secret_block`` (base64) are the challenge parameters
    as Cognito sent them; ``timestamp`` comes from :func:`cognito_timestamp` and must be
    sent back unchanged. Raises SRPError when the challenge is malformed or unsafe.
    """
    return _claim_signature(
        _ARITH,
        name=pool_name(pool_id),
        identity=user_id_for_srp,
        password=password,
        small_a=small_a,
        srp_b=srp_b,
        salt=salt,
        secret_block=secret_block,
        timestamp=timestamp,
    )


def device_claim_signature(
    *,
    device_group_key: str,
    device_key: str,
    device_password: str,
    small_a: int,
    srp_b: str,
    salt: str,
    secret_block: str,
    timestamp: str,
) -> str:
    """PASSWORD_CLAIM_SIGNATURE (base64) answering DEVICE_PASSWORD_VERIFIER.

    Same as :func:`password_claim_signature`, the device group key standing for the pool
    name and the device key for the user id.
    """
    return _claim_signature(
        _ARITH,
        name=device_group_key,
        identity=device_key,
        password=device_password,
        small_a=small_a,
        srp_b=srp_b,
        salt=salt,
        secret_block=secret_block,
        timestamp=timestamp,
    )


def device_verifier(
    *, device_group_key: str, device_key: str, device_password: str, salt: bytes
) -> dict[str, str]:
    """DeviceSecretVerifierConfig for ConfirmDevice: ``{"PasswordVerifier", "Salt"}`` in base64.

    Computed as Amplify does: ``salt`` (random bytes, see :func:`generate_device_secret`)
    is taken as a number and padded, v = g^x with x from group key + device key + password.
    """
    if not salt:
        raise ConfigurationError("the device salt must not be empty")
    salt_value = int.from_bytes(salt, "big")
    x = _x_value(salt_value, device_group_key + device_key, device_password)
    arith = _ARITH
    with arith.release_gil():
        verifier = int(_g_pow(arith, x))
    return {
        "PasswordVerifier": base64.b64encode(_pad(verifier)).decode("ascii"),
        "Salt": base64.b64encode(_pad(salt_value)).decode("ascii"),
    }


def cognito_timestamp(dt: datetime) -> str:
    """The TIMESTAMP Cognito expects, e.g. ``"Thu Nov 6 09:05:03 UTC 2026"``.

    English names whatever the locale, day without a leading zero, in UTC. ``dt`` must be
    timezone-aware (it is converted to UTC); a naive datetime raises ConfigurationError.
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ConfigurationError("cognito_timestamp needs a timezone-aware datetime")
    utc = dt.astimezone(timezone.utc)
    return (
        f"{_WEEKDAYS[utc.weekday()]} {_MONTHS[utc.month - 1]} {utc.day} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} UTC {utc.year}"
    )


def generate_small_a() -> int:
    """A fresh secret ``a`` for one SRP exchange: 512 random bits with the top bit set.

    Secret: never log it, never reuse it across sign-ins.
    """
    return secrets.randbits(_A_BITS) | (1 << (_A_BITS - 1))


def generate_device_secret() -> tuple[str, bytes]:
    """A new device password (40 random bytes in base64, as Amplify makes it) and 16 salt bytes.

    Pass both to :func:`device_verifier` for ConfirmDevice; keep the password to sign in
    with the device later.
    """
    return base64.b64encode(secrets.token_bytes(40)).decode("ascii"), secrets.token_bytes(16)
