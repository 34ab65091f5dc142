"""pycognito's ``pycognito.exceptions`` names, so ``from ... import`` lines keep working.

Each name is the acognito class itself (not a copy), so ``except`` clauses written for
pycognito catch what acognito raises. The full catalogue lives in :mod:`acognito.errors`.
"""

from __future__ import annotations

from .errors import (
    ForceChangePasswordException,
    MFAChallengeException,
    SMSMFAChallengeException,
    SoftwareTokenMFAChallengeException,
    TokenVerificationException,
    WarrantException,
)

__all__ = [
    "ForceChangePasswordException",
    "MFAChallengeException",
    "SMSMFAChallengeException",
    "SoftwareTokenMFAChallengeException",
    "TokenVerificationException",
    "WarrantException",
]
