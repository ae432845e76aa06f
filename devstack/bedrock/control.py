"""The local Bedrock control plane: GetFoundationModel and ListFoundationModels with modelLifecycle, from a
table tests (and operators trying a retirement) can change through /_engine/lifecycle."""

from __future__ import annotations

import threading
from typing import Any

# What the local stack reports unless told otherwise: Stability's tools ACTIVE; the two Amazon families
# LEGACY without a date (AWS lists Titan Image Generator v2 as Legacy, EOL 2026-06-30, and third parties
# give Nova Canvas 2026-09-30). The app dates them itself (BEDROCK_END_OF_LIFE), so past those days they
# are retired locally too; BEDROCK_END_OF_LIFE='{}' leaves it to this table, to try them.
STABILITY_MODELS = (
    "stability.stable-image-inpaint-v1:0",
    "stability.stable-image-erase-object-v1:0",
    "stability.stable-outpaint-v1:0",
    "stability.stable-image-remove-background-v1:0",
    "stability.stable-image-search-replace-v1:0",
    "stability.stable-image-search-recolor-v1:0",
    "stability.stable-fast-upscale-v1:0",
    "stability.stable-conservative-upscale-v1:0",
    "stability.stable-creative-upscale-v1:0",
    "stability.stable-image-control-sketch-v1:0",
    "stability.stable-image-control-structure-v1:0",
    "stability.stable-image-style-guide-v1:0",
    "stability.stable-style-transfer-v1:0",
    "stability.stable-image-core-v1:1",
    "stability.stable-image-ultra-v1:1",
    "stability.sd3-5-large-v1:0",
)
DEFAULT_LIFECYCLE: dict[str, dict[str, Any]] = {
    **{model_id: {"status": "ACTIVE"} for model_id in STABILITY_MODELS},
    "amazon.nova-canvas-v1:0": {"status": "LEGACY"},
    "amazon.titan-image-generator-v2:0": {"status": "LEGACY"},
}
LIFECYCLE_STATUSES = ("ACTIVE", "LEGACY")
_TIMES = ("endOfLifeTime", "legacyTime", "startOfLifeTime", "publicExtendedAccessTime")


class LifecycleTable:
    """Each model's lifecycle; a model set to "ABSENT" is one the account cannot see (404)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models = {model_id: dict(value) for model_id, value in DEFAULT_LIFECYCLE.items()}

    def set(self, spec: Any) -> None:
        if not isinstance(spec, dict) or not isinstance(spec.get("modelId"), str):
            raise ValueError('a lifecycle change needs {"modelId": str, "status": ACTIVE|LEGACY|ABSENT, ...}')
        status = spec.get("status", "ACTIVE")
        if status not in (*LIFECYCLE_STATUSES, "ABSENT"):
            raise ValueError(f"status must be ACTIVE, LEGACY or ABSENT, not {status!r}")
        value = {"status": status, **{key: spec[key] for key in _TIMES if isinstance(spec.get(key), str)}}
        with self._lock:
            self._models[spec["modelId"]] = value

    def reset(self) -> None:
        with self._lock:
            self._models = {model_id: dict(value) for model_id, value in DEFAULT_LIFECYCLE.items()}

    def get(self, model_id: str) -> dict[str, Any] | None:
        with self._lock:
            value = self._models.get(model_id)
        if value is None or value["status"] == "ABSENT":
            return None
        return _summary(model_id, value)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._models.items())
        return [_summary(model_id, value) for model_id, value in items if value["status"] != "ABSENT"]


def _summary(model_id: str, value: dict[str, Any]) -> dict[str, Any]:
    """A FoundationModelSummary/Details in Bedrock's shape (the fields the app reads, and a few more)."""
    provider = "Stability AI" if model_id.startswith("stability.") else "Amazon"
    return {
        "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": model_id.split(".", 1)[1],
        "providerName": provider,
        "inputModalities": ["TEXT", "IMAGE"],
        "outputModalities": ["IMAGE"],
        "inferenceTypesSupported": ["ON_DEMAND", "INFERENCE_PROFILE"]
        if provider == "Stability AI"
        else ["ON_DEMAND"],
        "modelLifecycle": dict(value),
    }
