"""A dry run of an edit: every check creation makes, the model that would run, its size and cost; nothing
is recorded, counted or called."""

from __future__ import annotations

from editor.services.bedrock.pricing import PRICE_PER_IMAGE_USD, base_model_id
from editor.services.bedrock.tasks import EditSpec
from editor.services.edits.creation import EditInputs, edit_check, edit_cost
from editor.users import CognitoUser


def edit_dry_run(*, user: CognitoUser, spec: EditSpec, inputs: EditInputs) -> dict:
    """What POST /edits would do with this request, without doing it (the very checks creation makes)."""
    checked = edit_check(user=user, spec=spec, inputs=inputs)
    adapter, spec = checked.adapter, checked.spec
    model_id = adapter.model_id(spec.task, spec)
    work_size = None
    if checked.view_size is not None:
        # The picture the model is sent; outpaint works on it with its margins added.
        width, height = checked.view_size
        work_size = {"width": width + spec.left + spec.right, "height": height + spec.up + spec.down}
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
        "route_note": checked.route_note,
    }
