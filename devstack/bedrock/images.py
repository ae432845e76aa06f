"""Input images: base64, encoding and size rules per model, decoding for the engine."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from devstack.bedrock import engine
from devstack.bedrock.protocol import invalid


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


def decode(image: Image.Image, name: str, gray: bool = False) -> np.ndarray:
    try:
        return engine.to_gray(image) if gray else engine.to_array(image)
    except engine.EngineError as exc:
        raise invalid(f"{name}: {exc}") from exc


def engine_run(operation: Callable[..., np.ndarray], *args: Any, **kwargs: Any) -> np.ndarray:
    # What the classical engine cannot work with (e.g. a mask over the whole image) is said plainly.
    try:
        return operation(*args, **kwargs)
    except engine.EngineError as exc:
        raise invalid(f"The local engine cannot do this edit: {exc}.") from exc


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
