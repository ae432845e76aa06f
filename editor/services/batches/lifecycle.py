"""A batch's end: cancelled by its owner (what has not started never starts), or finished when every
item ended (its counts recorded once, so reading a finished batch is one GetItem)."""

from __future__ import annotations

import logging

from pynamodb.exceptions import UpdateError

from editor.errors import ServiceError
from editor.models import (
    BATCH_CANCELLED,
    BATCH_COMPLETED,
    BATCH_RUNNING,
    Batch,
    condition_failed,
    timestamp_now,
)
from editor.selectors.batches import BatchProgress, batch_get_owned
from editor.users import CognitoUser

logger = logging.getLogger(__name__)


def batch_cancel(*, user: CognitoUser, batch_id: str) -> Batch:
    """Cancel the person's batch: items not started yet end CANCELLED and are given back as the queue
    reaches them; items already running finish. Cancelling a cancelled batch is a no-op; a finished one
    is a 409."""
    batch = batch_get_owned(user=user, batch_id=batch_id)
    if batch.status == BATCH_CANCELLED:
        return batch
    if batch.status != BATCH_RUNNING:
        raise ServiceError(
            "batch_finished", "This batch has finished; there is nothing to cancel.", status=409
        )
    try:
        batch.update(
            actions=[Batch.status.set(BATCH_CANCELLED), Batch.cancelled_at.set(timestamp_now())],
            condition=Batch.status == BATCH_RUNNING,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise ServiceError(
                "storage_unavailable", "The batch could not be cancelled; try again.", status=503
            ) from exc
        batch.refresh(consistent_read=True)
        if batch.status != BATCH_CANCELLED:
            raise ServiceError(
                "batch_finished", "This batch has finished; there is nothing to cancel.", status=409
            ) from exc
    logger.info("batch cancelled", extra={"batch_id": batch_id})
    return batch


def batch_finish_if_done(*, batch: Batch, progress: BatchProgress) -> Batch:
    """Record the counts of a batch whose every item ended (COMPLETED, or CANCELLED as it was)."""
    if batch.counts or not progress.done:
        return batch
    counts = {**progress.counts, "cost_usd": progress.cost_usd}
    status = BATCH_CANCELLED if batch.status == BATCH_CANCELLED else BATCH_COMPLETED
    try:
        batch.update(
            actions=[
                Batch.status.set(status),
                Batch.counts.set(counts),
                Batch.finished_at.set(timestamp_now()),
                Batch.active.remove(),
            ],
            condition=Batch.counts.does_not_exist() & (Batch.status == batch.status),
        )
    except UpdateError:
        # Cancelled meanwhile, or already recorded, or DynamoDB busy: the next read decides again.
        logger.info("batch end not recorded now", extra={"batch_id": batch.id})
    return batch
