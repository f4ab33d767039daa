"""Decode hostile uploads and write clean images back out.

Every upload is decoded by Pillow (JPEG, PNG and WebP only, whatever the name or content type
says) and written again from raw pixels, so nothing of the original file survives except the
picture: no EXIF (GPS), XMP, ICC, comments or text chunks, no trailing payloads, no extra
frames. The pixel count is read from the header and refused before any pixel is decoded, so a
small file that expands to gigabytes costs nothing. Pillow's global ``MAX_IMAGE_PIXELS`` is left
alone; its own ``DecompressionBombError`` is only a second line of defence.

Everything here is synchronous and CPU bound: the caller runs it in a worker thread.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO, Final

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

FORMATS: Final[Mapping[str, str]] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}

_PIL_TO_EXT: Final[Mapping[str, str]] = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
_QUALITY: Final = 85
# Thumbnails are made from our own re-encoded output, which was already held to the
# caller's limit; this only stops a corrupted stored file from exhausting memory.
_THUMBNAIL_MAX_PIXELS: Final = 100_000_000


class NotAnImage(Exception):
    """The bytes are not a decodable JPEG, PNG or WebP image."""


class TooManyPixels(NotAnImage):
    """The header declares more pixels than allowed (a decompression bomb, or just too big)."""

    def __init__(self, pixels: int, max_pixels: int) -> None:
        super().__init__(f"image has {pixels} pixels, at most {max_pixels} allowed")
        self.pixels = pixels
        self.max_pixels = max_pixels


@dataclass(frozen=True, slots=True)
class Encoded:
    data: bytes
    ext: str
    content_type: str
    width: int
    height: int


def reencode(source: bytes | BinaryIO, *, max_pixels: int, max_side: int) -> Encoded:
    """Decode an untrusted upload and write it again in the same format, metadata stripped.

    EXIF orientation is applied first, then the image is scaled down (never up) so that its
    longest side is at most ``max_side``. Raises ``TooManyPixels`` before decoding when the
    header declares more than ``max_pixels``, ``NotAnImage`` for anything else unreadable.
    """
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    image, ext = _decode(stream, max_pixels=max_pixels)
    try:
        image = ImageOps.exif_transpose(image)
    except Exception as exc:  # a malformed EXIF block is the uploader's problem, not a 500
        raise NotAnImage(f"bad EXIF data: {exc}") from exc
    image = _to_srgb(image)
    image = _clean_mode(image, ext)
    image = _fit(image, max_side)
    return _encode(image, ext)


def thumbnail(data: bytes, *, width: int) -> Encoded:
    """Scale an already re-encoded image to ``width`` pixels wide, keeping the aspect ratio.

    An image already narrower than ``width`` is returned re-encoded at its own size.
    """
    if width < 1:
        raise ValueError("width must be positive")
    image, ext = _decode(io.BytesIO(data), max_pixels=_THUMBNAIL_MAX_PIXELS)
    image = _clean_mode(image, ext)
    if image.width > width:
        height = max(1, round(image.height * width / image.width))
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    return _encode(image, ext)


def _decode(stream: BinaryIO, *, max_pixels: int) -> tuple[Image.Image, str]:
    try:
        image = Image.open(stream, formats=list(_PIL_TO_EXT))
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(_declared_pixels(exc), max_pixels) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise NotAnImage(str(exc)) from exc
    # Image.open has only read the header: refuse here, before a single pixel is decoded.
    pixels = image.width * image.height
    if pixels > max_pixels:
        image.close()
        raise TooManyPixels(pixels, max_pixels)
    if pixels == 0:
        image.close()
        raise NotAnImage("image has no pixels")
    ext = _PIL_TO_EXT[image.format or ""]
    try:
        # Animated PNG/WebP: the first frame is the current one after open; load() reads only it.
        image.load()
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(pixels, max_pixels) from exc
    except Exception as exc:  # truncated or corrupt data raises a zoo of types from the codecs
        raise NotAnImage(f"cannot decode image: {exc}") from exc
    return image, ext


def _declared_pixels(exc: Exception) -> int:
    # Pillow refused before we could read the size; the message is all we have.
    digits = [int(word) for word in str(exc).split() if word.isdigit()]
    return digits[0] if digits else 0


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert pixels with an embedded ICC profile to sRGB, so dropping the profile is safe."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "CMYK"):
        return image
    try:
        converted = ImageCms.profileToProfile(
            image,
            ImageCms.ImageCmsProfile(io.BytesIO(icc)),
            ImageCms.createProfile("sRGB"),
            outputMode="RGB",
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # A broken profile: the plain conversion below is close enough.
        return image
    return converted if converted is not None else image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _clean_mode(image: Image.Image, ext: str) -> Image.Image:
    if ext == "jpg":
        target = "L" if image.mode in ("L", "1") else "RGB"
    elif _has_alpha(image):
        target = "RGBA"
    elif ext == "png" and image.mode in ("L", "1"):
        target = "L"
    else:
        target = "RGB"
    converted = image if image.mode == target else image.convert(target)
    # Rebuild from raw pixels: the new image has no info dict, no EXIF, no ICC, no text chunks,
    # so no encoder can copy metadata across whatever its defaults are.
    return Image.frombytes(target, converted.size, converted.tobytes())


def _fit(image: Image.Image, max_side: int) -> Image.Image:
    longest = max(image.size)
    if longest <= max_side:
        return image
    scale = max_side / longest
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _encode(image: Image.Image, ext: str) -> Encoded:
    out = io.BytesIO()
    if ext == "jpg":
        image.save(out, "JPEG", quality=_QUALITY, optimize=True, progressive=True)
    elif ext == "png":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=_QUALITY, method=4)
    return Encoded(
        data=out.getvalue(),
        ext=ext,
        content_type=FORMATS[ext],
        width=image.width,
        height=image.height,
    )
