"""Real photos through the API on the local stack: direct upload, edit at full resolution, every other
pixel kept; HEIC, GPS, the outpaint cap, and upload ids that are not the caller's to use."""

from __future__ import annotations

import io
import json
import urllib.request

import pytest
from PIL import Image, ImageChops, ImageStat

from tests.editor.helpers import direct_upload
from tests.editor.photo_samples import GPS_IFD, HEIC, encoded, photo_like, rect_mask, with_exif

FAR = 48  # pixels around the painted box that the feather may touch (it fades within ~3 x 6 px)


def edit(api, **fields) -> dict:
    files = {name: fields.pop(name) for name in ("image", "mask") if name in fields}
    if files:
        payload = {**fields, **{name: _named(name, data) for name, data in files.items()}}
        response = api.post("/api/v1/edits", payload, format="multipart")
    else:
        response = api.post("/api/v1/edits", fields, format="json")
    return response


def _named(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = f"{name}.png"
    return handle


def finished(api, response) -> dict:
    assert response.status_code in (200, 201, 202), response.content
    body = response.json()
    if body["status"] in ("PENDING", "RUNNING"):
        body = api.get(f"/api/v1/edits/{body['id']}?wait=25").json()
    assert body["status"] == "SUCCEEDED", body.get("error")
    return body


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 (the local stack's presigned URL)
        return answer.read()


def region(size, box, margin=0, *, inside=True) -> Image.Image:
    left, top, right, bottom = box
    where = Image.new("L", size, 0 if inside else 255)
    where.paste(255 if inside else 0, (left - margin, top - margin, right + margin, bottom + margin))
    return where


def mean_abs_difference(a: Image.Image, b: Image.Image, where: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b), mask=where).mean) / 3


def engine_invocations(local_stack) -> int:
    with urllib.request.urlopen(f"{local_stack.bedrock_url}/_engine/invocations", timeout=5) as answer:  # noqa: S310
        return json.loads(answer.read())["total"]


@pytest.mark.parametrize(
    ("width", "height", "via"),
    [
        pytest.param(6000, 4000, "mask_upload_id", id="24MP", marks=pytest.mark.slow),
        pytest.param(8000, 6000, "mask", id="48MP", marks=pytest.mark.slow),
    ],
)
def test_a_large_jpeg_is_erased_at_full_resolution(api, width, height, via):
    photo = photo_like(width, height)
    data = encoded(photo, "jpeg", quality=90)
    del photo
    assert len(data) > 4 * 1024 * 1024  # more than the request could carry
    painted = (width // 2, height // 3, width // 2 + 160, height // 3 + 120)
    mask = encoded(rect_mask((width, height), painted), "png")
    fields = {"task": "erase", "upload_id": direct_upload(api, data)}
    if via == "mask_upload_id":
        fields["mask_upload_id"] = direct_upload(api, mask, "image/png")
    else:
        fields["mask"] = mask
    body = finished(api, edit(api, **fields))
    [output] = body["outputs"]
    assert (
        (output["width"], output["height"]) == (width, height) == (body["input_width"], body["input_height"])
    )
    assert output["content_type"] == "image/jpeg" and output["jpeg_quality"] == 90  # the source's
    before = Image.open(io.BytesIO(data)).convert("RGB")
    after = Image.open(io.BytesIO(fetch(output["url"]))).convert("RGB")
    assert after.size == (width, height)
    assert mean_abs_difference(before, after, region(after.size, painted, FAR, inside=False)) <= 3
    assert mean_abs_difference(before, after, region(after.size, painted)) > 5  # the painted area changed


def test_a_png_keeps_every_pixel_outside_the_feather_exactly(api):
    photo = photo_like(2400, 1600)
    data = encoded(photo, "png", compress_level=1)
    painted = (1000, 700, 1100, 780)
    fields = {"task": "erase", "upload_id": direct_upload(api, data, "image/png")}
    body = finished(api, edit(api, **fields, mask=encoded(rect_mask(photo.size, painted), "png")))
    [output] = body["outputs"]
    assert output["content_type"] == "image/png" and output.get("jpeg_quality") is None
    after = Image.open(io.BytesIO(fetch(output["url"]))).convert("RGB")
    changed = ImageChops.difference(photo, after).getbbox()
    assert changed is not None
    left, top, right, bottom = painted
    assert changed[0] >= left - FAR and changed[1] >= top - FAR
    assert changed[2] <= right + FAR and changed[3] <= bottom + FAR  # nothing changed farther out


def test_one_upload_serves_several_edits(api):
    data = encoded(photo_like(1200, 800), "jpeg", quality=90)
    upload_id = direct_upload(api, data)
    mask = encoded(rect_mask((1200, 800), (500, 300, 560, 360)), "png")
    first = finished(api, edit(api, task="erase", upload_id=upload_id, mask=mask))
    second = finished(api, edit(api, task="remove_background", upload_id=upload_id))
    assert first["id"] != second["id"]
    assert first["image_reference"] != second["image_reference"]  # each edit keeps its own copy
    [cutout] = second["outputs"]
    assert (cutout["width"], cutout["height"]) == (1200, 800) and cutout["content_type"] == "image/png"


def test_a_heic_photo_is_edited_upright_in_srgb_without_gps(api):
    body = finished(
        api,
        edit(
            api,
            task="erase",
            upload_id=direct_upload(api, HEIC, "image/heic"),
            mask=encoded(rect_mask((480, 320), (300, 250, 340, 290)), "png"),
        ),
    )
    [output] = body["outputs"]
    assert (body["input_width"], body["input_height"]) == (480, 320)
    assert output["content_type"] == "image/jpeg"
    result = Image.open(io.BytesIO(fetch(output["url"])))
    assert result.size == (480, 320)
    assert not result.getexif()  # no GPS, no camera
    rgb = result.convert("RGB")
    for point, colour in (
        ((20, 20), (255, 255, 255)),
        ((100, 200), (40, 160, 60)),
        ((420, 40), (200, 120, 40)),
    ):
        assert all(abs(a - b) <= 8 for a, b in zip(rgb.getpixel(point), colour, strict=True)), point


def test_gps_in_the_photo_is_not_in_the_result(api):
    data = with_exif(photo_like(640, 480), "jpeg", quality=90)
    assert GPS_IFD in Image.open(io.BytesIO(data)).getexif()
    body = finished(
        api,
        edit(
            api,
            task="erase",
            upload_id=direct_upload(api, data),
            mask=encoded(rect_mask((640, 480), (300, 200, 340, 240)), "png"),
        ),
    )
    result = Image.open(io.BytesIO(fetch(body["outputs"][0]["url"])))
    assert not result.getexif() and "xmp" not in result.info


@pytest.mark.parametrize(("family", "side"), [("stability", 3072), ("nova", 1024), ("titan", 1024)])
def test_the_outpaint_cap_refuses_before_any_model_call(api, local_stack, family, side):
    data = encoded(photo_like(side, side), "png", compress_level=1)
    upload_id = direct_upload(api, data, "image/png")
    before = engine_invocations(local_stack)
    response = api.post(
        "/api/v1/edits",
        {
            "task": "outpaint",
            "model": family,
            "upload_id": upload_id,
            "prompt": "more of the same",
            "left": 2000,
            "right": 2000,
            "up": 2000,
            "down": 2000,
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "outpaint_too_large"
    assert "largest extension" in error["message"] or "no extension" in error["message"]
    assert engine_invocations(local_stack) == before  # the engine received nothing
    recorded = api.get("/api/v1/edits?limit=5").json()["results"]
    assert all(item["task"] != "outpaint" for item in recorded)  # nothing was recorded


def test_upload_ids_that_are_not_usable_are_refused(api, make_user, sign_in, settings):
    from rest_framework.test import APIClient

    data = encoded(photo_like(256, 256), "png")
    upload_id = direct_upload(api, data, "image/png")
    mask = encoded(rect_mask((256, 256), (100, 100, 140, 140)), "png")
    other = APIClient()
    username, _ = make_user("other")
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(username)['access_token']}")
    foreign = edit(other, task="erase", upload_id=upload_id, mask=mask)
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "upload_not_found"
    unknown = edit(api, task="erase", upload_id="00000000-0000-4000-8000-000000000000", mask=mask)
    assert unknown.status_code == 404
    settings.UPLOAD_MAX_AGE_SECONDS = 0
    expired = edit(api, task="erase", upload_id=upload_id, mask=mask)
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "upload_expired"


@pytest.mark.usefixtures("legacy_models_in_service")
def test_a_whole_image_task_says_what_size_the_model_worked_at(api):
    data = encoded(photo_like(1600, 1200), "jpeg", quality=90)
    body = finished(
        api, edit(api, task="remove_background", model="titan", upload_id=direct_upload(api, data))
    )
    assert body["model_size"] == {"width": 1408, "height": 1056}  # Titan takes 1,408 pixels a side
    [output] = body["outputs"]
    assert (output["width"], output["height"]) == (1600, 1200)  # the cut-out is applied at full size


def test_upscale_input_limits_are_checked_up_front(api, local_stack):
    data = encoded(photo_like(4000, 3000), "jpeg", quality=80)
    before = engine_invocations(local_stack)
    response = edit(api, task="upscale", prompt="a photo", upload_id=direct_upload(api, data))
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_for_model"
    assert "9,437,184" in response.json()["error"]["message"]
    assert engine_invocations(local_stack) == before


def test_an_edit_names_one_image_and_one_mask(api):
    some_id = "00000000-0000-4000-8000-000000000000"
    small = encoded(rect_mask((8, 8), (1, 1, 4, 4)), "png")
    both = edit(api, task="remove_background", upload_id=some_id, image=small)
    assert both.status_code == 400 and both.json()["error"]["code"] == "invalid_request"
    masks = edit(
        api,
        task="erase",
        upload_id=some_id,
        mask_upload_id=some_id,
        mask=small,
    )
    assert masks.status_code == 400 and "one mask" in masks.json()["error"]["message"]


def test_an_upload_with_an_unknown_parent_is_404_and_nothing_is_stored(api):
    upload_id = direct_upload(api, encoded(photo_like(128, 96), "png"), "image/png")
    unknown_parent = "00000000-0000-4000-8000-000000000001"
    response = edit(api, task="remove_background", upload_id=upload_id, parent_id=unknown_parent)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert api.get("/api/v1/edits?limit=5").json()["results"] == []


def test_a_heic_upload_has_a_preview_the_browser_can_show(api, make_user, sign_in):
    from rest_framework.test import APIClient

    upload_id = direct_upload(api, HEIC, "image/heic")
    response = api.post(f"/api/v1/uploads/{upload_id}/preview")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["width"], body["height"]) == (480, 320)  # the photo's own size, upright
    preview = Image.open(io.BytesIO(fetch(body["url"])))
    assert preview.format == "JPEG" and preview.size == (480, 320)
    assert all(
        abs(a - b) <= 8
        for a, b in zip(preview.convert("RGB").getpixel((100, 200)), (40, 160, 60), strict=True)
    )
    other = APIClient()
    username, _ = make_user("other")
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(username)['access_token']}")
    assert other.post(f"/api/v1/uploads/{upload_id}/preview").status_code == 404
