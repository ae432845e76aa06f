"""Running an edit on a photo at full resolution: the model sees what fits it, the result keeps the photo's
size (mask-local tasks and remove-background) or says what size the model worked at."""

from __future__ import annotations

import dataclasses

from editor.services.bedrock.adapter import ModelAdapter
from editor.services.bedrock.generation import GeneratedImage, ModelResult, model_run
from editor.services.bedrock.tasks import EditSpec
from editor.services.imaging.images import SourceImage
from editor.services.imaging.photo_edits import (
    MASK_LOCAL_TASKS,
    mask_local_finish,
    mask_local_prepare,
    model_view_size,
    photo_as_is,
    remove_background_finish,
    whole_image_prepare,
)
from editor.services.imaging.photos import Encoded, photo_sniff
from editor.services.imaging.regions import Box, outpaint_check


def _view(data: bytes, size: tuple[int, int]) -> SourceImage:
    return SourceImage(data=data, format=photo_sniff(data) or "png", width=size[0], height=size[1])


def view_check(*, spec: EditSpec, adapter: ModelAdapter, mask_box: Box | None) -> tuple[int, int] | None:
    """Refuse, before anything is recorded or sent, what the model could not take of this photo; return the
    size of the picture the model will be sent (None when the task takes no image)."""
    if spec.image is None:
        adapter.check(spec)
        return None
    size = (spec.image.width, spec.image.height)
    if spec.task == "outpaint" and adapter.supports("outpaint"):
        margins = {side: getattr(spec, side) for side in ("left", "right", "up", "down")}
        outpaint_check(size=size, margins=margins, family=adapter.family)
    view = model_view_size(task=spec.task, family=adapter.family, size=size, mask_box=mask_box)
    stand_in = SourceImage(data=b"", format="png", width=view[0], height=view[1])
    mask = dataclasses.replace(spec.mask, width=view[0], height=view[1]) if spec.mask else None
    adapter.check(dataclasses.replace(spec, image=stand_in, mask=mask))
    return view


def _generated(encoded: Encoded, seed: int | None) -> GeneratedImage:
    return GeneratedImage(
        data=encoded.data,
        content_type=encoded.content_type,
        width=encoded.width,
        height=encoded.height,
        seed=seed,
        jpeg_quality=encoded.jpeg_quality,
    )


def full_resolution_run(*, spec: EditSpec) -> ModelResult:
    """Call the model on what it can take of the photo and make the result from its answer."""
    source = spec.image
    if source is None:
        return model_run(spec=spec)
    if spec.task in MASK_LOCAL_TASKS:
        return _mask_local(spec)
    if spec.task == "remove_background":
        whole = whole_image_prepare(image=source.data, size=(source.width, source.height), family=spec.model)
        result = model_run(spec=dataclasses.replace(spec, image=_view(whole.data, whole.model_size)))
        images = [
            _generated(
                remove_background_finish(image=source.data, source_format=source.format, cutout=answer.data),
                answer.seed,
            )
            for answer in result.images
        ]
        return dataclasses.replace(
            result, images=images, model_size=whole.model_size if whole.scaled else None
        )
    if spec.task in ("outpaint", "upscale", "upscale_conservative"):
        view = _view(photo_as_is(source.data), (source.width, source.height))
        return model_run(spec=dataclasses.replace(spec, image=view))
    whole = whole_image_prepare(image=source.data, size=(source.width, source.height), family=spec.model)
    result = model_run(spec=dataclasses.replace(spec, image=_view(whole.data, whole.model_size)))
    return dataclasses.replace(result, model_size=whole.model_size if whole.scaled else None)


def _mask_local(spec: EditSpec) -> ModelResult:
    """Inpaint or erase a padded crop around the mask, and composite each answer into the photo."""
    source = spec.image
    prepared = mask_local_prepare(
        image=source.data, mask=spec.mask.data, source_format=source.format, family=spec.model
    )
    size = prepared.plan.model_size
    view = dataclasses.replace(
        spec,
        image=_view(prepared.model_image, size),
        mask=SourceImage(data=prepared.model_mask, format="png", width=size[0], height=size[1]),
        output_format="png",
    )
    result = model_run(spec=view)
    images = []
    for index, answer in enumerate(result.images):
        # Each answer goes into its own copy of the photo; the last may use the original itself.
        last = index == len(result.images) - 1
        target = prepared if last else dataclasses.replace(prepared, original=prepared.original.copy())
        images.append(_generated(mask_local_finish(target, answer.data), answer.seed))
    return dataclasses.replace(result, images=images, model_size=size if prepared.plan.scaled else None)
