"""The ``acognito`` command line (``python -m acognito``): profiles, a token cache,
sign-in with every challenge, hosted-UI login, account and admin commands.

One module per concern: :mod:`.app` (parser, exit codes, Ctrl-C), :mod:`.hints`
(errors and what to do), :mod:`.config` (profiles), :mod:`.cache` (tokens) over
:mod:`._fast` (the file format and ``token``'s standard-library-only path),
:mod:`.status`, :mod:`.signin`, :mod:`.tokens_cmd`, :mod:`.account`, :mod:`.mfa`,
:mod:`.passkey`, :mod:`.admin`, :mod:`.m2m`, :mod:`.hosted`, :mod:`.local` (with
:mod:`.inbox`), :mod:`.demo`, with :mod:`.output` and :mod:`.context` shared by all.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (see :mod:`acognito.cli.app`).

    ``acognito token`` with a fresh cached token is answered before anything else is
    imported (:func:`._fast.fast_token`): it runs before every ``curl``.
    """
    words = list(sys.argv[1:] if argv is None else argv)
    from ._fast import fast_token

    code = fast_token(words)
    if code is not None:
        return code
    from .app import main as run

    return run(words)
