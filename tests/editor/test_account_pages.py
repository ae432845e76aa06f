"""Account pages with Django's test client: sign-out revokes, limits answer 429, closed sign-up is absent."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.test import Client

from devstack.stack import _client
from tests.conftest import PASSWORD
from tests.editor.auth_helpers import sign_up_closed
from tests.editor.helpers import page_sign_in

pytestmark = pytest.mark.usefixtures("local_stack")


def cognito():
    return _client("cognito-idp", settings.AWS_ENDPOINT_URL)


def test_sign_out_revokes_the_sessions_tokens(user):
    client = page_sign_in(user["username"])
    tokens = client.session["cognito"]
    client.post("/signout")
    with pytest.raises(ClientError) as refused:
        cognito().get_user(AccessToken=tokens["access_token"])
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    with pytest.raises(ClientError):
        cognito().initiate_auth(
            ClientId=settings.COGNITO_APP_CLIENT_ID,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["refresh_token"]},
        )
    assert client.get("/history").status_code == 302


def test_signin_page_past_the_limit_says_so_with_429(user, settings):
    settings.AUTH_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS = 2
    client = Client(REMOTE_ADDR="10.99.1.1")
    for _ in range(2):
        response = client.post("/signin", {"username": user["username"], "password": "Wrong-password-1"})
        assert response.status_code == 200 and b"Incorrect username or password." in response.content
    response = client.post("/signin", {"username": user["username"], "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert b"Too many failed attempts" in response.content


def test_signin_page_links_to_forgot_and_sign_up():
    content = Client().get("/signin").content
    assert b'href="/password/forgot"' in content and b'href="/signup"' in content


def test_sign_up_page_is_absent_when_the_pool_is_closed():
    with sign_up_closed():
        assert Client().get("/signup").status_code == 404
        assert b'href="/signup"' not in Client().get("/signin").content


def test_choose_password_page_needs_a_pending_sign_in():
    response = Client().get("/signin/new-password")
    assert response.status_code == 302 and response["Location"] == "/signin"


def test_account_page_needs_a_session():
    response = Client().get("/account")
    assert response.status_code == 302 and response["Location"].startswith("/signin?next=")


def test_a_cognito_outage_does_not_end_the_web_session(user, settings):
    import time

    from editor.services.aws import aws_clients_reset

    client = page_sign_in(user["username"])
    session = client.session
    session["cognito"] = {**session["cognito"], "expires_at": time.time() + 60}  # a refresh is due
    session.save()
    reachable = settings.AWS_ENDPOINT_URL
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # Cognito cannot be reached
    aws_clients_reset()
    try:
        assert client.get("/history").status_code == 200
    finally:
        settings.AWS_ENDPOINT_URL = reachable
        aws_clients_reset()
    assert client.get("/history").status_code == 200
    assert client.session["cognito"]["expires_at"] > time.time() + 600  # refreshed once Cognito is back
