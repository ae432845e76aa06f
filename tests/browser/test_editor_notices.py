"""What the editor tells a person before they start: the drop zone's limits come from the upload
settings, and the tools the local engine cannot run are one short line with a link to the list."""

from __future__ import annotations

import re

import pytest

from editor.services.bedrock.catalog import LOCAL_ENGINE_CANNOT
from tests.browser.pages import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_drop_zone_limits_and_the_one_line_notice(local_stack, live_server, make_user, page):
    from playwright.sync_api import expect

    username, _ = make_user("notices")
    sign_in(page, live_server.url, username, PASSWORD)
    expect(page.locator("#model")).to_have_value("stability")  # the models answer has been read

    limits = page.locator("#dropzone-limits")
    # The upload settings' defaults (MAX_PHOTO_BYTES, MAX_PHOTO_PIXELS), not the 4 MB of a request body.
    expect(limits).to_have_text(
        "JPEG, PNG, WebP or HEIC, up to 50 MB and 100 megapixels. You can also paste one."
    )

    off = len(LOCAL_ENGINE_CANNOT)
    note = page.locator("#task-note-text")
    expect(note).to_have_text(
        f"{off} tools are off here. They need Amazon Bedrock; the local engine cannot run them."
    )
    assert note.bounding_box()["height"] < 60  # a line or two, not a paragraph per tool
    items = page.locator("#unavailable-list li")
    expect(page.locator("#unavailable-tools")).not_to_have_attribute("open", re.compile(".*"))
    page.get_by_role("link", name="Which and why").click()
    expect(items).to_have_count(off)
    expect(items.first).to_be_visible()
    expect(page.locator("#unavailable-list")).to_contain_text(
        "Recolor: The local engine cannot find an object"
    )
