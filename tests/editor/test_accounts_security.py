"""Issue 19's account findings: the failure limit's address and scopes, sessions that end, MFA changes."""

from __future__ import annotations

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from tests.conftest import PASSWORD
from tests.editor.auth_helpers import NEW_PASSWORD, bearer, client, cognito, token, unique
from tests.editor.helpers import photo_png, post_edit


def refresh(refresh_token: str):
    return client().post("/api/v1/auth/refresh", {"refresh_token": refresh_token}, format="json")


def with_email(username: str) -> None:
    cognito().admin_update_user_attributes(
        UserPoolId=settings.COGNITO_USER_POOL_ID,
        Username=username,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
    )


@pytest.fixture(scope="module")
def strict_gateway(local_stack):
    """The local gateway in front of Zappa's handler, with a per-(username, address) limit of 3."""
    from devstack.gateway_server import GatewayServer
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


@pytest.mark.usefixtures("check_every_request")
class TestPasswordEndsOtherSessions:
    def test_a_change_ends_every_other_session_and_this_one_goes_on(self, user, sign_in):
        other, this = sign_in(user["username"]), sign_in(user["username"])
        page = Client(REMOTE_ADDR="10.77.0.1")
        page.post("/signin", {"username": user["username"], "password": PASSWORD})
        assert page.get("/account").status_code == 200

        changed = bearer(this["access_token"]).post(
            "/api/v1/auth/password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
        )
        assert changed.status_code == 200, changed.content
        answer = changed.json()
        assert answer["changed"] is True and answer["signed_out"] == "everywhere"
        assert bearer(answer["access_token"]).get("/api/v1/me").status_code == 200
        assert refresh(answer["refresh_token"]).status_code == 200

        for old in (other, this):
            assert bearer(old["access_token"]).get("/api/v1/me").status_code == 401
            assert refresh(old["refresh_token"]).status_code == 401
        assert page.get("/account").status_code == 302  # the web cookie's session has ended too

    def test_a_change_on_the_page_keeps_the_page_signed_in(self, user, sign_in):
        elsewhere = sign_in(user["username"])
        page = Client(REMOTE_ADDR="10.77.0.2")
        page.post("/signin", {"username": user["username"], "password": PASSWORD})
        response = page.post("/account", {"old_password": PASSWORD, "new_password": NEW_PASSWORD})
        assert response.status_code == 200 and b"every other sign-in has ended" in response.content
        assert page.get("/account").status_code == 200
        assert bearer(elsewhere["access_token"]).get("/api/v1/me").status_code == 401

    def test_a_reset_ends_every_session(self, user, sign_in, outbox):
        with_email(user["username"])
        before = sign_in(user["username"])
        api = client()
        assert (
            api.post("/api/v1/auth/forgot", {"username": user["username"]}, format="json").status_code == 202
        )
        code = outbox.last_code(username=user["username"], kind="reset")
        body = {"username": user["username"], "code": code, "password": NEW_PASSWORD}
        assert api.post("/api/v1/auth/reset", body, format="json").status_code == 200
        assert bearer(before["access_token"]).get("/api/v1/me").status_code == 401
        assert refresh(before["refresh_token"]).status_code == 401
        assert token(api, user["username"], NEW_PASSWORD).status_code == 200


def test_an_ended_token_answers_401_not_503(user, sign_in):
    """Finding 11: the token's sign-in ended in another process, within the bound: Cognito refuses it."""
    from editor.services.auth.revocation import token_states

    token_states.clear()
    access = sign_in(user["username"])["access_token"]
    api = bearer(access)
    assert api.get("/api/v1/auth/mfa").status_code == 200  # the verdict is now cached as good
    cognito().global_sign_out(AccessToken=access)  # as another Lambda container would
    response = api.get("/api/v1/auth/mfa")
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == "signed_out"
    assert api.get("/api/v1/me").status_code == 401  # and refused from then on in this process


class TestUsageIsYourOwn:
    def test_a_person_sees_their_month_and_an_administrator_the_deployments(self, make_user, sign_in, api):
        assert post_edit(api, "remove_background", image=photo_png()).status_code == 201
        spent = api.get("/api/v1/usage").json()["estimated_spend_usd"]
        assert spent > 0

        bystander, _ = make_user("bystander")
        usage = bearer(sign_in(bystander)["access_token"]).get("/api/v1/usage").json()
        assert usage["month"]["estimated_spend_usd"] == 0
        assert "deployment" not in usage

        mine = api.get("/api/v1/usage").json()
        assert mine["month"]["estimated_spend_usd"] == pytest.approx(spent)
        assert "deployment" not in mine

        admin = unique("operator")
        call_command("create_user", admin, password=PASSWORD, group=["administrators"])
        usage = bearer(sign_in(admin)["access_token"]).get("/api/v1/usage").json()
        assert usage["month"]["estimated_spend_usd"] == 0
        assert usage["deployment"]["estimated_spend_usd"] >= spent

    def test_the_group_comes_from_the_token_not_the_request(self, make_user, sign_in):
        username, _ = make_user("claimant")
        api = bearer(sign_in(username)["access_token"])
        response = api.get("/api/v1/usage", HTTP_X_COGNITO_GROUPS="administrators")
        assert "deployment" not in response.json()


class TestThroughTheGateway:
    """The same findings as a REST client meets them: the local API Gateway in front of Zappa's handler."""

    def test_a_password_change_ends_the_other_sessions(self, gateway, user, sign_in):
        other, this = sign_in(user["username"]), sign_in(user["username"])

        def call(method: str, path: str, access: str | None = None, **kwargs) -> requests.Response:
            headers = {"Authorization": f"Bearer {access}"} if access else {}
            return requests.request(method, gateway.url + path, headers=headers, timeout=60, **kwargs)

        changed = call(
            "POST",
            "/api/v1/auth/password",
            this["access_token"],
            json={"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert changed.status_code == 200, changed.text
        assert call("GET", "/api/v1/me", changed.json()["access_token"]).status_code == 200
        assert call("GET", "/api/v1/me", other["access_token"]).status_code == 401
        refreshed = call("POST", "/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
        assert refreshed.status_code == 401

    def test_the_factor_cannot_be_removed_with_the_token_alone(self, gateway, user, sign_in):
        from tests.editor.auth_helpers import mfa_on

        tokens = sign_in(user["username"])
        mfa_on(bearer(tokens["access_token"]))
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        url = gateway.url + "/api/v1/auth/mfa"
        refused = requests.delete(url, headers=headers, timeout=60)
        assert refused.status_code == 400 and "password" in refused.json()["error"]["fields"]
        refused = requests.delete(url, headers=headers, json={"password": PASSWORD}, timeout=60)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "code_required"
        assert requests.get(url, headers=headers, timeout=60).json()["enabled"] is True
