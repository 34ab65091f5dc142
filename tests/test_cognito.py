"""AsyncCognito against moto server on loopback (real HTTP through aiobotocore)."""

from __future__ import annotations

import re

import anyio
import pytest

import acognito
from acognito import AsyncCognito, CognitoPool
from acognito.errors import (
    CodeMismatchError,
    CognitoServiceError,
    ConfigurationError,
    EnableSoftwareTokenMFAError,
    ExpiredCodeError,
    ForceChangePasswordException,
    GroupExistsError,
    NotAuthorizedError,
    ResourceNotFoundError,
    SessionClosedError,
    SoftwareTokenMFAChallengeException,
    UsernameExistsError,
    UserNotFoundError,
)
from acognito.testing import DEFAULT_PASSWORD, fresh_totp
from acognito.tokens import peek_claims

pytestmark = pytest.mark.anyio

PASSWORD = "Sup3r-Secret-Passw0rd!"


# ----------------------------------------------------------------------------- no network


@pytest.mark.parametrize(
    "kwargs",
    [
        {"user_pool_id": "nounderscore", "client_id": "abc"},
        {"user_pool_id": "eu-west-1_", "client_id": "abc"},
        {"user_pool_id": "eu-west-1_abc!", "client_id": "abc"},
        {"user_pool_id": 42, "client_id": "abc"},
        {"user_pool_id": "eu-west-1_abc", "client_id": ""},
        {"user_pool_id": "eu-west-1_abc", "client_id": "has space"},
        {"user_pool_id": "eu-west-1_abc", "client_id": "abc", "access_key": "AKIA"},
        {"user_pool_id": "eu-west-1_abc", "client_id": "abc", "device_key": "k"},
    ],
)
def test_bad_construction_is_rejected_up_front(kwargs) -> None:
    with pytest.raises(ConfigurationError):
        AsyncCognito(**kwargs)


def test_region_defaults_from_pool_id_and_urls() -> None:
    c = AsyncCognito("eu-west-2_AbC123", "client1")
    assert c.user_pool_region == "eu-west-2"
    assert c.issuer == "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_AbC123"
    assert c.jwks_uri == c.issuer + "/.well-known/jwks.json"
    local = AsyncCognito("eu-west-2_AbC123", "client1", endpoint_url="http://127.0.0.1:9/")
    assert local.jwks_uri == "http://127.0.0.1:9/eu-west-2_AbC123/.well-known/jwks.json"
    assert local.issuer == c.issuer


def test_repr_hides_every_secret() -> None:
    secrets = [
        "tok.en.id",
        "tok.en.access",
        "refresh-secret",
        "client-secret",
        "AKIA-x",
        "aws-secret",
        "dev-pass",
    ]
    c = AsyncCognito(
        "eu-west-1_abc",
        "client1",
        username="bob",
        id_token=secrets[0],
        access_token=secrets[1],
        refresh_token=secrets[2],
        client_secret=secrets[3],
        access_key=secrets[4],
        secret_key=secrets[5],
        device_key="eu-west-1_dev",
        device_group_key="grp",
        device_password=secrets[6],
    )
    text = repr(c) + repr(c.tokens) + repr(c.device) + repr(c._idp)
    for secret in secrets:
        assert secret not in text
    assert "bob" in repr(c)


async def test_missing_inputs_fail_before_any_network_call() -> None:
    # The endpoint is a closed port: any network attempt would raise a connection error.
    c = AsyncCognito("us-east-1_abc", "client1", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(ConfigurationError, match="username"):
        await c.authenticate(PASSWORD)
    c.username = "bob"
    with pytest.raises(ConfigurationError, match="password"):
        await c.authenticate("")
    with pytest.raises(ConfigurationError, match="access token"):
        await c.get_user()
    with pytest.raises(ConfigurationError, match="refresh token"):
        await c.renew_access_token()
    with pytest.raises(ConfigurationError, match="no sign-in challenge"):
        await c.respond_to_software_token_mfa_challenge("123456")
    with pytest.raises(ConfigurationError):
        await c.set_user_mfa_preference(True, False, "EMAIL")
    assert not c._idp.is_open
    await c.close()


async def test_closed_session_refuses_calls(cognito_pool) -> None:
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="x") as c:
        pass
    assert c.closed
    with pytest.raises(SessionClosedError):
        await c.authenticate(PASSWORD)


async def test_unreachable_endpoint_is_a_typed_connection_error() -> None:
    from botocore.config import Config

    from acognito.errors import CognitoConnectionError

    async with AsyncCognito(
        "us-east-1_abc",
        "client1",
        username="bob",
        endpoint_url="http://127.0.0.1:9",
        botocore_config=Config(retries={"max_attempts": 0}, connect_timeout=2),
    ) as c:
        with pytest.raises(CognitoConnectionError):
            await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")


# ----------------------------------------------------------------------------- sign-up to logout


@pytest.mark.parametrize("secret", [False, True], ids=["public", "confidential"])
@pytest.mark.parametrize("auth_flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"])
async def test_register_confirm_sign_in_get_user_logout(
    cognito_pool, cognito_inbox, secret, auth_flow
) -> None:
    async with AsyncCognito(**cognito_pool.cognito_kwargs(secret=secret)) as c:
        c.set_base_attributes(email="carol@example.com", given_name="Carol")
        result = await c.register("carol", PASSWORD)
        assert result["UserConfirmed"] is False
        assert result["UserSub"]
        assert c.username == "carol"
        code = await anyio.to_thread.run_sync(
            cognito_inbox.last_code, cognito_pool.user_pool_id, "carol", "sign_up"
        )
        await c.confirm_sign_up(code)
        await c.authenticate(PASSWORD, auth_flow=auth_flow)
        assert c.access_token and c.id_token and c.refresh_token
        assert c.token_type == "Bearer"
        assert c.expires_datetime is not None and c.expires_datetime.tzinfo is not None
        assert peek_claims(c.access_token)["client_id"] == c.client_id
        user = await c.get_user(attr_map={"given_name": "first_name"})
        assert user.username == "carol"
        assert user.first_name == "Carol"
        assert user.email == "carol@example.com"
        assert user.sub == result["UserSub"]
        old_access = c.access_token
        await c.logout()
        assert c.access_token is None and c.refresh_token is None and c.id_token is None
        # The signed-out access token no longer works.
        c.access_token = old_access
        with pytest.raises(NotAuthorizedError):
            await c.get_user()


async def test_custom_attributes_and_attr_map_on_register(cognito_admin) -> None:
    pool = await cognito_admin.create_local_pool(custom_attributes=["custom:city"])
    async with AsyncCognito(**pool.cognito_kwargs()) as c:
        c.set_base_attributes(first="Dee", email="dee@example.com")
        c.add_custom_attributes(city="Lisbon")
        await c.register("dee", PASSWORD, attr_map={"given_name": "first"})
        await c.admin_confirm_sign_up()
        user = await c.admin_get_user()
        assert user.given_name == "Dee"
        assert user.attributes["custom:city"] == "Lisbon"
        assert user.status == "CONFIRMED"
        assert user.enabled is True


async def test_wrong_password_is_typed_and_says_nothing_secret(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "erin", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="erin") as c:
        with pytest.raises(NotAuthorizedError) as info:
            await c.authenticate("Wrong-Passw0rd!", auth_flow="USER_PASSWORD_AUTH")
        err = info.value
        assert err.code == "NotAuthorizedException"
        assert err.operation == "InitiateAuth"
        assert err.request_id
        assert isinstance(err, CognitoServiceError) and isinstance(err, acognito.CognitoError)
        assert "Wrong-Passw0rd!" not in str(err) + repr(err)
        assert c.access_token is None


async def test_unknown_user_and_duplicate_sign_up(cognito_admin, cognito_pool) -> None:
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="nobody") as c:
        with pytest.raises(UserNotFoundError):
            await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        await c.register("frank", PASSWORD)
        with pytest.raises(UsernameExistsError):
            await c.register("frank", PASSWORD)


async def test_admin_authenticate(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "gina", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="gina") as c:
        await c.admin_authenticate(PASSWORD)
        assert peek_claims(c.access_token)["username"] == "gina"


# ----------------------------------------------------------------------------- passwords


async def test_forgot_password_round_trip(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(
        cognito_pool.user_pool_id, "hank", PASSWORD, attributes={"email": "hank@example.com"}
    )
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="hank") as c:
        details = await c.initiate_forgot_password()
        assert isinstance(details, dict)
        await cognito_admin.forgot_password_code(cognito_pool.public_client.client_id, "hank")
        # moto answers a wrong code with ExpiredCodeException, Cognito with CodeMismatch.
        with pytest.raises((CodeMismatchError, ExpiredCodeError)):
            await c.confirm_forgot_password("moto-confirmation-code:000000", "An0ther-Passw0rd!")
        with pytest.raises(NotAuthorizedError):
            await c.authenticate("An0ther-Passw0rd!", auth_flow="USER_PASSWORD_AUTH")
        code = await cognito_admin.forgot_password_code(
            cognito_pool.public_client.client_id, "hank"
        )
        await c.confirm_forgot_password(code, "An0ther-Passw0rd!")
        with pytest.raises(NotAuthorizedError):
            await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        await c.authenticate("An0ther-Passw0rd!", auth_flow="USER_PASSWORD_AUTH")


async def test_change_password(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "ivy", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="ivy") as c:
        await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        await c.change_password(PASSWORD, "Changed-Passw0rd!")
        await c.authenticate("Changed-Passw0rd!", auth_flow="USER_PASSWORD_AUTH")
        with pytest.raises(NotAuthorizedError):
            await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")


async def test_new_password_challenge_and_admin_create_user(cognito_pool) -> None:
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        response = await c.admin_create_user(
            "jack",
            temporary_password="Temp-Passw0rd!",
            additional_kwargs={"MessageAction": "SUPPRESS"},
            email="jack@example.com",
        )
        assert response["User"]["UserStatus"] == "FORCE_CHANGE_PASSWORD"
        with pytest.raises(ForceChangePasswordException) as info:
            await c.authenticate("Temp-Passw0rd!", auth_flow="USER_PASSWORD_AUTH")
        assert info.value.challenge_name == "NEW_PASSWORD_REQUIRED"
        assert "Session" in info.value.get_tokens()
        assert info.value.session not in repr(info.value) + str(info.value)
        await c.new_password_challenge("Temp-Passw0rd!", "Final-Passw0rd!")
        assert c.access_token
        user = await c.admin_get_user()
        assert user.status == "CONFIRMED"


async def test_admin_reset_password(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(
        cognito_pool.user_pool_id,
        "kim",
        PASSWORD,
        attributes={"email": "kim@example.com", "email_verified": "true"},
    )
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="kim") as c:
        await c.admin_reset_password("kim")
        user = await c.admin_get_user()
        assert user.status == "RESET_REQUIRED"


# ----------------------------------------------------------------------------- profile & users


async def test_update_profile_and_user_object_save(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(
        cognito_pool.user_pool_id, "lea", PASSWORD, attributes={"given_name": "Lea"}
    )
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="lea") as c:
        await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        await c.update_profile({"first": "Leah"}, attr_map={"given_name": "first"})
        user = await c.get_user()
        assert user.given_name == "Leah"
        user.family_name = "Smith"
        await user.save()
        assert (await c.get_user()).family_name == "Smith"
        await c.admin_update_profile({"family_name": "Jones"})
        assert (await c.admin_get_user()).family_name == "Jones"
        admin_user = await c.admin_get_user()
        admin_user.family_name = "Brown"
        await admin_user.save(admin=True)
        assert (await c.admin_get_user()).family_name == "Brown"
        # Tokens never end up in a user's metadata.
        assert c.access_token not in repr(user.metadata)


async def test_user_object_from_parts_and_delete(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "mo", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="mo") as c:
        user = c.get_user_obj(
            username="mo",
            attribute_list=[
                {"Name": "email_verified", "Value": "true"},
                {"Name": "given_name", "Value": "Mo"},
            ],
            metadata={"user_status": "CONFIRMED"},
            attr_map={"given_name": "first_name"},
        )
        assert user.email_verified is True
        assert user.first_name == "Mo"
        assert user.status == "CONFIRMED"
        with pytest.raises(AttributeError):
            _ = user.no_such_attribute
        await user.delete(admin=True)
        with pytest.raises(UserNotFoundError):
            await c.admin_get_user()


async def test_get_users_walks_every_page_and_filters(cognito_admin, cognito_pool) -> None:
    async with anyio.create_task_group() as tg:
        for i in range(7):
            tg.start_soon(
                lambda i=i: cognito_admin.create_user(
                    cognito_pool.user_pool_id,
                    f"user{i}",
                    attributes={"email": f"user{i}@example.com"},
                )
            )
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        users = await c.get_users()
        assert sorted(u.username for u in users) == [f"user{i}" for i in range(7)]
        paged = [u.username async for u in c.iter_users(page_size=2)]
        assert sorted(paged) == [f"user{i}" for i in range(7)]
        matched = [u.username async for u in c.iter_users(filter='email = "user3@example.com"')]
        assert matched == ["user3"]


async def test_enable_disable_and_admin_delete(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "ned", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="ned") as c:
        await c.admin_disable_user("ned")
        assert (await c.admin_get_user()).enabled is False
        with pytest.raises(NotAuthorizedError):
            await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        await c.admin_enable_user("ned")
        await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        await c.admin_delete_user()
        with pytest.raises(UserNotFoundError):
            await c.admin_get_user()


# ----------------------------------------------------------------------------- groups


async def test_groups(cognito_admin, cognito_pool) -> None:
    pool_id = cognito_pool.user_pool_id
    await cognito_admin.create_user(pool_id, "olga", PASSWORD)
    for i in range(5):
        await cognito_admin.create_group(pool_id, f"team{i}", description=f"Team {i}", precedence=i)
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        group = await c.get_group("team1")
        assert (group.group_name, group.description, group.precedence) == ("team1", "Team 1", 1)
        assert sorted(g.group_name for g in await c.get_groups()) == [f"team{i}" for i in range(5)]
        await c.admin_add_user_to_group("olga", "team2")
        await c.admin_add_user_to_group("olga", "team3")
        assert sorted(await c.admin_list_groups_for_user("olga")) == ["team2", "team3"]
        await c.admin_remove_user_from_group("olga", "team2")
        assert await c.admin_list_groups_for_user("olga") == ["team3"]
        group.description = "Renamed"
        await group.save()
        assert (await c.get_group("team1")).description == "Renamed"
        await group.delete()
        with pytest.raises(ResourceNotFoundError):
            await c.get_group("team1")
        obj = c.get_group_obj({"GroupName": "x", "Precedence": 3, "Other": 1})
        assert (obj.group_name, obj.precedence, obj.extra) == ("x", 3, {"Other": 1})
    with pytest.raises(GroupExistsError):
        await cognito_admin.create_group(pool_id, "team0")


# ----------------------------------------------------------------------------- pool admin


async def test_identity_provider_and_app_client_admin(cognito_pool) -> None:
    pool_id = cognito_pool.user_pool_id
    client_id = cognito_pool.public_client.client_id
    async with AsyncCognito(**cognito_pool.cognito_kwargs()) as c:
        created = await c.admin_create_identity_provider(
            pool_id,
            "Google",
            "Google",
            {"client_id": "gid", "client_secret": "gsecret", "authorize_scopes": "openid"},
        )
        assert created["ProviderName"] == "Google"
        described = await c.admin_describe_identity_provider(pool_id, "Google")
        assert described["IdentityProvider"]["ProviderType"] == "Google"
        await c.admin_update_identity_provider(
            pool_id, "Google", AttributeMapping={"email": "email"}
        )
        described = await c.admin_describe_identity_provider(pool_id, "Google")
        assert described["IdentityProvider"]["AttributeMapping"] == {"email": "email"}
        client = await c.describe_user_pool_client(pool_id, client_id)
        assert client["ClientId"] == client_id
        await c.admin_update_user_pool_client(pool_id, client_id, ClientName="renamed")
        assert (await c.describe_user_pool_client(pool_id, client_id))["ClientName"] == "renamed"


# ----------------------------------------------------------------------------- MFA


async def test_totp_mfa_setup_and_challenge(cognito_admin) -> None:
    pool = await cognito_admin.create_local_pool(mfa="OPTIONAL")
    await cognito_admin.create_user(pool.user_pool_id, "pat", PASSWORD)
    async with AsyncCognito(**pool.cognito_kwargs(), username="pat") as c:
        await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        first = await c.associate_software_token()
        secret = await c.associate_software_token()
        # Cognito's shape, a new secret each call: the latest replaces the unverified first.
        assert re.fullmatch("[A-Z2-7]{32}", secret) and secret != first
        with pytest.raises(EnableSoftwareTokenMFAError):
            await c.verify_software_token(await fresh_totp(first), "phone")
        assert await c.verify_software_token(await fresh_totp(secret), "phone")
        await c.set_user_mfa_preference(False, True, "SOFTWARE_TOKEN")
        await c.logout()

        with pytest.raises(SoftwareTokenMFAChallengeException) as info:
            await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        assert c.access_token is None
        assert c.mfa_tokens == info.value.get_tokens()
        await c.respond_to_software_token_mfa_challenge(await fresh_totp(secret))
        assert c.access_token and c.mfa_tokens is None

        # pycognito's pattern: continue the challenge on a brand-new instance.
        with pytest.raises(SoftwareTokenMFAChallengeException) as info:
            await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        saved = info.value.get_tokens()
    async with AsyncCognito(**pool.cognito_kwargs(), username="pat") as fresh:
        with pytest.raises(CognitoServiceError):
            await fresh.respond_to_software_token_mfa_challenge("000000", saved)
    async with AsyncCognito(**pool.cognito_kwargs(), username="pat") as fresh:
        with pytest.raises(SoftwareTokenMFAChallengeException) as info:
            await fresh.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        saved = info.value.get_tokens()
    async with AsyncCognito(**pool.cognito_kwargs(), username="pat") as other:
        await other.respond_to_software_token_mfa_challenge(await fresh_totp(secret), saved)
        assert other.access_token


async def test_wrong_challenge_kind_is_refused(cognito_admin) -> None:
    pool = await cognito_admin.create_local_pool(mfa="OPTIONAL")
    await cognito_admin.create_user(pool.user_pool_id, "quinn", PASSWORD)
    async with AsyncCognito(**pool.cognito_kwargs(), username="quinn") as c:
        await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        secret = await c.associate_software_token()
        await c.verify_software_token(await fresh_totp(secret))
        await c.set_user_mfa_preference(False, True, "SOFTWARE_TOKEN")
        with pytest.raises(SoftwareTokenMFAChallengeException):
            await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        with pytest.raises(ConfigurationError, match="SMS_MFA"):
            await c.respond_to_sms_mfa_challenge("123456")


# ----------------------------------------------------------------------------- tokens


async def test_renew_and_check_token(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "rita", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(secret=True), username="rita") as c:
        await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        refresh = c.refresh_token
        first = c.tokens
        assert await c.check_token() is False
        assert c.tokens is first
        # A margin wider than the token's life forces a refresh.
        assert await c.check_token(margin=10**6) is True
        assert c.tokens is not first
        assert c.refresh_token == refresh
        assert c.access_token


async def test_tokens_from_constructor_work(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "sam", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="sam") as c:
        await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        saved = (c.id_token, c.access_token, c.refresh_token)
    async with AsyncCognito(
        **cognito_pool.cognito_kwargs(),
        id_token=saved[0],
        access_token=saved[1],
        refresh_token=saved[2],
    ) as view:
        assert (await view.get_user()).username == "sam"
        await view.renew_access_token()
        assert view.access_token


async def test_default_password_helper_signs_in(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(cognito_pool.user_pool_id, "tom")
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="tom") as c:
        await c.authenticate(DEFAULT_PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        assert c.access_token


# ----------------------------------------------------------------------------- verification


async def test_claims_are_verified_on_sign_in_and_refresh(cognito_admin, cognito_pool) -> None:
    await cognito_admin.create_user(
        cognito_pool.user_pool_id, "uma", PASSWORD, attributes={"email": "uma@example.com"}
    )
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="uma") as c:
        assert c.id_claims is None and c.access_claims is None
        await c.authenticate(PASSWORD)
        assert c.access_claims["token_use"] == "access"
        assert c.access_claims["client_id"] == c.client_id
        assert c.id_claims["aud"] == c.client_id
        assert c.id_claims["cognito:username"] == "uma"
        first = c.access_claims["jti"]
        await c.renew_access_token()
        assert c.access_claims["jti"] != first
        await c.logout()
        assert c.id_claims is None and c.access_claims is None


async def test_verify_tokens_from_stored_tokens(cognito_admin, cognito_pool) -> None:
    from acognito.errors import JwtInvalidSignatureError, JwtInvalidTokenUseError

    await cognito_admin.create_user(cognito_pool.user_pool_id, "vic", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="vic") as c:
        await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        id_token, access_token = c.id_token, c.access_token
    async with AsyncCognito(
        **cognito_pool.cognito_kwargs(), id_token=id_token, access_token=access_token
    ) as view:
        await view.verify_tokens()
        assert view.id_claims["cognito:username"] == "vic"
        assert view.access_claims["username"] == "vic"
        with pytest.raises(JwtInvalidTokenUseError):
            await view.verify_token(id_token, "access_token", "access")
        head, payload, sig = access_token.split(".")
        forged = f"{head}.{payload}.{sig[:-4]}AAAA"
        with pytest.raises(JwtInvalidSignatureError):
            await view.verify_token(forged, "access_token", "access")
        assert view.access_token == access_token  # a failed verification changes nothing


async def test_tokens_of_another_client_are_refused(cognito_admin, cognito_pool) -> None:
    from acognito.errors import JwtInvalidAudienceError, JwtInvalidClientIdError

    await cognito_admin.create_user(cognito_pool.user_pool_id, "wes", PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="wes") as c:
        await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        tokens = c.tokens
    async with AsyncCognito(**cognito_pool.cognito_kwargs(secret=True)) as other:
        with pytest.raises(JwtInvalidClientIdError):
            await other.verify_token(tokens.access_token, "access_token", "access")
        with pytest.raises(JwtInvalidAudienceError):
            await other.verify_token(tokens.id_token, "id_token", "id")


async def test_pinned_jwks_needs_no_fetch(cognito_admin, cognito_pool) -> None:
    import httpx

    from acognito.errors import KidNotFoundInJwksError

    await cognito_admin.create_user(cognito_pool.user_pool_id, "xia", PASSWORD)
    async with httpx.AsyncClient() as http:
        jwks = (await http.get(cognito_pool.jwks_uri)).json()
    kwargs = cognito_pool.cognito_kwargs()
    async with AsyncCognito(
        **kwargs, username="xia", jwks=jwks, jwks_uri="https://127.0.0.1:9/none"
    ) as c:
        await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        assert c.access_claims["username"] == "xia"
    other = {"keys": [dict(jwks["keys"][0], kid="someone-else")]}
    async with AsyncCognito(
        **kwargs, username="xia", jwks=other, jwks_uri="https://127.0.0.1:9/none"
    ) as c:
        with pytest.raises(KidNotFoundInJwksError):
            await c.authenticate(PASSWORD, auth_flow="USER_PASSWORD_AUTH")
        assert c.access_token is None  # unverified tokens are never kept


async def test_for_user_children_share_client_and_keys(cognito_admin, cognito_pool) -> None:
    for name in ("yan", "zoe"):
        await cognito_admin.create_user(cognito_pool.user_pool_id, name, PASSWORD)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(secret=True)) as parent:
        children = [parent.for_user(name) for name in ("yan", "zoe")]
        async with anyio.create_task_group() as tg:
            for child in children:
                tg.start_soon(child.authenticate, PASSWORD)
        assert [c.access_claims["username"] for c in children] == ["yan", "zoe"]
        assert all(c._idp is parent._idp and c.jwks_cache is parent.jwks_cache for c in children)
        assert parent.access_token is None
        await children[0].close()
        with pytest.raises(SessionClosedError):
            await children[0].get_user()
        assert (await children[1].get_user()).username == "zoe"  # parent's client still open
    with pytest.raises(SessionClosedError):
        await children[1].get_user()


async def test_max_concurrency_reaches_the_client_and_children(cognito_pool) -> None:
    with pytest.raises(ConfigurationError):
        AsyncCognito(**cognito_pool.cognito_kwargs(), max_concurrency=0)
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), max_concurrency=3) as c:
        child = c.for_user("someone")
        assert c._idp._max_concurrency == 3
        assert child._idp is c._idp


# ----------------------------------------------------------------------------- sign-out, rotation


async def _signed_in_pair(pool, username: str, **kwargs):
    """Two sessions of one user (two devices), both signed in."""
    sessions = []
    for _ in range(2):
        c = AsyncCognito(**pool.cognito_kwargs(), username=username, **kwargs)
        await c.authenticate(DEFAULT_PASSWORD)
        sessions.append(c)
    return sessions


async def test_logout_without_global_revokes_only_this_refresh_token(
    cognito_pool, cognito_user
) -> None:
    here, there = await _signed_in_pair(cognito_pool, cognito_user.username)
    async with here, there:
        refresh, access = here.refresh_token, here.access_token
        await here.logout(global_sign_out=False)
        assert here.refresh_token is None and here.access_token is None
        # The server refuses the revoked refresh token and the access tokens minted from it.
        async with AsyncCognito(
            **cognito_pool.cognito_kwargs(), refresh_token=refresh, access_token=access
        ) as stale:
            with pytest.raises(NotAuthorizedError, match="revoked"):
                await stale.renew_access_token()
            with pytest.raises(NotAuthorizedError):
                await stale.get_user()
        # The other device keeps its session.
        await there.renew_access_token()
        assert (await there.get_user()).username == cognito_user.username
        # Signed out already: logging out again does nothing (as Amplify's signOut());
        # revoking a refresh token that is not there is still a mistake.
        await here.logout(global_sign_out=False)
        with pytest.raises(ConfigurationError, match="no refresh token"):
            await here.revoke_token()


async def test_logout_global_ends_every_session_of_the_user(cognito_pool, cognito_user) -> None:
    here, there = await _signed_in_pair(cognito_pool, cognito_user.username)
    async with here, there:
        refresh = here.refresh_token
        await here.logout()  # pycognito's logout: GlobalSignOut
        assert here.tokens.refresh_token is None
        with pytest.raises(NotAuthorizedError):
            await there.renew_access_token()
        async with AsyncCognito(**cognito_pool.cognito_kwargs(), refresh_token=refresh) as stale:
            with pytest.raises(NotAuthorizedError):
                await stale.renew_access_token()


async def _rotating_client(admin, pool_id: str, *, refresh_token_auth: bool) -> str:
    flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
    if refresh_token_auth:
        flows.append("ALLOW_REFRESH_TOKEN_AUTH")
    client = await admin.create_client(
        pool_id,
        flows=flows,
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
    )
    return client.client_id


@pytest.mark.parametrize("refresh_token_auth", [False, True], ids=["flow-off", "flow-on"])
async def test_rotation_is_detected_and_remembered(
    cognito_local, cognito_admin, cognito_pool, cognito_user, refresh_token_auth
) -> None:
    client_id = await _rotating_client(
        cognito_admin, cognito_pool.user_pool_id, refresh_token_auth=refresh_token_auth
    )
    kwargs = {**cognito_pool.cognito_kwargs(), "client_id": client_id}
    async with AsyncCognito(**kwargs, username=cognito_user.username) as c:
        assert c.refresh_token_rotation is False
        await c.authenticate(DEFAULT_PASSWORD)
        first = c.refresh_token
        await c.renew_access_token()  # refused as REFRESH_TOKEN_AUTH, done by rotation
        assert c.refresh_token_rotation is True
        second = c.refresh_token
        assert second and second != first
        await c.renew_access_token()
        assert c.refresh_token not in (first, second)
    # The rotated-out token is refused by the server.
    async with AsyncCognito(**kwargs, refresh_token=first) as stale:
        with pytest.raises(CognitoServiceError):
            await stale.renew_access_token()


async def test_a_client_without_rotation_keeps_refresh_token_auth(
    cognito_pool, cognito_user
) -> None:
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username=cognito_user.username) as c:
        await c.authenticate(DEFAULT_PASSWORD)
        refresh = c.refresh_token
        await c.renew_access_token()
        assert c.refresh_token_rotation is False and c.refresh_token == refresh


def test_jwks_url_is_a_deprecated_spelling_of_jwks_uri() -> None:
    uri = "https://keys.example.com/eu-west-2_AbC123/.well-known/jwks.json"
    with pytest.warns(DeprecationWarning, match="jwks_uri"):
        old = AsyncCognito("eu-west-2_AbC123", "client1", jwks_url=uri)
    assert old.jwks_uri == uri
    with pytest.warns(DeprecationWarning, match="jwks_uri"):
        assert old.jwks_url == uri
    with (
        pytest.warns(DeprecationWarning, match="jwks_uri"),
        pytest.raises(ConfigurationError, match="disagree"),
    ):
        AsyncCognito("eu-west-2_AbC123", "client1", jwks_uri=uri, jwks_url=uri + "x")
    with pytest.warns(DeprecationWarning, match="jwks_uri"):
        pool = CognitoPool("eu-west-2_AbC123", "client1", jwks_url=uri)
    assert pool.settings.jwks_uri == uri
    with pytest.raises(TypeError, match="jwks_uir"):
        AsyncCognito("eu-west-2_AbC123", "client1", jwks_uir=uri)  # type: ignore[call-arg]
