"""Protect a Django (and Django REST framework) API with Cognito, configured from settings.

One file holds what a project spreads over settings.py, views.py and urls.py: the
``ACOGNITO`` setting, ``CognitoMiddleware``, a plain view with ``@cognito_required`` and
a DRF view with ``CognitoAuthentication`` and ``InCognitoGroup``. Users sign in on the
embedded local Cognito; the views are called through Django's test client (blocking, the
JWKS fetched once). A user the app knows nothing about gets 200, never a 500.

    pip install 'acognito[djangorestframework,local]'
    python examples/django_api.py [--trio]   # --trio: the sign-ins run on trio
"""

from __future__ import annotations

import sys
from typing import Any

import anyio
import django
from django.conf import settings

from acognito import AsyncCognito
from acognito.testing import CognitoAdmin, LocalCognito, LocalPool

PASSWORD = "Django-Example-Passw0rd!"
PROFILES = {"ada": {"plan": "pro"}}


def configure(pool: LocalPool) -> None:
    """settings.py"""
    settings.configure(
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
        MIDDLEWARE=["acognito.integrations.django.CognitoMiddleware"],
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "acognito.integrations.django.CognitoAuthentication"
            ],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
            "UNAUTHENTICATED_USER": None,
        },
        ACOGNITO={
            "USER_POOL_ID": pool.user_pool_id,
            "CLIENT_ID": pool.public_client.client_id,
            "JWKS_URI": pool.jwks_uri,  # an emulator serves the JWKS here; AWS derives it
        },
    )
    django.setup()


def urls() -> list[Any]:
    """views.py and urls.py"""
    from django.http import HttpRequest, JsonResponse
    from django.urls import path
    from rest_framework.request import Request
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from acognito.integrations.django import InCognitoGroup, cognito_required

    @cognito_required()
    def me(request: HttpRequest) -> JsonResponse:
        name = request.cognito_claims.username  # type: ignore[attr-defined]
        return JsonResponse({"user": name, "profile": PROFILES.get(name)})

    class Orders(APIView):
        permission_classes = [InCognitoGroup]
        required_groups = ["admin"]

        def get(self, request: Request) -> Response:
            return Response({"orders": [], "seen_by": request.user.username})

    return [path("me", me), path("orders", Orders.as_view())]


urlpatterns: list[Any] = []


async def prepare(local: LocalCognito) -> tuple[LocalPool, dict[str, str]]:
    async with CognitoAdmin(local.endpoint_url) as admin:
        pool = await admin.create_local_pool()
        await admin.create_group(pool.user_pool_id, "admin")
        for name in ("ada", "grace"):
            await admin.create_user(pool.user_pool_id, name, PASSWORD)
        await admin.add_to_group(pool.user_pool_id, "ada", "admin")
    tokens = {}
    for name in ("ada", "grace"):
        async with AsyncCognito(**pool.cognito_kwargs(), username=name) as cognito:
            await cognito.authenticate(PASSWORD)
            assert cognito.access_token is not None
            tokens[name] = cognito.access_token
    return pool, tokens


def main(backend: str) -> None:
    with LocalCognito() as local:
        pool, tokens = anyio.run(prepare, local, backend=backend)
        configure(pool)
        urlpatterns.extend(urls())
        from django.test import Client

        client = Client()
        for who, path, expected in [
            ("ada", "/me", 200),
            ("grace", "/me", 200),
            ("grace", "/orders", 403),
            ("ada", "/orders", 200),
            ("nobody", "/orders", 401),
        ]:
            token = tokens.get(who)
            resp = client.get(path, headers={"Authorization": f"Bearer {token}"} if token else {})
            www = resp.headers.get("WWW-Authenticate", "-")
            print(f"{who:7} GET {path:8} -> {resp.status_code} {resp.json()} {www}")
            assert resp.status_code == expected, resp.content


if __name__ == "__main__":
    main("trio" if "--trio" in sys.argv else "asyncio")
