"""Batches in process: the API's refusals and charge, and the worker fed the real messages from the local
SQS queue (as Lambda's event) — one edit and one charge per item however often a message comes."""

from __future__ import annotations

import json

import boto3
import pytest
from django.conf import settings

from devstack.batch_poller import sqs_record
from devstack.stack import CREDENTIALS, REGION
from editor.services.batches.worker import batch_items_work
from tests.editor.helpers import direct_upload, inject_fault
from tests.editor.photo_samples import encoded, photo_like


@pytest.fixture
def sqs(local_stack):
    client = boto3.client(
        "sqs",
        region_name=REGION,
        endpoint_url=local_stack.moto_url,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    for url in (settings.BATCH_QUEUE_URL, settings.BATCH_DLQ_URL):  # what earlier tests left (PurgeQueue
        for message in receive_all(client, url):  # is allowed once a minute)
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return client


@pytest.fixture(autouse=True)
def _clear_faults(local_stack):
    yield
    import urllib.request

    request = urllib.request.Request(f"{local_stack.bedrock_url}/_engine/faults", method="DELETE")
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310


def small_png(seed: int = 7) -> bytes:
    return encoded(photo_like(64, 64, seed=seed), "png")


def batch_post(api, items: list[dict], task: str = "upscale_fast", **parameters):
    return api.post(
        "/api/v1/batches", {"task": task, "parameters": parameters, "items": items}, format="json"
    )


def receive_all(sqs, url: str) -> list[dict]:
    """Every visible message now, with its attributes, as Lambda's poller receives them (they stay
    invisible for the queue's visibility timeout)."""
    messages: list[dict] = []
    while True:
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
        )
        if not answer.get("Messages"):
            return messages
        messages.extend(answer["Messages"])


def event_of(messages: list[dict], local_stack) -> dict:
    arn = local_stack.provisioned.batch_queue_arn
    return {"Records": [sqs_record(message, queue_arn=arn) for message in messages]}


def usage(api) -> dict:
    return api.get("/api/v1/usage").json()


class TestRefusals:
    def test_bad_requests_get_a_clear_400_and_nothing_is_charged(self, api, sqs, settings):
        settings.BATCH_MAX_ITEMS = 3
        upload_id = direct_upload(api, small_png(), "image/png")
        cases = [
            ({"task": "upscale_fast", "items": []}, "items"),
            ({"task": "upscale_fast", "items": [{"upload_id": upload_id}] * 4}, "at most 3"),
            ({"task": "upscale_fast", "items": [{"upload_id": "not-an-id"}]}, "not an upload id"),
            ({"task": "upscale_fast", "items": [{"mask_upload_id": upload_id}]}, "needs an upload_id"),
            ({"task": "upscale_fast", "items": [{"upload_id": upload_id, "extra": 1}]}, "unknown field"),
            (
                {"task": "upscale_fast", "parameters": {"image": "x"}, "items": [{"upload_id": upload_id}]},
                "cannot hold image",
            ),
            ({"task": "erase", "items": [{"upload_id": upload_id}]}, "mask_upload_id"),
            ({"task": "generate", "items": [{"upload_id": upload_id}]}, "cannot run as a batch"),
            (
                {"task": "upscale_fast", "parameters": {"count": 9}, "items": [{"upload_id": upload_id}]},
                "count",
            ),
        ]
        for body, words in cases:
            response = api.post("/api/v1/batches", body, format="json")
            assert response.status_code == 400, (body, response.content)
            assert words in json.dumps(response.json()), (words, response.json())
        assert usage(api)["edits"] == 0
        assert receive_all(sqs, settings.BATCH_QUEUE_URL) == []

    def test_a_batch_past_the_quota_is_refused_saying_how_many_fit(self, api, sqs, settings):
        settings.DAILY_EDIT_QUOTA = 5
        upload_id = direct_upload(api, small_png(), "image/png")
        assert batch_post(api, [{"upload_id": upload_id}] * 2).status_code == 202
        response = batch_post(api, [{"upload_id": upload_id}] * 4)
        assert response.status_code == 429
        error = response.json()["error"]
        assert error["code"] == "daily_quota_exceeded"
        assert "At most 3 item(s)" in error["message"], error
        assert usage(api)["edits"] == 2  # the refused batch took nothing

    def test_a_batch_past_the_budget_is_refused_saying_how_many_fit(self, api, sqs, settings):
        settings.DAILY_BUDGET_USD = 0.10  # fast upscale: $0.03 an image
        upload_id = direct_upload(api, small_png(), "image/png")
        response = batch_post(api, [{"upload_id": upload_id}] * 5)
        assert response.status_code == 429
        assert "At most 3 item(s)" in response.json()["error"]["message"], response.json()
        assert usage(api)["estimated_spend_usd"] == 0

    def test_someone_elses_batch_is_not_found(self, api, sqs, make_user, sign_in):
        from rest_framework.test import APIClient

        upload_id = direct_upload(api, small_png(), "image/png")
        batch_id = batch_post(api, [{"upload_id": upload_id}]).json()["id"]
        other = APIClient()
        other.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(make_user()[0])['access_token']}")
        assert other.get(f"/api/v1/batches/{batch_id}").status_code == 404
        assert other.delete(f"/api/v1/batches/{batch_id}").status_code == 404
        assert other.get(f"/api/v1/batches/{batch_id}/edits").status_code == 404
        assert other.get("/api/v1/batches").json()["results"] == []
        assert api.get("/api/v1/batches/not-a-uuid").status_code == 404


class TestIdempotency:
    def test_a_retried_post_with_its_key_returns_the_same_batch_and_charges_once(self, api, sqs):
        upload_id = direct_upload(api, small_png(), "image/png")
        body = {"task": "upscale_fast", "parameters": {}, "items": [{"upload_id": upload_id}] * 3}
        first = api.post("/api/v1/batches", body, format="json", HTTP_IDEMPOTENCY_KEY="batch-key-1")
        again = api.post("/api/v1/batches", body, format="json", HTTP_IDEMPOTENCY_KEY="batch-key-1")
        assert first.status_code == 202 and again.status_code == 200, again.content
        assert again.json()["id"] == first.json()["id"]
        assert usage(api)["edits"] == 3
        assert len(receive_all(sqs, settings.BATCH_QUEUE_URL)) == 3  # queued once
        other = dict(body, items=[{"upload_id": upload_id}] * 2)
        reused = api.post("/api/v1/batches", other, format="json", HTTP_IDEMPOTENCY_KEY="batch-key-1")
        assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"

    def test_a_refused_batch_frees_its_key(self, api, sqs, settings):
        settings.DAILY_EDIT_QUOTA = 2
        upload_id = direct_upload(api, small_png(), "image/png")
        body = {"task": "upscale_fast", "parameters": {}, "items": [{"upload_id": upload_id}] * 3}
        assert api.post("/api/v1/batches", body, format="json", HTTP_IDEMPOTENCY_KEY="k2").status_code == 429
        settings.DAILY_EDIT_QUOTA = 10
        assert api.post("/api/v1/batches", body, format="json", HTTP_IDEMPOTENCY_KEY="k2").status_code == 202


class TestWorker:
    def test_redelivered_messages_make_one_edit_and_one_charge_each(self, api, sqs, local_stack):
        upload_id = direct_upload(api, small_png(), "image/png")
        response = batch_post(api, [{"upload_id": upload_id}] * 3)
        assert response.status_code == 202, response.content
        assert response["Location"].endswith(response.json()["id"])
        batch_id = response.json()["id"]
        charged = usage(api)
        assert charged["edits"] == 3
        messages = receive_all(sqs, settings.BATCH_QUEUE_URL)
        assert len(messages) == 3
        for _ in range(3):  # the same messages again, as after a lost delete or a visibility timeout
            assert batch_items_work(event_of(messages, local_stack)) == {"batchItemFailures": []}
        edits = api.get(f"/api/v1/batches/{batch_id}/edits").json()["results"]
        assert len(edits) == 3 and {edit["status"] for edit in edits} == {"SUCCEEDED"}
        assert {edit["batch_id"] for edit in edits} == {batch_id}
        assert usage(api)["edits"] == charged["edits"]  # no second charge
        assert usage(api)["estimated_spend_usd"] == pytest.approx(charged["estimated_spend_usd"])
        batch = api.get(f"/api/v1/batches/{batch_id}").json()
        assert batch["status"] == "COMPLETED"
        assert batch["counts"]["SUCCEEDED"] == 3 and batch["progress"] == 1.0
        assert batch["cost_so_far_usd"] == pytest.approx(charged["estimated_spend_usd"])
        listed = api.get("/api/v1/batches").json()["results"]
        assert listed[0]["id"] == batch_id

    def test_an_item_whose_upload_is_gone_fails_uncharged_and_goes_to_the_dlq(self, api, sqs, local_stack):
        kept = direct_upload(api, small_png(), "image/png")
        gone = direct_upload(api, small_png(seed=8), "image/png")
        batch_id = batch_post(api, [{"upload_id": kept}, {"upload_id": gone}]).json()["id"]
        from editor.services.aws import aws_client
        from editor.services.uploads import upload_key

        aws_client("s3").delete_object(
            Bucket=settings.S3_BUCKET, Key=upload_key(user_id=api.user["sub"], upload_id=gone)
        )
        messages = receive_all(sqs, settings.BATCH_QUEUE_URL)
        assert batch_items_work(event_of(messages, local_stack)) == {"batchItemFailures": []}
        edits = {edit["id"]: edit for edit in api.get(f"/api/v1/batches/{batch_id}/edits").json()["results"]}
        states = sorted((edit["status"], (edit["error"] or {}).get("code")) for edit in edits.values())
        assert states == [("FAILED", "upload_not_found"), ("SUCCEEDED", None)], states
        assert usage(api)["edits"] == 1  # the failed item was given back
        dead = receive_all(sqs, settings.BATCH_DLQ_URL)
        assert [json.loads(message["Body"])["upload_id"] for message in dead] == [gone]
        assert "upload" in dead[0]["MessageAttributes"]["reason"]["StringValue"]
        # Delivered again: still one edit each, still one give-back, no second DLQ message.
        batch_items_work(event_of(messages, local_stack))
        assert usage(api)["edits"] == 1
        assert receive_all(sqs, settings.BATCH_DLQ_URL) == []

    def test_throttling_is_retried_by_the_queue_until_the_last_receive(self, api, sqs, local_stack, settings):
        upload_id = direct_upload(api, small_png(), "image/png")
        batch_id = batch_post(api, [{"upload_id": upload_id}]).json()["id"]
        (message,) = receive_all(sqs, settings.BATCH_QUEUE_URL)
        inject_fault(local_stack, error="ThrottlingException", count=50)
        answer = batch_items_work(event_of([message], local_stack))
        assert answer == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
        (edit,) = api.get(f"/api/v1/batches/{batch_id}/edits").json()["results"]
        assert edit["status"] == "PENDING"  # released for the next delivery, not FAILED
        from editor.services.edits.expiry import edits_expire_stale

        settings.EDIT_PENDING_TIMEOUT_SECONDS = 0  # a single edit this old would be timed out...
        edits_expire_stale()
        assert api.get(f"/api/v1/edits/{edit['id']}").json()["status"] == "PENDING"  # ...not a queued item
        message["Attributes"]["ApproximateReceiveCount"] = str(settings.BATCH_MAX_RECEIVES)
        assert batch_items_work(event_of([message], local_stack)) == {"batchItemFailures": []}
        (edit,) = api.get(f"/api/v1/batches/{batch_id}/edits").json()["results"]
        assert edit["status"] == "FAILED" and edit["error"]["code"] == "throttled"
        assert len(receive_all(sqs, settings.BATCH_DLQ_URL)) == 1
        assert usage(api)["edits"] == 1  # it reached the model: counted, like a single edit

    def test_cancel_stops_what_has_not_started_and_gives_it_back(self, api, sqs, local_stack):
        upload_id = direct_upload(api, small_png(), "image/png")
        batch_id = batch_post(api, [{"upload_id": upload_id}] * 4).json()["id"]
        messages = receive_all(sqs, settings.BATCH_QUEUE_URL)
        assert batch_items_work(event_of(messages[:1], local_stack)) == {"batchItemFailures": []}
        cancelled = api.delete(f"/api/v1/batches/{batch_id}")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
        assert cancelled.json()["counts"]["CANCELLED"] == 3
        assert batch_items_work(event_of(messages, local_stack)) == {"batchItemFailures": []}
        edits = api.get(f"/api/v1/batches/{batch_id}/edits").json()["results"]
        assert sorted(edit["status"] for edit in edits) == ["FAILED"] * 3 + ["SUCCEEDED"]
        assert usage(api)["edits"] == 1
        batch = api.get(f"/api/v1/batches/{batch_id}").json()
        assert batch["status"] == "CANCELLED" and batch["counts"]["CANCELLED"] == 3
        assert api.delete(f"/api/v1/batches/{batch_id}").status_code == 200  # again: a no-op


class TestPages:
    def test_the_batch_page_shows_progress_and_results_and_history_shows_one_card(
        self, api, sqs, local_stack
    ):
        from tests.editor.helpers import page_sign_in

        upload_id = direct_upload(api, small_png(), "image/png")
        single = api.post(
            "/api/v1/edits", {"task": "upscale_fast", "upload_id": upload_id, "wait": 20}, format="json"
        )
        assert single.status_code == 201, single.content
        batch_id = batch_post(api, [{"upload_id": upload_id}] * 3).json()["id"]
        messages = receive_all(sqs, settings.BATCH_QUEUE_URL)
        batch_items_work(event_of(messages[:2], local_stack))
        browser = page_sign_in(api.user["username"])

        page = browser.get(f"/batches/{batch_id}").content.decode()
        assert 'value="67"' in page and "67%" in page  # 2 of 3 finished: the progress bar
        assert page.count('class="history-item"') == 2  # the results grid: the two that ran
        assert "Cancel the rest" in page
        assert (
            browser.get("/web/v1/batches/" + batch_id).json()["counts"]["QUEUED"] == 1
        )  # what the bar polls

        history = browser.get("/history").content.decode()
        assert history.count(f'data-batch="{batch_id}"') == 1  # the batch is one card
        assert history.count(f'href="/batches/{batch_id}"') == 1
        assert f'href="/edits/{single.json()["id"]}"' in history  # the single edit keeps its own

        cancelled = browser.post(f"/batches/{batch_id}/cancel")
        assert cancelled.status_code == 302 and cancelled["Location"] == f"/batches/{batch_id}"
        assert "Cancel the rest" not in browser.get(f"/batches/{batch_id}").content.decode()
        assert browser.get("/batches/00000000-0000-0000-0000-000000000000").status_code == 404
