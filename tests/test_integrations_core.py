"""The integrations' shared core: the one mapping from verification failures to RFC 6750
answers, bearer-token parsing, requirements, typed claims; and that a plain install
never imports a web framework."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from acognito import CognitoVerifier, errors
from acognito.errors import ConfigurationError, TokenVerificationError
from acognito.integrations.core import (
    BearerGuard,
    CognitoClaims,
    CognitoDenied,
    Requirements,
    answer_for,
    bearer_token,
    classify,
)
from acognito.testing import TokenIssuer

UNAVAILABLE = {
    errors.JwksFetchError,
    errors.JwksNotAvailableError,
    errors.JwksFetchPenaltyError,
    errors.OidcDiscoveryError,
}
INSUFFICIENT = {errors.JwtInvalidScopeError, errors.JwtInvalidGroupError}


def _all_verification_errors() -> list[type[TokenVerificationError]]:
    found: list[type[TokenVerificationError]] = []
    todo: list[type[TokenVerificationError]] = [TokenVerificationError]
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.append(cls)
            todo.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("cls", _all_verification_errors(), ids=lambda c: c.__name__)
def test_every_verification_error_has_one_answer(cls: type[TokenVerificationError]) -> None:
    error = cls("secret details: eyJhbGciOi...", claim="x") if _takes_claim(cls) else cls("eyJ!")
    answer = answer_for(error)
    expected = (
        "unavailable"
        if cls in UNAVAILABLE
        else "insufficient"
        if cls in INSUFFICIENT
        else "invalid"
    )
    assert classify(error) == expected
    assert answer.status == {"unavailable": 503, "insufficient": 403, "invalid": 401}[expected]
    text = answer.body_bytes().decode() + json.dumps(answer.headers)
    assert "eyJ" not in text and "secret" not in text  # no message, no token material
    if expected == "unavailable":
        assert answer.www_authenticate is None
    else:
        code = "insufficient_scope" if expected == "insufficient" else "invalid_token"
        assert f'error="{code}"' in (answer.www_authenticate or "")


def _takes_claim(cls: type[TokenVerificationError]) -> bool:
    return issubclass(cls, errors.JwtInvalidClaimError)


def test_no_token_is_401_without_an_error_code() -> None:
    answer = answer_for(None, realm="orders")
    assert (answer.status, answer.kind, answer.error) == (401, "missing", None)
    assert answer.www_authenticate == 'Bearer realm="orders"'
    assert answer.body == {"detail": "Not authenticated."}


def test_an_expired_token_says_so() -> None:
    answer = answer_for(errors.JwtExpiredError("x", claim="exp"))
    assert answer.body == {"detail": "The bearer token has expired."}
    assert 'error_description="The bearer token has expired."' in (answer.www_authenticate or "")


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (None, None),
        ("", None),
        ("Basic dXNlcjpwdw==", None),
        ("Bearer", ""),
        ("Bearer ", ""),
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer   abc ", "abc"),
        ("BEARER abc", "abc"),
        ("Bearerabc", None),
    ],
)
def test_bearer_token_parsing(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_requirements_scopes_all_groups_any_and_stricter_adds() -> None:
    req = Requirements(scopes=["a", "b"], groups=["g1", "g2"])
    req.check({"scope": "a b c", "cognito:groups": ["g2"]})
    with pytest.raises(errors.JwtInvalidScopeError):
        req.check({"scope": "a", "cognito:groups": ["g1"]})
    with pytest.raises(errors.JwtInvalidGroupError):
        req.check({"scope": "a b", "cognito:groups": ["other"]})
    with pytest.raises(errors.JwtInvalidGroupError):
        req.check({"scope": "a b"})
    with pytest.raises(errors.JwtInvalidScopeError):
        req.check({"scope": "a b", "cognito:groups": ["g1"]}, scopes=["c"])
    stricter = req.stricter(scopes="c", groups=["g3"])
    assert stricter.scopes == {"a", "b", "c"}
    with pytest.raises(errors.JwtInvalidGroupError):  # both group sets must be met
        stricter.check({"scope": "a b c", "cognito:groups": ["g1"]})
    stricter.check({"scope": "a b c", "cognito:groups": ["g1", "g3"]})
    answer = stricter.answer(errors.JwtInvalidScopeError("x"), scopes=["z", 'bad"'])
    assert answer.www_authenticate is not None
    assert answer.www_authenticate.endswith('scope="a b c z"')


@pytest.mark.parametrize(
    "bad", [{"scopes": ["a b"]}, {"scopes": [""]}, {"groups": ["x\\y"]}, {"scopes": [5]}]
)
def test_bad_requirement_names_are_configuration_errors(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        Requirements(**bad)  # type: ignore[arg-type]


def test_claims_are_a_dict_with_typed_views() -> None:
    access = CognitoClaims(
        {
            "sub": "s-1",
            "username": "ada",
            "token_use": "access",
            "client_id": "c",
            "scope": "openid api/read",
            "cognito:groups": ["admin", 5],
            "exp": 10,
        }
    )
    assert (access.sub, access.username, access.token_use, access.client_id) == (
        "s-1",
        "ada",
        "access",
        "c",
    )
    assert access.scopes == {"openid", "api/read"}
    assert access.groups == {"admin"}
    assert access.expires_at == 10.0
    assert json.loads(json.dumps(access))["username"] == "ada"
    ident = CognitoClaims({"sub": "s", "cognito:username": "bob", "aud": "c", "token_use": "id"})
    assert (ident.username, ident.client_id, ident.scopes, ident.groups) == (
        "bob",
        "c",
        frozenset(),
        frozenset(),
    )
    assert "scope" not in repr(access)


async def _verify(guard: BearerGuard, header: str | None) -> CognitoClaims:
    return await guard.authenticate(header)


@pytest.mark.anyio
async def test_the_guard_runs_the_one_path() -> None:
    issuer = TokenIssuer("us-east-1_Guard1")
    verifier = CognitoVerifier(
        issuer.user_pool_id, client_id="c", token_use="access", jwks=issuer.jwks()
    )
    guard = BearerGuard(verifier, scopes=["api/read"])
    token = issuer.access_token(client_id="c", scope="api/read")
    claims = await guard.authenticate(f"Bearer {token}")
    assert isinstance(claims, CognitoClaims) and claims.scopes == {"api/read"}
    assert guard.authenticate_sync(f"Bearer {token}") == claims
    with pytest.raises(CognitoDenied) as missing:
        await guard.authenticate(None)
    assert missing.value.answer.status == 401 and missing.value.__cause__ is None
    with pytest.raises(CognitoDenied) as short:
        guard.authenticate_sync(f"Bearer {issuer.access_token(client_id='c')}")
    assert short.value.answer.status == 403
    assert isinstance(short.value.__cause__, errors.JwtInvalidScopeError)
    assert "api/read" in repr(guard)


def test_a_plain_install_imports_no_web_framework() -> None:
    script = (
        "import sys\n"
        "import acognito, acognito.integrations, acognito.integrations.core\n"
        "from acognito import CognitoVerifier\n"
        "bad = [m for m in ('fastapi', 'starlette', 'django', 'flask', 'rest_framework') "
        "if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


@pytest.mark.parametrize(
    ("module", "framework", "extra"),
    [
        ("fastapi", "fastapi", "fastapi"),
        ("starlette", "starlette", "starlette"),
        ("flask", "flask", "flask"),
        ("django", "django", "django"),
    ],
)
def test_a_missing_framework_names_the_extra(module: str, framework: str, extra: str) -> None:
    script = (
        "import sys\n"
        f"sys.modules[{framework!r}] = None\n"
        "try:\n"
        f"    import acognito.integrations.{module}\n"
        "except ImportError as exc:\n"
        f'    assert "acognito[{extra}]" in str(exc), exc\n'
        "else:\n"
        "    raise SystemExit('imported without the framework')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_django_without_drf_imports_and_names_the_drf_extra() -> None:
    script = (
        "import sys\n"
        "sys.modules['rest_framework'] = None\n"
        "import acognito.integrations.django as d\n"
        "assert d.cognito_required and d.CognitoMiddleware\n"
        "try:\n"
        "    d.CognitoAuthentication\n"
        "except ImportError as exc:\n"
        "    assert 'acognito[djangorestframework]' in str(exc), exc\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_the_lambda_integration_imports_no_framework_and_no_aws_sdk() -> None:
    script = (
        "import sys\n"
        "import acognito.integrations.aws_lambda\n"
        "bad = [m for m in ('fastapi', 'starlette', 'django', 'flask', 'aiobotocore', 'boto3',"
        " 'joserfc') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
