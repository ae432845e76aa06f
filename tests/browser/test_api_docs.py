"""The API docs page renders under the app's strict Content-Security-Policy, with no violations."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.usefixtures("local_stack")
def test_docs_page_renders_the_api_under_the_strict_policy(page, live_server):
    violations = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and violations.append(message.text),
    )
    response = page.goto(f"{live_server.url}/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(".swagger-ui .info .title").wait_for()
    assert "imageedit API" in page.locator(".swagger-ui .info .title").inner_text()
    page.get_by_text("/api/v1/edits", exact=True).first.wait_for()
    assert violations == [] and page.script_errors == []
