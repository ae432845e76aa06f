"""The account life cycle through the API, against the local stack, with codes read from the local outbox."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.conftest import PASSWORD
from tests.editor.auth_helpers import (
    NEW_PASSWORD,
    bearer,
    client,
    cognito,
    sign_up_closed,
    token,
    totp_now,
    unique,
)


class TestFirstSignInWithTemporaryPassword:
    def test_invited_person_chooses_a_password_and_is_signed_in(self, outbox):
        username = unique("invited")
        call_command("create_user", username, temporary=True, email=f"{username}@example.com")
        temporary = outbox.last_code(username=username, kind="invitation")
        api = client()

        step = token(api, username, temporary)
        assert step.status_code == 200, step.content
        body = step.json()
        assert body["challenge"] == "NEW_PASSWORD_REQUIRED" and body["username"] == username
        assert "access_token" not in body

        weak = api.post(
            "/api/v1/auth/challenge",
            {"username": username, "session": body["session"], "new_password": "short"},
            format="json",
        )
        assert weak.status_code == 400
        problems = weak.json()["error"]["problems"]
        assert any("characters" in p for p in problems) and any("uppercase" in p for p in problems)

        done = api.post(
            "/api/v1/auth/challenge",
            {"username": username, "session": body["session"], "new_password": NEW_PASSWORD},
            format="json",
        )
        assert done.status_code == 200, done.content
        assert done["Cache-Control"] == "no-store"
        me = bearer(done.json()["access_token"]).get("/api/v1/me")
        assert me.status_code == 200 and me.json()["username"] == username
        assert token(api, username, NEW_PASSWORD).json()["access_token"]

    def test_a_made_up_session_is_refused_in_words(self):
        response = client().post(
            "/api/v1/auth/challenge",
            {"username": "nobody", "session": "made-up-" + "x" * 40, "new_password": NEW_PASSWORD},
            format="json",
        )
        assert response.status_code == 401
        assert "sign in again" in response.json()["error"]["message"]


class TestSignUp:
    def test_sign_up_confirm_from_the_outbox_then_sign_in(self, outbox):
        username = unique("newcomer")
        api = client()
        created = api.post(
            "/api/v1/auth/signup",
            {"username": username, "email": f"{username}@example.com", "password": NEW_PASSWORD},
            format="json",
        )
        assert created.status_code == 201, created.content
        assert token(api, username, NEW_PASSWORD).json()["error"]["code"] == "user_not_confirmed"

        wrong = api.post("/api/v1/auth/confirm", {"username": username, "code": "000000"}, format="json")
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_code"

        resent = api.post("/api/v1/auth/resend", {"username": username}, format="json")
        assert resent.status_code == 202
        codes = [m["code"] for m in outbox.messages(username=username, kind="signup")]
        assert len(codes) == 2
        confirmed = api.post("/api/v1/auth/confirm", {"username": username, "code": codes[-1]}, format="json")
        assert confirmed.status_code == 200, confirmed.content
        assert token(api, username, NEW_PASSWORD).status_code == 200

    def test_weak_password_is_explained_rule_by_rule_before_anything_is_created(self, outbox):
        username = unique("weak")
        response = client().post(
            "/api/v1/auth/signup",
            {"username": username, "email": f"{username}@example.com", "password": "alllowercase"},
            format="json",
        )
        assert response.status_code == 400
        problems = response.json()["error"]["problems"]
        assert problems == ["It needs an uppercase letter (A-Z).", "It needs a number (0-9)."]
        assert outbox.messages(username=username) == []

    def test_policy_is_published_for_clients_to_show_before_typing(self):
        response = client().get("/api/v1/auth/password-policy")
        assert response.status_code == 200
        rules = response.json()["rules"]
        assert rules[0] == "At least 8 characters" and "a number (0-9)" in rules

    def test_taken_and_free_usernames_get_the_same_answer(self, make_user):
        taken, _ = make_user("taken")
        free = unique("free")
        answers = []
        for username in (taken, free):
            response = client().post(
                "/api/v1/auth/signup",
                {"username": username, "email": "same@example.com", "password": NEW_PASSWORD},
                format="json",
            )
            body = response.json()
            body.pop("username")
            answers.append((response.status_code, body))
        assert answers[0] == answers[1]
        assert answers[0][0] == 201

    def test_routes_are_absent_when_the_pool_does_not_allow_sign_up(self):
        with sign_up_closed():
            response = client().post(
                "/api/v1/auth/signup",
                {"username": unique("closed"), "email": "x@example.com", "password": NEW_PASSWORD},
                format="json",
            )
            assert response.status_code == 404


class TestForgottenPassword:
    def test_forgot_then_reset_with_the_emailed_code(self, make_user, outbox):
        username, _ = make_user("forgetful")
        cognito().admin_update_user_attributes(
            UserPoolId=settings.COGNITO_USER_POOL_ID,
            Username=username,
            UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        )
        api = client()
        assert api.post("/api/v1/auth/forgot", {"username": username}, format="json").status_code == 202
        code = outbox.last_code(username=username, kind="reset")

        wrong = api.post(
            "/api/v1/auth/reset",
            {
                "username": username,
                "code": "000000" if code != "000000" else "111111",
                "password": NEW_PASSWORD,
            },
            format="json",
        )
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_code"
        reset = api.post(
            "/api/v1/auth/reset",
            {"username": username, "code": code, "password": NEW_PASSWORD},
            format="json",
        )
        assert reset.status_code == 200, reset.content
        assert token(api, username, NEW_PASSWORD).status_code == 200
        assert token(api, username, PASSWORD).status_code == 401

    def test_existing_and_missing_users_get_the_same_answer(self, make_user):
        existing, _ = make_user("exists")
        answers = []
        for username in (existing, unique("missing")):
            response = client().post("/api/v1/auth/forgot", {"username": username}, format="json")
            answers.append((response.status_code, response.json()))
        assert answers[0] == answers[1]
        assert answers[0][0] == 202

    def test_reset_for_a_missing_user_looks_like_a_wrong_code(self):
        response = client().post(
            "/api/v1/auth/reset",
            {"username": unique("missing"), "code": "123456", "password": NEW_PASSWORD},
            format="json",
        )
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_code"


class TestChangePassword:
    def test_change_needs_the_current_password(self, user, sign_in):
        api = bearer(sign_in(user["username"])["access_token"])
        wrong = api.post(
            "/api/v1/auth/password",
            {"old_password": "Not-it-123", "new_password": NEW_PASSWORD},
            format="json",
        )
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "wrong_current_password"
        done = api.post(
            "/api/v1/auth/password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
        )
        assert done.status_code == 200, done.content
        assert token(client(), user["username"], NEW_PASSWORD).status_code == 200
        assert token(client(), user["username"], PASSWORD).status_code == 401

    def test_needs_a_signed_in_person(self):
        response = client().post(
            "/api/v1/auth/password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
        )
        assert response.status_code == 401


@pytest.mark.usefixtures("check_every_request")
class TestAccessEnds:
    def test_sign_out_here_revokes_the_refresh_token_and_its_access_token(self, user, sign_in):
        tokens = sign_in(user["username"])
        other = sign_in(user["username"])  # another device
        response = bearer(tokens["access_token"]).post(
            "/api/v1/auth/signout", {"refresh_token": tokens["refresh_token"]}, format="json"
        )
        assert response.status_code == 200, response.content
        refused = bearer(tokens["access_token"]).get("/api/v1/me")
        assert refused.status_code == 401 and "ended" in refused.json()["error"]["message"]
        refresh = client().post(
            "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json"
        )
        assert refresh.status_code == 401
        assert bearer(other["access_token"]).get("/api/v1/me").status_code == 200

    def test_sign_out_everywhere_ends_every_token(self, user, sign_in):
        first, second = sign_in(user["username"]), sign_in(user["username"])
        response = bearer(first["access_token"]).post("/api/v1/auth/signout?everywhere=1", {}, format="json")
        assert response.status_code == 200, response.content
        for tokens in (first, second):
            assert bearer(tokens["access_token"]).get("/api/v1/me").status_code == 401
            edit = bearer(tokens["access_token"]).post(
                "/api/v1/edits", {"task": "generate", "prompt": "x"}, format="json"
            )
            assert edit.status_code == 401

    def test_disabled_user_is_refused(self, user, sign_in):
        api = bearer(sign_in(user["username"])["access_token"])
        assert api.get("/api/v1/me").status_code == 200
        cognito().admin_disable_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=user["username"])
        assert api.get("/api/v1/me").status_code == 401

    def test_deleted_user_cannot_start_an_edit(self, user, sign_in):
        from editor.models import ImageEdit

        api = bearer(sign_in(user["username"])["access_token"])
        cognito().admin_delete_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=user["username"])
        response = api.post("/api/v1/edits", {"task": "generate", "prompt": "a lighthouse"}, format="json")
        assert response.status_code == 401
        assert list(ImageEdit.by_user.query(user["sub"])) == []


class TestBound:
    """Within the bound a verdict is reused; past it Cognito is asked again (a clock stands in for time)."""

    @pytest.fixture
    def clock(self, monkeypatch):
        from editor.services.auth import revocation

        now = [1000.0]
        monkeypatch.setattr(revocation, "token_states", revocation.TokenStateCache(clock=lambda: now[0]))
        return now

    def test_disabled_user_is_refused_once_the_bound_has_passed(self, user, sign_in, clock):
        api = bearer(sign_in(user["username"])["access_token"])
        assert api.get("/api/v1/me").status_code == 200
        cognito().admin_disable_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=user["username"])
        clock[0] += settings.TOKEN_STATE_CHECK_SECONDS - 1
        assert api.get("/api/v1/me").status_code == 200  # the verdict is still fresh
        clock[0] += 1
        assert api.get("/api/v1/me").status_code == 401

    def test_the_bound_is_at_most_a_minute(self):
        assert 0 < settings.TOKEN_STATE_CHECK_SECONDS <= 60

    def test_a_cognito_outage_admits_signed_in_people(self, user, sign_in, clock, settings):
        api = bearer(sign_in(user["username"])["access_token"])
        settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
        assert api.get("/api/v1/me").status_code == 200


class TestFailureLimit:
    @pytest.mark.slow  # waits for the failure window to pass
    def test_429_past_the_limit_and_200_after_the_window(self, user, settings):
        settings.AUTH_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS = 3
        settings.AUTH_FAILURE_WINDOW_SECONDS = 2
        api = client()
        # Start at the beginning of a window, so the three failures and the refusal share it.
        time.sleep(2 - time.time() % 2)
        for _ in range(3):
            assert token(api, user["username"], "Wrong-password-9").status_code == 401
        refused = token(api, user["username"], PASSWORD)  # this address, this username: its limit
        assert refused.status_code == 429
        retry_after = int(refused["Retry-After"])
        assert 1 <= retry_after <= 2
        time.sleep(retry_after)
        assert token(api, user["username"], PASSWORD).status_code == 200

    def test_per_address_limit(self, make_user, settings):
        settings.AUTH_FAILURE_LIMIT_PER_ADDRESS = 2
        address = "10.250.250.1"
        for _ in range(2):
            assert token(client(address), unique("ghost"), "Wrong-password-9").status_code == 401
        username, _ = make_user("bystander")
        assert token(client(address), username, PASSWORD).status_code == 429


def test_token_and_presigned_url_responses_are_not_stored(api):
    assert api.get("/api/v1/edits").get("Cache-Control") == "no-store"
    assert token(client(), api.user["username"], PASSWORD)["Cache-Control"] == "no-store"


class TestSecondFactor:
    def test_set_up_then_sign_in_asks_for_the_code(self, user, sign_in):
        api = bearer(sign_in(user["username"])["access_token"])
        assert api.get("/api/v1/auth/mfa").json() == {"enabled": False, "pool": "OPTIONAL"}
        setup = api.post("/api/v1/auth/mfa/setup", {"password": PASSWORD}, format="json")
        assert setup.status_code == 200, setup.content
        secret = setup.json()["secret"]
        assert setup.json()["otpauth_uri"].startswith("otpauth://totp/imageedit:")
        assert "<svg" in setup.json()["qr_svg"] and "<path" in setup.json()["qr_svg"]

        wrong = api.post("/api/v1/auth/mfa", {"code": totp_now(secret, offset=-600)}, format="json")
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_code"
        assert api.post("/api/v1/auth/mfa", {"code": totp_now(secret)}, format="json").status_code == 200
        assert api.get("/api/v1/auth/mfa").json()["enabled"] is True

        step = token(client(), user["username"], PASSWORD).json()
        assert step["challenge"] == "SOFTWARE_TOKEN_MFA" and "access_token" not in step
        answer = {"challenge": "SOFTWARE_TOKEN_MFA", "username": user["username"], "session": step["session"]}
        refused = client().post(
            "/api/v1/auth/challenge", {**answer, "code": totp_now(secret, offset=-600)}, format="json"
        )
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_code"
        done = client().post("/api/v1/auth/challenge", {**answer, "code": totp_now(secret)}, format="json")
        assert done.status_code == 200, done.content
        assert bearer(done.json()["access_token"]).get("/api/v1/me").status_code == 200

        proof = {"password": PASSWORD, "code": totp_now(secret)}
        assert api.delete("/api/v1/auth/mfa", proof, format="json").status_code == 200
        assert "access_token" in token(client(), user["username"], PASSWORD).json()

    def test_the_code_must_be_six_digits(self):
        response = client().post(
            "/api/v1/auth/challenge",
            {"challenge": "SOFTWARE_TOKEN_MFA", "username": "x", "session": "s" * 30, "code": "12ab"},
            format="json",
        )
        assert response.status_code == 400 and "code" in response.json()["error"]["fields"]
