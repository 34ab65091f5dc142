"""SRP sign-in math: acognito vs pycognito vs the raw gmpy2 limit, side by side.

Run: ``python benchmarks/bench_srp_math.py [rounds]``. Every round draws a fresh random
input (secret a, user, password, salt, B, secret block) and times each contender on it,
in a shuffled order, with the thread's CPU clock; medians are printed with the ratios.

* raw gmpy2 limit: the three modular exponentiations alone (g^a, g^x,
  (B - k*g^x)^(a + u*x)), with u and x computed outside the clock;
* acognito: ``calculate_a`` + ``password_claim_signature`` (all the client does per sign-in);
* acognito pure: the same on the builtin-``pow`` path (no gmpy2);
* acognito a=1024: the same with a 1024-bit secret, pycognito's size, for a like-for-like ratio;
* pycognito: ``AWSSRP(...)`` (draws its own a and computes A) +
  ``get_password_authentication_key`` + the claim HMAC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone

import gmpy2
from pycognito import aws_srp

from acognito import srp

N = int(aws_srp.N_HEX, 16)
K = int(aws_srp.hex_hash("00" + aws_srp.N_HEX + "0" + aws_srp.G_HEX), 16)
MPZ_N = gmpy2.mpz(N)
POOL_ID = "eu-west-1_BenchPool1"
TIMESTAMP = srp.cognito_timestamp(datetime(2026, 11, 6, 9, 5, 3, tzinfo=timezone.utc))


def pad(value: int) -> bytes:
    return value.to_bytes(value.bit_length() // 8 + 1, "big")


class Case:
    """One random sign-in input."""

    def __init__(self) -> None:
        self.small_a = srp.generate_small_a()
        self.a1024 = secrets.randbits(1024) | (1 << 1023)
        self.big_a = pow(2, self.small_a, N)
        self.user = "user-" + secrets.token_hex(6)
        self.password = secrets.token_urlsafe(16)
        self.salt_int = secrets.randbits(128) | (1 << 120)
        self.salt = format(self.salt_int, "x")
        self.big_b = secrets.randbelow(N - 2) + 2
        self.srp_b = format(self.big_b, "x")
        self.block = base64.b64encode(secrets.token_bytes(1024)).decode()
        inner = hashlib.sha256(f"BenchPool1{self.user}:{self.password}".encode()).digest()
        self.x = int.from_bytes(hashlib.sha256(pad(self.salt_int) + inner).digest(), "big")
        self.u = int.from_bytes(hashlib.sha256(pad(self.big_a) + pad(self.big_b)).digest(), "big")


def raw_limit(case: Case) -> None:
    with gmpy2.context(gmpy2.get_context(), allow_release_gil=True):
        gmpy2.powmod(2, case.small_a, MPZ_N)
        gx = gmpy2.powmod(2, case.x, MPZ_N)
        gmpy2.powmod((case.big_b - K * gx) % MPZ_N, case.small_a + case.u * case.x, MPZ_N)


def acognito_sign_in(case: Case, small_a: int | None = None) -> str:
    a = case.small_a if small_a is None else small_a
    format(srp.calculate_a(a), "x")
    return srp.password_claim_signature(
        pool_id=POOL_ID,
        user_id_for_srp=case.user,
        password=case.password,
        small_a=a,
        srp_b=case.srp_b,
        salt=case.salt,
        secret_block=case.block,
        timestamp=TIMESTAMP,
    )


def acognito_pure(case: Case) -> str:
    fast = srp._ARITH
    srp._ARITH = srp._PURE_ARITH
    try:
        return acognito_sign_in(case)
    finally:
        srp._ARITH = fast


def acognito_1024(case: Case) -> str:
    return acognito_sign_in(case, small_a=case.a1024)


def pycognito_sign_in(case: Case) -> str:
    helper = aws_srp.AWSSRP(case.user, case.password, POOL_ID, "client", client=object())
    format(helper.large_a_value, "x")
    key = helper.get_password_authentication_key(
        case.user, case.password, aws_srp.hex_to_long(case.srp_b), case.salt
    )
    message = (
        b"BenchPool1"
        + case.user.encode()
        + base64.standard_b64decode(case.block)
        + TIMESTAMP.encode()
    )
    return base64.standard_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    assert srp.HAS_GMPY2, "the benchmark compares against gmpy2: install the fast extra"
    contenders: dict[str, Callable[[Case], object]] = {
        "raw gmpy2 limit (3 powmods)": raw_limit,
        "acognito (gmpy2)": acognito_sign_in,
        "acognito pure Python": acognito_pure,
        "acognito a=1024 bits": acognito_1024,
        "pycognito AWSSRP": pycognito_sign_in,
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    # Sanity: both acognito paths agree on one input before timing anything.
    probe = Case()
    assert acognito_sign_in(probe) == acognito_pure(probe)
    order = list(contenders)
    started = time.perf_counter()
    for _ in range(rounds):
        case = Case()
        random.shuffle(order)
        for name in order:
            t0 = time.thread_time()
            contenders[name](case)
            times[name].append(time.thread_time() - t0)
    wall = time.perf_counter() - started

    med = {name: statistics.median(values) * 1e3 for name, values in times.items()}
    print(f"SRP sign-in client CPU, median of {rounds} rounds (distinct random inputs), ms")
    print(f"gmpy2 {gmpy2.version()}, Python {sys.version.split()[0]}, secret a of 512 bits")
    for name, value in med.items():
        print(f"  {name:<30} {value:8.3f}")
    raw = med["raw gmpy2 limit (3 powmods)"]
    ours = med["acognito (gmpy2)"]
    theirs = med["pycognito AWSSRP"]
    same_size = med["acognito a=1024 bits"]
    print("ratios")
    print(f"  acognito / raw limit            {ours / raw:6.2f}x   (target <= 1.3x)")
    print(f"  pycognito / acognito            {theirs / ours:6.2f}x   (target >= 6x)")
    print(f"  pycognito / acognito a=1024     {theirs / same_size:6.2f}x   (same secret size)")
    print(f"  acognito pure / acognito gmpy2  {med['acognito pure Python'] / ours:6.2f}x")
    print(f"(wall time {wall:.1f} s)")


if __name__ == "__main__":
    main()
