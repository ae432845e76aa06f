"""Image and mask validation with Pillow: formats by content, byte and pixel caps, orientation, masks."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from editor.errors import ServiceError

CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "heic": "image/heic"}
EXTENSION_BY_CONTENT_TYPE = {value: key for key, value in CONTENT_TYPES.items()}
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


def _intact(data: bytes, kind: str, image: Image.Image) -> None:
    """Catch truncated or damaged files without decoding every pixel (a 1 MP decode costs ~10 ms).

    PNG: verify() checks every chunk's CRC. JPEG must end with its EOI marker, WebP's RIFF length must
    match. Damage that survives these reaches the model, which refuses it with a clear error.
    """
    if kind == "png":
        image.verify()
    elif kind == "jpeg" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise OSError("truncated JPEG")
    elif kind == "webp" and int.from_bytes(data[4:8], "little") + 8 > len(data):
        raise OSError("truncated WebP")


def _open(data: bytes, role: str, *, decode: bool = True) -> tuple[Image.Image, str]:
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
    # One process-wide backstop for every decoder (photos go up to MAX_PHOTO_PIXELS); the explicit check
    # below is this path's own limit.
    Image.MAX_IMAGE_PIXELS = settings.MAX_PHOTO_PIXELS
    try:
        # Pillow only warns past its pixel limit; a decompression bomb must be an error here.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if decode:
                image.load()
            else:
                _intact(data, kind, image)
                image = Image.open(io.BytesIO(data))  # verify() leaves the image unusable
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _too_many_pixels(role) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _corrupt(role) from exc
    if _PIL_FORMATS.get(image.format) != kind:
        raise ServiceError(
            "unsupported_image_format", f"The {role} must be a PNG, JPEG or WebP image.", status=415
        )
    if getattr(image, "is_animated", False) and getattr(image, "n_frames", 1) > 1:
        raise ServiceError("animated_image", f"The {role} is animated; upload a still image.")
    if image.width * image.height > settings.MAX_IMAGE_PIXELS:
        raise _too_many_pixels(role)
    return image, kind


def _corrupt(role: str) -> ServiceError:
    return ServiceError("corrupt_image", f"The {role} could not be read; it may be damaged.")


def _too_many_pixels(role: str) -> ServiceError:
    return ServiceError(
        "image_too_large",
        f"The {role} has too many pixels; the limit is {settings.MAX_IMAGE_PIXELS:,} (about 3072 x 3072).",
        status=413,
    )


def _encode(image: Image.Image, kind: str, *, fast: bool = False) -> bytes:
    out = io.BytesIO()
    if kind == "jpeg":
        image.convert("RGB").save(out, "JPEG", quality=95)
    elif kind == "webp":
        image.save(out, "WEBP", lossless=True)
    else:
        # Masks are flat two-tone areas: the fastest zlib level already packs them small.
        image.save(out, "PNG", compress_level=1 if fast else 6)
    return out.getvalue()


def image_load(data: bytes) -> SourceImage:
    """Validate an uploaded photo; apply its EXIF orientation (re-encoding only then)."""
    image, kind = _open(data, "image", decode=False)
    # Pillow decodes a whole PNG to look for an eXIf chunk; look for the chunk's name first.
    might_have_exif = kind != "png" or b"eXIf" in data
    try:
        if might_have_exif and image.getexif().get(_EXIF_ORIENTATION, 1) != 1:
            image = ImageOps.exif_transpose(image)
            data = _encode(image, kind)
    except (OSError, SyntaxError, ValueError) as exc:  # the pixels behind an intact-looking file are damaged
        raise _corrupt("image") from exc
    return SourceImage(data=data, format=kind, width=image.width, height=image.height)


def mask_load(data: bytes, image: SourceImage) -> SourceImage:
    """Validate a mask and normalise it to a greyscale PNG where white (painted) means change.

    A mask with transparency counts painted (opaque) pixels as the area to change, which is what a
    brush on a transparent layer produces; otherwise its brightness is used.
    """
    mask, kind = _open(data, "mask")
    if kind == "png" and mask.mode == "L" and b"eXIf" not in data:
        # Already what models get (8-bit grey PNG, no orientation to apply): keep the bytes as sent.
        _mask_size_check(mask, image)
        if mask.getextrema()[1] < 128:
            raise _empty_mask()
        return SourceImage(data=data, format="png", width=mask.width, height=mask.height)
    mask = ImageOps.exif_transpose(mask)
    _mask_size_check(mask, image)
    if _has_alpha(mask):
        alpha = mask.convert("RGBA").getchannel("A")
        grey = alpha if alpha.getextrema()[0] < 255 else mask.convert("L")
    else:
        grey = mask.convert("L")
    if grey.getextrema()[1] < 128:
        raise _empty_mask()
    return SourceImage(
        data=_encode(grey, "png", fast=True), format="png", width=grey.width, height=grey.height
    )


def _has_alpha(image: Image.Image) -> bool:
    """Whether the image carries transparency (an alpha channel, or a palette with a transparent entry)."""
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _mask_size_check(mask: Image.Image, image: SourceImage) -> None:
    if mask.size != (image.width, image.height):
        raise ServiceError(
            "mask_size_mismatch",
            f"The mask is {mask.width}x{mask.height} but the image is {image.width}x{image.height}; "
            "they must be the same size.",
        )


def _empty_mask() -> ServiceError:
    return ServiceError("empty_mask", "The mask is empty: paint over the area you want to change.")


def image_info(data: bytes) -> tuple[str, int, int]:
    """Return (content type, width, height) of a model's output image without decoding its pixels."""
    kind = sniff_format(data)
    with Image.open(io.BytesIO(data)) as image:
        return CONTENT_TYPES.get(kind or "png", "image/png"), image.width, image.height


def rgb_png_or_original(source: SourceImage, *, formats: tuple[str, ...]) -> bytes:
    """The bytes as sent when the model takes them; else an RGB PNG, transparency flattened on white.

    Nova Canvas and Titan take PNG or JPEG of 8-bit RGB only (a background-removed result has alpha).
    """
    with Image.open(io.BytesIO(source.data)) as image:
        if source.format in formats and image.mode == "RGB":
            return source.data
        image.load()
        if _has_alpha(image):
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
        else:
            flat = image.convert("RGB")
        return _encode(flat, "png")
