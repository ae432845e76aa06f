"""The editor's tool groups in a browser: a tool from each group shows only its own fields, the second
image picker where the tool needs one, and the estimated cost before running."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from tests.browser.pages import sign_in, wait_for_result
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIELDS = (
    "select_prompt",
    "search_prompt",
    "prompt",
    "negative_prompt",
    "margins",
    "aspect_ratio",
    "creativity",
    "control_strength",
    "fidelity",
    "style_strength",
    "composition_fidelity",
    "change_strength",
)


def shown_fields(page) -> set[str]:
    return {name for name in FIELDS if page.locator(f'[data-field="{name}"]').is_visible()}


def test_a_tool_from_each_group(local_stack, live_server, make_user, page, tmp_path, artifacts):
    from playwright.sync_api import expect

    photo, style = tmp_path / "photo.png", tmp_path / "style.png"
    Image.linear_gradient("L").resize((320, 240)).convert("RGB").save(photo)
    stripes = Image.new("RGB", (160, 160), (220, 120, 30))
    for row in range(0, 160, 8):
        stripes.paste((170, 30, 20), (0, row, 160, row + 4))
    stripes.save(style)
    username, _ = make_user("tools")
    sign_in(page, live_server.url, username, PASSWORD)
    groups = page.locator(".task-group-title")
    expect(groups).to_have_text(["Edit", "Extend", "Cut out", "Enhance", "Create"])
    expect(page.locator("#model")).to_have_value("stability")  # the editor has read the task rules
    page.set_input_files("#image-input", str(photo))
    expect(page.locator("#image-meta")).to_contain_text("photo.png · 320 × 240")
    cost = page.locator("#cost-estimate")

    # Edit: recolor names what to recolour (no painting), and the local engine says why it cannot.
    recolor = page.get_by_label("Recolor", exact=True)
    expect(recolor).to_be_disabled()
    page.locator("#task-note-link").click()
    expect(page.locator("#unavailable-list")).to_contain_text("select_prompt")
    page.get_by_label("Erase", exact=True).check()
    expect(page.locator("#toolbar")).to_be_visible()  # erase paints a mask
    assert shown_fields(page) == set()
    expect(cost).to_have_text(re.compile(r"^Estimated cost: \$0\.07 \(1 × \$0\.07 per image\)\.$"))

    # Extend: the margins and a prompt.
    page.get_by_label("Outpaint").check()
    assert shown_fields(page) == {"margins", "prompt"}
    expect(page.locator("[data-second-image]")).to_be_hidden()

    # Cut out: nothing to fill in.
    page.get_by_label("Remove background").check()
    assert shown_fields(page) == set()

    # Enhance: the fast upscale runs here, priced before it runs; it gives one image (no seed).
    expect(page.get_by_label("Creative upscale")).to_be_disabled()  # it re-imagines: Bedrock only
    page.get_by_label("Fast upscale").check()
    assert shown_fields(page) == set()
    page.locator("#advanced summary").click()
    expect(page.locator("#count")).to_be_disabled()
    expect(cost).to_have_text(re.compile(r"^Estimated cost: \$0\.03 \(1 × \$0\.03 per image\)\.$"))
    page.get_by_role("button", name="Run fast upscale").click()
    first_id = wait_for_result(page)

    # Create: style transfer wants a second image, and shows its three strengths.
    page.get_by_label("Style transfer").check()
    assert shown_fields(page) == {
        "prompt",
        "negative_prompt",
        "style_strength",
        "composition_fidelity",
        "change_strength",
    }
    expect(page.locator("[data-second-image]")).to_be_visible()
    page.get_by_role("button", name="Run style transfer").click()
    expect(page.locator("#error")).to_contain_text("Choose the style image.")
    page.set_input_files("#style-image-input", str(style))
    page.locator("#style_strength").fill("1.5")
    page.get_by_role("button", name="Run style transfer").click()
    expect(page.locator("#error")).to_contain_text("between 0 and 1")
    page.locator("#style_strength").fill("0.8")
    page.locator("#count").select_option("2")
    expect(cost).to_contain_text("$0.16 (2 × $0.08 per image)")
    page.get_by_role("button", name="Run style transfer").click()
    wait_for_result(page, not_edit=first_id)
    thumbs = page.locator("#result-outputs .output-thumb")
    expect(thumbs).to_have_count(2)  # two candidates side by side (two calls); the person picks one
    thumbs.nth(1).click()
    expect(page.locator("#continue")).to_have_text("Continue editing result 2")
    expect(page.locator("#engine-note")).to_contain_text("Reinhard")
    # What today cost so far, against the budget: a fast upscale and two style transfer candidates.
    expect(page.locator("#usage-today")).to_contain_text(
        "Today: 2 of 200 edits, $0.19 of your $20.00 daily budget."
    )
    page.screenshot(path=str(artifacts / "editor-tools.png"), full_page=True)
    assert page.script_errors == []
