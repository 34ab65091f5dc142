"""The error catalogue matches botocore's cognito-idp service model, both ways.

botocore ships the service's API model, which names every error the user-pool API can
answer. Each must have its own named class in acognito.errors, so a new error code
botocore learns about fails here instead of surfacing as the bare base class.
"""

from __future__ import annotations

import botocore.session
import pytest

from acognito import errors
from acognito.errors import SERVICE_ERRORS, CognitoServiceError, service_error

#: Model codes that share another code's class, each with the reason.
ALIASES = {
    # Two spellings of the same internal failure (both in the model).
    "InternalServerException": errors.InternalError,
}


def _model_errors() -> dict[str, set[str]]:
    """Error code -> the operations that declare it, from botocore's cognito-idp model."""
    model = botocore.session.get_session().get_service_model("cognito-idp")
    declared: dict[str, set[str]] = {}
    for name in model.operation_names:
        for shape in model.operation_model(name).error_shapes:
            code = shape.metadata.get("error", {}).get("code", shape.name)
            declared.setdefault(code, set()).add(name)
    for name in model.shape_names:
        shape = model.shape_for(name)
        if shape.metadata.get("exception"):
            declared.setdefault(shape.metadata.get("error", {}).get("code", name), set())
    return declared


MODEL = _model_errors()


def test_the_model_is_the_one_expected() -> None:
    """A sanity floor: the model was read (the comparisons below are not vacuous)."""
    assert len(MODEL) >= 50
    assert "InitiateAuth" in MODEL["NotAuthorizedException"]


def test_every_model_error_has_a_named_class() -> None:
    missing = sorted(code for code in MODEL if code not in SERVICE_ERRORS)
    assert missing == [], f"errors in botocore's model without an acognito class: {missing}"


def test_every_mapped_code_is_in_the_model() -> None:
    stale = sorted(set(SERVICE_ERRORS) - set(MODEL))
    assert stale == [], f"acognito classes for codes the model no longer has: {stale}"


@pytest.mark.parametrize("code", sorted(MODEL))
def test_each_code_builds_its_own_exported_class(code: str) -> None:
    cls = SERVICE_ERRORS[code]
    assert cls is not CognitoServiceError
    assert cls.code == code or ALIASES.get(code) is cls
    assert cls.__name__.endswith("Error")
    assert cls.__name__ in errors.__all__
    assert getattr(errors, cls.__name__) is cls
    assert cls.__doc__ and cls.__doc__.strip(), f"{cls.__name__} has no docstring"
    exc = service_error(code, "details", request_id="r-1", operation="InitiateAuth")
    assert type(exc) is cls
    assert (exc.code, exc.message, exc.request_id) == (code, "details", "r-1")


def test_one_class_per_code() -> None:
    classes = [SERVICE_ERRORS[code] for code in MODEL if code not in ALIASES]
    assert len(set(classes)) == len(classes)
    for code, cls in ALIASES.items():
        assert code in MODEL
        assert SERVICE_ERRORS[code] is cls
        assert type(service_error(code, "")) is cls


def test_an_unknown_code_still_gives_a_typed_error() -> None:
    exc = service_error("BrandNewException", "new")
    assert type(exc) is CognitoServiceError
    assert exc.code == "BrandNewException"
