"""The profile: every rule of ``user/edit`` checked at once, then one write."""

from __future__ import annotations

import re
from functools import cache

from sqlalchemy import bindparam, select, update

from hojre.accounts.models import User
from hojre.accounts.schemas import PROFILE_TEXT_FIELDS, ProfileChanges
from hojre.accounts.service import Caller
from hojre.core.clock import utcnow
from hojre.core.db import UTCDateTime
from hojre.core.errors import FieldProblem, Rule, ValidationFailed
from hojre.core.sql import Conn, Query, UniqueViolation
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
NAME_MIN = 3
ADDRESS_MIN = 5
AGE_MIN, AGE_MAX = 1, 150
# Ids or links: a value with a scheme must be an http(s) URL (`javascript:` is a scheme too).
_SOCIAL = frozenset(
    ("telegram", "telegram_channel", "instagram", "twitter", "linkedin", "facebook", "googleplus")
)


_EMAIL_TAKEN = Query(
    select(User.id).where(User.email == bindparam("email"), User.id != bindparam("user_id"))
)
# The places named, in one statement: each id's parent (NULL: no such place).
_PLACES = Query(
    select(
        select(State.country_id).where(State.id == bindparam("state")).scalar_subquery(),
        select(City.state_id).where(City.id == bindparam("city")).scalar_subquery(),
        select(Hood.city_id).where(Hood.id == bindparam("hood")).scalar_subquery(),
    )
)
_TAKEN = FieldProblem("email", Rule.taken)


@cache
def _write(columns: frozenset[str]) -> Query:
    """The UPDATE of these columns (one statement per set of fields that edits send)."""
    values = {name: bindparam(name, type_=getattr(User, name).type) for name in sorted(columns)}
    return Query(
        update(User)
        .where(User.id == bindparam("user_id"))
        .values(**values, updated_at=bindparam("now", type_=UTCDateTime()))
    )


async def update_profile(conn: Conn, *, user: Caller, changes: ProfileChanges) -> None:
    """Validate every rule, report all failures at once, then write (two statements at most
    before the write: the email's owner and the places)."""
    # Other users see these (a comment's userTitle is the author's name): plain text only.
    sent = {k: plain_text(v) for k, v in changes.values.items()}
    problems: list[FieldProblem] = []
    clean: dict[str, object] = {}

    for name in ("name", "family"):
        value = sent.get(name, "")
        if not value:
            problems.append(FieldProblem(name, Rule.required))
        elif len(value) < NAME_MIN:
            problems.append(FieldProblem(name, Rule.too_short, NAME_MIN))
    for name, limit in PROFILE_TEXT_FIELDS.items():
        if name in sent:
            if len(sent[name]) > limit:
                problems.append(FieldProblem(name, Rule.too_long, limit))
            elif not _link_ok(name, sent[name], typed=changes.values[name]):
                problems.append(FieldProblem(name, Rule.not_url))
            else:
                clean[name] = sent[name] or None
    if sent.get("address") and len(sent["address"]) < ADDRESS_MIN:
        problems.append(FieldProblem("address", Rule.too_short, ADDRESS_MIN))
    if sent.get("phone"):
        phone = re.sub(r"[\s\-]", "", ascii_digits(sent["phone"]))
        if _LANDLINE.fullmatch(phone) is None:
            problems.append(FieldProblem("phone", Rule.invalid))
        clean["phone"] = phone
    if sent.get("email"):
        email = sent["email"].lower()
        if _EMAIL.fullmatch(email) is None:
            problems.append(FieldProblem("email", Rule.not_email))
        elif await conn.one(_EMAIL_TAKEN, email=email, user_id=user.id) is not None:
            problems.append(_TAKEN)
        clean["email"] = email
    if "age" in sent:
        if sent["age"] == "":
            clean["age"] = None
        else:
            age = parse_int(sent["age"])
            if age is None:
                problems.append(FieldProblem("age", Rule.not_integer))
            elif age < AGE_MIN:
                problems.append(FieldProblem("age", Rule.too_small, AGE_MIN))
            elif age > AGE_MAX:
                problems.append(FieldProblem("age", Rule.too_big, AGE_MAX))
            else:
                clean["age"] = age
    if "gender" in sent:
        if sent["gender"] not in ("", "male", "female"):
            problems.append(FieldProblem("gender", Rule.invalid))
        else:
            clean["gender"] = sent["gender"] or None
    problems.extend(await _check_places(conn, user=user, sent=sent, clean=clean))
    if problems:
        raise ValidationFailed(problems)
    try:
        await conn.run(_write(frozenset(clean)), user_id=user.id, now=utcnow(), **clean)
    except UniqueViolation as exc:  # a parallel edit took the email first
        raise ValidationFailed([_TAKEN]) from exc


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
    conn: Conn, *, user: Caller, sent: dict[str, str], clean: dict[str, object]
) -> list[FieldProblem]:
    """state → city → hood must exist and belong together (a missing parent is kept as is)."""
    problems: list[FieldProblem] = []
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
                problems.append(FieldProblem(name, Rule.invalid))
    if problems:
        return problems
    state, city, hood = ids["state"], ids["city"], ids["hood"]
    country = city_state = hood_city = None
    if state or city or hood:
        row = await conn.one(_PLACES, state=state, city=city, hood=hood)
        assert row is not None  # a SELECT of subqueries has one row
        country, city_state, hood_city = row
    if state and country is None:
        problems.append(FieldProblem("state", Rule.invalid))
    if city and (city_state is None or country is None or city_state != state):
        problems.append(FieldProblem("city", Rule.invalid))
    if hood and (hood_city is None or city_state is None or hood_city != city):
        problems.append(FieldProblem("hood", Rule.invalid))
    if not problems:
        clean.update(state_id=state, city_id=city, hood_id=hood, country_id=country)
    return problems
