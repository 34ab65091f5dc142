"""Django and DRF through Django itself (its test client, real URL routing and middleware):
CognitoMiddleware + cognito_required for plain views, CognitoAuthentication and the
permission classes for DRF views, all configured from settings.ACOGNITO. Blocking, with
the JWKS fetched by a blocking request. Every case of tests/api_support.py, for both."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import django
import pytest
from django.conf import settings

# What this module needs, applied to every test (another module, or a docs snippet, may
# have configured Django first in this process).
SETTINGS: dict[str, Any] = {
    "ROOT_URLCONF": __name__,
    "ALLOWED_HOSTS": ["testserver"],
    "MIDDLEWARE": ["acognito.integrations.django.CognitoMiddleware"],
    "REST_FRAMEWORK": {
        "DEFAULT_AUTHENTICATION_CLASSES": ["acognito.integrations.django.CognitoAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        "UNAUTHENTICATED_USER": None,
    },
    "ACOGNITO": {"USER_POOL_ID": "us-east-1_Unset1", "CLIENT_ID": "unset"},
}

if not settings.configured:
    settings.configure(DEBUG=False, SECRET_KEY="tests-only", DATABASES={}, **SETTINGS)  # noqa: S106
    django.setup()

from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from acognito.errors import ConfigurationError  # noqa: E402
from acognito.integrations.django import (  # noqa: E402
    CognitoUser,
    HasCognitoScopes,
    InCognitoGroup,
    cognito_permission,
    cognito_required,
    get_guard,
)
from acognito.testing import LocalCognito, TokenIssuer  # noqa: E402
from api_support import (  # noqa: E402
    CASES,
    Case,
    World,
    build_world,
    check_answer,
    edge_jwks_server,
    tokens_for,
    write_answer_table,
)

PROFILES = {"plain": {"plan": "free"}}


@pytest.fixture(autouse=True)
def django_settings() -> Iterator[None]:
    with override_settings(**SETTINGS):
        yield


@cognito_required()
def me(request: HttpRequest) -> JsonResponse:
    claims = request.cognito_claims  # type: ignore[attr-defined]
    return JsonResponse({"username": claims.username, "profile": PROFILES.get(claims.username)})


@cognito_required(scopes=["api/read"])
def read(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"scopes": sorted(request.cognito_claims.scopes)})  # type: ignore[attr-defined]


@cognito_required(groups=["admin", "ops"])
def admin(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"groups": sorted(request.cognito_claims.groups)})  # type: ignore[attr-defined]


class MeView(APIView):
    def get(self, request: Request) -> Response:
        user: CognitoUser = request.user
        return Response({"username": user.username, "profile": PROFILES.get(user.username)})


class ReadView(APIView):
    permission_classes = [HasCognitoScopes]
    required_scopes = ["api/read"]

    def get(self, request: Request) -> Response:
        return Response({"scopes": sorted(request.auth.scopes)})


class AdminView(APIView):
    permission_classes = [InCognitoGroup]
    required_groups = ["admin", "ops"]

    def get(self, request: Request) -> Response:
        return Response({"groups": sorted(request.auth.groups)})


class WriterView(APIView):
    permission_classes = [cognito_permission(scopes=["api/read", "api/write"], groups="staff")]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [
    path("me", me),
    path("read", read),
    path("admin", admin),
    path("drf/me", MeView.as_view()),
    path("drf/read", ReadView.as_view()),
    path("drf/admin", AdminView.as_view()),
    path("drf/writer", WriterView.as_view()),
]


@pytest.fixture(scope="module")
def world(cognito_local: LocalCognito) -> Iterator[World]:
    yield build_world(cognito_local)
    write_answer_table()


def ask(path: str, token: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client().get(path, headers=headers)


@pytest.mark.parametrize("flavour", ["django", "drf", "drf without middleware"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case(world: World, case: Case, flavour: str) -> None:
    tokens = tokens_for(world)
    server = edge_jwks_server(world)
    middleware = [] if flavour == "drf without middleware" else SETTINGS["MIDDLEWARE"]
    try:
        verifier = world.verifier(server.url)
        config = {"USER_POOL_ID": "-", "CLIENT_ID": "-", "VERIFIER": verifier}
        with override_settings(ACOGNITO=config, MIDDLEWARE=middleware):
            if case.name == "JWKS outage":
                server.stop()
            prefix = "" if flavour == "django" else "/drf"
            resp = ask(prefix + case.path, tokens.get(case.token, ""))
    finally:
        server.stop()
    check_answer(case, flavour.split()[0], resp.status_code, resp.headers, resp.content)
    if case.status == 200 and case.path == "/me":
        assert resp.json()["username"] in ("plain", "nobody-we-know")


def test_settings_build_the_verifier(world: World) -> None:
    config = {
        "USER_POOL_ID": world.pool.user_pool_id,
        "CLIENT_ID": [world.pool.public_client.client_id],
        "JWKS_URI": world.pool.jwks_uri,
        "REALM": "shop",
    }
    with override_settings(ACOGNITO=config):
        assert ask("/me", world.access).json() == {"username": "plain", "profile": {"plan": "free"}}
        refused = ask("/drf/admin", world.access)
        assert refused.status_code == 403
        assert refused.headers["WWW-Authenticate"].startswith(
            'Bearer realm="shop", error="insufficient_scope"'
        )
        assert ask("/drf/me", "").headers["WWW-Authenticate"] == 'Bearer realm="shop"'
        assert get_guard().realm == "shop"
    with override_settings(ACOGNITO={"USER_POOL_ID": world.pool.user_pool_id}):
        with pytest.raises(ConfigurationError, match="CLIENT_ID"):
            get_guard()


def test_a_permission_class_from_requirements() -> None:
    issuer = TokenIssuer("us-east-1_DrfPerm1")
    from acognito import CognitoVerifier

    verifier = CognitoVerifier(
        issuer.user_pool_id, client_id="c", token_use="access", jwks=issuer.jwks()
    )
    with override_settings(ACOGNITO={"USER_POOL_ID": "-", "CLIENT_ID": "-", "VERIFIER": verifier}):
        good = issuer.access_token(client_id="c", scope="api/read api/write", groups=["staff"])
        assert ask("/drf/writer", good).status_code == 200
        short = ask("/drf/writer", issuer.access_token(client_id="c", scope="api/read"))
        assert short.status_code == 403
        assert short.headers["WWW-Authenticate"].endswith('scope="api/read api/write"')
        # The middleware already refused a bad token before any view ran.
        assert ask("/drf/writer", "garbage").status_code == 401
