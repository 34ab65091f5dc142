"""The ``acognito`` program: the parser, one run per invocation, and the exit codes.

Exit codes: 0 done; 1 refused by Cognito or failed; 2 usage (bad arguments or
configuration); 130 interrupted with Ctrl-C; 141 stdout closed early (``| head``).
Every failure is one line on stderr saying what went wrong and what to do.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from .errors import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
)

__all__ = ["build_parser", "main"]

#: The modules that add commands, in the order ``--help`` lists them. Each has
#: ``register(subparsers, common)``. HOOK: the ``local`` command (start the local
#: Cognito in the foreground) lands as ``acognito/cli/local.py``; add "local" here.
COMMAND_MODULES = (
    "profiles",
    "signin",
    "tokens_cmd",
    "account",
    "mfa",
    "passkey",
    "admin",
    "m2m",
    "demo",
    "local",
)

DESCRIPTION = """\
Sign in to Amazon Cognito user pools from a terminal, keep tokens for curl and
scripts, and administer users and groups.

Start with:  acognito configure --pool-id <id> --client-id <id>
             acognito login --username <name>
             curl -H "Authorization: Bearer $(acognito token)" https://api.example.com/

Data goes to stdout, messages to stderr. Exit codes: 0 ok, 1 refused or failed,
2 usage, 130 interrupted (Ctrl-C)."""

# ------------------------------------------------------------------------- parser


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


def common_parents() -> dict[str, argparse.ArgumentParser]:
    """Option groups shared by the commands: output options and pool options."""
    output = argparse.ArgumentParser(add_help=False)
    group = output.add_argument_group("output")
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print data as JSON, for scripts",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no messages on stderr, only data and errors",
    )
    group.add_argument(
        "--profile",
        default=argparse.SUPPRESS,
        metavar="NAME",
        help=(
            "the profile to use (default: $ACOGNITO_PROFILE, or the one chosen "
            "with 'profile use', or 'default')"
        ),
    )

    pool = argparse.ArgumentParser(add_help=False)
    pg = pool.add_argument_group("pool (override the profile)")
    pg.add_argument("--pool-id", metavar="ID", help="user pool id, e.g. eu-west-1_AbC123")
    pg.add_argument("--client-id", metavar="ID", help="app client id")
    pg.add_argument("--region", metavar="REGION", help="AWS region (default: from the pool id)")
    pg.add_argument("--endpoint-url", metavar="URL", help="a local Cognito's URL instead of AWS")
    pg.add_argument(
        "--client-secret-env",
        metavar="VAR",
        help="name of the environment variable holding the client secret",
    )
    pg.add_argument(
        "--client-secret-keyring",
        metavar="SERVICE[:USER]",
        help="keyring entry holding the client secret (needs 'keyring')",
    )
    pg.add_argument(
        "--domain", metavar="URL", help="the pool's OAuth2 domain, e.g. https://auth.example.com"
    )
    return {"output": output, "pool": pool}


def build_parser() -> argparse.ArgumentParser:
    from acognito import __version__

    parser = argparse.ArgumentParser(
        prog="acognito", description=DESCRIPTION, formatter_class=_Formatter
    )
    parser.add_argument("--version", action="version", version=f"acognito {__version__}")
    parser.add_argument("--json", action="store_true", help="print data as JSON, for scripts")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no messages on stderr, only data and errors"
    )
    parser.add_argument("--profile", default=None, metavar="NAME", help="the profile to use")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    sub.required = True
    parents = common_parents()
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"{__package__}.{name}")
        module.register(sub, parents)
    return parser


def add_command(
    sub: Any,
    name: str,
    summary: str,
    run: Callable[..., Any],
    *,
    parents: Sequence[argparse.ArgumentParser] = (),
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand with a one-line summary (in the list) and a longer description."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=description or summary[0].upper() + summary[1:] + ".",
        parents=list(parents),
        formatter_class=_Formatter,
    )
    parser.set_defaults(run=run)
    return parser


# ------------------------------------------------------------------------- signals

_TTY_STATE: list[Any] = []


def _save_tty() -> None:
    """Remember the terminal's mode so Ctrl-C at a password prompt can restore echo."""
    try:
        import termios
    except ImportError:  # pragma: no cover - not a POSIX system
        return
    fds = []
    with contextlib.suppress(OSError):
        fds.append(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    with contextlib.suppress(Exception):
        if sys.stdin.isatty():
            fds.append(sys.stdin.fileno())
    for fd in fds:
        with contextlib.suppress(Exception):
            _TTY_STATE.append((fd, termios.tcgetattr(fd)))


def _restore_tty() -> None:
    if not _TTY_STATE:
        return
    import termios

    for fd, state in _TTY_STATE:
        with contextlib.suppress(Exception):
            termios.tcsetattr(fd, termios.TCSADRAIN, state)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    from .context import PROMPTING

    if PROMPTING.is_set():  # a thread blocked on the terminal cannot be cancelled: leave now
        _leave_now()
    signal.signal(signal.SIGINT, _second_sigint)
    raise KeyboardInterrupt


def _leave_now() -> None:
    _restore_tty()
    with contextlib.suppress(Exception):
        sys.stderr.write("\nacognito: interrupted\n")
        sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def _second_sigint(signum: int, frame: FrameType | None) -> None:
    _restore_tty()
    os._exit(EXIT_INTERRUPTED)


# ------------------------------------------------------------------------- errors

_HINTS = {
    "NotAuthorizedError": "check the user name and password, or log in again",
    "UserNotFoundError": "check the user name and the pool id",
    "UserNotConfirmedError": "confirm the sign-up first: acognito confirm-sign-up",
    "PasswordResetRequiredError": "reset it: acognito forgot-password",
    "CodeMismatchError": "check the code, or ask for a new one",
    "ExpiredCodeError": "ask for a new code and try again",
    "InvalidPasswordError": "choose a password that meets the pool's policy",
    "UsernameExistsError": "pick another user name, or sign in",
    "CognitoConnectionError": "check --endpoint-url / --domain and the network",
    "JwksFetchError": "check --jwks-url, or pass the keys with --jwks-file",
    "InvalidParameterError": "check the options given",
    "ResourceNotFoundError": "check the pool id and client id",
}


def describe(exc: BaseException) -> str:
    """One line for a library error: its class, its message and, where known, a fix."""
    name = type(exc).__name__
    message = " ".join(str(exc).split()) or "no details"
    hint = _HINTS.get(name)
    return f"{name}: {message}" + (f" ({hint})" if hint else "")


def _leaf(exc: BaseException) -> BaseException:
    """The one error inside nested exception groups (task groups wrap what they raise).

    Duck-typed, so it needs neither Python 3.11 nor the ``exceptiongroup`` backport.
    """
    inner: Sequence[BaseException] | None = getattr(exc, "exceptions", None)
    while isinstance(inner, tuple) and len(inner) == 1:
        exc = inner[0]
        inner = getattr(exc, "exceptions", None)
    if isinstance(inner, tuple) and inner:
        for item in inner:
            if not isinstance(item, KeyboardInterrupt):
                return _leaf(item)
        return KeyboardInterrupt()
    return exc


def _error(text: str) -> None:
    with contextlib.suppress(Exception):
        sys.stderr.write(f"acognito: error: {text}\n")
        sys.stderr.flush()


def _quiet_broken_pipe() -> int:
    """stdout's reader left: stop writing, and keep the interpreter from complaining."""
    with contextlib.suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


# ------------------------------------------------------------------------- main


async def _run(ctx: Any) -> int:
    """Run the command; Ctrl-C cancels it (its clean-up runs) and gives exit code 130.

    The signal is taken by the event loop, so no KeyboardInterrupt lands in the middle
    of a task. A thread waiting at a prompt cannot be cancelled: then the process ends
    at once, after giving the terminal its echo back.
    """
    import anyio

    from .context import PROMPTING

    interrupted = False
    result: Any = None
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            nonlocal interrupted
            try:
                receiver = anyio.open_signal_receiver(signal.SIGINT)
            except NotImplementedError:  # pragma: no cover - Windows: KeyboardInterrupt
                return
            with receiver as signals:
                async for _ in signals:
                    if PROMPTING.is_set():
                        _leave_now()
                    interrupted = True
                    tg.cancel_scope.cancel()
                    return

        tg.start_soon(watch)
        result = await ctx.args.run(ctx)
        tg.cancel_scope.cancel()
    if interrupted:
        _restore_tty()
        with contextlib.suppress(Exception):
            sys.stderr.write("\nacognito: interrupted\n")
            sys.stderr.flush()
        return EXIT_INTERRUPTED
    return EXIT_OK if result is None else int(result)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (see the module docstring)."""
    _save_tty()
    with contextlib.suppress(ValueError):  # not the main thread (tests calling main())
        signal.signal(signal.SIGINT, _on_sigint)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        _restore_tty()
        with contextlib.suppress(Exception):
            sys.stderr.write("\nacognito: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _quiet_broken_pipe()
    finally:
        with contextlib.suppress(Exception):
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _main(argv: Sequence[str] | None) -> int:
    import anyio

    from acognito.errors import CognitoError

    from .context import Context
    from .output import Output

    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(args, Output(json_mode=args.json, quiet=args.quiet))
    backend = (
        getattr(args, "backend", None) or os.environ.get("ACOGNITO_ASYNC_BACKEND") or "asyncio"
    )
    if backend not in ("asyncio", "trio"):
        _error(f"ACOGNITO_ASYNC_BACKEND={backend!r}: use asyncio or trio")
        return EXIT_USAGE
    try:
        try:
            return int(anyio.run(_run, ctx, backend=backend))
        except BaseException as exc:
            leaf = _leaf(exc)
            if leaf is exc:
                raise
            raise leaf from None
    except CliError as exc:
        _error(str(exc))
        return exc.exit_code
    except CognitoError as exc:
        _error(describe(exc))
        return EXIT_FAILED
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except OSError as exc:
        _error(f"{exc.strerror or exc} ({getattr(exc, 'filename', None) or 'I/O'})")
        return EXIT_FAILED
    except Exception as exc:
        if os.environ.get("ACOGNITO_DEBUG"):
            raise
        _error(f"unexpected {type(exc).__name__}: {exc} (set ACOGNITO_DEBUG=1 for the traceback)")
        return EXIT_FAILED
