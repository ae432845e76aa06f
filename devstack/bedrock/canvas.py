"""Amazon Nova Canvas and Titan Image Generator v2 (taskType bodies): schemas, fills, refusals."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from devstack.bedrock import engine
from devstack.bedrock.images import (
    NOVA_IMAGE,
    TITAN_IMAGE,
    ImageRules,
    b64,
    decode,
    engine_run,
    open_b64_image,
)
from devstack.bedrock.protocol import PROMPT_IGNORED, Reply, cannot, invalid
from devstack.bedrock.schema import Field, check_object, check_value, json_type_name, malformed


def _nova_output_size(config: dict[str, Any]) -> None:
    width, height = config.get("width", 1024), config.get("height", 1024)
    if width % 16 or height % 16:
        raise invalid(f"width and height must be divisible by 16 (got {width}x{height})")
    if width * height >= NOVA_IMAGE.max_pixels or max(width, height) / min(width, height) > 4:
        raise invalid(f"width x height must be under 4,194,304 px, aspect 1:4..4:1 (got {width}x{height})")


@dataclass(frozen=True)
class CanvasFamily:
    """What differs between Nova Canvas and Titan Image Generator v2 for the same task shapes."""

    name: str
    text: Field
    image: ImageRules
    seed_max: int
    size: Field
    sizes_for_edits: bool
    strict_pixels: bool  # Nova: opaque 8-bit images only, masks of pure black and pure white only
    check_output_size: Callable[[dict[str, Any]], None] | None = None
    inpaint_extra: dict[str, Field] = field(default_factory=dict)
    text_image_extra: dict[str, Field] = field(default_factory=dict)
    tasks_extra: dict[str, tuple[str, dict[str, Field] | None]] = field(default_factory=dict)


NOVA_STYLES = (
    "3D_ANIMATED_FAMILY_FILM",
    "DESIGN_SKETCH",
    "FLAT_VECTOR_ILLUSTRATION",
    "GRAPHIC_NOVEL_ILLUSTRATION",
    "MAXIMALISM",
    "MIDCENTURY_RETRO",
    "PHOTOREALISM",
    "SOFT_DIGITAL_PAINTING",
)
# Nova's seed range is documented as 0..2,147,483,646 but AWS's own examples stay below 858,993,459; the
# stricter bound catches an app that forgot to clamp.
NOVA = CanvasFamily(
    name="Nova Canvas",
    text=Field("string", min_len=1, max_len=1024),
    image=NOVA_IMAGE,
    seed_max=858_993_459,
    size=Field("integer", minimum=320, maximum=4096),
    sizes_for_edits=False,
    strict_pixels=True,
    check_output_size=_nova_output_size,
    text_image_extra={"style": Field("string", choices=NOVA_STYLES)},
    # Virtual try-on is refused whatever its parameters, so they are not schema-checked.
    tasks_extra={"VIRTUAL_TRY_ON": ("virtualTryOnParams", None)},
)
TITAN = CanvasFamily(
    name="Titan Image Generator v2",
    text=Field("string", min_len=1, max_len=512),
    image=TITAN_IMAGE,
    seed_max=2_147_483_646,
    size=Field("integer", minimum=320, maximum=1408),
    sizes_for_edits=True,
    strict_pixels=False,
    inpaint_extra={"returnMask": Field("boolean")},
)
# Variations on the fill so several requested images are not byte-identical copies.
_FILL_VARIANTS = (("telea", 5), ("ns", 5), ("telea", 9), ("ns", 9), ("telea", 3))
_TEXT_GUIDED = ("TEXT_IMAGE", "IMAGE_VARIATION", "COLOR_GUIDED_GENERATION")
_EDIT_TASKS = ("INPAINTING", "OUTPAINTING")
_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def _canvas_tasks(family: CanvasFamily) -> dict[str, tuple[str, dict[str, Field] | None]]:
    """taskType -> (params key, params schema)."""
    text, optional_text = Field("string", required=True, min_len=1, max_len=family.text.max_len), family.text
    image = Field("string", required=True)
    mask_keys = {"image": image, "maskPrompt": optional_text, "maskImage": Field("string")}
    return {
        "INPAINTING": (
            "inPaintingParams",
            {**mask_keys, "text": optional_text, "negativeText": optional_text, **family.inpaint_extra},
        ),
        "OUTPAINTING": (
            "outPaintingParams",
            {
                **mask_keys,
                "text": text,
                "negativeText": optional_text,
                "outPaintingMode": Field("string", choices=("DEFAULT", "PRECISE")),
            },
        ),
        "BACKGROUND_REMOVAL": ("backgroundRemovalParams", {"image": image}),
        "TEXT_IMAGE": (
            "textToImageParams",
            {
                "text": text,
                "negativeText": optional_text,
                "conditionImage": Field("string"),
                "controlMode": Field("string", choices=("CANNY_EDGE", "SEGMENTATION")),
                "controlStrength": Field("number", minimum=0.0, maximum=1.0),
                **family.text_image_extra,
            },
        ),
        "IMAGE_VARIATION": (
            "imageVariationParams",
            {
                "images": Field("array", required=True, min_len=1, max_len=5, items=Field("string")),
                "similarityStrength": Field("number", minimum=0.2, maximum=1.0),
                "text": optional_text,
                "negativeText": optional_text,
            },
        ),
        "COLOR_GUIDED_GENERATION": (
            "colorGuidedGenerationParams",
            {
                "text": text,
                "negativeText": optional_text,
                "referenceImage": Field("string"),
                "colors": Field("array", required=True, min_len=1, max_len=10, items=Field("string")),
            },
        ),
        **family.tasks_extra,
    }


def _generation_config(family: CanvasFamily) -> dict[str, Field]:
    return {
        "numberOfImages": Field("integer", minimum=1, maximum=5),
        "quality": Field("string", choices=("standard", "premium")),
        "cfgScale": Field("number", minimum=1.1, maximum=10.0),
        "seed": Field("integer", minimum=0, maximum=family.seed_max),
        "width": family.size,
        "height": family.size,
    }


def _task_type(body: Any, tasks: dict[str, Any]) -> str:
    if not isinstance(body, dict):
        raise malformed(f"#: expected type: JSONObject, found: {json_type_name(body)}")
    if "taskType" not in body:
        raise malformed("#: required key [taskType] not found")
    check_value(body["taskType"], Field("string", choices=tuple(tasks)), "#/taskType")
    return body["taskType"]


def canvas_handler(family: CanvasFamily) -> Callable[[Any, bytes], Reply]:
    tasks = _canvas_tasks(family)
    config_keys = _generation_config(family)

    def handle(body: Any, digest: bytes) -> Reply:
        task = _task_type(body, tasks)
        params_key, params_keys = tasks[task]
        top_keys = {"taskType": Field("string"), params_key: Field("object", required=True, keys=params_keys)}
        if task != "BACKGROUND_REMOVAL":
            top_keys["imageGenerationConfig"] = Field("object", keys=config_keys)
        check_object(body, top_keys)
        config = body.get("imageGenerationConfig", {})
        _check_output_size(family, task, config)
        return _canvas_task(family, task, body[params_key], config, digest)

    return handle


def _check_output_size(family: CanvasFamily, task: str, config: dict[str, Any]) -> None:
    if "width" not in config and "height" not in config:
        return
    if task in _EDIT_TASKS and not family.sizes_for_edits:
        raise invalid(f"{family.name}: width and height are not allowed for {task} (output = input size)")
    if family.check_output_size:
        family.check_output_size(config)


def _canvas_task(
    family: CanvasFamily, task: str, params: dict[str, Any], config: dict[str, Any], digest: bytes
) -> Reply:
    if task == "BACKGROUND_REMOVAL":
        pixels = _canvas_image(family, params["image"], "image")
        cutout = engine.remove_background(pixels, seed=int.from_bytes(digest[:4], "big"))
        return Reply({"images": [b64(engine.encode_image(cutout, "png"))]})
    if task in _EDIT_TASKS:
        return _canvas_fill(family, task, params, config.get("numberOfImages", 1))
    for image_key in ("conditionImage", "referenceImage"):
        if image_key in params:
            _canvas_image(family, params[image_key], image_key)
    for index, image in enumerate(params.get("images", [])):
        _canvas_image(family, image, f"images[{index}]")
    for colour in params.get("colors", []):
        if not _HEX_COLOUR.fullmatch(colour):
            raise invalid(f"colors: {colour!r} is not a hex colour like #FF8800")
    raise cannot("text-guided generation" if task in _TEXT_GUIDED else "virtual try-on", task)


def _canvas_image(family: CanvasFamily, text: str, name: str) -> np.ndarray:
    image = open_b64_image(text, family.image, name)
    if family.strict_pixels and image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        raise invalid(f"{name}: images must have 8 bits per channel (got mode {image.mode})")
    pixels = decode(image, name)
    if pixels.shape[2] == 4:
        if family.strict_pixels and pixels[..., 3].min() < 255:
            raise invalid(f"{name}: transparent or semi-transparent pixels are not supported")
        pixels = engine.drop_alpha(pixels)
    return pixels


def _canvas_fill(family: CanvasFamily, task: str, params: dict[str, Any], count: int) -> Reply:
    if ("maskImage" in params) == ("maskPrompt" in params):
        raise invalid(f"{task}: provide exactly one of maskImage or maskPrompt")
    pixels = _canvas_image(family, params["image"], "image")
    if "maskPrompt" in params:
        raise cannot("mask by text", "maskPrompt")
    change = _canvas_change_mask(family, task, params["maskImage"], pixels.shape[:2])
    images = [
        engine_run(engine.inpaint, pixels, change, method=method, radius=radius)
        for method, radius in _FILL_VARIANTS[:count]
    ]
    note = PROMPT_IGNORED if params.get("text") else None
    return Reply({"images": [b64(engine.encode_image(image, "png")) for image in images]}, note)


def _canvas_change_mask(family: CanvasFamily, task: str, text: str, shape: tuple[int, ...]) -> np.ndarray:
    """Convert the model's mask to 255 = change: black changes for inpainting, white for outpainting."""
    mask_image = open_b64_image(text, family.image, "maskImage")
    if mask_image.size[::-1] != shape:
        raise invalid(
            f"maskImage: must be the same size as image ({shape[1]}x{shape[0]}), "
            f"got {mask_image.size[0]}x{mask_image.size[1]}"
        )
    mask = engine.drop_alpha(decode(mask_image, "maskImage"))
    if family.strict_pixels:
        black = (mask == 0).all(axis=2)
        if not (black | (mask == 255).all(axis=2)).all():
            raise invalid("maskImage: only pure black (0,0,0) and pure white (255,255,255) are allowed")
    else:
        black = mask.mean(axis=2) < 128
    return np.where(black if task == "INPAINTING" else ~black, 255, 0).astype(np.uint8)
