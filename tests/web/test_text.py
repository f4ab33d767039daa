"""hojre.core.text: digit normalisation and cellphones (API.md §0 "Cellphones")."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hojre.core.text import ascii_digits, normalize_cellphone, parse_int

PERSIAN = "".join(chr(0x06F0 + i) for i in range(10))  # ۰۱۲۳۴۵۶۷۸۹
ARABIC_INDIC = "".join(chr(0x0660 + i) for i in range(10))  # ٠١٢٣٤٥٦٧٨٩
TO_PERSIAN = str.maketrans("0123456789", PERSIAN)
TO_ARABIC = str.maketrans("0123456789", ARABIC_INDIC)

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)
# Decimal digits of every script except ASCII, Persian and Arabic-Indic: never accepted.
foreign_digits = st.characters(categories=["Nd"]).filter(
    lambda ch: ch not in "0123456789" + PERSIAN + ARABIC_INDIC
)


# -- ascii_digits -------------------------------------------------------------------------------


def test_ascii_digits_maps_persian_and_arabic_indic() -> None:
    assert ascii_digits(PERSIAN) == "0123456789"
    assert ascii_digits(ARABIC_INDIC) == "0123456789"
    assert ascii_digits("کد: ۱۲۳۴۵ / ٦٧٨") == "کد: 12345 / 678"
    assert ascii_digits("") == ""
    # Other scripts' digits are left as they are (and so fail [0-9] validation later).
    assert ascii_digits("४२") == "४२"
    assert ascii_digits("０１") == "０１"  # fullwidth


@given(st.text())
def test_ascii_digits_only_touches_the_twenty_digits(text: str) -> None:
    out = ascii_digits(text)
    assert len(out) == len(text)
    for before, after in zip(text, out, strict=True):
        if before in PERSIAN or before in ARABIC_INDIC:
            assert after == str(unicodedata.digit(before))
        else:
            assert after == before


# -- normalize_cellphone -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "09121234567",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "٠٩١٢١٢٣٤٥٦٧",
        "۰۹12١٢٣4567",  # mixed scripts
        "+989121234567",
        "00989121234567",
        "989121234567",
        "+98 912 123 4567",
        "+98-912-123-4567",
        "0098 (912) 123-4567",
        " 0912 123 4567 ",
        "0912\t123\n4567",
        "۰۰۹۸۹۱۲۱۲۳۴۵۶۷",
        "+۹۸۹۱۲۱۲۳۴۵۶۷",
    ],
)
def test_forms_of_one_number(raw: str) -> None:
    assert normalize_cellphone(raw) == "09121234567"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "0912123456",  # 10 digits
        "091212345678",  # 12 digits
        "9121234567",  # no leading 0
        "08121234567",  # not a mobile prefix
        "+98912123456",  # +98 and only 9 digits
        "+9809121234567",  # +98 followed by the 0 as well
        "0912123456a",
        "0912.123.4567",
        "+1 912 123 4567",
        "०९१२१२३४५६७",  # Devanagari
        "0912123456४",
        "0912123456\u0967",  # Devanagari one
        "0912123456０",  # fullwidth zero
        "0912123456\u07c0",  # NKo zero
        "09121234567\n1",
    ],
)
def test_not_cellphones(raw: str) -> None:
    assert normalize_cellphone(raw) is None


@given(nine_digits)
@example("000000000")
@example("999999999")
def test_every_form_maps_to_the_same_number(digits: str) -> None:
    canonical = "09" + digits
    assert normalize_cellphone(canonical) == canonical
    spaced = f"09{digits[:2]} {digits[2:5]} {digits[5:]}"
    dashed = f"09{digits[:2]}-{digits[2:5]}-{digits[5:]}"
    variants = [
        canonical.translate(TO_PERSIAN),
        canonical.translate(TO_ARABIC),
        "+989" + digits,
        "00989" + digits,
        "989" + digits,
        ("+989" + digits).translate(TO_PERSIAN),
        "+98 9" + f"{digits[:2]} {digits[2:5]} {digits[5:]}",
        spaced,
        dashed,
        spaced.translate(TO_PERSIAN),
        dashed.translate(TO_ARABIC),
        f"  {canonical}  ",
    ]
    for variant in variants:
        assert normalize_cellphone(variant) == canonical, variant


@given(nine_digits, st.integers(min_value=0, max_value=10), foreign_digits)
def test_a_foreign_digit_anywhere_is_rejected(digits: str, position: int, foreign: str) -> None:
    canonical = "09" + digits
    spoiled = canonical[:position] + foreign + canonical[position + 1 :]
    assert normalize_cellphone(spoiled) is None
    assert normalize_cellphone(spoiled.translate(TO_PERSIAN)) is None


@given(st.text())
def test_result_is_none_or_canonical(text: str) -> None:
    result = normalize_cellphone(text)
    if result is not None:
        assert len(result) == 11
        assert result.startswith("09")
        assert set(result) <= set("0123456789")
        assert normalize_cellphone(result) == result


# -- parse_int -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", 0),
        ("42", 42),
        (" 42 ", 42),
        ("+7", 7),
        ("-7", -7),
        ("۴۲", 42),
        ("٤٢", 42),
        ("-۵", -5),
        ("007", 7),
        ("999999999999999999", 999_999_999_999_999_999),  # 18 digits: still a number
        (12, 12),
        (-3, -3),
        (None, None),
        ("", None),
        ("   ", None),
        ("abc", None),
        ("4.2", None),
        ("1e3", None),
        ("1_000", None),
        ("0x10", None),
        ("--1", None),
        ("+", None),
        ("४२", None),  # Devanagari
        ("４２", None),  # fullwidth: int() would accept it, we do not
        ("1234567890123456789", None),  # 19 digits: refused rather than overflow a column
    ],
)
def test_parse_int(raw: str | int | None, expected: int | None) -> None:
    assert parse_int(raw) == expected


@given(st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1))
def test_parse_int_round_trips_in_every_digit_script(number: int) -> None:
    text = str(number)
    assert parse_int(text) == number
    assert parse_int(text.translate(TO_PERSIAN)) == number
    assert parse_int(text.translate(TO_ARABIC)) == number


@given(st.text(alphabet="0123456789", min_size=1, max_size=18), foreign_digits)
def test_parse_int_rejects_foreign_digits(digits: str, foreign: str) -> None:
    # int() accepts any Unicode decimal digit; parse_int must not.
    assert int(digits + foreign) >= 0
    assert parse_int(digits + foreign) is None
    assert parse_int(foreign) is None
