"""The version tree in a browser: open a photo's tree and continue editing from a middle version."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from editor.models import SUCCEEDED, ImageEdit
from tests.browser.pages import paint, wait_for_result
from tests.conftest import PASSWORD
from tests.editor.helpers import mask_png, photo_png, post_edit

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_open_a_tree_and_continue_from_a_middle_version(
    local_stack, gateway, make_user, sign_in, page, artifacts
):
    from playwright.sync_api import expect

    username, sub = make_user("tree")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(username)['access_token']}")

    def edit(**fields) -> str:
        response = post_edit(api, "erase", **fields)
        assert response.status_code == 201 and response.json()["status"] == SUCCEEDED, response.content
        return response.json()["id"]

    a = edit(image=photo_png(), mask=mask_png())
    b = edit(parent_id=a, mask=mask_png(box=(10, 10, 30, 30)))
    c = edit(parent_id=b, mask=mask_png(box=(80, 50, 100, 70)))
    d = edit(parent_id=a, mask=mask_png(box=(90, 10, 110, 30)))

    base = gateway.url
    page.goto(f"{base}/signin?next=/history")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    cards = page.locator(".history-link")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("4 versions")
    cards.first.click()
    expect(page).to_have_url(f"{base}/edits/{d}")

    # The tree: a, then b and c under it on one branch, d on the other; d is the current one.
    nodes = page.locator(".version-node")
    expect(nodes).to_have_count(4)
    assert [nodes.nth(i).get_attribute("data-version") for i in range(4)] == [a, b, c, d]
    expect(page.locator('.version-node[aria-current="true"]')).to_have_attribute("data-version", d)
    expect(page.locator("#version-compare")).to_be_visible()
    page.screenshot(path=str(artifacts / "version-tree.png"), full_page=True)

    # Open the middle version, then continue from it.
    page.locator(f'[data-version="{b}"] .version-link').click()
    expect(page).to_have_url(f"{base}/edits/{b}")
    expect(page.locator('.version-node[aria-current="true"]')).to_have_attribute("data-version", b)
    expect(page.locator("[data-later-versions]")).to_contain_text("1 later version")
    page.locator(f'[data-continue="{b}"]').click()
    expect(page).to_have_url(f"{base}/?from={b}")
    expect(page.locator("#image-meta")).to_contain_text("continuing a result")
    page.get_by_label("Erase", exact=True).check()
    paint(page, 0.6, 0.8, 0.7)
    page.get_by_role("button", name="Run erase").click()
    e = wait_for_result(page)
    made = ImageEdit.get(e, consistent_read=True)
    assert (made.parent_id, made.root_id) == (b, a)

    page.goto(f"{base}/edits/{e}")
    expect(page.locator(".version-node")).to_have_count(5)
    expect(page.locator(f'.version-node.depth-2[data-version="{e}"]')).to_have_attribute(
        "aria-current", "true"
    )
    expect(page.locator(f'.version-node.depth-2[data-version="{c}"]')).to_be_visible()
    assert page.script_errors == []
