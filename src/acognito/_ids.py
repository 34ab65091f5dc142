"""The one home of Cognito identifier parsing: user pool ids, regions, app client ids.

Every constructor that takes a pool id, a region or a client id validates it here, so
the rules (ASCII only, whole-string matches, no trailing newline) and the messages are
the same everywhere. Identifiers are not secrets: messages may quote them (truncated).
"""

from __future__ import annotations

import re
from typing import Final

from .errors import ConfigurationError

__all__ = ["check_client_id", "check_region", "parse_pool_id", "pool_name"]

_POOL_ID: Final = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}_[0-9A-Za-z]{1,40}", re.ASCII)
_LOOSE_POOL_ID: Final = re.compile(r"[\w-]{1,40}_[0-9A-Za-z]{1,40}", re.ASCII)
_REGION: Final = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}", re.ASCII)
_CLIENT_ID: Final = re.compile(r"[\w+]{1,128}", re.ASCII)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_pool_id(user_pool_id: object, *, strict_region: bool = False) -> tuple[str, str]:
    """``(region, user_pool_id)`` for a pool id such as ``eu-west-1_AbC123``.

    With ``strict_region`` the part before ``_`` must be an AWS region name; otherwise
    any word characters pass (emulators and tests use made-up regions).
    """
    pattern = _POOL_ID if strict_region else _LOOSE_POOL_ID
    if not isinstance(user_pool_id, str) or not pattern.fullmatch(user_pool_id):
        raise ConfigurationError(
            "user_pool_id must look like '<region>_<id>', e.g. 'eu-west-1_AbC123'; "
            f"got {_shown(user_pool_id)}"
        )
    return user_pool_id.split("_", 1)[0], user_pool_id


def pool_name(user_pool_id: str) -> str:
    """The part of a pool id after the region and underscore (SRP's pool name)."""
    return parse_pool_id(user_pool_id)[1].split("_", 1)[1]


def check_region(region: object, *, what: str = "user_pool_region") -> str:
    """An AWS region name such as ``eu-west-1``."""
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise ConfigurationError(
            f"{what} must be an AWS region such as 'eu-west-1'; got {_shown(region)}"
        )
    return region


def check_client_id(client_id: object) -> str:
    """An app client id: 1-128 ASCII word characters (or ``+``)."""
    if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
        raise ConfigurationError(
            f"client_id must be 1-128 letters, digits, '_' or '+'; got {_shown(client_id)}"
        )
    return client_id
