"""The house keeps its shape: the map lists every module, no module imports another in a
circle (function-level imports included), rooms stay small, and only ``_idp`` touches
aiobotocore's client object.

``KNOWN_*`` name the exceptions that exist today, each with the room's owner; a check
fails on a new one AND on a listed one that is gone, so the lists cannot go stale.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "acognito"
MAP = ROOT / "docs" / "architecture.md"
sys.path.insert(0, str(ROOT / "scripts"))

from import_cycles import cycles, edges  # noqa: E402

#: Modules past 500 lines besides the exception catalogue (issue #22's bar), by owner.
KNOWN_LARGE: dict[str, str] = {
    "auth/_cognito.py": "stores (#18): CognitoAuth with store= and events",
    "jwks/_cache.py": "api (#17): the blocking fetch beside the async one",
}
#: Import circles that exist today, by owner (function-level imports, to keep start-up fast).
KNOWN_CYCLES: dict[tuple[str, ...], str] = {}
LIMIT = 500


def _modules() -> list[str]:
    return sorted(p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py"))


def _mapped() -> set[str]:
    """The module paths the map's tables list (first column, in backquotes)."""
    rows = re.findall(r"^\| `([^`]+\.py)` \|", MAP.read_text(encoding="utf-8"), re.MULTILINE)
    return set(rows)


def test_the_map_lists_every_module_and_nothing_else() -> None:
    modules, mapped = set(_modules()), _mapped()
    assert not modules - mapped, f"add to docs/architecture.md: {sorted(modules - mapped)}"
    assert not mapped - modules, f"gone, drop from docs/architecture.md: {sorted(mapped - modules)}"


def test_the_readme_points_at_the_map() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    development = readme.split("## Development", 1)[1]
    assert "docs/architecture.md" in development


def test_no_import_cycle() -> None:
    found = {tuple(component) for component in cycles(edges())}
    assert found == set(KNOWN_CYCLES), f"new or resolved import cycles: {found ^ set(KNOWN_CYCLES)}"


def test_no_module_over_the_limit() -> None:
    large = {
        name
        for name in _modules()
        if name != "errors.py"
        and len((SRC / name).read_text(encoding="utf-8").splitlines()) > LIMIT
    }
    assert large == set(KNOWN_LARGE), f"new or fixed large modules: {large ^ set(KNOWN_LARGE)}"


def test_only_idp_reads_the_aiobotocore_client_object() -> None:
    readers = {
        name
        for name in _modules()
        if name != "_idp.py"
        and re.search(r"\bidp\._client\b|_idp\._client\b", (SRC / name).read_text("utf-8"))
    }
    assert not readers
