"""The command groups :class:`~acognito.AsyncCognito` is composed of (redis-py style).

Each group is a class over a Protocol naming only what it uses of the session:

- :mod:`.tokens`: the tokens, their verification and refresh (``TokensHost``);
- :mod:`.signup`: sign-up, its confirmation, password reset by code (``SignUpHost``);
- :mod:`.signin`: sign-in (typed steps and pycognito's challenges), sign-out
  (``SignInHost``); the sign-in itself lives in :mod:`acognito.flows`;
- :mod:`.account`: the signed-in user's profile, passwords, MFA, devices, passkeys
  (``AccountHost``);
- :mod:`.admin`: ``admin_*`` users, groups, identity providers, app clients
  (``AdminHost``);
- :mod:`._lease`: the session's hold on its pool, and its one send path;
- :mod:`._base`: the contracts every group shares, and ``need()``.
"""
