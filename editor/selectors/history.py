"""History: one person's edits newest first, a page at a time by an opaque cursor; never a Scan."""

from __future__ import annotations

from editor.errors import ServiceError
from editor.models import ImageEdit
from editor.selectors.paging import page_query
from editor.users import CognitoUser

_CURSOR_KEYS = {"id", "user_id", "request_timestamp"}


def edits_list(
    *, user: CognitoUser, limit: int = 20, cursor: str | None = None
) -> tuple[list[ImageEdit], str | None]:
    """One page of the person's history, newest first, and the cursor of the next page (None at the end)."""
    return page_query(
        ImageEdit.by_user,
        partition=("user_id", user.sub),
        names=_CURSOR_KEYS,
        limit=limit,
        cursor=cursor,
        unavailable=ServiceError(
            "history_unavailable", "Your history cannot be read right now; try again.", status=503
        ),
    )
