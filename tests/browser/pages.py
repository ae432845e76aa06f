"""What a person does on the pages again and again, for the browser tests."""

from __future__ import annotations


def sign_in(page, base: str, username: str, password: str) -> None:
    """Sign in through the sign-in page, as a person types it."""
    page.goto(f"{base}/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
