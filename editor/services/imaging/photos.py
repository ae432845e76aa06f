"""Photos at full resolution: read any format once (orientation, sRGB), write results without metadata."""

from __future__ import annotations

import functools
import io
import logging
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageCms, UnidentifiedImageError

from editor.errors import ServiceError
from editor.services.imaging.png import SUPPORTED_MODES, png_write

logger = logging.getLogger(__name__)

PHOTO_CONTENT_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "heic": "image/heic",
}
# What browsers and phones call the same things (iPhones say image/heif for some exports).
CONTENT_TYPE_FORMATS = {
    **{content_type: kind for kind, content_type in PHOTO_CONTENT_TYPES.items()},
    "image/jpg": "jpeg",
    "image/heif": "heic",
    "image/heic-sequence": "heic",
    "image/heif-sequence": "heic",
}
_PIL_FORMATS = {"PNG": "png", "JPEG": "jpeg", "MPO": "jpeg", "WEBP": "webp", "HEIF": "heic"}
# ISO base media brands of HEIF still images (HEVC-coded); AVIF's brands are not among them.
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_EXIF_ORIENTATION = 0x0112
ACCEPTED = "JPEG, PNG, WebP or HEIC"


@functools.cache
def _heif_registered() -> bool:
    """Teach Pillow to open HEIC/HEIF (pi-heif: a decoder only, ~1.5 MB as a wheel)."""
    import pi_heif

    pi_heif.register_heif_opener()
    return True


def photo_sniff(data: bytes) -> str | None:
    """Name the format from the first bytes, never from a file name or a declared content type."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heic"
    return None


@dataclass(frozen=True)
class PhotoInfo:
    """What a photo's headers say, as it will be shown: width and height after its orientation."""

    format: str  # png | jpeg | webp | heic
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return PHOTO_CONTENT_TYPES[self.format]

    @property
    def pixels(self) -> int:
        return self.width * self.height


def _unsupported(role: str) -> ServiceError:
    return ServiceError("unsupported_image_format", f"The {role} must be a {ACCEPTED} image.", status=415)


def _corrupt(role: str) -> ServiceError:
    return ServiceError("corrupt_image", f"The {role} could not be read; it may be damaged.")


def _too_many_pixels(role: str, width: int, height: int) -> ServiceError:
    return ServiceError(
        "image_too_large",
        f"The {role} is {width}x{height} ({width * height / 1e6:.0f} megapixels); the limit is "
        f"{settings.MAX_PHOTO_PIXELS / 1e6:.0f} megapixels.",
        status=413,
    )


def _too_many_bytes(role: str, size: int) -> ServiceError:
    return ServiceError(
        "image_too_large",
        f"The {role} is {size / 1e6:.1f} MB; the limit is {settings.MAX_PHOTO_BYTES / 1e6:.0f} MB.",
        status=413,
    )


def _intact(data: bytes, kind: str, image: Image.Image) -> None:
    """Catch truncated or damaged files without decoding every pixel.

    PNG: verify() checks every chunk's CRC. JPEG must end with its EOI marker, WebP's RIFF length must
    match. HEIC's container was parsed to open it; damage inside its coded pixels fails the edit's
    decode with the same clear error.
    """
    if kind == "png":
        image.verify()
    elif kind == "jpeg" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise OSError("truncated JPEG")
    elif kind == "webp" and int.from_bytes(data[4:8], "little") + 8 > len(data):
        raise OSError("truncated WebP")


def _open(data: bytes, role: str) -> tuple[Image.Image, str]:
    """Open lazily (headers only) with every check that needs no pixels."""
    if len(data) > settings.MAX_PHOTO_BYTES:
        raise _too_many_bytes(role, len(data))
    kind = photo_sniff(data)
    if kind is None:
        raise _unsupported(role)
    if kind == "heic":
        _heif_registered()
    try:
        # Our own pixel check below is the limit; Pillow's bomb check is a backstop at twice it.
        Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, settings.MAX_PHOTO_PIXELS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(
                io.BytesIO(data), formats=[name for name, k in _PIL_FORMATS.items() if k == kind]
            )
    except Image.DecompressionBombError as exc:
        raise ServiceError(
            "image_too_large",
            f"The {role} has far too many pixels; the limit is "
            f"{settings.MAX_PHOTO_PIXELS / 1e6:.0f} megapixels.",
            status=413,
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _corrupt(role) from exc
    if getattr(image, "n_frames", 1) > 1 and kind != "heic":
        raise ServiceError("animated_image", f"The {role} is animated; upload a still image.")
    if image.width * image.height > settings.MAX_PHOTO_PIXELS:
        raise _too_many_pixels(role, image.width, image.height)
    return image, kind


def _orientation(image: Image.Image, kind: str, data: bytes) -> int:
    """The EXIF orientation still to apply. libheif already turned a HEIC (and says 1 afterwards)."""
    if kind == "heic":
        return 1
    if kind == "png" and "exif" not in image.info and b"eXIf" not in data:
        return 1  # Pillow decodes a whole PNG to look for a late eXIf chunk: look for its name first
    # Damaged EXIF (or, for a PNG with a late eXIf chunk, damaged pixels: Pillow decodes to find it)
    # raises here, and callers refuse the file as damaged, as for any other damage.
    value = image.getexif().get(_EXIF_ORIENTATION, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


# EXIF orientation -> Pillow's transpose (names, so that importing this module does not load Pillow).
_TRANSPOSES = {
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}


def _turned(image: Image.Image, orientation: int) -> Image.Image:
    """Apply an EXIF orientation read beforehand (a reduced or drafted image no longer carries it)."""
    method = _TRANSPOSES.get(orientation)
    return image.transpose(Image.Transpose[method]) if method else image


def photo_inspect(data: bytes, *, role: str = "image") -> PhotoInfo:
    """Validate a photo from its headers (type by content, bytes, pixels, damage) without decoding it."""
    image, kind = _open(data, role)
    try:
        _intact(data, kind, image)
        if kind == "png":
            image = Image.open(io.BytesIO(data))  # verify() leaves the image unusable
        turned = _orientation(image, kind, data) in (5, 6, 7, 8)
    except (OSError, SyntaxError, ValueError) as exc:
        raise _corrupt(role) from exc
    width, height = (image.height, image.width) if turned else (image.width, image.height)
    return PhotoInfo(format=kind, width=width, height=height)


def photo_plain(data: bytes) -> bool:
    """True if the bytes can go to a model as they are: PNG, JPEG or WebP, upright, sRGB or untagged."""
    image, kind = _open(data, "image")
    try:
        if kind == "heic" or _orientation(image, kind, data) != 1:
            return False
    except (OSError, SyntaxError, ValueError) as exc:
        raise _corrupt("image") from exc
    icc = image.info.get("icc_profile")
    return not icc or _is_srgb(icc)


def _is_srgb(icc: bytes) -> bool:
    try:
        description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))) or ""
    except (ImageCms.PyCMSError, OSError, ValueError):
        return True  # unreadable: treated as sRGB, as when decoding
    return "srgb" in description.lower().replace(" ", "")


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert an embedded colour profile to sRGB (phones embed Display P3); untagged means sRGB already."""
    wanted = "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
    if icc:
        try:
            if not _is_srgb(icc):
                profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                if image.mode not in ("RGB", "RGBA", "CMYK", "L"):
                    image = image.convert(wanted)
                in_place = image.mode == wanted
                converted = ImageCms.profileToProfile(
                    image, profile, _srgb(), outputMode=wanted, inPlace=in_place
                )
                return image if in_place else converted
        except (ImageCms.PyCMSError, OSError, ValueError) as exc:
            # A broken profile is not worth refusing the photo for: treat it as sRGB, and say so.
            logger.warning("colour profile ignored", extra={"error": str(exc)})
    if image.mode == "CMYK":
        return image.convert("RGB")
    return image if image.mode == wanted else image.convert(wanted)


def photo_decode(data: bytes, *, role: str = "image", fit: tuple[int, int] | None = None) -> Image.Image:
    """Decode a photo as it is shown: orientation applied once, colours in sRGB, mode RGB or RGBA.

    With `fit` (a size to fit within), JPEG decodes at 1/2, 1/4 or 1/8 scale straight from the DCT
    (draft) and other formats shrink by whole factors (reduce): a 100 MP photo scaled for the model never
    exists at full size in memory.
    """
    image, kind = _open(data, role)
    try:
        orientation = _orientation(image, kind, data)
        icc = image.info.get("icc_profile")
        if fit is not None:
            width, height = fit if orientation not in (5, 6, 7, 8) else (fit[1], fit[0])
            if kind == "jpeg":
                image.draft("RGB", (width, height))
            image.load()
            factor = min(image.width // max(1, width), image.height // max(1, height))
            if factor >= 2:
                image = image.reduce(factor)
        else:
            image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise _corrupt(role) from exc
    return _to_srgb(_turned(image, orientation), icc)


def mask_decode(data: bytes, *, size: tuple[int, int], role: str = "mask") -> Image.Image:
    """A mask as grey 'L' where white (painted) means change; its orientation applied; sized like the photo.

    A mask with transparency counts painted (opaque) pixels, which is what a brush on a transparent layer
    makes; otherwise its brightness is used.
    """
    image, kind = _open(data, role)
    try:
        orientation = _orientation(image, kind, data)
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise _corrupt(role) from exc
    image = _turned(image, orientation)
    if image.size != size:
        raise ServiceError(
            "mask_size_mismatch",
            f"The mask is {image.width}x{image.height} but the image is {size[0]}x{size[1]}; "
            "they must be the same size.",
        )
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        alpha = image.convert("RGBA").getchannel("A")
        if alpha.getextrema()[0] < 255:
            return alpha
    return image if image.mode == "L" else image.convert("L")


@dataclass(frozen=True)
class Encoded:
    data: bytes
    content_type: str
    width: int
    height: int
    jpeg_quality: int | None = None


@dataclass(frozen=True)
class JpegTables:
    """How a source JPEG was coded: re-encoding with its own tables and chroma subsampling changes the
    pixels it did not edit least (a 4:4:4 photo written 4:2:0 moved by ~13 levels on average)."""

    qtables: dict
    subsampling: int  # 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0
    quality: int  # the IJG quality whose tables are nearest, for people to read


# The IJG (libjpeg) base luminance table; compared sorted, so its order does not matter.
_IJG_LUMINANCE = (
    *(16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40, 26, 24, 22, 22, 24, 49, 35, 37),
    *(29, 40, 58, 51, 61, 60, 57, 51, 56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81, 87),
    *(95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99),
)


def _ijg_quality(table) -> int:
    """The IJG quality (1-100) whose scaled luminance table is nearest to `table`."""

    def scaled(quality: int) -> list[int]:
        factor = 5000 // quality if quality < 50 else 200 - 2 * quality
        return [min(255, max(1, (base * factor + 50) // 100)) for base in _IJG_LUMINANCE]

    values = sorted(table)
    return min(
        range(1, 101), key=lambda q: sum(abs(a - b) for a, b in zip(values, sorted(scaled(q)), strict=True))
    )


def jpeg_tables(data: bytes) -> JpegTables | None:
    """The source JPEG's quantization tables and subsampling, from its headers (None if unusable)."""
    from PIL import JpegImagePlugin

    try:
        with Image.open(io.BytesIO(data), formats=["JPEG", "MPO"]) as image:
            qtables = dict(image.quantization or {})
            subsampling = JpegImagePlugin.get_sampling(image)
            if image.mode != "RGB":
                return None  # greyscale or CMYK: written as RGB at the default quality instead
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError):
        return None
    if not qtables or subsampling not in (0, 1, 2) or len(qtables) > 4:
        return None
    return JpegTables(qtables=qtables, subsampling=subsampling, quality=_ijg_quality(qtables[0]))


def photo_encode(image: Image.Image, kind: str, *, jpeg: JpegTables | None = None) -> Encoded:
    """Encode a result with no metadata at all (no EXIF, XMP or comments: no GPS, serials, device).

    Orientation is already in the pixels and colours are sRGB, so nothing is lost by that.
    JPEG is written with the source JPEG's own tables and subsampling when there is one (`jpeg`), else at
    PHOTO_JPEG_QUALITY, 4:2:0; PNG by editor.services.imaging.png (one filter, zlib-ng level 4).
    """
    image.info = {}
    out = io.BytesIO()
    quality = None
    if kind == "jpeg":
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        if jpeg is not None:
            quality = jpeg.quality
            rgb.save(out, "JPEG", qtables=jpeg.qtables, subsampling=jpeg.subsampling, optimize=False)
        else:
            quality = settings.PHOTO_JPEG_QUALITY
            rgb.save(out, "JPEG", quality=quality, subsampling=2, optimize=False)
    elif kind == "webp":
        image.save(out, "WEBP", lossless=True, method=0)
    elif image.mode in SUPPORTED_MODES:
        # Our writer: ~3x faster than Pillow's on photos, ~10 % larger (docs/performance.md).
        out.write(png_write(image))
    else:
        image.save(out, "PNG", compress_level=3)
    return Encoded(
        data=out.getvalue(),
        content_type=PHOTO_CONTENT_TYPES[kind],
        width=image.width,
        height=image.height,
        jpeg_quality=quality,
    )


def result_format(source_format: str, *, has_alpha: bool) -> str:
    """The format a full-resolution result is stored in: the input's own, HEIC as JPEG (no encoder here)."""
    if has_alpha:
        return "webp" if source_format == "webp" else "png"
    return "jpeg" if source_format in ("jpeg", "heic") else source_format
