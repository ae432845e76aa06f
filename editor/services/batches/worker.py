"""The batch worker: Lambda's SQS event (Zappa's handler routes it here by the queue's ARN), one item
per message, partial failures reported so only those messages come back."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from pynamodb.exceptions import DoesNotExist

from editor.log import log_context_clear
from editor.models import Batch, batch_record_id
from editor.services.batches.items import ItemRetry, item_give_up, item_work

logger = logging.getLogger(__name__)


def _batch_get(batch_id: str, cache: dict) -> Batch | None:
    if batch_id not in cache:
        try:
            cache[batch_id] = Batch.get(batch_record_id(batch_id), consistent_read=True)
        except DoesNotExist:
            cache[batch_id] = None
    return cache[batch_id]


def _record_work(record: dict, batches: dict) -> bool:
    """Work one message; whether it is done (False: report it, so SQS delivers it again)."""
    receive_count = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
    try:
        body = json.loads(record["body"])
        batch = _batch_get(str(body["batch_id"]), batches)
        int(body["index"])
    except (ValueError, KeyError, TypeError):
        logger.error("batch message unreadable; dropped", extra={"message_id": record.get("messageId")})
        return True  # nothing could ever work it: retrying only fills the logs
    if batch is None:
        logger.warning("batch message for an unknown batch; dropped", extra={"batch_id": body["batch_id"]})
        return True
    try:
        item_work(batch=batch, body=body, receive_count=receive_count)
        return True
    except ItemRetry as exc:
        reason = str(exc)
    except Exception as exc:
        logger.exception("batch item crashed")
        reason = f"{type(exc).__name__}"
    if receive_count >= settings.BATCH_MAX_RECEIVES:
        try:
            item_give_up(batch=batch, body=body, reason=reason)
            return True
        except Exception:
            logger.exception("batch item could not be given up; the queue's redrive takes it")
    logger.warning("batch item retried later", extra={"reason": reason, "receive_count": receive_count})
    return False


def batch_items_work(event: dict, context=None) -> dict:
    """Lambda's SQS event in, {"batchItemFailures": [...]} out (the mapping has ReportBatchItemFailures)."""
    failures: list[dict] = []
    batches: dict = {}  # each batch read once per invocation (an item about to start reads its status)
    for record in event.get("Records", []):
        remaining_ms = context.get_remaining_time_in_millis() if context else 10**9
        if remaining_ms < settings.BATCH_ITEM_RESERVE_SECONDS * 1000:
            failures.append({"itemIdentifier": record["messageId"]})  # not started: back to the queue
            continue
        log_context_clear()
        if not _record_work(record, batches):
            failures.append({"itemIdentifier": record["messageId"]})
    log_context_clear()
    return {"batchItemFailures": failures}
