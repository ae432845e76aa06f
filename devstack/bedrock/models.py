"""Which handler answers which model id (inference-profile prefixes and ARNs too), and one invoke."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from devstack.bedrock.canvas import NOVA, TITAN, canvas_handler
from devstack.bedrock.protocol import BedrockError, Reply, invalid
from devstack.bedrock.stability import (
    CONTROL_KEYS,
    CORE_KEYS,
    CREATIVE_UPSCALE_IMAGE,
    CREATIVE_UPSCALE_KEYS,
    SD35_KEYS,
    SEARCH_REPLACE_KEYS,
    STYLE_GUIDE_KEYS,
    ULTRA_KEYS,
    stability_conservative_upscale,
    stability_erase,
    stability_fast_upscale,
    stability_inpaint,
    stability_outpaint,
    stability_refusal,
    stability_remove_background,
    stability_search_recolor,
    stability_style_transfer,
)

MAX_BODY_BYTES = 25_000_000
INFERENCE_PROFILE_PREFIXES = ("us.", "eu.", "apac.", "global.")

MODELS: dict[str, Callable[[dict[str, Any], bytes], Reply]] = {
    "stability.stable-image-inpaint-v1:0": stability_inpaint,
    "stability.stable-image-erase-object-v1:0": stability_erase,
    "stability.stable-outpaint-v1:0": stability_outpaint,
    "stability.stable-image-remove-background-v1:0": stability_remove_background,
    "stability.stable-conservative-upscale-v1:0": stability_conservative_upscale,
    "stability.stable-fast-upscale-v1:0": stability_fast_upscale,
    "stability.stable-image-search-replace-v1:0": stability_refusal(SEARCH_REPLACE_KEYS, "search-replace"),
    "stability.stable-image-search-recolor-v1:0": stability_search_recolor,
    "stability.stable-style-transfer-v1:0": stability_style_transfer,
    "stability.stable-creative-upscale-v1:0": stability_refusal(
        CREATIVE_UPSCALE_KEYS, "creative upscale", "generative upscaling", CREATIVE_UPSCALE_IMAGE
    ),
    "stability.stable-image-control-sketch-v1:0": stability_refusal(CONTROL_KEYS, "control-sketch"),
    "stability.stable-image-control-structure-v1:0": stability_refusal(CONTROL_KEYS, "control-structure"),
    "stability.stable-image-style-guide-v1:0": stability_refusal(STYLE_GUIDE_KEYS, "style-guide"),
    "stability.stable-image-core-v1:1": stability_refusal(CORE_KEYS, "text-to-image"),
    "stability.sd3-5-large-v1:0": stability_refusal(SD35_KEYS, "text-to-image"),
    "stability.stable-image-ultra-v1:1": stability_refusal(ULTRA_KEYS, "text-to-image"),
    "amazon.nova-canvas-v1:0": canvas_handler(NOVA),
    "amazon.titan-image-generator-v2:0": canvas_handler(TITAN),
}


def base_model_id(model_id: str) -> str:
    """Strip an ARN path and a cross-region inference-profile prefix: us.amazon.x -> amazon.x."""
    if model_id.startswith("arn:"):
        model_id = model_id.rsplit("/", 1)[-1]
    for prefix in INFERENCE_PROFILE_PREFIXES:
        if model_id.startswith(prefix):
            return model_id[len(prefix) :]
    return model_id


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def invoke(model_id: str, raw: bytes | None) -> Reply:
    """Answer one InvokeModel call: raw is the request body as sent, None when it was over the size cap."""
    if raw is None or len(raw) > MAX_BODY_BYTES:
        raise invalid(f"The request body is larger than {MAX_BODY_BYTES:,} bytes.")
    handler = MODELS.get(base_model_id(model_id))
    if handler is None:
        raise BedrockError("ResourceNotFoundException", f"The local engine does not serve model {model_id}.")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise invalid("Malformed input request, please reformat your input and try again.") from exc
    return handler(body, hashlib.sha256(raw).digest())
