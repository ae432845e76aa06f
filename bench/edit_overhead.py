"""Per-edit overhead of the app against a minimal handler, both calling the same zero-latency engine.

The engine answers InvokeModel at once with a precomputed image. Each request's wall time also holds
the round trips to moto (DynamoDB, S3) and to the engine, which stand in for AWS; the time inside AWS
calls is measured apart (at botocore's HTTP send), and overhead = wall - that. The baseline is what any
handler must do: parse the multipart upload, decode the photo and mask with Pillow, base64 them into the
same Bedrock body, call the same engine with boto3, decode the answer and return it. Both get the same
multipart bytes, and their samples alternate, so the machine's drift touches them alike.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.common import (
    AwsCallTimer,
    bedrock_point_at,
    figure,
    local_stack,
    scaled,
    unmeasured,
    user_signed_in,
)
from bench.stages import StageTimer, stages_table

SIDE = 1024  # 1 MP
BOUNDARY = "BenchBoundary7MA4YWxkTrZu0gW"
MODEL_ID = "us.stability.stable-image-inpaint-v1:0"


def photo_png(noise: float, side: int = SIDE) -> bytes:
    """A PNG of gradients; with sensor-like noise it compresses like a real photo (~2 MB at 1 MP)."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(_pixels(noise, side, side)).save(out, "PNG")
    return out.getvalue()


def _pixels(noise: float, width: int, height: int):
    import numpy as np

    rng = np.random.default_rng(7)
    across, down = np.linspace(0, 200, width, dtype=np.float32), np.linspace(0, 200, height, dtype=np.float32)
    rgb = np.stack(
        [np.add.outer(down * a, across * b) for a, b in ((0.5, 0.4), (0.3, 0.6), (0.6, 0.2))], axis=-1
    )
    rgb += rng.normal(0, noise, rgb.shape).astype(np.float32)
    return rgb.clip(0, 255).astype(np.uint8)


def photo_jpeg(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(_pixels(3.0, width, height)).save(out, "JPEG", quality=90)
    return out.getvalue()


def mask_png(width: int = SIDE, height: int = SIDE) -> bytes:
    """What an API client sends: an 8-bit grey PNG, white where the image should change."""
    from PIL import Image

    mask = Image.new("L", (width, height), 0)
    mask.paste(255, (width * 27 // 100, height * 27 // 100, width * 70 // 100, height * 70 // 100))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def zero_latency_engine() -> ThreadingHTTPServer:
    """A Bedrock stand-in that answers at once with a photo-like PNG of the size it was sent, as
    Stability's services do (answers are made once per size, so only the first of a size waits)."""
    from PIL import Image

    answers: dict[tuple[int, int], bytes] = {}
    lock = threading.Lock()

    def answer_for(request: bytes) -> bytes:
        image = base64.b64decode(json.loads(request)["image"])
        size = Image.open(io.BytesIO(image)).size
        with lock:
            if size not in answers:
                out = io.BytesIO()
                Image.fromarray(_pixels(6.0, *size)).save(out, "PNG", compress_level=1)
                images = [base64.b64encode(out.getvalue()).decode()]
                answers[size] = json.dumps(
                    {"images": images, "seeds": [1], "finish_reasons": [None]}
                ).encode()
            return answers[size]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = answer_for(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("x-imageedit-engine", "zero-latency-bench")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> bytes:
    """The request body a browser or curl sends for the edit form."""
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, data) in files.items():
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def minimal_handler(body: bytes, bedrock) -> bytes:
    """The baseline: parse the upload, decode the photo and mask, build the same Stability body, call the
    engine, decode its answer and return it (design.md 7: "a minimal handler that decodes, builds the same
    Bedrock body, calls the same engine and returns"; any handler must decode an upload to know it is an
    image of the size it claims)."""
    from PIL import Image

    fields = {}
    for part in body.split(f"--{BOUNDARY}".encode())[1:-1]:
        head, _, value = part.partition(b"\r\n\r\n")
        name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
        fields[name] = value[:-2]
    for name in ("image", "mask"):
        Image.open(io.BytesIO(fields[name])).load()
    request = {
        "image": base64.b64encode(fields["image"]).decode(),
        "prompt": fields["prompt"].decode(),
        "mask": base64.b64encode(fields["mask"]).decode(),
        "seed": 1,
        "output_format": "png",
    }
    response = bedrock.invoke_model(
        modelId=MODEL_ID, body=json.dumps(request), contentType="application/json", accept="application/json"
    )
    answer = base64.b64decode(json.loads(response["body"].read())["images"][0])
    Image.open(io.BytesIO(answer)).load()
    return answer


def run() -> list[dict]:
    """Photo-like (~2 MB) and smooth 1 MP PNGs, then a 12 MP JPEG if the app takes one."""
    samples = scaled(30, 2)
    rows: list[dict] = []
    timer = AwsCallTimer()
    stages = None
    try:
        with local_stack():
            client, bedrock, engine = _app_client()
            stages = StageTimer()
            for name, noise in (("photo-like", 6.0), ("smooth", 0.0)):
                rows += _scenario(name, photo_png(noise), mask_png(), client, bedrock, timer, samples, stages)
            rows.append(_twelve_megapixels(client))
            engine.shutdown()
    finally:
        if stages is not None:
            stages.close()
        timer.close()
    return rows


_DETAILS: dict[str, tuple[str, list]] = {}


def details() -> tuple[str, dict]:
    """Where each scenario's own time goes, stage by stage (bench.stages)."""
    text = "\n\n".join(f"{name}:\n{table}" for name, (table, _) in _DETAILS.items())
    return text, {name: data for name, (_, data) in _DETAILS.items()}


def _app_client():
    from django.conf import settings
    from rest_framework.test import APIClient

    engine = zero_latency_engine()
    bedrock = bedrock_point_at(f"http://127.0.0.1:{engine.server_address[1]}")
    settings.DAILY_EDIT_QUOTA = 100_000
    settings.ALLOWED_HOSTS = ["testserver"]
    _, token = user_signed_in("bench")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client, bedrock, engine


def _post(client, body: bytes):
    return client.post("/api/v1/edits", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")


def _scenario(name, photo, mask, client, bedrock, timer, samples, stages) -> list[dict]:
    print(f"input ({name}): {len(photo) / 1e6:.2f} MB PNG, {SIDE}x{SIDE}; mask {len(mask) / 1e3:.1f} kB")
    body = multipart(
        {"task": "inpaint", "prompt": "a red door"},
        {"image": ("photo.png", photo), "mask": ("mask.png", mask)},
    )
    app, app_aws, base, base_aws, protocol, signing, calls, split = [], [], [], [], [], [], [], []
    for index in range(samples + 3):
        timer.take()
        stages.take()
        started = time.perf_counter()
        response = _post(client, body)
        elapsed = (time.perf_counter() - started) * 1000
        aws_ms, aws_calls = timer.take()
        stage_ms = stages.take()
        if response.status_code != 201 or response.json()["status"] != "SUCCEEDED":
            raise RuntimeError(f"the edit did not succeed: {response.status_code} {response.content[:300]!r}")
        started = time.perf_counter()
        minimal_handler(body, bedrock)
        base_elapsed = (time.perf_counter() - started) * 1000
        base_aws_ms, _ = timer.take()
        protocol_ms, signing_ms = _protocol_cost(photo, mask)
        if index >= 3:  # the first requests warm caches and connections
            app.append(elapsed - aws_ms)
            app_aws.append(aws_ms)
            calls.append(aws_calls)
            base.append(base_elapsed - base_aws_ms)
            base_aws.append(base_aws_ms)
            protocol.append(protocol_ms)
            signing.append(signing_ms)
            split.append(stage_ms)
    baseline = figure(f"  minimal handler, {name}: own time", base)
    _DETAILS[f"edit overhead, {name} 1 MP"] = stages_table(split, sorted(app)[len(app) // 2])
    walls = sorted(own + aws for own, aws in zip(app, app_aws, strict=True))
    cost = _cost(split, response.json()["id"], walls[len(walls) // 2]) if name == "photo-like" else []
    return [
        figure(f"edit overhead, {name} 1 MP PNG (wall - AWS)", app, baseline=baseline, max_ratio=1.5),
        baseline,
        figure(
            f"  app, {name}: inside AWS calls (moto + engine)",
            app_aws,
            note=f"{sorted(calls)[len(calls) // 2]} calls per edit (minimal handler: 1)",
        ),
        figure(f"  minimal handler, {name}: inside the engine call", base_aws),
        figure(f"  protocol, {name}: base64 in + out", protocol, baseline=baseline),
        figure(f"  protocol, {name}: SigV4 sha256 of the body", signing, baseline=baseline),
        *cost,
    ]


def _cost(split: list[dict], edit_id: str, wall_ms: float) -> list[dict]:
    """The cost row (bench.cost) from the operations this scenario's edits made and one edit's item."""
    import json
    import statistics
    from pathlib import Path

    import boto3
    from django.conf import settings

    from bench.cost import cost_row
    from bench.stages import CALLS_PREFIX
    from editor.services.bedrock.pricing import estimated_cost

    labels = {label for sample in split for label in sample if label.startswith(CALLS_PREFIX)}
    calls = {
        label[len(CALLS_PREFIX) :]: statistics.median(sample.get(label, 0) for sample in split)
        for label in labels
    }
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=settings.AWS_ENDPOINT_URL, region_name=settings.AWS_REGION
    )
    item = dynamodb.get_item(TableName=settings.DYNAMODB_TABLE, Key={"id": {"S": edit_id}})["Item"]
    zappa = json.loads((Path(__file__).resolve().parent.parent / "zappa_settings.json").read_text())
    return [
        cost_row(
            calls=calls,
            item_bytes=len(json.dumps(item)),
            wall_ms=wall_ms,
            memory_mb=zappa["production"]["memory_size"],
            bedrock_usd=estimated_cost(MODEL_ID, 1),
        )
    ]


def _protocol_cost(photo: bytes, mask: bytes) -> tuple[float, float]:
    """What Bedrock's protocol makes any handler pay: base64 both ways, and SigV4 hashing the body."""
    started = time.perf_counter()
    encoded = base64.b64encode(photo) + base64.b64encode(mask)
    base64.b64decode(base64.b64encode(photo))  # the answer comes back as base64 of an image this size
    coded = time.perf_counter()
    hashlib.sha256(encoded).hexdigest()
    hashed = time.perf_counter()
    return (coded - started) * 1000, (hashed - coded) * 1000


def _twelve_megapixels(client) -> dict:
    """One 12 MP JPEG (4000 x 3000), as a phone takes it: measured if accepted, else the refusal."""
    photo, mask = photo_jpeg(4000, 3000), mask_png(4000, 3000)
    body = multipart(
        {"task": "inpaint", "prompt": "a red door"},
        {"image": ("photo.jpg", photo), "mask": ("mask.png", mask)},
    )
    started = time.perf_counter()
    response = _post(client, body)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code == 201:
        return figure("edit wall time, 12 MP JPEG (one edit)", [elapsed])
    detail = response.json().get("error", response.json())
    message = detail.get("message", "") if isinstance(detail, dict) else str(detail)
    return unmeasured(
        f"edit, 12 MP JPEG ({len(photo) / 1e6:.1f} MB)",
        f"refused by the app today: {response.status_code} {message}",
        verdict="refused",
    )


if __name__ == "__main__":
    for row in run():
        print(row)
