"""A real photo in the browser: over 4 MB straight to storage with progress, cancel, the crop outlined,
the result at full resolution."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from editor.models import SUCCEEDED, ImageEdit
from editor.selectors.history import edits_list
from editor.services import storage
from editor.services.aws import aws_client
from editor.users import CognitoUser
from tests.browser.pages import paint, sign_in, wait_for_result
from tests.conftest import PASSWORD
from tests.editor.photo_samples import photo_like

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTH, HEIGHT = 4000, 3000

RECORD_PROGRESS = """() => {
    window.progressSeen = [];
    const text = document.querySelector('#progress-text');
    new MutationObserver(() => window.progressSeen.push(text.textContent))
        .observe(text, { childList: true, characterData: true, subtree: true });
}"""


def test_a_large_photo_uploads_with_progress_can_be_cancelled_and_comes_back_full_size(
    local_stack, live_server, make_user, page, artifacts, tmp_path
):
    from playwright.sync_api import expect

    username, sub = make_user("photo")
    photo = tmp_path / "big.jpg"
    photo_like(WIDTH, HEIGHT).save(photo, "JPEG", quality=92)
    assert photo.stat().st_size > 4 * 1024 * 1024

    sign_in(page, live_server.url, username, PASSWORD)
    expect(page.locator("#model")).to_have_value("stability")  # the editor's scripts are running
    page.set_input_files("#image-input", str(photo))
    expect(page.locator("#image-meta")).to_contain_text(f"{WIDTH} × {HEIGHT}", timeout=30_000)
    assert page.script_errors == []
    page.get_by_label("Erase", exact=True).check()
    paint(page, 0.45, 0.55, 0.5)

    # The crop the model will see is outlined before anything is sent.
    expect(page.locator("#crop-box")).to_be_visible()
    expect(page.locator("#crop-label")).to_contain_text("The model sees this")
    page.screenshot(path=str(artifacts / "photo-crop.png"))

    # Hold the POST to storage: the upload shows its bar and Cancel, and cancelling sends nothing.
    held = []
    bucket = f"{local_stack.moto_url}/{local_stack.names.bucket}"

    def hold(route):
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    def to_bucket(url: str) -> bool:
        return url.startswith(bucket)

    page.route(to_bucket, hold)
    page.get_by_role("button", name="Run erase").click()
    expect(page.locator("#cancel-upload")).to_be_visible()
    expect(page.locator("#upload-progress")).to_be_visible()
    expect(page.locator("#progress-text")).to_contain_text("Uploading the photo")
    page.locator("#cancel-upload").click()
    expect(page.locator("#error")).to_contain_text("The upload was cancelled.")
    expect(page.locator("#run")).to_be_enabled()
    assert edits_list(user=CognitoUser(sub=sub, username=username), limit=5)[0] == []
    page.unroute(to_bucket, hold)

    # Run again: percent and megabytes while it goes, then the full-resolution result.
    page.evaluate(RECORD_PROGRESS)
    page.get_by_role("button", name="Run erase").click()
    edit_id = wait_for_result(page)
    seen = page.evaluate("window.progressSeen")
    assert any("Uploading the photo" in text and "MB" in text and "%" in text for text in seen), seen
    edit = ImageEdit.get(edit_id, consistent_read=True)
    assert edit.status == SUCCEEDED and edit.image_reference.endswith("input.jpeg")
    [output] = edit.outputs
    assert (output.width, output.height) == (WIDTH, HEIGHT) and output.jpeg_quality == 92  # the source's
    assert page.locator("#after-image").evaluate("img => [img.naturalWidth, img.naturalHeight]") == [
        WIDTH,
        HEIGHT,
    ]
    assert "response-content-disposition" in page.locator("#download").get_attribute("href")
    # The mask was painted at screen resolution and sent at the photo's size.
    mask = np.asarray(Image.open(io.BytesIO(storage.object_get(key=edit.mask_reference))).convert("L"))
    assert mask.shape == (HEIGHT, WIDTH)
    assert mask[HEIGHT // 2, WIDTH // 2] == 255 and mask[HEIGHT // 10, WIDTH // 2] == 0
    page.screenshot(path=str(artifacts / "photo-result.png"))

    # Continue editing the full-resolution result.
    page.get_by_role("button", name="Continue editing this result").click()
    expect(page.locator("#image-meta")).to_contain_text(f"{WIDTH} × {HEIGHT} · continuing a result")
    assert page.script_errors == []


def test_a_heic_photo_is_previewed_through_the_server_and_edited(
    local_stack, live_server, make_user, page, tmp_path
):
    from playwright.sync_api import expect

    from tests.editor.photo_samples import HEIC

    username, sub = make_user("heic")
    photo = tmp_path / "IMG_0001.HEIC"
    photo.write_bytes(HEIC)
    sign_in(page, live_server.url, username, PASSWORD)
    expect(page.locator("#model")).to_have_value("stability")
    page.set_input_files("#image-input", str(photo))
    # Chromium cannot decode HEIC: the editor uploads it and shows the server's preview, at full size.
    expect(page.locator("#image-meta")).to_contain_text("IMG_0001.HEIC · 480 × 320", timeout=30_000)
    page.get_by_label("Erase", exact=True).check()
    paint(page, 0.6, 0.7, 0.85)
    page.get_by_role("button", name="Run erase").click()
    edit_id = wait_for_result(page)
    edit = ImageEdit.get(edit_id, consistent_read=True)
    assert edit.status == SUCCEEDED and edit.image_reference.endswith("input.heic")
    assert (edit.outputs[0].width, edit.outputs[0].height) == (480, 320)
    assert edit.outputs[0].content_type == "image/jpeg"
    # The preview's upload served the edit: one upload (and its preview) under the person's prefix.
    listing = aws_client("s3").list_objects_v2(
        Bucket=local_stack.names.bucket, Prefix=f"users/{sub}/uploads/"
    )
    assert (
        len([item for item in listing.get("Contents", []) if not item["Key"].endswith(".preview.jpg")]) == 1
    )
    assert page.locator("#before-image").evaluate("img => img.naturalWidth") > 0  # "before" shows too
    assert page.script_errors == []
