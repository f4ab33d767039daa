"""Images the project draws itself: title cards and the shipped default images.

A card is a gently graded background whose colour comes from a hash of ``key or title`` (so the
same store always gets the same colour) with the title centred in white, wrapped to at most three
lines and sized to fit. Titles are mostly Persian, so text is laid out with libraqm (bidi and
Arabic shaping) when Pillow has it; without raqm, BASIC layout cannot join Arabic letters, so we
draw only what it renders legibly (the Latin part, or isolated initials). The font is a small
DejaVu Sans Bold subset shipped as package data and loaded once per size. Output is
deterministic: the same arguments give the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Mapping
from importlib import resources
from typing import Final

from PIL import Image, ImageDraw, ImageFont, features

FONT_FILE: Final = "DejaVuSans-Bold-subset.ttf"

# Muted, mid-dark colours: white text stays readable on all of them.
PALETTE: Final[tuple[tuple[int, int, int], ...]] = (
    (0x2E, 0x86, 0xAB),
    (0x3A, 0x7D, 0x44),
    (0xA2, 0x3B, 0x72),
    (0xC7, 0x5B, 0x39),
    (0x5B, 0x5F, 0x97),
    (0x1B, 0x99, 0x8B),
    (0x8E, 0x44, 0xAD),
    (0xB5, 0x65, 0x1D),
    (0x27, 0x6F, 0xBF),
    (0x6D, 0x59, 0x7A),
    (0x4A, 0x7C, 0x59),
    (0xC0, 0x39, 0x2B),
)

_MAX_LINES: Final = 3
_MIN_FONT_SIZE: Final = 8
_ELLIPSIS: Final = "..."  # the subset has no U+2026

DEFAULTS: Final[Mapping[str, tuple[str, int, int]]] = {
    "img/defaults/avatars/51.png": ("کاربر", 256, 256),
    "img/defaults/product.png": ("محصول", 640, 640),
    "img/defaults/storeLogo.png": ("فروشگاه", 256, 256),
    "img/defaults/storeMainImage.png": ("فروشگاه", 1200, 400),
    "img/defaults/storeFrontImage.png": ("ویترین فروشگاه", 1200, 600),
    "img/defaults/locationimage.png": ("موقعیت مکانی", 640, 480),
    "img/defaults/certificateImage.png": ("مجوز", 800, 600),
    "img/defaults/bazzarlogo.png": ("بازار", 256, 256),
    "img/defaults/mallLogo.png": ("مرکز خرید", 256, 256),
    "img/categories/digital.jpg": ("دیجیتال", 640, 480),
    "img/categories/plants.jpg": ("گل و گیاه", 640, 480),
    "img/categories/sports-cars.jpg": ("خودروهای اسپرت", 640, 480),
    "img/categories/furniture.jpg": ("مبلمان", 640, 480),
    "img/categories/materials.jpg": ("مصالح ساختمانی", 640, 480),
    "img/categories/car-tools.jpg": ("ابزار خودرو", 640, 480),
    "img/categories/vehicles.jpg": ("وسایل نقلیه", 640, 480),
    "img/categories/fashion.jpg": ("پوشاک و مد", 640, 480),
}
_AVATAR: Final = "img/defaults/avatars/51.png"


def has_raqm() -> bool:
    return bool(features.check("raqm"))


@functools.cache
def font_bytes() -> bytes:
    return (resources.files("hojre.media") / "fonts" / FONT_FILE).read_bytes()


@functools.lru_cache(maxsize=256)
def _font(size: int, raqm: bool) -> ImageFont.FreeTypeFont:
    # Parsing the font costs about a millisecond; a demo run makes thousands of cards.
    engine = ImageFont.Layout.RAQM if raqm else ImageFont.Layout.BASIC
    return ImageFont.truetype(io.BytesIO(font_bytes()), size, layout_engine=engine)


def is_arabic_script(char: str) -> bool:
    code = ord(char)
    return 0x0600 <= code <= 0x06FF or 0xFB50 <= code <= 0xFDFF or 0xFE70 <= code <= 0xFEFF


def colour_for(key: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(key.encode()).digest()
    return PALETTE[int.from_bytes(digest[:4], "big") % len(PALETTE)]


def _basic_fallback(title: str) -> str:
    """What BASIC layout can draw legibly: Latin and digits, else isolated initials."""
    latin = " ".join(
        word for word in title.split() if not any(is_arabic_script(char) for char in word)
    )
    if latin:
        return latin
    initials = [word[0] for word in title.split() if word][:3]
    # BASIC draws left to right; reverse so the initials still read right to left.
    return " ".join(reversed(initials))


def _background(width: int, height: int, colour: tuple[int, int, int]) -> Image.Image:
    darker = tuple(int(channel * 0.78) for channel in colour)
    top = Image.new("RGB", (width, height), colour)
    bottom = Image.new("RGB", (width, height), darker)
    mask = Image.linear_gradient("L").resize((width, height))
    return Image.composite(bottom, top, mask)


def _wrap(
    words: list[str], font: ImageFont.FreeTypeFont, limit: float, direction: str | None
) -> list[str] | None:
    """Greedy wrap; None when one word alone is wider than the limit."""
    lines: list[str] = []
    for word in words:
        if font.getlength(word, direction=direction) > limit:
            return None
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate, direction=direction) <= limit:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def _layout(
    text: str, width: int, height: int, raqm: bool, direction: str | None
) -> tuple[ImageFont.FreeTypeFont, list[str], int]:
    words = text.split()
    limit_w = width * 0.86
    limit_h = height * 0.8
    size = max(_MIN_FONT_SIZE, int(min(height * 0.28, width * 0.2)))
    while True:
        font = _font(size, raqm)
        ascent, descent = font.getmetrics()
        line_height = int((ascent + descent) * 1.15)
        lines = _wrap(words, font, limit_w, direction)
        if lines is not None and len(lines) <= _MAX_LINES and line_height * len(lines) <= limit_h:
            return font, lines, line_height
        if size <= _MIN_FONT_SIZE:
            return font, _truncate(words, font, limit_w, direction), line_height
        size = max(_MIN_FONT_SIZE, int(size * 0.9))


def _truncate(
    words: list[str], font: ImageFont.FreeTypeFont, limit: float, direction: str | None
) -> list[str]:
    """At the smallest size: cut to three lines, dropping characters of over-long words."""
    lines: list[str] = []
    for word in words:
        while len(word) > 1 and font.getlength(word, direction=direction) > limit:
            word = word[:-1]
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate, direction=direction) <= limit:
            lines[-1] = candidate
        elif len(lines) < _MAX_LINES:
            lines.append(word)
        else:
            lines[-1] = lines[-1][: max(1, len(lines[-1]) - len(_ELLIPSIS))] + _ELLIPSIS
            break
    return lines


def _render(image: Image.Image, title: str) -> None:
    title = " ".join(title.split())
    if not title:
        return
    raqm = has_raqm()
    rtl = any(is_arabic_script(char) for char in title)
    text = title if raqm or not rtl else _basic_fallback(title)
    direction = "rtl" if raqm and rtl else None
    font, lines, line_height = _layout(text, image.width, image.height, raqm, direction)
    draw = ImageDraw.Draw(image)
    top = (image.height - line_height * len(lines)) / 2 + line_height / 2
    for index, line in enumerate(lines):
        draw.text(
            (image.width / 2, top + index * line_height),
            line,
            font=font,
            fill="white",
            anchor="mm",
            direction=direction,
        )


def _save(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "jpg":
        image.save(out, "JPEG", quality=85, progressive=True)
    elif fmt == "png":
        image.save(out, "PNG")
    elif fmt == "webp":
        image.save(out, "WEBP", quality=85)
    else:
        raise ValueError(f"unknown card format {fmt!r}")
    return out.getvalue()


def card(title: str, *, width: int, height: int, fmt: str = "jpg", key: str | None = None) -> bytes:
    """A ``width`` x ``height`` card with ``title`` centred; colour from ``key or title``."""
    if width < 1 or height < 1:
        raise ValueError("card size must be positive")
    image = _background(width, height, colour_for(key or title))
    _render(image, title)
    return _save(image, fmt)


def _avatar(size: int) -> bytes:
    """A neutral grey silhouette in a circle, transparent outside it."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, size - 1, size - 1), fill=(0xB0, 0xB7, 0xC0, 255))
    figure = (0xEC, 0xEF, 0xF3, 255)
    head = size * 0.19
    cx, cy = size / 2, size * 0.38
    draw.ellipse((cx - head, cy - head, cx + head, cy + head), fill=figure)
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, size - 1, size - 1), fill=255)
    shoulders = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(shoulders).ellipse(
        (size * 0.18, size * 0.64, size * 0.82, size * 1.2), fill=figure
    )
    clipped = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    clipped.paste(shoulders, (0, 0), Image.composite(shoulders, clipped, mask).getchannel("A"))
    image.alpha_composite(clipped)
    return _save(image, "png")


@functools.lru_cache(maxsize=len(DEFAULTS))
def default_image(path: str) -> bytes | None:
    """The bytes of a shipped default image, drawn on first use; None if ``path`` is not one."""
    entry = DEFAULTS.get(path)
    if entry is None:
        return None
    label, width, height = entry
    if path == _AVATAR:
        return _avatar(width)
    return card(label, width=width, height=height, fmt=path.rsplit(".", 1)[1], key=path)
