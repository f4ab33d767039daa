"""Where something is, as edits send it: country → state → city → hood must exist and belong
together (the profile's and the store's rule)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from sqlalchemy import bindparam, select

from hojre.core.errors import FieldProblem, Rule
from hojre.core.sql import Conn, Query
from hojre.core.text import parse_int
from hojre.geo.models import City, Country, Hood, State

_ID_MAX = 2**31 - 1
# The places named, in one statement: the country if it exists, each other id's parent (NULL:
# no such place).
_PLACES = Query(
    select(
        select(Country.id).where(Country.id == bindparam("country")).scalar_subquery(),
        select(State.country_id).where(State.id == bindparam("state")).scalar_subquery(),
        select(City.state_id).where(City.id == bindparam("city")).scalar_subquery(),
        select(Hood.city_id).where(Hood.id == bindparam("hood")).scalar_subquery(),
    )
)


class Places(NamedTuple):
    """A row's place ids as they are (the ones an edit does not send stay)."""

    country_id: int | None
    state_id: int | None
    city_id: int | None
    hood_id: int | None


def _place_id(raw: str) -> int | None:
    # Ids are 32-bit INTEGER columns: 0 reached the foreign key (reported as a taken email),
    # a bigger number PostgreSQL's range check (a 500). Neither names a place.
    value = parse_int(raw)
    return value if value is not None and 0 < value <= _ID_MAX else None


async def check_places(
    conn: Conn, *, sent: Mapping[str, str], current: Places, clean: dict[str, object]
) -> list[FieldProblem]:
    """The sent ``country``, ``state``, ``city``, ``hood`` (an empty one clears it, a missing
    one is kept as is): one statement at most. Without problems ``clean`` gets all four ids; the
    country is the state's (a sent ``country`` must be it), or the one sent when there is no
    state."""
    problems: list[FieldProblem] = []
    ids: dict[str, int | None] = {}
    for name, kept in zip(("country", "state", "city", "hood"), current, strict=True):
        if name not in sent:
            ids[name] = None if name == "country" else kept
        elif sent[name] == "":
            ids[name] = None
        else:
            ids[name] = _place_id(sent[name])
            if ids[name] is None:
                problems.append(FieldProblem(name, Rule.invalid))
    if problems:
        return problems
    country, state, city, hood = ids["country"], ids["state"], ids["city"], ids["hood"]
    found = state_country = city_state = hood_city = None
    if country or state or city or hood:
        row = await conn.one(_PLACES, country=country, state=state, city=city, hood=hood)
        assert row is not None  # a SELECT of subqueries has one row
        found, state_country, city_state, hood_city = row
    if country and (found is None or (state and state_country not in (None, country))):
        problems.append(FieldProblem("country", Rule.invalid))
    if state and state_country is None:
        problems.append(FieldProblem("state", Rule.invalid))
    if city and (city_state is None or state_country is None or city_state != state):
        problems.append(FieldProblem("city", Rule.invalid))
    if hood and (hood_city is None or city_state is None or hood_city != city):
        problems.append(FieldProblem("hood", Rule.invalid))
    if not problems:
        country_id = state_country if state else (country if "country" in sent else None)
        clean.update(state_id=state, city_id=city, hood_id=hood, country_id=country_id)
    return problems
