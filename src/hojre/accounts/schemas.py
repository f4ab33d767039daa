"""Clean inputs of the accounts service (the v1 adapter converts wire params into these)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Text fields of the profile and their maximum lengths (the columns' sizes).
PROFILE_TEXT_FIELDS: dict[str, int] = {
    "name": 100,
    "family": 100,
    "phone": 20,
    "email": 255,
    "address": 500,
    "telegram": 255,
    "telegram_channel": 255,
    "twitter": 255,
    "linkedin": 255,
    "facebook": 255,
    "instagram": 255,
    "googleplus": 255,
    "website": 255,
    "avatar": 255,
}
PROFILE_FIELDS = (*PROFILE_TEXT_FIELDS, "state", "city", "hood", "age", "gender")


@dataclass(frozen=True, slots=True)
class Location:
    longitude: float
    latitude: float


@dataclass(slots=True)
class ProfileChanges:
    """Only the fields the caller sent. Values are raw text; an empty string clears a field."""

    values: dict[str, str] = field(default_factory=dict)
