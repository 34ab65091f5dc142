"""A blocking drop-in for pycognito: change the import, keep the code.

``acognito.sync.Cognito`` and ``acognito.sync.AWSSRP`` take pycognito's arguments (in
its positional order) and offer its methods and attributes, but run acognito's async
core on one private event loop in a daemon thread. Sync code (a Django view, a
script) gets acognito's fixes (SECRET_HASH for alias sign-ins, the access token's
``client_id`` checked, device SRP, fast SRP off the GIL) without becoming async.
Every object may be used from several threads at once.
"""

from ..errors import (
    ForceChangePasswordException,
    MFAChallengeException,
    SMSMFAChallengeException,
    SoftwareTokenMFAChallengeException,
    TokenVerificationException,
    WarrantException,
)
from .aws_srp import AWSSRP
from .cognito import Cognito
from .models import GroupObj, UserObj

__all__ = [
    "AWSSRP",
    "Cognito",
    "ForceChangePasswordException",
    "GroupObj",
    "MFAChallengeException",
    "SMSMFAChallengeException",
    "SoftwareTokenMFAChallengeException",
    "TokenVerificationException",
    "UserObj",
    "WarrantException",
]
