"""acognito.sync: pycognito's blocking API over the async core, against the local Cognito.

Plain sync tests (no event loop in the test), from one thread and from several.
"""

from __future__ import annotations

import base64
import datetime
import gc
import inspect
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import anyio
import boto3
import pycognito
import pycognito.aws_srp
import pytest

from acognito import AsyncCognito, sync
from acognito._loop_thread import shared_loop
from acognito.errors import (
    ConfigurationError,
    NotAuthorizedError,
    SoftwareTokenMFAChallengeException,
    TokenVerificationError,
    UserNotFoundError,
)
from acognito.testing import MOTO_TOTP_SECRET, CognitoAdmin, LocalPool, totp
from acognito.testing._srp_server import SrpServer, user_verifier

PASSWORD = "Sup3r-Secret-Passw0rd!"
WAIT = 60  # seconds: the bound on every wait for a worker thread


def _admin(local, fn):
    async def run():
        async with CognitoAdmin(local.endpoint_url, region=local.region) as admin:
            return await fn(admin)

    return anyio.run(run)


@pytest.fixture
def pool(cognito_local) -> LocalPool:
    return _admin(cognito_local, lambda admin: admin.create_local_pool())


@pytest.fixture
def user(cognito_local, pool) -> str:
    _admin(cognito_local, lambda a: a.create_user(pool.user_pool_id, "alice", PASSWORD))
    return "alice"


def _kwargs(pool: LocalPool, *, secret: bool = False) -> dict:
    kw = pool.cognito_kwargs(secret=secret)
    kw.pop("user_pool_id"), kw.pop("client_id")
    return kw


def _session(pool: LocalPool, username: str | None = None, **extra) -> sync.Cognito:
    kw = pool.cognito_kwargs()
    return sync.Cognito(
        kw.pop("user_pool_id"), kw.pop("client_id"), username=username, **kw, **extra
    )


# ----------------------------------------------------------------------------- shape


def test_constructors_take_pycognitos_positional_order() -> None:
    ours = list(inspect.signature(sync.Cognito).parameters)
    theirs = list(inspect.signature(pycognito.Cognito).parameters)
    assert ours[: len(theirs)] == theirs
    ours = list(inspect.signature(sync.AWSSRP).parameters)
    theirs = list(inspect.signature(pycognito.aws_srp.AWSSRP).parameters)
    assert ours[: len(theirs)] == theirs


def test_every_public_pycognito_method_exists_and_is_blocking(pool) -> None:
    with _session(pool, "x") as c:
        for name, member in inspect.getmembers(pycognito.Cognito):
            if name.startswith("_") or not callable(member):
                continue
            ours = getattr(c, name)
            assert callable(ours), name
            assert not inspect.iscoroutinefunction(ours), name
    for name, member in inspect.getmembers(pycognito.aws_srp.AWSSRP):
        if name.startswith("_") or not callable(member):
            continue
        if name in {
            "generate_random_small_a",
            "calculate_a",
            "get_password_authentication_key",
            "get_device_authentication_key",
            "process_device_challenge",
        }:
            continue  # SRP internals: see the migration guide
        assert callable(getattr(sync.AWSSRP, name)), name


def test_unsupported_client_kwargs_are_refused_by_name(pool) -> None:
    kw = pool.cognito_kwargs()
    with pytest.raises(ConfigurationError, match="verify"):
        sync.Cognito(kw["user_pool_id"], kw["client_id"], boto3_client_kwargs={"verify": False})


# ----------------------------------------------------------------------------- flows


def test_register_sign_in_profile_refresh_logout(pool) -> None:
    with _session(pool) as c:
        c.set_base_attributes(email="bob@example.com", given_name="Bob")
        answer = c.register("bob", PASSWORD)
        assert "UserSub" in answer
        assert c.username == "bob"
        assert c.email == "bob@example.com"  # pycognito sets registered attributes
        assert not hasattr(c, "password")  # but never keeps the password
        c.admin_confirm_sign_up()
        c.authenticate(PASSWORD)
        assert c.access_token and c.id_token and c.refresh_token
        assert c.token_type == "Bearer"
        assert c.id_claims["cognito:username"] == "bob"
        assert c.check_token() is False

        user = c.get_user(attr_map={"given_name": "first_name"})
        assert isinstance(user, sync.UserObj)
        assert user.first_name == "Bob" and user.email == "bob@example.com"
        user.first_name = "Robert"
        user.save()
        assert c.get_user().given_name == "Robert"
        assert c.admin_get_user().user_status == "CONFIRMED"

        before = c.access_token
        c.renew_access_token()
        assert c.access_token and c.access_token != before
        c.logout()
        assert c.access_token is None and c.token_type is None


def test_attributes_set_on_the_sync_object_reach_the_core(pool, user) -> None:
    with _session(pool) as c:
        c.username = user
        c.authenticate(PASSWORD)
        token = c.access_token
    with _session(pool) as again:
        again.access_token = token
        assert again.get_user().username == user


def test_wrong_password_over_srp_is_refused(pool, user) -> None:
    with _session(pool, user) as c, pytest.raises(NotAuthorizedError):
        c.authenticate("wrong-" + PASSWORD)


def test_service_errors_are_typed_and_read_like_boto3(pool, user) -> None:
    with _session(pool, user) as c:
        with pytest.raises(NotAuthorizedError) as caught:
            c.admin_authenticate("wrong-" + PASSWORD)
        assert caught.value.response["Error"]["Code"] == "NotAuthorizedException"
        assert "wrong-" not in str(caught.value)
        c.username = "nobody"
        with pytest.raises(UserNotFoundError):
            c.admin_get_user()


def test_mfa_challenge_raises_pycognitos_exception_and_continues(cognito_local) -> None:
    mfa_pool = _admin(cognito_local, lambda a: a.create_local_pool(mfa="OPTIONAL"))
    _admin(cognito_local, lambda a: a.create_user(mfa_pool.user_pool_id, "pat", PASSWORD))
    with _session(mfa_pool, "pat") as c:
        c.authenticate(PASSWORD)
        secret = c.associate_software_token()
        assert re.fullmatch("[A-Z2-7]{32}", secret)  # the user's own, as on Cognito
        assert c.verify_software_token(anyio.run(_fresh, secret), "phone")
        c.set_user_mfa_preference(False, True, "SOFTWARE_TOKEN")
        c.logout()
        with pytest.raises(SoftwareTokenMFAChallengeException) as caught:
            c.authenticate(PASSWORD)
        assert c.mfa_tokens == caught.value.get_tokens()
        assert c.access_token is None
    # pycognito's pattern: continue on another instance with the exception's tokens.
    with _session(mfa_pool, "pat") as other:
        other.respond_to_software_token_mfa_challenge(
            anyio.run(_fresh, secret), caught.value.get_tokens()
        )
        assert other.access_token


async def _fresh(secret: str) -> str:
    from acognito.testing import fresh_totp

    return await fresh_totp(secret)


def test_groups_and_custom_user_class_with_pycognitos_keyword(pool, user) -> None:
    seen = []

    class MyUser(sync.UserObj):
        def __init__(self, username, attribute_list, cognito_obj, metadata=None, attr_map=None):
            seen.append(cognito_obj)
            super().__init__(username, attribute_list, cognito_obj, metadata, attr_map)

    class MyCognito(sync.Cognito):
        user_class = MyUser

    kw = pool.cognito_kwargs()
    with MyCognito(kw.pop("user_pool_id"), kw.pop("client_id"), username=user, **kw) as c:
        assert isinstance(c.admin_get_user(), MyUser)
        assert seen == [c]
        _admin(
            _Local(pool),
            lambda a: a.create_group(pool.user_pool_id, "staff", precedence=3),
        )
        c.admin_add_user_to_group(user, "staff")
        assert c.admin_list_groups_for_user(user) == ["staff"]
        (group,) = c.get_groups()
        assert isinstance(group, sync.GroupObj)
        assert (group.group_name, group.precedence) == ("staff", 3)
        group.description = "the staff"
        group.save()
        assert c.get_group("staff").description == "the staff"
        assert [u.username for u in c.get_users()] == [user]


class _Local:
    def __init__(self, pool: LocalPool) -> None:
        self.endpoint_url, self.region = pool.endpoint_url, pool.region


def test_tokens_of_another_app_client_are_refused(pool, user) -> None:
    with _session(pool, user) as c:
        c.authenticate(PASSWORD)
        access = c.access_token
    kw = pool.cognito_kwargs(secret=True)
    with sync.Cognito(kw.pop("user_pool_id"), kw.pop("client_id"), **kw) as other:
        with pytest.raises(TokenVerificationError):
            other.verify_token(access, "access_token", "access")
        assert other.access_token is None


def test_get_keys_gives_the_pools_jwks(pool) -> None:
    with _session(pool) as c:
        keys = c.get_keys()["keys"]
        assert keys and all(k["kty"] == "RSA" and k["n"] and k["e"] for k in keys)
        assert c.get_key(keys[0]["kid"]) == keys[0]
        assert c.get_key("no-such-kid") is None


# ----------------------------------------------------------------------------- threads


def test_one_object_shared_by_many_threads(pool, user) -> None:
    with _session(pool, user) as c:
        c.authenticate(PASSWORD)
        with ThreadPoolExecutor(8) as workers:
            futures = [workers.submit(lambda: c.get_user().username) for _ in range(24)]
            assert [f.result(timeout=WAIT) for f in futures] == [user] * 24
            refreshes = [workers.submit(c.renew_access_token) for _ in range(8)]
            for f in refreshes:
                f.result(timeout=WAIT)
        assert c.get_user().username == user


def test_one_object_per_thread_signing_in_at_once(cognito_local, pool) -> None:
    names = [f"user{i}" for i in range(6)]

    async def create(admin):
        for name in names:
            await admin.create_user(pool.user_pool_id, name, PASSWORD)

    _admin(cognito_local, create)
    barrier = threading.Barrier(len(names), timeout=WAIT)

    def sign_in(name: str) -> str:
        with _session(pool, name) as c:
            barrier.wait()
            c.authenticate(PASSWORD)
            return c.id_claims["cognito:username"]

    with ThreadPoolExecutor(len(names)) as workers:
        results = [workers.submit(sign_in, n) for n in names]
        assert [f.result(timeout=WAIT) for f in results] == names


@pytest.mark.anyio
async def test_usable_from_worker_threads_of_an_async_app(pool, user) -> None:
    """A sync library inside an asyncio or trio app, called through to_thread."""

    def work() -> str:
        with _session(pool, user) as c:
            c.authenticate(PASSWORD)
            return c.get_user().username

    with anyio.fail_after(WAIT):
        assert await anyio.to_thread.run_sync(work) == user


def _threads_but_workers() -> set[threading.Thread]:
    """The live threads, without anyio's pool of worker threads (they come and go)."""
    return {t for t in threading.enumerate() if t.name != "AnyIO worker thread"}


def test_every_sync_object_runs_on_the_one_loop_thread(pool, user) -> None:
    """Sync objects share the process's one loop thread: a thread per object would leak a
    daemon thread each (counted here, not read from the loop's internals)."""
    first = _session(pool, user)
    first.authenticate(PASSWORD)  # the shared loop exists from here on
    before = _threads_but_workers()
    objects = [_session(pool, user) for _ in range(10)]
    for c in objects:
        c.authenticate(PASSWORD)
    boto = boto3.client(
        "cognito-idp",
        region_name=pool.region,
        endpoint_url=pool.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with sync.AWSSRP(
        user, PASSWORD, pool.user_pool_id, pool.public_client.client_id, client=boto
    ) as srp:
        assert "AccessToken" in srp.authenticate_user()["AuthenticationResult"]
    boto.close()
    assert _threads_but_workers() - before == set()
    for c in [first, *objects]:
        c.close()
    del objects
    gc.collect()
    assert _threads_but_workers() - before == set()


def test_a_forgotten_object_is_closed_when_collected(pool) -> None:
    c = _session(pool)
    core = c._async
    finalizer = c._finalizer
    del c
    gc.collect()
    assert not finalizer.alive

    async def scheduled_closes() -> None:
        # The finalizer scheduled the close before this coroutine (FIFO on the loop).
        with anyio.fail_after(WAIT):
            await shared_loop().drain()

    shared_loop().run(scheduled_closes)
    assert core.closed


def test_close_is_final(pool) -> None:
    c = _session(pool, "x")
    c.close()
    with pytest.raises(Exception, match="closed"):
        c.admin_get_user()


# ----------------------------------------------------------------------------- sessions


def test_boto3_session_and_client_kwargs_are_honoured(pool, user) -> None:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=pool.region
    )
    with sync.Cognito(
        pool.user_pool_id,
        pool.public_client.client_id,
        username=user,
        session=session,
        boto3_client_kwargs={"endpoint_url": pool.endpoint_url},
    ) as c:
        assert c.admin_get_user().username == user
        assert c.user_pool_url == (
            f"https://cognito-idp.{pool.region}.amazonaws.com/{pool.user_pool_id}"
        )


# ----------------------------------------------------------------------------- AWSSRP


def test_awssrp_signs_in_and_refuses_nonsense(pool, user) -> None:
    boto = boto3.client(
        "cognito-idp",
        region_name=pool.region,
        endpoint_url=pool.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with sync.AWSSRP(
        user, PASSWORD, pool.user_pool_id, pool.public_client.client_id, client=boto
    ) as aws:
        tokens = aws.authenticate_user()
        assert tokens["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ConfigurationError, match="not both"):
        sync.AWSSRP(user, PASSWORD, pool.user_pool_id, "c", "us-east-1", boto)
    with pytest.raises(ConfigurationError, match="boto3"):
        sync.AWSSRP(user, PASSWORD, pool.user_pool_id, "c", client=object())


def test_awssrp_low_level_steps_prove_the_password_to_an_srp_server() -> None:
    pool_id = "us-east-1_AbCdEf"
    aws = sync.AWSSRP("carol", PASSWORD, pool_id, "client1", "us-east-1", client_secret="s3")
    try:
        params = aws.get_auth_params()
        assert params["USERNAME"] == "carol" and params["SECRET_HASH"]
        salt_hex, verifier = user_verifier(pool_id, "sub-of-carol", PASSWORD)
        server = SrpServer(verifier=verifier, salt_hex=salt_hex)
        block = base64.b64encode(b"secret-block").decode()
        answer = aws.process_challenge(
            {
                "USER_ID_FOR_SRP": "sub-of-carol",
                "SRP_B": server.srp_b,
                "SALT": server.salt,
                "SECRET_BLOCK": block,
                "USERNAME": "carol",
            },
            params,
        )
        assert server.verify_claim(
            srp_a=params["SRP_A"],
            first=pool_id.split("_")[1],
            second="sub-of-carol",
            secret_block=block,
            timestamp=answer["TIMESTAMP"],
            signature=answer["PASSWORD_CLAIM_SIGNATURE"],
        )
        assert answer["SECRET_HASH"] == sync.AWSSRP.get_secret_hash("carol", "client1", "s3")
        assert "s3" not in repr(aws) and PASSWORD not in repr(aws)
    finally:
        aws.close()


@pytest.mark.parametrize(
    ("when", "text"),
    [
        (datetime.datetime(2022, 1, 1, 0, 0, 0), "Sat Jan 1 00:00:00 UTC 2022"),
        (datetime.datetime(2022, 1, 3, 9, 0, 0), "Mon Jan 3 09:00:00 UTC 2022"),
        (datetime.datetime(2022, 12, 31, 23, 59, 59), "Sat Dec 31 23:59:59 UTC 2022"),
    ],
)
def test_cognito_formatted_timestamp_matches_pycognito(when, text) -> None:
    assert sync.AWSSRP.get_cognito_formatted_timestamp(when) == text
    assert pycognito.aws_srp.AWSSRP.get_cognito_formatted_timestamp(when) == text


def test_sync_and_async_share_the_exception_classes() -> None:
    assert sync.SoftwareTokenMFAChallengeException is SoftwareTokenMFAChallengeException
    assert isinstance(AsyncCognito, type)
    assert totp(MOTO_TOTP_SECRET).isdigit()


def test_a_program_that_never_closes_exits_cleanly(pool, user) -> None:
    """The private loop is a daemon thread: a forgotten close() neither hangs exit nor
    prints an error."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from acognito.sync import Cognito\n"
        "c = Cognito(sys.argv[1], sys.argv[2], username=sys.argv[3], endpoint_url=sys.argv[4],"
        " access_key='testing', secret_key='testing')\n"
        "c.admin_authenticate(sys.argv[5])\n"
        "print('signed in', bool(c.access_token))\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            pool.user_pool_id,
            pool.public_client.client_id,
            user,
            pool.endpoint_url,
            PASSWORD,
        ],
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "signed in True"
    assert "Traceback" not in done.stderr and "Unclosed" not in done.stderr, done.stderr
