"""The store side's lists of a store's customers (API.md §5): physical and virtual.

Apart from :mod:`hojre.customers.service`, which the interactions and messaging services
call: the lists need the store side's rule (:mod:`hojre.catalog.service`), which imports them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import ColumnElement, Integer, bindparam, literal_column, select

from hojre.accounts.models import User
from hojre.accounts.service import Actor
from hojre.catalog.service import StoreSide, staff_store
from hojre.core.pagination import Page, PagedQuery, PageRequest
from hojre.core.sql import Conn
from hojre.customers.models import StoreCustomer


class CustomerKind(StrEnum):
    physical = "physical"  # was at the store (visits > 0)
    virtual = "virtual"  # came in touch only through the app (visits = 0)


class CustomerItem(NamedTuple):
    id: int
    name: str | None
    family: str | None
    avatar: str | None
    last_seen_at: datetime
    visits: int


# Literals, as the partial indexes' own conditions (hojre.customers.models).
_ZERO: ColumnElement[int] = literal_column("0")
_KINDS: dict[CustomerKind, ColumnElement[bool]] = {
    CustomerKind.physical: StoreCustomer.visits > _ZERO,
    CustomerKind.virtual: StoreCustomer.visits == _ZERO,
}


def _customers(kind: CustomerKind) -> PagedQuery:
    # ix_store_customers_<kind> (store_id, last_seen_at, user_id), read backwards: the page
    # and its total from the index, the users by primary key for the page's rows only.
    return PagedQuery.of(
        select(User.id, User.name, User.family, User.avatar, StoreCustomer.last_seen_at,
               StoreCustomer.visits)
        .select_from(StoreCustomer)
        .join(User, User.id == StoreCustomer.user_id),
        counting=StoreCustomer,
        where=[StoreCustomer.store_id == bindparam("store_id", type_=Integer), _KINDS[kind]],
        order=[StoreCustomer.last_seen_at.desc(), StoreCustomer.user_id.desc()],
    )  # fmt: skip


_LISTS = {kind: _customers(kind) for kind in CustomerKind}


async def list_customers(
    conn: Conn,
    *,
    caller: Actor,
    side: StoreSide,
    kind: CustomerKind,
    page: PageRequest,
    store_id: int | None = None,
) -> Page[CustomerItem]:
    """The ``kind`` customers of one of the caller's stores on ``side`` (``store_id``, or their
    first by id; :func:`hojre.catalog.service.staff_store`), the latest contact first, then
    the higher user id. Two statements (the store, the page with its total; a page past the
    end: and the count), whatever the number of customers."""
    store = await staff_store(conn, caller=caller, side=side, store_id=store_id, columns=("id",))
    return await _LISTS[kind].fetch(conn, page, CustomerItem._make, store_id=int(store[0]))
