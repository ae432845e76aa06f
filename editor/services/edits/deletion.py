"""Deleting an edit: its item, its idempotency key, and every object under its prefix."""

from __future__ import annotations

import logging

from editor.selectors.edits import edit_get_owned
from editor.services import storage
from editor.services.edits.admission import idempotency_release
from editor.services.version_counts import version_count_add
from editor.users import CognitoUser

logger = logging.getLogger(__name__)


def edit_delete(*, user: CognitoUser, edit_id: str) -> None:
    """Delete the item first, then every object under the edit's prefix.

    In that order a job still running cannot record its result (its conditional write fails and it
    removes its own outputs), and objects written meanwhile are caught by the prefix.
    """
    edit = edit_get_owned(user=user, edit_id=edit_id)
    edit.delete()
    version_count_add(root_id=edit.root_id, edit_id=edit.id, delta=-1)  # one version fewer in its tree
    if edit.idempotency_key:
        idempotency_release(user, edit.idempotency_key, edit.id)
    storage.objects_delete_prefix(prefix=storage.object_key(user_id=user.sub, edit_id=edit.id, name=""))
    logger.info("edit deleted", extra={"edit_id": edit_id})
