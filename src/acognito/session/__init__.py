"""The rooms :class:`~acognito.AsyncCognito` is composed of (redis-py style command groups).

- :mod:`.state`: per-user state, tokens, verification, refresh, the borrowed pool;
- :mod:`.signin`: sign-up, sign-in, challenges, sign-out;
- :mod:`.account`: the signed-in user's profile, passwords, MFA and devices;
- :mod:`.admin`: admin_* users, groups, identity providers, app clients.
"""
