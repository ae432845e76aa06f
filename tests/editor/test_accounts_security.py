"""Issue 19's account findings: the failure limit's address and scopes, sessions that end, MFA changes."""

from __future__ import annotations

import pytest
import requests
from django.conf import settings

from tests.conftest import PASSWORD
from tests.editor.test_accounts_api import (
    NEW_PASSWORD,
    bearer,
    client,
    cognito,
    token,
    unique,
)


@pytest.fixture
def outbox(local_stack):
    return local_stack.outbox


def with_email(username: str) -> None:
    cognito().admin_update_user_attributes(
        UserPoolId=settings.COGNITO_USER_POOL_ID,
        Username=username,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
    )


@pytest.fixture(scope="module")
def strict_gateway(local_stack):
    """The local gateway in front of Zappa's handler, with a per-(username, address) limit of 3."""
    from devstack.gateway import GatewayServer
    from devstack.run import gateway_environment

    environment = {
        **gateway_environment(local_stack),
        "AUTH_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS": "3",
        "AUTH_FAILURE_LIMIT_PER_ADDRESS": "1000",
        # A window of its own: its counters never meet those of other tests from 127.0.0.1.
        "AUTH_FAILURE_WINDOW_SECONDS": "3607",
    }
    server = GatewayServer(environment=environment, workers=1).start()
    yield server
    server.stop()


class TestFailureLimitAddress:
    def test_a_forged_forwarded_for_header_does_not_reset_the_count(self, strict_gateway, make_user):
        username, _ = make_user("spoofed")

        def attempt(password: str, forged: str) -> requests.Response:
            return requests.post(
                strict_gateway.url + "/api/v1/auth/token",
                json={"username": username, "password": password},
                headers={"X-Forwarded-For": forged},
                timeout=60,
            )

        for n in range(3):
            assert attempt("Wrong-password-9", f"203.0.113.{n + 1}").status_code == 401
        refused = attempt(PASSWORD, "203.0.113.99")
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "too_many_failures"

    def test_the_address_is_the_events_source_ip_not_remote_addr(self, rf):
        from editor.views.accounts import client_address

        request = rf.get("/", REMOTE_ADDR="198.51.100.7")
        request.META["lambda.event"] = {"requestContext": {"identity": {"sourceIp": "192.0.2.44"}}}
        assert client_address(request) == "192.0.2.44"
        assert client_address(rf.get("/", REMOTE_ADDR="198.51.100.7")) == "198.51.100.7"


class TestNoLockOutFromElsewhere:
    def test_failures_from_one_address_do_not_block_the_owner_elsewhere(self, make_user, settings):
        settings.AUTH_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS = 3
        username, _ = make_user("target")
        attacker = client()
        for _ in range(3):
            assert token(attacker, username, "Wrong-password-9").status_code == 401
        assert token(attacker, username, PASSWORD).status_code == 429
        assert token(client(), username, PASSWORD).status_code == 200

    def test_failed_sign_ins_never_block_forgot_and_reset(self, make_user, outbox, settings):
        settings.AUTH_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS = 3
        settings.AUTH_FAILURE_LIMIT_PER_ADDRESS = 3
        username, _ = make_user("recovering")
        with_email(username)
        api = client()
        for _ in range(3):
            assert token(api, username, "Wrong-password-9").status_code == 401
        assert token(api, username, PASSWORD).status_code == 429
        assert api.post("/api/v1/auth/forgot", {"username": username}, format="json").status_code == 202
        code = outbox.last_code(username=username, kind="reset")
        reset = api.post(
            "/api/v1/auth/reset",
            {"username": username, "code": code, "password": NEW_PASSWORD},
            format="json",
        )
        assert reset.status_code == 200, reset.content

    def test_wrong_reset_codes_are_limited_per_address(self, settings):
        settings.AUTH_FAILURE_LIMIT_PER_ADDRESS = 2
        api = client()
        for _ in range(2):
            body = {"username": unique("ghost"), "code": "123456", "password": NEW_PASSWORD}
            assert api.post("/api/v1/auth/reset", body, format="json").status_code == 400
        body = {"username": unique("ghost"), "code": "123456", "password": NEW_PASSWORD}
        assert api.post("/api/v1/auth/reset", body, format="json").status_code == 429
