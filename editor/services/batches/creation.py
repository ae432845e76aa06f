"""Accepting a batch: check the request once, charge every item up front, queue one message per item."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
import time
import uuid

from django.conf import settings

from editor.errors import ServiceError
from editor.models import (
    ACTIVE_BATCH_MARK,
    BATCH_CANCELLED,
    BATCH_RUNNING,
    Batch,
    batch_record_id,
    timestamp_now,
)
from editor.selectors.batches import batch_get_owned
from editor.services import storage
from editor.services.batches.admission import batch_admit
from editor.services.batches.items import CANCELLED_CODE, ended_without_model
from editor.services.batches.queue import item_edit_id, item_message, messages_send
from editor.services.bedrock.adapter import ModelAdapter
from editor.services.bedrock.catalog import adapter_get, task_unavailable_note
from editor.services.bedrock.lifecycle import SUCCESSOR_FAMILY, lifecycle_route
from editor.services.bedrock.tasks import EditSpec
from editor.services.edits.admission import IdempotencyClaim
from editor.services.edits.creation import edit_cost
from editor.services.imaging.images import SourceImage
from editor.services.spend import usage_read
from editor.users import CognitoUser

logger = logging.getLogger(__name__)

# A photo large enough for any size rule: what a task costs at most (upscale runs a dearer model above 1 MP).
_LARGEST = SourceImage(data=b"", format="png", width=3000, height=3000)


def item_cost(adapter: ModelAdapter, spec: EditSpec) -> float:
    """What one item is charged up front: the dearest model its task may run, whatever the photo's size."""
    small = edit_cost(adapter, spec)
    return max(small, edit_cost(adapter, dataclasses.replace(spec, image=_LARGEST)))


def _refusal_with_room(exc: ServiceError, *, user: CognitoUser, cost: float) -> ServiceError:
    """The spend refusal, plus how many items would fit today: the person can send that many."""
    usage = usage_read(user)
    room = usage["limits"]["daily_edits"] - usage["edits"]
    budget = usage["limits"]["daily_budget_usd"]
    if budget is not None and cost > 0:
        room = min(room, math.floor((budget - usage["estimated_spend_usd"]) / cost + 1e-9))
    room = max(0, room)
    return ServiceError(
        exc.code, f"{exc.message} At most {room} item(s) of this batch fit today.", status=exc.status
    )


def batch_create(
    *, user: CognitoUser, spec: EditSpec, items: list[dict], idempotency_key: str | None = None
) -> tuple[Batch, bool]:
    """Accept a batch: every item is one edit of `spec` on its upload. The whole batch is charged now
    (quota, budget, month) or refused; items that never reach a model are given back as they end.

    Returns (batch, created): an Idempotency-Key seen before returns the batch it made (not charged
    again), as for a single edit; the same key with another request is a 422."""
    if not settings.BATCH_QUEUE_URL:
        raise ServiceError("batches_unavailable", "Batches are not configured on this server.", status=503)
    unavailable = task_unavailable_note(spec.task)
    if unavailable:
        raise ServiceError(
            "task_unavailable", f"The '{spec.task}' task is not available here. {unavailable}", status=422
        )
    adapter = adapter_get(spec.model)
    adapter, _ = lifecycle_route(adapter, spec, adapter_get(SUCCESSOR_FAMILY))  # a retired task: 4xx now
    spec = dataclasses.replace(spec, model=adapter.family)
    cost = item_cost(adapter, spec)
    total = len(items)
    batch_id = str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC)
    claim = None
    if idempotency_key:
        options = {"task": spec.task, "model": spec.model, "prompt": spec.prompt, **spec.parameters()}
        fingerprint = hashlib.sha256(
            json.dumps({**options, "items": items}, sort_keys=True, default=str).encode()
        ).hexdigest()
        claim = IdempotencyClaim(key=f"batch:{idempotency_key}", fingerprint=fingerprint)
    manifest_key = storage.object_key(user_id=user.sub, edit_id=batch_id, name="items.json").replace(
        "/edits/", "/batches/", 1
    )
    batch = Batch(
        id=batch_record_id(batch_id),
        owner=user.sub,
        username=user.username,
        batch_key=f"owner#{user.sub}",
        request_timestamp=timestamp_now(),
        status=BATCH_RUNNING,
        task=spec.task,
        parameters={
            "model": spec.model,
            "prompt": spec.prompt,
            "negative_prompt": spec.negative_prompt,
            **spec.parameters(),
        },
        total=total,
        item_cost_usd=cost,
        item_images=spec.count,
        charged_day=now.date().isoformat(),
        manifest_key=manifest_key,
        active=ACTIVE_BATCH_MARK,
    )
    # The manifest first: a batch on record always has it (the local stack requeues from it after a
    # crash, since SQS is not journalled); one left by a refused request is never read.
    storage.object_put(key=manifest_key, data=json.dumps(items).encode(), content_type="application/json")
    try:
        existing = batch_admit(
            user=user,
            batch=batch,
            edits=total,
            images=spec.count * total,
            cost_usd=cost * total,
            now=now,
            claim=claim,
        )
    except ServiceError as exc:
        _manifest_discard(manifest_key)
        if exc.status == 429 and exc.code != "monthly_budget_exceeded":
            raise _refusal_with_room(exc, user=user, cost=cost) from exc
        raise
    if existing:
        _manifest_discard(manifest_key)
        return _batch_when_saved(user, existing), False
    messages = [
        (index, item_message(batch_id=batch_id, index=index, item=item)) for index, item in enumerate(items)
    ]
    unsent = messages_send(messages=messages)
    if unsent:
        _unsent_give_back(batch, unsent)
    logger.info("batch accepted", extra={"batch_id": batch_id, "items": total, "unsent": len(unsent)})
    return batch, True


def _manifest_discard(key: str) -> None:
    try:
        storage.objects_delete(keys=[key])
    except ServiceError:
        logger.warning("an unused batch manifest could not be removed")


def _batch_when_saved(user: CognitoUser, batch_id: str) -> Batch:
    # A concurrent duplicate may have claimed the key a moment before saving its batch.
    for _ in range(20):
        try:
            return batch_get_owned(user=user, batch_id=batch_id)
        except ServiceError:
            time.sleep(0.1)
    return batch_get_owned(user=user, batch_id=batch_id)


def _unsent_give_back(batch: Batch, unsent: list[int]) -> None:
    """Items SQS would not take never run: cancel the batch, record each of them cancelled (and given
    back, once each), and say so. The queued ones end cancelled too as the worker reaches them."""
    # Cancelled, so the items that were queued do not start either: a half batch helps nobody.
    batch.update(actions=[Batch.status.set(BATCH_CANCELLED), Batch.cancelled_at.set(timestamp_now())])
    batch_id = batch.id.split("#", 1)[1]
    for index in unsent:
        ended_without_model(
            batch=batch,
            edit_id=item_edit_id(batch_id=batch_id, index=index),
            index=index,
            code=CANCELLED_CODE,
            message="The item could not be queued, so the batch was cancelled; it was not charged.",
            started_at=timestamp_now(),
        )
    raise ServiceError(
        "batch_not_queued",
        f"Only {batch.total - len(unsent)} of {batch.total} items could be queued, so the batch "
        f"{batch_id} was cancelled; nothing that did not run is charged. Send it again.",
        status=503,
    )
