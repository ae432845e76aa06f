"""Pages of one index partition, newest first, behind an opaque cursor that only resumes that partition."""

from __future__ import annotations

import base64
import binascii
import json

from pynamodb.exceptions import QueryError

from editor.errors import ServiceError

MAX_KEY = 160  # characters of one key attribute


def cursor_encode(last_key: dict | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def _invalid_cursor() -> ServiceError:
    return ServiceError("invalid_cursor", "The cursor is not valid; start from the first page.")


def cursor_decode(cursor: str, *, names: set[str], partition: tuple[str, str]) -> dict:
    """A cursor is a position in one partition of one index: exactly its key's names, and that partition's
    value (a cursor made for someone else's list, or edited by hand, is refused)."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise _invalid_cursor() from exc
    well_formed = (
        isinstance(key, dict)
        and set(key) == names
        and all(isinstance(key[name], dict) and set(key[name]) == {"S"} for name in names)
        and all(isinstance(key[name]["S"], str) and 0 < len(key[name]["S"]) <= MAX_KEY for name in names)
    )
    partition_name, partition_value = partition
    if not well_formed or key[partition_name]["S"] != partition_value:
        raise _invalid_cursor()
    return key


def page_query(
    index,
    *,
    partition: tuple[str, str],
    names: set[str],
    limit: int,
    cursor: str | None,
    unavailable: ServiceError,
) -> tuple[list, str | None]:
    """One page of `index`'s partition, newest first, and the next page's cursor (None at the end)."""
    results = index.query(
        partition[1],
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=cursor_decode(cursor, names=names, partition=partition) if cursor else None,
    )
    try:
        items = list(results)
    except QueryError as exc:
        raise unavailable from exc
    return items, cursor_encode(results.last_evaluated_key)
