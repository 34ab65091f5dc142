"""The server half of Cognito's SRP exchange, written independently of ``acognito.srp``.

The local Cognito checks every PASSWORD_CLAIM_SIGNATURE with it (moto alone never does):
it stores a verifier the way Cognito does and checks claims with the RFC 5054 server
equations. It deliberately works the way the JavaScript reference does, on hex
strings (even-length, ``00``-prefixed when the high bit is set), uses builtin ``pow``
(or gmpy2's ``powmod``, a drop-in) and derives the claim key with ``cryptography``'s
HKDF, so that a shared mistake with the client (which works on bytes and hand-written
HMACs) is unlikely.

Cognito's conventions, as amazon-cognito-identity-js / Amplify and pycognito implement them:

* the group is RFC 5054's 3072-bit prime with g = 2; k = H(PAD(N) | PAD(g)) where PAD is
  the hex padding above (not RFC 5054's padding to the length of N);
* x = H(PAD(salt) | H(pool_name + user_id_for_srp + ":" + password)), the inner hash
  taken as its 32 raw bytes; pool_name is the part of the pool id after the underscore;
  for devices the "user" is device_group_key + device_key;
* u = H(PAD(A) | PAD(B)); the claim key is HKDF-SHA256(ikm=PAD(S), salt=PAD(u),
  info="Caldera Derived Key"), 16 bytes;
* the signature is base64(HMAC-SHA256(key, first + second + secret_block_bytes + timestamp)).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["G", "K", "N", "SrpServer", "device_verifier_from_config", "user_verifier"]

try:  # gmpy2 (the ``fast`` extra) does the same modular power ~6x faster
    import gmpy2 as _gmpy2
except ImportError:  # pragma: no cover - depends on the extras installed
    _gmpy2 = None


def _pow(base: int, exponent: int, modulus: int) -> int:
    """base ** exponent mod modulus (gmpy2 when installed: the server answers sooner)."""
    if _gmpy2 is not None:
        return int(_gmpy2.powmod(base, exponent, modulus))
    return pow(base, exponent, modulus)


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
_INFO = b"Caldera Derived Key"


def _pad_hex(value: int | str) -> str:
    """Cognito's padHex: even length, and a 00 prefix when the first nibble has its high bit set."""
    text = value if isinstance(value, str) else format(value, "x")
    if len(text) % 2:
        return "0" + text
    if text[0] in "89abcdefABCDEF":
        return "00" + text
    return text


def _hash_hex(hex_text: str) -> str:
    """SHA-256 of the bytes a hex string spells, as 64 hex digits (the JS hexHash)."""
    return hashlib.sha256(bytes.fromhex(hex_text)).hexdigest()


def _hash_text(text: str) -> str:
    """SHA-256 of a UTF-8 string, as 64 hex digits (the JS hash)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


N: int = int(_N_HEX, 16)
G: int = 2
K: int = int(_hash_hex(_pad_hex(_N_HEX.lower()) + _pad_hex(G)), 16)


def _verifier(salt: bytes, identity: str, password: str) -> tuple[str, int]:
    """(salt_hex, v) with x = H(PAD(salt) | H(identity ":" password)), v = g^x mod N."""
    salt_hex = _pad_hex(int.from_bytes(salt, "big"))
    x = int(_hash_hex(salt_hex + _hash_text(f"{identity}:{password}")), 16)
    return salt_hex, _pow(G, x, N)


def user_verifier(
    pool_id: str, user_id_for_srp: str, password: str, *, salt: bytes | None = None
) -> tuple[str, int]:
    """(salt_hex, v) for a user: x = H(salt | H(pool_name + user_id + ":" + password)), v = g^x.

    pool_name is the part of pool_id after the underscore. Random 16-byte salt when None.
    """
    pool_name = pool_id.split("_")[1]
    if salt is None:
        salt = secrets.token_bytes(16)
    return _verifier(salt, pool_name + user_id_for_srp, password)


def device_verifier_from_config(config: dict[str, str]) -> tuple[str, int]:
    """(salt_hex, v) from ConfirmDevice's DeviceSecretVerifierConfig.

    The config is {"PasswordVerifier": b64, "Salt": b64}; Cognito sends the stored salt
    bytes back as hex in SALT.
    """
    salt_hex = base64.b64decode(config["Salt"], validate=True).hex()
    verifier = int(base64.b64decode(config["PasswordVerifier"], validate=True).hex(), 16)
    return salt_hex, verifier


class SrpServer:
    """One server-side SRP exchange: secret b, public B = k*v + g^b."""

    def __init__(self, *, verifier: int, salt_hex: str) -> None:
        self._v = verifier
        self._salt_hex = salt_hex
        self._b = secrets.randbits(256) | (1 << 255)
        self._big_b = (K * verifier + _pow(G, self._b, N)) % N

    @property
    def srp_b(self) -> str:
        """B in hex, as Cognito sends SRP_B."""
        return format(self._big_b, "x")

    @property
    def salt(self) -> str:
        """The salt in hex, as Cognito sends SALT."""
        return self._salt_hex

    def __repr__(self) -> str:
        return "SrpServer(<secret>)"

    def verify_claim(
        self,
        *,
        srp_a: str,
        first: str,
        second: str,
        secret_block: str,
        timestamp: str,
        signature: str,
    ) -> bool:
        """Check PASSWORD_CLAIM_SIGNATURE. For users first=pool_name, second=user_id_for_srp;
        for devices first=device_group_key, second=device_key. Rejects A mod N == 0. Uses a
        constant-time comparison. Returns False (never raises) on a wrong or malformed claim."""
        try:
            if not srp_a or not all(c in "0123456789abcdefABCDEF" for c in srp_a):
                return False
            big_a = int(srp_a, 16)
            if big_a % N == 0:
                return False
            u = int(_hash_hex(_pad_hex(big_a) + _pad_hex(self._big_b)), 16)
            if u == 0:
                return False
            shared = _pow(big_a * _pow(self._v, u, N), self._b, N)
            key = HKDF(
                algorithm=hashes.SHA256(),
                length=16,
                salt=bytes.fromhex(_pad_hex(u)),
                info=_INFO,
            ).derive(bytes.fromhex(_pad_hex(shared)))
            message = (
                first.encode("utf-8")
                + second.encode("utf-8")
                + base64.b64decode(secret_block, validate=True)
                + timestamp.encode("utf-8")
            )
            expected = hmac.new(key, message, hashlib.sha256).digest()
            claimed = base64.b64decode(signature, validate=True)
        except (ValueError, TypeError, binascii.Error, UnicodeError):
            return False
        return hmac.compare_digest(expected, claimed)
