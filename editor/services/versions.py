"""A photo's version tree: where a new edit joins it, and deleting a version that has later versions."""

from __future__ import annotations

import logging

from editor.models import ImageEdit
from editor.selectors.edits import edit_get_owned
from editor.selectors.versions import tree_edits
from editor.services.edits.deletion import edit_delete
from editor.services.version_counts import version_count_add
from editor.users import CognitoUser

logger = logging.getLogger(__name__)

DELETE_BRANCH, KEEP_CHILDREN = "branch", "keep"


def tree_key(user_sub: str, root_id: str) -> str:
    return f"{user_sub}#{root_id}"


def version_fields(*, user: CognitoUser, edit_id: str, parent_id: str | None) -> dict:
    """The tree fields of a new edit: a first edit is its own root; a continued one joins its parent's."""
    root_id = edit_id
    if parent_id:
        parent = edit_get_owned(user=user, edit_id=parent_id)
        root_id = parent.root_id or parent.id
        if not parent.tree_key:
            # An edit from before the tree existed becomes the root of the tree its continuation starts.
            key = tree_key(user.sub, root_id)
            parent.update(actions=[ImageEdit.root_id.set(root_id), ImageEdit.tree_key.set(key)])
    return {"root_id": root_id, "tree_key": tree_key(user.sub, root_id)}


def _descendants(edits: list[ImageEdit], edit_id: str) -> list[ImageEdit]:
    children: dict[str, list[ImageEdit]] = {}
    for edit in edits:
        children.setdefault(edit.parent_id or "", []).append(edit)
    found, pending = [], [edit_id]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child.id)
    return found


def version_delete(*, user: CognitoUser, edit_id: str, children: str = DELETE_BRANCH) -> int:
    """Delete a version; its later versions go too (`branch`), or each child becomes a root of its own
    (`keep`) with its own later versions under it. Returns how many edits were deleted."""
    edit = edit_get_owned(user=user, edit_id=edit_id)
    later = _descendants(tree_edits(user=user, edit=edit), edit.id)
    if children == DELETE_BRANCH:
        for descendant in reversed(later):
            edit_delete(user=user, edit_id=descendant.id)
        edit_delete(user=user, edit_id=edit.id)
        return len(later) + 1
    edit_delete(user=user, edit_id=edit.id)
    for child in (item for item in later if item.parent_id == edit.id):
        subtree = [child, *_descendants(later, child.id)]
        for item in subtree:
            # The parent link stays (it says where the picture came from); the tree is the child's own.
            actions = [ImageEdit.root_id.set(child.id), ImageEdit.tree_key.set(tree_key(user.sub, child.id))]
            if item is child:
                actions += [ImageEdit.version_count.set(len(subtree)), ImageEdit.version_counted.set(1)]
            item.update(actions=actions)
        version_count_add(root_id=edit.root_id, edit_id=edit.id, delta=-len(subtree))
    logger.info(
        "version deleted", extra={"edit_id": edit_id, "later_versions": len(later), "children": children}
    )
    return 1
