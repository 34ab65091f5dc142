"""The ``acognito`` command line (``python -m acognito``): profiles, a token cache,
sign-in with every challenge, hosted-UI login, account and admin commands.

One module per concern: :mod:`.app` (parser, exit codes, Ctrl-C), :mod:`.config`
(profiles), :mod:`.cache` (tokens), :mod:`.signin`, :mod:`.tokens_cmd`,
:mod:`.account`, :mod:`.mfa`, :mod:`.admin`, :mod:`.m2m`, :mod:`.hosted`,
:mod:`.demo`, with :mod:`.output` and :mod:`.context` shared by all.
"""

from .app import main

__all__ = ["main"]
