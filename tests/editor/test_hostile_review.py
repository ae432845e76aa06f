"""Regression tests for the hostile review's findings (issue 9, section 2), through the HTTP API only."""

from __future__ import annotations

import base64
import uuid

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from tests.editor.helpers import (
    assert_json_error,
    history,
    mask_png,
    photo_png,
    post_edit,
    quota_used,
    upload,
)

NESTED = "[" * 50000 + "]" * 50000


@pytest.mark.usefixtures("local_stack")
class TestNestedJson:
    @pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/auth/refresh"])
    def test_deeply_nested_json_is_a_400_without_signing_in(self, path):
        response = Client().post(path, NESTED, content_type="application/json")
        assert assert_json_error(response, 400)["code"] == "parse_error"

    def test_deeply_nested_json_on_edits_is_a_400(self, api):
        response = api.post("/api/v1/edits", NESTED, content_type="application/json")
        assert assert_json_error(response, 400)["code"] == "parse_error"

    def test_deeply_nested_json_on_edits_without_signing_in_is_no_500(self):
        response = Client().post("/api/v1/edits", NESTED, content_type="application/json")
        assert_json_error(response, 401)

    @pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data"])
    def test_nested_looking_form_bodies_are_plain_fields(self, content_type):
        client = APIClient()
        if content_type == "multipart/form-data":
            response = client.post("/api/v1/auth/token", {"username": NESTED[:2000]}, format="multipart")
        else:
            response = client.post("/api/v1/auth/token", f"username={NESTED}", content_type=content_type)
        assert assert_json_error(response, 400)["code"] == "invalid_request"

    def test_nested_json_in_a_bearer_token_is_a_401(self):
        header = base64.urlsafe_b64encode(("[" * 3000 + "]" * 3000).encode()).decode().rstrip("=")
        response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {header}.e30.c2ln")
        assert_json_error(response, 401)

    def test_nested_json_in_a_cursor_is_a_400(self, api):
        cursor = base64.urlsafe_b64encode(("[" * 760 + "]" * 760).encode()).decode().rstrip("=")
        response = api.get(f"/api/v1/edits?cursor={cursor}")
        assert assert_json_error(response, 400)["code"] == "invalid_cursor"


@pytest.mark.usefixtures("local_stack")
class TestForeignParent:
    def test_another_users_parent_with_an_uploaded_image_is_404_and_nothing_is_stored(
        self, api, make_user, sign_in
    ):
        theirs = post_edit(api, "remove_background", image=photo_png()).json()
        other = APIClient()
        username, _ = make_user("other")
        other.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(username)['access_token']}")
        response = post_edit(other, "remove_background", image=photo_png(), parent_id=theirs["id"])
        assert assert_json_error(response, 404)["code"] == "not_found"
        assert history(other) == []

    def test_unknown_parent_with_an_uploaded_image_is_404_and_nothing_is_stored(self, api):
        response = post_edit(api, "remove_background", image=photo_png(), parent_id=str(uuid.uuid4()))
        assert assert_json_error(response, 404)["code"] == "not_found"
        assert history(api) == []

    def test_own_parent_with_an_uploaded_image_is_accepted(self, api):
        parent = post_edit(api, "remove_background", image=photo_png()).json()
        response = post_edit(api, "remove_background", image=photo_png(), parent_id=parent["id"])
        assert response.status_code == 201, response.content
        assert response.json()["parent_id"] == parent["id"]


@pytest.mark.usefixtures("local_stack")
class TestIdempotencyKeyLength:
    def test_a_key_over_255_characters_is_a_400_that_says_the_limit(self, api):
        response = post_edit(
            api, "remove_background", image=photo_png(), headers={"HTTP_IDEMPOTENCY_KEY": "k" * 256}
        )
        error = assert_json_error(response, 400)
        assert error["code"] == "invalid_idempotency_key" and "255" in error["message"]
        assert history(api) == []

    def test_keys_sharing_their_first_255_characters_do_not_collide(self, api):
        first = post_edit(
            api, "remove_background", image=photo_png(), headers={"HTTP_IDEMPOTENCY_KEY": "k" * 255}
        )
        second = post_edit(
            api, "remove_background", image=photo_png(), headers={"HTTP_IDEMPOTENCY_KEY": "k" * 255 + "x"}
        )
        assert first.status_code == 201 and second.status_code == 400
        assert [edit["id"] for edit in history(api)] == [first.json()["id"]]


@pytest.mark.usefixtures("local_stack", "legacy_models_in_service")  # the engine's gaps, not retirements
class TestUnavailableTasks:
    def unavailable(self, api) -> list[tuple[str, str]]:
        """(family, task) pairs /api/v1/models marks unavailable: the one source both must agree on."""
        models = api.get("/api/v1/models").json()["models"]
        return [
            (model["family"], task["task"])
            for model in models
            for task in model["tasks"]
            if not task["available"]
        ]

    def test_the_local_engine_marks_some_tasks_unavailable(self, api):
        assert {task for _, task in self.unavailable(api)} >= {"generate", "replace"}

    def test_every_unavailable_task_is_refused_up_front(self, api):
        used_before = quota_used(api.user["sub"])
        for family, task in self.unavailable(api):
            if task == "generate":
                response = api.post(
                    "/api/v1/edits", {"task": task, "prompt": "a lighthouse", "model": family}, format="json"
                )
            else:
                fields = {"prompt": "a lighthouse", "search_prompt": "square", "model": family}
                response = post_edit(api, task, image=photo_png(), mask=mask_png(), **fields)
            error = assert_json_error(response, 422)
            assert error["code"] == "task_unavailable", (family, task, error)
            assert task in error["message"] and "Amazon Bedrock" in error["message"]
        assert history(api) == []
        assert quota_used(api.user["sub"]) == used_before

    def test_an_available_task_still_counts(self, api):
        used_before = quota_used(api.user["sub"])
        assert post_edit(api, "remove_background", image=photo_png()).status_code == 201
        assert quota_used(api.user["sub"]) == used_before + 1


@pytest.mark.usefixtures("local_stack")
class TestOversizeRequests:
    def test_a_form_field_over_the_memory_cap_is_a_json_413(self, api, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
        response = post_edit(api, "remove_background", image=photo_png(), prompt="x" * 20_000)
        assert assert_json_error(response, 413)["code"] == "request_too_large"

    def test_a_json_body_over_the_memory_cap_is_a_json_413(self, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
        body = '{"username": "%s", "password": "x"}' % ("u" * 20_000)
        response = Client().post("/api/v1/auth/token", body, content_type="application/json")
        assert assert_json_error(response, 413)["code"] == "request_too_large"

    def test_a_form_body_over_the_memory_cap_is_a_json_413(self, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
        body = "username=" + "u" * 20_000 + "&password=x"
        response = Client().post("/api/v1/auth/token", body, content_type="application/x-www-form-urlencoded")
        assert assert_json_error(response, 413)["code"] == "request_too_large"

    def test_too_many_form_fields_is_a_json_400(self, api):
        fields = {f"f{index}": "x" for index in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
        response = post_edit(api, "remove_background", image=photo_png(), **fields)
        assert assert_json_error(response, 400)["code"] == "too_many_fields"

    def test_too_many_urlencoded_fields_is_a_json_400(self):
        body = "&".join(f"f{index}=x" for index in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
        response = Client().post("/api/v1/auth/token", body, content_type="application/x-www-form-urlencoded")
        assert assert_json_error(response, 400)["code"] == "too_many_fields"

    def test_too_many_files_is_a_json_400(self, api):
        files = {
            f"file{index}": upload(f"{index}.png", b"x")
            for index in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
        }
        response = post_edit(api, "remove_background", image=photo_png(), **files)
        assert assert_json_error(response, 400)["code"] == "too_many_files"

    def test_too_many_fields_without_signing_in_is_json(self):
        fields = {f"f{index}": "x" for index in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
        response = APIClient().post("/api/v1/auth/token", fields, format="multipart")
        assert assert_json_error(response, 400)["code"] == "too_many_fields"

    def test_a_refusal_before_any_view_is_json_too(self):
        response = Client().get("/api/v1/models", HTTP_HOST="not-ours.example")  # DisallowedHost
        assert assert_json_error(response, 400)["code"] == "bad_request"

    def test_pages_keep_their_html_refusals(self):
        response = Client().get("/signin", HTTP_HOST="not-ours.example")
        assert response.status_code == 400 and response["Content-Type"].startswith("text/html")


@pytest.mark.usefixtures("local_stack")
class TestDocsPage:
    def test_docs_page_has_a_strict_policy_and_no_inline_script(self):
        response = Client().get("/api/docs/")
        assert response.status_code == 200
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
        html = response.content.decode()
        assert "<script>" not in html and "<style>" not in html and " style=" not in html

    def test_docs_script_is_served_from_the_app(self):
        import re

        html = Client().get("/api/docs/").content.decode()
        sources = re.findall(r'<script src="([^"]+)"', html)
        assert sources and all(source.startswith("/") for source in sources)
        own = [source for source in sources if source.startswith("/api/docs/")]
        assert own, sources
        script = Client().get(own[0].replace("&amp;", "&"))
        assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
        assert script["Content-Type"].startswith("application/javascript")

    def test_static_files_carry_no_wildcard_cors_header(self):
        response = Client().get("/static/editor/editor.js")
        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response
