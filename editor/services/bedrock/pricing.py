"""The models this app calls in one table: id, profile prefixes, price per image with source and date."""

from __future__ import annotations

from dataclasses import dataclass

# Cross-region inference profiles put one of these before a model id (us.stability...); same price.
INFERENCE_PREFIXES = ("us", "eu", "apac", "global")
THIRD_PARTY = "third-party price tables (shared/aws-reference.md 3.5); AWS's pricing page not retrieved"
SEEN = "2026-12-01"


@dataclass(frozen=True)
class ModelPrice:
    model_id: str
    usd_per_image: float
    source: str = THIRD_PARTY
    as_of: str = SEEN
    profiles: tuple[str, ...] = ()  # the inference-profile prefixes the model is offered under


_US = ("us",)
MODEL_TABLE: tuple[ModelPrice, ...] = (
    ModelPrice("stability.stable-image-inpaint-v1:0", 0.07, profiles=_US),
    ModelPrice("stability.stable-image-erase-object-v1:0", 0.07, profiles=_US),
    ModelPrice("stability.stable-outpaint-v1:0", 0.06, profiles=_US),
    ModelPrice("stability.stable-image-remove-background-v1:0", 0.07, profiles=_US),
    ModelPrice("stability.stable-image-search-replace-v1:0", 0.07, profiles=_US),
    ModelPrice("stability.stable-image-search-recolor-v1:0", 0.07, profiles=_US),
    ModelPrice("stability.stable-fast-upscale-v1:0", 0.03, profiles=_US),
    ModelPrice("stability.stable-conservative-upscale-v1:0", 0.40, profiles=_US),
    ModelPrice("stability.stable-creative-upscale-v1:0", 0.60, profiles=_US),
    ModelPrice("stability.stable-image-control-sketch-v1:0", 0.07, profiles=_US),
    ModelPrice("stability.stable-image-control-structure-v1:0", 0.07, profiles=_US),
    ModelPrice("stability.stable-image-style-guide-v1:0", 0.07, profiles=_US),
    ModelPrice("stability.stable-style-transfer-v1:0", 0.08, profiles=_US),
    ModelPrice("stability.stable-image-core-v1:1", 0.04, profiles=_US),
    ModelPrice("amazon.nova-canvas-v1:0", 0.04),
    ModelPrice("amazon.titan-image-generator-v2:0", 0.01),
)
PRICE_PER_IMAGE_USD = {row.model_id: row.usd_per_image for row in MODEL_TABLE}


def base_model_id(model_id: str) -> str:
    """The foundation model behind an inference-profile id (us.stability.x -> stability.x)."""
    prefix, _, rest = model_id.partition(".")
    return rest if prefix in INFERENCE_PREFIXES else model_id


def estimated_cost(model_id: str, images: int) -> float:
    """Price by the model actually called (an inference-profile prefix such as us. costs the same)."""
    return round(PRICE_PER_IMAGE_USD.get(base_model_id(model_id), 0.0) * images, 4)
