"""A local Bedrock: InvokeModel with the same bodies, responses and errors (a classical engine), and the
control plane's model lifecycle (devstack/bedrock_control.py)."""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import ipaddress
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
from PIL import Image

from devstack import bedrock_engine as engine
from devstack.bedrock_control import LifecycleTable

logger = logging.getLogger(__name__)

DEFAULT_PORT = 5002
MAX_BODY_BYTES = 25_000_000
ENGINE_HEADER = "x-imageedit-engine"
ENGINE_NAME = "local-opencv"
NOTE_HEADER = "x-imageedit-engine-note"
PROMPT_IGNORED = "prompt ignored by the local engine (classical fill)"
UPSCALE_PROMPT_IGNORED = "prompt ignored by the local engine (Lanczos upscale)"
OUTPAINT_NOTE = "new area drawn by the local engine (blurred extension of the edges)"
STYLE_TRANSFER_NOTE = (
    "colour statistics transfer (Reinhard) by the local engine: the style image's colours, not its brushwork"
)
RECOLOR_NOTE = "hue shift inside the transparent area by the local engine; select_prompt not used"
ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
ERROR_STATUS = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ModelErrorException": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "ServiceQuotaExceededException": 400,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}
INFERENCE_PROFILE_PREFIXES = ("us.", "eu.", "apac.", "global.")
_INVOKE_PATH = re.compile(r"/model/([^/]+)/invoke")
_FOUNDATION_MODEL_PATH = re.compile(r"/foundation-models/([^/]+)")


class BedrockError(Exception):
    """An error answered in Bedrock's REST-JSON shape, so botocore raises ClientError with this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return ERROR_STATUS[self.code]


def invalid(message: str) -> BedrockError:
    return BedrockError("ValidationException", message)


def cannot(what: str, task: str) -> BedrockError:
    return invalid(f"The local engine cannot do {what} ({task}); run against Amazon Bedrock for this task.")


@dataclass(frozen=True)
class Reply:
    """A successful InvokeModel answer and what the engine wants the caller to know about it."""

    payload: dict[str, Any]
    note: str | None = None


# --- JSON body schemas ---

_JSON_TYPES = {
    "string": ("String", lambda v: isinstance(v, str)),
    "integer": ("Integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "number": ("Number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "boolean": ("Boolean", lambda v: isinstance(v, bool)),
    "object": ("JSONObject", lambda v: isinstance(v, dict)),
    "array": ("JSONArray", lambda v: isinstance(v, list)),
}


@dataclass(frozen=True)
class Field:
    """One key of a request body, checked the way Bedrock's JSON schemas check it."""

    kind: str
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    min_len: int | None = None
    max_len: int | None = None
    keys: dict[str, Field] | None = None
    items: Field | None = None


def _json_type_name(value: Any) -> str:
    if value is None:
        return "Null"
    return next((name for name, test in _JSON_TYPES.values() if test(value)), type(value).__name__)


def _malformed(detail: str) -> BedrockError:
    # Bedrock's wording for JSON-schema violations, e.g. "#: extraneous key [x] is not permitted".
    return invalid(f"Malformed input request: {detail}, please reformat your input and try again.")


def check_object(value: Any, keys: dict[str, Field], path: str = "#") -> dict[str, Any]:
    """Reject unknown keys, missing required keys and values of the wrong type, range or length."""
    if not isinstance(value, dict):
        raise _malformed(f"{path}: expected type: JSONObject, found: {_json_type_name(value)}")
    for key in value:
        if key not in keys:
            raise _malformed(f"{path}: extraneous key [{key}] is not permitted")
    for key, spec in keys.items():
        if key in value:
            _check_value(value[key], spec, f"{path}/{key}")
        elif spec.required:
            raise _malformed(f"{path}: required key [{key}] not found")
    return value


def _check_value(value: Any, spec: Field, path: str) -> None:
    type_name, is_type = _JSON_TYPES[spec.kind]
    if not is_type(value):
        raise _malformed(f"{path}: expected type: {type_name}, found: {_json_type_name(value)}")
    if spec.choices and value not in spec.choices:
        raise _malformed(f"{path}: {value} is not a valid enum value")
    if spec.minimum is not None and value < spec.minimum:
        raise _malformed(f"{path}: {value} is not greater or equal to {spec.minimum}")
    if spec.maximum is not None and value > spec.maximum:
        raise _malformed(f"{path}: {value} is not less or equal to {spec.maximum}")
    if spec.min_len is not None and len(value) < spec.min_len:
        raise _malformed(f"{path}: expected minLength: {spec.min_len}, actual: {len(value)}")
    if spec.max_len is not None and len(value) > spec.max_len:
        raise _malformed(f"{path}: expected maxLength: {spec.max_len}, actual: {len(value)}")
    if spec.keys is not None:
        check_object(value, spec.keys, path)
    if spec.items is not None:
        for index, item in enumerate(value):
            _check_value(item, spec.items, f"{path}/{index}")


# --- Images ---


@dataclass(frozen=True)
class ImageRules:
    """Which encodings and sizes a model accepts for an input image."""

    formats: tuple[str, ...]
    min_side: int = 1
    max_side: int | None = None
    min_pixels: int = 1
    max_pixels: int = 9_437_184
    max_aspect: float | None = None
    max_pixels_exclusive: bool = False


STABILITY_IMAGE = ImageRules(("PNG", "JPEG", "WEBP"), min_side=64, max_aspect=2.5)
STABILITY_MASK = ImageRules(("PNG", "JPEG", "WEBP"))
FAST_UPSCALE_IMAGE = ImageRules(
    ("PNG", "JPEG", "WEBP"), min_side=32, max_side=1536, min_pixels=1024, max_pixels=1_048_576, max_aspect=2.5
)
NOVA_IMAGE = ImageRules(
    ("PNG", "JPEG"),
    min_side=320,
    max_side=4096,
    max_pixels=4_194_304,
    max_aspect=4.0,
    max_pixels_exclusive=True,
)
TITAN_IMAGE = ImageRules(("PNG", "JPEG"), max_side=1408)
_FORMAT_NAMES = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}


def open_b64_image(text: str, rules: ImageRules, name: str) -> Image.Image:
    """Decode base64, identify the encoding and check the size, all before any pixel is decoded."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid(f"{name}: not valid base64") from exc
    try:
        image = engine.open_image(data)
    except engine.EngineError as exc:
        raise invalid(f"{name}: {exc}") from exc
    if image.format not in rules.formats:
        allowed = ", ".join(_FORMAT_NAMES[f] for f in rules.formats)
        raise invalid(f"{name}: {image.format or 'unknown'} images are not supported (use {allowed})")
    _check_size(image.size, rules, name)
    return image


def _check_size(size: tuple[int, int], rules: ImageRules, name: str) -> None:
    width, height = size
    pixels = width * height
    if min(width, height) < rules.min_side:
        raise invalid(f"{name}: width and height must be at least {rules.min_side} px (got {width}x{height})")
    if rules.max_side is not None and max(width, height) > rules.max_side:
        raise invalid(f"{name}: width and height must be at most {rules.max_side} px (got {width}x{height})")
    too_many = pixels >= rules.max_pixels if rules.max_pixels_exclusive else pixels > rules.max_pixels
    if pixels < rules.min_pixels or too_many:
        bound = "less than" if rules.max_pixels_exclusive else "at most"
        raise invalid(
            f"{name}: total pixels must be at least {rules.min_pixels:,} and {bound} "
            f"{rules.max_pixels:,} (got {pixels:,})"
        )
    if rules.max_aspect is not None and max(width, height) / min(width, height) > rules.max_aspect:
        bound = f"{rules.max_aspect:g}"
        raise invalid(f"{name}: aspect ratio must be between 1:{bound} and {bound}:1 (got {width}x{height})")


def _decode(image: Image.Image, name: str, gray: bool = False) -> np.ndarray:
    try:
        return engine.to_gray(image) if gray else engine.to_array(image)
    except engine.EngineError as exc:
        raise invalid(f"{name}: {exc}") from exc


def _engine_run(operation: Callable[..., np.ndarray], *args: Any, **kwargs: Any) -> np.ndarray:
    # What the classical engine cannot work with (e.g. a mask over the whole image) is said plainly.
    try:
        return operation(*args, **kwargs)
    except engine.EngineError as exc:
        raise invalid(f"The local engine cannot do this edit: {exc}.") from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- Stability AI Image Services (flat bodies) ---

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
    payload = {"seeds": [_stability_seed(body, digest)], "finish_reasons": [None], "images": [_b64(encoded)]}
    return Reply(payload, note)


def _stability_edit_mask(body: dict[str, Any], image: Image.Image) -> np.ndarray:
    """White = change, grey = partial, black = keep; without a mask the image's transparency is the mask."""
    if "mask" in body:
        mask = _decode(open_b64_image(body["mask"], STABILITY_MASK, "mask"), "mask", gray=True)
        if mask.shape[::-1] != image.size:
            mask = engine.resize(mask, width=image.size[0], height=image.size[1])
        return mask
    if not engine.has_alpha(image):
        raise invalid("mask: required when the image has no alpha channel (transparent pixels mark the edit)")
    return 255 - _decode(image, "image")[..., 3]


def stability_inpaint(body: dict[str, Any], digest: bytes) -> Reply:
    check_object(body, INPAINT_KEYS)
    return _stability_fill(body, digest, method="telea", note=PROMPT_IGNORED)


def stability_erase(body: dict[str, Any], digest: bytes) -> Reply:
    check_object(body, ERASE_KEYS)
    return _stability_fill(body, digest, method="ns", note=None)


def _stability_fill(body: dict[str, Any], digest: bytes, *, method: str, note: str | None) -> Reply:
    image = open_b64_image(body["image"], STABILITY_IMAGE, "image")
    mask = engine.grow_mask(_stability_edit_mask(body, image), body.get("grow_mask", 5))
    pixels = _engine_run(engine.inpaint, _decode(image, "image"), mask, method=method)
    return _stability_reply(pixels, body, digest, note)


def stability_outpaint(body: dict[str, Any], digest: bytes) -> Reply:
    check_object(body, OUTPAINT_KEYS)
    margins = {side: body.get(side, 0) for side in ("left", "right", "up", "down")}
    if not any(margins.values()):
        raise invalid("at least one of left, right, up or down must be greater than 0")
    image = open_b64_image(body["image"], STABILITY_IMAGE, "image")
    pixels = _engine_run(
        engine.outpaint, _decode(image, "image"), creativity=body.get("creativity", 0.5), **margins
    )
    note = OUTPAINT_NOTE + ("; prompt ignored" if body.get("prompt") else "")
    return _stability_reply(pixels, body, digest, note)


def stability_remove_background(body: dict[str, Any], digest: bytes) -> Reply:
    check_object(body, REMOVE_BACKGROUND_KEYS)
    image = open_b64_image(body["image"], STABILITY_IMAGE, "image")
    seed = _stability_seed(body, digest)
    return _stability_reply(engine.remove_background(_decode(image, "image"), seed=seed), body, digest)


def stability_conservative_upscale(body: dict[str, Any], digest: bytes) -> Reply:
    check_object(body, CONSERVATIVE_UPSCALE_KEYS)
    image = open_b64_image(body["image"], STABILITY_IMAGE, "image")
    width, height = image.size
    factor = min(UPSCALE_MAX_FACTOR, max(1.0, (CONSERVATIVE_TARGET_PIXELS / (width * height)) ** 0.5))
    size = {"width": round(width * factor), "height": round(height * factor)}
    pixels = engine.resize(_decode(image, "image"), **size)
    return _stability_reply(pixels, body, digest, UPSCALE_PROMPT_IGNORED)


def stability_fast_upscale(body: dict[str, Any], digest: bytes) -> Reply:
    check_object(body, FAST_UPSCALE_KEYS)
    image = open_b64_image(body["image"], FAST_UPSCALE_IMAGE, "image")
    width, height = image.size
    pixels = engine.resize(
        _decode(image, "image"), width=width * UPSCALE_MAX_FACTOR, height=height * UPSCALE_MAX_FACTOR
    )
    return _stability_reply(pixels, body, digest)


def stability_style_transfer(body: dict[str, Any], digest: bytes) -> Reply:
    """Colour statistics transfer, stated as such: what a classical method can honestly do here."""
    check_object(body, STYLE_TRANSFER_KEYS)
    init = open_b64_image(body["init_image"], STABILITY_IMAGE, "init_image")
    style = open_b64_image(body["style_image"], STABILITY_IMAGE, "style_image")
    pixels = engine.colour_transfer(
        _decode(init, "init_image"), _decode(style, "style_image"), strength=body.get("style_strength", 1.0)
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
    pixels = _decode(image, "image")
    area = engine.grow_mask(255 - pixels[..., 3], body.get("grow_mask", 3))
    return _stability_reply(engine.recolour(pixels, area, hue=hue), body, digest, RECOLOR_NOTE)


def _stability_refusal(
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


# --- Amazon Nova Canvas and Titan Image Generator v2 (taskType bodies) ---


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
        raise _malformed(f"#: expected type: JSONObject, found: {_json_type_name(body)}")
    if "taskType" not in body:
        raise _malformed("#: required key [taskType] not found")
    _check_value(body["taskType"], Field("string", choices=tuple(tasks)), "#/taskType")
    return body["taskType"]


def _canvas_handler(family: CanvasFamily) -> Callable[[Any, bytes], Reply]:
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
        return Reply({"images": [_b64(engine.encode_image(cutout, "png"))]})
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
    pixels = _decode(image, name)
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
        _engine_run(engine.inpaint, pixels, change, method=method, radius=radius)
        for method, radius in _FILL_VARIANTS[:count]
    ]
    note = PROMPT_IGNORED if params.get("text") else None
    return Reply({"images": [_b64(engine.encode_image(image, "png")) for image in images]}, note)


def _canvas_change_mask(family: CanvasFamily, task: str, text: str, shape: tuple[int, ...]) -> np.ndarray:
    """Convert the model's mask to 255 = change: black changes for inpainting, white for outpainting."""
    mask_image = open_b64_image(text, family.image, "maskImage")
    if mask_image.size[::-1] != shape:
        raise invalid(
            f"maskImage: must be the same size as image ({shape[1]}x{shape[0]}), "
            f"got {mask_image.size[0]}x{mask_image.size[1]}"
        )
    mask = engine.drop_alpha(_decode(mask_image, "maskImage"))
    if family.strict_pixels:
        black = (mask == 0).all(axis=2)
        if not (black | (mask == 255).all(axis=2)).all():
            raise invalid("maskImage: only pure black (0,0,0) and pure white (255,255,255) are allowed")
    else:
        black = mask.mean(axis=2) < 128
    return np.where(black if task == "INPAINTING" else ~black, 255, 0).astype(np.uint8)


# --- Model registry ---

MODELS: dict[str, Callable[[dict[str, Any], bytes], Reply]] = {
    "stability.stable-image-inpaint-v1:0": stability_inpaint,
    "stability.stable-image-erase-object-v1:0": stability_erase,
    "stability.stable-outpaint-v1:0": stability_outpaint,
    "stability.stable-image-remove-background-v1:0": stability_remove_background,
    "stability.stable-conservative-upscale-v1:0": stability_conservative_upscale,
    "stability.stable-fast-upscale-v1:0": stability_fast_upscale,
    "stability.stable-image-search-replace-v1:0": _stability_refusal(SEARCH_REPLACE_KEYS, "search-replace"),
    "stability.stable-image-search-recolor-v1:0": stability_search_recolor,
    "stability.stable-style-transfer-v1:0": stability_style_transfer,
    "stability.stable-creative-upscale-v1:0": _stability_refusal(
        CREATIVE_UPSCALE_KEYS, "creative upscale", "generative upscaling", CREATIVE_UPSCALE_IMAGE
    ),
    "stability.stable-image-control-sketch-v1:0": _stability_refusal(CONTROL_KEYS, "control-sketch"),
    "stability.stable-image-control-structure-v1:0": _stability_refusal(CONTROL_KEYS, "control-structure"),
    "stability.stable-image-style-guide-v1:0": _stability_refusal(STYLE_GUIDE_KEYS, "style-guide"),
    "stability.stable-image-core-v1:1": _stability_refusal(CORE_KEYS, "text-to-image"),
    "stability.sd3-5-large-v1:0": _stability_refusal(SD35_KEYS, "text-to-image"),
    "stability.stable-image-ultra-v1:1": _stability_refusal(ULTRA_KEYS, "text-to-image"),
    "amazon.nova-canvas-v1:0": _canvas_handler(NOVA),
    "amazon.titan-image-generator-v2:0": _canvas_handler(TITAN),
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


# --- Fault injection ---


@dataclass
class Fault:
    error: str
    remaining: int
    model: str | None = None
    delay_seconds: float = 0.0


class FaultQueue:
    """Errors and delays queued by tests; each matching invoke consumes one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, spec: Any) -> None:
        check_object(
            spec,
            {
                "error": Field("string", required=True, choices=(*ERROR_STATUS, "delay")),
                "count": Field("integer", minimum=1),
                "model": Field("string"),
                "delay_seconds": Field("number", minimum=0),
            },
        )
        fault = Fault(spec["error"], spec.get("count", 1), spec.get("model"), spec.get("delay_seconds", 0.0))
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, model_id: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.model is None or fault.model in model_id:
                    fault.remaining -= 1
                    if not fault.remaining:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [vars(fault).copy() for fault in self._faults]


# --- HTTP ---


class InvocationCount:
    """How many InvokeModel calls reached the engine, per model id (tests assert a refusal sent none)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, model_id: str) -> None:
        with self._lock:
            self._counts[model_id] = self._counts.get(model_id, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    faults: FaultQueue
    invocations: InvocationCount
    lifecycle: LifecycleTable


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    server: _HTTPServer

    def do_GET(self) -> None:
        path = self._path()
        match = _FOUNDATION_MODEL_PATH.fullmatch(path)
        if path == "/_engine/health":
            self._send_json(200, {"status": "ok"})
        elif path == "/_engine/invocations":
            counts = self.server.invocations.snapshot()
            self._send_json(200, {"total": sum(counts.values()), "by_model": counts})
        elif path == "/foundation-models":  # the control plane's ListFoundationModels
            self._send_json(200, {"modelSummaries": self.server.lifecycle.all()})
        elif match:  # GetFoundationModel (by id or ARN)
            model_id = base_model_id(unquote(match.group(1)))
            details = self.server.lifecycle.get(model_id)
            if details is None:
                self._send_error(BedrockError("ResourceNotFoundException", f"Model {model_id} not found."))
            else:
                self._send_json(200, {"modelDetails": details})
        else:
            self._send_error(BedrockError("ResourceNotFoundException", f"No route for GET {self._path()}"))

    def do_DELETE(self) -> None:
        self._read_body()
        if self._path() == "/_engine/faults":
            self.server.faults.clear()
            self._send_json(200, {"faults": []})
        elif self._path() == "/_engine/lifecycle":
            self.server.lifecycle.reset()
            self._send_json(200, {"models": self.server.lifecycle.all()})
        else:
            self._send_error(BedrockError("ResourceNotFoundException", f"No route for DELETE {self._path()}"))

    def do_POST(self) -> None:
        raw = self._read_body()
        path = self._path()
        match = _INVOKE_PATH.fullmatch(path)
        if match:
            self._invoke(unquote(match.group(1)), raw)
        elif path == "/_engine/faults":
            self._add_faults(raw)
        elif path == "/_engine/lifecycle":
            try:
                self.server.lifecycle.set(json.loads(raw or b"null"))
            except ValueError as exc:
                self._send_error(invalid(f"The lifecycle body is not valid: {exc}"))
                return
            self._send_json(200, {"models": self.server.lifecycle.all()})
        else:
            self._send_error(BedrockError("ResourceNotFoundException", f"No route for POST {path}"))

    def _path(self) -> str:
        return urlsplit(self.path).path

    def _read_body(self) -> bytes | None:
        """The request body, or None when it is over the cap (drained, so keep-alive still works)."""
        length = int(self.headers.get("Content-Length") or 0)
        if length <= MAX_BODY_BYTES:
            return self.rfile.read(length)
        while length:
            length -= len(self.rfile.read(min(length, 1 << 20))) or length
        return None

    def _add_faults(self, raw: bytes | None) -> None:
        try:
            self.server.faults.add(json.loads(raw or b"null"))
        except ValueError as exc:
            self._send_error(invalid(f"The fault body is not JSON: {exc}"))
            return
        except BedrockError as exc:
            self._send_error(exc)
            return
        self._send_json(200, {"faults": self.server.faults.pending()})

    def _invoke(self, model_id: str, raw: bytes | None) -> None:
        started = time.perf_counter()
        self.server.invocations.add(model_id)
        try:
            fault = self.server.faults.take(model_id)
            if fault:
                time.sleep(fault.delay_seconds)
                if fault.error != "delay":
                    raise BedrockError(fault.error, f"{fault.error} injected by the local fault queue.")
            reply = invoke(model_id, raw)
        except BedrockError as exc:
            self._send_error(exc)
            return
        except Exception:  # the server must answer in Bedrock's shape even when the engine itself breaks
            logger.exception("local engine failed", extra={"model_id": model_id})
            self._send_error(BedrockError("InternalServerException", "The local engine failed; see its log."))
            return
        headers = {
            ENGINE_HEADER: ENGINE_NAME,
            "X-Amzn-Bedrock-Invocation-Latency": str(round((time.perf_counter() - started) * 1000)),
        }
        if reply.note:
            headers[NOTE_HEADER] = reply.note
        self._send_json(200, reply.payload, headers)

    def _send_error(self, error: BedrockError) -> None:
        self._send_json(
            error.status, {"message": error.message}, {"x-amzn-ErrorType": error.code + ERROR_TYPE_SUFFIX}
        )

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its read timeout fired during a delay fault); nothing to answer.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        logger.info("%s %s", self.address_string(), format % args)


class BedrockServer:
    """The local Bedrock Runtime endpoint on a daemon thread, on a loopback address only."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if not ipaddress.IPv4Address(host).is_loopback:
            raise ValueError(f"the local Bedrock engine listens on loopback only, not {host}")
        self.host = host
        self.port = port
        self.faults = FaultQueue()
        self.invocations = InvocationCount()
        self.lifecycle = LifecycleTable()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("start() the server first")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> BedrockServer:
        self._httpd = _HTTPServer((self.host, self.port), _Handler)
        self._httpd.faults = self.faults
        self._httpd.invocations = self.invocations
        self._httpd.lifecycle = self.lifecycle
        # A short poll interval keeps stop() quick; shutdown() waits for the loop's next poll.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="bedrock-local",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> BedrockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve until Ctrl-C: python -m devstack.bedrock_server --port 5002."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = BedrockServer(args.host, args.port).start()
    print(f"local Bedrock engine on {server.url}; AWS_ENDPOINT_URL_BEDROCK_RUNTIME={server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
