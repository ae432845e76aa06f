"""Crops sized for each model family, composites that keep every pixel outside the mask, the outpaint cap."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from editor.errors import ServiceError
from editor.services.imaging.regions import (
    INPUT_LIMITS,
    alpha_apply,
    composite_crop,
    crop_plan,
    feathered,
    mask_box,
    model_size_fit,
    outpaint_check,
    outpaint_largest,
)
from tests.editor.photo_samples import photo_like, rect_mask


def plan(image_size, box, family="stability", fraction=0.25, minimum=64):
    return crop_plan(
        image_size=image_size,
        mask_box=box,
        limits=INPUT_LIMITS[family],
        padding_fraction=fraction,
        padding_min=minimum,
    )


def test_small_mask_gets_the_minimum_padding_and_full_resolution():
    result = plan((6000, 4000), (3000, 2000, 3040, 2030))
    assert result.box == (2936, 1936, 3104, 2094)
    assert result.model_size == result.size  # small enough: the model sees native pixels


def test_padding_is_a_fraction_of_a_large_box_and_clipped_to_the_image():
    result = plan((6000, 4000), (0, 1000, 2000, 2000))
    assert result.box == (0, 750, 2500, 2250)  # a quarter of 2000 across, of 1000 down


@pytest.mark.parametrize("family", list(INPUT_LIMITS))
@pytest.mark.parametrize(
    "box", [(100, 100, 7900, 5900), (10, 10, 40, 40), (0, 2000, 8000, 2100), (3900, 0, 3990, 6000)]
)
def test_every_plan_fits_its_family(family, box):
    limits = INPUT_LIMITS[family]
    result = plan((8000, 6000), box, family=family)
    left, top, right, bottom = result.box
    assert left <= box[0] and top <= box[1] and right >= box[2] and bottom >= box[3]  # the mask is inside
    assert left >= 0 and top >= 0 and right <= 8000 and bottom <= 6000
    assert limits.fits(*result.model_size), (family, result)


def test_a_long_thin_stroke_takes_context_along_its_short_side():
    result = plan((8000, 6000), (0, 2000, 8000, 2100))
    width, height = result.size
    assert width / height <= 2.5 + 1e-9 and width == 8000


def test_a_stroke_too_thin_for_the_photo_is_refused_clearly():
    with pytest.raises(ServiceError) as refused:
        plan((8000, 1000), (0, 400, 8000, 420))
    assert refused.value.status == 400 and "2.5:1" in refused.value.message


def test_model_size_keeps_nova_multiples_and_bounds():
    width, height = model_size_fit(5000, 3000, INPUT_LIMITS["nova"])
    assert width % 16 == 0 and height % 16 == 0 and width * height < 4_194_304
    assert model_size_fit(100, 100, INPUT_LIMITS["nova"]) == (320, 320)  # scaled up to Nova's minimum


def test_composite_keeps_every_pixel_outside_the_feathered_mask_exactly():
    original = photo_like(800, 600)
    before = original.copy()
    mask = rect_mask((800, 600), (300, 250, 360, 300))
    box = plan((800, 600), mask_box(mask)).box
    crop_size = (box[2] - box[0], box[3] - box[1])
    answer = Image.new("RGB", (crop_size[0] // 2, crop_size[1] // 2), (255, 0, 255))  # a scaled answer
    composite_crop(original, answer, mask.crop(box), box, feather=6)
    changed = ImageChops.difference(original, before).convert("L").point(lambda v: 255 if v else 0)
    soft = Image.new("L", (800, 600), 0)
    soft.paste(feathered(mask.crop(box), 6), box[:2])
    outside = ImageChops.invert(soft.point(lambda v: 255 if v else 0))
    assert ImageChops.multiply(changed, outside).getbbox() is None  # no change where the feather is 0
    inside = original.crop((310, 260, 350, 290))
    assert ImageStat.Stat(inside).mean == [255.0, 0.0, 255.0]  # the painted area is the model's


def test_alpha_from_the_model_size_is_applied_to_the_full_resolution_original():
    original = photo_like(1200, 900)
    cutout = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    cutout.paste((9, 9, 9, 255), (100, 75, 300, 225))  # the model's subject, at a third of the size
    result = alpha_apply(original.copy(), cutout)
    assert result.size == (1200, 900) and result.mode == "RGBA"
    assert result.getpixel((600, 450))[:3] == original.getpixel((600, 450))  # full-res pixels kept
    assert result.getpixel((600, 450))[3] == 255 and result.getpixel((20, 20))[3] == 0


def test_outpaint_within_the_limit_passes():
    assert (
        outpaint_largest(size=(1024, 1024), margins={"left": 512}, limits=INPUT_LIMITS["stability"]) is None
    )
    outpaint_check(size=(1024, 1024), margins={"left": 512, "right": 512}, family="stability")


@pytest.mark.parametrize("family", list(INPUT_LIMITS))
def test_outpaint_cap_names_the_largest_extension_for_every_family(family):
    limits = INPUT_LIMITS[family]
    margins = {"left": 2000, "right": 2000, "up": 2000, "down": 2000}
    size = (1200, 1000)
    largest = outpaint_largest(size=size, margins=margins, limits=limits)
    assert largest is not None
    width = size[0] + largest["left"] + largest["right"]
    height = size[1] + largest["up"] + largest["down"]
    assert width * height <= limits.max_pixels
    one_more = (width + 2) * (height + 2)  # one more pixel on every side no longer fits
    assert one_more > limits.max_pixels or (limits.max_side and max(width, height) + 2 > limits.max_side)
    with pytest.raises(ServiceError) as refused:
        outpaint_check(size=size, margins=margins, family=family)
    assert refused.value.status == 400 and refused.value.code == "outpaint_too_large"
    assert f"left {largest['left']}" in refused.value.message and limits.label in refused.value.message


def test_outpaint_of_an_image_already_at_the_limit():
    with pytest.raises(ServiceError) as refused:
        outpaint_check(size=(3072, 3072), margins={"left": 10}, family="nova")
    assert "no extension is allowed" in refused.value.message


@pytest.mark.parametrize("radius", [1, 6, 15])
@pytest.mark.parametrize(
    "strokes",
    [
        [(300, 250, 360, 300)],  # a box in the middle
        [(0, 0, 40, 30), (770, 560, 800, 600)],  # touching two corners
        [(100, 590, 700, 600), (5, 100, 9, 500)],  # thin strokes along the edges
    ],
)
def test_feathered_blurs_only_near_the_paint_and_equals_blurring_the_whole_mask(radius, strokes):
    mask = Image.new("L", (800, 600), 0)
    draw = ImageDraw.Draw(mask)
    for stroke in strokes:
        draw.ellipse(stroke, fill=200)  # soft-edged brushes are >= 128 where painted
    hard = mask.point(lambda value: 255 if value >= 128 else 0)
    whole = ImageChops.lighter(hard, hard.filter(ImageFilter.GaussianBlur(radius)))
    assert feathered(mask, radius).tobytes() == whole.tobytes()
