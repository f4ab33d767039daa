"""Normalising what people type: Persian/Arabic digits, cellphone numbers; names."""

from __future__ import annotations

import re

# Persian (U+06F0..) and Arabic-Indic (U+0660..) digits map to ASCII before any validation.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# `[0-9]`, never `\d`: `\d` also matches the non-ASCII digits we just normalised away.
_CELLPHONE = re.compile(r"09[0-9]{9}")
_SEPARATORS = re.compile(r"[\s\-()]+")


def ascii_digits(value: str) -> str:
    return value.translate(_DIGITS)


def normalize_cellphone(raw: str) -> str | None:
    """Return the ``09xxxxxxxxx`` form of an Iranian mobile number, or None if it is not one."""
    value = _SEPARATORS.sub("", ascii_digits(raw))
    for prefix in ("+98", "0098", "98"):
        if value.startswith(prefix) and len(value) == len(prefix) + 10:
            value = "0" + value[len(prefix) :]
            break
    return value if _CELLPHONE.fullmatch(value) else None


def parse_int(raw: str | int | None) -> int | None:
    """An integer from user input (Persian digits allowed), or None when it is not one."""
    if raw is None:
        return None
    if isinstance(raw, int):
        return raw
    value = ascii_digits(raw).strip()
    if re.fullmatch(r"[+-]?[0-9]{1,18}", value) is None:
        return None
    return int(value)


def full_name(name: str | None, family: str | None) -> str:
    """A person's name and family name, whichever they have, space-separated."""
    if name and family:
        return f"{name} {family}"
    return name or family or ""
