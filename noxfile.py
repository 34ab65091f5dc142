"""Developer sessions: nox -s tests | lint | typecheck | demo | bench | docs."""

from __future__ import annotations

import glob
import os

import nox

# pyenv installs every version but puts only the global one on PATH: let nox find the
# others (appended, so the machine's own interpreters keep precedence).
for _bin in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin"))):
    if _bin not in os.environ.get("PATH", ""):
        os.environ["PATH"] = os.environ.get("PATH", "") + os.pathsep + _bin

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite, on asyncio and trio, against a local moto server."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", "src", "tests", "examples", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "examples", "benchmarks", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "src/acognito")


@nox.session
def demo(session: nox.Session) -> None:
    """python -m acognito demo against the embedded local Cognito."""
    session.install("-e", ".[local,fast]")
    session.run("python", "-m", "acognito", "demo")


@nox.session
def bench(session: nox.Session) -> None:
    """The side-by-side benchmarks (acognito vs pycognito vs the raw limit)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site (mkdocs-material + mkdocstrings) with --strict."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", *session.posargs)
