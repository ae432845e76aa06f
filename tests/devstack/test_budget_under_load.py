"""The daily budget in USD holds exactly under 50 concurrent requests from one person."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from rest_framework.test import APIClient

from editor.models import QuotaCounter
from editor.services.bedrock.pricing import estimated_cost
from editor.services.spend import micro_usd
from tests.editor.helpers import small_png

pytestmark = pytest.mark.slow  # a load: many concurrent edits

FAST_UPSCALE = "stability.stable-fast-upscale-v1:0"


def test_50_concurrent_requests_spend_exactly_the_budget(api, settings):
    price = estimated_cost(FAST_UPSCALE, 1)  # a 64x64 upscale runs the fast upscaler
    settings.DAILY_EDIT_QUOTA = 1000
    settings.DAILY_BUDGET_USD = 10 * price + price / 2  # room for ten, not eleven
    day = dt.datetime.now(dt.UTC).date()
    start = threading.Barrier(50)
    answers: list[tuple[int, dict]] = []

    def post() -> None:
        client = APIClient()
        client.credentials(**api._credentials)
        handle = io.BytesIO(small_png())
        handle.name = "photo.png"
        start.wait()
        response = client.post(
            "/api/v1/edits", {"task": "upscale", "image": handle, "wait": 0}, format="multipart"
        )
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if dt.datetime.now(dt.UTC).date() != day:
        return  # the run crossed midnight UTC: two days' budgets, nothing exact to check

    accepted = [body["id"] for status, body in answers if status in (201, 202)]
    refused = [body["error"] for status, body in answers if status == 429]
    assert len(accepted) + len(refused) == 50, sorted({status for status, _ in answers})
    assert len(accepted) == 10
    assert {error["code"] for error in refused} == {"daily_budget_exceeded"}
    assert all("resets at" in error["message"] for error in refused)
    counter = QuotaCounter.get(f"quota#{api.user['sub']}#{day.isoformat()}", consistent_read=True)
    assert counter.used == 10 and counter.spent_micro_usd == 10 * micro_usd(price)
    for edit_id in accepted:  # let their jobs end while the stack is up
        assert api.get(f"/api/v1/edits/{edit_id}?wait=20").json()["status"] in ("SUCCEEDED", "FAILED")
