"""The local event source mapping against moto's SQS: Lambda's event shape, batch size, partial failures,
redelivery after the visibility timeout, and the dead-letter queue after maxReceiveCount."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from devstack.batch_poller import BatchPoller, failed_ids
from devstack.stack import Names, _client, batch_queues_provision


@pytest.fixture
def queue(local_stack):
    names = Names(
        batch_queue=f"poller-test-{uuid.uuid4().hex[:8]}", batch_visibility_timeout=1, batch_max_receives=2
    )
    made = batch_queues_provision(local_stack.moto_url, names)
    return {**made, "sqs": _client("sqs", local_stack.moto_url)}


def send(queue, *bodies: str) -> None:
    for body in bodies:
        queue["sqs"].send_message(QueueUrl=queue["batch_queue_url"], MessageBody=body)


def visible(queue, url_key: str = "batch_queue_url") -> list[str]:
    answer = queue["sqs"].receive_message(
        QueueUrl=queue[url_key], MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return sorted(message["Body"] for message in answer.get("Messages", []))


def poller(queue, function, **options) -> tuple[BatchPoller, list[dict]]:
    events: list[dict] = []

    def invoke(payload: bytes, timeout: float) -> bytes:
        event = json.loads(payload)
        events.append(event)
        return json.dumps(function(event)).encode()

    made = BatchPoller(
        sqs=queue["sqs"],
        queue_url=queue["batch_queue_url"],
        queue_arn=queue["batch_queue_arn"],
        invoke=invoke,
        **options,
    )
    return made, events


def fail_bodies(*bodies: str):
    def function(event: dict) -> dict:
        return {
            "batchItemFailures": [
                {"itemIdentifier": record["messageId"]}
                for record in event["Records"]
                if record["body"] in bodies
            ]
        }

    return function


def test_the_event_has_lambdas_shape_and_only_reported_failures_come_back(queue):
    send(queue, "a", "b", "c")
    mapping, events = poller(queue, fail_bodies("b"), batch_size=10)
    assert mapping.poll_once() == 3
    (record, *_) = events[0]["Records"]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == queue["batch_queue_arn"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"messageId", "receiptHandle", "body", "md5OfBody", "awsRegion", "messageAttributes"} <= set(
        record
    )
    assert mapping.poll_once() == 0  # "b" is invisible for the visibility timeout
    time.sleep(1.2)
    assert visible(queue) == ["b"]


def test_batch_size_bounds_each_invocation(queue):
    send(queue, *[str(number) for number in range(7)])
    mapping, events = poller(queue, fail_bodies(), batch_size=3)
    while mapping.poll_once():
        pass
    assert all(len(event["Records"]) <= 3 for event in events)
    assert sum(len(event["Records"]) for event in events) == 7


def test_a_function_error_returns_the_whole_batch(queue):
    send(queue, "x", "y")
    mapping, _ = poller(queue, lambda event: {"errorType": "Boom", "__error__": True}, batch_size=10)
    mapping.poll_once()
    time.sleep(1.2)
    assert visible(queue) == ["x", "y"]


def test_a_message_that_keeps_failing_moves_to_the_dlq_after_max_receives(queue):
    send(queue, "poison", "fine")
    mapping, events = poller(queue, fail_bodies("poison"), batch_size=10)
    counts = []
    for _ in range(3):
        if not mapping.poll_once():
            continue
        counts += [
            r["attributes"]["ApproximateReceiveCount"] for r in events[-1]["Records"] if r["body"] == "poison"
        ]
        time.sleep(1.2)
    assert counts == ["1", "2"]  # the third receive found it past maxReceiveCount (2): SQS moved it
    assert visible(queue, "batch_dlq_url") == ["poison"]
    assert visible(queue) == []


def test_answers_lambda_would_not_accept_fail_the_batch():
    records = [{"messageId": "m1"}, {"messageId": "m2"}]
    assert failed_ids(b'{"batchItemFailures": []}', records) == set()
    assert failed_ids(b'{"batchItemFailures": [{"itemIdentifier": "m2"}]}', records) == {"m2"}
    for answer in (
        b"not json",
        b"null",
        b'{"batchItemFailures": [{"itemIdentifier": ""}]}',
        b'{"batchItemFailures": [{"itemIdentifier": "zz"}]}',
    ):
        assert failed_ids(answer, records) == {"m1", "m2"}


def test_zappas_handler_routes_the_local_queues_records_to_the_worker(local_stack, tmp_path):
    """The settings module the Lambda workers load maps the local queue's ARN (the stage's queue name,
    moto's account) to the worker, and Zappa's own routing finds it from a record of Lambda's shape."""
    import importlib.util

    from devstack.batch_poller import sqs_record
    from devstack.lambda_workers import zappa_settings_module

    path = zappa_settings_module("production", {}, tmp_path)
    spec = importlib.util.spec_from_file_location("rendered_zappa_settings", path)
    rendered = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rendered)
    arn = local_stack.provisioned.batch_queue_arn
    assert rendered.AWS_EVENT_MAPPING[arn] == ["editor.services.batches.worker.batch_items_work"]

    from zappa.handler import LambdaHandler

    # Only its routing, not a cold start; object.__new__ leaves Zappa's singleton alone (LambdaHandler's own
    # __new__ would make this half-built instance the one every later in-process request gets).
    router = object.__new__(LambdaHandler)
    router.settings = rendered
    message = {"MessageId": "m", "ReceiptHandle": "r", "Body": "{}", "Attributes": {}}
    assert router.get_function_for_aws_event(sqs_record(message, queue_arn=arn)) == [
        "editor.services.batches.worker.batch_items_work"
    ]
