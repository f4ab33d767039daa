"""Read-only geography lists, paged, each ordered by an indexed key.

On :mod:`hojre.core.sql`: one statement per page that has rows (page and total together), two
past the end. A filtered list is a statement of its own rather than ``OR :param IS NULL``: the
planners (SQLite's, and PostgreSQL's generic plan) cannot use the filter's index through that
``OR``, so the filtered list would read the whole table.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Integer, bindparam, select
from sqlalchemy.orm import InstrumentedAttribute

from hojre.core.pagination import Page, PagedQuery, PageRequest
from hojre.core.sql import Conn
from hojre.geo.models import City, Country, Hood, State


class CountryItem(NamedTuple):
    id: int
    code: str
    name: str


class StateItem(NamedTuple):
    id: int
    title: str
    country_id: int
    longitude: str
    latitude: str
    english_title: str


class CityItem(NamedTuple):
    id: int
    title: str
    state_id: int


class HoodItem(NamedTuple):
    id: int
    title: str
    city_id: int


_PARENT = bindparam("parent", type_=Integer)


def _paged(
    model: type[Any],
    fields: tuple[str, ...],
    order: tuple[InstrumentedAttribute[Any], ...],
    parent: InstrumentedAttribute[int] | None = None,
) -> PagedQuery:
    """The list of ``model``'s columns named ``fields`` (an item's), filtered on
    ``parent == :parent`` when given."""
    where = [] if parent is None else [parent == _PARENT]
    return PagedQuery.of(
        select(*(getattr(model, name) for name in fields)),
        counting=model, where=where, order=order,
    )  # fmt: skip


_COUNTRIES = _paged(Country, CountryItem._fields, (Country.id,))
_STATES = _paged(State, StateItem._fields, (State.title, State.id))
_STATES_OF = _paged(State, StateItem._fields, (State.title, State.id), State.country_id)
_CITIES = _paged(City, CityItem._fields, (City.id,))
_CITIES_OF = _paged(City, CityItem._fields, (City.id,), City.state_id)
_HOODS = _paged(Hood, HoodItem._fields, (Hood.id,))
_HOODS_OF = _paged(Hood, HoodItem._fields, (Hood.id,), Hood.city_id)


async def list_countries(conn: Conn, page: PageRequest) -> Page[CountryItem]:
    return await _COUNTRIES.fetch(conn, page, CountryItem._make)


async def list_states(
    conn: Conn, page: PageRequest, *, country: int | None = None
) -> Page[StateItem]:
    """By title, then id (as the original listed them)."""
    if country is None:
        return await _STATES.fetch(conn, page, StateItem._make)
    return await _STATES_OF.fetch(conn, page, StateItem._make, parent=country)


async def list_cities(conn: Conn, page: PageRequest, *, state: int | None = None) -> Page[CityItem]:
    if state is None:
        return await _CITIES.fetch(conn, page, CityItem._make)
    return await _CITIES_OF.fetch(conn, page, CityItem._make, parent=state)


async def list_hoods(conn: Conn, page: PageRequest, *, city: int | None = None) -> Page[HoodItem]:
    if city is None:
        return await _HOODS.fetch(conn, page, HoodItem._make)
    return await _HOODS_OF.fetch(conn, page, HoodItem._make, parent=city)
