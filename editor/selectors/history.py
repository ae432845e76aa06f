"""History: one person's edits newest first, a page at a time by an opaque cursor; never a Scan."""

from __future__ import annotations

import base64
import binascii
import json

from pynamodb.exceptions import QueryError

from editor.errors import ServiceError
from editor.models import ImageEdit
from editor.users import CognitoUser


def _cursor_encode(last_key: dict | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


_CURSOR_KEYS = {"id", "user_id", "request_timestamp"}


def _invalid_cursor() -> ServiceError:
    return ServiceError("invalid_cursor", "The cursor is not valid; start from the first page.")


def _cursor_decode(cursor: str, user: CognitoUser) -> dict:
    """A cursor is a position in one person's history: exactly the index's key, and theirs."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise _invalid_cursor() from exc
    well_formed = (
        isinstance(key, dict)
        and set(key) == _CURSOR_KEYS
        and all(isinstance(key[name], dict) and set(key[name]) == {"S"} for name in _CURSOR_KEYS)
        and all(isinstance(key[name]["S"], str) and 0 < len(key[name]["S"]) <= 128 for name in _CURSOR_KEYS)
    )
    if not well_formed or key["user_id"]["S"] != user.sub:
        raise _invalid_cursor()
    return key


def edits_list(
    *, user: CognitoUser, limit: int = 20, cursor: str | None = None
) -> tuple[list[ImageEdit], str | None]:
    """One page of the person's history, newest first, and the cursor of the next page (None at the end)."""
    results = ImageEdit.by_user.query(
        user.sub,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=_cursor_decode(cursor, user) if cursor else None,
    )
    try:
        items = list(results)
    except QueryError as exc:
        raise ServiceError(
            "history_unavailable", "Your history cannot be read right now; try again.", status=503
        ) from exc
    return items, _cursor_encode(results.last_evaluated_key)
