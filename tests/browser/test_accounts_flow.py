"""Every account flow in a browser, with the codes read from the local outbox as a person would."""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command

from devstack.stack import _client
from tests.browser.pages import sign_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEW_PASSWORD = "Chosen-password-7"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def assert_signed_in(page, base: str, username: str) -> None:
    from playwright.sync_api import expect

    expect(page).to_have_url(f"{base}/")
    expect(page.locator(".account-name")).to_contain_text(username)


def test_sign_up_confirm_from_the_outbox_signed_in(local_stack, live_server, page, artifacts):
    from playwright.sync_api import expect

    base, username = live_server.url, unique("joiner")
    page.goto(f"{base}/signin")
    page.get_by_role("link", name="Create an account").click()
    # The rules are on the page before the person types a password.
    expect(page.locator("#password-rules")).to_contain_text("At least 8 characters")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password").fill("weakpassword")
    page.get_by_role("button", name="Create account").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("It needs an uppercase letter (A-Z).")
    expect(alert).to_contain_text("It needs a number (0-9).")
    page.screenshot(path=str(artifacts / "signup-password-rules.png"))
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Confirm your account")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value(username)
    page.get_by_label("Code").fill("000000")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is wrong or has expired")
    page.get_by_role("button", name="Send a new code").click()
    expect(page.get_by_role("status")).to_contain_text("a new one is on its way")
    page.get_by_label("Code").fill(local_stack.outbox.last_code(username=username, kind="signup"))
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Confirm and sign in").click()
    assert_signed_in(page, base, username)
    assert page.script_errors == []


def test_forgot_reset_signed_in_with_the_new_password(local_stack, live_server, make_user, page):
    from playwright.sync_api import expect

    base = live_server.url
    username, _ = make_user("forgetful")
    _client("cognito-idp", settings.AWS_ENDPOINT_URL).admin_update_user_attributes(
        UserPoolId=settings.COGNITO_USER_POOL_ID,
        Username=username,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
    )
    sign_in(page, base, username, "Not-my-password-1")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Username").fill(username)
    page.get_by_role("button", name="Send a code").click()
    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    page.get_by_label("Code").fill(local_stack.outbox.last_code(username=username, kind="reset"))
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    assert_signed_in(page, base, username)

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base, username, PASSWORD)
    expect(page.get_by_role("alert")).to_have_text("Incorrect username or password.")
    sign_in(page, base, username, NEW_PASSWORD)
    assert_signed_in(page, base, username)


def test_invited_person_chooses_a_password_and_is_signed_in(local_stack, live_server, page, artifacts):
    from playwright.sync_api import expect

    base, username = live_server.url, unique("invited")
    call_command("create_user", username, temporary=True, email=f"{username}@example.com")
    sign_in(page, base, username, local_stack.outbox.last_code(username=username, kind="invitation"))
    expect(page).to_have_url(f"{base}/signin/new-password")
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.screenshot(path=str(artifacts / "choose-password.png"))
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    assert_signed_in(page, base, username)


def test_change_password_on_the_account_page(live_server, make_user, page):
    from playwright.sync_api import expect

    base = live_server.url
    username, _ = make_user("changer")
    sign_in(page, base, username, PASSWORD)
    page.locator(".account-name").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    page.get_by_label("Current password").fill("Wrong-password-1")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("Your current password is not right.")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_have_text(
        "Your password is changed, and every other sign-in has ended."
    )
    page.goto(f"{base}/account")  # this page's session goes on with the new sign-in
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    page.get_by_role("button", name="Sign out", exact=True).click()
    sign_in(page, base, username, NEW_PASSWORD)
    assert_signed_in(page, base, username)


@pytest.mark.usefixtures("check_every_request")
def test_sign_out_everywhere_ends_the_other_browser_too(live_server, make_user, browser, page):
    from playwright.sync_api import expect

    base = live_server.url
    username, _ = make_user("everywhere")
    other = browser.new_context().new_page()
    for tab in (page, other):
        sign_in(tab, base, username, PASSWORD)
        assert_signed_in(tab, base, username)
    page.goto(f"{base}/account")
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out on every device.")
    other.goto(f"{base}/history")
    expect(other).to_have_url(f"{base}/signin?next=%2Fhistory")
    other.context.close()


@pytest.mark.usefixtures("check_every_request")
def test_disabled_person_is_signed_out_of_the_pages(live_server, make_user, page):
    from playwright.sync_api import expect

    base = live_server.url
    username, _ = make_user("disabled")
    sign_in(page, base, username, PASSWORD)
    assert_signed_in(page, base, username)
    _client("cognito-idp", settings.AWS_ENDPOINT_URL).admin_disable_user(
        UserPoolId=settings.COGNITO_USER_POOL_ID, Username=username
    )
    page.goto(f"{base}/history")
    expect(page).to_have_url(f"{base}/signin?next=%2Fhistory")


def qr_read(element) -> str:
    """The text of a QR code on the page, read from its pixels as a camera app would.

    Read again for a few seconds if need be: OpenCV's detector missed a code on a busy machine once, on a
    screenshot taken as the page was still painting.
    """
    import cv2
    import numpy as np

    deadline = time.monotonic() + 5
    while True:
        pixels = cv2.imdecode(np.frombuffer(element.screenshot(), np.uint8), cv2.IMREAD_GRAYSCALE)
        # A white quiet zone around the code, as printed codes have, helps the detector find it.
        pixels = cv2.copyMakeBorder(pixels, 24, 24, 24, 24, cv2.BORDER_CONSTANT, value=255)
        decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(pixels)
        if decoded or time.monotonic() > deadline:
            return decoded
        time.sleep(0.2)


def test_two_step_sign_in_set_up_with_the_qr_page_then_asked_at_sign_in(
    live_server, make_user, page, artifacts
):
    from playwright.sync_api import expect

    from tests.editor.auth_helpers import totp_now

    base = live_server.url
    username, _ = make_user("twostep")
    sign_in(page, base, username, PASSWORD)
    page.goto(f"{base}/account")
    page.get_by_label("Password (to confirm it is you)").fill(PASSWORD)
    page.get_by_role("button", name="Set up two-step sign-in").click()
    qr = page.get_by_role("img", name="QR code")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 0  # the server-drawn SVG rendered under the page's CSP
    page.screenshot(path=str(artifacts / "mfa-setup.png"))
    secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
    # The QR code an authenticator app scans holds this same secret.
    decoded = qr_read(qr)
    assert decoded.startswith(f"otpauth://totp/imageedit:{username}?") and f"secret={secret}" in decoded
    page.get_by_label("Code from the app").fill(totp_now(secret, offset=-600))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right.")
    page.get_by_label("Code from the app").fill(totp_now(secret))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("status")).to_have_text("Two-step sign-in is on.")

    page.get_by_role("button", name="Sign out", exact=True).click()
    sign_in(page, base, username, PASSWORD)
    expect(page).to_have_url(f"{base}/signin/code")
    page.get_by_label("Code").fill(totp_now(secret))
    page.get_by_role("button", name="Sign in").click()
    assert_signed_in(page, base, username)
    assert page.script_errors == []
