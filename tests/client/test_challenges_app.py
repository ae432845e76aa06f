"""The CLI answers both sign-in challenges, against the app itself (Django's live server on the local
stack): the gateway route for it is guarded today (see test_login.py, which runs them through it)."""

from __future__ import annotations

import uuid

import pytest
import requests
from django.conf import settings

from tests.client.conftest import Cli
from tests.client.helpers import totp_now
from tests.conftest import PASSWORD


@pytest.fixture
def transactional_db():
    """pytest-django's live_server asks for this; there is no relational database to set up or flush."""


@pytest.fixture
def app_cli(local_stack, live_server, tmp_path):
    return Cli(live_server.url, tmp_path)


def test_a_temporary_password_is_changed_at_first_sign_in(local_stack, app_cli):
    from devstack.stack import _client

    username = f"invited-{uuid.uuid4().hex[:8]}"
    _client("cognito-idp", settings.AWS_ENDPOINT_URL).admin_create_user(
        UserPoolId=settings.COGNITO_USER_POOL_ID,
        Username=username,
        TemporaryPassword="Temporary-password-1",
        MessageAction="SUPPRESS",
    )
    done = app_cli.run(
        "login", "--username", username, "--password-stdin", stdin=f"Temporary-password-1\n{PASSWORD}\n"
    )
    assert done.returncode == 0, done.stderr
    assert "temporary password" in done.stderr
    signed_in = requests.post(
        f"{app_cli.base}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=30
    )
    assert "access_token" in signed_in.json()
    assert app_cli.run("whoami").stdout.startswith(username)


def test_two_step_sign_in_takes_the_authenticator_code(local_stack, make_user, sign_in, app_cli):
    username, _ = make_user("totp")
    bearer = {"Authorization": f"Bearer {sign_in(username)['access_token']}"}
    secret = requests.post(
        f"{app_cli.base}/api/v1/auth/mfa/setup", json={"password": PASSWORD}, headers=bearer, timeout=30
    ).json()["secret"]
    enabled = requests.post(
        f"{app_cli.base}/api/v1/auth/mfa", json={"code": totp_now(secret)}, headers=bearer, timeout=30
    )
    assert enabled.status_code == 200, enabled.text

    wrong = app_cli.run(
        "login", "--username", username, "--password-stdin", "--code", "000000", stdin=PASSWORD + "\n"
    )
    assert wrong.returncode == 4 and "error:" in wrong.stderr
    done = app_cli.run(
        "login", "--username", username, "--password-stdin", "--code", totp_now(secret), stdin=PASSWORD + "\n"
    )
    assert done.returncode == 0, done.stderr
    assert app_cli.run("whoami").stdout.startswith(username)
