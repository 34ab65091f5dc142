"""docs/cli.md's reference section is the parser's own ``--help`` of every command, and
its table of hints is :data:`acognito.cli.hints.RULES`.

The text between ``<!-- help:begin -->`` and ``<!-- help:end -->`` is generated from
:func:`acognito.cli.app.build_parser` at a fixed width, the table between ``<!--
hints:begin -->`` and ``<!-- hints:end -->`` from the rules; these tests fail when a
command, an option, a help string or a hint changes and the page was not regenerated.
Regenerate with::

    python tests/test_cli_help_docs.py --write
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PAGE = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
BEGIN, END = "<!-- help:begin -->", "<!-- help:end -->"
HINTS_BEGIN, HINTS_END = "<!-- hints:begin -->", "<!-- hints:end -->"
WIDTH = "100"


def _parsers(parser: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, parser
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def render() -> str:
    """The reference section, as the parser writes it at the docs' width."""
    saved = os.environ.get("ACOGNITO_HELP_WIDTH")
    os.environ["ACOGNITO_HELP_WIDTH"] = WIDTH
    try:
        from acognito.cli.app import build_parser

        blocks = []
        for path, parser in _parsers(build_parser()):
            command = " ".join(("acognito", *path))
            blocks.append(
                f"### `{command}`\n\n```console\n$ {command} --help\n"
                f"{parser.format_help().rstrip()}\n```\n"
            )
    finally:
        if saved is None:
            del os.environ["ACOGNITO_HELP_WIDTH"]
        else:
            os.environ["ACOGNITO_HELP_WIDTH"] = saved
    return "\n".join(blocks)


def render_hints() -> str:
    """The table of :data:`RULES` as docs/cli.md shows it."""
    from acognito.cli.hints import RULES, Facts

    aws = Facts(profile="PROFILE", username="USER")
    local = Facts(profile="PROFILE", username="USER", endpoint_url="http://127.0.0.1:5000")
    rows = ["| error | when | exit | hint |", "|---|---|---|---|"]
    for rule in RULES:
        when = []
        if rule.message:
            when.append("the message says " + " or ".join(f'"{m}"' for m in rule.message))
        if rule.operations:
            when.append("in " + " or ".join(rule.operations))
        if rule.answering:
            when.append("answering the " + " or ".join(rule.answering))
        if callable(rule.hint):
            sample = Exception()
            on_aws, on_local = rule.hint(aws, sample), rule.hint(local, sample)
            hint = on_aws if on_aws == on_local else f"AWS: {on_aws}; local Cognito: {on_local}"
        else:
            hint = rule.hint or "(the message says what to do)"
        names = " / ".join(rule.errors)
        rows.append(f"| {names} | {'; '.join(when) or 'any'} | {rule.exit_code} | {hint} |")
    return "\n".join(rows)


def _split(text: str, begin: str = BEGIN, end: str = END) -> tuple[str, str, str]:
    head, sep, rest = text.partition(begin)
    body, sep2, tail = rest.partition(end)
    assert sep and sep2, f"{PAGE.name} lacks the {begin} ... {end} markers"
    return head, body, tail


def test_the_help_in_the_docs_is_the_parsers_own() -> None:
    _, body, _ = _split(PAGE.read_text(encoding="utf-8"))
    assert body.strip() == render().strip(), (
        "docs/cli.md's command reference drifted from the parser: "
        "run python tests/test_cli_help_docs.py --write"
    )


def test_the_hints_table_in_the_docs_is_the_rules() -> None:
    _, body, _ = _split(PAGE.read_text(encoding="utf-8"), HINTS_BEGIN, HINTS_END)
    assert body.strip() == render_hints().strip(), (
        "docs/cli.md's table of hints drifted from acognito.cli.hints.RULES: "
        "run python tests/test_cli_help_docs.py --write"
    )


def test_every_command_has_its_help_in_the_docs() -> None:
    _, body, _ = _split(PAGE.read_text(encoding="utf-8"))
    from acognito.cli.app import build_parser

    for path, _parser in _parsers(build_parser()):
        assert f"$ {' '.join(('acognito', *path))} --help\n" in body


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_cli_help_docs.py --write")
    head, _, tail = _split(PAGE.read_text(encoding="utf-8"))
    text = f"{head}{BEGIN}\n\n{render()}\n{END}{tail}"
    head, _, tail = _split(text, HINTS_BEGIN, HINTS_END)
    text = f"{head}{HINTS_BEGIN}\n{render_hints()}\n{HINTS_END}{tail}"
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote the command reference and the table of hints of {PAGE}")
