"""Single flight for tasks and threads (acognito._flight)."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from acognito._flight import SingleFlight, ThreadSingleFlight
from acognito.errors import NotAuthorizedError

pytestmark = pytest.mark.anyio


async def test_concurrent_callers_share_one_run() -> None:
    flight: SingleFlight[int] = SingleFlight()
    calls = 0

    async def work() -> int:
        nonlocal calls
        calls += 1
        await anyio.sleep(0.05)
        return calls

    results: list[int] = []

    async def caller() -> None:
        results.append(await flight.run(work))

    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(caller)
    assert calls == 1
    assert results == [1] * 100
    assert not flight.in_flight
    assert await flight.run(work) == 2  # a later caller starts a new flight


async def test_failure_reaches_every_caller_as_its_own_copy() -> None:
    flight: SingleFlight[int] = SingleFlight()

    async def work() -> int:
        await anyio.sleep(0.05)
        raise NotAuthorizedError("revoked", request_id="r-1")

    errors: list[BaseException] = []

    async def caller() -> None:
        try:
            await flight.run(work)
        except NotAuthorizedError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(caller)
    assert len(errors) == 10
    assert len({id(e) for e in errors}) == 10
    assert {(e.code, e.request_id) for e in errors} == {("NotAuthorizedException", "r-1")}


@pytest.mark.parametrize("shield", [True, False])
async def test_cancelling_the_leader(shield: bool) -> None:
    flight: SingleFlight[str] = SingleFlight(shield=shield)
    runs = 0
    started = anyio.Event()

    async def work() -> str:
        nonlocal runs
        runs += 1
        started.set()
        await anyio.sleep(0.1)
        return f"run{runs}"

    got: list[str] = []

    async def waiter() -> None:
        got.append(await flight.run(work))

    leader_scope = anyio.CancelScope()

    async def leader() -> None:
        with leader_scope:
            await flight.run(work)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(leader)
            await started.wait()
            tg.start_soon(waiter)
            await anyio.sleep(0.01)
            leader_scope.cancel()
    # Shielded: the leader's run finishes and the waiter shares it.
    # Unshielded: the run is abandoned and the waiter starts it again.
    assert got == (["run1"] if shield else ["run2"])
    assert runs == (1 if shield else 2)


def test_threads_share_one_run() -> None:
    flight: ThreadSingleFlight[int] = ThreadSingleFlight()
    calls = 0
    lock = threading.Lock()

    def work() -> int:
        nonlocal calls
        with lock:
            calls += 1
        time.sleep(0.1)
        return 7

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(flight.run(work))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
        assert not t.is_alive()
    assert calls == 1
    assert results == [7] * 20


def test_thread_failure_reaches_every_thread() -> None:
    flight: ThreadSingleFlight[int] = ThreadSingleFlight()

    def work() -> int:
        time.sleep(0.05)
        raise NotAuthorizedError("no")

    errors: list[BaseException] = []

    def caller() -> None:
        try:
            flight.run(work)
        except NotAuthorizedError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
        assert not t.is_alive()
    assert len(errors) == 8


# --------------------------------------------------------------------------- copies


def _every_error_class() -> list[type[BaseException]]:
    import inspect

    from acognito import errors

    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, BaseException) and cls.__module__ == errors.__name__
    ]


def _sample(cls: type[BaseException]) -> BaseException:
    from acognito import errors

    if issubclass(cls, errors.OAuthError):
        return cls("the description", error="some_code", status_code=400)
    if issubclass(cls, errors.CognitoServiceError):
        return cls("the message", code="SomeException", request_id="rid", operation="Op")
    if issubclass(cls, errors.ChallengeRequired):
        return cls("", challenge_name="SMS_MFA", session="sess", parameters={"a": "b"})
    if issubclass(cls, errors.JwtInvalidClaimError):
        return cls("the message", claim="exp")
    return cls("the message")


@pytest.mark.parametrize("cls", _every_error_class(), ids=lambda c: c.__name__)
def test_every_error_copies_and_pickles_unchanged(cls: type[BaseException]) -> None:
    import copy
    import pickle

    original = _sample(cls)
    for twin in (copy.copy(original), pickle.loads(pickle.dumps(original))):  # noqa: S301
        assert type(twin) is cls
        assert str(twin) == str(original)
        assert repr(twin) == repr(original)
        assert twin.args == original.args
        assert vars(twin) == vars(original)


def test_a_waiter_gets_an_equal_copy_of_an_oauth_error() -> None:
    from acognito._flight import _own_copy
    from acognito.errors import InvalidClientOAuthError, oauth_error

    original = oauth_error("invalid_client", "bad secret", status_code=401)
    copied = _own_copy(original)
    assert copied is not original
    assert type(copied) is InvalidClientOAuthError
    assert str(copied) == str(original) == "invalid_client: bad secret"
    assert (copied.error, copied.description, copied.status_code) == (
        "invalid_client",
        "bad secret",
        401,
    )  # type: ignore[attr-defined]
