"""Classical image operations behind the local Bedrock stand-in: fill, extend, cut out, upscale."""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
from PIL import Image

INPAINT_METHODS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
# Masked pixels inpainted directly at full resolution; bigger masks are filled coarse-to-fine because
# cv2.inpaint costs about radius^2 per masked pixel (a 20% mask of 1 MP takes ~0.6 s in one pass).
FULL_RES_BUDGET = 20_000
# GrabCut costs ~0.3 s per iteration for 50,000 pixels here, so it segments a thumbnail.
GRABCUT_SIDE = 200
GRABCUT_ITERATIONS = 3
_ENCODE_EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
_ENCODE_PARAMS = {
    "png": [cv2.IMWRITE_PNG_COMPRESSION, 3],
    "jpeg": [cv2.IMWRITE_JPEG_QUALITY, 95],
    "webp": [cv2.IMWRITE_WEBP_QUALITY, 95],
}


class EngineError(ValueError):
    """An input the local engine cannot read or cannot work with."""


def open_image(data: bytes) -> Image.Image:
    """Identify an encoded image without decoding its pixels, so its size can be checked first."""
    try:
        return Image.open(io.BytesIO(data))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise EngineError("not a readable PNG, JPEG or WebP image") from exc


def has_alpha(image: Image.Image) -> bool:
    return image.has_transparency_data


def to_array(image: Image.Image) -> np.ndarray:
    """Decode to 8-bit BGR, or BGRA when the image carries transparency."""
    mode, code = ("RGBA", cv2.COLOR_RGBA2BGRA) if has_alpha(image) else ("RGB", cv2.COLOR_RGB2BGR)
    return cv2.cvtColor(_decode(image, mode), code)


def to_gray(image: Image.Image) -> np.ndarray:
    """Decode to one 8-bit luminance channel (masks)."""
    return _decode(image, "L")


def _decode(image: Image.Image, mode: str) -> np.ndarray:
    try:
        return np.asarray(image.convert(mode))
    except (OSError, ValueError) as exc:
        raise EngineError("image data is truncated or corrupt") from exc


def encode_image(pixels: np.ndarray, output_format: str) -> bytes:
    """Encode BGR/BGRA pixels as png, jpeg (alpha dropped) or webp."""
    if output_format == "jpeg":
        pixels = drop_alpha(pixels)
    ok, encoded = cv2.imencode(_ENCODE_EXTENSIONS[output_format], pixels, _ENCODE_PARAMS[output_format])
    if not ok:
        raise EngineError(f"could not encode the result as {output_format}")
    return encoded.tobytes()


def drop_alpha(pixels: np.ndarray) -> np.ndarray:
    return pixels[..., :3] if pixels.shape[2] == 4 else pixels


def grow_mask(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Dilate the mask by `pixels` and feather the added rim, as Stability's grow_mask does."""
    if pixels == 0:
        return mask
    size = 2 * pixels + 1
    grown = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return np.maximum(mask, cv2.GaussianBlur(grown, (size, size), 0))


def inpaint(pixels: np.ndarray, mask: np.ndarray, *, method: str = "telea", radius: int = 5) -> np.ndarray:
    """Fill the mask (0 keep, 255 replace, grey blends) from its surroundings."""
    pixels = drop_alpha(pixels)
    hard = np.where(mask > 0, 255, 0).astype(np.uint8)
    if not hard.any():
        return pixels.copy()
    if hard.all():
        raise EngineError("the mask covers the whole image, leaving no pixels to fill from")
    filled = _fill(pixels, hard, INPAINT_METHODS[method], radius)
    if np.array_equal(mask, hard):
        return filled
    strength = mask.astype(np.float32)[..., None] / 255.0
    return (pixels * (1.0 - strength) + filled * strength + 0.5).astype(np.uint8)


def _fill(pixels: np.ndarray, hard: np.ndarray, flag: int, radius: int) -> np.ndarray:
    factor = math.ceil(math.sqrt(cv2.countNonZero(hard) / FULL_RES_BUDGET))
    if factor <= 1:
        return _inpaint_window(pixels, hard, radius, flag)
    height, width = hard.shape
    size = (max(1, width // factor), max(1, height // factor))
    small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    # Any coverage marks a coarse pixel as unknown, so the masked colours never leak into the fill.
    small_hard = np.where(cv2.resize(hard, size, interpolation=cv2.INTER_AREA) > 0, 255, 0).astype(np.uint8)
    if small_hard.all():
        return _inpaint_window(pixels, hard, radius, flag)
    coarse = cv2.inpaint(small, small_hard, max(3, round(radius / factor)), flag)
    base = pixels.copy()
    upsampled = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
    np.copyto(base, upsampled, where=hard[..., None] > 0)
    # Re-fill a rim inside the mask at full resolution so the coarse interior meets the real edge smoothly.
    rim = 2 * (factor + radius) + 1
    core = cv2.erode(hard, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (rim, rim)))
    return _inpaint_window(base, cv2.subtract(hard, core), radius, flag)


def _inpaint_window(pixels: np.ndarray, hard: np.ndarray, radius: int, flag: int) -> np.ndarray:
    # cv2.inpaint works on the whole frame; only the mask's box plus the sampling radius can change.
    x, y, w, h = cv2.boundingRect(hard)
    margin = radius + 2
    top, left = max(0, y - margin), max(0, x - margin)
    bottom, right = min(hard.shape[0], y + h + margin), min(hard.shape[1], x + w + margin)
    result = pixels.copy()
    window = np.s_[top:bottom, left:right]
    result[window] = cv2.inpaint(pixels[window], hard[window], radius, flag)
    return result


def outpaint(
    pixels: np.ndarray, *, left: int, right: int, up: int, down: int, creativity: float = 0.5
) -> np.ndarray:
    """Extend the canvas with a blurred extension of the picture's edges, then in-paint the seam.

    Only the outermost rows and columns are carried outward, fading into a blur of themselves, so the new
    area continues the picture's colours and light without copying anything recognisable from inside it
    (mirroring did: it duplicated a tree, the sun and half a car).
    """
    pixels = drop_alpha(pixels)
    height, width = pixels.shape[:2]
    canvas = cv2.copyMakeBorder(pixels, up, down, left, right, cv2.BORDER_REPLICATE)
    known = np.zeros(canvas.shape[:2], np.uint8)
    known[up : up + height, left : left + width] = 255
    distance = cv2.distanceTransform(255 - known, cv2.DIST_L2, 3)
    widest = max(left, right, up, down)
    # The blur grows with the margin; higher creativity fades sooner from the smeared edge to the blur.
    blurred = _soft_blur(canvas, sigma=max(2.0, widest / 3))
    ramp = max(4.0, widest * (1.0 - 0.8 * min(max(creativity, 0.0), 1.0)) / 2)
    weight = np.clip(distance / ramp, 0.0, 1.0)[..., None]
    extended = (canvas * (1.0 - weight) + blurred * weight + 0.5).astype(np.uint8)
    extended[up : up + height, left : left + width] = pixels
    # A thin band just outside the picture is re-filled from both sides, so the seam has no hard line.
    seam = ((distance > 0) & (distance <= max(3.0, min(widest, 12) / 2))).astype(np.uint8) * 255
    return inpaint(extended, seam, radius=3)


def _soft_blur(pixels: np.ndarray, *, sigma: float) -> np.ndarray:
    """A wide Gaussian blur at low resolution (same look, a fraction of the cost on a large canvas)."""
    height, width = pixels.shape[:2]
    factor = max(1, int(sigma // 4))
    size = (max(1, width // factor), max(1, height // factor))
    small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor, borderType=cv2.BORDER_REPLICATE)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)


def remove_background(pixels: np.ndarray, *, seed: int) -> np.ndarray:
    """Cut the central subject out with GrabCut; return BGRA with the background fully transparent."""
    pixels = drop_alpha(pixels)
    height, width = pixels.shape[:2]
    scale = min(1.0, GRABCUT_SIDE / max(height, width))
    small = cv2.resize(
        pixels, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    small_height, small_width = small.shape[:2]
    inset_x, inset_y = max(1, round(small_width * 0.05)), max(1, round(small_height * 0.05))
    rect = (inset_x, inset_y, small_width - 2 * inset_x, small_height - 2 * inset_y)
    labels = np.zeros((small_height, small_width), np.uint8)
    cv2.setRNGSeed(seed % 2**31)  # GrabCut's k-means draws from OpenCV's per-thread RNG (a C int seed)
    cv2.grabCut(small, labels, rect, None, None, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_RECT)
    subject = _largest_component((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD))
    alpha = cv2.resize(subject.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    return np.dstack([pixels, (alpha * 255.0 + 0.5).astype(np.uint8)])


def _largest_component(foreground: np.ndarray) -> np.ndarray:
    # GrabCut leaves specks of background that resemble the subject; the subject is the biggest blob.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(foreground.astype(np.uint8), connectivity=8)
    if count <= 1:
        return foreground
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def resize(pixels: np.ndarray, *, width: int, height: int) -> np.ndarray:
    """Lanczos resampling: the local upscaler, and how masks are fitted to their image."""
    return cv2.resize(pixels, (width, height), interpolation=cv2.INTER_LANCZOS4)


def colour_transfer(pixels: np.ndarray, style: np.ndarray, *, strength: float = 1.0) -> np.ndarray:
    """Reinhard et al. (2001) colour transfer: match each Lab channel's mean and spread to the style
    image's, then blend by `strength`. Colour statistics only: no brush strokes or textures move."""
    source = cv2.cvtColor(drop_alpha(pixels), cv2.COLOR_BGR2LAB).astype(np.float32)
    target = cv2.cvtColor(drop_alpha(style), cv2.COLOR_BGR2LAB).astype(np.float32)
    s_mean, s_std = source.reshape(-1, 3).mean(0), source.reshape(-1, 3).std(0)
    t_mean, t_std = target.reshape(-1, 3).mean(0), target.reshape(-1, 3).std(0)
    moved = (source - s_mean) * (t_std / np.maximum(s_std, 1e-6)) + t_mean
    blended = source * (1.0 - strength) + moved * strength
    return cv2.cvtColor(np.clip(blended + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


# OpenCV hue (0-179) of the colours a recolour prompt may name.
NAMED_HUES = {
    "red": 0,
    "orange": 15,
    "yellow": 30,
    "green": 60,
    "cyan": 90,
    "blue": 120,
    "purple": 140,
    "violet": 140,
    "magenta": 150,
    "pink": 165,
}


def named_hue(prompt: str) -> int | None:
    """The hue of the first colour the prompt names, or None."""
    for word in prompt.lower().replace(",", " ").split():
        if word in NAMED_HUES:
            return NAMED_HUES[word]
    return None


def recolour(pixels: np.ndarray, area: np.ndarray, *, hue: int) -> np.ndarray:
    """Set the hue inside `area` (255 = recolour, grey = partly), keeping saturation and brightness, so
    shading and texture stay; greys gain a little saturation so they can take a colour at all."""
    bgr = drop_alpha(pixels)
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    shifted = hsv.copy()
    shifted[..., 0] = hue
    shifted[..., 1] = np.maximum(hsv[..., 1], 96)
    moved = cv2.cvtColor(shifted, cv2.COLOR_HSV2BGR).astype(np.float32)
    weight = area.astype(np.float32)[..., None] / 255.0
    return (bgr * (1.0 - weight) + moved * weight + 0.5).astype(np.uint8)
