"""Odd input never gets a 500, and races between a job, a waiter and a delete end cleanly."""

from __future__ import annotations

import base64
import json
import struct
import threading
import uuid
import zlib

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from editor.models import FAILED, IdempotencyRecord, ImageEdit
from editor.services.aws import aws_client
from tests.editor.helpers import inject_fault, mask_png, photo_png, post_edit


def chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_with_garbage_pixels() -> bytes:
    """Every chunk CRC is right, the pixel data is not zlib, and 'eXIf' appears in a text chunk."""
    header = struct.pack(">IIBBBBB", 128, 96, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"Comment\x00eXIf")
        + chunk(b"IDAT", b"not zlib at all" * 20)
        + chunk(b"IEND", b"")
    )


@pytest.mark.usefixtures("local_stack")
class TestNoServerErrors:
    @pytest.mark.parametrize("header", [" ", "\x0b", "Bearer", "Bearer  ", "bearer \u00e9t\u00e9"])
    def test_odd_authorization_headers_are_401(self, header):
        response = APIClient().get("/api/v1/me", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, response.content
        assert response.json()["error"]["message"]

    def test_damaged_pixels_behind_intact_chunks_are_a_400(self, api):
        response = post_edit(api, "remove_background", image=png_with_garbage_pixels())
        assert response.status_code == 400 and response.json()["error"]["code"] == "corrupt_image"

    @pytest.mark.parametrize("edit_id", ["x" * 3000, "not-a-uuid", "../../etc/passwd", "%00"])
    def test_ids_that_are_not_uuids_are_404(self, api, edit_id):
        assert api.get(f"/api/v1/edits/{edit_id}").status_code == 404
        assert api.delete(f"/api/v1/edits/{edit_id}").status_code == 404

    @pytest.mark.parametrize(
        "payload",
        [
            {"user_id": {"S": "SUB"}},
            {"user_id": {"S": "SUB"}, "id": {"N": "1"}, "request_timestamp": {"S": "x"}},
            {"user_id": {"S": "SUB"}, "id": {"S": "a"}, "request_timestamp": {"S": "x"}, "extra": {"S": "y"}},
            ["not", "a", "map"],
        ],
    )
    def test_cursors_of_the_wrong_shape_are_400(self, api, payload):
        text = json.dumps(payload).replace("SUB", api.user["sub"])
        cursor = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
        response = api.get(f"/api/v1/edits?cursor={cursor}")
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_cursor"

    def test_image_and_mask_together_over_the_request_cap_are_413(self, api, settings):
        settings.MAX_REQUEST_UPLOAD_BYTES = len(photo_png()) + 10
        response = post_edit(api, image=photo_png(), mask=mask_png(), prompt="x")
        assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"

    def test_forged_session_cookie_is_ignored(self, client):
        client.cookies["sessionid"] = "A" * 3000
        assert client.get("/history").status_code == 302


@pytest.mark.usefixtures("local_stack")
class TestRaces:
    def test_delete_while_a_request_waits_gives_the_waiter_a_404(self, api, local_stack, make_user, sign_in):
        inject_fault(local_stack, error="delay", delay_seconds=1.5, count=1)
        edit = post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass", wait=0).json()
        waiter = {}
        other = APIClient()
        other.credentials(HTTP_AUTHORIZATION=api._credentials["HTTP_AUTHORIZATION"])
        thread = threading.Thread(
            target=lambda: waiter.update(r=other.get(f"/api/v1/edits/{edit['id']}?wait=5"))
        )
        thread.start()
        assert api.delete(f"/api/v1/edits/{edit['id']}").status_code == 204
        thread.join(10)
        assert waiter["r"].status_code == 404
        # The job finished after the delete: it must have removed its own output, leaving nothing behind.
        prefix = f"users/{api.user['sub']}/edits/{edit['id']}/"
        for _ in range(40):
            listing = aws_client("s3").list_objects_v2(Bucket=settings.S3_BUCKET, Prefix=prefix)
            if not listing.get("KeyCount"):
                break
            threading.Event().wait(0.1)
        assert listing.get("KeyCount", 0) == 0

    def test_a_refused_request_frees_its_idempotency_key(self, api, settings):
        key = str(uuid.uuid4())
        settings.DAILY_EDIT_QUOTA = 1
        assert post_edit(api, "remove_background", image=photo_png()).status_code == 201
        refused = post_edit(
            api, "remove_background", image=photo_png(), headers={"HTTP_IDEMPOTENCY_KEY": key}
        )
        assert refused.status_code == 429
        settings.DAILY_EDIT_QUOTA = 10
        retried = post_edit(
            api, "remove_background", image=photo_png(), headers={"HTTP_IDEMPOTENCY_KEY": key}
        )
        assert retried.status_code == 201 and retried.json()["status"] == "SUCCEEDED"

    def test_a_session_signed_out_elsewhere_is_not_brought_back(self, local_stack):
        from django.contrib.sessions.backends.base import UpdateError

        from editor.models import WebSession
        from editor.sessions import SessionStore

        first = SessionStore()
        first["cognito"] = {"token": "x"}
        first.save()
        second = SessionStore(session_key=first.session_key)
        assert second["cognito"] == {"token": "x"}  # a request that loaded the session earlier
        key = first.session_key
        first.flush()
        second["touched"] = True
        with pytest.raises(UpdateError):
            second.save()
        with pytest.raises(WebSession.DoesNotExist):
            WebSession.get(key)


def test_a_failed_edit_stays_failed_when_retried_by_lambda(api, local_stack):
    """A second invocation of the job (Lambda's async retry) leaves a terminal edit alone."""
    from editor.services.edits.running import edit_run

    inject_fault(local_stack, error="ValidationException", count=1)
    edit = post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass").json()
    assert edit["status"] == FAILED
    edit_run(edit_id=edit["id"])
    assert ImageEdit.get(edit["id"], consistent_read=True).status == FAILED
    assert IdempotencyRecord.Meta.table_name == ImageEdit.Meta.table_name


class _Result:
    """What _finish_succeeded reads of a model result."""

    model_id = "stability.stable-image-inpaint-v1:0"
    engine = "local-opencv"
    engine_note = None
    filtered = 0
    model_size = None


def test_a_success_write_whose_answer_was_lost_still_counts(local_stack):
    """DynamoDB applied the write, the answer timed out, the retry met a failed condition: still a success."""
    from botocore.exceptions import ReadTimeoutError

    from editor.models import RUNNING, SUCCEEDED, OutputImage, timestamp_now
    from editor.services import storage
    from editor.services.edits import running

    edit = ImageEdit(
        id=str(uuid.uuid4()), user_id="lost-answer", request_timestamp=timestamp_now(), status=RUNNING
    )
    edit.save()
    key = storage.object_key(user_id="lost-answer", edit_id=edit.id, name="output-0.png")
    outputs = [OutputImage(key=key, content_type="image/png", width=1, height=1)]
    session = ImageEdit._get_connection().connection.client._endpoint.http_session
    original, lost = session.send, []

    def send(request):
        response = original(request)
        if "UpdateItem" in str(request.headers.get("X-Amz-Target", "")) and not lost:
            lost.append(True)
            raise ReadTimeoutError(endpoint_url=request.url)  # applied by the server, answer lost
        return response

    session.send = send
    try:
        recorded = running.finish_succeeded(edit, _Result(), outputs, 5)
    finally:
        session.send = original
    assert lost and recorded is True
    stored = ImageEdit.get(edit.id, consistent_read=True)
    assert stored.status == SUCCEEDED and [o.key for o in stored.outputs] == [key]


def test_api_errors_are_json_under_api_gateways_stage_prefix(settings):
    from django.test import Client

    settings.DEBUG = False
    response = Client().get("/api/v1/nothing-here", SCRIPT_NAME="/production")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


def test_deleting_an_edit_frees_its_idempotency_key(api):
    key = str(uuid.uuid4())
    first = post_edit(
        api, "remove_background", image=photo_png(), headers={"HTTP_IDEMPOTENCY_KEY": key}
    ).json()
    assert api.delete(f"/api/v1/edits/{first['id']}").status_code == 204
    again = post_edit(api, "remove_background", image=photo_png(), headers={"HTTP_IDEMPOTENCY_KEY": key})
    assert again.status_code == 201 and again.json()["id"] != first["id"]
