"""Photo-like test images made quickly in code, and a Display P3 ICC profile built from its numbers."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw

# Display P3 as phones embed it: D65 white adapted to the profile connection space's D50 (Bradford),
# with the sRGB transfer curve. The colorants are those of Apple's "Display P3" profile.
_P3_COLORANTS = {
    b"rXYZ": (0.515121, 0.241196, -0.001053),
    b"gXYZ": (0.291977, 0.692245, 0.041885),
    b"bXYZ": (0.157104, 0.066574, 0.784073),
    b"wtpt": (0.964203, 1.0, 0.824905),
}


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(values: tuple[float, float, float]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in values)


def _para_srgb() -> bytes:
    # Parametric curve type 3: Y = (aX + b)^g for X >= d, else cX (the sRGB curve).
    params = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)
    return b"para\0\0\0\0" + struct.pack(">HH", 3, 0) + b"".join(_s15(p) for p in params)


def _mluc(text: str) -> bytes:
    encoded = text.encode("utf-16-be")
    return (
        b"mluc\0\0\0\0" + struct.pack(">II", 1, 12) + b"enUS" + struct.pack(">II", len(encoded), 28) + encoded
    )


def display_p3_profile() -> bytes:
    """An ICC v4 matrix/TRC profile equivalent to Display P3 (LittleCMS reads it like Apple's)."""
    curve = _para_srgb()
    tags = [
        (b"desc", _mluc("Display P3")),
        (b"cprt", _mluc("No copyright, test profile")),
        *[(name, _xyz(values)) for name, values in _P3_COLORANTS.items()],
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for name, body in tags:
        while len(body) % 4:
            body += b"\0"
        table += name + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + bytes([4, 0x30, 0, 0])
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"APPL"
        + b"\0" * 4  # flags
        + b"\0" * 8  # manufacturer, model
        + b"\0" * 8  # attributes
        + struct.pack(">I", 0)  # perceptual
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + b"lcms"
        + b"\0" * 16  # profile id
        + b"\0" * 28
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def photo_like(width: int, height: int, *, seed: int = 7) -> Image.Image:
    """An RGB image with texture everywhere (JPEG cannot flatten it), made in well under a second at 48 MP.

    Noise from os-level random bytes, tiled, plus gradients: cheap to make, costly enough to compress.
    """
    import random

    rng = random.Random(seed)
    tile = Image.frombytes("RGB", (256, 256), rng.randbytes(256 * 256 * 3))
    noise = Image.new("RGB", (width, height))
    for y in range(0, height, 256):
        for x in range(0, width, 256):
            noise.paste(tile, (x, y))
    gradient = Image.linear_gradient("L").resize((width, height))
    base = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient))
    photo = Image.blend(base, noise, 0.25)
    draw = ImageDraw.Draw(photo)
    for index in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = max(8, min(width, height) // 20)
        draw.ellipse(
            (x - radius, y - radius, x + radius, y + radius), fill=(40 + index * 15, 90, 200 - index * 10)
        )
    return photo


def encoded(image: Image.Image, kind: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[kind], **options)
    return out.getvalue()


def rect_mask(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle(box, fill=255)
    return mask


FIXTURES = Path(__file__).parent / "fixtures"


HEIC = (FIXTURES / "p3-rotated-gps.heic").read_bytes()


GPS_IFD = 0x8825


def with_exif(image: Image.Image, kind: str, *, orientation: int = 1, gps: bool = True, **options) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    return encoded(image, kind, exif=exif.tobytes(), **options)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height (1-bit grey) and holds no pixels: what a bomb's header says."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
