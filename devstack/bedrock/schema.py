"""Request bodies checked the way Bedrock's JSON schemas check them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devstack.bedrock.protocol import BedrockError, invalid

_JSON_TYPES = {
    "string": ("String", lambda v: isinstance(v, str)),
    "integer": ("Integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "number": ("Number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "boolean": ("Boolean", lambda v: isinstance(v, bool)),
    "object": ("JSONObject", lambda v: isinstance(v, dict)),
    "array": ("JSONArray", lambda v: isinstance(v, list)),
}


@dataclass(frozen=True)
class Field:
    """One key of a request body, checked the way Bedrock's JSON schemas check it."""

    kind: str
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    min_len: int | None = None
    max_len: int | None = None
    keys: dict[str, Field] | None = None
    items: Field | None = None


def json_type_name(value: Any) -> str:
    if value is None:
        return "Null"
    return next((name for name, test in _JSON_TYPES.values() if test(value)), type(value).__name__)


def malformed(detail: str) -> BedrockError:
    # Bedrock's wording for JSON-schema violations, e.g. "#: extraneous key [x] is not permitted".
    return invalid(f"Malformed input request: {detail}, please reformat your input and try again.")


def check_object(value: Any, keys: dict[str, Field], path: str = "#") -> dict[str, Any]:
    """Reject unknown keys, missing required keys and values of the wrong type, range or length."""
    if not isinstance(value, dict):
        raise malformed(f"{path}: expected type: JSONObject, found: {json_type_name(value)}")
    for key in value:
        if key not in keys:
            raise malformed(f"{path}: extraneous key [{key}] is not permitted")
    for key, spec in keys.items():
        if key in value:
            check_value(value[key], spec, f"{path}/{key}")
        elif spec.required:
            raise malformed(f"{path}: required key [{key}] not found")
    return value


def check_value(value: Any, spec: Field, path: str) -> None:
    type_name, is_type = _JSON_TYPES[spec.kind]
    if not is_type(value):
        raise malformed(f"{path}: expected type: {type_name}, found: {json_type_name(value)}")
    if spec.choices and value not in spec.choices:
        raise malformed(f"{path}: {value} is not a valid enum value")
    if spec.minimum is not None and value < spec.minimum:
        raise malformed(f"{path}: {value} is not greater or equal to {spec.minimum}")
    if spec.maximum is not None and value > spec.maximum:
        raise malformed(f"{path}: {value} is not less or equal to {spec.maximum}")
    if spec.min_len is not None and len(value) < spec.min_len:
        raise malformed(f"{path}: expected minLength: {spec.min_len}, actual: {len(value)}")
    if spec.max_len is not None and len(value) > spec.max_len:
        raise malformed(f"{path}: expected maxLength: {spec.max_len}, actual: {len(value)}")
    if spec.keys is not None:
        check_object(value, spec.keys, path)
    if spec.items is not None:
        for index, item in enumerate(value):
            check_value(item, spec.items, f"{path}/{index}")
