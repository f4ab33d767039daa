"""A store's customers: who was at the store, and who came in touch with it only in the app.

Two writers keep ``store_customers``, each one statement that the database settles
(``INSERT … SELECT … ON CONFLICT (store_id, user_id) DO UPDATE``), so parallel requests
neither lose a customer nor count a visit twice:

- :func:`visits_at`: a location the user reported (``x``/``y`` of a logged-in request)
  within the radius of a store's point is a visit; after the request commits, only when the
  location moved, one indexed statement for every store in the radius at once.
- :func:`note_interaction`: a like, favourite, view or comment of a store or one of its
  products, a chat started or a message sent to its staff, a store message: the customer's
  contact moves to now (their visits stay), in the writer's transaction.

A store's own staff (its manager, its active sellers) are never its customers.

This module imports no service that writes interactions or messages (they call it).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import cache
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    exists,
    literal_column,
    not_,
    or_,
    select,
)

from hojre.accounts.schemas import Location
from hojre.catalog.models import Product, Status, Store, StoreSeller
from hojre.core import clock
from hojre.core.db import UTCDateTime
from hojre.core.dialect import upsert_for
from hojre.core.hub import Hub
from hojre.core.sql import Conn, Query
from hojre.customers.models import StoreCustomer, StorePoint
from hojre.interactions.registry import InteractionKind, TargetKind

# Reports at a store less than this apart are one visit: standing in the store for hours,
# moving between its aisles, is one visit; the gap runs from the last report there.
VISIT_GAP: Final = timedelta(hours=1)
# The interactions that make a virtual customer (API.md §5: viewed, liked, favourited,
# commented): a dislike or a follow is no sign of a customer, as for offers
# (hojre.messaging.service.has_interacted).
CONTACT_KINDS: Final = frozenset(
    {InteractionKind.like, InteractionKind.favorite, InteractionKind.view, InteractionKind.comment}
)
# The targets that belong to a store.
STORE_TARGETS: Final = frozenset({TargetKind.store, TargetKind.product})

# Metres in a degree of latitude (the mean Earth radius, 6,371,008.8 m). Within a radius of
# metres the Earth is flat: a degree of longitude is this times cos(latitude).
METRES_PER_DEGREE: Final = 6_371_008.8 * math.pi / 180

_USER = bindparam("user", type_=Integer)
_NOW = bindparam("now", type_=UTCDateTime())


def _no_seller(store_id: Any) -> ColumnElement[bool]:
    """The user (bound as ``user``) is no active seller of the store ``store_id`` (a probe of
    the unique index of store_sellers)."""
    return not_(
        exists().where(
            StoreSeller.store_id == store_id,
            StoreSeller.user_id == _USER,
            StoreSeller.status == Status.active,
        )
    )


def _not_staff(store_id: Any) -> ColumnElement[bool]:
    """The user is neither the manager nor an active seller of the store ``store_id``, for a
    statement that does not read the store's row itself."""
    managed = exists().where(Store.id == store_id, Store.manager_id == _USER)
    return and_(not_(managed), _no_seller(store_id))


# -- visits ----------------------------------------------------------------------------------


def _visit(dialect: str) -> Any:
    """A visit of every store whose point lies within the radius of (``lon``, ``lat``).

    The band ``lat_lo``…``lat_hi`` × ``lon_lo``…``lon_hi`` is read from
    ``ix_store_points_place``; the exact (flat) distance, in square metres, is checked on the
    band's points only. ``k_lat``/``k_lon``: square metres in a squared degree here.
    """
    p = StorePoint
    names = ("lat", "lon", "lat_lo", "lat_hi", "lon_lo", "lon_hi", "k_lat", "k_lon", "r2")
    coord = {name: bindparam(name, type_=Float()) for name in names}
    d_lat, d_lon = p.latitude - coord["lat"], p.longitude - coord["lon"]
    near: Select[*tuple[Any, ...]] = select(
        p.store_id, _USER, literal_column("1"), _NOW, _NOW
    ).where(
        p.latitude.between(coord["lat_lo"], coord["lat_hi"]),
        p.longitude.between(coord["lon_lo"], coord["lon_hi"]),
        d_lat * d_lat * coord["k_lat"] + d_lon * d_lon * coord["k_lon"] <= coord["r2"],
        _not_staff(p.store_id),
    )
    table = StoreCustomer.__table__
    # A report after the gap is a new visit; every report at the store moves the gap on.
    new_visit = or_(
        table.c.last_visit_at.is_(None),
        table.c.last_visit_at <= bindparam("gap_before", type_=UTCDateTime()),
    )
    return (
        upsert_for(dialect, StoreCustomer)
        .from_select(["store_id", "user_id", "visits", "last_visit_at", "last_seen_at"], near)
        .on_conflict_do_update(
            index_elements=["store_id", "user_id"],
            set_={
                "visits": table.c.visits + case((new_visit, 1), else_=0),
                "last_visit_at": _NOW,
                "last_seen_at": _NOW,
            },
        )
    )


_VISIT = Query(_visit)


def visit_params(where: Location, radius: float) -> dict[str, float]:
    """The band and the distance of :data:`_VISIT` around ``where`` (``radius`` metres).

    Near the poles the band of longitude grows to the whole circle; across the antimeridian
    (±180°) it is not wrapped: no store of ours lies there.
    """
    per_lon = METRES_PER_DEGREE * max(math.cos(math.radians(where.latitude)), 1e-9)
    d_lat, d_lon = radius / METRES_PER_DEGREE, min(radius / per_lon, 360.0)
    return {
        "lat": where.latitude, "lon": where.longitude,
        "lat_lo": where.latitude - d_lat, "lat_hi": where.latitude + d_lat,
        "lon_lo": where.longitude - d_lon, "lon_hi": where.longitude + d_lon,
        "k_lat": METRES_PER_DEGREE**2, "k_lon": per_lon**2, "r2": radius**2,
    }  # fmt: skip


def visits_at(hub: Hub, *, user_id: int, where: Location) -> Callable[[Conn], Awaitable[None]]:
    """The write of a location the user reported: a visit of every store within the radius
    (``physical_radius_meters``). :func:`hojre.accounts.service.record_location` runs it
    after the request commits, in the short transaction that stores the location, and only
    when the location moved: a customer standing still sends the same point again and
    again, and is still on the same visit. One statement, which finds no store and writes
    nothing far from every store.
    """

    async def write(own: Conn) -> None:
        params = visit_params(where, hub.settings.physical_radius_meters)
        now = clock.utcnow()
        await own.run(_VISIT, user=user_id, now=now, gap_before=now - VISIT_GAP, **params)

    return write


# -- contacts through the app ----------------------------------------------------------------


@cache
def _contact(target: TargetKind) -> Query:
    """The customer's contact with the store of ``target`` (bound as ``target_id``): a
    product's store is read in the statement itself."""
    target_id = bindparam("target_id", type_=Integer)
    store_id: Any = (
        target_id
        if target is TargetKind.store
        else select(Product.store_id).where(Product.id == target_id).scalar_subquery()
    )
    store: Select[*tuple[Any, ...]] = select(Store.id, _USER, literal_column("0"), _NOW).where(
        Store.id == store_id,
        or_(Store.manager_id.is_(None), Store.manager_id != _USER),
        _no_seller(Store.id),
    )

    def build(dialect: str) -> Any:
        return (
            upsert_for(dialect, StoreCustomer)
            .from_select(["store_id", "user_id", "visits", "last_seen_at"], store)
            .on_conflict_do_update(
                index_elements=["store_id", "user_id"], set_={"last_seen_at": _NOW}
            )
        )

    return Query(build)


async def note_interaction(
    conn: Conn, *, user_id: int, target: TargetKind, target_id: int, kind: InteractionKind
) -> None:
    """``user_id`` did ``kind`` to ``target``: if that makes them a customer of a store
    (:data:`CONTACT_KINDS` on a store or product), their contact with it moves to now. One
    statement in the caller's transaction, none for other targets and kinds."""
    if kind in CONTACT_KINDS and target in STORE_TARGETS:
        await conn.run(_contact(target), user=user_id, target_id=target_id, now=clock.utcnow())


async def note_store_contact(conn: Conn, *, user_id: int, store_id: int) -> None:
    """``user_id`` chatted with the store's staff or wrote to the store: their contact with it
    moves to now. One statement in the caller's transaction."""
    await conn.run(_contact(TargetKind.store), user=user_id, target_id=store_id, now=clock.utcnow())
