"""How many versions each photo's tree has: a counter on the tree's root, kept as versions come and go."""

from __future__ import annotations

import logging

from pynamodb.exceptions import UpdateError

from editor.models import ImageEdit, condition_failed
from editor.selectors.versions import roots_get, tree_count
from editor.users import CognitoUser

logger = logging.getLogger(__name__)


def version_counts(*, user: CognitoUser, roots: list[str], on_page: dict[str, ImageEdit]) -> dict[str, int]:
    """How many versions each root's tree has, from the counter on the root: roots on the page cost
    nothing, the others one BatchGetItem. A root from before the counter is counted once on its index and
    the count recorded (backfill on read); later versions add to it in their own transactions."""
    items = {root: on_page[root] for root in roots if root in on_page}
    items.update(roots_get(user=user, root_ids=[root for root in roots if root not in items]))
    counts = {}
    for root in roots:
        item = items.get(root)
        if item is not None and item.version_counted:
            counts[root] = int(item.version_count or 1)
            continue
        counts[root] = tree_count(user=user, root_id=root)
        if item is not None:
            _count_record(root, counts[root])
    return counts


def _count_record(root_id: str, count: int) -> None:
    """Record a tree's first whole count, unless another reader did; a failure only costs a recount."""
    try:
        ImageEdit(id=root_id).update(
            actions=[ImageEdit.version_count.set(count), ImageEdit.version_counted.set(1)],
            condition=ImageEdit.id.exists() & ImageEdit.version_counted.does_not_exist(),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            logger.warning("version count not recorded", extra={"root_id": root_id, "error": str(exc)})


def version_count_add(*, root_id: str | None, edit_id: str, delta: int) -> None:
    """Add to (or take from) a tree's counter when versions join or leave it other than by creation."""
    if not root_id or root_id == edit_id or delta == 0:
        return
    try:
        ImageEdit(id=root_id).update(
            actions=[ImageEdit.version_count.add(delta)], condition=ImageEdit.id.exists()
        )
    except UpdateError as exc:
        if not condition_failed(exc):  # the root itself was deleted: no counter left to keep
            logger.warning("version count not updated", extra={"root_id": root_id, "error": str(exc)})
