"""Stability AI Image Services (flat bodies): their schemas, what the engine runs, what it refuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from devstack.bedrock import engine
from devstack.bedrock.images import (
    FAST_UPSCALE_IMAGE,
    STABILITY_IMAGE,
    STABILITY_MASK,
    ImageRules,
    b64,
    decode,
    engine_run,
    open_b64_image,
)
from devstack.bedrock.protocol import (
    OUTPAINT_NOTE,
    PROMPT_IGNORED,
    RECOLOR_NOTE,
    STYLE_TRANSFER_NOTE,
    UPSCALE_PROMPT_IGNORED,
    Reply,
    cannot,
    invalid,
)
from devstack.bedrock.schema import Field, check_object

STYLE_PRESETS = (
    "3d-model",
    "analog-film",
    "anime",
    "cinematic",
    "comic-book",
    "digital-art",
    "enhance",
    "fantasy-art",
    "isometric",
    "line-art",
    "low-poly",
    "modeling-compound",
    "neon-punk",
    "origami",
    "photographic",
    "pixel-art",
    "tile-texture",
)
ASPECT_RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
SEED_MAX = 4_294_967_294
_PROMPT = Field("string", required=True, min_len=1, max_len=10_000)
_OPTIONAL_PROMPT = Field("string", max_len=10_000)
_IMAGE = Field("string", required=True)
_SEED = Field("integer", minimum=0, maximum=SEED_MAX)
_OUTPUT_FORMAT = Field("string", choices=("png", "jpeg", "webp"))
_GROW_MASK = Field("integer", minimum=0, maximum=20)
_STYLE = Field("string", choices=STYLE_PRESETS)
_MARGIN = Field("integer", minimum=0, maximum=2000)

INPAINT_KEYS = {
    "prompt": _PROMPT,
    "image": _IMAGE,
    "mask": Field("string"),
    "grow_mask": _GROW_MASK,
    "negative_prompt": _OPTIONAL_PROMPT,
    "seed": _SEED,
    "output_format": _OUTPUT_FORMAT,
    "style_preset": _STYLE,
}
ERASE_KEYS = {
    "image": _IMAGE,
    "mask": Field("string"),
    "grow_mask": _GROW_MASK,
    "seed": _SEED,
    "output_format": _OUTPUT_FORMAT,
}
OUTPAINT_KEYS = {
    "image": _IMAGE,
    "left": _MARGIN,
    "right": _MARGIN,
    "up": _MARGIN,
    "down": _MARGIN,
    "prompt": _OPTIONAL_PROMPT,
    "creativity": Field("number", minimum=0.1, maximum=1.0),
    "seed": _SEED,
    "output_format": _OUTPUT_FORMAT,
    "style_preset": _STYLE,
}
REMOVE_BACKGROUND_KEYS = {"image": _IMAGE, "output_format": Field("string", choices=("png", "webp"))}
CONSERVATIVE_UPSCALE_KEYS = {
    "prompt": _PROMPT,
    "image": _IMAGE,
    "negative_prompt": _OPTIONAL_PROMPT,
    "seed": _SEED,
    "output_format": _OUTPUT_FORMAT,
    "creativity": Field("number", minimum=0.2, maximum=0.5),
}
FAST_UPSCALE_KEYS = {"image": _IMAGE, "output_format": _OUTPUT_FORMAT}
SEARCH_REPLACE_KEYS = {
    "prompt": _PROMPT,
    "image": _IMAGE,
    "search_prompt": _PROMPT,
    "negative_prompt": _OPTIONAL_PROMPT,
    "grow_mask": _GROW_MASK,
    "seed": _SEED,
    "output_format": _OUTPUT_FORMAT,
    "style_preset": _STYLE,
}
SEARCH_RECOLOR_KEYS = {
    "prompt": _PROMPT,
    "image": _IMAGE,
    "select_prompt": _PROMPT,
    "negative_prompt": _OPTIONAL_PROMPT,
    "grow_mask": _GROW_MASK,
    "seed": _SEED,
    "output_format": _OUTPUT_FORMAT,
    "style_preset": _STYLE,
}
_ASPECT_RATIO = Field("string", choices=ASPECT_RATIOS)
_UNIT = Field("number", minimum=0.0, maximum=1.0)
# The seven tools added for issue 13, as AWS's "Stability AI Image Services" page lists their fields
# (https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html; aws-reference.md 3.6).
CREATIVE_UPSCALE_KEYS = {
    "prompt": _PROMPT,
    "image": _IMAGE,
    "creativity": Field("number", minimum=0.1, maximum=0.5),
    "negative_prompt": _OPTIONAL_PROMPT,
    "seed": _SEED,
    "output_format": _OUTPUT_FORMAT,
    "style_preset": _STYLE,
}
CONTROL_KEYS = {
    "prompt": _PROMPT,
    "image": _IMAGE,
    "control_strength": _UNIT,
    "negative_prompt": _OPTIONAL_PROMPT,
    "seed": _SEED,
    "output_format": _OUTPUT_FORMAT,
    "style_preset": _STYLE,
}
STYLE_GUIDE_KEYS = {
    "prompt": _PROMPT,
    "image": _IMAGE,
    "fidelity": _UNIT,
    "aspect_ratio": _ASPECT_RATIO,
    "negative_prompt": _OPTIONAL_PROMPT,
    "seed": _SEED,
    "output_format": _OUTPUT_FORMAT,
    "style_preset": _STYLE,
}
STYLE_TRANSFER_KEYS = {
    "init_image": _IMAGE,
    "style_image": _IMAGE,
    "prompt": _OPTIONAL_PROMPT,
    "negative_prompt": _OPTIONAL_PROMPT,
    "style_strength": _UNIT,
    "composition_fidelity": _UNIT,
    "change_strength": Field("number", minimum=0.1, maximum=1.0),
    "seed": _SEED,
    "output_format": _OUTPUT_FORMAT,
}
CREATIVE_UPSCALE_IMAGE = ImageRules(("PNG", "JPEG", "WEBP"), min_pixels=4_096, max_pixels=1_048_576)
CORE_KEYS = {
    "prompt": _PROMPT,
    "negative_prompt": _OPTIONAL_PROMPT,
    "aspect_ratio": _ASPECT_RATIO,
    "seed": _SEED,
    "output_format": _OUTPUT_FORMAT,
    "style_preset": _STYLE,
}
ULTRA_KEYS = {
    "prompt": _PROMPT,
    "negative_prompt": _OPTIONAL_PROMPT,
    "aspect_ratio": _ASPECT_RATIO,
    "seed": _SEED,
    "output_format": _OUTPUT_FORMAT,
    "image": Field("string"),
    "strength": Field("number", minimum=0.0, maximum=1.0),
}
SD35_KEYS = {**ULTRA_KEYS, "mode": Field("string", choices=("text-to-image", "image-to-image"))}
CONSERVATIVE_TARGET_PIXELS = 4_194_304
UPSCALE_MAX_FACTOR = 4


def _stability_seed(body: dict[str, Any], digest: bytes) -> int:
    # Seed 0 means "random" on Bedrock; here it is derived from the request so replays match.
    return body.get("seed") or int.from_bytes(digest[:8], "big") % SEED_MAX + 1


def _stability_reply(
    pixels: np.ndarray, body: dict[str, Any], digest: bytes, note: str | None = None
) -> Reply:
    encoded = engine.encode_image(pixels, body.get("output_format", "png"))
    payload = {"seeds": [_stability_seed(body, digest)], "finish_reasons": [None], "images": [b64(encoded)]}
    return Reply(payload, note)


def _stability_edit_mask(body: dict[str, Any], image: Image.Image) -> np.ndarray:
    """White = change, grey = partial, black = keep; without a mask the image's transparency is the mask."""
    if "mask" in body:
        mask = decode(open_b64_image(body["mask"], STABILITY_MASK, "mask"), "mask", gray=True)
        if mask.shape[::-1] != image.size:
            mask = engine.resize(mask, width=image.size[0], height=image.size[1])
        return mask
    if not engine.has_alpha(image):
        raise invalid("mask: required when the image has no alpha channel (transparent pixels mark the edit)")
    return 255 - decode(image, "image")[..., 3]


def stability_inpaint(body: dict[str, Any], digest: bytes) -> Reply:
    check_object(body, INPAINT_KEYS)
    return _stability_fill(body, digest, method="telea", note=PROMPT_IGNORED)


def stability_erase(body: dict[str, Any], digest: bytes) -> Reply:
    check_object(body, ERASE_KEYS)
    return _stability_fill(body, digest, method="ns", note=None)


def _stability_fill(body: dict[str, Any], digest: bytes, *, method: str, note: str | None) -> Reply:
    image = open_b64_image(body["image"], STABILITY_IMAGE, "image")
    mask = engine.grow_mask(_stability_edit_mask(body, image), body.get("grow_mask", 5))
    pixels = engine_run(engine.inpaint, decode(image, "image"), mask, method=method)
    return _stability_reply(pixels, body, digest, note)


def stability_outpaint(body: dict[str, Any], digest: bytes) -> Reply:
    check_object(body, OUTPAINT_KEYS)
    margins = {side: body.get(side, 0) for side in ("left", "right", "up", "down")}
    if not any(margins.values()):
        raise invalid("at least one of left, right, up or down must be greater than 0")
    image = open_b64_image(body["image"], STABILITY_IMAGE, "image")
    pixels = engine_run(
        engine.outpaint, decode(image, "image"), creativity=body.get("creativity", 0.5), **margins
    )
    note = OUTPAINT_NOTE + ("; prompt ignored" if body.get("prompt") else "")
    return _stability_reply(pixels, body, digest, note)


def stability_remove_background(body: dict[str, Any], digest: bytes) -> Reply:
    check_object(body, REMOVE_BACKGROUND_KEYS)
    image = open_b64_image(body["image"], STABILITY_IMAGE, "image")
    seed = _stability_seed(body, digest)
    return _stability_reply(engine.remove_background(decode(image, "image"), seed=seed), body, digest)


def stability_conservative_upscale(body: dict[str, Any], digest: bytes) -> Reply:
    check_object(body, CONSERVATIVE_UPSCALE_KEYS)
    image = open_b64_image(body["image"], STABILITY_IMAGE, "image")
    width, height = image.size
    factor = min(UPSCALE_MAX_FACTOR, max(1.0, (CONSERVATIVE_TARGET_PIXELS / (width * height)) ** 0.5))
    size = {"width": round(width * factor), "height": round(height * factor)}
    pixels = engine.resize(decode(image, "image"), **size)
    return _stability_reply(pixels, body, digest, UPSCALE_PROMPT_IGNORED)


def stability_fast_upscale(body: dict[str, Any], digest: bytes) -> Reply:
    check_object(body, FAST_UPSCALE_KEYS)
    image = open_b64_image(body["image"], FAST_UPSCALE_IMAGE, "image")
    width, height = image.size
    pixels = engine.resize(
        decode(image, "image"), width=width * UPSCALE_MAX_FACTOR, height=height * UPSCALE_MAX_FACTOR
    )
    return _stability_reply(pixels, body, digest)


def stability_style_transfer(body: dict[str, Any], digest: bytes) -> Reply:
    """Colour statistics transfer, stated as such: what a classical method can honestly do here."""
    check_object(body, STYLE_TRANSFER_KEYS)
    init = open_b64_image(body["init_image"], STABILITY_IMAGE, "init_image")
    style = open_b64_image(body["style_image"], STABILITY_IMAGE, "style_image")
    pixels = engine.colour_transfer(
        decode(init, "init_image"), decode(style, "style_image"), strength=body.get("style_strength", 1.0)
    )
    note = STYLE_TRANSFER_NOTE + ("; prompt ignored" if body.get("prompt") else "")
    return _stability_reply(pixels, body, digest, note)


def stability_search_recolor(body: dict[str, Any], digest: bytes) -> Reply:
    """A hue shift only where the image is transparent (the area given); finding it by text it cannot."""
    check_object(body, SEARCH_RECOLOR_KEYS)
    image = open_b64_image(body["image"], STABILITY_IMAGE, "image")
    if not engine.has_alpha(image):
        raise cannot("finding an object from its name (select_prompt)", "search-recolor")
    hue = engine.named_hue(body["prompt"])
    if hue is None:
        names = ", ".join(engine.NAMED_HUES)
        raise invalid(f"prompt: the local engine recolours only to a named colour ({names})")
    pixels = decode(image, "image")
    area = engine.grow_mask(255 - pixels[..., 3], body.get("grow_mask", 3))
    return _stability_reply(engine.recolour(pixels, area, hue=hue), body, digest, RECOLOR_NOTE)


def stability_refusal(
    keys: dict[str, Field],
    task: str,
    what: str = "text-guided generation",
    rules: ImageRules = STABILITY_IMAGE,
) -> Callable[[dict[str, Any], bytes], Reply]:
    def refuse(body: dict[str, Any], digest: bytes) -> Reply:
        check_object(body, keys)
        if "image" in body:
            open_b64_image(body["image"], rules, "image")
        raise cannot(what, task)

    return refuse
