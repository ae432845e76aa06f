"""Browser tests: Playwright drives Debian's chromium against the app behind the local API Gateway."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API keeps an event loop running in the test thread; Django's async-unsafe guard
# would then refuse synchronous calls made from that thread. Nothing here shares a connection.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# Serve the app on the same loopback address as the local stack (presigned image URLs use 127.0.0.1).
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SKIP_REASON = "Debian's chromium is not installed: apt-get install chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def browser_required() -> bool:
    return os.environ.get("IMAGEEDIT_REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(items):
    """Every browser test is slow (`make test-fast` leaves it out), whether its module says so or not."""
    for item in items:
        if item.get_closest_marker("browser") is not None and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)


def pytest_runtest_setup(item):
    if item.get_closest_marker("browser") is None or CHROMIUM:
        return
    if browser_required():
        pytest.fail(f"{SKIP_REASON} (IMAGEEDIT_REQUIRE_BROWSER=1: browser tests must run)", pytrace=False)
    pytest.skip(SKIP_REASON)


def pytest_terminal_summary(terminalreporter):
    skipped = [
        report for report in terminalreporter.stats.get("skipped", []) if SKIP_REASON in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"NOTICE: {len(skipped)} browser test(s) skipped: {SKIP_REASON} "
            "(CI sets IMAGEEDIT_REQUIRE_BROWSER=1 to make this a failure).",
            yellow=True,
            bold=True,
        )


@pytest.fixture(scope="module")
def browser():
    """One chromium per test module (closed before the non-browser tests run on this thread)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) at desktop size; collects script errors for the test to check."""
    # Reduced motion makes scrollIntoView instant, so screenshots never catch a scroll half-way.
    context = browser.new_context(viewport={"width": 1366, "height": 900}, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.script_errors.append(message.text))
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/ at the repository root (gitignored): screenshots to look at after a run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def transactional_db():
    """pytest-django's live_server asks for this; there is no relational database to set up or flush."""
