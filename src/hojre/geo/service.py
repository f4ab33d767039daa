"""Read-only geography lists, paged, each ordered by an indexed key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hojre.core.pagination import Page, PageRequest, fetch_page
from hojre.geo.models import City, Country, Hood, State


async def list_countries(session: AsyncSession, page: PageRequest) -> Page[Country]:
    return await fetch_page(session, select(Country).order_by(Country.id), page)


async def list_states(
    session: AsyncSession, page: PageRequest, *, country: int | None = None
) -> Page[State]:
    query = select(State).order_by(State.title, State.id)
    if country is not None:
        query = query.where(State.country_id == country)
    return await fetch_page(session, query, page)


async def list_cities(
    session: AsyncSession, page: PageRequest, *, state: int | None = None
) -> Page[City]:
    query = select(City).order_by(City.id)
    if state is not None:
        query = query.where(City.state_id == state)
    return await fetch_page(session, query, page)


async def list_hoods(
    session: AsyncSession, page: PageRequest, *, city: int | None = None
) -> Page[Hood]:
    query = select(Hood).order_by(Hood.id)
    if city is not None:
        query = query.where(Hood.city_id == city)
    return await fetch_page(session, query, page)
