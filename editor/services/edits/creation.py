"""Accepting an edit: check it fully, record it PENDING, store its inputs, start its job."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid

from editor.errors import ServiceError
from editor.log import log_context_bind
from editor.models import ACTIVE_MARK, PENDING, SUCCEEDED, ImageEdit, timestamp_now
from editor.selectors.edits import edit_get_owned
from editor.services import jobs, storage
from editor.services.bedrock.adapter import ModelAdapter
from editor.services.bedrock.catalog import adapter_get, task_unavailable_note
from editor.services.bedrock.lifecycle import SUCCESSOR_FAMILY, lifecycle_route
from editor.services.bedrock.tasks import EditSpec
from editor.services.edits.admission import IdempotencyClaim, edit_admit, request_fingerprint
from editor.services.edits.running import finish_failed
from editor.services.imaging.full_resolution import view_check
from editor.services.imaging.images import SourceImage
from editor.services.imaging.photo_edits import mask_prepare
from editor.services.imaging.photos import photo_inspect
from editor.services.uploads import Upload, upload_copy, upload_get
from editor.services.versions import version_fields
from editor.users import CognitoUser

logger = logging.getLogger(__name__)


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


def _photo(data: bytes) -> SourceImage:
    """A photo checked from its headers (type by content, bytes, pixels, damage), kept as it was sent."""
    info = photo_inspect(data)
    return SourceImage.of(data, info)


@dataclasses.dataclass(frozen=True)
class EditInputs:
    """The images a request brings to an edit, or where to find them (besides its options, the spec)."""

    image: bytes | None = None  # sent with the request
    mask: bytes | None = None
    upload_id: str | None = None  # sent straight to S3 first (POST /api/v1/uploads)
    mask_upload_id: str | None = None
    style_image: bytes | None = None  # style transfer's second image
    parent_id: str | None = None  # an earlier edit whose result this continues
    parent_output: int = 0


@dataclasses.dataclass(frozen=True)
class CheckedEdit:
    """An edit that passed every check before anything is recorded: what will run, on what."""

    adapter: ModelAdapter  # the family that will run it (a retired family's successor, if routed)
    spec: EditSpec  # the typed request with its checked images
    route_note: str | None  # why another model runs than the one asked for
    upload: Upload | None  # the direct upload the photo came from, if it did
    view_size: tuple[int, int] | None  # the size of the picture the model is sent


def edit_check(*, user: CognitoUser, spec: EditSpec, inputs: EditInputs) -> CheckedEdit:
    """Every check an edit gets before it is accepted; creation and the dry run both make them."""
    image, mask, parent_id = inputs.image, inputs.mask, inputs.parent_id
    adapter = adapter_get(spec.model)
    unavailable = task_unavailable_note(spec.task)
    if unavailable:
        # Refused before anything is recorded or counted: the edit could only ever fail.
        raise ServiceError(
            "task_unavailable", f"The '{spec.task}' task is not available here. {unavailable}", status=422
        )
    upload: Upload | None = None
    if inputs.upload_id:
        upload = upload_get(user=user, upload_id=inputs.upload_id)
        image = upload.data
    if parent_id and image is None:
        image = _parent_input(user, parent_id, inputs.parent_output)
    elif parent_id:
        edit_get_owned(user=user, edit_id=parent_id)  # a parent is the person's own edit, image or not
    if inputs.mask_upload_id:
        mask = upload_get(user=user, upload_id=inputs.mask_upload_id, role="mask").data
    source = _photo(image) if image is not None else None
    mask_source, mask_box = None, None
    if mask is not None and source is not None:
        mask_data, mask_box = mask_prepare(mask, size=(source.width, source.height))
        mask_source = SourceImage(data=mask_data, format="png", width=source.width, height=source.height)
    style_source = _photo(inputs.style_image) if inputs.style_image is not None else None
    spec = dataclasses.replace(
        spec, model=adapter.family, image=source, mask=mask_source, style_image=style_source
    )
    # A retired model's task goes to its successor.
    adapter, route_note = lifecycle_route(adapter, spec, adapter_get(SUCCESSOR_FAMILY))
    spec = dataclasses.replace(spec, model=adapter.family)
    view_size = view_check(spec=spec, adapter=adapter, mask_box=mask_box)
    return CheckedEdit(adapter=adapter, spec=spec, route_note=route_note, upload=upload, view_size=view_size)


def edit_create(
    *,
    user: CognitoUser,
    spec: EditSpec,
    inputs: EditInputs = EditInputs(),
    idempotency_key: str | None = None,
) -> tuple[ImageEdit, bool]:
    """Accept an edit: validate it fully, record it PENDING, store its inputs, start its job.

    `spec` is the request without images; `inputs` its images (bytes sent with the request, direct
    uploads checked where they lie in S3, or an earlier result). Returns (edit, created); an
    Idempotency-Key seen before returns the first edit, created=False.
    """
    checked = edit_check(user=user, spec=spec, inputs=inputs)
    parent_id = inputs.parent_id
    adapter, spec, route_note = checked.adapter, checked.spec, checked.route_note
    source, mask_source = spec.image, spec.mask

    edit_id = str(uuid.uuid4())
    claim = None
    if idempotency_key:
        fingerprint = request_fingerprint(
            spec,
            source.data if source else None,
            mask_source.data if mask_source else None,
            parent_id,
            inputs.style_image,
        )
        claim = IdempotencyClaim(key=idempotency_key, fingerprint=fingerprint)
    edit = edit_item(
        user=user,
        edit_id=edit_id,
        spec=spec,
        adapter=adapter,
        parent_id=parent_id,
        idempotency_key=idempotency_key,
        route_note=route_note,
    )
    # One transaction: the key, the quota and budgets, the PENDING item and the tree's count, or nothing.
    existing_id = edit_admit(
        user=user,
        edit=edit,
        images=spec.count,
        cost_usd=edit_cost(adapter, spec),
        claim=claim,
        root_id=edit.root_id,
    )
    if existing_id:
        return _edit_when_saved(user, existing_id), False
    log_context_bind(edit_id=edit_id, task=spec.task, model_id=edit.model_id)
    logger.info("edit accepted", extra={"status": PENDING})

    try:
        stored = edit_inputs_store(edit=edit, checked=checked)
        # A job on this process may reuse the bytes just stored; a Lambda async task reads them from S3.
        jobs.job_submit(edit_id, inputs=stored)
    except ServiceError as exc:
        finish_failed(edit, exc.code, exc.message)
        raise
    except Exception:
        finish_failed(edit, "internal_error", "The edit could not be started; try again.")
        raise
    return edit, True


def edit_inputs_store(*, edit: ImageEdit, checked: CheckedEdit) -> dict[str, bytes]:
    """Store the checked inputs under the edit's keys; return them by key (the bytes at hand)."""
    spec, upload = checked.spec, checked.upload
    source, mask_source, style_source = spec.image, spec.mask, spec.style_image
    if upload:
        upload_copy(upload=upload, key=edit.image_reference)  # inside S3: the upload may serve again
    elif source:
        storage.object_put(key=edit.image_reference, data=source.data, content_type=source.content_type)
    if mask_source:
        storage.object_put(key=edit.mask_reference, data=mask_source.data, content_type="image/png")
    if style_source:
        storage.object_put(
            key=edit.style_reference, data=style_source.data, content_type=style_source.content_type
        )
    stored = {
        edit.image_reference: source.data if source else None,
        edit.mask_reference: mask_source.data if mask_source else None,
        edit.style_reference: style_source.data if style_source else None,
    }
    return {key: data for key, data in stored.items() if key and data}


def edit_cost(adapter: ModelAdapter, spec: EditSpec) -> float:
    """The estimated cost of the edit as asked: images x the price of the model that will run."""
    return adapter.estimated_cost(adapter.model_id(spec.task, spec), spec.count)


def edit_item(
    *,
    user: CognitoUser,
    edit_id: str,
    spec: EditSpec,
    adapter: ModelAdapter,
    parent_id: str | None,
    idempotency_key: str | None,
    route_note: str | None = None,
    batch_id: str | None = None,
    batch_index: int | None = None,
) -> ImageEdit:
    """The PENDING item (written by edit_admit, or by a batch's worker): it exists before anything else
    happens, so every accepted edit can end. A batch item carries its batch and its place in it."""
    source = spec.image
    edit = ImageEdit(
        id=edit_id,
        user_id=user.sub,
        request_timestamp=timestamp_now(),
        status=PENDING,
        active=ACTIVE_MARK,
        task=spec.task,
        prompt=spec.prompt,
        negative_prompt=spec.negative_prompt or None,
        model_family=adapter.family,
        model_id=adapter.model_id(spec.task, spec),
        parent_id=parent_id,
        idempotency_key=idempotency_key,
        route_note=route_note,
        parameters=spec.parameters(),
        input_content_type=source.content_type if source else None,
        input_width=source.width if source else None,
        input_height=source.height if source else None,
        **version_fields(user=user, edit_id=edit_id, parent_id=parent_id),
    )
    if source:
        edit.image_reference = storage.object_key(
            user_id=user.sub, edit_id=edit_id, name=f"input.{source.format}"
        )
    if spec.mask:
        edit.mask_reference = storage.object_key(user_id=user.sub, edit_id=edit_id, name="mask.png")
    if spec.style_image:
        edit.style_reference = storage.object_key(
            user_id=user.sub, edit_id=edit_id, name=f"style.{spec.style_image.format}"
        )
    if edit.root_id == edit_id:
        edit.version_count, edit.version_counted = 1, 1  # a first edit: its tree has one version
    if batch_id:
        edit.batch_id = edit.batch_key = batch_id
        edit.batch_index = batch_index
    return edit


def _edit_when_saved(user: CognitoUser, edit_id: str) -> ImageEdit:
    # A concurrent duplicate may have claimed the key a moment before saving its item.
    for _ in range(20):
        try:
            return edit_get_owned(user=user, edit_id=edit_id)
        except ServiceError:
            time.sleep(0.1)
    return edit_get_owned(user=user, edit_id=edit_id)
