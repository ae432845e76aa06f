"""The batch queue: one SQS message per item, sent ten at a time."""

from __future__ import annotations

import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from editor.services.aws import aws_client

logger = logging.getLogger(__name__)

SEND_BATCH = 10  # SendMessageBatch takes at most ten messages
SEND_THREADS = 8  # 10,000 items are 1,000 calls: in parallel they fit well inside API Gateway's 29 s


def item_edit_id(*, batch_id: str, index: int) -> str:
    """The edit an item becomes: fixed by the batch and the item's place, so a redelivery finds it."""
    return str(uuid.uuid5(uuid.UUID(batch_id), str(index)))


def item_message(*, batch_id: str, index: int, item: dict) -> dict:
    """An item's message body: enough to find the batch, and the uploads for someone reading the DLQ."""
    body = {"batch_id": batch_id, "index": index, "upload_id": item["upload_id"]}
    if item.get("mask_upload_id"):
        body["mask_upload_id"] = item["mask_upload_id"]
    return body


def _send_chunk(chunk: list[tuple[int, dict]]) -> list[int]:
    """Send up to ten messages; return the indexes that could not be sent."""
    entries = [{"Id": str(index), "MessageBody": json.dumps(body)} for index, body in chunk]
    try:
        answer = aws_client("sqs").send_message_batch(QueueUrl=settings.BATCH_QUEUE_URL, Entries=entries)
    except (BotoCoreError, ClientError):
        logger.warning("batch messages could not be sent", exc_info=True)
        return [index for index, _ in chunk]
    failed = [int(entry["Id"]) for entry in answer.get("Failed", [])]
    if failed:
        logger.warning("some batch messages were refused", extra={"count": len(failed)})
    return failed


def messages_send(*, messages: list[tuple[int, dict]]) -> list[int]:
    """Queue (index, body) messages; return the indexes that were not queued (after one retry)."""
    chunks = [messages[start : start + SEND_BATCH] for start in range(0, len(messages), SEND_BATCH)]
    with ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="batch-send") as pool:
        failed = [index for unsent in pool.map(_send_chunk, chunks) for index in unsent]
    if failed:
        by_index = dict(messages)
        retry = [(index, by_index[index]) for index in failed]
        failed = [
            index
            for chunk in (retry[i : i + SEND_BATCH] for i in range(0, len(retry), SEND_BATCH))
            for index in _send_chunk(chunk)
        ]
    return failed


def dead_letter_send(*, body: dict, reason: str) -> None:
    """Hand a message to the DLQ directly (an item whose checks failed: retrying cannot help)."""
    aws_client("sqs").send_message(
        QueueUrl=settings.BATCH_DLQ_URL,
        MessageBody=json.dumps(body),
        MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1000]}},
    )
