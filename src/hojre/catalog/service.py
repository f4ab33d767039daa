"""Reading the catalogue (lists and one target with its parts) and naming rows (slugs).

Every read here is one statement on :mod:`hojre.core.sql` whatever the page size or the number
of children, comments or media (a list past its end: two, the count alone).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from functools import cache, cached_property
from typing import Any, Final, NamedTuple, TypeVar, overload

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    and_,
    bindparam,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import Executable

from hojre.accounts.models import Role, User
from hojre.accounts.service import Actor
from hojre.catalog.errors import NotStoreStaffRole, StoreNotFound
from hojre.catalog.models import (
    Bazaar,
    BazaarCategory,
    Mall,
    Media,
    Product,
    Status,
    Store,
    StoreSeller,
    visible,
)
from hojre.core.clock import utcnow
from hojre.core.db import UTCDateTime
from hojre.core.dialect import upsert_for
from hojre.core.errors import HojreError, NotFound
from hojre.core.pagination import Page, PagedQuery, PageRequest
from hojre.core.sql import Conn, Part, Query
from hojre.core.text import ascii_digits
from hojre.interactions.models import Comment
from hojre.interactions.registry import TargetKind
from hojre.interactions.service import CommentItem, comment_rows
from hojre.messaging.errors import NotSeller, NotStoreManager
from hojre.messaging.service import managed_store_ids, staff_store_ids

# A composite shows the latest comments only; the full list is the paged comment list.
COMMENTS_SHOWN: Final = 20
# Children (malls of a bazaar, stores of a mall, branches of a store) in a composite; the
# complete list is the paged list with the matching filter (``/web/stores?mall=…``).
CHILDREN_SHOWN: Final = 20

Listed = TypeVar("Listed", Bazaar, Mall, Store, Product)


# -- slugs -----------------------------------------------------------------------------------

SLUG_MAX: Final = 250  # the column's length
_SLUG_BASE_MAX: Final = SLUG_MAX - 10  # room for "-<n>"
# Arabic code points that Persian keyboards and old data use for Persian letters.
_PERSIAN_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})
_TATWEEL = "\u0640"  # kashida: stretches a word, is not a letter of it
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script


def slugify(title: str, *extra: str) -> str:
    """A URL slug of ``title`` and ``extra`` words (e.g. the city), Persian letters kept.

    Unicode NFC; Arabic yeh/kaf become the Persian letters; Persian and Arabic-Indic digits
    become ASCII; Latin letters are lowercased; vowel marks (harakat, the hamza above) and
    tatweel are dropped, not treated as separators, since they sit inside their word. Every
    other character (spaces, punctuation, the zero-width non-joiner) separates words, and
    words are joined with ``-``. The ZWNJ separates because an invisible character in a URL
    cannot be told apart when typed or shared: ``"طرح‌نما"`` → ``"طرح-نما"``. May return
    ``""`` (a title of punctuation only).
    """
    text = unicodedata.normalize("NFC", " ".join((title, *extra)))
    text = ascii_digits(text).translate(_PERSIAN_LETTERS).lower()
    text = "".join(
        ch for ch in text if ch != _TATWEEL and not unicodedata.category(ch).startswith("M")
    )
    return "-".join(_WORD.findall(text))


Slugged = Bazaar | Mall | Store | Product
_SLUG_TRIES: Final = 5
# Inserts the row with the given slug and returns its id; None when the slug is taken.
SlugInsert = Callable[[str], Awaitable[int | None]]


class SlugTaken(RuntimeError):
    """Every candidate slug was taken by the time it was tried (parallel writers)."""


class NamedRow(NamedTuple):
    """A row :func:`unique_slug` inserted."""

    id: int
    slug: str


def _free_suffix(base: str, taken: set[str]) -> int:
    """1 (the bare base) if free, else one more than the highest ``base-<n>`` in use."""
    if base not in taken:
        return 1
    pattern = re.compile(re.escape(base) + r"-([0-9]+)")
    numbers = [int(m.group(1)) for s in taken if (m := pattern.fullmatch(s))]
    return max([1, *numbers]) + 1


@cache
def _slugs_in_use(model: type[Slugged]) -> Query:
    """The base and its numbered slugs: a range of the slug's unique index, ``base`` up to
    ``base.`` (bound as ``upper``). Slugs hold letters, digits and "-" only, and "." is the
    character after "-", so in the code-point order of SQLite and of C/C.UTF-8 databases the
    range holds exactly ``base`` and ``base-…``. A ``LIKE`` (or an ``OR`` of two conditions)
    read every row of the table instead: a third of a million products on the benchmark's
    big dataset, for each product added. Under another collation the range may miss a slug
    in use; the insert's unique constraint still refuses it and the next number is tried."""
    return Query(
        select(model.slug).where(model.slug >= bindparam("base"), model.slug < bindparam("upper"))
    )


async def unique_slug(
    conn: Conn, model: type[Slugged], title: str, *extra: str, insert: SlugInsert
) -> NamedRow:
    """Insert a ``model`` row (``insert``) with the slug of ``title`` (and ``extra``), adding
    -2, -3… on collision.

    The unique constraint is the arbiter: the first candidate comes from the slugs in use, and
    if a parallel writer takes it first, ``insert`` (``INSERT … ON CONFLICT (slug) DO
    NOTHING RETURNING id``, see :func:`slug_insert`) returns None and the next number is tried.
    A conflict does not abort the transaction, so no savepoint is needed.
    """
    base = slugify(title, *extra)[:_SLUG_BASE_MAX].strip("-") or model.__tablename__.rstrip("s")
    rows = await conn.all(_slugs_in_use(model), base=base, upper=f"{base}.")
    number = _free_suffix(base, {row[0] for row in rows})
    for _ in range(_SLUG_TRIES):
        slug = base if number == 1 else f"{base}-{number}"
        found = await insert(slug)
        if found is not None:
            return NamedRow(found, slug)
        number += 1
    raise SlugTaken(f"no free slug for {base!r} in {_SLUG_TRIES} tries")


@cache
def _insert_slugged(model: type[Slugged], columns: tuple[str, ...]) -> Query:
    table = model.__table__
    # Parameters named apart from the columns: SQLAlchemy keeps a column's own name for the
    # VALUES clause it would generate.
    values = {name: bindparam(f"v_{name}", type_=table.c[name].type) for name in columns}
    # hojre.core.sql runs no Python-side default: a column not given gets its scalar default
    # (status, counters) as its parameter's value, in the statement.
    for column in table.columns:
        default: Any = column.default
        if column.key not in values and default is not None and default.is_scalar:
            values[column.key] = bindparam(f"v_{column.key}", default.arg, type_=column.type)

    def build(dialect: str) -> Executable:
        return (
            upsert_for(dialect, model)
            .values(values)
            .on_conflict_do_nothing(index_elements=["slug"])
            .returning(table.c.id)
        )

    return Query(build)


def slug_insert(conn: Conn, model: type[Slugged], values: Mapping[str, Any]) -> SlugInsert:
    """The ``insert`` of :func:`unique_slug` for a row of ``values`` (by column name, without
    the slug); the columns not given get their defaults, the timestamps now."""
    now = utcnow()
    given = {"created_at": now, "updated_at": now, **values}
    query = _insert_slugged(model, (*sorted(given), "slug"))
    params = {f"v_{name}": value for name, value in given.items()}

    async def insert(slug: str) -> int | None:
        row = await conn.one(query, v_slug=slug, **params)
        return None if row is None else int(row[0])

    return insert


# -- lists -----------------------------------------------------------------------------------
#
# A list reads exactly the columns its v1 record shows (the item's fields, by column name).


class CategoryItem(NamedTuple):
    id: int
    title: str
    image: str


class BazaarItem(NamedTuple):
    id: int
    title: str
    country_id: int | None
    state_id: int | None
    city_id: int | None
    hood_id: int | None
    logo: str
    description: str | None
    main_image: str
    location_image: str
    status: str
    created_at: datetime
    updated_at: datetime
    viewed: int
    liked: int
    disliked: int
    comments_count: int
    favorite_count: int
    notification_count: int
    category_id: int | None
    address: str | None
    district: str | None
    longitude: str
    latitude: str
    slug: str


class MallItem(NamedTuple):
    id: int
    title: str
    address: str | None
    logo: str
    main_image: str
    location_image: str
    status: str
    created_at: datetime
    updated_at: datetime
    description: str | None
    bazaar_id: int | None
    viewed: int
    liked: int
    disliked: int
    comments_count: int
    favorite_count: int
    notification_count: int
    longitude: str
    latitude: str
    category_id: int | None
    country_id: int | None
    state_id: int | None
    city_id: int | None
    district: str | None
    hood_id: int | None
    slug: str


class StoreItem(NamedTuple):
    """No dates and no description: the original's store record has none."""

    id: int
    title: str
    address: str | None
    certificate_image: str
    manager_id: int | None
    logo: str
    main_image: str
    phone: str | None
    parent_id: int | None
    bazaar_id: int | None
    mall_id: int | None
    city_id: int | None
    hood_id: int | None
    liked: int
    disliked: int
    viewed: int
    comments_count: int
    favorite_count: int
    score_total: int
    score_count: int
    notification_count: int
    store_front_image: str
    category_id: int | None
    longitude: str
    latitude: str
    district: str | None
    country_id: int | None
    state_id: int | None
    email: str | None
    website: str | None
    telegram: str | None
    instagram: str | None
    youtube: str | None
    aparat: str | None
    googleplus: str | None
    facebook: str | None
    about: str | None
    slug: str
    location_image: str
    status: str
    twitter: str | None
    linkedin: str | None


class ProductItem(NamedTuple):
    id: int
    title: str
    store_id: int
    description: str | None
    price: int
    main_image: str
    status: str
    created_at: datetime
    updated_at: datetime
    viewed: int
    liked: int
    disliked: int
    comments_count: int
    favorite_count: int
    notification_count: int
    score_total: int
    score_count: int
    slug: str
    category_id: int | None
    top: str


@dataclass(frozen=True, slots=True)
class CatalogFilter:
    """List filters (API.md §2, designed there). None: not filtered."""

    category: int | None = None
    state: int | None = None
    city: int | None = None
    hood: int | None = None
    bazaar: int | None = None
    mall: int | None = None
    store: int | None = None


# Which filter reads which column, per listed model.
_FILTERS: dict[type[Any], dict[str, InstrumentedAttribute[Any]]] = {
    Bazaar: {
        "category": Bazaar.category_id,
        "state": Bazaar.state_id,
        "city": Bazaar.city_id,
        "hood": Bazaar.hood_id,
    },
    Mall: {
        "category": Mall.category_id,
        "state": Mall.state_id,
        "city": Mall.city_id,
        "hood": Mall.hood_id,
        "bazaar": Mall.bazaar_id,
    },
    Store: {
        "category": Store.category_id,
        "state": Store.state_id,
        "city": Store.city_id,
        "hood": Store.hood_id,
        "bazaar": Store.bazaar_id,
        "mall": Store.mall_id,
    },
    Product: {"store": Product.store_id},
}
_ITEMS: dict[type[Any], type[BazaarItem | MallItem | StoreItem | ProductItem]] = {
    Bazaar: BazaarItem,
    Mall: MallItem,
    Store: StoreItem,
    Product: ProductItem,
}


@cache
def _active(model: type[Listed], filters: frozenset[str]) -> PagedQuery:
    """The list with these filters, each bound by its name: a statement per combination in
    use, not ``col = :f OR :f IS NULL``, which keeps the planners off the filter's index."""
    columns = _FILTERS[model]
    where: list[ColumnElement[bool]] = [visible(model)]
    where += [columns[name] == bindparam(name, type_=Integer) for name in sorted(filters)]
    return PagedQuery.of(
        select(*(getattr(model, name) for name in _ITEMS[model]._fields)),
        counting=model, where=where, order=[model.id],
    )  # fmt: skip


@overload
async def list_active(
    conn: Conn, model: type[Bazaar], page: PageRequest, where: CatalogFilter
) -> Page[BazaarItem]: ...
@overload
async def list_active(
    conn: Conn, model: type[Mall], page: PageRequest, where: CatalogFilter
) -> Page[MallItem]: ...
@overload
async def list_active(
    conn: Conn, model: type[Store], page: PageRequest, where: CatalogFilter
) -> Page[StoreItem]: ...
@overload
async def list_active(
    conn: Conn, model: type[Product], page: PageRequest, where: CatalogFilter
) -> Page[ProductItem]: ...
async def list_active(
    conn: Conn, model: type[Listed], page: PageRequest, where: CatalogFilter
) -> Page[Any]:
    """Active rows of ``model`` in id order, oldest first: the primary key's index (or the
    filter's), as the original's search listed them, and new rows land on the last page, so
    paging through a list is not shifted by rows added meanwhile.

    One statement (page and total), two when the page is past the end. A filter the model
    does not have is a programming error.
    """
    given = {f.name: getattr(where, f.name) for f in fields(where)}
    given = {name: value for name, value in given.items() if value is not None}
    unknown = sorted(given.keys() - _FILTERS[model].keys())
    if unknown:
        raise TypeError(f"{model.__name__} has no {unknown[0]} filter")
    return await _active(model, frozenset(given)).fetch(conn, page, _ITEMS[model]._make, **given)


_CATEGORIES = PagedQuery.of(
    select(BazaarCategory.id, BazaarCategory.title, BazaarCategory.image),
    counting=BazaarCategory, order=[BazaarCategory.title, BazaarCategory.id],
)  # fmt: skip


async def list_categories(conn: Conn, page: PageRequest) -> Page[CategoryItem]:
    """Bazaar categories by title (as the original listed them); a handful of rows."""
    return await _CATEGORIES.fetch(conn, page, CategoryItem._make)


# -- one target with its parts ---------------------------------------------------------------


class SellerItem(NamedTuple):
    """A store's seller with the user's name and avatar."""

    id: int
    user_id: int
    store_id: int
    status: str
    name: str | None
    family: str | None
    avatar: str | None


# Composites are read on :mod:`hojre.core.sql` in one statement each: their rows are named
# tuples of all the table's columns, which the v1 renderers read like the lists' items.
Row = Any


@dataclass(frozen=True, slots=True)
class BazaarDetail:
    bazaar: Row
    media: list[Row]
    comments: list[CommentItem]
    malls: list[Row]
    stores: list[Row]


@dataclass(frozen=True, slots=True)
class MallDetail:
    mall: Row
    media: list[Row]
    comments: list[CommentItem]
    stores: list[Row]


@dataclass(frozen=True, slots=True)
class StoreDetail:
    store: Row
    media: list[Row]
    comments: list[CommentItem]
    sellers: list[SellerItem]
    branches: list[Row]  # stores whose parent is this one


@dataclass(frozen=True, slots=True)
class ProductDetail:
    product: Row
    media: list[Row]
    comments: list[CommentItem]


_ID = bindparam("id_", type_=Integer)


def _media_part(target: TargetKind) -> Part:
    return Part(
        "media",
        select(Media.__table__).where(
            Media.target == target, Media.target_id == _ID, Media.status == Status.active
        ),
        lambda c: (c.order, c.id),
    )


def _comments_part(target: TargetKind) -> Part:
    return Part(
        "comments",
        comment_rows(target, Comment.target_id == _ID).limit(COMMENTS_SHOWN),
        lambda c: (c.id.desc(),),
    )


def _children_part(name: str, model: type[Listed], parent: Any) -> Part:
    return Part(
        name,
        select(model.__table__)
        .where(parent == _ID, model.status == Status.active)
        .order_by(model.id)
        .limit(CHILDREN_SHOWN),
        lambda c: (c.id,),
    )


_SELLERS = Part(
    "sellers",
    select(
        StoreSeller.id,
        StoreSeller.user_id,
        StoreSeller.store_id,
        StoreSeller.status,
        User.name,
        User.family,
        User.avatar,
    )
    .join(User, User.id == StoreSeller.user_id)
    .where(StoreSeller.store_id == _ID, StoreSeller.status == Status.active),
    lambda c: (c.id,),
)


@dataclass(frozen=True)
class _Composite:
    """One target with its parts, in one statement: each part a JSON array in the target's
    row."""

    model: type[Any]
    parts: dict[str, Part]

    @cached_property
    def query(self) -> Query:
        def build(dialect: str) -> Any:
            columns = [p.column(dialect).label(n) for n, p in self.parts.items()]
            return select(self.model.__table__, *columns).where(
                self.model.id == _ID, visible(self.model)
            )

        return Query(build)

    async def read(self, conn: Conn, target_id: int) -> tuple[Row, dict[str, list[Row]]]:
        row = await conn.one(self.query, id_=target_id)
        if row is None:
            raise NotFound
        return row, {name: part.parse(getattr(row, name)) for name, part in self.parts.items()}


def _composite(model: type[Any], target: TargetKind, **children: Part) -> _Composite:
    return _Composite(
        model, {"media": _media_part(target), "comments": _comments_part(target), **children}
    )


_BAZAAR = _composite(
    Bazaar,
    TargetKind.bazaar,
    malls=_children_part("malls", Mall, Mall.bazaar_id),
    stores=_children_part("stores", Store, Store.bazaar_id),
)
_MALL = _composite(Mall, TargetKind.mall, stores=_children_part("stores", Store, Store.mall_id))
_STORE = _composite(
    Store,
    TargetKind.store,
    sellers=_SELLERS,
    branches=_children_part("branches", Store, Store.parent_id),
)
_PRODUCT = _composite(Product, TargetKind.product)


def _comment_items(rows: list[Row]) -> list[CommentItem]:
    return [CommentItem._make(row) for row in rows]


async def get_bazaar_detail(conn: Conn, bazaar_id: int) -> BazaarDetail:
    """An active bazaar with media, latest comments, malls and stores: one statement."""
    bazaar, parts = await _BAZAAR.read(conn, bazaar_id)
    return BazaarDetail(
        bazaar=bazaar,
        media=parts["media"],
        comments=_comment_items(parts["comments"]),
        malls=parts["malls"],
        stores=parts["stores"],
    )


async def get_mall_detail(conn: Conn, mall_id: int) -> MallDetail:
    """An active mall with media, latest comments and stores: one statement."""
    mall, parts = await _MALL.read(conn, mall_id)
    return MallDetail(
        mall=mall,
        media=parts["media"],
        comments=_comment_items(parts["comments"]),
        stores=parts["stores"],
    )


async def get_store_detail(conn: Conn, store_id: int) -> StoreDetail:
    """An active store with media, latest comments, active sellers, branches: one statement."""
    store, parts = await _STORE.read(conn, store_id)
    return StoreDetail(
        store=store,
        media=parts["media"],
        comments=_comment_items(parts["comments"]),
        sellers=[SellerItem._make(row) for row in parts["sellers"]],
        branches=parts["branches"],
    )


async def get_product_detail(conn: Conn, product_id: int) -> ProductDetail:
    """An active product with media and latest comments: one statement."""
    product, parts = await _PRODUCT.read(conn, product_id)
    return ProductDetail(
        product=product, media=parts["media"], comments=_comment_items(parts["comments"])
    )


# -- staff -----------------------------------------------------------------------------------


_STORE_EXISTS = Query(select(Store.id).where(Store.id == bindparam("store_id")))
_SET_MANAGER = Query(
    update(Store)
    .where(Store.id == bindparam("store_id"))
    .values(manager_id=bindparam("user_id"), updated_at=Store.updated_at)
)


def _add_seller(dialect: str) -> Executable:
    return (
        upsert_for(dialect, StoreSeller)
        .values(store_id=bindparam("store_id"), user_id=bindparam("user_id"),
                status=Status.active, created_at=bindparam("now", type_=UTCDateTime()))
        .on_conflict_do_update(
            index_elements=["store_id", "user_id"], set_={"status": Status.active}
        )
    )  # fmt: skip


_ADD_SELLER = Query(_add_seller)


async def assign_to_store(conn: Conn, *, user_id: int, role: Role, store_id: int) -> None:
    """Make a seller an active seller of the store, or a store manager its manager."""
    if await conn.one(_STORE_EXISTS, store_id=store_id) is None:
        raise StoreNotFound
    if role == Role.store_manager:
        await conn.run(_SET_MANAGER, store_id=store_id, user_id=user_id)
    elif role == Role.seller:
        await conn.run(_ADD_SELLER, store_id=store_id, user_id=user_id, now=utcnow())
    else:
        raise NotStoreStaffRole


# -- the store side: statistics --------------------------------------------------------------


class StoreSide(StrEnum):
    """The two halves of a store's back office (API.md §5): the manager's paths
    (``/web/store-manager/…``) and the sellers' (``/web/seller/…``)."""

    manager = "manager"
    seller = "seller"


_CALLER = bindparam("caller", type_=Integer)
_PICKED = bindparam("store", type_=Integer)


@dataclass(frozen=True, slots=True)
class Staff:
    """Who acts for a store on one side: a caller of one of ``roles`` whose ``stores`` on
    that side (a select of store ids) hold it; anyone else is refused with ``refusal``."""

    roles: frozenset[int]
    stores: Select[int] | CompoundSelect[int]
    refusal: type[HojreError]


STAFF: dict[StoreSide, Staff] = {
    # The stores the caller manages (hojre.messaging.service.require_manager's role).
    StoreSide.manager: Staff(
        frozenset({Role.store_manager}), managed_store_ids(_CALLER), NotStoreManager
    ),
    # /web/seller/send-offer's rule: a seller or manager, for a store where they are an
    # active seller or the manager.
    StoreSide.seller: Staff(
        frozenset({Role.seller, Role.store_manager}), staff_store_ids(_CALLER), NotSeller
    ),
}


class StoreStatistics(NamedTuple):
    """A store's own interaction counters (kept equal to their rows by the interactions
    service), by column name."""

    viewed: int
    liked: int
    disliked: int
    favorite_count: int
    notification_count: int
    comments_count: int


def staff_store_filter(side: StoreSide, *, picked: bool) -> ColumnElement[bool]:
    """``Store.id`` is one of the caller's stores on ``side`` (the caller bound as ``caller``;
    ``picked``: and it is the one bound as ``store``). No status filter: staff see a store
    awaiting approval."""
    mine = Store.id.in_(STAFF[side].stores)
    return and_(mine, Store.id == _PICKED) if picked else mine


def require_staff(caller: Actor, side: StoreSide) -> None:
    """Refuse, before any statement, a caller whose role has no stores on ``side``."""
    staff = STAFF[side]
    if caller.role not in staff.roles:
        raise staff.refusal


@cache
def _staff_store(side: StoreSide, picked: bool, columns: tuple[str, ...]) -> Query:
    return Query(
        select(*(getattr(Store, name) for name in columns))
        .where(staff_store_filter(side, picked=picked))
        .order_by(Store.id)
        .limit(1)
    )


async def staff_store(
    conn: Conn, *, caller: Actor, side: StoreSide, store_id: int | None, columns: tuple[str, ...]
) -> Any:
    """``columns`` of one of the caller's stores on ``side``: ``store_id``, or (None) their
    first by id. One statement (none for a role that has no stores on that side).

    A store that is not theirs on that side (another's, an id that does not exist) is refused
    as the caller having no store there at all, as send-offer refuses it: the answer says
    nothing of other stores.
    """
    require_staff(caller, side)
    picked = {} if store_id is None else {"store": store_id}
    query = _staff_store(side, store_id is not None, columns)
    row = await conn.one(query, caller=caller.id, **picked)
    if row is None:
        raise STAFF[side].refusal
    return row


async def store_statistics(
    conn: Conn, *, caller: Actor, side: StoreSide, store_id: int | None = None
) -> StoreStatistics:
    """The counters of one of the caller's stores on ``side`` (see :func:`staff_store`)."""
    row = await staff_store(
        conn, caller=caller, side=side, store_id=store_id, columns=StoreStatistics._fields
    )
    return StoreStatistics._make(row)
