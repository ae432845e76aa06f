"""Images as edits carry them (SourceImage), what a model's answer is, and RGB for the models that need it.

Photos are checked and decoded by editor/services/imaging/photos.py; a SourceImage is its PhotoInfo
with the bytes."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from editor.services.imaging.photos import PHOTO_CONTENT_TYPES as CONTENT_TYPES
from editor.services.imaging.photos import PhotoInfo, photo_sniff

EXTENSION_BY_CONTENT_TYPE = {value: key for key, value in CONTENT_TYPES.items()}


@dataclass(frozen=True)
class SourceImage(PhotoInfo):
    """Image bytes as they will be sent on, with what Pillow read from their headers (PhotoInfo)."""

    data: bytes

    @classmethod
    def of(cls, data: bytes, info: PhotoInfo) -> SourceImage:
        return cls(data=data, format=info.format, width=info.width, height=info.height)


def _has_alpha(image: Image.Image) -> bool:
    """Whether the image carries transparency (an alpha channel, or a palette with a transparent entry)."""
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def image_info(data: bytes) -> tuple[str, int, int]:
    """Return (content type, width, height) of a model's output image without decoding its pixels."""
    kind = photo_sniff(data)
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
        out = io.BytesIO()
        flat.save(out, "PNG")
        return out.getvalue()
