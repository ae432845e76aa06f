"""A photo's versions: the tree as JSON (GET /api/v1/edits/<id>/versions), for the API and the pages."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from editor.models import ImageEdit
from editor.openapi import extend_schema
from editor.selectors.versions import tree_edits, version_tree
from editor.services.bedrock.tasks import TASK_RULES
from editor.services.storage import presigned_url
from editor.services.version_counts import version_counts


def version_nodes(edit: ImageEdit, items: list[ImageEdit]) -> list[dict]:
    """The tree's nodes, newest first; a parent outside the tree (deleted, or kept apart) is None."""
    ids = {item.id for item in items}
    return [
        {
            "id": item.id,
            "parent_id": item.parent_id if item.parent_id in ids else None,
            "task": item.task,
            "status": item.status,
            "created_at": item.request_timestamp,
            "thumbnail_url": presigned_url(key=item.outputs[0].key if item.outputs else item.image_reference),
            "current": item.id == edit.id,
        }
        for item in items
    ]


def tree_rows(nodes: list[dict]) -> list[dict]:
    """The nodes in reading order (each parent before its children, oldest first) with their depth."""
    children: dict[str | None, list[dict]] = {}
    for node in sorted(nodes, key=lambda node: node["created_at"]):
        children.setdefault(node["parent_id"], []).append(node)
    rows, pending = [], [(node, 0) for node in reversed(children.get(None, []))]
    while pending:
        node, depth = pending.pop()
        rule = TASK_RULES.get(node["task"])
        later = children.get(node["id"], [])
        rows.append(
            {
                **node,
                "depth": min(depth, 8),
                "task_label": rule.label if rule else node["task"],
                "children": len(later),
            }
        )
        pending.extend((child, depth + 1) for child in reversed(later))
    return rows


class VersionsApi(APIView):
    @extend_schema(responses={200: dict}, description="The version tree the edit belongs to, newest first.")
    def get(self, request, edit_id: str):
        edit, items = version_tree(user=request.user, edit_id=edit_id)
        return Response(
            {"root_id": edit.root_id or edit.id, "current_id": edit.id, "nodes": version_nodes(edit, items)}
        )


def later_count(rows: list[dict], edit_id: str) -> int:
    """How many versions were made from this one, directly or not (the rows under it)."""
    for index, row in enumerate(rows):
        if row["id"] == edit_id:
            later = 0
            for below in rows[index + 1 :]:
                if below["depth"] <= row["depth"]:
                    break
                later += 1
            return later
    return 0


def history_group(*, user, items: list[ImageEdit], cards: list[dict]) -> list[dict]:
    """One card per original photo: its newest version on the page, with the tree's version count."""
    by_root: dict[str, dict] = {}
    for item, card in zip(items, cards, strict=True):
        root = item.root_id or item.id
        if root not in by_root:
            by_root[root] = {**card, "root_id": root}
    counts = version_counts(user=user, roots=list(by_root), on_page={item.id: item for item in items})
    for root, card in by_root.items():
        card["versions"] = max(counts.get(root, 0), 1)
    return list(by_root.values())


def detail_versions(*, user, edit: ImageEdit) -> dict:
    """What the detail page shows of the tree: the rows, the parent to compare with, later versions."""
    rows = tree_rows(version_nodes(edit, tree_edits(user=user, edit=edit)))
    parent = next((row for row in rows if row["id"] == edit.parent_id), None)
    return {"versions": rows, "parent_version": parent, "later_versions": later_count(rows, edit.id)}


def version_delete_message(edit_id: str, deleted: int, children: str) -> str:
    if deleted > 1:
        return f"Edit {edit_id[:8]} was deleted with its {deleted - 1} later version(s) and their images."
    if children == "keep":
        return (
            f"Edit {edit_id[:8]} was deleted, with its images; its later versions are kept as photos of "
            "their own."
        )
    return f"Edit {edit_id[:8]} was deleted, with its images."
