"""The editor follows the server: task rules and URL lifetime come from the models answer (/web/v1)."""

from __future__ import annotations

import json

import pytest

from tests.browser.pages import sign_in, wait_for_result, write_photo
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_task_rules_and_url_lifetime_come_from_the_models_answer(
    local_stack, live_server, make_user, page, tmp_path
):
    from playwright.sync_api import expect

    def changed_models(route):
        """The real answer with other rules: if the editor had its own copy, it would not follow these."""
        data = route.fetch().json()
        tasks = {task["task"]: task for task in data["tasks"]}
        tasks["inpaint"]["help"] = "Served help: paint, then describe."
        tasks["erase"].update(mask=False, prompt="required", fields=["prompt"])
        data["url_lifetime_seconds"] = 0  # every result's URLs are stale at once
        route.fulfill(status=200, content_type="application/json", body=json.dumps(data))

    page.route("**/web/v1/models", changed_models)
    username, _ = make_user("browser")
    photo = tmp_path / "photo.png"
    write_photo(photo)
    sign_in(page, live_server.url, username, PASSWORD)
    expect(page.locator("#task-help")).to_have_text("Served help: paint, then describe.")

    page.set_input_files("#image-input", str(photo))
    expect(page.locator("#toolbar")).to_be_visible()  # inpaint paints a mask
    page.get_by_label("Erase", exact=True).check()
    expect(page.locator("#toolbar")).to_be_hidden()  # this erase does not
    expect(page.locator("#stage-hint")).to_have_text("This task uses the whole image: no painting needed.")
    expect(page.locator("#prompt")).to_be_visible()
    page.get_by_role("button", name="Run erase").click()
    expect(page.locator("#error")).to_contain_text("Describe what should appear in the prompt.")

    # A finished result's URLs are refreshed before it is continued: the lifetime is the server's (0 here).
    page.get_by_label("Remove background").check()
    page.get_by_role("button", name="Run remove background").click()
    edit_id = wait_for_result(page)
    with page.expect_request(lambda r: r.method == "GET" and r.url.endswith(f"/web/v1/edits/{edit_id}")):
        page.get_by_role("button", name="Continue editing this result").click()
    expect(page.locator("#image-meta")).to_contain_text("continuing a result")
    assert page.script_errors == []
