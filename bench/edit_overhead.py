"""Per-edit overhead of the app with a zero-latency engine, 1 MP PNG (budget: p50 <= 30 ms).

The engine answers InvokeModel at once with a precomputed image. The wall time of each request also
holds the round trips to moto (DynamoDB, S3), which stand in for AWS and are slower here than AWS is
from Lambda; so the time spent inside AWS calls is measured apart (at botocore's HTTP send) and the
app's own overhead is the wall time less that: validation, image checks, encoding, the job hand-off and
the response.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.common import AwsCallTimer, local_stack, report

SIDE = 1024  # 1 MP


def _photo_png(noise: float) -> bytes:
    """A 1 MP PNG of gradients; with sensor-like noise it compresses like a real photo (~2 MB)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    ramp = np.linspace(0, 200, SIDE, dtype=np.float32)
    rgb = np.stack(
        [
            np.add.outer(ramp * 0.5, ramp * 0.4),
            np.add.outer(ramp * 0.3, ramp * 0.6),
            np.add.outer(ramp * 0.6, ramp * 0.2),
        ],
        axis=-1,
    )
    rgb += rng.normal(0, noise, rgb.shape)
    out = io.BytesIO()
    Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).save(out, "PNG")
    return out.getvalue()


def _mask_png() -> bytes:
    """What an API client sends: an 8-bit grey PNG, white where the image should change."""
    from PIL import Image

    mask = Image.new("L", (SIDE, SIDE), 0)
    mask.paste(255, (280, 280, 720, 720))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def zero_latency_engine(answer_png: bytes) -> ThreadingHTTPServer:
    body = json.dumps(
        {"images": [base64.b64encode(answer_png).decode()], "seeds": [1], "finish_reasons": [None]}
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("x-imageedit-engine", "zero-latency-bench")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(samples: int = 30) -> list[dict]:
    """Two inputs: a photo-like PNG (~2 MB) and a smooth one (small); the bytes are what cost."""
    return scenario("photo-like", 6.0, samples) + scenario("smooth", 0.0, samples)


def scenario(name: str, noise: float, samples: int) -> list[dict]:
    timer = AwsCallTimer()
    with local_stack():
        from django.conf import settings
        from rest_framework.test import APIClient

        from editor.services.aws import aws_clients_reset
        from editor.services.cognito import cognito_sign_in, cognito_user_create

        photo = _photo_png(noise)
        mask = _mask_png()
        print(f"input: {len(photo) / 1e6:.2f} MB PNG, {SIDE}x{SIDE}; mask {len(mask) / 1e3:.1f} kB")
        engine = zero_latency_engine(photo)
        settings.BEDROCK_ENDPOINT_URL = f"http://127.0.0.1:{engine.server_address[1]}"
        settings.DAILY_EDIT_QUOTA = 10_000
        settings.ALLOWED_HOSTS = ["testserver"]
        aws_clients_reset()
        cognito_user_create(username="bench", password="Bench-password-1")
        token = cognito_sign_in(username="bench", password="Bench-password-1")["access_token"]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

        timings, aws_times, overheads, calls = [], [], [], []
        for index in range(samples + 3):
            timer.take()
            started = time.perf_counter()
            response = client.post(
                "/api/v1/edits",
                {
                    "task": "inpaint",
                    "prompt": "a red door",
                    "image": _upload("photo.png", photo),
                    "mask": _upload("mask.png", mask),
                },
                format="multipart",
            )
            elapsed = (time.perf_counter() - started) * 1000
            aws_ms, aws_calls = timer.take()
            assert response.status_code == 201 and response.json()["status"] == "SUCCEEDED", response.content[
                :300
            ]
            if index >= 3:  # the first requests warm caches and connections
                timings.append(elapsed)
                aws_times.append(aws_ms)
                overheads.append(elapsed - aws_ms)
                calls.append(aws_calls)
        engine.shutdown()
    print(f"AWS calls per edit (incl. the engine call): {sorted(calls)[len(calls) // 2]}")
    return [
        report(f"edit wall time, local stack ({name} 1 MP PNG)", timings),
        report("  of which inside AWS calls (moto + engine)", aws_times),
        report(f"edit overhead of the app, {name} (wall - AWS)", overheads, budget_ms=30),
    ]


def _upload(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


if __name__ == "__main__":
    run()
