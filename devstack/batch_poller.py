"""The local stand-in for Lambda's SQS event source mapping: poll the batch queue, hand Zappa's handler
the event Lambda sends, and delete what the function did not report as failed.

As in AWS: up to `batch_size` messages per invocation, at most `concurrency` invocations at once; a
message stays invisible for the queue's visibility timeout while it is worked; messages the function
names in batchItemFailures (or all, if the function fails) are left to come back; SQS itself (moto,
with the queue's redrive policy) moves a message to the dead-letter queue after maxReceiveCount receives.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger("devstack.batches")

REGION = "us-east-1"


def sqs_record(message: dict, *, queue_arn: str) -> dict:
    """One SQS message as a record of Lambda's event (the shape Lambda documents for SQS)."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            name: attributes[name]
            for name in (
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SenderId",
                "ApproximateFirstReceiveTimestamp",
            )
            if name in attributes
        },
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def failed_ids(answer: bytes, records: list[dict]) -> set[str]:
    """The message ids to leave on the queue, read as Lambda reads the answer with
    ReportBatchItemFailures: a function error, or an answer it cannot read, fails the whole batch."""
    everything = {record["messageId"] for record in records}
    try:
        result = json.loads(answer)
    except ValueError:
        return everything
    if not isinstance(result, dict) or result.get("__error__"):
        return everything
    failures = result.get("batchItemFailures") or []
    ids = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in everything:
            return everything  # an empty or unknown id: Lambda treats the batch as failed
        ids.add(identifier)
    return ids


class BatchPoller:
    """Threads that each receive a batch of messages, invoke the function with it and delete the rest."""

    def __init__(
        self,
        *,
        sqs,
        queue_url: str,
        queue_arn: str,
        invoke: Callable[[bytes, float], bytes],
        batch_size: int = 5,
        concurrency: int = 2,
        function_timeout: float = 300,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.invoke = invoke
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.function_timeout = function_timeout
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.invocations = 0
        self._lock = threading.Lock()

    def start(self) -> BatchPoller:
        for number in range(self.concurrency):
            thread = threading.Thread(target=self._loop, name=f"sqs-poller-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)  # daemon threads: an invocation in flight ends with its worker

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll_once():
                    self._stop.wait(self.idle_wait)
            except Exception:  # the mapping keeps polling whatever one round met
                logger.warning("batch poller round failed", exc_info=True)
                self._stop.wait(1)

    # Short polls and a pause when the queue is empty: a long poll (WaitTimeSeconds) would hold the
    # local moto's one write lock (devstack/persistence.py) and stall every other AWS call meanwhile.
    idle_wait = 0.25

    def poll_once(self, wait_seconds: int = 0) -> int:
        """One receive, one invocation, the deletes; how many messages were received."""
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        if not messages:
            return 0
        records = [sqs_record(message, queue_arn=self.queue_arn) for message in messages]
        with self._lock:
            self.invocations += 1
        started = time.monotonic()
        try:
            result = self.invoke(json.dumps({"Records": records}).encode(), self.function_timeout)
        except Exception as exc:  # the function errored, died or ran out of time: the batch comes back
            logger.warning("batch worker invocation failed: %s", type(exc).__name__)
            return len(messages)
        keep = failed_ids(result, records)
        done = [record for record in records if record["messageId"] not in keep]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                    for index, record in enumerate(done[start : start + 10])
                ],
            )
        logger.debug(
            "batch invocation",
            extra={
                "messages": len(messages),
                "failed": len(keep),
                "ms": int((time.monotonic() - started) * 1000),
            },
        )
        return len(messages)


class BatchWorker:
    """The batch queue's event source mapping: Lambda workers of their own (as the mapping's concurrent
    invocations are apart from the API's) fed by the poller."""

    def __init__(self, stack, environment: dict[str, str]) -> None:
        import tempfile

        from deploy.stack_parameters import batch_event, stack_parameters, stage_settings
        from devstack.lambda_workers import LambdaWorkers, zappa_settings_module
        from devstack.stack import _client

        event = batch_event(stage_settings("production"))["event_source"]
        timeout = int(stack_parameters("production")["LambdaTimeoutSeconds"])
        concurrency = int(os.environ.get("BATCH_CONCURRENCY", "2"))
        self._tmp = tempfile.TemporaryDirectory(prefix="imageedit-batch-worker-")
        zappa_settings_module("production", environment, Path(self._tmp.name))
        self.workers = LambdaWorkers(
            settings_dir=Path(self._tmp.name),
            environment=environment,
            count=concurrency,
            function_name="imageedit-local-batch",
            timeout_seconds=timeout,
        ).start()
        self.poller = BatchPoller(
            sqs=_client("sqs", stack.moto_url),
            queue_url=stack.provisioned.batch_queue_url,
            queue_arn=stack.provisioned.batch_queue_arn,
            invoke=self.workers.invoke,
            batch_size=int(event["batch_size"]),
            concurrency=concurrency,
            function_timeout=timeout,
        ).start()

    def stop(self) -> None:
        self.poller.stop()
        self.workers.stop()
        self._tmp.cleanup()
