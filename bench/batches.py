"""Batches on the local stack: a 500-item batch's throughput, and the worker's own time per item beside a
single edit's.

The worker is the production function (editor.services.batches.worker.batch_items_work) fed the queue's
real messages as Lambda's event, `BATCH_SIZE` records an invocation; the single edit is POST
/api/v1/edits through Django, waiting for its result. Both run fast upscale on the same small photo
against the same local engine, in this process, so "own time" is wall time minus the time inside AWS
calls (botocore's HTTP sends: DynamoDB, S3, SQS, the engine). Throughput runs two workers against two
single-edit clients (the local stack's default concurrency); own time is measured one at a time, so the
AWS time subtracted is the item's own.
"""

from __future__ import annotations

import io
import threading
import time

from bench.common import AwsCallTimer, figure, local_stack, scaled, user_signed_in

BATCH_SIZE = 5
CONCURRENCY = 2


def _photo() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (180, 90, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def _client(token: str):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _upload(client, data: bytes) -> str:
    import requests

    offer = client.post("/api/v1/uploads", {"content_type": "image/png", "size": len(data)}, format="json")
    assert offer.status_code == 201, offer.content[:300]
    stored = requests.post(
        offer.json()["url"],
        data=offer.json()["fields"],
        files={"file": ("p.png", data, "image/png")},
        timeout=30,
    )
    assert stored.status_code in (200, 201, 204), stored.text
    return offer.json()["upload_id"]


def _batch(client, upload_id: str, items: int) -> tuple[str, float]:
    started = time.perf_counter()
    response = client.post(
        "/api/v1/batches",
        {"task": "upscale_fast", "parameters": {}, "items": [{"upload_id": upload_id}] * items},
        format="json",
    )
    assert response.status_code == 202, response.content[:300]
    return response.json()["id"], (time.perf_counter() - started) * 1000


def _work(stack, *, items: int, threads: int, timer: AwsCallTimer | None) -> tuple[float, list[float]]:
    """Workers receive and work messages until `items` ended; (wall seconds, own ms per item if timed)."""
    from devstack.batch_poller import sqs_record
    from devstack.stack import _client as aws
    from editor.services.batches.worker import batch_items_work

    sqs, url, arn = (
        aws("sqs", stack.moto_url),
        stack.provisioned.batch_queue_url,
        stack.provisioned.batch_queue_arn,
    )
    done, own, lock = [0], [], threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if done[0] >= items:
                    return
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=BATCH_SIZE, AttributeNames=["All"])
            messages = answer.get("Messages", [])
            if not messages:
                time.sleep(0.05)
                continue
            if timer:
                timer.take()
            started = time.perf_counter()
            result = batch_items_work({"Records": [sqs_record(m, queue_arn=arn) for m in messages]})
            wall = (time.perf_counter() - started) * 1000
            if timer:
                aws_ms, _ = timer.take()
                own.extend([(wall - aws_ms) / len(messages)] * len(messages))
            failed = {failure["itemIdentifier"] for failure in result["batchItemFailures"]}
            finished = [m for m in messages if m["MessageId"] not in failed]
            for start in range(0, len(finished), 10):
                sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(finished[start : start + 10])
                    ],
                )
            with lock:
                done[0] += len(finished)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started, own


def _singles(client, upload_id: str, *, edits: int, threads: int, timer: AwsCallTimer | None):
    """POST /api/v1/edits (waiting for the result) `edits` times from `threads` clients."""
    own, lock, left = [], threading.Lock(), [edits]

    def sender() -> None:
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            if timer:
                timer.take()
            started = time.perf_counter()
            response = client.post(
                "/api/v1/edits", {"task": "upscale_fast", "upload_id": upload_id, "wait": 20}, format="json"
            )
            wall = (time.perf_counter() - started) * 1000
            assert response.status_code == 201 and response.json()["status"] == "SUCCEEDED", response.content[
                :300
            ]
            if timer:
                aws_ms, _ = timer.take()
                own.append(wall - aws_ms)

    started = time.perf_counter()
    pool = [threading.Thread(target=sender) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started, own


def run() -> list[dict]:
    from django.conf import settings

    items, singles, timed = scaled(500, 10), scaled(60, 4), scaled(60, 5)
    with local_stack() as stack:
        settings.DAILY_EDIT_QUOTA = 100_000
        settings.DAILY_BUDGET_USD = float("inf")
        settings.MONTHLY_BUDGET_USD = float("inf")
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # Django's test client, in process
        client = _client(user_signed_in("bench-batches")[1])
        upload_id = _upload(client, _photo())
        _batch(client, upload_id, 2)  # warm: first requests, clients, models
        _work(stack, items=2, threads=1, timer=None)

        batch_id, accept_ms = _batch(client, upload_id, items)
        batch_wall, _ = _work(stack, items=items, threads=CONCURRENCY, timer=None)
        single_wall, _ = _singles(client, upload_id, edits=singles, threads=CONCURRENCY, timer=None)
        assert client.get(f"/api/v1/batches/{batch_id}").json()["counts"]["SUCCEEDED"] == items

        timer = AwsCallTimer()
        try:
            _batch(client, upload_id, timed)
            _, worker_own = _work(stack, items=timed, threads=1, timer=timer)
            _, single_own = _singles(client, upload_id, edits=timed, threads=1, timer=timer)
        finally:
            timer.close()
    single_rate = figure(
        f"single edits/s, {singles} edits, {CONCURRENCY} clients", [singles / single_wall], unit="/s"
    )
    single_row = figure("single edit: app's own time (wall - AWS calls)", single_own)
    return [
        figure(f"batches: POST of {items} items (charge + queue)", [accept_ms]),
        figure(
            f"batches: {items}-item throughput, {CONCURRENCY} workers",
            [items / batch_wall],
            unit="/s",
            baseline=single_rate,
            note=f"batch size {BATCH_SIZE}; local engine, 64x64 fast upscale",
        ),
        single_rate,
        figure(
            "batches: worker's own time per item (wall - AWS calls)",
            worker_own,
            baseline=single_row,
            note="the same services as a single edit, no HTTP request",
        ),
        single_row,
    ]


if __name__ == "__main__":
    run()
