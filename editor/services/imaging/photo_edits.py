"""Edits of photos at full resolution: what the model is sent, and the result put back together."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.conf import settings
from PIL import Image

from editor.errors import ServiceError
from editor.services.imaging.photos import (
    Encoded,
    JpegTables,
    jpeg_tables,
    mask_decode,
    photo_decode,
    photo_encode,
    photo_plain,
    photo_sniff,
    result_format,
)
from editor.services.imaging.regions import (
    INPUT_LIMITS,
    Box,
    CropPlan,
    alpha_apply,
    composite_crop,
    crop_plan,
    mask_box,
    model_size_fit,
)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def _for_model(image: Image.Image) -> bytes:
    """What the model is sent of the photo: JPEG at high quality when there is no transparency.

    Only the painted area of its answer is kept, so the model needs no lossless copy; a 9 MP PNG of a
    photo can pass 20 MB and, as base64, Bedrock's 25 MB body, and takes several times longer to write.
    """
    if image.mode != "RGB":
        return _png(image)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


MASK_LOCAL_TASKS = ("inpaint", "erase")
# Whole-image tasks whose result is the model's own picture: scaled down to fit, the result says so.
SCALED_TASKS = ("replace",)


def mask_prepare(data: bytes, *, size: tuple[int, int]) -> tuple[bytes, Box]:
    """A mask as stored for the edit (grey PNG, white = change, the photo's size) and its painted box."""
    mask = mask_decode(data, size=size)
    box = mask_box(mask)
    if box is None:
        raise ServiceError("empty_mask", "The mask is empty: paint over the area you want to change.")
    if photo_sniff(data) == "png" and Image.open(io.BytesIO(data)).mode == "L" and b"eXIf" not in data:
        return data, box  # already what is stored: keep the bytes as sent
    return _png(mask), box


def model_view_size(
    *, task: str, family: str, size: tuple[int, int], mask_box: Box | None = None
) -> tuple[int, int]:
    """The size of the picture the model will be sent for this task (checked against it up front)."""
    limits = INPUT_LIMITS[family]
    if task in MASK_LOCAL_TASKS and mask_box is not None:
        return crop_plan(
            image_size=size,
            mask_box=mask_box,
            limits=limits,
            padding_fraction=settings.CROP_PADDING_FRACTION,
            padding_min=settings.CROP_PADDING_MIN_PX,
        ).model_size
    if task == "remove_background" or task in SCALED_TASKS:
        return model_size_fit(size[0], size[1], limits)
    return size  # outpaint and upscales: the photo as it is, refused up front if the model cannot take it


@dataclass
class MaskLocalEdit:
    """A mask-local edit (inpaint, erase) in progress: the full-resolution original and the crop sent."""

    original: Image.Image
    mask: Image.Image
    plan: CropPlan
    source_format: str
    model_image: bytes  # JPEG (PNG with transparency), plan.model_size
    model_mask: bytes  # grey PNG, white = change, plan.model_size
    jpeg: JpegTables | None = None  # a JPEG source's own coding, to write the result with


def mask_local_prepare(*, image: bytes, mask: bytes, source_format: str, family: str) -> MaskLocalEdit:
    """Decode the photo and its mask at full size; crop the mask's box with context for the model."""
    original = photo_decode(image)
    mask_image = mask_decode(mask, size=original.size)
    box = mask_box(mask_image)
    if box is None:
        raise ServiceError("empty_mask", "The mask is empty: paint over the area you want to change.")
    plan = crop_plan(
        image_size=original.size,
        mask_box=box,
        limits=INPUT_LIMITS[family],
        padding_fraction=settings.CROP_PADDING_FRACTION,
        padding_min=settings.CROP_PADDING_MIN_PX,
    )
    crop = original.crop(plan.box)
    mask_crop = mask_image.crop(plan.box)
    if plan.scaled:
        crop = crop.resize(plan.model_size, Image.Resampling.LANCZOS)
        # Scale the mask smoothly, then make it two-tone again: no painted pixel may vanish in the scaling.
        mask_crop = mask_crop.resize(plan.model_size, Image.Resampling.BOX).point(lambda v: 255 if v else 0)
    return MaskLocalEdit(
        original=original,
        mask=mask_image,
        plan=plan,
        source_format=source_format,
        model_image=_for_model(crop),
        model_mask=_png(mask_crop),
        jpeg=jpeg_tables(image) if source_format == "jpeg" else None,
    )


def _answer(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as answer:
            answer.load()
            return answer.copy()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ServiceError("model_error", "The model returned an unreadable image.", status=502) from exc


def mask_local_finish(edit: MaskLocalEdit, answer: bytes) -> Encoded:
    """Scale the model's answer back to the crop, composite it through the feathered mask, encode."""
    image = _answer(answer)
    if "A" in image.getbands() and edit.original.mode == "RGB":
        image = image.convert("RGB")
    composite_crop(
        edit.original,
        image,
        edit.mask.crop(edit.plan.box),
        edit.plan.box,
        feather=settings.COMPOSITE_FEATHER_PX,
    )
    has_alpha = edit.original.mode == "RGBA"
    return photo_encode(edit.original, result_format(edit.source_format, has_alpha=has_alpha), jpeg=edit.jpeg)


def photo_as_is(image: bytes) -> bytes:
    """The photo at its own size as a model takes it: the bytes as sent when they are plain (upright
    sRGB PNG, JPEG or WebP), else decoded and re-encoded."""
    return image if photo_plain(image) else _for_model(photo_decode(image))


@dataclass(frozen=True)
class WholeImage:
    """A whole photo scaled to what the model takes (never larger than it is)."""

    data: bytes  # JPEG (PNG with transparency)
    model_size: tuple[int, int]
    original_size: tuple[int, int]

    @property
    def scaled(self) -> bool:
        return self.model_size != self.original_size


def whole_image_prepare(*, image: bytes, size: tuple[int, int], family: str) -> WholeImage:
    """The photo at the largest size the model takes; JPEG decodes straight at a reduced scale."""
    limits = INPUT_LIMITS[family]
    target = model_size_fit(size[0], size[1], limits)
    if target == size:
        # Re-encode nothing that does not need it: a plain upright sRGB photo goes as it is.
        return WholeImage(data=photo_as_is(image), model_size=size, original_size=size)
    scaled = photo_decode(image, fit=target)
    if scaled.size != target:
        scaled = scaled.resize(target, Image.Resampling.LANCZOS)
    return WholeImage(data=_for_model(scaled), model_size=target, original_size=size)


def remove_background_finish(*, image: bytes, source_format: str, cutout: bytes) -> Encoded:
    """Apply the model's cut-out (made at its size) to the full-resolution original, pixel for pixel."""
    result = alpha_apply(photo_decode(image), _answer(cutout))
    return photo_encode(result, result_format(source_format, has_alpha=True))
