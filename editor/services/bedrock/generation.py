"""One model call for an edit: check the request against the model, invoke it, decode the images."""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass

from editor.services.bedrock.catalog import adapter_get
from editor.services.bedrock.runtime import bedrock_invoke, model_error
from editor.services.bedrock.tasks import EditSpec
from editor.services.images import image_info

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
    """Check the spec against its model family's limits, call the model, and decode the images it made."""
    adapter = adapter_get(spec.model)
    adapter.check(spec)
    model_id = adapter.model_id(spec.task, spec)
    started = time.monotonic()
    payload, headers = bedrock_invoke(model_id=model_id, body=adapter.body(spec))
    latency_ms = int((time.monotonic() - started) * 1000)
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
    engine = headers.get("x-imageedit-engine", "bedrock")
    logger.info(
        "bedrock invoke",
        extra={
            "model_id": model_id,
            "bedrock_latency_ms": latency_ms,
            "images": len(images),
            "filtered": answer.filtered,
            "engine": engine,
        },
    )
    return ModelResult(
        model_id=model_id,
        images=images,
        filtered=answer.filtered,
        engine=engine,
        engine_note=headers.get("x-imageedit-engine-note"),
        latency_ms=latency_ms,
    )
