"""History at scale: pages of 20 out of a person's 10,000 edits, newest first, against a raw Query.

The table is loaded with batch writes, not through the API. For the first page and the 50th, the
app's own time (wall - time inside DynamoDB calls) stands beside one raw boto3 Query of the same page
(client-side wall time), sampled in turn.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

from bench.common import PASSWORD, AwsCallTimer, figure, local_stack, scaled, user_signed_in

PAGE = 20


def _load(sub: str, items: int) -> list[tuple[str, str]]:
    """Write the edits with batch writes; return their (request_timestamp, id), newest first."""
    from editor.models import SUCCEEDED, ImageEdit, OutputImage

    written = []
    with ImageEdit.batch_write() as batch:
        for index in range(items):
            edit_id = str(uuid.uuid4())
            prefix = f"users/{sub}/edits/{edit_id}"
            day, second = divmod(index, 86_400)
            clock = f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
            timestamp = f"2026-10-{1 + day:02d}T{clock}.{index:06d}Z"
            written.append((timestamp, edit_id))
            batch.save(
                ImageEdit(
                    id=edit_id,
                    user_id=sub,
                    request_timestamp=timestamp,
                    status=SUCCEEDED,
                    task="inpaint",
                    prompt=f"edit {index}",
                    image_reference=f"{prefix}/input.png",
                    mask_reference=f"{prefix}/mask.png",
                    outputs=[
                        OutputImage(
                            key=f"{prefix}/output-0.png", content_type="image/png", width=1024, height=1024
                        )
                    ],
                )
            )
    return sorted(written, reverse=True)


def _start_key(sub: str, newest_first: list[tuple[str, str]], page: int) -> dict:
    """The index key of the last item before `page`: where a Query of that page starts.

    Computed from what was written rather than walked to (49 Queries over 10,000 items in moto take
    minutes); the app's cursor is the same key in base64url JSON, and the run checks both pages agree.
    """
    timestamp, edit_id = newest_first[(page - 1) * PAGE - 1]
    return {"id": {"S": edit_id}, "user_id": {"S": sub}, "request_timestamp": {"S": timestamp}}


def _cursor(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def run() -> list[dict]:
    items, last_page, samples = scaled(10_000, 60), scaled(50, 3), scaled(15, 2)
    timer = AwsCallTimer()
    try:
        with local_stack():
            return _measure(items, last_page, samples, timer)
    finally:
        timer.close()


def _measure(items: int, last_page: int, samples: int, timer: AwsCallTimer) -> list[dict]:
    import boto3
    from django.conf import settings
    from django.test import Client
    from rest_framework.test import APIClient

    settings.ALLOWED_HOSTS = ["testserver"]
    sub, token = user_signed_in("history-bench")
    started = time.perf_counter()
    newest_first = _load(sub, items)
    print(f"loaded {items} edits with batch writes in {time.perf_counter() - started:.1f} s", flush=True)

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    browser = Client()
    signed_in = browser.post("/signin", {"username": "history-bench", "password": PASSWORD})
    if signed_in.status_code != 302:
        raise RuntimeError(f"sign-in for the history page failed: {signed_in.status_code}")
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=settings.AWS_ENDPOINT_URL, region_name=settings.AWS_REGION
    )
    query = {
        "TableName": settings.DYNAMODB_TABLE,
        "IndexName": "user_id-request_timestamp-index",
        "KeyConditionExpression": "user_id = :user",
        "ExpressionAttributeValues": {":user": {"S": sub}},
        "ScanIndexForward": False,
        "Limit": PAGE,
    }
    start_key = _start_key(sub, newest_first, last_page)
    cursor = _cursor(start_key)
    app_page = api.get("/api/v1/edits", {"limit": PAGE, "cursor": cursor})
    raw_page = dynamodb.query(**query, ExclusiveStartKey=start_key)["Items"]
    if app_page.status_code != 200 or [item["id"] for item in app_page.json()["results"]] != [
        item["id"]["S"] for item in raw_page
    ]:
        raise RuntimeError(
            f"page {last_page} differs between the API and the raw Query: {app_page.content[:200]!r}"
        )

    def raw(key):
        return lambda: dynamodb.query(**query, **({"ExclusiveStartKey": key} if key else {}))

    cases = (
        ("history API, page 1", "API p1", lambda: api.get("/api/v1/edits", {"limit": PAGE}), raw(None)),
        (
            f"history API, page {last_page}",
            f"API p{last_page}",
            lambda: api.get("/api/v1/edits", {"limit": PAGE, "cursor": cursor}),
            raw(start_key),
        ),
        ("history page (HTML), page 1", "HTML p1", lambda: browser.get("/history"), raw(None)),
    )
    rows = []
    for name, short, app_call, raw_call in cases:
        own, aws, queries, raw_walls = [], [], [], []
        for index in range(samples + 1):
            timer.take()
            started = time.perf_counter()
            response = app_call()
            elapsed = (time.perf_counter() - started) * 1000
            aws_ms, _ = timer.take()
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {response.status_code}")
            started = time.perf_counter()
            count = len(raw_call()["Items"])
            raw_ms = (time.perf_counter() - started) * 1000
            raw_aws_ms, _ = timer.take()
            if count != PAGE:
                raise RuntimeError(f"the raw query found {count} items, not {PAGE}")
            if index >= 1:  # the first warms connections and caches
                own.append(elapsed - aws_ms)
                aws.append(aws_ms)
                queries.append(raw_ms - raw_aws_ms)
                raw_walls.append(raw_ms)
        # Like the app's own time, the Query's client-side time leaves out the wait on moto, whose Query
        # reads every item of the index (seconds at 10,000 here, where DynamoDB reads one page).
        baseline = figure(f"  raw boto3 Query, same page, client side ({short})", queries)
        rows += [
            figure(
                f"{name} of {items:,}: app's own time",
                own,
                baseline=baseline,
                max_p50=20,
                max_ratio=2,
            ),
            baseline,
            figure(f"  app's wait on DynamoDB/moto ({short})", aws),
            figure(
                f"  raw boto3 Query's wait on moto ({short})",
                [w - q for w, q in zip(raw_walls, queries, strict=True)],
            ),
        ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
