"""The history page's batch card: the items of one batch on a page shown as one card."""

from __future__ import annotations

from editor.models import ImageEdit


def history_batches_collapse(*, items: list[ImageEdit], cards: list[dict]) -> list[dict]:
    """The items of one batch on a history page as one card, where its newest item stands."""
    batch_ids = {item.id: item.batch_id for item in items if item.batch_id}
    collapsed: list[dict] = []
    seen: dict[str, dict] = {}
    for card in cards:
        batch_id = batch_ids.get(card["id"])
        if batch_id is None:
            collapsed.append(card)
            continue
        if batch_id in seen:
            seen[batch_id]["on_page"] += 1
            continue
        seen[batch_id] = {**card, "batch_id": batch_id, "on_page": 1, "versions": 1}
        collapsed.append(seen[batch_id])
    return collapsed
