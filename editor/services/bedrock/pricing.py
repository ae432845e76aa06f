"""What an edit costs: per image, by the model actually called; an estimate, not a bill."""

from __future__ import annotations

# Per image, from third-party price tables (shared/aws-reference.md 3.5).
PRICE_PER_IMAGE_USD = {
    "stability.stable-image-inpaint-v1:0": 0.07,
    "stability.stable-image-erase-object-v1:0": 0.07,
    "stability.stable-outpaint-v1:0": 0.06,
    "stability.stable-image-remove-background-v1:0": 0.07,
    "stability.stable-image-search-replace-v1:0": 0.07,
    "stability.stable-fast-upscale-v1:0": 0.03,
    "stability.stable-conservative-upscale-v1:0": 0.40,
    "stability.stable-image-core-v1:1": 0.04,
    "amazon.nova-canvas-v1:0": 0.04,
    "amazon.titan-image-generator-v2:0": 0.01,
}
INFERENCE_PREFIXES = ("us", "eu", "apac", "global")


def estimated_cost(model_id: str, images: int) -> float:
    """Price by the model actually called (an inference-profile prefix such as us. costs the same)."""
    prefix, _, rest = model_id.partition(".")
    base = rest if prefix in INFERENCE_PREFIXES else model_id
    return round(PRICE_PER_IMAGE_USD.get(base, 0.0) * images, 4)
