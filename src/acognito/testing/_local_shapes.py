"""Answers checked against Cognito's own API model (server process, tests only).

botocore ships the ``cognito-idp`` service model that real clients are generated from:
for each operation its output shape (members, which are required, their types and
enumerations) and the errors it may answer. With checking on (``LocalCognito(
check_shapes=True)``, or ``ACOGNITO_LOCAL_CHECK_SHAPES=1``, which acognito's own suite
sets), every answer of a user-pool operation, the local Cognito's and moto's alike, is
held against that model: a success with a missing, unknown or mistyped member, or an
error code the operation does not model, is a violation. Each is kept for the test API
(the pytest plugin fails the test that caused it) and the answer is replaced by the error
``AcognitoShapeViolation``, which no test expects. Off in the shipped server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

__all__ = ["SHAPE_VIOLATION", "ShapeChecker"]

#: The error code an answer that broke the model is replaced by.
SHAPE_VIOLATION = "AcognitoShapeViolation"
_NUMBERS = ("integer", "long", "float", "double")
#: Errors of the JSON protocol itself, which AWS answers for any operation (a body that
#: is no JSON object), and the service models list for none.
PROTOCOL_ERRORS = frozenset({"SerializationException"})


class ShapeChecker:
    """Checks answers of ``cognito-idp`` operations against botocore's model."""

    def __init__(self) -> None:
        import botocore.session

        self.model = botocore.session.get_session().get_service_model("cognito-idp")
        self._operations = set(self.model.operation_names)

    def violations(self, operation: str, status: int, body: bytes) -> list[str]:
        """What is wrong with this answer (empty: nothing, or an operation not modelled)."""
        if operation not in self._operations:
            return []
        op = self.model.operation_model(operation)
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return [f"{operation}: the answer ({status}) is not JSON"]
        if status >= 400:
            code = str(data.get("__type", "") if isinstance(data, dict) else "").split("#")[-1]
            modelled = {shape.name for shape in op.error_shapes} | PROTOCOL_ERRORS
            if code not in modelled:
                return [f"{operation}: error {code or '(none)'} is not one it models"]
            return []
        if op.output_shape is None:
            return [] if data == {} else [f"{operation}: answers no members, got {data!r:.200}"]
        return [f"{operation}: {problem}" for problem in _check(op.output_shape, data, "")]


def _check(shape: Any, value: Any, path: str) -> Iterator[str]:
    """The problems of ``value`` against ``shape`` (a botocore Shape), with their paths."""
    where = path or "the answer"
    kind = shape.type_name
    if getattr(shape, "is_document_type", False):
        return  # free-form JSON (WebAuthn's options, for one)
    if kind == "structure":
        if not isinstance(value, dict):
            yield f"{where}: {type(value).__name__} where a structure belongs"
            return
        for name in shape.required_members:
            if name not in value:
                yield f"{where}: required member {name} is missing"
        for name, member in value.items():
            if name not in shape.members:
                yield f"{where}: unknown member {name}"
            elif member is not None:
                yield from _check(shape.members[name], member, f"{path}.{name}".lstrip("."))
    elif kind == "list":
        if not isinstance(value, list):
            yield f"{where}: {type(value).__name__} where a list belongs"
            return
        for i, item in enumerate(value):
            yield from _check(shape.member, item, f"{path}[{i}]")
    elif kind == "map":
        if not isinstance(value, dict):
            yield f"{where}: {type(value).__name__} where a map belongs"
            return
        for k, item in value.items():
            yield from _check(shape.key, k, f"{path}{{key}}")
            yield from _check(shape.value, item, f"{path}[{k!r}]")
    elif kind in ("string", "blob"):
        if not isinstance(value, str):
            yield f"{where}: {type(value).__name__} where a string belongs"
        elif shape.enum and value not in shape.enum:
            yield f"{where}: {value!r} is not one of {shape.name}'s values"
    elif kind == "boolean":
        if not isinstance(value, bool):
            yield f"{where}: {type(value).__name__} where a boolean belongs"
    elif kind in _NUMBERS:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            yield f"{where}: {type(value).__name__} where a number belongs"
        elif kind in ("integer", "long") and not float(value).is_integer():
            yield f"{where}: {value!r} where a whole number belongs"
    elif kind == "timestamp":
        # The JSON protocol sends epoch seconds; botocore also reads ISO 8601 text.
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            yield f"{where}: {type(value).__name__} where a timestamp belongs"
    else:  # pragma: no cover - a type botocore's JSON services do not use
        yield f"{where}: unchecked type {kind}"
