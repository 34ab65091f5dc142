"""The session side of events and stores (acognito.stores._keeping.Keeper), on a
MemoryTokenStore with refresh functions that count their calls. asyncio and trio."""

from __future__ import annotations

import time

import anyio
import pytest

from acognito.errors import ConfigurationError, NotAuthorizedError
from acognito.events import AuthEvent, Events, RefreshFailed, SignedIn, SignedOut, TokensRefreshed
from acognito.stores import MemoryTokenStore
from acognito.stores._keeping import Keeper
from acognito.stores._session import tokens_of, user_key
from acognito.stores._shared import decode
from acognito.tokens import Tokens

pytestmark = pytest.mark.anyio


def jwt(exp: float) -> str:
    import base64
    import json

    def part(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part({'exp': int(exp), 'iat': int(time.time())})}.sig"


def tokens(n: int, *, life: float = 3600) -> Tokens:
    return Tokens(id_token=f"id{n}", access_token=jwt(time.time() + life), refresh_token=f"rt{n}")


def keeper(store: MemoryTokenStore | None, heard: list[AuthEvent]) -> Keeper:
    hub = Events()
    hub.subscribe(heard.append)
    return Keeper.make(
        store=store,
        store_key=None,
        events=hub,
        user_pool_id="us-east-1_x",
        client_id="c",
        username="ann",
    )


async def test_without_a_store_nothing_is_kept_and_events_still_fire() -> None:
    heard: list[AuthEvent] = []
    kept = keeper(None, heard)
    assert kept.store is None and kept.store_key is None
    await kept.signed_in(tokens(1), "c", "ann")

    async def refresh(start: Tokens) -> Tokens:
        return tokens(2)

    async def adopt(found: Tokens) -> Tokens:
        raise AssertionError("nothing is adopted without a store")

    new = await kept.refresh(tokens(1), refresh, adopt, margin=60, client_id="c", username="ann")
    assert new.refresh_token == "rt2"
    await kept.signed_out("c", "ann", revoked=True)
    assert [type(e) for e in heard] == [SignedIn, TokensRefreshed, SignedOut]
    assert heard[1].rotated and not heard[1].from_store  # type: ignore[attr-defined]
    assert heard[2].revoked  # type: ignore[attr-defined]


async def test_two_sessions_share_one_refresh_through_the_store() -> None:
    store = MemoryTokenStore()
    heard_a: list[AuthEvent] = []
    heard_b: list[AuthEvent] = []
    a, b = keeper(store, heard_a), keeper(store, heard_b)
    assert a.store_key == user_key("us-east-1_x", "c", "ann") == b.store_key
    signed_in = tokens(1, life=30)  # due within the 60 s margin
    await a.signed_in(signed_in, "c", "ann")
    entry = await store.get(a.store_key or "")
    assert entry is not None
    calls: list[str | None] = []

    async def refresh(start: Tokens) -> Tokens:
        calls.append(start.refresh_token)
        await anyio.sleep(0.05)
        return tokens(2)

    adopted: list[Tokens] = []

    async def adopt(found: Tokens) -> Tokens:
        adopted.append(found)
        return found

    results: list[Tokens] = []

    async def renew(k: Keeper) -> None:
        results.append(
            await k.refresh(signed_in, refresh, adopt, margin=60, client_id="c", username="ann")
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(renew, a)
        tg.start_soon(renew, b)
    assert calls == ["rt1"]
    assert {t.refresh_token for t in results} == {"rt2"} and len(adopted) == 1
    stored = decode("k", await store.get(a.store_key or ""))
    assert stored is not None and (tokens_of(stored) or Tokens()).refresh_token == "rt2"
    events = heard_a[1:] + heard_b
    assert sorted(e.from_store for e in events) == [False, True]  # type: ignore[attr-defined]
    await a.signed_out("c", "ann", revoked=False)
    assert await store.get(a.store_key or "") is None


async def test_a_failed_refresh_is_an_event_and_raises() -> None:
    heard: list[AuthEvent] = []
    kept = keeper(MemoryTokenStore(), heard)

    async def refresh(start: Tokens) -> Tokens:
        raise NotAuthorizedError("Refresh Token has been revoked")

    async def adopt(found: Tokens) -> Tokens:
        return found

    with pytest.raises(NotAuthorizedError):
        await kept.refresh(tokens(1), refresh, adopt, margin=60, client_id="c", username="ann")
    assert [type(e) for e in heard] == [RefreshFailed]


def test_bad_options_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="needs a store"):
        Keeper.make(
            store=None, store_key="k", events=None, user_pool_id="p", client_id="c", username="u"
        )
    with pytest.raises(ConfigurationError, match="username or a store_key"):
        Keeper.make(
            store=MemoryTokenStore(),
            store_key=None,
            events=None,
            user_pool_id="p",
            client_id="c",
            username=None,
        )
    with pytest.raises(ConfigurationError, match="Events"):
        Keeper.make(
            store=None,
            store_key=None,
            events=print,  # type: ignore[arg-type]
            user_pool_id="p",
            client_id="c",
            username="u",
        )
