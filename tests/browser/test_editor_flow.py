"""The whole web flow in a browser: sign in, paint, inpaint, continue, history, detail, sign out."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from editor.models import FAILED, SUCCEEDED, ImageEdit
from editor.selectors.history import edits_list
from editor.services import storage
from editor.users import CognitoUser
from tests.browser.pages import HEIGHT, WIDTH, paint, sign_in, wait_for_result, write_photo
from tests.conftest import PASSWORD
from tests.editor.helpers import inject_fault

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_sign_in_paint_inpaint_continue_history_detail_sign_out(
    local_stack, gateway, make_user, page, artifacts, tmp_path
):
    from playwright.sync_api import expect

    username, _ = make_user("browser")
    photo = tmp_path / "photo.png"
    write_photo(photo)
    base = gateway.url

    # A page without a session goes to sign-in and comes back after it.
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/signin?next=%2F")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("wrong-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Incorrect username or password.")
    page.screenshot(path=str(artifacts / "signin-error.png"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/")
    expect(page.locator(".account-name")).to_contain_text(username)
    expect(page.locator("#model")).to_have_value("stability")
    expect(page.locator("#task-note")).to_contain_text("local engine cannot")
    expect(page.locator("#prompt-counter")).to_have_text("0 / 10,000")

    # Load the photo and paint a horizontal stroke across the disc.
    page.set_input_files("#image-input", str(photo))
    expect(page.locator("#image-meta")).to_contain_text(f"{WIDTH} × {HEIGHT}")
    expect(page.locator("#mask-canvas")).to_be_visible()
    box = paint(page, 0.38, 0.62, 0.5)
    assert box["width"] < WIDTH  # the canvas is shown scaled down
    expect(page.locator("#undo")).to_be_enabled()
    page.keyboard.press("Control+z")
    expect(page.locator("#undo")).to_be_disabled()
    page.keyboard.press("Control+Shift+z")
    expect(page.locator("#undo")).to_be_enabled()
    page.keyboard.press("]")
    expect(page.locator("#brush-size-value")).not_to_have_text("40")
    page.locator("#prompt").fill("a smooth evening sky")
    expect(page.locator("#prompt-counter")).to_have_text("20 / 10,000")
    page.screenshot(path=str(artifacts / "editor-painted.png"))

    page.get_by_role("button", name="Run inpaint").click()
    first_id = wait_for_result(page)
    expect(page.locator("#result-engine")).to_have_text("Local engine (local-opencv)")
    expect(page.locator("#engine-note")).to_contain_text("prompt ignored by the local engine")
    expect(page.locator("#params")).to_contain_text("a smooth evening sky")
    expect(page.locator("#run")).to_be_enabled()
    assert "response-content-disposition" in page.locator("#download").get_attribute("href")
    page.screenshot(path=str(artifacts / "editor-result.png"))

    # The mask that was sent is image-sized, white where the stroke went and black elsewhere.
    edit = ImageEdit.get(first_id, consistent_read=True)
    assert edit.status == SUCCEEDED
    mask = np.asarray(Image.open(io.BytesIO(storage.object_get(key=edit.mask_reference))).convert("L"))
    assert mask.shape == (HEIGHT, WIDTH)
    assert mask[HEIGHT // 2, WIDTH // 2] == 255 and mask[HEIGHT // 2, int(WIDTH * 0.4)] == 255
    assert mask[HEIGHT // 2, int(WIDTH * 0.2)] == 0 and mask[HEIGHT // 10, WIDTH // 2] == 0

    # Continue from the result: the base image becomes the output and the next edit names its parent.
    page.get_by_role("button", name="Continue editing this result").click()
    expect(page.locator("#image-meta")).to_contain_text("continuing a result")
    page.get_by_label("Erase", exact=True).check()
    expect(page.get_by_role("button", name="Run erase")).to_be_visible()
    expect(page.locator("#prompt")).to_be_hidden()
    paint(page, 0.1, 0.2, 0.2)
    page.get_by_role("button", name="Run erase").click()
    second_id = wait_for_result(page, not_edit=first_id)
    expect(page.locator("#params")).to_contain_text(f"Continued from{first_id[:8]}")
    assert ImageEdit.get(second_id, consistent_read=True).parent_id == first_id

    # History shows one card per photo (both edits are versions of it), the newest version on it; its
    # detail page shows the tree, and the first version's page shows the table's metadata.
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    cards = page.locator(".history-link")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("href", f"/edits/{second_id}")
    expect(cards.first).to_contain_text("2 versions")
    expect(cards.first).to_contain_text("Done")
    page.screenshot(path=str(artifacts / "history.png"), full_page=True)

    cards.first.click()
    page.locator(f'[data-version="{first_id}"] .version-link').click()
    expect(page).to_have_url(f"{base}/edits/{first_id}")
    meta = page.locator("table.meta")
    expect(meta).to_contain_text(first_id)
    expect(meta).to_contain_text(edit.image_reference)
    expect(meta).to_contain_text(edit.mask_reference)
    expect(meta).to_contain_text(edit.outputs[0].key)
    expect(meta).to_contain_text("SUCCEEDED")
    expect(page.get_by_alt_text("The input image")).to_be_visible()
    page.screenshot(path=str(artifacts / "detail.png"), full_page=True)

    # Phone width: the same pages stack into one column.
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "detail-phone.png"), full_page=True)
    page.get_by_role("link", name="Continue editing").click()
    expect(page).to_have_url(f"{base}/?from={first_id}")
    expect(page.locator("#image-meta")).to_contain_text("continuing a result")
    page.set_input_files("#image-input", str(photo))
    expect(page.locator("#image-meta")).not_to_contain_text("continuing a result")
    paint(page, 0.3, 0.7, 0.5)
    page.screenshot(path=str(artifacts / "editor-phone.png"), full_page=True)
    page.get_by_label("Remove background").check()
    page.get_by_role("button", name="Run remove background").click()
    wait_for_result(page, not_edit=second_id)
    page.screenshot(path=str(artifacts / "result-phone.png"))
    page.get_by_role("link", name="History").click()
    expect(page.locator(".history-link")).to_have_count(2)  # a second photo
    page.screenshot(path=str(artifacts / "history-phone.png"), full_page=True)

    # Sign out ends the session: the next page asks to sign in again.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(f"{base}/history")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fhistory$"))
    assert page.script_errors == []


def test_problems_are_explained_and_a_double_click_runs_one_edit(
    local_stack, gateway, make_user, page, tmp_path
):
    from playwright.sync_api import expect

    username, sub = make_user("browser")
    photo = tmp_path / "photo.png"
    write_photo(photo)
    sign_in(page, gateway.url, username, PASSWORD)
    expect(page.locator("#model")).to_have_value("stability")
    error = page.locator("#error")

    page.get_by_role("button", name="Run inpaint").click()
    expect(error).to_contain_text("Choose an image first.")

    # Drag and drop: the stage takes a dropped file (a synthetic drop carrying a real PNG).
    page.evaluate(
        """async (b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
            const stage = document.querySelector("#stage");
            for (const type of ["dragenter", "dragover", "drop"]) {
                const init = { dataTransfer: data, bubbles: true, cancelable: true };
                stage.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        base64.b64encode(photo.read_bytes()).decode(),
    )
    expect(page.locator("#image-meta")).to_contain_text(f"dropped.png · {WIDTH} × {HEIGHT}")
    expect(page.locator("#mask-canvas")).to_be_visible()
    page.get_by_role("button", name="Run inpaint").click()
    expect(error).to_contain_text("Paint over the area you want to change first.")
    paint(page, 0.4, 0.6, 0.5)
    page.get_by_role("button", name="Run inpaint").click()
    expect(error).to_contain_text("Describe what should appear in the prompt.")
    expect(page.locator("#prompt")).to_be_focused()
    page.locator("#prompt").fill("sky")

    # A model failure ends as a sentence, and the button comes back.
    inject_fault(local_stack, error="ThrottlingException", count=5)
    try:
        page.get_by_role("button", name="Run inpaint").click()
        expect(error).to_contain_text("The image service is busy right now", timeout=30_000)
    finally:
        page.request.delete(f"{local_stack.bedrock_url}/_engine/faults")
    expect(page.locator("#run")).to_be_enabled()

    # Two quick clicks: the button is disabled by the first, so there is one edit, not two.
    page.locator("#run").dblclick()
    wait_for_result(page)
    expect(error).to_be_hidden()
    items, _ = edits_list(user=CognitoUser(sub=sub, username=username), limit=10)
    assert sorted(item.status for item in items) == [FAILED, SUCCEEDED]
    assert page.script_errors == []


def test_continue_from_the_second_of_two_results(local_stack, gateway, make_user, page, tmp_path):
    """Two images (two candidates of the default model); continuing the second sends parent_id and
    parent_output, uploads nothing. (This used Nova Canvas, retired since 2026-09-30.)"""
    from playwright.sync_api import expect

    username, sub = make_user("browser")
    photo = tmp_path / "photo.png"
    write_photo(photo)  # 1200 x 800
    sign_in(page, gateway.url, username, PASSWORD)
    expect(page.locator("#model")).to_have_value("stability")  # the editor is up, its models loaded
    page.set_input_files("#image-input", str(photo))
    expect(page.locator("#mask-canvas")).to_be_visible()
    paint(page, 0.4, 0.6, 0.5)
    page.locator("#prompt").fill("a calm sky")
    page.locator("#advanced summary").click()
    page.locator("#count").select_option("2")
    page.get_by_role("button", name="Run inpaint").click()
    first_id = wait_for_result(page)
    expect(page.get_by_role("button", name="Result 2")).to_be_visible()
    page.get_by_role("button", name="Result 2").click()
    page.get_by_role("button", name="Continue editing result 2").click()
    expect(page.locator("#image-meta")).to_contain_text("continuing a result")

    page.get_by_role("radio", name="Remove background").check()
    page.get_by_role("button", name="Run remove background").click()
    second_id = wait_for_result(page, not_edit=first_id)
    first, second = ImageEdit.get(first_id), ImageEdit.get(second_id)
    assert second.parent_id == first_id and second.user_id == sub
    assert storage.object_get(key=second.image_reference) == storage.object_get(key=first.outputs[1].key)
    assert page.script_errors == []
