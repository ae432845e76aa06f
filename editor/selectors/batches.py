"""Reads of batches: one person's batch by id, their batches newest first, a batch's progress and items."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from pynamodb.exceptions import DoesNotExist, GetError, QueryError

from editor.errors import ServiceError
from editor.models import (
    BATCH_CANCELLED,
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    Batch,
    ImageEdit,
    batch_record_id,
    timestamp_parse,
)
from editor.selectors.paging import page_query
from editor.users import CognitoUser

CANCELLED_CODE = "cancelled"  # a batch item that never started (services/batches/items.py)


def batch_get_owned(*, user: CognitoUser, batch_id: str) -> Batch:
    """The person's batch, or a 404 (someone else's batch is indistinguishable from a missing one)."""
    try:
        batch = Batch.get(batch_record_id(str(uuid.UUID(str(batch_id)))), consistent_read=True)
    except (ValueError, DoesNotExist):
        batch = None
    except GetError as exc:
        raise ServiceError(
            "storage_unavailable", "Batches cannot be read now; try again.", status=503
        ) from exc
    if batch is None or batch.owner != user.sub:
        raise ServiceError("not_found", "No such batch.", status=404)
    return batch


_BATCH_KEYS = {"id", "batch_key", "request_timestamp"}


def _unavailable() -> ServiceError:
    return ServiceError("storage_unavailable", "Batches cannot be read now; try again.", status=503)


def batches_list(
    *, user: CognitoUser, limit: int = 20, cursor: str | None = None
) -> tuple[list[Batch], str | None]:
    """One page of the person's batches, newest first, and the next page's cursor (None at the end)."""
    return page_query(
        Batch.by_batch,
        partition=("batch_key", f"owner#{user.sub}"),
        names=_BATCH_KEYS,
        limit=limit,
        cursor=cursor,
        unavailable=_unavailable(),
    )


def batch_items_page(
    *, batch: Batch, limit: int = 100, cursor: str | None = None
) -> tuple[list[ImageEdit], str | None]:
    """A page of the batch's edits, newest first (the results grid)."""
    return page_query(
        ImageEdit.by_batch,
        partition=("batch_key", batch.id.split("#", 1)[1]),
        names=_BATCH_KEYS,
        limit=limit,
        cursor=cursor,
        unavailable=_unavailable(),
    )


@dataclass
class BatchProgress:
    """Where a batch stands: items per state, estimated cost of what ran, and when the rest should end."""

    counts: dict = field(default_factory=dict)
    cost_usd: float = 0.0
    eta_seconds: float | None = None
    done: bool = False


def batch_progress(*, batch: Batch) -> BatchProgress:
    """Count the batch's items by state from their edits (exact after any crash: nothing to drift).

    Items without an edit yet are QUEUED, or CANCELLED once the batch was cancelled (they never start).
    """
    if batch.counts:  # recorded once every item ended
        return BatchProgress(
            counts=dict(batch.counts), cost_usd=float(batch.counts.get("cost_usd", 0)), done=True
        )
    counts = {"QUEUED": 0, PENDING: 0, RUNNING: 0, SUCCEEDED: 0, FAILED: 0, "CANCELLED": 0}
    cost = 0.0
    first_start: dt.datetime | None = None
    ended = 0
    batch_id = batch.id.split("#", 1)[1]
    attributes = ["id", "status", "error_code", "estimated_cost_usd", "started_at", "finished_at"]
    try:
        for edit in ImageEdit.by_batch.query(batch_id, attributes_to_get=attributes):
            state = "CANCELLED" if edit.error_code == CANCELLED_CODE else edit.status
            counts[state] += 1
            cost += float(edit.estimated_cost_usd or 0)
            if edit.started_at:
                started = timestamp_parse(edit.started_at)
                first_start = started if first_start is None else min(first_start, started)
            if state in (SUCCEEDED, FAILED):
                ended += 1
    except QueryError as exc:
        raise ServiceError(
            "storage_unavailable", "Batches cannot be read now; try again.", status=503
        ) from exc
    seen = sum(counts.values())
    unseen = max(0, int(batch.total) - seen)
    cancelled = batch.status == BATCH_CANCELLED
    # A cancelled batch's unseen items will never start: shown CANCELLED now, though the batch ends only
    # once the queue reached each (that is when each is recorded and given back).
    counts["CANCELLED" if cancelled else "QUEUED"] += unseen
    remaining = unseen + counts[PENDING] + counts[RUNNING]
    eta = None
    if remaining and ended and first_start is not None and not cancelled:
        elapsed = (dt.datetime.now(dt.UTC) - first_start).total_seconds()
        if elapsed > 0:
            eta = round(remaining / (ended / elapsed), 1)  # at the pace so far
    return BatchProgress(counts=counts, cost_usd=round(cost, 6), eta_seconds=eta, done=remaining == 0)
