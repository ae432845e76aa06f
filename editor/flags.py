"""On/off flags in query strings and bodies, read strictly: a misspelt flag is a 400, never a guess."""

from __future__ import annotations

from rest_framework import serializers

from editor.errors import ServiceError

# The only spellings accepted, compared case-insensitively. Deliberately narrower than DRF's BooleanField
# (which takes yes/on/y/t...): `?dry_run=yes` read as false once ran a real, billed edit.
TRUE_WORDS = ("1", "true")
FALSE_WORDS = ("0", "false")
SPELLINGS = "1 or true (on), 0 or false (off)"


def flag_parse(*, name: str, value: object) -> bool:
    """The flag's value, or ServiceError 400 naming the accepted spellings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    shown = repr(value) if isinstance(value, str) and len(value) <= 40 else "this value"
    raise ServiceError("invalid_flag", f"{name} must be {SPELLINGS}; {shown} is neither.")


def query_flag_read(*, query, name: str, default: bool = False) -> bool:
    """A flag from the query string (a QueryDict); absent is the default, given twice is refused."""
    values = query.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise ServiceError("invalid_flag", f"{name} is given {len(values)} times; give it once.")
    return flag_parse(name=name, value=values[0])


class StrictBooleanField(serializers.BooleanField):
    """A body flag: JSON true/false, or one of the query spellings (form fields are strings). A
    BooleanField for the schema, without its lenient spellings."""

    # BooleanField reads a form without the field as false (an unticked checkbox): absent is absent here.
    default_empty_html = serializers.empty

    default_error_messages = {"invalid": f"Must be {SPELLINGS}."}

    def to_internal_value(self, data):
        try:
            return flag_parse(name=self.field_name, value=data)
        except ServiceError:
            self.fail("invalid")

    def to_representation(self, value):
        return bool(value)
