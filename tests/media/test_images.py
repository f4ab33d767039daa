"""Hostile and ordinary uploads through reencode() and thumbnail(); inputs are built in code."""

from __future__ import annotations

import io
import struct
import time
import zlib
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageFile

from hojre.media.images import FORMATS, NotAnImage, TooManyPixels, reencode, thumbnail

LIMITS: dict[str, int] = {"max_pixels": 30_000_000, "max_side": 2048}


def _save(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    image = Image.linear_gradient("L").resize(size).convert(mode)
    return image


def _png_with_size(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose IHDR claims another size: a bomb that costs bytes, not pixels."""
    data = bytearray(_save(Image.new("L", (1, 1)), "PNG"))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def test_formats_mapping() -> None:
    assert dict(FORMATS) == {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def test_php_named_jpg_is_refused() -> None:
    with pytest.raises(NotAnImage):
        reencode(b"<?php system($_GET['c']); ?>", **LIMITS)


def test_empty_bytes_refused() -> None:
    with pytest.raises(NotAnImage):
        reencode(b"", **LIMITS)


def test_truncated_png_is_refused() -> None:
    data = _save(Image.effect_noise((300, 300), 64).convert("RGB"), "PNG")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with pytest.raises(NotAnImage) as info:
        reencode(data[: len(data) // 2], **LIMITS)
    assert not isinstance(info.value, TooManyPixels)


def test_truncated_jpeg_is_refused() -> None:
    data = _save(Image.effect_noise((300, 300), 64).convert("RGB"), "JPEG")
    with pytest.raises(NotAnImage):
        reencode(data[: len(data) // 2], **LIMITS)


def test_bomb_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = _png_with_size(8000, 5000)
    assert len(bomb) < 100
    with Image.open(io.BytesIO(bomb)) as probe:
        assert probe.size == (8000, 5000)

    def no_decoding(self: Image.Image) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    monkeypatch.setattr(Image.Image, "load", no_decoding)
    start = time.perf_counter()
    with pytest.raises(TooManyPixels) as info:
        reencode(bomb, **LIMITS)
    assert time.perf_counter() - start < 0.5
    assert info.value.pixels == 40_000_000
    assert info.value.max_pixels == 30_000_000
    assert isinstance(info.value, NotAnImage)


def test_huge_bomb_beyond_pillow_limit_is_too_many_pixels() -> None:
    # Pillow's own DecompressionBombError fires here first; it must still map to our error.
    with pytest.raises(TooManyPixels):
        reencode(_png_with_size(30_000, 30_000), max_pixels=10**12, max_side=2048)


def test_at_the_limit_is_accepted() -> None:
    data = _save(Image.new("RGB", (100, 50), "red"), "PNG")
    assert reencode(data, max_pixels=5000, max_side=2048).width == 100
    with pytest.raises(TooManyPixels):
        reencode(data, max_pixels=4999, max_side=2048)


def test_exif_gps_xmp_and_comment_are_stripped() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (35.0, 41.0, 22.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (51.0, 25.0, 8.0)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp</x:xmpmeta>'
    source = _save(
        _gradient((120, 80)), "JPEG", exif=exif.tobytes(), comment=b"secret-comment", xmp=xmp
    )
    with Image.open(io.BytesIO(source)) as check:  # the fixture really carries GPS
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    assert b"secret-xmp" in source and b"secret-comment" in source

    out = reencode(source, **LIMITS)
    assert out.ext == "jpg" and out.content_type == "image/jpeg"
    with Image.open(io.BytesIO(out.data)) as result:
        assert result.format == "JPEG"
        assert len(result.getexif()) == 0
        assert "exif" not in result.info and "comment" not in result.info
        assert "icc_profile" not in result.info
    assert b"Exif" not in out.data[:65536]
    assert b"SpyCam" not in out.data
    assert b"secret-xmp" not in out.data and b"secret-comment" not in out.data


def test_png_text_chunks_and_trailing_payload_dropped() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret-text")
    source = _save(Image.new("RGB", (10, 10), "blue"), "PNG", pnginfo=info) + b"<?php evil(); ?>"
    out = reencode(source, **LIMITS)
    assert b"secret-text" not in out.data
    assert b"evil" not in out.data


def test_orientation_applied() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    source = _save(_gradient((200, 100)), "JPEG", exif=exif.tobytes())
    out = reencode(source, **LIMITS)
    assert (out.width, out.height) == (100, 200)
    with Image.open(io.BytesIO(out.data)) as result:
        assert result.size == (100, 200)
        assert ExifTags.Base.Orientation not in result.getexif()


def test_png_alpha_kept() -> None:
    image = Image.new("RGBA", (40, 30), (255, 0, 0, 0))
    image.paste((0, 255, 0, 128), (0, 0, 20, 30))
    out = reencode(_save(image, "PNG"), **LIMITS)
    assert out.ext == "png" and out.content_type == "image/png"
    with Image.open(io.BytesIO(out.data)) as result:
        assert result.mode == "RGBA"
        assert result.getpixel((5, 5)) == (0, 255, 0, 128)
        assert result.getchannel("A").getpixel((35, 5)) == 0


def test_palette_png_with_transparency_keeps_alpha() -> None:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([255, 0, 0, 0, 0, 255])
    image.paste(1, (0, 0, 4, 8))
    source = _save(image, "PNG", transparency=0)
    with Image.open(io.BytesIO(reencode(source, **LIMITS).data)) as result:
        assert result.mode == "RGBA"
        assert result.getchannel("A").getpixel((6, 0)) == 0
        assert result.getpixel((1, 0)) == (0, 0, 255, 255)


def test_webp_round_trip() -> None:
    out = reencode(_save(_gradient((64, 48)), "WEBP", quality=90), **LIMITS)
    assert (out.ext, out.content_type, out.width, out.height) == ("webp", "image/webp", 64, 48)
    with Image.open(io.BytesIO(out.data)) as result:
        assert result.format == "WEBP"
        assert result.size == (64, 48)


def test_animated_webp_keeps_first_frame() -> None:
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "blue", "green")]
    source = _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    with Image.open(io.BytesIO(source)) as check:
        assert getattr(check, "n_frames", 1) == 3
    out = reencode(source, **LIMITS)
    with Image.open(io.BytesIO(out.data)) as result:
        assert getattr(result, "n_frames", 1) == 1
        red, green, blue = result.convert("RGB").getpixel((10, 10))  # type: ignore[misc]
        assert red > 200 and green < 50 and blue < 50


def test_apng_keeps_first_frame() -> None:
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "blue")]
    source = _save(frames[0], "PNG", save_all=True, append_images=frames[1:])
    out = reencode(source, **LIMITS)
    assert b"acTL" not in out.data and b"fcTL" not in out.data
    with Image.open(io.BytesIO(out.data)) as result:
        assert result.convert("RGB").getpixel((10, 10)) == (255, 0, 0)


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO", "PPM"])
def test_other_formats_refused(fmt: str) -> None:
    with pytest.raises(NotAnImage):
        reencode(_save(Image.new("RGB", (16, 16), "red"), fmt), **LIMITS)


def test_scaled_down_to_max_side() -> None:
    out = reencode(_save(_gradient((3000, 1500)), "JPEG"), max_pixels=30_000_000, max_side=1000)
    assert (out.width, out.height) == (1000, 500)
    with Image.open(io.BytesIO(out.data)) as result:
        assert result.size == (1000, 500)


def test_never_scaled_up() -> None:
    out = reencode(_save(_gradient((300, 200)), "PNG"), max_pixels=30_000_000, max_side=1000)
    assert (out.width, out.height) == (300, 200)


def test_jpeg_output_is_progressive() -> None:
    out = reencode(_save(_gradient((300, 200)), "JPEG"), **LIMITS)
    with Image.open(io.BytesIO(out.data)) as result:
        assert result.info.get("progressive") == 1


def test_cmyk_jpeg_becomes_rgb() -> None:
    source = _save(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG")
    out = reencode(source, **LIMITS)
    with Image.open(io.BytesIO(out.data)) as result:
        assert result.mode == "RGB"
        red, green, blue = result.getpixel((16, 16))  # type: ignore[misc]
        assert red > 200 and green < 60 and blue < 60


def test_reencode_accepts_a_stream() -> None:
    out = reencode(io.BytesIO(_save(_gradient((50, 40)), "PNG")), **LIMITS)
    assert (out.ext, out.width, out.height) == ("png", 50, 40)


@pytest.mark.parametrize("width", [160, 320, 640])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_thumbnail_sizes(fmt: str, width: int) -> None:
    original = reencode(_save(_gradient((1280, 960)), fmt), **LIMITS)
    thumb = thumbnail(original.data, width=width)
    assert (thumb.width, thumb.height) == (width, width * 3 // 4)
    assert thumb.ext == original.ext
    with Image.open(io.BytesIO(thumb.data)) as result:
        assert result.size == (width, width * 3 // 4)
        assert result.format == fmt


def test_thumbnail_never_upscales() -> None:
    original = reencode(_save(_gradient((100, 70)), "PNG"), **LIMITS)
    thumb = thumbnail(original.data, width=320)
    assert (thumb.width, thumb.height) == (100, 70)


def test_thumbnail_of_garbage_is_not_an_image() -> None:
    with pytest.raises(NotAnImage):
        thumbnail(b"nope", width=160)
