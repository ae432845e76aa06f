"""Admitting a batch in one DynamoDB transaction: its Idempotency-Key, every item's quota and budget,
the month's budget and the batch record, all or nothing (as a single edit is admitted)."""

from __future__ import annotations

import datetime as dt
import logging

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from editor.errors import ServiceError
from editor.models import Batch, IdempotencyRecord
from editor.services.edits.admission import (
    IdempotencyClaim,
    claimed_edit,
    idempotency_record_id,
    reason_code,
)
from editor.services.spend import spend_admitted, spend_refusal, spend_writes
from editor.users import CognitoUser

logger = logging.getLogger(__name__)


def batch_admit(
    *,
    user: CognitoUser,
    batch: Batch,
    edits: int,
    images: int,
    cost_usd: float,
    now: dt.datetime,
    claim: IdempotencyClaim | None = None,
) -> str | None:
    """Write the batch and charge all its items, or nothing. None when admitted; the id of the batch that
    already holds the key (the same request sent again) otherwise. 429 past a limit, 422 for a key
    reused with another request."""
    writes = spend_writes(user, images=images, cost_usd=cost_usd, now=now, edits=edits)
    batch_id = batch.id.split("#", 1)[1]
    for _ in range(3):
        order = (["claim"] if claim else []) + ["batch"] + [write.scope for write in writes]
        try:
            with TransactWrite(connection=Batch._get_connection().connection) as tx:
                if claim:
                    tx.save(
                        IdempotencyRecord(
                            id=idempotency_record_id(user, claim.key),
                            edit_id=batch_id,  # the record's one id field: here, the batch's
                            request_fingerprint=claim.fingerprint,
                            expires_at=dt.timedelta(days=1),
                        ),
                        condition=IdempotencyRecord.id.does_not_exist(),
                    )
                tx.save(batch, condition=Batch.id.does_not_exist())
                for write in writes:
                    tx.update(write.counter, actions=write.actions, condition=write.condition)
        except TransactWriteError as exc:
            failed = {
                name
                for index, name in enumerate(order)
                if reason_code(exc, index) == "ConditionalCheckFailed"
            }
            if "claim" in failed:
                existing = claimed_edit(user, claim)
                if existing is not None:
                    return existing
                continue  # freed meanwhile by a refused request: claim it again
            if "day" in failed or "month" in failed:
                scope = "day" if "day" in failed else "month"
                raise spend_refusal(user, scope=scope, cost_usd=cost_usd, now=now, edits=edits) from exc
            logger.warning("batch admission failed", extra={"reasons": sorted(failed)})
            raise ServiceError(
                "storage_unavailable", "The batch could not be recorded right now; try again.", status=503
            ) from exc
        spend_admitted(images=images, cost_usd=cost_usd)
        return None
    raise ServiceError(
        "storage_unavailable", "The batch could not be recorded right now; try again.", status=503
    )
