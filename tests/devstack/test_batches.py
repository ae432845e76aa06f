"""Batches the way a user sends them: `make run`, the local API Gateway, the queue and its worker."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import requests

from tests.devstack.batch_client import BatchClient
from tests.devstack.running import RunningStack

pytestmark = pytest.mark.slow  # runs batches through `make run` processes


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """One stack for this module's tests (each test makes its own batch and compares its own figures)."""
    stack = RunningStack(tmp_path_factory.mktemp("batches") / "state").wait_ready()
    RunningStack.started.remove(stack)  # outlives each test; stopped below
    try:
        yield BatchClient(stack)
    finally:
        stack.stop()


def spend(usage: dict) -> float:
    return round(usage["estimated_spend_usd"], 6)


def test_fifty_items_end_succeeded_each_counted_once(client):
    before = client.usage()
    uploads = [client.upload(seed) for seed in range(5)]
    created = client.create([uploads[number % 5] for number in range(50)])
    assert created["total"] == 50 and created["counts"] == {"QUEUED": 50}
    charged = client.usage()
    assert charged["edits"] - before["edits"] == 50  # the whole batch, up front
    batch = client.wait(created["id"])
    assert batch["status"] == "COMPLETED", batch
    assert batch["counts"]["SUCCEEDED"] == 50 and batch["progress"] == 1.0
    edits = client.edits(created["id"])
    assert len(edits) == 50 and len({edit["id"] for edit in edits}) == 50
    assert sorted(edit["batch_index"] for edit in edits) == list(range(50))
    assert {edit["status"] for edit in edits} == {"SUCCEEDED"}
    assert all(edit["outputs"] and edit["outputs"][0]["width"] == 256 for edit in edits)  # fast upscale: 4x
    after = client.usage()
    assert after["edits"] - before["edits"] == 50  # never a second charge for an item
    assert spend(after) - spend(before) == pytest.approx(created["charged_usd"])
    assert batch["cost_so_far_usd"] == pytest.approx(created["charged_usd"])
    assert client.get("batches")["results"][0]["id"] == created["id"]


def test_a_poison_item_ends_failed_and_in_the_dlq_while_the_rest_finish(client):
    before = client.usage()
    uploads = [client.upload(100 + seed) for seed in range(6)]
    sub = client.get("me")["sub"]
    client.aws("s3").delete_object(Bucket="imageedit-local", Key=f"users/{sub}/uploads/{uploads[3]}")
    created = client.create(uploads)
    batch = client.wait(created["id"])
    assert batch["counts"]["SUCCEEDED"] == 5 and batch["counts"]["FAILED"] == 1, batch
    (failed,) = [edit for edit in client.edits(created["id"]) if edit["status"] == "FAILED"]
    assert failed["batch_index"] == 3
    assert failed["error"]["code"] == "upload_not_found" and failed["error"]["message"]
    assert [json.loads(body)["upload_id"] for body in client.dead_letters()] == [uploads[3]]
    assert client.usage()["edits"] - before["edits"] == 5  # the item that never ran was given back


def test_cancel_stops_what_has_not_started(client):
    before = client.usage()
    upload = client.upload(200)
    client.engine_delay(1.0, count=40)  # one second a model call: the batch is surely mid-way when cancelled
    created = client.create([upload] * 20)
    client.wait(created["id"], until=lambda batch: batch["counts"]["SUCCEEDED"] >= 2)
    response = client.get(f"batches/{created['id']}")  # what had started just before the cancel
    started = sum(response["counts"][state] for state in ("SUCCEEDED", "RUNNING", "PENDING"))
    cancelled = requests.delete(client.url(f"batches/{created['id']}"), headers=client.headers, timeout=30)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED", cancelled.text
    batch = client.wait(created["id"], until=lambda batch: batch["finished_at"] is not None)
    counts = batch["counts"]
    assert batch["status"] == "CANCELLED"
    assert counts["SUCCEEDED"] + counts["FAILED"] + counts["CANCELLED"] == 20
    # Only what had started (and an item a worker was creating at that instant, one per worker) runs.
    assert counts["SUCCEEDED"] <= started + 2 and counts["CANCELLED"] >= 20 - started - 2, (started, counts)
    states = Counter(
        (edit["status"], (edit["error"] or {}).get("code")) for edit in client.edits(created["id"])
    )
    assert states[("SUCCEEDED", None)] == counts["SUCCEEDED"]
    assert client.usage()["edits"] - before["edits"] == counts["SUCCEEDED"]  # cancelled items given back
