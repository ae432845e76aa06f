"""A dry run of an edit: every check creation makes, the model that would run, its size and cost; nothing
is recorded, counted or called."""

from __future__ import annotations

import dataclasses

from editor.errors import ServiceError
from editor.selectors import edit_get_owned
from editor.services.bedrock.catalog import adapter_get, task_unavailable_note
from editor.services.bedrock.lifecycle import SUCCESSOR_FAMILY, lifecycle_route
from editor.services.bedrock.pricing import PRICE_PER_IMAGE_USD, base_model_id
from editor.services.bedrock.tasks import EditSpec
from editor.services.edits.creation import _parent_input, edit_cost
from editor.services.images import image_load, mask_load
from editor.users import CognitoUser


def edit_dry_run(
    *,
    user: CognitoUser,
    spec: EditSpec,
    image: bytes | None = None,
    mask: bytes | None = None,
    style_image: bytes | None = None,
    parent_id: str | None = None,
    parent_output: int = 0,
) -> dict:
    """What POST /edits would do with this request, without doing it (the same checks, in the same order)."""
    adapter = adapter_get(spec.model)
    unavailable = task_unavailable_note(spec.task)
    if unavailable:
        raise ServiceError(
            "task_unavailable", f"The '{spec.task}' task is not available here. {unavailable}", status=422
        )
    if parent_id and image is None:
        image = _parent_input(user, parent_id, parent_output)
    elif parent_id:
        edit_get_owned(user=user, edit_id=parent_id)
    source = image_load(image) if image is not None else None
    mask_source = mask_load(mask, source) if (mask is not None and source is not None) else None
    style_source = image_load(style_image) if style_image is not None else None
    spec = dataclasses.replace(
        spec, model=adapter.family, image=source, mask=mask_source, style_image=style_source
    )
    adapter, route_note = lifecycle_route(adapter, spec, adapter_get(SUCCESSOR_FAMILY))
    spec = dataclasses.replace(spec, model=adapter.family)
    adapter.check(spec)
    model_id = adapter.model_id(spec.task, spec)
    work_size = None
    if source is not None:
        work_size = {
            "width": source.width + spec.left + spec.right,
            "height": source.height + spec.up + spec.down,
        }
    return {
        "dry_run": True,
        "valid": True,
        "task": spec.task,
        "model": adapter.family,
        "model_id": model_id,
        "work_size": work_size,
        "aspect_ratio": spec.aspect_ratio if work_size is None else None,
        "images": spec.count,
        "price_per_image_usd": PRICE_PER_IMAGE_USD.get(base_model_id(model_id)),
        "estimated_cost_usd": edit_cost(adapter, spec),
        "route_note": route_note,
    }
