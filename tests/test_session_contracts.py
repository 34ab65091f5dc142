"""The session is composed of command groups, each over a narrow contract (a Protocol).

mypy checks that a group uses only what its contract names. These tests check what
mypy cannot: that at run time no contract's stub (a ``...`` body) stands in front of the
real implementation in the method resolution order, for the async session and for the
blocking one; and that the blocking ``acognito.sync.Cognito`` writes out every method of
``AsyncCognito`` (no method reachable only through ``__getattr__``).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from acognito import AsyncCognito, CognitoPool
from acognito.session.account import AccountCommands, AccountHost
from acognito.session.admin import AdminCommands, AdminHost
from acognito.session.signin import SignInCommands, SignInHost
from acognito.session.signup import SignUpCommands, SignUpHost
from acognito.session.tokens import TokenCommands, TokensHost
from acognito.sync import Cognito

#: AsyncCognito's public methods that have no blocking twin, and why.
ASYNC_ONLY = {
    "aclose": "the blocking object has close()",
    "for_user": "a child session lives on the async core's loop",
    "get_client": "the blocking object has the client property",
    "iter_users": "an async iterator; get_users() is the blocking one",
}


def _is_protocol(cls: type) -> bool:
    return bool(getattr(cls, "_is_protocol", False))


@pytest.mark.parametrize("cls", [AsyncCognito, Cognito, CognitoPool])
def test_no_contract_stub_shadows_an_implementation(cls: type) -> None:
    contracts = [c for c in cls.__mro__ if _is_protocol(c)]
    if cls is not CognitoPool:
        assert contracts, "the groups declare their contracts"
    for contract in contracts:
        for name, stub in vars(contract).items():
            if not (inspect.isfunction(stub) or isinstance(stub, property)):
                continue
            if name.startswith("__"):
                continue
            found = inspect.getattr_static(cls, name)
            assert found is not stub, f"{contract.__name__}.{name} shadows {cls.__name__}'s"


@pytest.mark.parametrize(
    ("group", "contract"),
    [
        (TokenCommands, TokensHost),
        (SignUpCommands, SignUpHost),
        (SignInCommands, SignInHost),
        (AccountCommands, AccountHost),
        (AdminCommands, AdminHost),
    ],
)
def test_each_group_stands_on_its_own_contract(group: type, contract: type) -> None:
    assert _is_protocol(contract)
    assert contract in group.__mro__
    # A group never stands on another group: only on contracts.
    others = {TokenCommands, SignUpCommands, SignInCommands, AccountCommands, AdminCommands}
    assert not (others - {group}) & set(group.__mro__)


def _public_methods(cls: type) -> set[str]:
    names = set()
    for name in dir(cls):
        if name.startswith("_"):
            continue
        value: Any = inspect.getattr_static(cls, name)
        if inspect.isfunction(value) or isinstance(value, classmethod):
            names.add(name)
    return names


def test_the_blocking_session_writes_out_every_method() -> None:
    missing = _public_methods(AsyncCognito) - _public_methods(Cognito) - set(ASYNC_ONLY)
    assert not missing, f"acognito.sync.Cognito lacks {sorted(missing)}"
    assert not hasattr(Cognito, "__getattr__")
    for name in ASYNC_ONLY:
        assert name in _public_methods(AsyncCognito)  # the list stays true
