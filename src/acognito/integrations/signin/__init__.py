"""Sign users in on the server: managed login, an HttpOnly session cookie, tokens kept
on the server.

The core, :class:`ServerSignIn`, imports no web framework; one adapter per framework
plugs it in: ``acognito.integrations.signin.starlette`` (Starlette and FastAPI, ASGI
middleware), ``acognito.integrations.signin.fastapi`` (dependencies),
``acognito.integrations.signin.django`` (middleware, settings) and
``acognito.integrations.signin.flask`` (an extension). Importing this package loads
nothing beyond the standard library; its names load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._core import ServerSignIn, Visit, WebSession, WebUser
    from ._forms import FormView
    from ._http import WebAnswer, WebRequest
    from ._proxies import TrustedProxies

__all__ = [
    "FormView",
    "ServerSignIn",
    "TrustedProxies",
    "Visit",
    "WebAnswer",
    "WebRequest",
    "WebSession",
    "WebUser",
]

_HOMES = {
    "FormView": "._forms",
    "ServerSignIn": "._core",
    "Visit": "._core",
    "WebSession": "._core",
    "WebUser": "._core",
    "WebAnswer": "._http",
    "WebRequest": "._http",
    "TrustedProxies": "._proxies",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
