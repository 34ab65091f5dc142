"""One test's view of the shipped local Cognito's OAuth2 domain (a thin client, no emulator).

``LocalDomain`` makes a fresh user pool on the session's :class:`LocalCognito` through
the real user-pool API (boto3, blocking, so sync and async tests share it), adds users
and app clients with OAuth settings, and reads or steers the server's OAuth2 test hooks
(request counts, injected failures and delays, who ``/oauth2/authorize`` signs in).
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import boto3
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from acognito.testing import DEFAULT_PASSWORD, LocalCognito

__all__ = ["DomainClient", "LocalDomain"]


@dataclass
class DomainClient:
    """An app client made by :meth:`LocalDomain.add_client` (no secret in repr)."""

    client_id: str
    client_secret: str | None = field(default=None, repr=False)


class _Delays:
    def __init__(self, domain: LocalDomain) -> None:
        self._domain = domain

    def __setitem__(self, path: str, seconds: float) -> None:
        self._domain.api.oauth_delay(path, seconds)


class LocalDomain:
    """A fresh pool and the OAuth2 domain of the local Cognito, for one test."""

    def __init__(self, local: LocalCognito) -> None:
        self.local = local
        self.api = local.api
        self.url = local.oauth_domain_url()
        self.idp: Any = boto3.client(
            "cognito-idp",
            endpoint_url=local.endpoint_url,
            region_name=local.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106
        )
        pool = self.idp.create_user_pool(PoolName=f"oauth-{uuid.uuid4().hex[:8]}")
        self.pool_id: str = pool["UserPool"]["Id"]
        self.issuer = f"https://cognito-idp.{local.region}.amazonaws.com/{self.pool_id}"
        self.jwks_url = f"{local.endpoint_url}/{self.pool_id}/.well-known/jwks.json"
        self.delays = _Delays(self)
        self._clients: list[str] = []
        self._authorize_user: str | None = None
        self._resource_scopes: dict[str, set[str]] = {}
        self.api.oauth_reset()

    def close(self) -> None:
        self.api.oauth_reset()
        self.idp.delete_user_pool(UserPoolId=self.pool_id)
        self.idp.close()

    def __enter__(self) -> LocalDomain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ set-up

    def add_user(self, username: str, password: str = DEFAULT_PASSWORD, **attributes: str) -> None:
        """A confirmed user with ``attributes`` and a permanent password."""
        self.idp.admin_create_user(
            UserPoolId=self.pool_id,
            Username=username,
            TemporaryPassword=password,
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
            MessageAction="SUPPRESS",
        )
        self.idp.admin_set_user_password(
            UserPoolId=self.pool_id, Username=username, Password=password, Permanent=True
        )

    def _resource_server(self, scopes: Iterable[str]) -> None:
        """Create the resource servers that define the ``identifier/name`` scopes (once)."""
        wanted: dict[str, set[str]] = {}
        for scope in scopes:
            if "/" in scope:
                identifier, name = scope.rsplit("/", 1)
                wanted.setdefault(identifier, set()).add(name)
        for identifier, names in wanted.items():
            known = self._resource_scopes.get(identifier)
            if known is not None:
                assert names <= known, "moto cannot update a resource server: declare all first"
                continue
            self.idp.create_resource_server(
                UserPoolId=self.pool_id,
                Identifier=identifier,
                Name=identifier,
                Scopes=[{"ScopeName": n, "ScopeDescription": n} for n in sorted(names)],
            )
            self._resource_scopes[identifier] = names

    def add_client(
        self,
        *,
        secret: bool = True,
        scopes: Iterable[str] = (),
        grants: Iterable[str] = ("authorization_code", "refresh_token"),
        redirect_uris: Iterable[str] = (),
        logout_uris: Iterable[str] = (),
    ) -> DomainClient:
        """An app client with these OAuth grants, scopes and URLs (as CreateUserPoolClient)."""
        grants, scopes = set(grants), sorted(set(scopes))
        self._resource_server(scopes)
        flows = ["ALLOW_USER_SRP_AUTH"]
        if "refresh_token" in grants:
            flows.append("ALLOW_REFRESH_TOKEN_AUTH")
        oauth_flows = ["code"] if "authorization_code" in grants else []
        if "client_credentials" in grants:
            oauth_flows.append("client_credentials")
        params: dict[str, Any] = {
            "UserPoolId": self.pool_id,
            "ClientName": f"client-{uuid.uuid4().hex[:8]}",
            "GenerateSecret": secret,
            "ExplicitAuthFlows": flows,
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": oauth_flows,
            "AllowedOAuthScopes": scopes,
            "SupportedIdentityProviders": ["COGNITO"],
        }
        if redirect_uris:
            params["CallbackURLs"] = sorted(redirect_uris)
        if logout_uris:
            params["LogoutURLs"] = sorted(logout_uris)
        made = self.idp.create_user_pool_client(**params)["UserPoolClient"]
        client = DomainClient(made["ClientId"], made.get("ClientSecret"))
        self._clients.append(client.client_id)
        self._approve(client.client_id)
        return client

    def set_credentials(
        self, client: DomainClient, *, client_id: str | None = None, secret: str | None = None
    ) -> None:
        """Give ``client`` a chosen id or secret (test hook: Cognito picks both)."""
        self.api.oauth_set_client(client.client_id, secret=secret, new_client_id=client_id)
        if client_id is not None:
            self._clients[self._clients.index(client.client_id)] = client_id
            client.client_id = client_id
        if secret is not None:
            client.client_secret = secret
        self._approve(client.client_id)

    def set_lifetime(self, client: DomainClient, seconds: int) -> None:
        """Access tokens of ``client`` live ``seconds`` (UpdateUserPoolClient)."""
        self.idp.update_user_pool_client(
            UserPoolId=self.pool_id,
            ClientId=client.client_id,
            AccessTokenValidity=seconds,
            TokenValidityUnits={"AccessToken": "seconds"},
        )

    # ------------------------------------------------------------ the test hooks

    @property
    def authorize_user(self) -> str | None:
        return self._authorize_user

    @authorize_user.setter
    def authorize_user(self, username: str | None) -> None:
        """Who ``/oauth2/authorize`` signs in without the form (None: access_denied)."""
        self._authorize_user = username
        for client_id in self._clients:
            self._approve(client_id)

    def _approve(self, client_id: str) -> None:
        user = self._authorize_user
        self.api.oauth_approve(client_id, user, deny=user is None)

    @property
    def counts(self) -> Counter[str]:
        """Requests per OAuth2 path and per grant (``token:<grant>``) in this test."""
        return Counter(self.api.oauth_counts())

    @property
    def last_authorize_params(self) -> dict[str, str]:
        return self.api.oauth_last_authorize()

    def fail_next(self, path: str, status: int, error: str | None = None, times: int = 1) -> None:
        self.api.oauth_fail_next(path, status, error, times=times)

    def verify_access_token(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid access token of this pool (over its published JWKS)."""
        with urllib.request.urlopen(self.jwks_url, timeout=10) as resp:  # noqa: S310 - loopback
            keys = KeySet.import_key_set(json.loads(resp.read()))
        try:
            claims = dict(jwt.decode(token, keys, algorithms=["RS256"]).claims)
        except (JoseError, ValueError):
            return None
        if claims.get("token_use") != "access" or claims.get("iss") != self.issuer:
            return None
        exp = claims.get("exp")
        return claims if isinstance(exp, int) and exp > time.time() else None
