"""Image and mask validation with Pillow: formats by content, byte and pixel caps, orientation, masks."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from editor.errors import ServiceError

CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_PIL_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class SourceImage:
    """Image bytes as they will be sent on, with what Pillow read from them."""

    data: bytes
    format: str  # png | jpeg | webp
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def pixels(self) -> int:
        return self.width * self.height


def sniff_format(data: bytes) -> str | None:
    """Name the format from the first bytes, never from a file name or a declared content type."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _open(data: bytes, role: str) -> tuple[Image.Image, str]:
    if len(data) > settings.MAX_UPLOAD_BYTES:
        raise ServiceError(
            "image_too_large",
            f"The {role} is {len(data) / 1e6:.1f} MB; the limit is {settings.MAX_UPLOAD_BYTES / 1e6:.1f} MB.",
            status=413,
        )
    kind = sniff_format(data)
    if kind is None:
        raise ServiceError(
            "unsupported_image_format", f"The {role} must be a PNG, JPEG or WebP image.", status=415
        )
    Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS
    try:
        # Pillow only warns past its pixel limit; a decompression bomb must be an error here.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _too_many_pixels(role) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ServiceError("corrupt_image", f"The {role} could not be read; it may be damaged.") from exc
    if _PIL_FORMATS.get(image.format) != kind:
        raise ServiceError(
            "unsupported_image_format", f"The {role} must be a PNG, JPEG or WebP image.", status=415
        )
    if getattr(image, "is_animated", False) and getattr(image, "n_frames", 1) > 1:
        raise ServiceError("animated_image", f"The {role} is animated; upload a still image.")
    if image.width * image.height > settings.MAX_IMAGE_PIXELS:
        raise _too_many_pixels(role)
    return image, kind


def _too_many_pixels(role: str) -> ServiceError:
    return ServiceError(
        "image_too_large",
        f"The {role} has too many pixels; the limit is {settings.MAX_IMAGE_PIXELS:,} (about 3072 x 3072).",
        status=413,
    )


def _encode(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "jpeg":
        image.convert("RGB").save(out, "JPEG", quality=95)
    elif kind == "webp":
        image.save(out, "WEBP", lossless=True)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def image_load(data: bytes) -> tuple[SourceImage, Image.Image]:
    """Validate an uploaded photo; apply its EXIF orientation (re-encoding only then)."""
    image, kind = _open(data, "image")
    if image.getexif().get(_EXIF_ORIENTATION, 1) != 1:
        image = ImageOps.exif_transpose(image)
        data = _encode(image, kind)
    return SourceImage(data=data, format=kind, width=image.width, height=image.height), image


def mask_load(data: bytes, image: SourceImage) -> SourceImage:
    """Validate a mask and normalise it to a greyscale PNG where white (painted) means change.

    A mask with transparency counts painted (opaque) pixels as the area to change, which is what a
    brush on a transparent layer produces; otherwise its brightness is used.
    """
    mask, _ = _open(data, "mask")
    mask = ImageOps.exif_transpose(mask)
    if mask.size != (image.width, image.height):
        raise ServiceError(
            "mask_size_mismatch",
            f"The mask is {mask.width}x{mask.height} but the image is {image.width}x{image.height}; "
            "they must be the same size.",
        )
    if mask.mode in ("RGBA", "LA", "PA") or (mask.mode == "P" and "transparency" in mask.info):
        alpha = mask.convert("RGBA").getchannel("A")
        grey = alpha if alpha.getextrema()[0] < 255 else mask.convert("L")
    else:
        grey = mask.convert("L")
    if grey.getextrema()[1] < 128:
        raise ServiceError("empty_mask", "The mask is empty: paint over the area you want to change.")
    return SourceImage(data=_encode(grey, "png"), format="png", width=grey.width, height=grey.height)


def image_info(data: bytes) -> tuple[str, int, int]:
    """Return (content type, width, height) of a model's output image without decoding its pixels."""
    kind = sniff_format(data)
    with Image.open(io.BytesIO(data)) as image:
        return CONTENT_TYPES.get(kind or "png", "image/png"), image.width, image.height


def png_bytes(source: SourceImage) -> bytes:
    """The image as PNG, for models that do not take its format (re-encodes only when needed)."""
    if source.format == "png":
        return source.data
    with Image.open(io.BytesIO(source.data)) as image:
        return _encode(image, "png")
