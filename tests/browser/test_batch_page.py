"""A server batch in a browser: the progress bar follows the batch live and the results fill the grid."""

from __future__ import annotations

import boto3
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from devstack.batch_poller import sqs_record
from devstack.stack import CREDENTIALS, REGION
from editor.services.batches.worker import batch_items_work
from tests.browser.pages import sign_in as page_sign_in
from tests.conftest import PASSWORD
from tests.editor.helpers import direct_upload
from tests.editor.photo_samples import encoded, photo_like

pytestmark = pytest.mark.browser


def _queue(local_stack):
    return boto3.client(
        "sqs",
        region_name=REGION,
        endpoint_url=local_stack.moto_url,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def _work(sqs, local_stack, count: int) -> int:
    """Receive up to `count` of the queue's messages and hand them to the worker, as Lambda would."""
    answer = sqs.receive_message(
        QueueUrl=settings.BATCH_QUEUE_URL,
        MaxNumberOfMessages=count,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages = answer.get("Messages", [])
    arn = local_stack.provisioned.batch_queue_arn
    batch_items_work({"Records": [sqs_record(message, queue_arn=arn) for message in messages]})
    return len(messages)


def test_the_batch_page_follows_the_batch_until_every_result_is_in_the_grid(
    local_stack, gateway, make_user, sign_in, page, artifacts
):
    from playwright.sync_api import expect

    username, _ = make_user("batchpage")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(username)['access_token']}")
    sqs = _queue(local_stack)
    upload_ids = [
        direct_upload(api, encoded(photo_like(64, 64, seed=seed), "png"), "image/png") for seed in (1, 2, 3)
    ]
    created = api.post(
        "/api/v1/batches",
        {"task": "upscale_fast", "parameters": {}, "items": [{"upload_id": u} for u in upload_ids]},
        format="json",
    )
    assert created.status_code == 202, created.content
    batch_id = created.json()["id"]
    assert _work(sqs, local_stack, 1) == 1

    page_sign_in(page, gateway.url, username, PASSWORD)
    page.goto(f"{gateway.url}/batches/{batch_id}")
    expect(page.locator("[data-batch-percent]")).to_have_text("33%")
    expect(page.locator(".history-grid .history-item")).to_have_count(1)

    # The rest runs while the page is open: it follows without being reloaded by hand.
    worked = 0
    while worked < 2:
        received = _work(sqs, local_stack, 2 - worked)
        assert received, "the queue lost a message"
        worked += received
    expect(page.locator("[data-batch-percent]")).to_have_text("100%", timeout=20_000)
    expect(page.locator(".history-grid .history-item")).to_have_count(3, timeout=20_000)
    expect(page.locator('[data-count="SUCCEEDED"]')).to_have_text("3")
    page.screenshot(path=str(artifacts / "batch-page.png"), full_page=True)
    assert not page.script_errors, page.script_errors
