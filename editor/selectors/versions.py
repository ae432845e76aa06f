"""Reads of a photo's version tree: every edit under one root, newest first, by a Query on its index."""

from __future__ import annotations

from pynamodb.exceptions import QueryError

from editor.errors import ServiceError
from editor.models import ImageEdit
from editor.selectors.edits import edit_get_owned
from editor.users import CognitoUser


def tree_edits(*, user: CognitoUser, edit: ImageEdit) -> list[ImageEdit]:
    """Every version in the edit's tree, newest first (the edit alone if it predates the tree)."""
    if not edit.tree_key or not edit.tree_key.startswith(f"{user.sub}#"):
        return [edit]
    try:
        items = list(ImageEdit.by_tree.query(edit.tree_key, scan_index_forward=False))
    except QueryError as exc:
        raise ServiceError(
            "history_unavailable", "The versions cannot be read right now; try again.", status=503
        ) from exc
    # The index is eventually consistent: an edit just made may not be in it yet.
    if not any(item.id == edit.id for item in items):
        items.insert(0, edit)
    return [item for item in items if item.user_id == user.sub]


def version_tree(*, user: CognitoUser, edit_id: str) -> tuple[ImageEdit, list[ImageEdit]]:
    """The person's edit and every version in its tree."""
    edit = edit_get_owned(user=user, edit_id=edit_id)
    return edit, tree_edits(user=user, edit=edit)


def tree_count(*, user: CognitoUser, root_id: str) -> int:
    """How many versions a tree has, counted on its index (one COUNT Query): for roots from before the
    counter, and trees whose root was deleted."""
    try:
        return ImageEdit.by_tree.count(f"{user.sub}#{root_id}")
    except QueryError:
        return 0


def roots_get(*, user: CognitoUser, root_ids: list[str]) -> dict[str, ImageEdit]:
    """The person's root items by id, with their version counters: one BatchGetItem (up to 100 ids)."""
    if not root_ids:
        return {}
    wanted = ["id", "user_id", "version_count", "version_counted"]
    try:
        items = ImageEdit.batch_get(root_ids, attributes_to_get=wanted)
        return {item.id: item for item in items if item.user_id == user.sub}
    except Exception as exc:  # PynamoDB raises its own errors and botocore's alike here
        raise ServiceError(
            "history_unavailable", "Your history cannot be read right now; try again.", status=503
        ) from exc
