"""An edit item as the API and the pages show it: metadata plus presigned URLs, never image bytes."""

from __future__ import annotations

from editor.models import ImageEdit
from editor.services.storage import presigned_url


def _int(value) -> int | None:
    return int(value) if value is not None else None


def edit_present(edit: ImageEdit, *, for_list: bool = False) -> dict:
    """The edit as JSON-ready data. Lists carry viewing URLs only (each URL costs a signature): the
    mask and download URLs come with the single edit."""
    outputs = []
    for index, output in enumerate(edit.outputs or []):
        extension = output.key.rsplit(".", 1)[-1]
        outputs.append(
            {
                "url": presigned_url(key=output.key),
                "download_url": None
                if for_list
                else presigned_url(
                    key=output.key, download_name=f"imageedit-{edit.id[:8]}-{index}.{extension}"
                ),
                "width": int(output.width),
                "height": int(output.height),
                "content_type": output.content_type,
                "seed": _int(output.seed),
                "content_credentials": output.credentials,
                "jpeg_quality": _int(output.jpeg_quality),
            }
        )
    parameters = dict(edit.parameters or {})
    return {
        "id": edit.id,
        "status": edit.status,
        "task": edit.task,
        "model": edit.model_family,
        "model_id": edit.model_id,
        "prompt": edit.prompt or "",
        "negative_prompt": edit.negative_prompt,
        "parameters": parameters,
        "created_at": edit.request_timestamp,
        "started_at": edit.started_at,
        "finished_at": edit.finished_at,
        "latency_ms": _int(edit.latency_ms),
        "image_reference": edit.image_reference,
        "mask_reference": edit.mask_reference,
        "input_url": presigned_url(key=edit.image_reference),
        "mask_url": None if for_list else presigned_url(key=edit.mask_reference),
        "input_width": _int(edit.input_width),
        "input_height": _int(edit.input_height),
        "model_size": {"width": int(edit.model_width), "height": int(edit.model_height)}
        if edit.model_width
        else None,
        "outputs": outputs,
        "filtered_count": int(edit.filtered_count or 0),
        "parent_id": edit.parent_id,
        "batch_id": edit.batch_id,
        "batch_index": _int(edit.batch_index),
        "error": {"code": edit.error_code, "message": edit.error_message} if edit.error_code else None,
        "engine": edit.engine,
        "engine_note": edit.engine_note,
        "route_note": edit.route_note,
        "estimated_cost_usd": float(edit.estimated_cost_usd) if edit.estimated_cost_usd is not None else None,
    }
