"""One model call for an edit: check the request against the model, invoke it, decode the images."""

from __future__ import annotations

import base64
import contextvars
import dataclasses
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from editor.errors import ServiceError
from editor.services.bedrock.catalog import adapter_get
from editor.services.bedrock.runtime import bedrock_invoke, model_error
from editor.services.bedrock.tasks import EditSpec
from editor.services.imaging.images import image_info

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes
    content_type: str
    width: int
    height: int
    seed: int | None = None
    jpeg_quality: int | None = None  # the app re-encoded a full-resolution result as JPEG


@dataclass(frozen=True)
class ModelResult:
    model_id: str
    images: list[GeneratedImage]
    filtered: int = 0
    engine: str = "bedrock"
    engine_note: str | None = None
    latency_ms: int | None = None
    model_size: tuple[int, int] | None = None  # what the model saw, when smaller than the photo


def model_run(*, spec: EditSpec) -> ModelResult:
    """Check the spec against its model family's limits, call the model, and decode the images it made.

    A family that makes one image per call (Stability) gets N concurrent calls for N candidates.
    """
    adapter = adapter_get(spec.model)
    adapter.check(spec)
    model_id = adapter.model_id(spec.task, spec)
    started = time.monotonic()
    if adapter.images_per_call is None or spec.count <= 1:
        calls = [_call(adapter, model_id, spec)]
    else:
        calls = _concurrent_calls(adapter, model_id, spec)
    latency_ms = int((time.monotonic() - started) * 1000)
    images = [image for answer, _ in calls for image in answer[0]]
    filtered = sum(answer[1] for answer, _ in calls)
    headers = calls[0][1]
    engine = headers.get("x-imageedit-engine", "bedrock")
    logger.info(
        "bedrock invoke",
        extra={
            "model_id": model_id,
            "bedrock_latency_ms": latency_ms,
            "images": len(images),
            "filtered": filtered,
            "engine": engine,
            "calls": len(calls),
        },
    )
    return ModelResult(
        model_id=model_id,
        images=images,
        filtered=filtered,
        engine=engine,
        engine_note=headers.get("x-imageedit-engine-note"),
        latency_ms=latency_ms,
    )


def _call(adapter, model_id: str, spec: EditSpec) -> tuple[tuple[list[GeneratedImage], int], dict]:
    """One InvokeModel call: its decoded images and filtered count, and the response headers."""
    payload, headers = bedrock_invoke(model_id=model_id, body=adapter.body(spec))
    answer = adapter.parse(payload, spec)
    images = []
    for encoded, seed in zip(answer.images, answer.seeds, strict=False):
        try:
            data = base64.b64decode(encoded)
            content_type, width, height = image_info(data)
        except (ValueError, OSError) as exc:
            raise model_error("The model returned an unreadable image.") from exc
        images.append(
            GeneratedImage(data=data, content_type=content_type, width=width, height=height, seed=seed)
        )
    return (images, answer.filtered), headers


def _concurrent_calls(adapter, model_id: str, spec: EditSpec) -> list:
    """N single-image calls at once, each with its own seed (given seed + i, else a random one), so the
    candidates differ. Calls that fail are dropped when others succeed; a filtered one counts as filtered."""
    rng = secrets.SystemRandom()
    specs = [
        dataclasses.replace(
            spec,
            count=1,
            seed=(spec.seed + index) % (adapter.max_seed + 1)
            if spec.seed is not None
            else rng.randint(1, adapter.max_seed),
        )
        for index in range(spec.count)
    ]
    results, errors = [], []
    with ThreadPoolExecutor(max_workers=len(specs), thread_name_prefix="bedrock-call") as pool:
        # Each call runs in a copy of this context, so its log lines keep the edit's id.
        futures = [
            pool.submit(contextvars.copy_context().run, _call, adapter, model_id, one) for one in specs
        ]
        for future in futures:
            try:
                results.append(future.result())
            except ServiceError as exc:
                errors.append(exc)
    filtered = sum(1 for exc in errors if exc.code == "content_filtered")
    if not results:
        raise next((exc for exc in errors if exc.code != "content_filtered"), errors[0])
    if errors:
        logger.warning("some candidate calls failed", extra={"failed": len(errors), "filtered": filtered})
    (first_images, first_filtered), headers = results[0]
    results[0] = ((first_images, first_filtered + filtered), headers)  # the filtered calls, counted once
    return results
