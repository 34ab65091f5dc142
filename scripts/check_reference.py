"""Check the built documentation site: the API reference is complete and reads well.

    python scripts/check_reference.py SITE_DIR

Fails (exit status 1, each problem on a line) when:

- any page of the site shows a raw Sphinx role (``:class:``, ``:meth:``, ``:func:``):
  cross-references must render as links (``scripts/griffe_sphinx_roles.py``);
- a public method of a class below, its inherited ones included, has no entry on the
  reference page (an undocumented method is not rendered: give it a docstring).
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The classes whose every public method the reference must render (issue #22).
CLASSES = (
    "acognito.cognito.AsyncCognito",
    "acognito.pool.CognitoPool",
    "acognito.sync.Cognito",
    "acognito.verify.CognitoVerifier",
    "acognito.verify.MultiPoolVerifier",
    "acognito.verify.OidcVerifier",
    "acognito.verify.AlbVerifier",
)
RAW_ROLE = re.compile(r":(?:py:)?(?:class|meth|func):`")
DIRECTIVE = re.compile(r"^::: ([\w.]+)", re.MULTILINE)


def public_methods(cls: type) -> list[str]:
    """Every public method of ``cls``, inherited ones included (not ``object``'s)."""
    names = []
    for name in dir(cls):
        if name.startswith("_"):
            continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), object)
        if owner.__module__ == "builtins" or owner.__module__.startswith("typing"):
            continue
        value = inspect.getattr_static(cls, name)
        if inspect.isfunction(value) or isinstance(value, (classmethod, staticmethod)):
            names.append(name)
    return sorted(names)


def _directive_for(dotted: str, reference: str) -> str | None:
    """The ``::: path`` of docs/reference.md that renders the class ``dotted``."""
    module, _, name = dotted.rpartition(".")
    for path in DIRECTIVE.findall(reference):
        if path == dotted or (path.rpartition(".")[2] == name and path.startswith(module)):
            return path
    return None


def main(site: Path) -> int:
    problems = []
    for page in sorted(site.rglob("*.html")):
        for match in RAW_ROLE.finditer(page.read_text(encoding="utf-8")):
            problems.append(f"{page.relative_to(site)}: raw Sphinx role {match.group(0)!r}")
    html = (site / "reference" / "index.html").read_text(encoding="utf-8")
    anchors = set(re.findall(r'id="([\w.]+)"', html))
    source = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    for dotted in CLASSES:
        module, _, name = dotted.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        directive = _directive_for(dotted, source)
        if directive is None:
            problems.append(f"docs/reference.md has no '::: {dotted}'")
            continue
        for method in public_methods(cls):
            if f"{directive}.{method}" not in anchors:
                problems.append(f"reference: {directive}.{method} is not rendered")
    for problem in problems:
        print(problem)
    if not problems:
        print(f"reference check: {len(CLASSES)} classes complete, no raw Sphinx role")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    raise SystemExit(main(Path(sys.argv[1])))
