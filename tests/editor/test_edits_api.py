"""Edits end to end on the local stack: token -> upload -> job -> Bedrock-compatible engine -> S3 -> item."""

from __future__ import annotations

import io
import urllib.request
import uuid

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from editor.models import FAILED, SUCCEEDED, ImageEdit
from editor.services.aws import aws_client, aws_clients_reset
from editor.services.bedrock.tasks import GROUPS, TASK_RULES
from tests.editor.helpers import SQUARE, fetch, inject_fault, mask_png, photo_png, post_edit
from tests.editor.photo_samples import png_header_only


@pytest.fixture
def api(edge_api):
    """Every request of this module goes through the local API Gateway (tests/edge_client.py)."""
    return edge_api


@pytest.fixture(autouse=True)
def clear_faults(local_stack):
    yield
    request = urllib.request.Request(f"{local_stack.bedrock_url}/_engine/faults", method="DELETE")
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310


class TestInpaintEndToEnd:
    def test_masked_area_changes_and_the_rest_does_not(self, api):
        response = post_edit(api, image=photo_png(), mask=mask_png(), prompt="a green lawn", seed=42)
        assert response.status_code == 201, response.content
        edit = response.json()
        assert edit["status"] == SUCCEEDED, edit["error"]
        assert edit["engine"] == "local-opencv"
        assert edit["model_id"] == "stability.stable-image-inpaint-v1:0"
        assert response["Location"] == f"/api/v1/edits/{edit['id']}"

        [output] = edit["outputs"]
        result = Image.open(io.BytesIO(fetch(output["url"])))
        assert result.format == "PNG" and result.size == (128, 96) == (output["width"], output["height"])
        before = np.asarray(Image.open(io.BytesIO(photo_png())).convert("RGB"), dtype=np.int16)
        after = np.asarray(result.convert("RGB"), dtype=np.int16)
        left, top, right, bottom = SQUARE
        inside = np.zeros(before.shape[:2], bool)
        inside[top:bottom, left:right] = True
        # Inside: the red square is gone (red no longer dominates). Outside, away from the grown mask edge:
        # unchanged.
        assert after[inside][:, 0].mean() < 200 and abs(after[inside][:, 0] - after[inside][:, 1]).mean() < 80
        far = np.ones_like(inside)
        far[max(0, top - 12) : bottom + 12, max(0, left - 12) : right + 12] = False
        assert np.abs(after[far] - before[far]).max() <= 2

    def test_item_and_objects_are_recorded(self, api):
        edit = post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass").json()
        item = ImageEdit.get(edit["id"], consistent_read=True)
        sub = api.user["sub"]
        assert item.user_id == sub and item.status == SUCCEEDED
        assert item.image_reference == f"users/{sub}/edits/{edit['id']}/input.png"
        assert item.mask_reference == f"users/{sub}/edits/{edit['id']}/mask.png"
        assert item.latency_ms >= 0 and item.finished_at >= item.request_timestamp
        keys = {
            o["Key"]
            for o in aws_client("s3").list_objects_v2(
                Bucket=settings.S3_BUCKET, Prefix=f"users/{sub}/edits/{edit['id']}/"
            )["Contents"]
        }
        assert keys == {item.image_reference, item.mask_reference, item.outputs[0].key}
        assert fetch(edit["input_url"]) == photo_png()

    def test_wait_zero_answers_202_and_polling_finishes(self, api):
        response = post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass", wait=0)
        assert response.status_code in (201, 202)
        if response.status_code == 202:
            assert response.json()["status"] in ("PENDING", "RUNNING")
        final = api.get(f"{response['Location']}?wait=10")
        assert final.status_code == 200 and final.json()["status"] == SUCCEEDED

    def test_continue_editing_a_result(self, api):
        first = post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass").json()
        second = post_edit(api, mask=mask_png(box=(0, 0, 20, 20)), prompt="sky", parent_id=first["id"])
        assert second.status_code == 201, second.content
        assert second.json()["parent_id"] == first["id"] and second.json()["status"] == SUCCEEDED
        assert fetch(second.json()["input_url"]) == fetch(first["outputs"][0]["url"])


class TestOtherTasksOnTheLocalEngine:
    def test_erase(self, api):
        response = post_edit(api, "erase", image=photo_png(), mask=mask_png())
        assert response.json()["status"] == SUCCEEDED, response.json()["error"]

    def test_outpaint_grows_the_canvas(self, api):
        edit = post_edit(api, "outpaint", image=photo_png(), left=32, down=16).json()
        assert edit["status"] == SUCCEEDED, edit["error"]
        assert (edit["outputs"][0]["width"], edit["outputs"][0]["height"]) == (160, 112)

    def test_remove_background_gives_transparency(self, api):
        edit = post_edit(api, "remove_background", image=photo_png()).json()
        assert edit["status"] == SUCCEEDED, edit["error"]
        assert Image.open(io.BytesIO(fetch(edit["outputs"][0]["url"]))).mode == "RGBA"

    def test_upscale(self, api):
        edit = post_edit(api, "upscale", image=photo_png()).json()
        assert edit["status"] == SUCCEEDED, edit["error"]
        assert (edit["outputs"][0]["width"], edit["outputs"][0]["height"]) == (512, 384)

    def test_generate_says_plainly_the_local_engine_cannot(self, api):
        response = api.post("/api/v1/edits", {"task": "generate", "prompt": "a lighthouse"}, format="json")
        error = response.json()["error"]
        assert response.status_code == 422 and error["code"] == "task_unavailable"
        assert "local engine cannot" in error["message"]


class TestBedrockFailuresEndAsFailedItems:
    @pytest.mark.parametrize(
        ("fault", "code"),
        [
            ("ThrottlingException", "throttled"),
            ("ValidationException", "invalid_for_model"),
            ("InternalServerException", "bedrock_error"),
            ("ServiceUnavailableException", "bedrock_unavailable"),
            ("ModelTimeoutException", "model_timeout"),
            ("AccessDeniedException", "model_access_denied"),
        ],
    )
    def test_error_becomes_failed_item(self, api, local_stack, fault, code):
        inject_fault(local_stack, error=fault, count=5)
        response = post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass")
        assert response.status_code == 201
        edit = response.json()
        assert edit["status"] == FAILED and edit["error"]["code"] == code and edit["error"]["message"]
        assert ImageEdit.get(edit["id"], consistent_read=True).status == FAILED

    def test_transient_error_is_retried_once(self, api, local_stack):
        inject_fault(local_stack, error="ThrottlingException", count=1)
        edit = post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass").json()
        assert edit["status"] == SUCCEEDED

    def test_read_timeout(self, api, local_stack):
        settings.BEDROCK_READ_TIMEOUT_SECONDS, previous = 0.5, settings.BEDROCK_READ_TIMEOUT_SECONDS
        aws_clients_reset()
        try:
            inject_fault(local_stack, error="delay", delay_seconds=1.5, count=2)
            edit = post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass").json()
        finally:
            settings.BEDROCK_READ_TIMEOUT_SECONDS = previous
            aws_clients_reset()
        assert edit["status"] == FAILED and edit["error"]["code"] == "model_timeout"


class TestInputValidation:
    def assert_error(self, response, status: int, code: str):
        assert response.status_code == status, response.content
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["message"]

    def test_missing_image(self, api):
        self.assert_error(post_edit(api, mask=mask_png(), prompt="x"), 400, "invalid_request")

    def test_missing_mask_for_inpaint(self, api):
        self.assert_error(post_edit(api, image=photo_png(), prompt="x"), 400, "invalid_request")

    def test_unknown_task(self, api):
        self.assert_error(post_edit(api, "paint-it-black", image=photo_png()), 400, "invalid_request")

    def test_not_an_image(self, api):
        self.assert_error(
            post_edit(api, image=b"GIF89a not really", mask=mask_png(), prompt="x"),
            415,
            "unsupported_image_format",
        )

    def test_named_png_but_is_gif(self, api):
        gif = io.BytesIO()
        Image.new("RGB", (128, 96)).save(gif, "GIF")
        self.assert_error(
            post_edit(api, image=gif.getvalue(), mask=mask_png(), prompt="x"), 415, "unsupported_image_format"
        )

    def test_truncated_image(self, api):
        self.assert_error(
            post_edit(api, image=photo_png()[:200], mask=mask_png(), prompt="x"), 400, "corrupt_image"
        )

    def test_mask_size_mismatch(self, api):
        self.assert_error(
            post_edit(api, image=photo_png(), mask=mask_png(64, 48, (0, 0, 10, 10)), prompt="x"),
            400,
            "mask_size_mismatch",
        )

    def test_empty_mask(self, api):
        self.assert_error(
            post_edit(api, image=photo_png(), mask=mask_png(box=(0, 0, 0, 0)), prompt="x"), 400, "empty_mask"
        )

    def test_animated_image(self, api):
        frames = [Image.new("RGB", (128, 96), colour) for colour in ("red", "blue")]
        out = io.BytesIO()
        frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
        self.assert_error(
            post_edit(api, image=out.getvalue(), mask=mask_png(), prompt="x"), 400, "animated_image"
        )

    def test_decompression_bomb(self, api):
        bomb = png_header_only(12_000, 12_000)  # 144 MP declared in a few bytes
        self.assert_error(post_edit(api, "remove_background", image=bomb), 413, "image_too_large")

    def test_too_many_bytes(self, api, settings):
        settings.MAX_UPLOAD_BYTES = 1000
        self.assert_error(
            post_edit(api, image=photo_png(), mask=mask_png(), prompt="x"), 413, "image_too_large"
        )

    @pytest.mark.usefixtures("legacy_models_in_service")
    def test_model_limits_checked_before_calling(self, api):
        response = post_edit(api, image=photo_png(), mask=mask_png(), prompt="x" * 600, model="titan")
        self.assert_error(response, 400, "invalid_for_model")
        assert "512" in response.json()["error"]["message"]

    def test_exif_orientation_applies_to_the_image(self, api):
        image = Image.open(io.BytesIO(photo_png())).convert("RGB")
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
        jpeg = io.BytesIO()
        image.save(jpeg, "JPEG", exif=exif.tobytes())
        edit = post_edit(
            api, image=jpeg.getvalue(), mask=mask_png(96, 128, (10, 10, 40, 40)), prompt="x"
        ).json()
        assert edit["status"] == SUCCEEDED, edit
        assert (edit["input_width"], edit["input_height"]) == (96, 128)


class TestIdempotency:
    def test_same_key_same_edit(self, api):
        key = str(uuid.uuid4())
        first = post_edit(
            api, image=photo_png(), mask=mask_png(), prompt="g", headers={"HTTP_IDEMPOTENCY_KEY": key}
        )
        second = post_edit(
            api, image=photo_png(), mask=mask_png(), prompt="g", headers={"HTTP_IDEMPOTENCY_KEY": key}
        )
        assert first.status_code == 201 and second.status_code == 200
        assert first.json()["id"] == second.json()["id"]

    def test_same_key_other_request_is_refused(self, api):
        key = str(uuid.uuid4())
        post_edit(api, image=photo_png(), mask=mask_png(), prompt="g", headers={"HTTP_IDEMPOTENCY_KEY": key})
        response = post_edit(
            api, image=photo_png(), mask=mask_png(), prompt="other", headers={"HTTP_IDEMPOTENCY_KEY": key}
        )
        assert response.status_code == 422 and response.json()["error"]["code"] == "idempotency_key_reused"


class TestHistoryAndOwnership:
    def test_history_newest_first_with_cursor(self, api):
        ids = [post_edit(api, "remove_background", image=photo_png(), wait=0).json()["id"] for _ in range(3)]
        page = api.get("/api/v1/edits?limit=2").json()
        assert [item["id"] for item in page["results"]] == ids[::-1][:2]
        assert page["next_cursor"]
        rest = api.get(f"/api/v1/edits?limit=2&cursor={page['next_cursor']}").json()
        assert [item["id"] for item in rest["results"]] == ids[:1]

    def test_another_users_edit_is_404_everywhere(self, api, make_user, sign_in):
        edit = post_edit(api, "remove_background", image=photo_png()).json()
        from rest_framework.test import APIClient

        other = APIClient()
        username, _ = make_user("intruder")
        other.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(username)['access_token']}")
        assert other.get(f"/api/v1/edits/{edit['id']}").status_code == 404
        assert other.delete(f"/api/v1/edits/{edit['id']}").status_code == 404
        assert post_edit(other, "remove_background", parent_id=edit["id"]).status_code == 404
        assert edit["id"] not in [item["id"] for item in other.get("/api/v1/edits").json()["results"]]
        mine = api.get("/api/v1/edits?limit=1").json()
        if mine["next_cursor"]:
            assert other.get(f"/api/v1/edits?cursor={mine['next_cursor']}").status_code == 400
        assert api.get(f"/api/v1/edits/{edit['id']}").status_code == 200

    def test_delete_removes_objects_and_item(self, api):
        edit = post_edit(api, image=photo_png(), mask=mask_png(), prompt="g").json()
        assert api.delete(f"/api/v1/edits/{edit['id']}").status_code == 204
        assert api.get(f"/api/v1/edits/{edit['id']}").status_code == 404
        listing = aws_client("s3").list_objects_v2(
            Bucket=settings.S3_BUCKET, Prefix=f"users/{api.user['sub']}/edits/{edit['id']}/"
        )
        assert listing.get("KeyCount", 0) == 0

    def test_models_lists_what_the_local_engine_cannot_do(self, api):
        models = api.get("/api/v1/models").json()
        stability = next(m for m in models["models"] if m["family"] == "stability")
        generate = next(t for t in stability["tasks"] if t["task"] == "generate")
        assert models["default"] == "stability" and generate["available"] is False and generate["note"]

    def test_models_carries_the_task_rules_the_editor_reads(self, api, settings):
        """The contract with editor.js: the task rules in the editor's order, the engine, the URL lifetime."""
        models = api.get("/api/v1/models").json()
        tasks = models["tasks"]
        assert [t["task"] for t in tasks] == list(TASK_RULES)
        groups = [t["group"] for t in tasks]
        assert groups == sorted(groups, key=GROUPS.index)  # grouped, in the editor's group order
        assert {group: [t["task"] for t in tasks if t["group"] == group] for group in GROUPS} == {
            "Edit": ["inpaint", "erase", "replace", "recolor"],
            "Extend": ["outpaint"],
            "Cut out": ["remove_background"],
            "Enhance": ["upscale", "upscale_fast", "upscale_conservative", "upscale_creative"],
            "Create": ["generate", "sketch", "structure", "style_guide", "style_transfer"],
        }
        keys = {
            "task",
            "label",
            "help",
            "image",
            "mask",
            "prompt",
            "search_prompt",
            "select_prompt",
            "second_image",
            "fields",
            "group",
            "candidates",
        }
        for task in tasks:
            assert set(task) == keys, task
            assert task["prompt"] in ("required", "optional", "upscale", "none")
            assert task["label"] and task["help"].endswith(".")
            assert all(isinstance(name, str) for name in task["fields"])
            # A prompt field shows exactly when the task takes a prompt.
            assert ("prompt" in task["fields"]) == (task["prompt"] != "none"), task
        by_name = {t["task"]: t for t in tasks}
        assert by_name["inpaint"]["mask"] and by_name["inpaint"]["fields"] == ["prompt", "negative_prompt"]
        assert by_name["outpaint"]["fields"] == ["margins", "prompt"] and not by_name["outpaint"]["mask"]
        assert by_name["replace"]["search_prompt"] and by_name["replace"]["fields"][0] == "search_prompt"
        assert not by_name["generate"]["image"] and "aspect_ratio" in by_name["generate"]["fields"]
        assert by_name["style_transfer"]["second_image"] and by_name["recolor"]["select_prompt"]
        # The suite runs on the local engine.
        assert models["engine"] == {"local": True, "label": "Local engine"}
        assert models["url_lifetime_seconds"] == settings.PRESIGNED_URL_TTL_SECONDS > 0

    def test_an_edit_has_exactly_the_documented_shape(self, api):
        """The presenter and EditOutput (the schema) describe the same keys, for an edit and in a list."""
        from editor.serializers import EditErrorOutput, EditImageOutput, EditOutput

        edit = post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass").json()
        assert set(edit) == set(EditOutput().fields)
        assert edit["outputs"] and all(set(o) == set(EditImageOutput().fields) for o in edit["outputs"])
        listed = api.get("/api/v1/edits").json()["results"][0]
        assert set(listed) == set(EditOutput().fields)
        failed = post_edit(api, task="generate", prompt="a lighthouse").json()
        assert failed["error"] and set(failed["error"]) == set(EditErrorOutput().fields)

    def test_schema_and_docs_are_served(self, api):
        from django.test import Client

        schema = Client().get("/api/schema/")
        assert schema.status_code == 200 and b"/api/v1/edits" in schema.content
        docs = Client().get("/api/docs/")
        assert docs.status_code == 200 and b"cdn" not in docs.content.lower()


class TestStaleEdits:
    def test_an_edit_killed_with_its_lambda_is_failed_by_the_sweep(self, user):
        from editor.models import ACTIVE_MARK, RUNNING
        from editor.services.edits.expiry import edits_expire_stale

        stuck = ImageEdit(
            id=str(uuid.uuid4()),
            user_id=user["sub"],
            request_timestamp="2026-01-01T00:00:00.000000Z",
            started_at="2026-01-01T00:00:01.000000Z",
            status=RUNNING,
            active=ACTIVE_MARK,
            task="inpaint",
        )
        stuck.save()
        fresh = ImageEdit(
            id=str(uuid.uuid4()),
            user_id=user["sub"],
            request_timestamp="2999-01-01T00:00:00.000000Z",
            status=RUNNING,
            active=ACTIVE_MARK,
            task="inpaint",
        )
        fresh.save()
        assert edits_expire_stale() >= 1
        stuck.refresh(consistent_read=True)
        fresh.refresh(consistent_read=True)
        assert stuck.status == FAILED and stuck.error_code == "timed_out" and stuck.active is None
        assert fresh.status == RUNNING

    def test_finished_edits_leave_the_active_index(self, api):
        edit = post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass").json()
        assert ImageEdit.get(edit["id"], consistent_read=True).active is None


@pytest.mark.usefixtures("legacy_models_in_service")
def test_continue_from_any_result_of_a_multi_image_edit(api):
    """Nova makes several images per request; parent_output picks which one to edit next."""
    photo, mask = photo_png(320, 320), mask_png(320, 320, (100, 100, 200, 200))
    first = post_edit(api, image=photo, mask=mask, prompt="grass", model="nova", count=2).json()
    assert first["status"] == SUCCEEDED and first["model"] == "nova", first["error"]
    assert len(first["outputs"]) == 2
    # The local engine varies its fill per copy, so picking the wrong one would show.
    assert fetch(first["outputs"][0]["url"]) != fetch(first["outputs"][1]["url"])
    second = post_edit(api, "remove_background", parent_id=first["id"], parent_output=1).json()
    assert second["status"] == SUCCEEDED and second["parent_id"] == first["id"]
    assert fetch(second["input_url"]) == fetch(first["outputs"][1]["url"])
    missing = post_edit(api, "remove_background", parent_id=first["id"], parent_output=3)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "invalid_parent_output"
