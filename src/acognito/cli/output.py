"""Where the CLI writes: data on stdout, messages on stderr, progress for slow steps.

Data (tokens, claims, tables) goes to stdout so it pipes; everything meant for the
person at the terminal (what happened, hints, progress) goes to stderr.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any, TextIO

import anyio

__all__ = ["Output", "human_delta", "human_expiry"]


def human_delta(seconds: float) -> str:
    """``3725`` -> ``"1 hour 2 minutes"``: a duration in the two largest units."""
    seconds = abs(int(seconds))
    units = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
    parts: list[str] = []
    for name, size in units:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
        if len(parts) == 2:
            break
    return " ".join(parts) or "0 seconds"


def human_expiry(exp: object, now: float | None = None) -> str:
    """When an ``exp`` claim falls, in words: ``"expires in 59 minutes (...)"``."""
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        return "no expiry (no numeric exp claim)"
    current = time.time() if now is None else now
    stamp = datetime.fromtimestamp(exp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    left = exp - current
    if left <= 0:
        return f"EXPIRED {human_delta(left)} ago ({stamp})"
    return f"expires in {human_delta(left)} ({stamp})"


class Output:
    """The CLI's two channels. ``json_mode`` turns data into one JSON document."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        quiet: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr

    # data -----------------------------------------------------------------------

    def data(self, text: str) -> None:
        """One line of data on stdout."""
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def json(self, value: Any) -> None:
        """A JSON document on stdout (sorted keys, dates as ISO text)."""
        self.data(json.dumps(value, indent=2, sort_keys=True, default=_json_default))

    def record(
        self, value: Mapping[str, Any], human: Iterable[tuple[str, Any]] | None = None
    ) -> None:
        """A result: JSON in ``--json`` mode, else ``key: value`` lines."""
        if self.json_mode:
            self.json(value)
            return
        for key, item in human if human is not None else value.items():
            if isinstance(item, (dict, list)):
                item = json.dumps(item, sort_keys=True, default=_json_default)
            self.data(f"{key}: {item}")

    def table(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
        """Rows as aligned columns (or a JSON list in ``--json`` mode)."""
        if self.json_mode:
            self.json(list(rows))
            return
        cells = [[_cell(row.get(c)) for c in columns] for row in rows]
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
        self.data(
            "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
        )
        for row_cells in cells:
            self.data(
                "  ".join(v.ljust(w) for v, w in zip(row_cells, widths, strict=True)).rstrip()
            )

    # messages -------------------------------------------------------------------

    def say(self, text: str) -> None:
        """A message for the person (stderr), unless ``--quiet``."""
        if not self.quiet:
            self.stderr.write(text + "\n")
            self.stderr.flush()

    def warn(self, text: str) -> None:
        """A warning on stderr, even with ``--quiet``."""
        self.stderr.write(f"acognito: warning: {text}\n")
        self.stderr.flush()

    @asynccontextmanager
    async def progress(self, text: str, *, after: float = 1.0) -> AsyncIterator[None]:
        """Show ``text`` with elapsed seconds on stderr if the body takes over ``after`` s."""
        if self.quiet:
            yield
            return
        tty = self.stderr.isatty()
        started = time.monotonic()
        shown = False

        async def ticker() -> None:
            nonlocal shown
            await anyio.sleep(after)
            while True:
                elapsed = time.monotonic() - started
                if tty:
                    self.stderr.write(f"\r{text} ({elapsed:.0f} s)")
                elif not shown:
                    self.stderr.write(f"{text} ...\n")
                self.stderr.flush()
                shown = True
                if not tty:
                    return
                await anyio.sleep(0.5)

        failure: BaseException | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            try:
                yield
            except BaseException as exc:  # re-raised below, not wrapped in a group
                failure = exc
            finally:
                tg.cancel_scope.cancel()
        if shown and tty:
            self.stderr.write("\r\x1b[K")
            self.stderr.flush()
        if failure is not None:
            raise failure


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)
