"""acognito.context: the user's context for threat protection, and which calls take it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from acognito.context import (
    ADMIN_CONTEXT_OPERATIONS,
    CONTEXT_HEADERS,
    USER_CONTEXT_OPERATIONS,
    UserContext,
    context_parameters,
)
from acognito.errors import ConfigurationError


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_the_operations_are_exactly_those_of_the_service_model() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("cognito-idp")
    takes: dict[str, set[str]] = {"UserContextData": set(), "ContextData": set()}
    for operation in model.operation_names:
        shape = model.operation_model(operation).input_shape
        for member in takes:
            if shape is not None and member in shape.members:
                takes[member].add(_snake(operation))
    assert takes["UserContextData"] == USER_CONTEXT_OPERATIONS
    assert takes["ContextData"] == ADMIN_CONTEXT_OPERATIONS
    admin = model.shape_for("ContextDataType")
    assert set(admin.required_members) == {"IpAddress", "ServerName", "ServerPath", "HttpHeaders"}


def test_headers_pass_an_allow_list_that_never_holds_credentials() -> None:
    context = UserContext.from_request(
        ip_address="203.0.113.9",
        headers={
            "User-Agent": "Firefox",
            "Cookie": "acognito-session=abc",
            "Authorization": "Bearer eyJ...",
            "Accept-Language": "fr",
            "X-Secret": "no",
        },
        server_name="app.example.com",
        server_path="/signin",
    )
    assert context.http_headers == (("user-agent", "Firefox"), ("accept-language", "fr"))
    assert "cookie" not in CONTEXT_HEADERS and "authorization" not in CONTEXT_HEADERS
    for bad in (["Cookie"], ["user-agent", "Authorization"], ["proxy-authorization"]):
        with pytest.raises(ConfigurationError, match="never"):
            UserContext.from_request(ip_address="203.0.113.9", allowed_headers=bad)
    assert context_parameters("admin_initiate_auth", context) == {
        "ContextData": {
            "IpAddress": "203.0.113.9",
            "ServerName": "app.example.com",
            "ServerPath": "/signin",
            "HttpHeaders": [
                {"headerName": "user-agent", "headerValue": "Firefox"},
                {"headerName": "accept-language", "headerValue": "fr"},
            ],
        }
    }


def test_what_each_call_gets() -> None:
    ip_only = UserContext(ip_address="2001:db8::1")
    assert context_parameters("initiate_auth", ip_only) == {
        "UserContextData": {"IpAddress": "2001:db8::1"}
    }
    # The Admin calls need a server name and path: without them, no ContextData.
    assert context_parameters("admin_initiate_auth", ip_only) == {}
    full = UserContext(ip_address="198.51.100.4", encoded_data="ASF-DATA")
    assert context_parameters("sign_up", full) == {
        "UserContextData": {"IpAddress": "198.51.100.4", "EncodedData": "ASF-DATA"}
    }
    assert context_parameters("get_user", full) == {}
    assert context_parameters("initiate_auth", None) == {}
    assert context_parameters("initiate_auth", UserContext()) == {}
    assert "ASF-DATA" not in repr(full)
    with pytest.raises(ConfigurationError, match="IP"):
        UserContext(ip_address="not-an-ip")


# --------------------------------------------------------------------------- on the wire


@pytest.fixture
def request_log(cognito_local):
    api = cognito_local.api
    api.record_requests(True, clear=True)
    yield api
    api.record_requests(False, clear=True)


@pytest.mark.anyio
async def test_every_call_that_takes_the_context_carries_it(
    cognito_pool, cognito_admin, cognito_inbox, request_log
) -> None:
    from acognito import AsyncCognito
    from acognito.testing import DEFAULT_PASSWORD

    context = UserContext.from_request(
        ip_address="203.0.113.9",
        headers={"User-Agent": "Firefox", "Cookie": "s=1", "Authorization": "Bearer x"},
        server_name="app.example.com",
        server_path="/signin",
        encoded_data="ASF-DATA",
    )
    pool_id = cognito_pool.user_pool_id
    async with AsyncCognito(**cognito_pool.cognito_kwargs(), username="carla") as carla:
        carla.user_context = context
        carla.set_base_attributes(email="carla@example.com")
        await carla.register("carla", DEFAULT_PASSWORD)
        await carla.resend_confirmation_code()
        await carla.confirm_sign_up(cognito_inbox.last_code(pool_id, "carla", "sign_up"))
        await carla.authenticate(DEFAULT_PASSWORD)  # InitiateAuth + RespondToAuthChallenge
        await carla.get_user()  # takes no context
        await carla.initiate_forgot_password()
        code = cognito_inbox.last_code(pool_id, "carla", "forgot_password")
        await carla.confirm_forgot_password(code, DEFAULT_PASSWORD + "2")
    async with AsyncCognito(**cognito_pool.cognito_kwargs(secret=True), username="carla") as admin:
        admin.user_context = context
        await admin.admin_authenticate(DEFAULT_PASSWORD + "2")  # AdminInitiateAuth
    seen = {(r.operation, r.status): r.params for r in request_log.requests()}
    for operation in (
        "SignUp",
        "ResendConfirmationCode",
        "ConfirmSignUp",
        "InitiateAuth",
        "RespondToAuthChallenge",
        "ForgotPassword",
        "ConfirmForgotPassword",
    ):
        params = seen[(operation, 200)]
        assert params["UserContextData"] == {"IpAddress": "203.0.113.9", "EncodedData": "ASF-DATA"}
        assert "ContextData" not in params
    admin_params = seen[("AdminInitiateAuth", 200)]
    assert admin_params["ContextData"] == {
        "IpAddress": "203.0.113.9",
        "ServerName": "app.example.com",
        "ServerPath": "/signin",
        "HttpHeaders": [{"headerName": "user-agent", "headerValue": "Firefox"}],
        "EncodedData": "ASF-DATA",
    }
    assert "UserContextData" not in seen[("GetUser", 200)]


@pytest.mark.anyio
async def test_without_a_context_nothing_is_sent(cognito_session, request_log) -> None:
    assert cognito_session.user_context is None
    await cognito_session.renew_access_token()
    for record in request_log.requests():
        assert "UserContextData" not in record.params and "ContextData" not in record.params
    with pytest.raises(ConfigurationError):
        cognito_session.user_context = {"IpAddress": "1.2.3.4"}  # type: ignore[assignment]


def test_the_blocking_session_takes_it_too(cognito_local, request_log) -> None:
    import anyio

    from acognito.sync import Cognito
    from acognito.testing import DEFAULT_PASSWORD, CognitoAdmin

    async def make() -> Any:
        async with CognitoAdmin(cognito_local.endpoint_url, region=cognito_local.region) as admin:
            pool = await admin.create_local_pool()
            await admin.create_user(pool.user_pool_id, "dora", DEFAULT_PASSWORD)
            return pool

    kwargs = anyio.run(make).cognito_kwargs()
    with Cognito(
        kwargs.pop("user_pool_id"), kwargs.pop("client_id"), username="dora", **kwargs
    ) as dora:
        dora.user_context = UserContext(ip_address="198.51.100.23")
        assert dora.user_context.ip_address == "198.51.100.23"
        dora.authenticate(DEFAULT_PASSWORD)
    initiate = [r for r in request_log.requests() if r.operation == "InitiateAuth"]
    assert initiate and initiate[-1].params["UserContextData"] == {"IpAddress": "198.51.100.23"}
