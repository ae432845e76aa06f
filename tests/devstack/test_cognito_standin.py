"""The local Cognito is faithful where the account flows depend on it: codes sent, checked and expiring."""

from __future__ import annotations

import json
import stat
import uuid

import pytest
from django.conf import settings

from devstack.outbox import Outbox
from devstack.stack import _client
from tests.devstack.helpers import error_code, moto_user

PASSWORD = "Standin-pass-1"


@pytest.fixture
def cognito(local_stack):
    return _client("cognito-idp", local_stack.moto_url)


def sign_up(cognito) -> str:
    username = f"standin-{uuid.uuid4().hex[:8]}"
    cognito.sign_up(
        ClientId=settings.COGNITO_APP_CLIENT_ID,
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
    )
    return username


def test_sign_up_code_is_mailed_and_checked(cognito, local_stack):
    username = sign_up(cognito)
    code = local_stack.outbox.last_code(username=username, kind="signup")
    wrong = "000000" if code != "000000" else "111111"
    confirm = cognito.confirm_sign_up
    client_id = settings.COGNITO_APP_CLIENT_ID
    assert error_code(confirm, ClientId=client_id, Username=username, ConfirmationCode=wrong) == (
        "CodeMismatchException"
    )
    confirm(ClientId=client_id, Username=username, ConfirmationCode=code)
    assert moto_user(username).status == "CONFIRMED"


def test_a_code_dies_after_five_wrong_tries(cognito, local_stack):
    username = sign_up(cognito)
    code = local_stack.outbox.last_code(username=username, kind="signup")
    wrong = "000000" if code != "000000" else "111111"
    client_id = settings.COGNITO_APP_CLIENT_ID
    for _ in range(5):
        error_code(cognito.confirm_sign_up, ClientId=client_id, Username=username, ConfirmationCode=wrong)
    assert (
        error_code(cognito.confirm_sign_up, ClientId=client_id, Username=username, ConfirmationCode=code)
        == "ExpiredCodeException"
    )


def test_an_expired_reset_code_is_refused(cognito, local_stack):
    username = sign_up(cognito)
    client_id = settings.COGNITO_APP_CLIENT_ID
    cognito.forgot_password(ClientId=client_id, Username=username)
    code = local_stack.outbox.last_code(username=username, kind="reset")
    moto_user(username).standin_codes["reset"]["expires"] = 0  # an hour later
    assert (
        error_code(
            cognito.confirm_forgot_password,
            ClientId=client_id,
            Username=username,
            ConfirmationCode=code,
            Password="Another-pass-2",
        )
        == "ExpiredCodeException"
    )


def test_revoke_token_ends_that_sign_in_only(cognito, make_user):
    username, _ = make_user("revoker")
    client_id = settings.COGNITO_APP_CLIENT_ID

    def sign_in():
        return cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": "Test-password-1"},
        )["AuthenticationResult"]

    this, other = sign_in(), sign_in()
    cognito.revoke_token(Token=this["RefreshToken"], ClientId=client_id)
    assert error_code(cognito.get_user, AccessToken=this["AccessToken"]) == "NotAuthorizedException"
    cognito.get_user(AccessToken=other["AccessToken"])  # the other device is still signed in


def test_outbox_prints_the_line_and_keeps_a_private_file(tmp_path, capsys):
    outbox = Outbox(tmp_path / "outbox")
    path = outbox.deliver(email="ann@example.com", username="ann", kind="signup", code="123456")
    assert capsys.readouterr().out == "local mail to ann@example.com (user ann): code 123456\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text())["code"] == "123456"
    assert outbox.last_code(username="ANN", kind="signup") == "123456"
