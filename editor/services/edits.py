"""The edit lifecycle: accept (PENDING, inputs to S3, job), run (RUNNING -> SUCCEEDED | FAILED), delete."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
import uuid

from django.conf import settings
from pynamodb.exceptions import DoesNotExist, GetError, PutError, UpdateError

from editor.authentication import CognitoUser
from editor.errors import ServiceError
from editor.logging import log_context_bind
from editor.metrics import metrics_edit_finished, metrics_quota_refused
from editor.models import (
    ACTIVE_MARK,
    ACTIVE_STATUSES,
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    IdempotencyRecord,
    ImageEdit,
    OutputImage,
    QuotaCounter,
)
from editor.services import jobs, storage
from editor.services.bedrock import EditSpec, adapter_get, model_run
from editor.services.images import CONTENT_TYPES, SourceImage, image_load, mask_load

logger = logging.getLogger(__name__)

# Options kept in the item's `parameters` map (prompt and negative prompt have attributes of their own).
PARAMETER_NAMES = (
    "seed",
    "count",
    "left",
    "right",
    "up",
    "down",
    "search_prompt",
    "creativity",
    "grow_mask",
    "output_format",
    "aspect_ratio",
)
EXTENSIONS = {value: key for key, value in CONTENT_TYPES.items()}


def utc_now() -> str:
    """ISO-8601 UTC with microseconds: sorts as text, which the history index relies on."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fingerprint(
    task: str, options: dict, image: bytes | None, mask: bytes | None, parent_id: str | None
) -> str:
    digest = hashlib.sha256(
        json.dumps(
            {"task": task, "options": options, "parent_id": parent_id}, sort_keys=True, default=str
        ).encode()
    )
    for blob in (image, mask):
        digest.update(hashlib.sha256(blob or b"").digest())
    return digest.hexdigest()


def _parameters_used(task: str, options: dict) -> dict:
    """The options that shaped this edit, for the record: no empty values, margins only when set."""
    used = {name: options[name] for name in PARAMETER_NAMES if options.get(name) not in (None, "")}
    for side in ("left", "right", "up", "down"):
        if not used.get(side):
            used.pop(side, None)
    if task != "generate":
        used.pop("aspect_ratio", None)
    return used


def _quota_take(user: CognitoUser) -> None:
    """Count one edit against the person's daily quota, atomically; refuse past the limit."""
    if settings.DAILY_EDIT_QUOTA <= 0:
        metrics_quota_refused()
        raise ServiceError("edits_disabled", "Editing is switched off for now (daily quota 0).", status=429)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    counter = QuotaCounter(id=f"quota#{user.sub}#{today}")
    try:
        counter.update(
            actions=[
                QuotaCounter.used.add(1),
                QuotaCounter.expires_at.set(dt.datetime.now(dt.UTC) + dt.timedelta(days=2)),
            ],
            condition=QuotaCounter.used.does_not_exist() | (QuotaCounter.used < settings.DAILY_EDIT_QUOTA),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        metrics_quota_refused()
        raise ServiceError(
            "daily_quota_exceeded",
            f"You have used today's {settings.DAILY_EDIT_QUOTA} edits; the quota resets at midnight UTC.",
            status=429,
        ) from exc


def _idempotency_record_id(user: CognitoUser, key: str) -> str:
    return "idem#" + hashlib.sha256(f"{user.sub}\n{key}".encode()).hexdigest()


def _idempotent_claim(user: CognitoUser, key: str, fingerprint: str, edit_id: str) -> str | None:
    """Claim the key for edit_id; return the id of the edit that already holds it, if any."""
    record_id = _idempotency_record_id(user, key)
    record = IdempotencyRecord(
        id=record_id, edit_id=edit_id, request_fingerprint=fingerprint, expires_at=dt.timedelta(days=1)
    )
    try:
        record.save(condition=IdempotencyRecord.id.does_not_exist())
        return None
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    try:
        existing = IdempotencyRecord.get(record_id, consistent_read=True)
    except DoesNotExist:
        # Freed between our put and our read by a request that was refused: claim it again.
        return _idempotent_claim(user, key, fingerprint, edit_id)
    if existing.request_fingerprint != fingerprint:
        raise ServiceError(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request.",
            status=422,
        )
    return existing.edit_id


def _idempotent_release(user: CognitoUser, key: str, edit_id: str) -> None:
    record_id = _idempotency_record_id(user, key)
    try:
        IdempotencyRecord(id=record_id).delete(condition=IdempotencyRecord.edit_id == edit_id)
    except Exception:  # best effort: the record expires in a day anyway
        logger.warning("idempotency key could not be released")


def edit_get_owned(*, user: CognitoUser, edit_id: str) -> ImageEdit:
    """The person's edit, or a 404: someone else's edit is indistinguishable from a missing one."""
    try:
        # Ids are server-made UUIDs; anything else is missing (and never reaches DynamoDB's key limits).
        edit = ImageEdit.get(str(uuid.UUID(str(edit_id))), consistent_read=True)
    except (ValueError, DoesNotExist):
        edit = None
    except GetError as exc:
        raise ServiceError(
            "storage_unavailable", "Edits cannot be read right now; try again.", status=503
        ) from exc
    if edit is None or edit.user_id != user.sub:
        raise ServiceError("not_found", "No such edit.", status=404)
    return edit


def _parent_input(user: CognitoUser, parent_id: str, index: int) -> bytes:
    """The bytes of one result of an earlier edit of the person's, to edit further."""
    parent = edit_get_owned(user=user, edit_id=parent_id)
    if parent.status != SUCCEEDED or not parent.outputs:
        raise ServiceError("parent_not_ready", "The edit to continue from has no result to edit.", status=409)
    if index >= len(parent.outputs):
        raise ServiceError(
            "invalid_parent_output",
            f"The edit to continue from has {len(parent.outputs)} result(s); parent_output counts from 0.",
        )
    return storage.object_get(key=parent.outputs[index].key)


def edit_create(
    *,
    user: CognitoUser,
    task: str,
    options: dict,
    image: bytes | None = None,
    mask: bytes | None = None,
    parent_id: str | None = None,
    parent_output: int = 0,
    idempotency_key: str | None = None,
) -> tuple[ImageEdit, bool]:
    """Accept an edit: validate it fully, record it PENDING, store its inputs, start its job.

    Returns (edit, created); an Idempotency-Key seen before returns the first edit, created=False.
    """
    family = options.get("model") or settings.BEDROCK_DEFAULT_FAMILY
    adapter = adapter_get(family)
    if parent_id and image is None:
        image = _parent_input(user, parent_id, parent_output)
    source = image_load(image) if image is not None else None
    mask_source = mask_load(mask, source) if (mask is not None and source is not None) else None
    spec = EditSpec(
        task=task,
        image=source,
        mask=mask_source,
        prompt=options.get("prompt", ""),
        negative_prompt=options.get("negative_prompt", ""),
        **{name: options[name] for name in PARAMETER_NAMES if options.get(name) is not None},
    )
    adapter.check(spec)

    edit_id = str(uuid.uuid4())
    if idempotency_key:
        fingerprint = _fingerprint(task, options, image, mask, parent_id)
        existing_id = _idempotent_claim(user, idempotency_key, fingerprint, edit_id)
        if existing_id:
            return _edit_when_saved(user, existing_id), False
    try:
        _quota_take(user)
        edit = _edit_record(
            user=user,
            edit_id=edit_id,
            spec=spec,
            adapter=adapter,
            options=options,
            parent_id=parent_id,
            idempotency_key=idempotency_key,
        )
    except Exception:
        # Nothing was accepted: free the key, so a retry with it is a new request, not a missing edit.
        if idempotency_key:
            _idempotent_release(user, idempotency_key, edit_id)
        raise
    log_context_bind(edit_id=edit_id, task=task, model_id=edit.model_id)
    logger.info("edit accepted", extra={"status": PENDING})

    try:
        if source:
            storage.object_put(key=edit.image_reference, data=source.data, content_type=source.content_type)
        if mask_source:
            storage.object_put(key=edit.mask_reference, data=mask_source.data, content_type="image/png")
        # A job on this process may reuse the bytes just stored; a Lambda async task reads them from S3.
        stored = {
            edit.image_reference: source.data if source else None,
            edit.mask_reference: mask_source.data if mask_source else None,
        }
        jobs.job_submit(edit_id, inputs={key: data for key, data in stored.items() if key and data})
    except ServiceError as exc:
        _finish_failed(edit, exc.code, exc.message)
        raise
    except Exception:
        _finish_failed(edit, "internal_error", "The edit could not be started; try again.")
        raise
    return edit, True


def _edit_record(
    *,
    user: CognitoUser,
    edit_id: str,
    spec: EditSpec,
    adapter,
    options: dict,
    parent_id: str | None,
    idempotency_key: str | None,
) -> ImageEdit:
    """Write the PENDING item: it exists before anything else happens, so every accepted edit can end."""
    task, source, mask_source = spec.task, spec.image, spec.mask
    edit = ImageEdit(
        id=edit_id,
        user_id=user.sub,
        request_timestamp=utc_now(),
        status=PENDING,
        active=ACTIVE_MARK,
        task=task,
        prompt=spec.prompt,
        negative_prompt=spec.negative_prompt or None,
        model_family=adapter.family,
        model_id=adapter.model_id(task, spec),
        parent_id=parent_id,
        idempotency_key=idempotency_key,
        parameters=_parameters_used(task, options),
        input_content_type=source.content_type if source else None,
        input_width=source.width if source else None,
        input_height=source.height if source else None,
    )
    if source:
        edit.image_reference = storage.object_key(
            user_id=user.sub, edit_id=edit_id, name=f"input.{source.format}"
        )
    if mask_source:
        edit.mask_reference = storage.object_key(user_id=user.sub, edit_id=edit_id, name="mask.png")
    edit.save()
    return edit


def _edit_when_saved(user: CognitoUser, edit_id: str) -> ImageEdit:
    # A concurrent duplicate may have claimed the key a moment before saving its item.
    for _ in range(20):
        try:
            return edit_get_owned(user=user, edit_id=edit_id)
        except ServiceError:
            time.sleep(0.1)
    return edit_get_owned(user=user, edit_id=edit_id)


def _spec_from_item(edit: ImageEdit, inputs: dict[str, bytes]) -> EditSpec:
    parameters = dict(edit.parameters or {})
    source = mask = None
    if edit.image_reference:
        data = inputs.get(edit.image_reference) or storage.object_get(key=edit.image_reference)
        source = SourceImage(
            data=data,
            format=EXTENSIONS[edit.input_content_type],
            width=int(edit.input_width),
            height=int(edit.input_height),
        )
    if edit.mask_reference:
        mask = SourceImage(
            data=inputs.get(edit.mask_reference) or storage.object_get(key=edit.mask_reference),
            format="png",
            width=int(edit.input_width),
            height=int(edit.input_height),
        )
    return EditSpec(
        task=edit.task,
        image=source,
        mask=mask,
        prompt=edit.prompt or "",
        negative_prompt=edit.negative_prompt or "",
        **parameters,
    )


def edit_run(*, edit_id: str, inputs: dict[str, bytes] | None = None) -> None:
    """The job: run one PENDING edit to a terminal state. Safe to call twice (Lambda may retry).

    `inputs` maps S3 keys to bytes the caller already holds (a job on the accepting process).
    """
    log_context_bind(edit_id=edit_id)
    edit = ImageEdit(id=edit_id)
    claimed_at = utc_now()
    # One conditional write both claims the edit and reads it back (UpdateItem returns ALL_NEW).
    claimed = _write(
        edit,
        actions=[ImageEdit.status.set(RUNNING), ImageEdit.started_at.set(claimed_at)],
        condition=ImageEdit.status == PENDING,
        applied=lambda current: current.status == RUNNING and current.started_at == claimed_at,
    )
    if claimed is None:
        raise ServiceError(
            "storage_unavailable", "The edit could not be started.", status=503
        )  # Lambda retries
    if not claimed:
        return  # already taken by another invocation, finished, expired or deleted
    log_context_bind(user_id=edit.user_id, task=edit.task, model_id=edit.model_id)
    started = time.monotonic()
    try:
        result = model_run(spec=_spec_from_item(edit, inputs or {}), family=edit.model_family)
        outputs = []
        for index, image in enumerate(result.images):
            key = storage.object_key(
                user_id=edit.user_id,
                edit_id=edit.id,
                name=f"output-{index}.{EXTENSIONS.get(image.content_type, 'png')}",
            )
            storage.object_put(key=key, data=image.data, content_type=image.content_type)
            outputs.append(
                OutputImage(
                    key=key,
                    content_type=image.content_type,
                    width=image.width,
                    height=image.height,
                    size_bytes=len(image.data),
                    seed=image.seed,
                )
            )
    except ServiceError as exc:
        _finish_failed(edit, exc.code, exc.message, started=started)
        return
    except Exception:
        logger.exception("edit job crashed")
        _finish_failed(edit, "internal_error", "The edit failed unexpectedly; try again.", started=started)
        return
    latency_ms = int((time.monotonic() - started) * 1000)
    adapter = adapter_get(edit.model_family)
    if not _finish_succeeded(edit, result, outputs, latency_ms, adapter):
        # Deleted (or expired as stale) while running: its outputs must not linger in S3.
        try:
            storage.objects_delete(keys=[output.key for output in outputs])
        except ServiceError:
            logger.warning("outputs of a vanished edit could not be removed", extra={"keys": len(outputs)})
        return
    metrics_edit_finished(
        edit,
        latency_ms=latency_ms,
        bedrock_latency_ms=result.latency_ms,
        images=len(outputs),
        filtered=result.filtered,
    )
    logger.info(
        "edit finished", extra={"status": SUCCEEDED, "latency_ms": latency_ms, "engine": result.engine}
    )


def _condition_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _finish_succeeded(edit: ImageEdit, result, outputs: list, latency_ms: int, adapter) -> bool:
    """Record SUCCEEDED; False if the edit is no longer RUNNING (deleted or expired meanwhile).

    If DynamoDB stays unavailable the edit is recorded FAILED: outputs nobody can find are worth nothing.
    """
    keys = [output.key for output in outputs]
    recorded = _write(
        edit,
        actions=[
            ImageEdit.status.set(SUCCEEDED),
            ImageEdit.active.remove(),
            ImageEdit.outputs.set(outputs),
            ImageEdit.model_id.set(result.model_id),
            ImageEdit.engine.set(result.engine),
            ImageEdit.engine_note.set(result.engine_note),
            ImageEdit.filtered_count.set(result.filtered),
            ImageEdit.finished_at.set(utc_now()),
            ImageEdit.latency_ms.set(latency_ms),
            ImageEdit.estimated_cost_usd.set(
                adapter.estimated_cost(result.model_id, len(outputs) + result.filtered)
            ),
        ],
        condition=ImageEdit.status == RUNNING,
        applied=lambda current: current.status == SUCCEEDED and [o.key for o in current.outputs] == keys,
    )
    if recorded is None:
        _finish_failed(edit, "storage_unavailable", "The result could not be recorded; try again.")
        return False
    return recorded


def _write(edit: ImageEdit, *, actions: list, condition, applied) -> bool | None:
    """A conditional update that retries transient errors: True once it is in the item, False if the
    condition rules it out, None if DynamoDB stays unavailable.

    A retry of a write whose answer was lost meets its own result as a failed condition, so a failed
    condition is checked against the stored item with `applied` before it counts as lost.
    """
    for attempt in range(3):
        try:
            edit.update(actions=actions, condition=condition)
            return True
        except UpdateError as exc:
            if _condition_failed(exc):
                try:
                    current = ImageEdit.get(edit.id, consistent_read=True)
                except DoesNotExist:
                    return False
                if applied(current):
                    edit.attribute_values = current.attribute_values
                    return True
                return False
            logger.warning(
                "DynamoDB write failed, retrying", extra={"attempt": attempt + 1, "error": str(exc)}
            )
            time.sleep(0.2 * (attempt + 1))
    return None


def _finish_failed(edit: ImageEdit, code: str, message: str, *, started: float | None = None) -> None:
    latency_ms = int((time.monotonic() - started) * 1000) if started else None
    recorded = _write(
        edit,
        actions=[
            ImageEdit.status.set(FAILED),
            ImageEdit.active.remove(),
            ImageEdit.error_code.set(code),
            ImageEdit.error_message.set(message),
            ImageEdit.finished_at.set(utc_now()),
            ImageEdit.latency_ms.set(latency_ms),
        ],
        condition=ImageEdit.status.is_in(*ACTIVE_STATUSES),
        applied=lambda current: current.status == FAILED and current.error_code == code,
    )
    if recorded is None:
        # The sweep records it as timed out later; say so now, loudly.
        logger.error("recording a failure failed", extra={"error_code": code})
        return
    if not recorded:
        return
    metrics_edit_finished(edit, latency_ms=latency_ms, images=0, filtered=0, error_code=code)
    logger.warning("edit failed", extra={"status": FAILED, "error_code": code, "error_message": message})


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def _is_stale(edit: ImageEdit) -> bool:
    """RUNNING past the job timeout (its Lambda was killed), or PENDING so long its job never started."""
    now = dt.datetime.now(dt.UTC)
    if edit.status == RUNNING:
        started = _parse_time(edit.started_at or edit.request_timestamp)
        return (now - started).total_seconds() > settings.EDIT_JOB_TIMEOUT_SECONDS + 60
    if edit.status == PENDING:
        waited = (now - _parse_time(edit.request_timestamp)).total_seconds()
        return waited > settings.EDIT_PENDING_TIMEOUT_SECONDS
    return False


def _refresh(edit: ImageEdit) -> ImageEdit:
    """Re-read the edit; one deleted meanwhile is a 404 like any missing edit."""
    try:
        edit.refresh(consistent_read=True)
    except ImageEdit.DoesNotExist as exc:
        raise ServiceError("not_found", "No such edit (it was deleted).", status=404) from exc
    return edit


def edit_expire_if_stale(edit: ImageEdit) -> ImageEdit:
    """Record a stale edit as timed out when it is read, so none looks active for ever."""
    if edit.status in ACTIVE_STATUSES and _is_stale(edit):
        _finish_failed(edit, "timed_out", "The edit did not finish in time; try again.")
        _refresh(edit)
    return edit


def edits_expire_stale() -> int:
    """Fail every edit still active past the job timeout (its Lambda was killed); return how many.

    Runs on a schedule (zappa_settings.json events) and queries the sparse active-edits index.
    """
    # Any stale edit was accepted before the shorter of the two limits; _is_stale decides for each.
    shortest = min(settings.EDIT_JOB_TIMEOUT_SECONDS + 60, settings.EDIT_PENDING_TIMEOUT_SECONDS)
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=shortest)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    expired = 0
    for key in ImageEdit.active_edits.query(ACTIVE_MARK, ImageEdit.request_timestamp < cutoff):
        try:
            edit = ImageEdit.get(key.id, consistent_read=True)
        except DoesNotExist:
            continue
        if edit.status in ACTIVE_STATUSES and _is_stale(edit):
            _finish_failed(edit, "timed_out", "The edit did not finish in time; try again.")
            expired += 1
    if expired:
        logger.warning("stale edits expired", extra={"count": expired})
    return expired


def edits_fail_interrupted() -> int:
    """Fail every active edit with `interrupted`; return how many.

    Only for a process that runs its jobs itself and has just started (the local stack): no job of its
    own is running yet, so any edit still PENDING or RUNNING lost its worker when the last run stopped.
    """
    failed = 0
    for key in ImageEdit.active_edits.query(ACTIVE_MARK):
        try:
            edit = ImageEdit.get(key.id, consistent_read=True)
        except DoesNotExist:
            continue
        if edit.status in ACTIVE_STATUSES:
            _finish_failed(
                edit, "interrupted", "The local stack stopped before this edit finished; run it again."
            )
            failed += 1
    return failed


def edit_wait(*, edit: ImageEdit, timeout: float) -> ImageEdit:
    """Wait until the edit is terminal or the timeout passes.

    A job on a worker thread of this process signals its end; otherwise (a Lambda async task) poll with
    consistent reads.
    """
    if edit.status not in ACTIVE_STATUSES or timeout <= 0:
        return edit
    if jobs.job_wait_local(edit.id, timeout) is not None:
        return _refresh(edit)
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        _refresh(edit)
        if edit.status not in ACTIVE_STATUSES or time.monotonic() >= deadline:
            return edit
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 0.5)


def edit_delete(*, user: CognitoUser, edit_id: str) -> None:
    """Delete the item first, then every object under the edit's prefix.

    In that order a job still running cannot record its result (its conditional write fails and it
    removes its own outputs), and objects written meanwhile are caught by the prefix.
    """
    edit = edit_get_owned(user=user, edit_id=edit_id)
    edit.delete()
    if edit.idempotency_key:
        _idempotent_release(user, edit.idempotency_key, edit.id)
    storage.objects_delete_prefix(prefix=storage.object_key(user_id=user.sub, edit_id=edit.id, name=""))
    logger.info("edit deleted", extra={"edit_id": edit_id})
