"""Issue 19: changing the second factor needs proof (finding 4), and MFA ON's setup at first sign-in."""

from __future__ import annotations

import html
import re

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.test import Client

from tests.conftest import PASSWORD
from tests.editor.auth_helpers import bearer, client, cognito, mfa_on, pool_mfa_on, token, totp_now, unique

pytestmark = pytest.mark.usefixtures("local_stack")


class TestChangingTheFactorNeedsProof:
    def test_setup_needs_the_password(self, user, sign_in):
        api = bearer(sign_in(user["username"])["access_token"])
        assert api.post("/api/v1/auth/mfa/setup").status_code == 400
        wrong = api.post("/api/v1/auth/mfa/setup", {"password": "Wrong-password-9"}, format="json")
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "wrong_current_password"
        assert api.post("/api/v1/auth/mfa/setup", {"password": PASSWORD}, format="json").status_code == 200

    def test_turning_it_off_needs_the_password_and_the_current_code(self, user, sign_in):
        api = bearer(sign_in(user["username"])["access_token"])
        secret = mfa_on(api)
        assert api.delete("/api/v1/auth/mfa").status_code == 400  # the access token alone
        only_password = api.delete("/api/v1/auth/mfa", {"password": PASSWORD}, format="json")
        assert only_password.status_code == 400 and only_password.json()["error"]["code"] == "code_required"
        stale = {"password": PASSWORD, "code": totp_now(secret, offset=-600)}
        assert api.delete("/api/v1/auth/mfa", stale, format="json").json()["error"]["code"] == "invalid_code"
        assert api.get("/api/v1/auth/mfa").json()["enabled"] is True
        proof = {"password": PASSWORD, "code": totp_now(secret)}
        assert api.delete("/api/v1/auth/mfa", proof, format="json").status_code == 200
        assert api.get("/api/v1/auth/mfa").json()["enabled"] is False

    def test_a_new_secret_while_one_is_on_needs_the_current_code(self, user, sign_in):
        api = bearer(sign_in(user["username"])["access_token"])
        secret = mfa_on(api)
        refused = api.post("/api/v1/auth/mfa/setup", {"password": PASSWORD}, format="json")
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "code_required"
        proof = {"password": PASSWORD, "code": totp_now(secret)}
        assert api.post("/api/v1/auth/mfa/setup", proof, format="json").status_code == 200

    def test_the_proof_leaves_no_session_behind(self, user, sign_in):
        from moto.cognitoidp.models import cognitoidp_backends

        api = bearer(sign_in(user["username"])["access_token"])
        pool = cognitoidp_backends["123456789012"][settings.AWS_REGION].user_pools[
            settings.COGNITO_USER_POOL_ID
        ]

        def live_refresh_tokens() -> int:
            return sum(1 for entry in pool.refresh_tokens.values() if entry and entry[1] == user["username"])

        before = live_refresh_tokens()
        assert api.post("/api/v1/auth/mfa/setup", {"password": PASSWORD}, format="json").status_code == 200
        assert live_refresh_tokens() == before

    def test_the_page_will_not_turn_it_off_without_the_code(self, user, sign_in):
        secret = mfa_on(bearer(sign_in(user["username"])["access_token"]))
        page = Client(REMOTE_ADDR="10.78.0.1")
        page.post("/signin", {"username": user["username"], "password": PASSWORD})
        page.post("/signin/code", {"code": totp_now(secret)})
        response = page.post("/account/mfa", {"action": "disable", "password": PASSWORD})
        assert response.status_code == 200 and b"Enter your password and code." in response.content
        api = bearer(sign_in_with_code(user["username"], secret)["access_token"])
        assert api.get("/api/v1/auth/mfa").json()["enabled"] is True
        page.post("/account/mfa", {"action": "disable", "password": PASSWORD, "code": totp_now(secret)})
        assert api.get("/api/v1/auth/mfa").json()["enabled"] is False


def sign_in_with_code(username: str, secret: str) -> dict:
    step = token(client(), username, PASSWORD).json()
    answer = {"challenge": "SOFTWARE_TOKEN_MFA", "username": username, "session": step["session"]}
    done = client().post("/api/v1/auth/challenge", {**answer, "code": totp_now(secret)}, format="json")
    assert done.status_code == 200, done.content
    return done.json()


class TestMfaOn:
    def test_first_sign_in_sets_up_the_factor_through_the_api(self, make_user):
        username, _ = make_user("required")
        with pool_mfa_on():
            step = token(client(), username, PASSWORD).json()
            assert step["challenge"] == "MFA_SETUP" and "access_token" not in step
            answer = {"challenge": "MFA_SETUP", "username": username}
            setup = client().post(
                "/api/v1/auth/challenge", {**answer, "session": step["session"]}, format="json"
            )
            assert setup.status_code == 200, setup.content
            secret, session = setup.json()["secret"], setup.json()["session"]
            assert setup.json()["otpauth_uri"].startswith("otpauth://totp/")

            answer["session"] = session
            wrong = client().post(
                "/api/v1/auth/challenge", {**answer, "code": totp_now(secret, offset=-600)}, format="json"
            )
            assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_code"
            done = client().post(
                "/api/v1/auth/challenge", {**answer, "code": totp_now(secret)}, format="json"
            )
            assert done.status_code == 200, done.content
            assert bearer(done.json()["access_token"]).get("/api/v1/me").status_code == 200
            assert token(client(), username, PASSWORD).json()["challenge"] == "SOFTWARE_TOKEN_MFA"
            assert sign_in_with_code(username, secret)["access_token"]

    def test_the_setup_cannot_be_skipped(self, make_user):
        username, _ = make_user("skipper")
        with pool_mfa_on():
            step = token(client(), username, PASSWORD).json()
            with pytest.raises(ClientError) as refused:
                cognito().respond_to_auth_challenge(
                    ClientId=settings.COGNITO_APP_CLIENT_ID,
                    ChallengeName="MFA_SETUP",
                    Session=step["session"],
                    ChallengeResponses={"USERNAME": username},
                )
            assert refused.value.response["Error"]["Code"] == "InvalidParameterException"

    def test_an_invited_person_chooses_a_password_then_sets_up_the_factor(self):
        from editor.services.auth.accounts import account_invite

        username = unique("invited")
        _, temporary = account_invite(username=username, email=f"{username}@example.com")
        with pool_mfa_on():
            step = token(client(), username, temporary).json()
            assert step["challenge"] == "NEW_PASSWORD_REQUIRED"
            chosen = client().post(
                "/api/v1/auth/challenge",
                {
                    "challenge": "NEW_PASSWORD_REQUIRED",
                    "username": username,
                    "session": step["session"],
                    "new_password": "Chosen-password-3",
                },
                format="json",
            )
            assert chosen.status_code == 200, chosen.content
            assert chosen.json()["challenge"] == "MFA_SETUP" and "access_token" not in chosen.json()

    def test_first_sign_in_sets_up_the_factor_on_the_pages(self, make_user):
        username, _ = make_user("pages")
        page = Client(REMOTE_ADDR="10.78.0.2")
        with pool_mfa_on():
            response = page.post("/signin", {"username": username, "password": PASSWORD})
            assert response.status_code == 302 and response["Location"] == "/signin/mfa-setup"
            shown = page.get("/signin/mfa-setup")
            assert shown.status_code == 200 and b"data:image/svg+xml;base64," in shown.content
            secret = re.search(r'id="mfa-secret">([A-Z2-7 ]+)<', html.unescape(shown.content.decode())).group(
                1
            )
            secret = secret.replace(" ", "")
            wrong = page.post("/signin/mfa-setup", {"code": totp_now(secret, offset=-600)})
            assert wrong.status_code == 200 and b"That code is not right" in wrong.content
            done = page.post("/signin/mfa-setup", {"code": totp_now(secret)})
            assert done.status_code == 302 and done["Location"] == "/"
            assert page.get("/account").status_code == 200


def test_an_invited_person_sets_up_the_factor_after_choosing_a_password_on_the_pages():
    from editor.services.auth.accounts import account_invite

    username = unique("invitedpage")
    _, temporary = account_invite(username=username, email=f"{username}@example.com")
    page = Client(REMOTE_ADDR="10.78.0.3")
    with pool_mfa_on():
        assert page.post("/signin", {"username": username, "password": temporary})["Location"] == (
            "/signin/new-password"
        )
        chosen = page.post("/signin/new-password", {"new_password": "Chosen-password-3"})
        assert chosen.status_code == 302 and chosen["Location"] == "/signin/mfa-setup"
        shown = page.get("/signin/mfa-setup")
        assert shown.status_code == 200 and b'id="mfa-secret"' in shown.content
