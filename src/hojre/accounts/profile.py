"""The profile: every rule of ``user/edit`` checked at once, then one write."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hojre.accounts.models import User
from hojre.accounts.schemas import PROFILE_TEXT_FIELDS, ProfileChanges
from hojre.core.errors import ValidationFailed
from hojre.core.text import (
    ascii_digits,
    drop_controls,
    has_url_scheme,
    link_ok,
    parse_int,
    plain_text,
    web_url_ok,
)
from hojre.geo.models import City, Hood, State

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_LANDLINE = re.compile(r"0[0-9]{10}")
_ID_MAX = 2**31 - 1
# Ids or links: a value with a scheme must be an http(s) URL (`javascript:` is a scheme too).
_SOCIAL = frozenset(
    ("telegram", "telegram_channel", "instagram", "twitter", "linkedin", "facebook", "googleplus")
)


_LABELS = {"telegram_channel": "Telegram Channel", "googleplus": "Googleplus"}


def _label(name: str) -> str:
    return _LABELS.get(name, name.capitalize())


async def update_profile(session: AsyncSession, *, user: User, changes: ProfileChanges) -> User:
    """Validate every rule, report all failures at once, then write."""
    # Other users see these (a comment's userTitle is the author's name): plain text only.
    sent = {k: plain_text(v) for k, v in changes.values.items()}
    problems: list[str] = []
    clean: dict[str, object] = {}

    for name in ("name", "family"):
        value = sent.get(name, "")
        if not value:
            problems.append(f"{_label(name)} cannot be blank.")
        elif len(value) < 3:
            problems.append(f"{_label(name)} should contain at least 3 characters.")
    for name, limit in PROFILE_TEXT_FIELDS.items():
        if name in sent:
            if len(sent[name]) > limit:
                problems.append(f"{_label(name)} should contain at most {limit} characters.")
            elif not _link_ok(name, sent[name], typed=changes.values[name]):
                problems.append(f"{_label(name)} is not a valid URL.")
            else:
                clean[name] = sent[name] or None
    if sent.get("address") and len(sent["address"]) < 5:
        problems.append("Address should contain at least 5 characters.")
    if sent.get("phone"):
        phone = re.sub(r"[\s\-]", "", ascii_digits(sent["phone"]))
        if _LANDLINE.fullmatch(phone) is None:
            problems.append("Phone is not valid")
        clean["phone"] = phone
    if sent.get("email"):
        email = sent["email"].lower()
        if _EMAIL.fullmatch(email) is None:
            problems.append("Email is not a valid email address.")
        elif await session.scalar(select(User.id).where(User.email == email, User.id != user.id)):
            problems.append("This email address has already been taken.")
        clean["email"] = email
    if "age" in sent:
        if sent["age"] == "":
            clean["age"] = None
        else:
            age = parse_int(sent["age"])
            if age is None:
                problems.append("Age must be an integer.")
            elif not 1 <= age <= 150:
                problems.append(
                    "Age must be no less than 1." if age < 1 else "Age must be no greater than 150."
                )
            else:
                clean["age"] = age
    if "gender" in sent:
        if sent["gender"] not in ("", "male", "female"):
            problems.append("Gender is invalid.")
        else:
            clean["gender"] = sent["gender"] or None
    problems.extend(await _check_places(session, user=user, sent=sent, clean=clean))
    if problems:
        raise ValidationFailed(problems)

    for column, new_value in clean.items():
        setattr(user, column, new_value)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a parallel edit took the email first
        raise ValidationFailed(["This email address has already been taken."]) from exc
    return user


def _link_ok(name: str, value: str, *, typed: str) -> bool:
    """The URL rules of ``website``, ``avatar`` and the social ids, on the cleaned value."""
    is_link = name in ("website", "avatar") or (name in _SOCIAL and has_url_scheme(value))
    if not value or not is_link:
        return True
    # A link is stored as typed or refused: a URL in which plain_text found entities or tags
    # was not typed as a URL (and html.unescape reads `&para=1` as `¶=1`, `&times` as `×`).
    if value != drop_controls(typed).strip():
        return False
    return link_ok(value) if name == "avatar" else web_url_ok(value)


async def _check_places(
    session: AsyncSession, *, user: User, sent: dict[str, str], clean: dict[str, object]
) -> list[str]:
    """state → city → hood must exist and belong together (a missing parent is kept as is)."""
    problems: list[str] = []
    ids: dict[str, int | None] = {}
    for name, current in (("state", user.state_id), ("city", user.city_id), ("hood", user.hood_id)):
        if name not in sent:
            ids[name] = current
        elif sent[name] == "":
            ids[name] = None
        else:
            # Ids are 32-bit INTEGER columns: 0 reached the foreign key (reported as a taken
            # email), a bigger number PostgreSQL's range check (a 500). Neither names a place.
            value = parse_int(sent[name])
            ids[name] = value if value is not None and 0 < value <= _ID_MAX else None
            if ids[name] is None:
                problems.append(f"{_label(name)} is invalid.")
    if problems:
        return problems
    state = await session.get(State, ids["state"]) if ids["state"] else None
    city = await session.get(City, ids["city"]) if ids["city"] else None
    hood = await session.get(Hood, ids["hood"]) if ids["hood"] else None
    if ids["state"] and state is None:
        problems.append("State is invalid.")
    if ids["city"] and (city is None or state is None or city.state_id != state.id):
        problems.append("City is invalid.")
    if ids["hood"] and (hood is None or city is None or hood.city_id != city.id):
        problems.append("Hood is invalid.")
    if not problems:
        clean.update(
            state_id=ids["state"],
            city_id=ids["city"],
            hood_id=ids["hood"],
            country_id=state.country_id if state else None,
        )
    return problems
