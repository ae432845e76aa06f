"""Working one batch item (one SQS message): make its edit once, run it once, end it once."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from pynamodb.exceptions import DoesNotExist, PutError

from editor.errors import ServiceError
from editor.log import log_context_bind
from editor.models import (
    ACTIVE_STATUSES,
    BATCH_CANCELLED,
    FAILED,
    PENDING,
    RUNNING,
    Batch,
    ImageEdit,
    condition_failed,
    timestamp_now,
    timestamp_parse,
)
from editor.services.batches.queue import dead_letter_send, item_edit_id
from editor.services.bedrock.tasks import EditSpec
from editor.services.edits.creation import EditInputs, edit_check, edit_inputs_store, edit_item
from editor.services.edits.running import edit_run, finish_failed, update_conditionally
from editor.services.spend import spend_give_back
from editor.users import CognitoUser

logger = logging.getLogger(__name__)

# Failures that another attempt may not meet: the queue retries the item (up to maxReceiveCount).
TRANSIENT_CODES = frozenset({"throttled", "model_not_ready", "bedrock_unavailable", "storage_unavailable"})
CANCELLED_CODE = "cancelled"


class ItemRetry(Exception):
    """The item could not be worked now; its message comes back after the visibility timeout."""


def _transient(exc: ServiceError) -> bool:
    return exc.code in TRANSIENT_CODES


def batch_spec(batch: Batch) -> EditSpec:
    parameters = dict(batch.parameters or {})
    return EditSpec.from_parameters(
        task=batch.task,
        model=parameters.pop("model", "") or "",
        prompt=parameters.pop("prompt", "") or "",
        negative_prompt=parameters.pop("negative_prompt", "") or "",
        parameters=parameters,
    )


def ended_without_model(
    *, batch: Batch, edit_id: str, index: int, code: str, message: str, started_at: str
) -> bool:
    """Record the item FAILED (it never reached a model) and give its charge back; exactly once: only the
    attempt whose write creates the item gives back. Whether this attempt did."""
    edit = ImageEdit(
        id=edit_id,
        user_id=batch.owner,
        request_timestamp=started_at,
        status=FAILED,
        task=batch.task,
        prompt=(batch.parameters or {}).get("prompt") or "",
        parameters={},
        error_code=code,
        error_message=message,
        finished_at=timestamp_now(),
        batch_id=batch.id.split("#", 1)[1],
        batch_key=batch.id.split("#", 1)[1],
        batch_index=index,
        root_id=edit_id,
        tree_key=f"{batch.owner}#{edit_id}",
    )
    try:
        edit.save(condition=ImageEdit.id.does_not_exist())
    except PutError as exc:
        if condition_failed(exc):
            return False  # an earlier attempt recorded it (and gave back)
        raise ItemRetry("the item could not be recorded") from exc
    spend_give_back(
        user_sub=batch.owner,
        day=batch.charged_day,
        edits=1,
        images=int(batch.item_images),
        cost_usd=float(batch.item_cost_usd),
    )
    return True


def _takeover_if_abandoned(edit: ImageEdit) -> bool:
    """A RUNNING item whose attempt died (its message came back after 6 x the function timeout, or the
    local stack restarted): back to PENDING so this attempt may claim it. False if it may still run."""
    started = timestamp_parse(edit.started_at or edit.request_timestamp)
    age = (dt.datetime.now(dt.UTC) - started).total_seconds()
    if age <= settings.EDIT_JOB_TIMEOUT_SECONDS + 60:
        return False
    return bool(
        update_conditionally(
            edit,
            actions=[ImageEdit.status.set(PENDING)],
            condition=(ImageEdit.status == RUNNING) & (ImageEdit.started_at == edit.started_at),
            applied=lambda current: current.status != RUNNING,
        )
    )


def item_work(*, batch: Batch, body: dict, receive_count: int) -> None:
    """Work one item to a terminal state, or raise ItemRetry. A redelivered message never makes a second
    edit or a second charge: the edit's id is fixed by its place, and every write is conditional."""
    batch_id, index = batch.id.split("#", 1)[1], int(body["index"])
    edit_id = item_edit_id(batch_id=batch_id, index=index)
    log_context_bind(edit_id=edit_id, batch_id=batch_id, user_sub=batch.owner)
    last_attempt = receive_count >= settings.BATCH_MAX_RECEIVES
    try:
        edit = ImageEdit.get(edit_id, consistent_read=True)
    except DoesNotExist:
        edit = None
    if edit is not None and edit.status not in ACTIVE_STATUSES:
        return  # ended on an earlier delivery
    if edit is None:
        batch.refresh(consistent_read=True)  # a cancel must stop the next item, not the next invocation
        if batch.status == BATCH_CANCELLED:
            ended_without_model(
                batch=batch,
                edit_id=edit_id,
                index=index,
                code=CANCELLED_CODE,
                message="The batch was cancelled before this item started; it was not charged.",
                started_at=timestamp_now(),
            )
            return
        edit, stored = _item_create(batch=batch, body=body, edit_id=edit_id, index=index)
        if edit is None:
            return
    else:
        if edit.status == RUNNING and not _takeover_if_abandoned(edit):
            raise ItemRetry("the item is running on another attempt")
        stored = _inputs_store_again(batch=batch, body=body, edit=edit)
    try:
        finished = edit_run(
            edit_id=edit_id, inputs=stored, release_if=lambda exc: _transient(exc) and not last_attempt
        )
    except ServiceError as exc:
        raise ItemRetry(exc.message) from exc
    if finished is None and last_attempt:
        ended = ImageEdit.get(edit_id, consistent_read=True)
        if ended.status == FAILED and ended.error_code in TRANSIENT_CODES:
            dead_letter_send(body=body, reason=f"{ended.error_code}: {ended.error_message}")


def item_give_up(*, batch: Batch, body: dict, reason: str) -> None:
    """The last attempt failed in a way the item cannot record itself: end it FAILED (given back if it
    never reached a model) and hand its message to the DLQ, never an endless retry."""
    batch_id, index = batch.id.split("#", 1)[1], int(body["index"])
    edit_id = item_edit_id(batch_id=batch_id, index=index)
    message = f"The item failed {settings.BATCH_MAX_RECEIVES} times: {reason}"
    try:
        edit = ImageEdit.get(edit_id, consistent_read=True)
    except DoesNotExist:
        edit = None
    if edit is None:
        ended_without_model(
            batch=batch,
            edit_id=edit_id,
            index=index,
            code="failed_repeatedly",
            message=message,
            started_at=timestamp_now(),
        )
    elif edit.status in ACTIVE_STATUSES:
        finish_failed(edit, "failed_repeatedly", message)
    dead_letter_send(body=body, reason=message)


def _inputs_store_again(*, batch: Batch, body: dict, edit: ImageEdit) -> dict[str, bytes]:
    """An item recorded by an attempt that died may lack its inputs in S3: store them again (the same
    keys, the same bytes)."""
    user = CognitoUser(sub=batch.owner, username=batch.username)
    inputs = EditInputs(upload_id=body.get("upload_id"), mask_upload_id=body.get("mask_upload_id"))
    try:
        checked = edit_check(user=user, spec=batch_spec(batch), inputs=inputs)
        return edit_inputs_store(edit=edit, checked=checked)
    except ServiceError as exc:
        if _transient(exc) or exc.status >= 500:
            raise ItemRetry(exc.message) from exc
        finish_failed(edit, exc.code, exc.message)  # its upload went away meanwhile
        dead_letter_send(body=body, reason=f"{exc.code}: {exc.message}")
        return {}


def _item_create(*, batch: Batch, body: dict, edit_id: str, index: int):
    """Check the item as a single edit is checked, record it PENDING, store its inputs; (None, {}) when
    its checks failed (recorded FAILED, given back, and its message sent to the DLQ)."""
    user = CognitoUser(sub=batch.owner, username=batch.username)
    inputs = EditInputs(upload_id=body.get("upload_id"), mask_upload_id=body.get("mask_upload_id"))
    started_at = timestamp_now()
    try:
        checked = edit_check(user=user, spec=batch_spec(batch), inputs=inputs)
    except ServiceError as exc:
        if _transient(exc) or exc.status >= 500:
            raise ItemRetry(exc.message) from exc
        if ended_without_model(
            batch=batch,
            edit_id=edit_id,
            index=index,
            code=exc.code,
            message=f"{exc.message} (Not charged.)",
            started_at=started_at,
        ):
            dead_letter_send(body=body, reason=f"{exc.code}: {exc.message}")
        return None, {}
    edit = edit_item(
        user=user,
        edit_id=edit_id,
        spec=checked.spec,
        adapter=checked.adapter,
        parent_id=None,
        idempotency_key=None,
        route_note=checked.route_note,
        batch_id=batch.id.split("#", 1)[1],
        batch_index=index,
    )
    try:
        # The item's id is fixed by its place: a redelivery finds it here and never makes a second one.
        edit.save(condition=ImageEdit.id.does_not_exist())
    except PutError as exc:
        if not condition_failed(exc):
            raise ItemRetry("the item could not be recorded") from exc
        edit = ImageEdit.get(edit_id, consistent_read=True)  # a concurrent delivery recorded it first
        return (edit, {}) if edit.status in ACTIVE_STATUSES else (None, {})
    try:
        stored = edit_inputs_store(edit=edit, checked=checked)
    except ServiceError as exc:
        raise ItemRetry(exc.message) from exc  # PENDING, inputs partly stored: the next attempt redoes them
    return edit, stored
