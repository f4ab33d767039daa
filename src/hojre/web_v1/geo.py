"""v1 geography lists (API.md §2): no login, served from the public list cache (ETag,
If-None-Match → 304), read on :mod:`hojre.core.sql` on a miss."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, ClassVar

from starlette.responses import Response

from hojre.core.pagination import Page, PageRequest
from hojre.core.sql import Conn
from hojre.geo import service
from hojre.geo.models import City, Country, Hood, State
from hojre.geo.service import CityItem, CountryItem, HoodItem, StateItem
from hojre.web_v1.cache import public_list, replay
from hojre.web_v1.endpoint import Call, V1Params, V1Router, param
from hojre.web_v1.params import wire_filter

router = V1Router("geography")


class Paged(V1Params):
    paged: ClassVar[bool] = True


class StateFilter(Paged):
    country: str | None = param("Only this country's provinces.", type="integer")


class CityFilter(Paged):
    state: str | None = param("Only this province's cities.", type="integer")


class HoodFilter(Paged):
    city: str | None = param("Only this city's neighbourhoods.", type="integer")


def render_country(country: CountryItem) -> dict[str, Any]:
    return {"id": country.id, "country_code": country.code, "country_name": country.name}


def render_state(state: StateItem) -> dict[str, Any]:
    return {
        "id": state.id,
        "title": state.title,
        "country": state.country_id,
        "longitude": state.longitude,
        "latitude": state.latitude,
        "englishTitle": state.english_title,
    }


def render_city(city: CityItem) -> dict[str, Any]:
    return {"id": city.id, "title": city.title, "state": city.state_id}


def render_hood(hood: HoodItem) -> dict[str, Any]:
    return {"id": hood.id, "title": hood.title, "city": hood.city_id}


# Served from the public list cache (hojre.web_v1.cache): a kept reply is sent before any
# parameter is read (``early``); a kept page is rendered without a connection
# (``own_transactions``: _run opens none); a miss opens its own read connection.
COUNTRIES, STATES, CITIES, HOODS = (m.__tablename__ for m in (Country, State, City, Hood))


@router.get(
    "/countries", Paged, cacheable=True, own_transactions=True, early=replay(COUNTRIES),
    summary="Countries",
)  # fmt: skip
async def countries(call: Call[Paged]) -> Response:
    return await public_list(call, COUNTRIES, (), service.list_countries, render_country)


@router.get(
    "/states", StateFilter, cacheable=True, own_transactions=True, early=replay(STATES),
    summary="Provinces of Iran",
)  # fmt: skip
async def states(call: Call[StateFilter]) -> Response:
    country = wire_filter(call.params.country)

    def fetch(conn: Conn, page: PageRequest) -> Awaitable[Page[StateItem]]:
        return service.list_states(conn, page, country=country)

    return await public_list(call, STATES, (country,), fetch, render_state)


@router.get(
    "/cities", CityFilter, cacheable=True, own_transactions=True, early=replay(CITIES),
    summary="Cities, optionally of one province",
)  # fmt: skip
async def cities(call: Call[CityFilter]) -> Response:
    state = wire_filter(call.params.state)

    def fetch(conn: Conn, page: PageRequest) -> Awaitable[Page[CityItem]]:
        return service.list_cities(conn, page, state=state)

    return await public_list(call, CITIES, (state,), fetch, render_city)


@router.get(
    "/hoods", HoodFilter, cacheable=True, own_transactions=True, early=replay(HOODS),
    summary="Neighbourhoods, optionally of one city",
)  # fmt: skip
async def hoods(call: Call[HoodFilter]) -> Response:
    city = wire_filter(call.params.city)

    def fetch(conn: Conn, page: PageRequest) -> Awaitable[Page[HoodItem]]:
        return service.list_hoods(conn, page, city=city)

    return await public_list(call, HOODS, (city,), fetch, render_hood)
