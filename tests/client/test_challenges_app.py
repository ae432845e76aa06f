"""The CLI's sign-in challenges against the app itself (Django's live server on the in-process local stack,
whose user pool a test can switch to MFA ON); test_login.py runs the others through the gateway."""

from __future__ import annotations

import subprocess

import pytest
import requests

from tests.client.conftest import Cli
from tests.client.helpers import totp_now
from tests.conftest import PASSWORD
from tests.editor.auth_helpers import pool_mfa_on


@pytest.fixture
def transactional_db():
    """pytest-django's live_server asks for this; there is no relational database to set up or flush."""


@pytest.fixture
def app_cli(local_stack, live_server, tmp_path):
    return Cli(live_server.url, tmp_path)


def test_a_required_second_factor_is_set_up_at_first_sign_in(local_stack, make_user, app_cli):
    username, _ = make_user("mfasetup")
    with pool_mfa_on():
        login = app_cli.popen("login", "--username", username, "--password-stdin", stdin=subprocess.PIPE)
        try:
            login.stdin.write(PASSWORD + "\n")
            login.stdin.flush()
            shown: dict[str, str] = {}
            while "link" not in shown:  # the key and the link for the authenticator app, on stderr
                line = login.stderr.readline()
                assert line, f"login ended before showing a key: {shown}"
                label, _, value = line.strip().partition(": ")
                if label in ("key", "link"):
                    shown[label] = value.strip()
            assert shown["link"].startswith("otpauth://totp/") and shown["key"] in shown["link"]
            secret = shown["key"]
            login.stdin.write(totp_now(secret) + "\n")
            login.stdin.close()
            assert login.wait(timeout=120) == 0, login.stderr.read()
        finally:
            login.kill()
    assert app_cli.run("whoami").stdout.startswith(username)
    # The factor is on: the next sign-in asks for a code, not for a setup.
    step = requests.post(
        f"{app_cli.base}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=30
    ).json()
    assert step.get("challenge") == "SOFTWARE_TOKEN_MFA", step
