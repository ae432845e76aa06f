"""One person's edit by id (someone else's is a 404), and an edit read again; never a write."""

from __future__ import annotations

import uuid

from pynamodb.exceptions import DoesNotExist, GetError

from editor.errors import ServiceError
from editor.models import ImageEdit
from editor.users import CognitoUser


def edit_get_owned(*, user: CognitoUser, edit_id: str) -> ImageEdit:
    """The person's edit, or a 404: someone else's edit is indistinguishable from a missing one."""
    try:
        # Ids are server-made UUIDs; anything else is missing (and never reaches DynamoDB's key limits).
        edit = ImageEdit.get(str(uuid.UUID(str(edit_id))), consistent_read=True)
    except (ValueError, DoesNotExist):
        edit = None
    except GetError as exc:
        raise ServiceError(
            "storage_unavailable", "Edits cannot be read right now; try again.", status=503
        ) from exc
    if edit is None or edit.user_id != user.sub:
        raise ServiceError("not_found", "No such edit.", status=404)
    return edit


def edit_refresh(edit: ImageEdit) -> ImageEdit:
    """Re-read the edit; one deleted meanwhile is a 404 like any missing edit."""
    try:
        edit.refresh(consistent_read=True)
    except ImageEdit.DoesNotExist as exc:
        raise ServiceError("not_found", "No such edit (it was deleted).", status=404) from exc
    return edit
