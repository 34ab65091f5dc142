"""The CLI's own failures, each with the exit code it ends the process with."""

from __future__ import annotations

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "CliError", "UsageError"]

EXIT_OK = 0
EXIT_FAILED = 1  # refused by Cognito, or failed
EXIT_USAGE = 2  # wrong or missing arguments or configuration
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_BROKEN_PIPE = 141  # the reader of stdout went away (as a SIGPIPE death reports)


class CliError(Exception):
    """A failure with a one-line message that says what to do; exit code 1."""

    exit_code = EXIT_FAILED


class UsageError(CliError):
    """Missing or wrong arguments or configuration; exit code 2."""

    exit_code = EXIT_USAGE
