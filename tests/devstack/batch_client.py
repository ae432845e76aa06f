"""A REST client of the batches API for tests that run `make run` (through the local API Gateway)."""

from __future__ import annotations

import io
import time

import boto3
import requests
from PIL import Image

from devstack.stack import CREDENTIALS, REGION, Names
from tests.devstack.running import RunningStack


class BatchClient:
    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.headers = {"Authorization": f"Bearer {stack.token()}"}

    def url(self, path: str) -> str:
        return f"{self.stack.base}/api/v1/{path}"

    def get(self, path: str) -> dict:
        response = requests.get(self.url(path), headers=self.headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def upload(self, seed: int) -> str:
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), (seed * 37 % 256, seed * 91 % 256, 120)).save(buffer, "PNG")
        data = buffer.getvalue()
        offer = requests.post(
            self.url("uploads"),
            json={"content_type": "image/png", "size": len(data)},
            headers=self.headers,
            timeout=30,
        )
        assert offer.status_code == 201, offer.text
        stored = requests.post(
            offer.json()["url"],
            data=offer.json()["fields"],
            files={"file": ("p.png", data, "image/png")},
            timeout=30,
        )
        assert stored.status_code in (200, 201, 204), stored.text
        return offer.json()["upload_id"]

    def create(self, upload_ids: list[str], task: str = "upscale_fast") -> dict:
        response = requests.post(
            self.url("batches"),
            json={
                "task": task,
                "parameters": {},
                "items": [{"upload_id": upload_id} for upload_id in upload_ids],
            },
            headers=self.headers,
            timeout=60,
        )
        assert response.status_code == 202, response.text
        return response.json()

    def wait(
        self, batch_id: str, *, until=lambda batch: batch["status"] != "RUNNING", limit: float = 240
    ) -> dict:
        deadline = time.monotonic() + limit
        while True:
            batch = self.get(f"batches/{batch_id}")
            if until(batch):
                return batch
            assert time.monotonic() < deadline, f"the batch did not get there in time: {batch}"
            time.sleep(0.5)

    def edits(self, batch_id: str) -> list[dict]:
        edits, cursor = [], None
        while True:
            page = self.get(f"batches/{batch_id}/edits?limit=100" + (f"&cursor={cursor}" if cursor else ""))
            edits += page["results"]
            cursor = page["next_cursor"]
            if not cursor:
                return edits

    def usage(self) -> dict:
        return self.get("usage")

    def aws(self, service: str):
        moto = next(line.split()[3] for line in self.stack.lines if "local AWS (moto)" in line)
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=moto,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def dead_letters(self) -> list[str]:
        sqs = self.aws("sqs")
        url = sqs.get_queue_url(QueueName=Names().batch_dead_letter_queue)["QueueUrl"]
        bodies = []
        while True:
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            if not answer.get("Messages"):
                return bodies
            bodies += [message["Body"] for message in answer["Messages"]]

    def engine_delay(self, seconds: float, count: int) -> None:
        bedrock = next(line.split()[-1] for line in self.stack.lines if "local Bedrock engine" in line)
        response = requests.post(
            f"{bedrock}/_engine/faults",
            json={"error": "delay", "delay_seconds": seconds, "count": count},
            timeout=5,
        )
        assert response.status_code == 200, response.text
