"""v1 geography lists (API.md §2): no login, cacheable, on :mod:`hojre.core.sql`."""

from __future__ import annotations

from typing import Any, ClassVar

from hojre.geo import service
from hojre.geo.service import CityItem, CountryItem, HoodItem, StateItem
from hojre.web_v1.endpoint import Call, V1Params, V1Router, param
from hojre.web_v1.envelopes import listing, page_request
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


@router.get("/countries", Paged, cacheable=True, summary="Countries")
async def countries(call: Call[Paged]) -> dict[str, Any]:
    page = await service.list_countries(call.conn, page_request(call.raw))
    return listing(call.request.url, page, render_country)


@router.get("/states", StateFilter, cacheable=True, summary="Provinces of Iran")
async def states(call: Call[StateFilter]) -> dict[str, Any]:
    page = await service.list_states(
        call.conn, page_request(call.raw), country=wire_filter(call.params.country)
    )
    return listing(call.request.url, page, render_state)


@router.get("/cities", CityFilter, cacheable=True, summary="Cities, optionally of one province")
async def cities(call: Call[CityFilter]) -> dict[str, Any]:
    page = await service.list_cities(
        call.conn, page_request(call.raw), state=wire_filter(call.params.state)
    )
    return listing(call.request.url, page, render_city)


@router.get("/hoods", HoodFilter, cacheable=True, summary="Neighbourhoods, optionally of one city")
async def hoods(call: Call[HoodFilter]) -> dict[str, Any]:
    page = await service.list_hoods(
        call.conn, page_request(call.raw), city=wire_filter(call.params.city)
    )
    return listing(call.request.url, page, render_hood)
