"""The ``acognito`` program: the parser, one run per invocation, and the exit codes.

Exit codes: 0 done; 1 refused by Cognito or failed; 2 usage, configuration or
environment (bad arguments, a missing profile, no AWS credentials); 130 interrupted
with Ctrl-C; 141 stdout closed early (``| head``). Every failure is one line on stderr:
what went wrong, Cognito's error code and request id, and what to do (:mod:`.hints`);
with ``--json``, a JSON document on stderr instead.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any, NoReturn

from .errors import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
)
from .hints import Facts, Failure, explain

__all__ = ["build_parser", "main"]

#: The modules that add commands, in the order ``--help`` lists them. Each has
#: ``register(subparsers, common)``.
COMMAND_MODULES = (
    "profiles",
    "status",
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

No AWS account? acognito local --profile local  (a local Cognito, until Ctrl-C)

Data goes to stdout, messages to stderr. Exit codes: 0 ok, 1 refused or failed,
2 usage, configuration or environment, 130 interrupted (Ctrl-C)."""

# ------------------------------------------------------------------------- parser


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Help as Python 3.13 writes it, on every version (docs/cli.md holds it verbatim)."""

    def __init__(self, prog: str) -> None:
        width = None
        if os.environ.get("ACOGNITO_HELP_WIDTH", "").isdigit():  # the docs' fixed width
            width = int(os.environ["ACOGNITO_HELP_WIDTH"])
        super().__init__(prog, max_help_position=32, width=width)

    def add_argument(self, action: argparse.Action) -> None:
        # The help column counts each subcommand with its own indent (as 3.13 does).
        if action.help is argparse.SUPPRESS:
            return
        lengths = [len(self._format_action_invocation(action)) + self._current_indent]
        for sub in self._iter_indented_subactions(action):
            lengths.append(len(self._format_action_invocation(sub)) + self._current_indent)
        self._action_max_length = max(self._action_max_length, *lengths)
        self._add_item(self._format_action, [action])

    def _format_action_invocation(self, action: argparse.Action) -> str:
        # "-u, --username USERNAME" (3.13), not "-u USERNAME, --username USERNAME".
        if not action.option_strings or action.nargs == 0:
            return super()._format_action_invocation(action)
        value = self._format_args(action, self._get_default_metavar_for_optional(action))
        return ", ".join(action.option_strings) + " " + value


#: Set before parsing: with ``--json`` anywhere, usage errors are JSON too.
_JSON_ERRORS = False


class Parser(argparse.ArgumentParser):
    """argparse with "did you mean" (difflib) and each command's own usage on its errors."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(c) for c in choices]
        close = difflib.get_close_matches(str(value), names, n=1, cutoff=0.6)
        if isinstance(action, argparse._SubParsersAction):
            message = f"unknown command {value!r}"
            message += f"; did you mean {close[0]!r}?" if close else f"; see '{self.prog} --help'"
        else:
            message = f"{'/'.join(action.option_strings) or action.dest}: {value!r} is not one of "
            message += ", ".join(names)
            if close:
                message += f"; did you mean {close[0]!r}?"
        raise argparse.ArgumentError(None, message)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        found, extras = self.parse_known_args(args, namespace)
        if extras:
            parser: Parser = getattr(found, "parser", None) or self
            parser.error(parser.unrecognized(extras))
        return found

    def unrecognized(self, extras: Sequence[str]) -> str:
        """The message for arguments this command does not take, with a near option."""
        first = extras[0]
        if not first.startswith("-") or first == "-":
            return f"unexpected argument {first!r}; see '{self.prog} --help'"
        name = first.split("=", 1)[0]
        options = [o for a in self._actions for o in a.option_strings if o.startswith("--")]
        close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
        message = f"no option {name!r}"
        return message + (
            f"; did you mean {close[0]!r}?" if close else f"; see '{self.prog} --help'"
        )

    def error(self, message: str) -> NoReturn:
        if _JSON_ERRORS:
            import json

            failure = Failure(message, EXIT_USAGE, hint=f"{self.prog} --help", error="UsageError")
            sys.stderr.write(json.dumps(failure.document(), sort_keys=True) + "\n")
            raise SystemExit(EXIT_USAGE)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def common_parents() -> dict[str, argparse.ArgumentParser]:
    """Option groups shared by the commands: output, pool, and pool-only (admin)."""
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

    admin = argparse.ArgumentParser(add_help=False)
    ag = admin.add_argument_group("pool (override the profile)")
    ag.add_argument("--pool-id", metavar="ID", help="user pool id, e.g. eu-west-1_AbC123")
    ag.add_argument("--region", metavar="REGION", help="AWS region (default: from the pool id)")
    ag.add_argument("--endpoint-url", metavar="URL", help="a local Cognito's URL instead of AWS")
    return {"output": output, "pool": pool, "admin": admin}


def build_parser() -> argparse.ArgumentParser:
    from acognito import __version__

    parser = Parser(prog="acognito", description=DESCRIPTION, formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"acognito {__version__}")
    parser.add_argument("--json", action="store_true", help="print data as JSON, for scripts")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no messages on stderr, only data and errors"
    )
    parser.add_argument("--profile", default=None, metavar="NAME", help="the profile to use")
    sub = add_group(parser, "command", "COMMAND", "commands")
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
    parser.set_defaults(run=run, parser=parser)
    return parser


def add_group(
    parser: argparse.ArgumentParser, dest: str, metavar: str, title: str
) -> argparse._SubParsersAction[Parser]:
    """The subcommands of ``parser`` (required: without one, its usage is the error)."""
    sub: argparse._SubParsersAction[Parser] = parser.add_subparsers(
        dest=dest, metavar=metavar, title=title, parser_class=Parser
    )
    sub.required = True
    return sub


def add_branch(sub: Any, name: str, summary: str, description: str) -> Parser:
    """A command that only groups others (``admin``, ``profile``): no run of its own."""
    parser: Parser = sub.add_parser(
        name, help=summary, description=description, formatter_class=_Formatter
    )
    parser.set_defaults(parser=parser)
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


def _error(failure: Failure, json_mode: bool) -> None:
    """The one line (or, with ``--json``, the JSON document) of a failure, on stderr."""
    with contextlib.suppress(Exception):
        if json_mode:
            import json

            sys.stderr.write(json.dumps(failure.document(), sort_keys=True) + "\n")
        else:
            sys.stderr.write(f"acognito: error: {failure.line()}\n")
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
    global _JSON_ERRORS

    import anyio

    from .context import Context
    from .output import Output

    words = list(sys.argv[1:] if argv is None else argv)
    _JSON_ERRORS = "--json" in words
    if os.environ.get("ACOGNITO_DEBUG"):
        import logging

        # Every logger on stderr (acognito's, botocore's, httpx's): acognito keeps
        # tokens and passwords out of them.
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    parser = build_parser()
    args = parser.parse_args(words)
    facts = Facts(
        command=" ".join(_command_path(args)),
        profile=getattr(args, "profile", None) or "default",
        username=getattr(args, "username", None),
    )
    ctx = Context(args, Output(json_mode=args.json, quiet=args.quiet), facts=facts)
    backend = (
        getattr(args, "backend", None) or os.environ.get("ACOGNITO_ASYNC_BACKEND") or "asyncio"
    )
    if backend not in ("asyncio", "trio"):
        bad = Failure(
            f"ACOGNITO_ASYNC_BACKEND={backend!r} is not an async library",
            EXIT_USAGE,
            hint="use asyncio or trio",
        )
        _error(bad, args.json)
        return EXIT_USAGE
    try:
        try:
            return int(anyio.run(_run, ctx, backend=backend))
        except BaseException as exc:
            leaf = _leaf(exc)
            if leaf is exc:
                raise
            raise leaf from None
    except (KeyboardInterrupt, BrokenPipeError, SystemExit):
        raise
    except Exception as exc:
        failure: Failure | None = explain(exc, facts)
        if failure is None and isinstance(exc, OSError):
            where = getattr(exc, "filename", None) or "I/O"
            failure = Failure(f"{exc.strerror or exc} ({where})", error=type(exc).__name__)
        if failure is None:
            if os.environ.get("ACOGNITO_DEBUG"):
                raise
            failure = Failure(
                f"unexpected {type(exc).__name__}: {exc}",
                hint="this is a bug in acognito; ACOGNITO_DEBUG=1 shows the traceback",
                error=type(exc).__name__,
            )
        _error(failure, args.json)
        return failure.exit_code


def _command_path(args: argparse.Namespace) -> list[str]:
    return [
        str(getattr(args, name))
        for name in ("command", "kind", "action", "local_action")
        if getattr(args, name, None)
    ]
