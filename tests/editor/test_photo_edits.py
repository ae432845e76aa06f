"""Full-resolution edits without the model: what it is sent, and how its answer is put back."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageStat, JpegImagePlugin

from editor.services.imaging.photo_edits import (
    mask_local_finish,
    mask_local_prepare,
    remove_background_finish,
    whole_image_prepare,
)
from editor.services.imaging.regions import INPUT_LIMITS
from tests.editor.photo_samples import encoded, photo_like, rect_mask

PAINTED = (1200, 900, 1300, 980)


def answer_for(prepared) -> bytes:
    """What a model might answer: the crop it was sent, blurred (so the painted area visibly changes)."""
    crop = Image.open(io.BytesIO(prepared.model_image)).convert("RGB")
    return encoded(crop.filter(ImageFilter.GaussianBlur(12)), "png")


def outside(box, margin, size):
    """A mask of everything farther than `margin` from box (what no feather can reach)."""
    keep = Image.new("L", size, 255)
    keep.paste(0, (box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin))
    return keep


def mean_difference(a: Image.Image, b: Image.Image, where: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b), mask=where).mean) / 3


@pytest.mark.parametrize(("kind", "limit"), [("png", 0.0), ("jpeg", 3.0)])
def test_erase_in_a_photo_keeps_size_and_every_pixel_outside(kind, limit):
    photo = photo_like(2400, 1800)
    data = encoded(photo, kind, **({"quality": 92} if kind == "jpeg" else {"compress_level": 1}))
    mask = encoded(rect_mask(photo.size, PAINTED), "png")
    prepared = mask_local_prepare(image=data, mask=mask, source_format=kind, family="stability")
    assert not prepared.plan.scaled  # a small area: the model sees native pixels around it
    result = mask_local_finish(prepared, answer_for(prepared))
    assert (result.width, result.height) == (2400, 1800)
    assert result.content_type == f"image/{kind}"
    assert result.jpeg_quality == (92 if kind == "jpeg" else None)  # written with the source's own tables
    before = Image.open(io.BytesIO(data)).convert("RGB")
    after = Image.open(io.BytesIO(result.data)).convert("RGB")
    far = outside(PAINTED, 32, photo.size)
    assert mean_difference(before, after, far) <= limit
    if kind == "png":
        assert ImageChops.difference(before, after).getbbox() is not None
        changed = ImageChops.difference(before, after).getbbox()
        assert changed[0] >= PAINTED[0] - 32 and changed[2] <= PAINTED[2] + 32  # only near the painting
    inside = Image.new("L", photo.size, 0)
    inside.paste(255, PAINTED)
    assert mean_difference(before, after, inside) > 5  # the painted area changed


# Measured on this 2400 x 1800 photo at quality 90 (docs/performance.md): a 4:4:4 source written
# 4:2:0 at quality 95, as before, moved the unpainted pixels by 12.0 levels on average; with its own tables
# and subsampling by 0.01. A 4:2:0 source moves by ~1.6: the decoder's smooth chroma upsampling, averaged
# down again, is not its own inverse (PNG keeps every pixel, test above). The limits leave room for
# libjpeg builds, not for another subsampling or quality.
@pytest.mark.parametrize(("subsampling", "limit"), [(0, 0.1), (2, 2.0)])
def test_a_jpeg_result_keeps_the_sources_coding_so_unpainted_pixels_barely_move(subsampling, limit):
    photo = photo_like(2400, 1800)
    data = encoded(photo, "jpeg", quality=90, subsampling=subsampling)
    mask = encoded(rect_mask(photo.size, PAINTED), "png")
    prepared = mask_local_prepare(image=data, mask=mask, source_format="jpeg", family="stability")
    result = mask_local_finish(prepared, answer_for(prepared))
    written = Image.open(io.BytesIO(result.data))
    assert JpegImagePlugin.get_sampling(written) == subsampling and result.jpeg_quality == 90
    before = Image.open(io.BytesIO(data)).convert("RGB")
    moved = mean_difference(before, written.convert("RGB"), outside(PAINTED, 32, photo.size))
    assert moved <= limit


def test_a_huge_painted_area_is_sent_scaled_and_comes_back_full_size():
    photo = photo_like(2400, 1800)
    data = encoded(photo, "png", compress_level=1)
    painted = (100, 100, 2300, 1700)
    prepared = mask_local_prepare(
        image=data, mask=encoded(rect_mask(photo.size, painted), "png"), source_format="png", family="titan"
    )
    assert prepared.plan.scaled and INPUT_LIMITS["titan"].fits(*prepared.plan.model_size)
    assert Image.open(io.BytesIO(prepared.model_image)).size == prepared.plan.model_size
    assert Image.open(io.BytesIO(prepared.model_mask)).size == prepared.plan.model_size
    result = mask_local_finish(prepared, answer_for(prepared))
    assert (result.width, result.height) == (2400, 1800)


def test_whole_image_is_scaled_to_the_model_and_remove_background_applied_at_full_size():
    photo = photo_like(2400, 1800)
    data = encoded(photo, "jpeg", quality=90)
    whole = whole_image_prepare(image=data, size=photo.size, family="titan")
    assert whole.scaled and INPUT_LIMITS["titan"].fits(*whole.model_size)
    model_view = Image.open(io.BytesIO(whole.data))
    cutout = model_view.convert("RGBA")
    cutout.putalpha(rect_mask(model_view.size, (0, 0, model_view.width // 2, model_view.height)))
    result = remove_background_finish(image=data, source_format="jpeg", cutout=encoded(cutout, "png"))
    out = Image.open(io.BytesIO(result.data))
    assert out.size == (2400, 1800) and out.mode == "RGBA" and result.content_type == "image/png"
    assert out.getpixel((100, 900))[3] == 255 and out.getpixel((2300, 900))[3] == 0
    original = Image.open(io.BytesIO(data)).convert("RGB")
    assert out.getpixel((1000, 1000))[:3] == original.getpixel((1000, 1000))  # full-resolution pixels
