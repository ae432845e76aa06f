"""What the model sees of a large photo, and how its answer goes back: crops, scales, composites, caps."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageFilter

from editor.errors import ServiceError


@dataclass(frozen=True)
class InputLimits:
    """The sizes one model family takes as input (and, for outpainting, makes)."""

    label: str
    max_pixels: int
    min_side: int = 1
    max_side: int | None = None
    max_aspect: float | None = None
    multiple_of: int = 1

    def fits(self, width: int, height: int) -> bool:
        return (
            width * height <= self.max_pixels
            and min(width, height) >= self.min_side
            and (self.max_side is None or max(width, height) <= self.max_side)
            and (self.max_aspect is None or max(width, height) / min(width, height) <= self.max_aspect)
            and width % self.multiple_of == 0
            and height % self.multiple_of == 0
        )


# From each family's documentation (design.md section 4); Nova takes fewer than 4,194,304 pixels.
INPUT_LIMITS = {
    "stability": InputLimits("Stability AI Image Services", 9_437_184, min_side=64, max_aspect=2.5),
    "nova": InputLimits(
        "Amazon Nova Canvas", 4_194_303, min_side=320, max_side=4096, max_aspect=4.0, multiple_of=16
    ),
    "titan": InputLimits("Amazon Titan Image Generator v2", 1408 * 1408, max_side=1408),
}

Box = tuple[int, int, int, int]  # left, top, right, bottom (right and bottom exclusive)


@dataclass(frozen=True)
class CropPlan:
    """A box of the full image and the size the model gets it at (the answer is scaled back to the box)."""

    box: Box
    model_size: tuple[int, int]

    @property
    def size(self) -> tuple[int, int]:
        return self.box[2] - self.box[0], self.box[3] - self.box[1]

    @property
    def scaled(self) -> bool:
        return self.model_size != self.size


def _invalid(message: str) -> ServiceError:
    return ServiceError("invalid_for_model", message, status=400)


def _grow(low: int, high: int, wanted: int, limit: int) -> tuple[int, int]:
    """Widen [low, high) to `wanted` long, centred, shifted to stay within [0, limit)."""
    wanted = min(wanted, limit)
    extra = wanted - (high - low)
    if extra <= 0:
        return low, high
    low -= extra // 2
    high += extra - extra // 2
    if low < 0:
        high, low = high - low, 0
    if high > limit:
        low, high = max(0, low - (high - limit)), limit
    return low, high


def model_size_fit(width: int, height: int, limits: InputLimits) -> tuple[int, int]:
    """The size to send a width x height picture at: as large as the limits allow, never larger than it is
    unless the model's minimum side needs it, with the model's side multiple."""
    scale = min(1.0, math.sqrt(limits.max_pixels / (width * height)))
    if limits.max_side:
        scale = min(scale, limits.max_side / max(width, height))
    if min(width, height) * scale < limits.min_side:
        scale = limits.min_side / min(width, height)
    step = limits.multiple_of
    out_w, out_h = max(1, int(width * scale)), max(1, int(height * scale))
    if step > 1:
        out_w, out_h = max(step, out_w // step * step), max(step, out_h // step * step)
        while out_w * out_h > limits.max_pixels:
            out_w, out_h = (out_w - step, out_h) if out_w >= out_h else (out_w, out_h - step)
        while min(out_w, out_h) < limits.min_side:
            out_w, out_h = (out_w + step, out_h) if out_w < out_h else (out_w, out_h + step)
    return out_w, out_h


def crop_plan(
    *,
    image_size: tuple[int, int],
    mask_box: Box,
    limits: InputLimits,
    padding_fraction: float,
    padding_min: int,
) -> CropPlan:
    """The mask's box with context around it, shaped and scaled to what the model takes.

    Padding is `padding_fraction` of the box on each side (at least `padding_min` pixels), clipped to the
    image; a box too long and thin for the model grows along its short side; a box larger than the model
    takes is scaled down (and the answer scaled back up).
    """
    width, height = image_size
    left, top, right, bottom = mask_box
    pad_x = max(padding_min, round((right - left) * padding_fraction))
    pad_y = max(padding_min, round((bottom - top) * padding_fraction))
    left, right = max(0, left - pad_x), min(width, right + pad_x)
    top, bottom = max(0, top - pad_y), min(height, bottom + pad_y)
    if limits.max_aspect:
        # Aim a little inside the limit: scaling and rounding to the model's multiples move the aspect.
        aim = limits.max_aspect * 0.97
        box_w, box_h = right - left, bottom - top
        if box_w / box_h > aim:
            top, bottom = _grow(top, bottom, math.ceil(box_w / aim), height)
        elif box_h / box_w > aim:
            left, right = _grow(left, right, math.ceil(box_h / aim), width)
        box_w, box_h = right - left, bottom - top
        if max(box_w, box_h) / min(box_w, box_h) > limits.max_aspect:
            raise _invalid(
                f"The painted area is too long and thin for {limits.label} (more than "
                f"{limits.max_aspect:g}:1 even with the whole photo around it); paint it in shorter parts."
            )
    left, right = _grow(left, right, limits.min_side, width)
    top, bottom = _grow(top, bottom, limits.min_side, height)
    box = (left, top, right, bottom)
    return CropPlan(box=box, model_size=model_size_fit(right - left, bottom - top, limits))


def mask_box(mask: Image.Image) -> Box | None:
    """The box around the painted (>= 128) pixels of a grey mask, or None if nothing is painted."""
    return mask.point(lambda value: 255 if value >= 128 else 0).getbbox()


def feathered(mask: Image.Image, radius: int) -> Image.Image:
    """The painted area at full strength, fading out over about 2 x radius pixels around it."""
    hard = mask.point(lambda value: 255 if value >= 128 else 0)
    painted = hard.getbbox()
    if radius <= 0 or painted is None:
        return hard
    # Only the painted box and the blur's reach around it can be non-zero: blur that region alone (the
    # crop sent to the model has context all round it, often twice the painted area). Pillow's Gaussian
    # is three box blurs of about `radius` each, so 4 x radius + 4 reaches past it; the region's border
    # is unpainted, so its edge handling sees the zeros the whole mask would.
    margin = 4 * radius + 4
    reach = (
        max(0, painted[0] - margin),
        max(0, painted[1] - margin),
        min(hard.width, painted[2] + margin),
        min(hard.height, painted[3] + margin),
    )
    region = hard.crop(reach)
    hard.paste(ImageChops.lighter(region, region.filter(ImageFilter.GaussianBlur(radius))), reach[:2])
    return hard


def composite_crop(
    original: Image.Image, answer: Image.Image, mask_crop: Image.Image, box: Box, *, feather: int
) -> None:
    """Paste the model's answer for `box` into the original, in place, through the feathered mask.

    Where the feathered mask is 0 the original's pixels are left exactly as they were.
    """
    size = (box[2] - box[0], box[3] - box[1])
    if answer.size != size:
        answer = answer.resize(size, Image.Resampling.LANCZOS)
    if answer.mode != original.mode:
        answer = answer.convert(original.mode)
    soft = feathered(mask_crop, feather)
    changed = soft.getbbox()  # outside it the mask is 0: nothing there is pasted
    if changed is None:
        return
    original.paste(answer.crop(changed), (box[0] + changed[0], box[1] + changed[1]), soft.crop(changed))


def alpha_apply(original: Image.Image, cutout: Image.Image) -> Image.Image:
    """The full-resolution original with the cut-out's alpha (computed at the model's size) scaled up."""
    alpha = cutout.getchannel("A") if "A" in cutout.getbands() else cutout.convert("L")
    if alpha.size != original.size:
        alpha = alpha.resize(original.size, Image.Resampling.BICUBIC)
    if original.mode != "RGB":
        original = original.convert("RGB")
    original.putalpha(alpha)
    return original


SIDES = ("left", "right", "up", "down")


def _outpaint_fits(limits: InputLimits, width: int, height: int) -> bool:
    """Outpainting's result must fit the family's pixel and side limits (rounding is the adapter's)."""
    return width * height <= limits.max_pixels and (
        limits.max_side is None or max(width, height) <= limits.max_side
    )


def outpaint_largest(
    *, size: tuple[int, int], margins: dict[str, int], limits: InputLimits
) -> dict[str, int] | None:
    """None if the outpainted result fits the model; else the largest margins (same proportions) that do."""
    width, height = size

    def result(scale: float) -> tuple[int, int]:
        grown = {side: int(margins.get(side, 0) * scale) for side in SIDES}
        return width + grown["left"] + grown["right"], height + grown["up"] + grown["down"]

    if _outpaint_fits(limits, *result(1.0)):
        return None
    low, high = 0.0, 1.0
    if not _outpaint_fits(limits, *result(0.0)):
        return {side: 0 for side in SIDES}
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if _outpaint_fits(limits, *result(middle)) else (low, middle)
    return {side: int(margins.get(side, 0) * low) for side in SIDES}


def outpaint_check(*, size: tuple[int, int], margins: dict[str, int], family: str) -> None:
    """Refuse, before any model call, an outpaint whose result would exceed the model's limit."""
    limits = INPUT_LIMITS[family]
    largest = outpaint_largest(size=size, margins=margins, limits=limits)
    if largest is None:
        return
    width, height = size
    grown_w = width + margins.get("left", 0) + margins.get("right", 0)
    grown_h = height + margins.get("up", 0) + margins.get("down", 0)
    limit = f"at most {limits.max_pixels:,} pixels" + (
        f" and {limits.max_side:,} pixels a side" if limits.max_side else ""
    )
    asked = (
        f"Outpainting this {width}x{height} image to {grown_w}x{grown_h} exceeds the limit of {limits.label} "
        f"({limit})."
    )
    if not any(largest.values()):
        raise ServiceError(
            "outpaint_too_large",
            f"{asked} The image alone reaches that limit, so no extension is allowed; use a smaller image.",
            status=400,
        )
    allowed = ", ".join(f"{side} {largest[side]}" for side in SIDES if margins.get(side))
    raise ServiceError(
        "outpaint_too_large",
        f"{asked} The largest extension allowed in the same proportions is {allowed} pixels.",
        status=400,
    )
