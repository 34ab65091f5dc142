"""acognito.srp: vectors against pycognito, proofs by an independent SRP server, safety checks.

pycognito's ``aws_srp`` serves only as a reference oracle here. The real proof is
``acognito.testing._srp_server`` (the local Cognito's checker): a separately written
RFC 5054 server (hex strings, builtin pow, cryptography's HKDF) that must accept the
client's claims and reject wrong ones.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycognito import aws_srp

from acognito import srp
from acognito._threads import run_cpu
from acognito.errors import ConfigurationError, SRPError
from acognito.testing._srp_server import (
    G,
    K,
    N,
    SrpServer,
    device_verifier_from_config,
    user_verifier,
)

pytestmark = pytest.mark.anyio

needs_gmpy2 = pytest.mark.skipif(not srp.HAS_GMPY2, reason="the fast extra (gmpy2) is absent")

POOL_ID = "eu-west-1_Vect0rPool"
POOL_NAME = "Vect0rPool"
FIXED_TIME = dt.datetime(2026, 11, 6, 9, 5, 3, tzinfo=dt.timezone.utc)
TIMESTAMP = "Fri Nov 6 09:05:03 UTC 2026"


def _det_int(label: str, bits: int) -> int:
    """A fixed, reproducible integer of exactly ``bits`` bits derived from a label."""
    out = b""
    counter = 0
    while len(out) * 8 < bits:
        out += hashlib.sha512(f"{label}/{counter}".encode()).digest()
        counter += 1
    return (int.from_bytes(out, "big") >> (len(out) * 8 - bits)) | (1 << (bits - 1))


SMALL_A_512 = _det_int("a-512", 512)  # the size acognito draws: fixed-base table path
SMALL_A_1024 = _det_int("a-1024", 1024)  # pycognito's size: beyond the table, plain powmod
SRP_B = format(pow(G, _det_int("b", 256), N), "x")
SECRET_BLOCK = base64.b64encode(_det_int("block", 8 * 1000).to_bytes(1000, "big")).decode()
# Canonical salts as Cognito sends them: high bit set (00 prefix), plain, odd digit count.
SALTS = ["9f" + "1c" * 15, "3a" + "e4" * 15, "a" + "b7" * 15]

ARITHS = [pytest.param(srp._PURE_ARITH, id="builtin")]
if srp._FAST_ARITH is not None:
    ARITHS.insert(0, pytest.param(srp._FAST_ARITH, id="gmpy2"))


@pytest.fixture(params=ARITHS)
def arith(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> srp._Arith:
    """Run the test on each arithmetic backend through srp's documented private switch."""
    monkeypatch.setattr(srp, "_ARITH", request.param)
    return request.param


@pytest.fixture
def fixed_pycognito_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the reference oracle sign with FIXED_TIME (it reads datetime.utcnow itself)."""

    class FixedDatetime(dt.datetime):
        @classmethod
        def utcnow(cls) -> FixedDatetime:  # type: ignore[override]
            return cls(2026, 11, 6, 9, 5, 3)

    monkeypatch.setattr(aws_srp, "datetime", types.SimpleNamespace(datetime=FixedDatetime))


def _reference(small_a: int, user: str, password: str) -> aws_srp.AWSSRP:
    helper = aws_srp.AWSSRP(user, password, POOL_ID, "client-id", client=object())
    helper.small_a_value = small_a
    helper.large_a_value = helper.calculate_a()
    return helper


def _sign_user(pool_id: str, user: str, password: str, small_a: int, server: SrpServer) -> str:
    return srp.password_claim_signature(
        pool_id=pool_id,
        user_id_for_srp=user,
        password=password,
        small_a=small_a,
        srp_b=server.srp_b,
        salt=server.salt,
        secret_block=SECRET_BLOCK,
        timestamp=TIMESTAMP,
    )


# --------------------------------------------------------------------------- vectors


def test_constants_match_the_reference_and_the_test_server() -> None:
    assert srp._N == N == aws_srp.hex_to_long(aws_srp.N_HEX)
    assert srp._K == K == _reference(SMALL_A_512, "u", "p").val_k


@pytest.mark.parametrize("small_a", [SMALL_A_512, SMALL_A_1024, 1, 2**512 - 1, 2**512])
def test_calculate_a_matches_pycognito(arith: srp._Arith, small_a: int) -> None:
    assert srp.calculate_a(small_a) == _reference(small_a, "u", "p").large_a_value


@pytest.mark.parametrize("small_a", [SMALL_A_512, SMALL_A_1024])
@pytest.mark.parametrize("salt", SALTS)
@pytest.mark.usefixtures("fixed_pycognito_clock")
def test_password_claim_signature_matches_pycognito(
    arith: srp._Arith, small_a: int, salt: str
) -> None:
    user, password = "2f1e6c1a-7a43-4a6e-9d5e-3b1c0f9e8d7c", "Pässw0rd!ünïcode"
    expected = _reference(small_a, user, password).process_challenge(
        {"USER_ID_FOR_SRP": user, "SALT": salt, "SRP_B": SRP_B, "SECRET_BLOCK": SECRET_BLOCK},
        {"USERNAME": user},
    )
    assert expected["TIMESTAMP"] == TIMESTAMP == srp.cognito_timestamp(FIXED_TIME)
    got = srp.password_claim_signature(
        pool_id=POOL_ID,
        user_id_for_srp=user,
        password=password,
        small_a=small_a,
        srp_b=SRP_B,
        salt=salt,
        secret_block=SECRET_BLOCK,
        timestamp=TIMESTAMP,
    )
    assert got == expected["PASSWORD_CLAIM_SIGNATURE"]


@pytest.mark.usefixtures("fixed_pycognito_clock")
def test_uuid_secret_block_as_moto_sends_it_signs_like_pycognito(arith: srp._Arith) -> None:
    """moto's SECRET_BLOCK is a UUID, not base64; like pycognito, skip the dashes."""
    block = "be737caa-468f-4044-94a0-0b42b746a890"
    expected = _reference(SMALL_A_512, "user", "pw").process_challenge(
        {"USER_ID_FOR_SRP": "user", "SALT": SALTS[1], "SRP_B": SRP_B, "SECRET_BLOCK": block},
        {"USERNAME": "user"},
    )
    signature = _sign_with(user_id_for_srp="user", password="pw", salt=SALTS[1], secret_block=block)
    assert signature == expected["PASSWORD_CLAIM_SIGNATURE"]


@pytest.mark.parametrize("small_a", [SMALL_A_512, SMALL_A_1024])
@pytest.mark.usefixtures("fixed_pycognito_clock")
def test_device_claim_signature_matches_pycognito(arith: srp._Arith, small_a: int) -> None:
    group_key, device_key = "-4sTgRoUpKeY", "eu-west-1_6f1d2c3b-aaaa-bbbb-cccc-0123456789ab"
    device_password = base64.b64encode(bytes(range(40))).decode()
    helper = _reference(small_a, "someone", "irrelevant")
    helper.device_group_key, helper.device_key = group_key, device_key
    helper.device_password = device_password
    expected = helper.process_device_challenge(
        {"USERNAME": "someone", "SALT": SALTS[0], "SRP_B": SRP_B, "SECRET_BLOCK": SECRET_BLOCK}
    )
    assert expected["TIMESTAMP"] == TIMESTAMP
    got = srp.device_claim_signature(
        device_group_key=group_key,
        device_key=device_key,
        device_password=device_password,
        small_a=small_a,
        srp_b=SRP_B,
        salt=SALTS[0],
        secret_block=SECRET_BLOCK,
        timestamp=TIMESTAMP,
    )
    assert got == expected["PASSWORD_CLAIM_SIGNATURE"]


@pytest.mark.parametrize(
    "salt",
    [bytes.fromhex("8a" * 16), bytes.fromhex("1b" * 16), b"\x00\x00" + bytes.fromhex("9c" * 14)],
    ids=["high-bit", "plain", "leading-zero-bytes"],
)
def test_device_verifier_matches_pycognito(
    arith: srp._Arith, salt: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    password_bytes = hashlib.sha512(b"device password").digest()[:40]
    fake_os = types.SimpleNamespace(urandom=lambda n: {40: password_bytes, 16: salt}[n])
    monkeypatch.setattr(aws_srp, "os", fake_os)
    group_key, device_key = "-gr0up", "us-east-1_d3v1ce"
    ref_password, ref_config = aws_srp.generate_hash_device(group_key, device_key)
    assert ref_password == base64.b64encode(password_bytes).decode()
    got = srp.device_verifier(
        device_group_key=group_key, device_key=device_key, device_password=ref_password, salt=salt
    )
    assert got == ref_config


# --------------------------------------------------------------------------- server proofs


@settings(max_examples=12, deadline=None)
@given(
    user=st.text(min_size=1, max_size=40),
    password=st.text(min_size=1, max_size=60),
    salt=st.binary(min_size=16, max_size=16),
)
def test_user_claim_verifies_with_the_server(user: str, password: str, salt: bytes) -> None:
    salt_hex, verifier = user_verifier(POOL_ID, user, password, salt=salt)
    server = SrpServer(verifier=verifier, salt_hex=salt_hex)
    small_a = srp.generate_small_a()
    big_a = format(srp.calculate_a(small_a), "x")
    signature = _sign_user(POOL_ID, user, password, small_a, server)
    claim = {
        "srp_a": big_a,
        "first": POOL_NAME,
        "second": user,
        "secret_block": SECRET_BLOCK,
        "timestamp": TIMESTAMP,
        "signature": signature,
    }
    assert server.verify_claim(**claim)
    wrong = _sign_user(POOL_ID, user, password + "x", small_a, server)
    assert not server.verify_claim(**{**claim, "signature": wrong})


def test_user_claim_on_both_backends_and_every_tamper_fails(arith: srp._Arith) -> None:
    user, password = "a1b2c3d4-user", secrets.token_urlsafe(20)
    salt_hex, verifier = user_verifier(POOL_ID, user, password)
    server = SrpServer(verifier=verifier, salt_hex=salt_hex)
    small_a = srp.generate_small_a()
    claim = {
        "srp_a": format(srp.calculate_a(small_a), "x"),
        "first": POOL_NAME,
        "second": user,
        "secret_block": SECRET_BLOCK,
        "timestamp": TIMESTAMP,
        "signature": _sign_user(POOL_ID, user, password, small_a, server),
    }
    assert server.verify_claim(**claim)
    other_block = base64.b64encode(b"another secret block").decode()
    for tampered in (
        {"timestamp": "Fri Nov 6 09:05:04 UTC 2026"},
        {"secret_block": other_block},
        {"second": user + "2"},
        {"first": "OtherPool"},
        {"srp_a": format(srp.calculate_a(small_a + 1), "x")},
    ):
        assert not server.verify_claim(**{**claim, **tampered}), tampered
    # Wrong password, wrong pool: the client signs, the server says no.
    for pool_id, pw in ((POOL_ID, password + "!"), ("eu-west-1_OtherPool", password)):
        signature = _sign_user(pool_id, user, pw, small_a, server)
        assert not server.verify_claim(**{**claim, "signature": signature})


def test_device_claim_verifies_with_the_server(arith: srp._Arith) -> None:
    group_key, device_key = "-" + secrets.token_urlsafe(6), "eu-west-1_" + secrets.token_hex(16)
    device_password, salt = srp.generate_device_secret()
    config = srp.device_verifier(
        device_group_key=group_key,
        device_key=device_key,
        device_password=device_password,
        salt=salt,
    )
    salt_hex, verifier = device_verifier_from_config(config)
    server = SrpServer(verifier=verifier, salt_hex=salt_hex)
    small_a = srp.generate_small_a()

    def sign(password: str, block: str = SECRET_BLOCK) -> str:
        return srp.device_claim_signature(
            device_group_key=group_key,
            device_key=device_key,
            device_password=password,
            small_a=small_a,
            srp_b=server.srp_b,
            salt=server.salt,
            secret_block=block,
            timestamp=TIMESTAMP,
        )

    claim = {
        "srp_a": format(srp.calculate_a(small_a), "x"),
        "first": group_key,
        "second": device_key,
        "secret_block": SECRET_BLOCK,
        "timestamp": TIMESTAMP,
        "signature": sign(device_password),
    }
    assert server.verify_claim(**claim)
    assert not server.verify_claim(**{**claim, "signature": sign(device_password[:-2] + "AA")})
    assert not server.verify_claim(**{**claim, "timestamp": "Fri Nov 6 09:05:03 UTC 2027"})
    other_block = base64.b64encode(b"tampered").decode()
    assert not server.verify_claim(**{**claim, "secret_block": other_block})
    assert not server.verify_claim(**{**claim, "second": device_key + "0"})


def test_server_rejects_degenerate_and_malformed_claims() -> None:
    salt_hex, verifier = user_verifier(POOL_ID, "u", "p")
    server = SrpServer(verifier=verifier, salt_hex=salt_hex)
    small_a = srp.generate_small_a()
    claim = {
        "srp_a": format(srp.calculate_a(small_a), "x"),
        "first": POOL_NAME,
        "second": "u",
        "secret_block": SECRET_BLOCK,
        "timestamp": TIMESTAMP,
        "signature": _sign_user(POOL_ID, "u", "p", small_a, server),
    }
    assert server.verify_claim(**claim)
    for bad in (
        {"srp_a": "0"},
        {"srp_a": format(N, "x")},
        {"srp_a": format(2 * N, "x")},
        {"srp_a": "xyz"},
        {"srp_a": ""},
        {"secret_block": "%%%"},
        {"signature": "not base64!"},
    ):
        assert server.verify_claim(**{**claim, **bad}) is False, bad


# --------------------------------------------------------------------------- safety checks


def _sign_with(**overrides: object) -> str:
    params: dict[str, object] = {
        "pool_id": POOL_ID,
        "user_id_for_srp": "user",
        "password": "hunter2-do-not-leak",
        "small_a": SMALL_A_512,
        "srp_b": SRP_B,
        "salt": SALTS[0],
        "secret_block": SECRET_BLOCK,
        "timestamp": TIMESTAMP,
    }
    params.update(overrides)
    return srp.password_claim_signature(**params)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "srp_b", ["0", "00", format(N, "x"), format(N * K, "x"), format(7 * N, "x")]
)
def test_b_zero_mod_n_is_refused(arith: srp._Arith, srp_b: str) -> None:
    with pytest.raises(SRPError, match="B mod N"):
        _sign_with(srp_b=srp_b)
    with pytest.raises(SRPError, match="B mod N"):
        srp.device_claim_signature(
            device_group_key="-g",
            device_key="k",
            device_password="p",
            small_a=SMALL_A_512,
            srp_b=srp_b,
            salt=SALTS[0],
            secret_block=SECRET_BLOCK,
            timestamp=TIMESTAMP,
        )


def test_u_zero_is_refused() -> None:
    """u = H(PAD(A) | PAD(B)) == 0 needs a SHA-256 preimage of zero, so the public API cannot
    reach it; the signature path derives u through ``_u_value``, which is tested directly."""
    with pytest.raises(SRPError, match="u is zero"):
        srp._u_value(bytes(32))
    assert srp._u_value(bytes(31) + b"\x01") == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("srp_b", "xyz"),
        ("srp_b", ""),
        ("srp_b", "0x1f"),
        ("srp_b", " 1f"),
        ("srp_b", "1_f"),
        ("srp_b", "-1f"),
        ("srp_b", "ab\n"),
        ("srp_b", "f" * 2049),
        ("srp_b", None),
        ("salt", "zz"),
        ("salt", ""),
        ("salt", "12 34"),
        ("salt", 1234),
        ("secret_block", "not base64!"),
        ("secret_block", "%%%"),
        ("secret_block", "abc"),
        ("secret_block", ""),
        ("secret_block", "é"),
        ("secret_block", b"AAAA"),
        ("small_a", 0),
        ("small_a", -5),
    ],
)
def test_malformed_challenge_raises_srp_error_only(field: str, value: object) -> None:
    with pytest.raises(SRPError) as info:
        _sign_with(**{field: value})
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(info.value)
    assert not isinstance(info.value, ValueError)


def test_bad_configuration_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        _sign_with(pool_id="no-underscore")
    with pytest.raises(ConfigurationError):
        _sign_with(pool_id="eu-west-1_")
    with pytest.raises(ConfigurationError):
        srp.device_verifier(device_group_key="g", device_key="k", device_password="p", salt=b"")
    with pytest.raises(SRPError):
        srp.calculate_a(0)


# --------------------------------------------------------------------------- timestamps


def test_timestamp_single_digit_day_and_padding() -> None:
    assert srp.cognito_timestamp(FIXED_TIME) == TIMESTAMP
    stamp = dt.datetime(2027, 2, 1, 0, 0, 0, tzinfo=dt.timezone.utc)
    assert srp.cognito_timestamp(stamp) == "Mon Feb 1 00:00:00 UTC 2027"
    stamp = dt.datetime(2027, 12, 25, 23, 59, 59, 999999, tzinfo=dt.timezone.utc)
    assert srp.cognito_timestamp(stamp) == "Sat Dec 25 23:59:59 UTC 2027"


def test_timestamp_converts_to_utc_and_rejects_naive() -> None:
    plus_five = dt.timezone(dt.timedelta(hours=5))
    stamp = dt.datetime(2026, 1, 1, 1, 30, 0, tzinfo=plus_five)
    assert srp.cognito_timestamp(stamp) == "Wed Dec 31 20:30:00 UTC 2025"
    with pytest.raises(ConfigurationError):
        srp.cognito_timestamp(dt.datetime(2026, 1, 1, 1, 30, 0))


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(9999, 12, 30)))
def test_timestamp_agrees_with_pycognito(naive_utc: dt.datetime) -> None:
    expected = aws_srp.AWSSRP.get_cognito_formatted_timestamp(naive_utc)
    assert srp.cognito_timestamp(naive_utc.replace(tzinfo=dt.timezone.utc)) == expected


def test_timestamp_uses_no_locale_dependent_formatting(monkeypatch: pytest.MonkeyPatch) -> None:
    """strftime, format specs and ctime are the locale-dependent routes: make them all fail."""

    class NoLocale(dt.datetime):
        def strftime(self, fmt: str) -> str:
            raise AssertionError("strftime is locale dependent")

        def __format__(self, spec: str) -> str:
            raise AssertionError("format specs go through strftime")

        def ctime(self) -> str:
            raise AssertionError("ctime")

    def no_strftime(*args: object) -> str:
        raise AssertionError("time.strftime is locale dependent")

    monkeypatch.setattr(time, "strftime", no_strftime)
    stamp = NoLocale(2026, 3, 3, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=-2)))
    assert srp.cognito_timestamp(stamp) == "Tue Mar 3 09:08:09 UTC 2026"


def test_timestamp_is_english_under_a_german_locale(tmp_path: Path) -> None:
    """Build a de_DE locale with localedef (no root needed) and format in a subprocess."""
    localedef = shutil.which("localedef")
    if localedef is None or not Path("/usr/share/i18n/locales/de_DE").exists():
        pytest.skip("localedef or the de_DE locale source is not available on this machine")
    subprocess.run(
        [localedef, "-i", "de_DE", "-f", "UTF-8", str(tmp_path / "de_DE.UTF-8")],
        check=True,
        capture_output=True,
    )
    code = (
        "import datetime as dt, locale\n"
        "from acognito.srp import cognito_timestamp\n"
        "locale.setlocale(locale.LC_ALL, '')\n"
        "d = dt.datetime(2026, 3, 3, 9, 8, 7, tzinfo=dt.timezone.utc)\n"
        "print(d.strftime('%a %b'))\n"
        "print(cognito_timestamp(d))\n"
    )
    env = {**os.environ, "LOCPATH": str(tmp_path), "LC_ALL": "de_DE.UTF-8"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert out[0] == "Di Mär"  # the locale really is German in the subprocess
    assert out[1] == "Tue Mar 3 09:08:07 UTC 2026"


# --------------------------------------------------------------------------- backends, randomness


def test_fast_path_is_used_when_gmpy2_is_installed() -> None:
    assert srp.HAS_GMPY2 is (importlib.util.find_spec("gmpy2") is not None)
    expected = srp._FAST_ARITH if srp.HAS_GMPY2 else srp._PURE_ARITH
    assert srp._ARITH is expected
    assert "secret" not in repr(srp._ARITH)


@needs_gmpy2
def test_gmpy2_and_builtin_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    assert srp._FAST_ARITH is not None
    for exponent in [
        0,
        1,
        15,
        16,
        2**512 - 1,
        2**512,
        *(secrets.randbits(b) for b in (8, 256, 512)),
    ]:
        fast = srp._g_pow(srp._FAST_ARITH, exponent)
        pure = srp._g_pow(srp._PURE_ARITH, exponent)
        assert int(fast) == pure == pow(2, exponent, N)
    results = []
    inputs = {
        "user": secrets.token_hex(8),
        "password": secrets.token_urlsafe(12),
        "small_a": srp.generate_small_a(),
        "salt": secrets.token_bytes(16),
        "b": format(secrets.randbelow(N - 2) + 2, "x"),
    }
    for backend in (srp._FAST_ARITH, srp._PURE_ARITH):
        monkeypatch.setattr(srp, "_ARITH", backend)
        results.append(
            (
                srp.calculate_a(inputs["small_a"]),
                _sign_with(
                    user_id_for_srp=inputs["user"],
                    password=inputs["password"],
                    small_a=inputs["small_a"],
                    srp_b=inputs["b"],
                    salt=inputs["salt"].hex(),
                ),
                srp.device_verifier(
                    device_group_key="-g",
                    device_key=inputs["user"],
                    device_password=inputs["password"],
                    salt=inputs["salt"],
                ),
            )
        )
    assert results[0] == results[1]


def test_small_a_is_large_and_fresh() -> None:
    values = {srp.generate_small_a() for _ in range(64)}
    assert len(values) == 64
    assert all(value.bit_length() >= 256 for value in values)
    assert all(1 < srp.calculate_a(value) < N for value in list(values)[:4])


def test_device_secret_is_fresh_and_shaped_like_amplify() -> None:
    secrets_seen = {srp.generate_device_secret() for _ in range(16)}
    assert len({password for password, _ in secrets_seen}) == 16
    assert len({salt for _, salt in secrets_seen}) == 16
    for password, salt in secrets_seen:
        assert len(base64.b64decode(password, validate=True)) == 40
        assert len(salt) == 16


# --------------------------------------------------------------------------- off the event loop


def _worst_gap_while(func: Callable[..., object], *args: object) -> float:
    """Worst interval between 1 ms sleeps of this thread while another runs ``func`` twice.

    The worker waits for the first sleep to begin, so that its work overlaps the probe
    (a thread that starts computing at once can hold the GIL before the probe starts).
    """
    go = threading.Event()

    def work() -> None:
        go.wait()
        func(*args)
        func(*args)

    worker = threading.Thread(target=work)
    worker.start()
    go.set()
    worst = 0.0
    while worker.is_alive():
        started = time.perf_counter()
        time.sleep(0.001)
        worst = max(worst, time.perf_counter() - started)
    worker.join(60)
    assert not worker.is_alive()
    return worst


@needs_gmpy2
def test_gmpy2_math_releases_the_gil_in_the_worker_thread() -> None:
    import gmpy2

    huge = secrets.randbits(80_000) | (1 << 79_999)  # beyond the table: one long powmod
    # Control: a plain gmpy2 powmod holds the GIL, which this probe must notice...
    held = _worst_gap_while(gmpy2.powmod, 2, huge, gmpy2.mpz(N))
    # ...while srp's call, in the same kind of thread, lets this thread run.
    released = _worst_gap_while(srp.calculate_a, huge)
    assert held > 0.12, f"the probe cannot see a held GIL ({held * 1e3:.1f} ms)"
    assert released < 0.07, f"GIL held during srp math ({released * 1e3:.1f} ms)"
    assert not gmpy2.get_context().allow_release_gil  # the caller's context is untouched


@needs_gmpy2
async def test_run_cpu_sign_ins_keep_the_loop_ticking() -> None:
    """20 concurrent sign-ins plus one long exponentiation through run_cpu: every claim
    verifies and the loop's 1 ms ticker never stalls for long.

    Each sign-in powmod lasts under 2 ms, less than CPython's 5 ms GIL switch interval, so
    sign-ins alone stall the loop about as much whether or not the GIL is released (4-13 ms
    measured on a 2-core box). The long exponentiation (~300 ms) is what makes the bound
    meaningful: a backend holding the GIL would stall the loop for all of it."""
    servers = []
    for i in range(20):
        salt_hex, verifier = user_verifier(POOL_ID, f"user{i}", f"pw{i}")
        servers.append(SrpServer(verifier=verifier, salt_hex=salt_hex))
    huge = secrets.randbits(120_000) | (1 << 119_999)

    def sign_in(i: int) -> tuple[str, str]:
        small_a = srp.generate_small_a()
        big_a = format(srp.calculate_a(small_a), "x")
        return big_a, _sign_user(POOL_ID, f"user{i}", f"pw{i}", small_a, servers[i])

    results: dict[int, tuple[str, str]] = {}
    worst = 0.0
    ticks = 0
    done = anyio.Event()

    async def ticker() -> None:
        nonlocal worst, ticks
        while not done.is_set():
            started = time.perf_counter()
            await anyio.sleep(0.001)
            worst = max(worst, time.perf_counter() - started)
            ticks += 1

    async def one(i: int) -> None:
        results[i] = await run_cpu(sign_in, i)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as outer:
            outer.start_soon(ticker)
            async with anyio.create_task_group() as work:
                work.start_soon(run_cpu, srp.calculate_a, huge)
                for i in range(20):
                    work.start_soon(one, i)
            done.set()

    for i, (big_a, signature) in results.items():
        assert servers[i].verify_claim(
            srp_a=big_a,
            first=POOL_NAME,
            second=f"user{i}",
            secret_block=SECRET_BLOCK,
            timestamp=TIMESTAMP,
            signature=signature,
        )
    assert len(results) == 20
    assert ticks > 10
    assert worst < 0.12, f"event loop stalled {worst * 1e3:.1f} ms"


def test_arith_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        srp._ARITH.powmod = pow  # type: ignore[misc]
