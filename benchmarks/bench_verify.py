"""Token verification, side by side: the raw floor, acognito, joserfc, pycognito.

Run: ``python benchmarks/bench_verify.py [--tokens N] [--rounds R]``. Every method
verifies the same N distinct RS256 access tokens per round, interleaved with the
others in chunks of 100 in random order; the median per-token time over all chunks
is reported, with ratios. Then: a repeat
of an already verified token (the verified-token cache), and 1,000 concurrent
``verify()`` calls on a cold JWKS cache against a loopback JWKS test server.

Targets: acognito verify_sync <= 1.3x the floor and >= 3x faster than pycognito;
a cached repeat <= 2 us; exactly one JWKS request for the 1,000 cold calls.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import threading
import time
import warnings
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

from acognito.jwks import JwksCache
from acognito.testing import TokenIssuer
from acognito.verify import CognitoVerifier

CLIENT_ID = "bench-client"


# --------------------------------------------------------------------------- raw floor


def make_floor(issuer: TokenIssuer) -> Callable[[str], dict[str, Any]]:
    """cryptography's RSA verify + base64 + json + the same claim checks, nothing else."""
    jwk = issuer.jwk()

    def b64(seg: str) -> bytes:
        return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))

    keys = {
        jwk["kid"]: RSAPublicNumbers(
            int.from_bytes(b64(jwk["e"]), "big"), int.from_bytes(b64(jwk["n"]), "big")
        ).public_key()
    }
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    iss = issuer.issuer

    def floor(token: str) -> dict[str, Any]:
        head, body, sig = token.split(".")
        header = json.loads(b64(head))
        if header.get("alg") != "RS256":
            raise ValueError("alg")
        key = keys[header["kid"]]
        payload = json.loads(b64(body))
        if not isinstance(payload, dict):
            raise ValueError("payload")
        key.verify(b64(sig), f"{head}.{body}".encode(), pkcs1, sha256)
        now = time.time()
        exp = payload.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool) or now >= exp:
            raise ValueError("exp")
        nbf = payload.get("nbf")
        if nbf is not None and nbf > now:
            raise ValueError("nbf")
        if payload.get("iss") != iss:
            raise ValueError("iss")
        if payload.get("token_use") != "access":
            raise ValueError("token_use")
        if payload.get("client_id") != CLIENT_ID:
            raise ValueError("client_id")
        return payload

    return floor


# --------------------------------------------------------------------------- peers


def make_joserfc(issuer: TokenIssuer) -> Callable[[str], dict[str, Any]]:
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    key = RSAKey.import_key(issuer.jwk())
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer.issuer},
        exp={"essential": True},
        token_use={"essential": True, "value": "access"},
        client_id={"essential": True, "value": CLIENT_ID},
    )

    def joserfc_verify(token: str) -> dict[str, Any]:
        decoded = jwt.decode(token, key, algorithms=["RS256"])
        registry.validate(decoded.claims)
        return decoded.claims

    return joserfc_verify


def make_pycognito(issuer: TokenIssuer) -> Callable[[str], dict[str, Any]]:
    """pycognito.Cognito with its JWKS filled in, so verify_token does no network I/O."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pycognito import Cognito

    cognito = Cognito(
        issuer.user_pool_id,
        CLIENT_ID,
        user_pool_region=issuer.region,
        access_key="bench",
        secret_key="bench",  # noqa: S106
    )
    cognito.pool_jwk = issuer.jwks()
    # pycognito checks iss against its user_pool_url: the AWS form TokenIssuer uses.
    assert cognito.user_pool_url == issuer.issuer

    def pycognito_verify(token: str) -> dict[str, Any]:
        return cognito.verify_token(token, "access_token", "access")  # type: ignore[no-any-return]

    return pycognito_verify


# --------------------------------------------------------------------------- measuring


def per_token_us(func: Callable[[str], Any], tokens: list[str]) -> float:
    start = time.perf_counter()
    for token in tokens:
        func(token)
    return (time.perf_counter() - start) / len(tokens) * 1e6


def repeat_us(func: Callable[[str], Any], token: str, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        func(token)
    return (time.perf_counter() - start) / number * 1e6


class _JwksHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server: JwksBenchServer = self.server  # type: ignore[assignment]
        with server.lock:
            server.requests += 1
        time.sleep(server.delay)
        body = json.dumps(server.jwks).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class JwksBenchServer(ThreadingHTTPServer):
    """A loopback JWKS test server that counts the requests it answers."""

    daemon_threads = True

    def __init__(self, jwks: dict[str, Any], delay: float = 0.05) -> None:
        super().__init__(("127.0.0.1", 0), _JwksHandler)
        self.jwks = jwks
        self.delay = delay
        self.requests = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/pool/.well-known/jwks.json"


async def cold_concurrent(issuer: TokenIssuer, tokens: list[str], server: JwksBenchServer) -> float:
    async with JwksCache() as cache:
        verifier = CognitoVerifier(
            issuer.user_pool_id,
            client_id=CLIENT_ID,
            token_use="access",
            jwks_uri=server.url,
            jwks_cache=cache,
        )
        start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for token in tokens:
                tg.start_soon(verifier.verify, token)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1000, help="distinct tokens per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.2f} (other work skews the numbers)")
    issuer = TokenIssuer("us-east-1_BenchPool")
    print(f"minting {args.tokens} distinct access tokens ...", flush=True)
    tokens = [
        issuer.access_token(client_id=CLIENT_ID, username=f"u{i}") for i in range(args.tokens)
    ]

    def acognito(cache_size: int) -> Callable[[str], dict[str, Any]]:
        verifier = CognitoVerifier(
            issuer.user_pool_id,
            client_id=CLIENT_ID,
            token_use="access",
            jwks=issuer.jwks(),
            cache_size=cache_size,
        )

        def verify(token: str) -> dict[str, Any]:
            return verifier.verify_sync(token)

        # Distinct tokens: with the default cache every call is a miss that also
        # stores the result; clear it per round so each round starts alike.
        verify.clear = verifier.clear_cache  # type: ignore[attr-defined]
        return verify

    methods: dict[str, Callable[[str], Any]] = {
        "raw floor": make_floor(issuer),
        "acognito verify_sync": acognito(1024),
        "acognito, cache off": acognito(0),
        "joserfc decode+registry": make_joserfc(issuer),
        "pycognito verify_token": make_pycognito(issuer),
    }
    for func in methods.values():  # warm up and prove every method accepts the tokens
        for token in tokens[:50]:
            func(token)

    # Interleave in chunks of 100 tokens, in a fresh random order each time, so that
    # other load on the machine hits every method alike; median over all chunks.
    samples: dict[str, list[float]] = {name: [] for name in methods}
    order = list(methods)
    chunks = [tokens[i : i + 100] for i in range(0, len(tokens), 100)]
    for _ in range(args.rounds):
        for func in methods.values():
            if hasattr(func, "clear"):
                func.clear()
        for chunk in chunks:
            random.shuffle(order)
            for name in order:
                samples[name].append(per_token_us(methods[name], chunk))
    medians = {name: statistics.median(values) for name, values in samples.items()}

    cached = CognitoVerifier(
        issuer.user_pool_id, client_id=CLIENT_ID, token_use="access", jwks=issuer.jwks()
    )
    cached.verify_sync(tokens[0])
    hit = statistics.median(repeat_us(cached.verify_sync, tokens[0], 20000) for _ in range(7))

    best = {name: min(values) for name, values in samples.items()}
    floor = medians["raw floor"]
    print(
        f"\nper-token times: {args.rounds} rounds of {args.tokens} distinct tokens, "
        "interleaved in chunks of 100 (median and best chunk)"
    )
    print(f"{'method':<28}{'median us':>10}{'x floor':>9}{'best us':>9}{'x floor':>9}")
    for name, value in medians.items():
        print(
            f"{name:<28}{value:>10.1f}{value / floor:>9.2f}"
            f"{best[name]:>9.1f}{best[name] / best['raw floor']:>9.2f}"
        )
    print(f"{'acognito cached repeat':<28}{hit:>10.2f}{hit / floor:>9.3f}")

    ours = medians["acognito verify_sync"]
    pyc = medians["pycognito verify_token"]
    print("\nratios")
    print(f"  acognito / floor       = {ours / floor:.2f}x  (target <= 1.30x)")
    print(f"  pycognito / acognito   = {pyc / ours:.2f}x  (target >= 3x)")
    print(f"  joserfc / acognito     = {medians['joserfc decode+registry'] / ours:.2f}x")
    print(f"  cached repeat          = {hit:.2f} us  (target <= 2 us)")

    cold_tokens = tokens[:1000]
    server = JwksBenchServer(issuer.jwks())
    server.thread.start()
    try:
        elapsed = anyio.run(cold_concurrent, issuer, cold_tokens, server)
    finally:
        server.shutdown()
        server.server_close()
    print(
        f"\n{len(cold_tokens)} concurrent verify() on a cold JWKS cache: {elapsed * 1000:.0f} ms"
        f" in all, {server.requests} JWKS request(s) (target: exactly 1)"
    )
    checks = {
        "verify_sync <= 1.3x floor": ours / floor <= 1.3,
        ">= 3x faster than pycognito": pyc / ours >= 3,
        "cached repeat <= 2 us": hit <= 2.0,
        "one JWKS request": server.requests == 1,
    }
    print("\ntargets: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in checks.items()))


if __name__ == "__main__":
    main()
