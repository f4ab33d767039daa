"""v1 geography lists (API.md §2): no login, served from the public list cache (ETag,
If-None-Match → 304), read on :mod:`hojre.core.sql` on a miss."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


def _children(
    path: str,
    params: type[Paged],
    family: str,
    parent: str,
    fetch: Callable[..., Awaitable[Page[Any]]],
    render: Callable[[Any], dict[str, Any]],
    summary: str,
) -> None:
    """A list filtered by its parent (``parent``: the parameter, and ``fetch``'s keyword)."""

    async def handler(call: Call[Any]) -> Response:
        value = wire_filter(getattr(call.params, parent))

        def read(conn: Conn, page: PageRequest) -> Awaitable[Page[Any]]:
            return fetch(conn, page, **{parent: value})

        return await public_list(call, family, (value,), read, render)

    handler.__name__ = path.strip("/")  # the OpenAPI operation's name
    router.get(
        path, params, cacheable=True, own_transactions=True, early=replay(family),
        summary=summary,
    )(handler)  # fmt: skip


_children("/states", StateFilter, STATES, "country", service.list_states, render_state,
          "Provinces of Iran")  # fmt: skip
_children("/cities", CityFilter, CITIES, "state", service.list_cities, render_city,
          "Cities, optionally of one province")  # fmt: skip
_children("/hoods", HoodFilter, HOODS, "city", service.list_hoods, render_hood,
          "Neighbourhoods, optionally of one city")  # fmt: skip
