"""Generated cards and shipped defaults: decodable, right size and format, deterministic."""

from __future__ import annotations

import io
from importlib import resources

import pytest
from PIL import Image, ImageFont

from hojre.media import cards
from hojre.media.cards import DEFAULTS, PALETTE, card, colour_for, default_image

EXPECTED_PATHS = {
    "img/defaults/avatars/51.png",
    "img/defaults/product.png",
    "img/defaults/storeLogo.png",
    "img/defaults/storeMainImage.png",
    "img/defaults/storeFrontImage.png",
    "img/defaults/locationimage.png",
    "img/defaults/certificateImage.png",
    "img/defaults/bazzarlogo.png",
    "img/defaults/mallLogo.png",
    "img/categories/digital.jpg",
    "img/categories/plants.jpg",
    "img/categories/sports-cars.jpg",
    "img/categories/furniture.jpg",
    "img/categories/materials.jpg",
    "img/categories/car-tools.jpg",
    "img/categories/vehicles.jpg",
    "img/categories/fashion.jpg",
}
LONG_TITLE = (
    "فروشگاه بزرگ لوازم خانگی و دیجیتال برادران محمدی با بیش از سی سال سابقه درخشان در بازار "
    "تهران و شهرستان‌های اطراف"
)


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _white_pixels(image: Image.Image) -> int:
    bright = image.convert("RGB").convert("L").point(lambda v: 255 if v > 230 else 0)
    return bright.histogram()[255]


def test_defaults_are_exactly_the_contract_paths() -> None:
    assert set(DEFAULTS) == EXPECTED_PATHS
    assert DEFAULTS["img/defaults/avatars/51.png"][1:] == (256, 256)
    assert DEFAULTS["img/categories/plants.jpg"][0] == "گل و گیاه"


@pytest.mark.parametrize("path", sorted(EXPECTED_PATHS))
def test_every_default_decodes_at_declared_size(path: str) -> None:
    data = default_image(path)
    assert data is not None
    _, width, height = DEFAULTS[path]
    image = _open(data)
    assert image.size == (width, height)
    assert image.format == {"png": "PNG", "jpg": "JPEG"}[path.rsplit(".", 1)[1]]


def test_default_image_is_cached_and_unknown_is_none() -> None:
    first = default_image("img/categories/digital.jpg")
    assert first is default_image("img/categories/digital.jpg")
    assert default_image("img/defaults/nope.png") is None
    assert default_image("../etc/passwd") is None


def test_avatar_is_round_with_transparent_corners() -> None:
    data = default_image("img/defaults/avatars/51.png")
    assert data is not None
    image = _open(data)
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # type: ignore[index]
    assert image.getpixel((128, 128))[3] == 255  # type: ignore[index]


def test_same_title_same_bytes() -> None:
    assert card("فروشگاه رز", width=320, height=240) == card("فروشگاه رز", width=320, height=240)
    assert card("Rose", width=64, height=64, fmt="png") == card(
        "Rose", width=64, height=64, fmt="png"
    )


def test_different_keys_give_different_colours() -> None:
    colours = {colour_for(f"store-{n}") for n in range(40)}
    assert len(colours) >= 8
    assert colours <= set(PALETTE)
    red = _open(card("", width=50, height=50, fmt="png", key="a")).getpixel((25, 1))
    keys = [k for k in ("b", "c", "d", "e", "f") if colour_for(k) != colour_for("a")]
    other = _open(card("", width=50, height=50, fmt="png", key=keys[0])).getpixel((25, 1))
    assert red != other
    assert colour_for("a") == colour_for("a")


def test_key_overrides_title_for_colour() -> None:
    a = _open(card("x", width=40, height=40, fmt="png", key="k")).getpixel((20, 0))
    b = _open(card("y", width=40, height=40, fmt="png", key="k")).getpixel((20, 0))
    assert a == b


def test_long_persian_title_fits_in_three_lines() -> None:
    data = card(LONG_TITLE, width=640, height=480)
    image = _open(data)
    assert image.size == (640, 480)
    assert _white_pixels(image) > 500
    font, lines, _ = cards._layout(LONG_TITLE, 640, 480, cards.has_raqm(), "rtl")
    assert 1 < len(lines) <= 3
    assert all(font.getlength(line, direction="rtl") <= 640 * 0.86 for line in lines)


def test_huge_title_on_tiny_card_is_truncated() -> None:
    image = _open(card(LONG_TITLE * 5, width=48, height=48, fmt="png"))
    assert image.size == (48, 48)


def test_empty_title_works() -> None:
    image = _open(card("", width=100, height=60, fmt="webp"))
    assert (image.format, image.size) == ("WEBP", (100, 60))
    assert _open(card("   ", width=10, height=10)).size == (10, 10)


def test_title_is_drawn_in_white() -> None:
    plain = _open(card("", width=320, height=240, key="k"))
    titled = _open(card("دیجیتال", width=320, height=240, key="k"))
    assert _white_pixels(plain) == 0
    assert _white_pixels(titled) > 300


def test_unknown_format_and_bad_size_rejected() -> None:
    with pytest.raises(ValueError):
        card("x", width=10, height=10, fmt="gif")
    with pytest.raises(ValueError):
        card("x", width=0, height=10)


def test_without_raqm_still_draws_something(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cards, "has_raqm", lambda: False)
    persian = _open(card("گل و گیاه", width=320, height=240, key="k"))
    mixed = _open(card("فروشگاه Rose 24", width=320, height=240, key="k"))
    assert _white_pixels(persian) > 100
    assert _white_pixels(mixed) > 100
    assert cards._basic_fallback("فروشگاه Rose 24") == "Rose 24"
    assert cards._basic_fallback("گل و گیاه") == "گ و گ"


def test_raqm_is_available_here() -> None:
    assert cards.has_raqm()


def test_font_is_package_data() -> None:
    ref = resources.files("hojre.media") / "fonts" / cards.FONT_FILE
    assert ref.is_file()
    data = ref.read_bytes()
    assert data == cards.font_bytes()
    assert len(data) < 200_000
    assert (resources.files("hojre.media") / "fonts" / "LICENSE-DejaVu.txt").is_file()
    font = ImageFont.truetype(io.BytesIO(data), 20)
    # Persian letters (پ گ ی) and a Persian digit have real glyphs, not the notdef box.
    notdef = font.getmask("\uffff").getbbox()
    for char in "پگی۴":
        assert font.getmask(char).getbbox() != notdef
