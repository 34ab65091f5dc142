"""The server half of Cognito's SRP, for tests: now shipped in acognito.testing."""

from acognito.testing._srp_server import (
    G,
    K,
    N,
    SrpServer,
    device_verifier_from_config,
    user_verifier,
)

__all__ = ["G", "K", "N", "SrpServer", "device_verifier_from_config", "user_verifier"]
