"""The CLI's own failures, each with the exit code it ends the process with."""

from __future__ import annotations

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliError",
    "UsageError",
]

EXIT_OK = 0
EXIT_FAILED = 1  # refused by Cognito, or failed
EXIT_USAGE = 2  # wrong or missing arguments, configuration or environment
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_BROKEN_PIPE = 141  # the reader of stdout went away (as a SIGPIPE death reports)


class CliError(Exception):
    """A failure with a one-line message and, where one helps, what to do; exit code 1."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(CliError):
    """Missing or wrong arguments, configuration or environment; exit code 2."""

    exit_code = EXIT_USAGE
