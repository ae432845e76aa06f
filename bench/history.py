"""History: one page of 20 edits out of a person's 1,000, newest first (budget: p50 <= 20 ms)."""

from __future__ import annotations

import time
import uuid

from bench.common import AwsCallTimer, local_stack, report

ITEMS = 1000


def run(samples: int = 50) -> list[dict]:
    timer = AwsCallTimer()
    with local_stack():
        from django.conf import settings
        from django.test import Client
        from rest_framework.test import APIClient

        from editor.models import SUCCEEDED, ImageEdit, OutputImage
        from editor.services.cognito import cognito_sign_in, cognito_user_create

        settings.ALLOWED_HOSTS = ["testserver"]
        sub = cognito_user_create(username="history-bench", password="Bench-password-1")
        token = cognito_sign_in(username="history-bench", password="Bench-password-1")["access_token"]
        with ImageEdit.batch_write() as batch:
            for index in range(ITEMS):
                edit_id = str(uuid.uuid4())
                prefix = f"users/{sub}/edits/{edit_id}"
                batch.save(
                    ImageEdit(
                        id=edit_id,
                        user_id=sub,
                        request_timestamp=f"2026-11-{1 + index // 100:02d}T00:00:{index % 60:02d}"
                        f".{index:06d}Z",
                        status=SUCCEEDED,
                        task="inpaint",
                        prompt=f"edit {index}",
                        image_reference=f"{prefix}/input.png",
                        mask_reference=f"{prefix}/mask.png",
                        outputs=[
                            OutputImage(
                                key=f"{prefix}/output-0.png",
                                content_type="image/png",
                                width=1024,
                                height=1024,
                            )
                        ],
                    )
                )
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        browser = Client()
        signed_in = browser.post("/signin", {"username": "history-bench", "password": "Bench-password-1"})
        assert signed_in.status_code == 302, signed_in.status_code
        figures = []
        for name, client, path in (
            ("history API", api, "/api/v1/edits?limit=20"),
            ("history page", browser, "/history"),
        ):
            timings, aws_times = [], []
            for index in range(samples + 3):
                timer.take()
                started = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - started) * 1000
                aws_ms, _ = timer.take()
                assert response.status_code == 200, response.status_code
                if index >= 3:
                    timings.append(elapsed)
                    aws_times.append(aws_ms)
            figures += [
                report(f"{name}, 20 of {ITEMS} edits: wall", timings),
                report("  of which DynamoDB (moto: Query, session)", aws_times),
                report(
                    f"{name}: the app's own time (wall - AWS)",
                    [t - a for t, a in zip(timings, aws_times, strict=True)],
                    budget_ms=20,
                ),
            ]
    return figures


if __name__ == "__main__":
    run()
