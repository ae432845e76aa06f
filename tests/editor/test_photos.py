"""Photos: every accepted format by content, orientation once, Display P3 to sRGB, no private metadata out."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from editor.errors import ServiceError
from editor.services.imaging.photos import mask_decode, photo_decode, photo_encode, photo_inspect, photo_sniff
from tests.editor.photo_samples import (
    GPS_IFD,
    HEIC,
    display_p3_profile,
    encoded,
    photo_like,
    png_header_only,
    with_exif,
)

# The fixture (made with pillow-heif, see tests/editor/fixtures/README.md) shows, as a person sees it,
# 480x320: a white square at the top left, green (40, 160, 60) on the left half and orange (200, 120, 40)
# on the right, all in sRGB terms; its pixels are stored turned a quarter and encoded in Display P3.
GREEN, ORANGE = (40, 160, 60), (200, 120, 40)


def close(pixel, expected, tolerance):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=False))


def test_sniff_names_every_accepted_format_by_content():
    image = Image.new("RGB", (8, 8))
    assert photo_sniff(encoded(image, "png")) == "png"
    assert photo_sniff(encoded(image, "jpeg")) == "jpeg"
    assert photo_sniff(encoded(image, "webp")) == "webp"
    assert photo_sniff(HEIC) == "heic"
    assert photo_sniff(b"GIF89a" + b"\0" * 20) is None
    assert photo_sniff(b"\0\0\0\x1cftypavif" + b"\0" * 20) is None  # AVIF is not HEIC


def test_heic_is_read_upright_and_in_srgb():
    info = photo_inspect(HEIC)
    assert (info.format, info.width, info.height) == ("heic", 480, 320)
    image = photo_decode(HEIC)
    assert image.size == (480, 320) and image.mode == "RGB"
    assert close(image.getpixel((20, 20)), (255, 255, 255), 6)  # the marker is at the top left: turned once
    assert close(image.getpixel((400, 20)), ORANGE, 6)
    # Read without its profile, P3 numbers would be far off: the colours come back as they were in sRGB.
    assert close(image.getpixel((100, 200)), GREEN, 6)
    assert close(image.getpixel((400, 200)), ORANGE, 6)


def test_a_p3_jpeg_is_converted_and_an_srgb_one_left_alone():
    shown = Image.new("RGB", (64, 64), GREEN)
    p3 = display_p3_profile()
    as_p3 = ImageCms.profileToProfile(
        shown, ImageCms.createProfile("sRGB"), ImageCms.ImageCmsProfile(io.BytesIO(p3)), outputMode="RGB"
    )
    assert not close(as_p3.getpixel((5, 5)), GREEN, 10)  # the test means something
    decoded = photo_decode(encoded(as_p3, "png", icc_profile=p3))
    assert close(decoded.getpixel((5, 5)), GREEN, 1)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    untouched = photo_decode(encoded(shown, "png", icc_profile=srgb))
    assert untouched.getpixel((5, 5)) == GREEN


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied_once(orientation):
    stored = Image.new("RGB", (60, 40), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 10, 10))  # a red corner in the stored pixels
    data = with_exif(stored, "jpeg", orientation=orientation, quality=95)
    info = photo_inspect(data)
    shown = photo_decode(data)
    expected = {3: (60, 40), 6: (40, 60), 8: (40, 60)}[orientation]
    assert (info.width, info.height) == expected == shown.size
    # Where the red corner ends up, as ImageOps.exif_transpose places it.
    corner = {3: (shown.width - 5, shown.height - 5), 6: (shown.width - 5, 5), 8: (5, shown.height - 5)}[
        orientation
    ]
    assert close(shown.getpixel(corner), (255, 0, 0), 40)


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp"])
def test_results_carry_no_gps_or_camera_metadata(kind):
    data = with_exif(photo_like(96, 64), kind, **({"quality": 90} if kind != "png" else {}))
    assert GPS_IFD in Image.open(io.BytesIO(data)).getexif()  # it went in
    image = photo_decode(data)
    out = photo_encode(image, kind)
    result = Image.open(io.BytesIO(out.data))
    assert not result.getexif(), "no EXIF at all in results"
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment"} & set(result.info)
    assert (out.width, out.height) == (96, 64)


def test_heic_gps_does_not_reach_the_result():
    photo_inspect(HEIC)  # registers the HEIC opener
    assert GPS_IFD in Image.open(io.BytesIO(HEIC)).getexif()  # it went in
    out = photo_encode(photo_decode(HEIC), "jpeg")
    assert not Image.open(io.BytesIO(out.data)).getexif()
    assert out.jpeg_quality == 95


def test_refusals_are_clear(settings):
    with pytest.raises(ServiceError) as refused:
        photo_inspect(b"GIF89a" + b"\0" * 100)
    assert refused.value.status == 415 and "HEIC" in refused.value.message
    good = encoded(photo_like(64, 64), "jpeg", quality=80)
    with pytest.raises(ServiceError) as damaged:
        photo_inspect(good[: len(good) // 2])
    assert damaged.value.code == "corrupt_image"
    settings.MAX_PHOTO_PIXELS = 1000
    with pytest.raises(ServiceError) as too_many:
        photo_inspect(good)
    assert too_many.value.status == 413 and "megapixels" in too_many.value.message
    settings.MAX_PHOTO_BYTES = 100
    with pytest.raises(ServiceError) as too_big:
        photo_inspect(good)
    assert too_big.value.status == 413 and "MB" in too_big.value.message


@pytest.mark.parametrize("side", [12_000, 60_000])  # past our limit; past twice Pillow's backstop too
def test_a_decompression_bomb_is_refused_from_its_header(side):
    with pytest.raises(ServiceError) as refused:
        photo_inspect(png_header_only(side, side))
    assert refused.value.status == 413 and "megapixels" in refused.value.message


def test_fit_decodes_small_and_still_upright():
    stored = photo_like(1600, 1200)
    stored.paste((255, 0, 0), (0, 0, 200, 200))  # red at the stored top left
    data = with_exif(stored, "jpeg", orientation=6, quality=90)
    small = photo_decode(data, fit=(300, 400))
    assert small.width < small.height  # turned a quarter, as shown
    assert close(small.getpixel((small.width - 5, 5)), (255, 0, 0), 60)  # top left went to the top right


def test_fit_decodes_large_jpeg_small():
    data = encoded(photo_like(2400, 1600), "jpeg", quality=85)
    small = photo_decode(data, fit=(600, 400))
    assert small.width <= 1200 and small.height <= 800  # DCT scaling got there without a full decode
    assert small.width >= 600 and small.height >= 400


def test_mask_from_transparency_or_brightness_and_of_the_same_size():
    painted = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    painted.paste((255, 0, 0, 255), (5, 5, 15, 15))
    mask = mask_decode(encoded(painted, "png"), size=(40, 30))
    assert mask.mode == "L" and mask.getpixel((8, 8)) == 255 and mask.getpixel((30, 20)) == 0
    with pytest.raises(ServiceError) as mismatch:
        mask_decode(encoded(painted, "png"), size=(41, 30))
    assert mismatch.value.code == "mask_size_mismatch"
