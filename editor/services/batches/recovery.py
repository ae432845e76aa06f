"""After a local stack restart: queue again what an unfinished batch still needs (its SQS state is gone).

DynamoDB is the record of what happened: each item's edit says whether it ended. The manifest in S3 says
what the batch holds. Items with no edit, or an edit still active, are queued again; their redelivery is
as idempotent as any (a fixed edit id, conditional writes, one charge taken when the batch was accepted).
"""

from __future__ import annotations

import json
import logging

from pynamodb.exceptions import DoesNotExist

from editor.models import ACTIVE_BATCH_MARK, ACTIVE_STATUSES, RUNNING, Batch, ImageEdit
from editor.services import storage
from editor.services.batches.queue import item_message, messages_send
from editor.services.edits.running import update_conditionally

logger = logging.getLogger(__name__)


def batches_requeue() -> int:
    """Queue again every unfinished item of every active batch; return how many messages were sent.

    Only for a process that has just started the local stack: no worker runs yet, so an item still
    RUNNING lost its worker and goes back to PENDING for the next attempt to claim.
    """
    sent = 0
    for key in Batch.active_batches.query(ACTIVE_BATCH_MARK):
        try:
            batch = Batch.get(key.id, consistent_read=True)
        except DoesNotExist:
            continue
        batch_id = batch.id.split("#", 1)[1]
        ended: set[int] = set()
        for edit in ImageEdit.by_batch.query(batch_id):
            if edit.status not in ACTIVE_STATUSES:
                ended.add(int(edit.batch_index))
            elif edit.status == RUNNING:
                update_conditionally(
                    edit,
                    actions=[ImageEdit.status.set("PENDING"), ImageEdit.started_at.remove()],
                    condition=ImageEdit.status == RUNNING,
                    applied=lambda current: current.status != RUNNING,
                )
        items = json.loads(storage.object_get(key=batch.manifest_key))
        messages = [
            (index, item_message(batch_id=batch_id, index=index, item=item))
            for index, item in enumerate(items)
            if index not in ended
        ]
        unsent = messages_send(messages=messages) if messages else []
        sent += len(messages) - len(unsent)
        if unsent:
            logger.error(
                "batch items could not be queued again", extra={"batch_id": batch_id, "count": len(unsent)}
            )
    return sent
