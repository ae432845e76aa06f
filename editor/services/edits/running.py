"""Running an edit: claim it (PENDING -> RUNNING), call the model, store the images, record the end."""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from pynamodb.exceptions import DoesNotExist, UpdateError

from editor.errors import ServiceError
from editor.log import log_context_bind
from editor.metrics import metrics_edit_finished
from editor.models import (
    ACTIVE_STATUSES,
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    ImageEdit,
    OutputImage,
    condition_failed,
    timestamp_now,
)
from editor.services import storage
from editor.services.bedrock.generation import ModelResult
from editor.services.bedrock.pricing import estimated_cost
from editor.services.bedrock.tasks import EditSpec
from editor.services.c2pa.manifest import result_sign
from editor.services.c2pa.reading import credentials_record
from editor.services.imaging.full_resolution import full_resolution_run
from editor.services.imaging.images import EXTENSION_BY_CONTENT_TYPE, SourceImage
from editor.services.imaging.photos import photo_inspect

logger = logging.getLogger(__name__)


def spec_from_edit(edit: ImageEdit, inputs: dict[str, bytes]) -> EditSpec:
    """The typed request again, from the stored item and its inputs (bytes already at hand, else S3)."""
    source = mask = None
    if edit.image_reference:
        source = SourceImage(
            data=inputs.get(edit.image_reference) or storage.object_get(key=edit.image_reference),
            format=EXTENSION_BY_CONTENT_TYPE[edit.input_content_type],
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
    style = None
    if edit.style_reference:
        data = inputs.get(edit.style_reference) or storage.object_get(key=edit.style_reference)
        info = photo_inspect(data)  # checked when accepted; this reads its size from the headers again
        style = SourceImage.of(data, info)
    return EditSpec.from_parameters(
        task=edit.task,
        model=edit.model_family or "",
        prompt=edit.prompt or "",
        negative_prompt=edit.negative_prompt or "",
        parameters=dict(edit.parameters or {}),
        image=source,
        mask=mask,
        style_image=style,
    )


def edit_run(
    *,
    edit_id: str,
    inputs: dict[str, bytes] | None = None,
    release_if: Callable[[ServiceError], bool] | None = None,
) -> ImageEdit | None:
    """The job: run one PENDING edit to a terminal state. Safe to call twice (Lambda may retry).

    `inputs` maps S3 keys to bytes the caller already holds (a job on the accepting process). Returns
    the item as its SUCCEEDED write returned it (UpdateItem's ALL_NEW), else None. A failure that
    `release_if` accepts (a batch item's throttling, which its queue retries) puts the edit back to
    PENDING and is raised instead of recorded.
    """
    log_context_bind(edit_id=edit_id)
    edit = ImageEdit(id=edit_id)
    claimed_at = timestamp_now()
    # One conditional write both claims the edit and reads it back (UpdateItem returns ALL_NEW).
    claimed = update_conditionally(
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
    log_context_bind(user_sub=edit.user_id, task=edit.task, model_id=edit.model_id)
    started = time.monotonic()
    try:
        spec = spec_from_edit(edit, inputs or {})
        result = result_sign(edit=edit, result=full_resolution_run(spec=spec), source=spec.image)
        # The verdict is read back (c2pa's library, outside the GIL) while the results go to S3.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="c2pa-read") as pool:
            reading = pool.submit(contextvars.copy_context().run, credentials_record, images=result.images)
            outputs = [_output_store(edit, index, image) for index, image in enumerate(result.images)]
            credentials = reading.result()
    except ServiceError as exc:
        if release_if is not None and release_if(exc) and _release(edit):
            raise
        finish_failed(edit, exc.code, exc.message, started=started)
        return
    except Exception:
        logger.exception("edit job crashed")
        finish_failed(edit, "internal_error", "The edit failed unexpectedly; try again.", started=started)
        return
    latency_ms = int((time.monotonic() - started) * 1000)
    if not finish_succeeded(edit, result, outputs, latency_ms, credentials=credentials):
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
    return edit


def _release(edit: ImageEdit) -> bool:
    """RUNNING -> PENDING, so a later attempt may claim the edit again; whether it was."""
    return bool(
        update_conditionally(
            edit,
            actions=[ImageEdit.status.set(PENDING), ImageEdit.started_at.remove()],
            condition=ImageEdit.status == RUNNING,
            applied=lambda current: current.status == PENDING,
        )
    )


def _output_store(edit: ImageEdit, index: int, image) -> OutputImage:
    key = storage.object_key(
        user_id=edit.user_id,
        edit_id=edit.id,
        name=f"output-{index}.{EXTENSION_BY_CONTENT_TYPE.get(image.content_type, 'png')}",
    )
    storage.object_put(key=key, data=image.data, content_type=image.content_type)
    return OutputImage(
        key=key,
        content_type=image.content_type,
        width=image.width,
        height=image.height,
        size_bytes=len(image.data),
        seed=image.seed,
        credentials=image.credentials,
        jpeg_quality=image.jpeg_quality,
    )


def finish_succeeded(
    edit: ImageEdit, result: ModelResult, outputs: list, latency_ms: int, *, credentials: dict | None = None
) -> bool:
    """Record SUCCEEDED; False if the edit is no longer RUNNING (deleted or expired meanwhile).

    If DynamoDB stays unavailable the edit is recorded FAILED: outputs nobody can find are worth nothing.
    """
    keys = [output.key for output in outputs]
    recorded = update_conditionally(
        edit,
        actions=[
            ImageEdit.status.set(SUCCEEDED),
            ImageEdit.active.remove(),
            ImageEdit.outputs.set(outputs),
            ImageEdit.model_id.set(result.model_id),
            ImageEdit.engine.set(result.engine),
            ImageEdit.engine_note.set(result.engine_note),
            ImageEdit.filtered_count.set(result.filtered),
            ImageEdit.finished_at.set(timestamp_now()),
            ImageEdit.latency_ms.set(latency_ms),
            ImageEdit.model_width.set(result.model_size[0] if result.model_size else None),
            ImageEdit.model_height.set(result.model_size[1] if result.model_size else None),
            ImageEdit.estimated_cost_usd.set(estimated_cost(result.model_id, len(outputs) + result.filtered)),
            ImageEdit.credentials_panels.set(credentials),
        ],
        condition=ImageEdit.status == RUNNING,
        applied=lambda current: current.status == SUCCEEDED and [o.key for o in current.outputs] == keys,
    )
    if recorded is None:
        finish_failed(edit, "storage_unavailable", "The result could not be recorded; try again.")
        return False
    return recorded


def update_conditionally(edit: ImageEdit, *, actions: list, condition, applied) -> bool | None:
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
            if condition_failed(exc):
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


def finish_failed(edit: ImageEdit, code: str, message: str, *, started: float | None = None) -> None:
    """Record FAILED with a code and a sentence, unless the edit already ended."""
    latency_ms = int((time.monotonic() - started) * 1000) if started else None
    recorded = update_conditionally(
        edit,
        actions=[
            ImageEdit.status.set(FAILED),
            ImageEdit.active.remove(),
            ImageEdit.error_code.set(code),
            ImageEdit.error_message.set(message),
            ImageEdit.finished_at.set(timestamp_now()),
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
