"""A griffe extension for the docs build: Sphinx cross-reference roles become links.

acognito's docstrings are Sphinx style (``:param x:`` fields, ``:class:`~acognito.X```
roles). mkdocstrings parses the fields; this turns each inline role (``:class:``,
``:meth:``, ``:func:``, ``:attr:``, ``:mod:``, ``:data:``, ``:exc:``, ``:obj:``) into a
cross-reference: the target is resolved the way Sphinx would (absolute, or relative to
the object, its class, its module and the module's imports), made canonical, and written
as an optional autoref, a link when the target is rendered on the site and code when it
is not. ``~`` shows the last name only, as in Sphinx.

Configured in mkdocs.yml (``extensions:`` of the python handler).
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(class|meth|func|attr|mod|data|exc|obj|const):`([^`]+)`")
TITLED = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$")


def _lookup(collection: Any, path: str) -> Any:
    try:
        return collection[path]
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def _canonical(found: Any) -> str:
    try:
        return str(found.canonical_path)
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return str(found.path)


def _resolve(obj: Any, target: str, collection: Any) -> str | None:
    """The canonical path of ``target`` as written in ``obj``'s docstring, or None."""
    target = target.lstrip(".")
    first, _, rest = target.partition(".")
    candidates = [target]
    scope = obj
    while scope is not None:
        candidates.append(f"{scope.path}.{target}")
        imports = getattr(scope, "imports", None) or {}
        if first in imports:
            candidates.append(imports[first] + (f".{rest}" if rest else ""))
        scope = scope.parent
    candidates.append(f"acognito.{target}")
    for candidate in candidates:
        found = _lookup(collection, candidate)
        if found is not None:
            return _canonical(found)
    return None


def _link(match: re.Match[str], obj: Any, collection: Any) -> str:
    text = match.group(2).strip()
    titled = TITLED.match(text)
    if titled:
        title, target = titled["title"], titled["target"]
    else:
        target = text.lstrip("~")
        title = target.rsplit(".", 1)[-1] if text.startswith("~") else target.lstrip(".")
    if match.group(1) in ("meth", "func") and not title.endswith(")"):
        title += "()"
    code = f"<code>{html.escape(title)}</code>"
    path = _resolve(obj, target.lstrip("~"), collection)
    if path is None:
        return code
    return f'<autoref identifier="{html.escape(path)}" optional>{code}</autoref>'


class SphinxRoles(griffe.Extension):
    """Rewrite the inline Sphinx roles of every docstring once the package is loaded."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        collection = loader.modules_collection
        stack: list[Any] = [pkg]
        while stack:
            obj = stack.pop()
            if obj.is_alias:
                continue
            if obj.docstring is not None and ":" in obj.docstring.value:
                obj.docstring.value = ROLE.sub(
                    lambda m, o=obj: _link(m, o, collection), obj.docstring.value
                )
            stack.extend(obj.members.values())
