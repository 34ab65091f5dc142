"""Verify Cognito tokens with acognito, offline.

A throw-away key (acognito.testing.TokenIssuer) mints tokens shaped like Cognito's,
and a small HTTP server on 127.0.0.1 stands in for the pool's
``/.well-known/jwks.json``. Swap both for your pool id and nothing else changes.

    python examples/verify_tokens.py            # asyncio
    python examples/verify_tokens.py --trio     # the same on trio
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio

from acognito.errors import JwtExpiredError, JwtInvalidGroupError, TokenVerificationError
from acognito.jwks import JwksCache
from acognito.testing import TokenIssuer
from acognito.verify import CognitoVerifier, at_hash

POOL_ID = "eu-west-1_Example1"
CLIENT_ID = "example-app-client"


def serve_jwks(jwks: dict[str, Any]) -> tuple[ThreadingHTTPServer, str]:
    """A loopback JWKS server (what Cognito serves at {issuer}/.well-known/jwks.json)."""
    body = json.dumps(jwks).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    return server, f"http://127.0.0.1:{port}/{POOL_ID}/.well-known/jwks.json"


async def main() -> None:
    issuer = TokenIssuer(POOL_ID)  # iss = https://cognito-idp.eu-west-1.amazonaws.com/<pool>
    server, jwks_uri = serve_jwks(issuer.jwks())
    try:
        # One JWKS cache for the id and the access verifier: the JWKS is fetched once.
        async with JwksCache() as cache:
            access_verifier = CognitoVerifier(
                POOL_ID,
                client_id=CLIENT_ID,
                token_use="access",
                jwks_uri=jwks_uri,  # omit it for a real pool: derived from the issuer
                jwks_cache=cache,
            )
            id_verifier = CognitoVerifier(
                POOL_ID, client_id=CLIENT_ID, token_use="id", jwks_uri=jwks_uri, jwks_cache=cache
            )

            access = issuer.access_token(client_id=CLIENT_ID, username="alice", groups=["staff"])
            claims = await access_verifier.verify(access)  # fetches the JWKS, then verifies
            print("access token of", claims["username"], "groups", claims["cognito:groups"])
            assert claims["username"] == "alice"
            assert claims["cognito:groups"] == ["staff"]

            # An id token bound to its access token through at_hash.
            id_token = issuer.id_token(
                client_id=CLIENT_ID, username="alice", at_hash=at_hash(access)
            )
            claims = id_verifier.verify_sync(id_token, access_token=access)  # cached JWKS, no I/O
            print("id token of", claims["cognito:username"])
            assert claims["token_use"] == "id"
            assert claims["cognito:username"] == "alice"

            expired = issuer.access_token(client_id=CLIENT_ID, lifetime=-60)
            try:
                await access_verifier.verify(expired)
            except JwtExpiredError as exc:
                print("rejected:", type(exc).__name__, "-", exc)
            else:
                raise SystemExit("an expired token was accepted")

            head, _, sig = access.split(".")
            forged = f"{head}.{issuer.id_token(client_id=CLIENT_ID).split('.')[1]}.{sig}"
            try:
                await access_verifier.verify(forged)
            except TokenVerificationError as exc:
                print("rejected:", type(exc).__name__, "-", exc)
            else:
                raise SystemExit("a forged token was accepted")

        # Only members of a group, plus a rule of your own (raise to reject).
        def not_a_robot(claims: dict[str, Any]) -> None:
            if claims["username"].startswith("bot-"):
                raise PermissionError("robots are not welcome")

        admins_only = CognitoVerifier(
            POOL_ID,
            client_id=CLIENT_ID,
            token_use="access",
            jwks=issuer.jwks(),  # keys given up front: nothing is ever fetched
            groups=["admins"],
            custom_check=not_a_robot,
        )
        try:
            admins_only.verify_sync(access)
        except JwtInvalidGroupError as exc:
            print("rejected:", type(exc).__name__, "-", exc)
        else:
            raise SystemExit("a token outside the admins group was accepted")

        # Several pools behind one verifier, routed by the token's iss.
        other = TokenIssuer("us-east-1_Partner1")
        both = CognitoVerifier.for_pools(
            [
                {
                    "user_pool_id": POOL_ID,
                    "client_id": CLIENT_ID,
                    "token_use": "access",
                    "jwks": issuer.jwks(),
                },
                {
                    "user_pool_id": other.user_pool_id,
                    "client_id": "partner-app",
                    "token_use": "access",
                    "jwks": other.jwks(),
                },
            ]
        )
        partner = both.verify_sync(other.access_token(client_id="partner-app"))
        print("partner pool token from", partner["iss"])
        assert partner["iss"] == other.issuer
        assert partner["client_id"] == "partner-app"
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    anyio.run(main, backend="trio" if "--trio" in sys.argv else "asyncio")
