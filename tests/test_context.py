"""acognito.context: the user's context for threat protection, and which calls take it."""

from __future__ import annotations

import re

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
