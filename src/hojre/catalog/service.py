"""Reading the catalogue (lists and one target with its parts) and naming rows (slugs).

Every read here is a fixed number of statements whatever the page size or the number of
children, comments or media: no lazy loading, one query per part.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any, Final, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Integer, bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hojre.accounts.models import User
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
from hojre.core.errors import NotFound
from hojre.core.pagination import MAX_PER_PAGE, Page, PageRequest, fetch_page
from hojre.core.sql import Conn, Part, Query
from hojre.core.text import ascii_digits
from hojre.interactions.models import Comment
from hojre.interactions.registry import TargetKind
from hojre.interactions.service import CommentItem, comment_rows

# A composite shows the latest comments only; the full list is the paged comment list.
COMMENTS_SHOWN: Final = 20
# Children (malls of a bazaar, stores of a mall, branches of a store) in a composite; the
# complete list is the paged list with the matching filter (``/web/stores?mall=…``).
CHILDREN_SHOWN: Final = MAX_PER_PAGE

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


def _free_suffix(base: str, taken: set[str]) -> int:
    """1 (the bare base) if free, else one more than the highest ``base-<n>`` in use."""
    if base not in taken:
        return 1
    pattern = re.compile(re.escape(base) + r"-([0-9]+)")
    numbers = [int(m.group(1)) for s in taken if (m := pattern.fullmatch(s))]
    return max([1, *numbers]) + 1


async def unique_slug(session: AsyncSession, row: Slugged, title: str, *extra: str) -> str:
    """Give ``row`` the slug of ``title`` (and ``extra``), adding -2, -3… on collision.

    Adds and flushes ``row``. The unique constraint is the arbiter: the first candidate comes
    from the slugs in use, and if a parallel writer takes it first the insert (in a
    savepoint) fails and the next number is tried.
    """
    model = type(row)
    base = slugify(title, *extra)[:_SLUG_BASE_MAX].strip("-") or model.__tablename__.rstrip("s")
    # Slugs hold letters, digits and "-" only, so the base needs no LIKE escaping.
    taken = set(
        (
            await session.scalars(
                select(model.slug).where(or_(model.slug == base, model.slug.like(f"{base}-%")))
            )
        ).all()
    )
    number = _free_suffix(base, taken)
    for attempt in range(_SLUG_TRIES):
        row.slug = base if number == 1 else f"{base}-{number}"
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError as exc:
            if "slug" not in str(exc.orig) or attempt == _SLUG_TRIES - 1:
                raise
            number += 1
        else:
            return row.slug
    raise AssertionError("unreachable")  # pragma: no cover


# -- lists -----------------------------------------------------------------------------------


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


async def list_active(
    session: AsyncSession, model: type[Listed], page: PageRequest, where: CatalogFilter
) -> Page[Listed]:
    """Active rows of ``model`` in id order, oldest first: the primary key's index (or the
    filter's), as the original's search listed them, and new rows land on the last page, so
    paging through a list is not shifted by rows added meanwhile.

    Two statements (count and page), one when the page is past the end. A filter the model
    does not have is a programming error.
    """
    columns = _FILTERS[model]
    conditions: list[ColumnElement[bool]] = [visible(model)]
    for field in fields(where):
        name, value = field.name, getattr(where, field.name)
        if value is None:
            continue
        if name not in columns:
            raise TypeError(f"{model.__name__} has no {name} filter")
        conditions.append(columns[name] == value)
    query = select(model).where(*conditions).order_by(model.id)
    return await fetch_page(session, query, page)


async def list_categories(session: AsyncSession, page: PageRequest) -> Page[BazaarCategory]:
    """Bazaar categories by title (as the original listed them); a handful of rows."""
    query = select(BazaarCategory).order_by(BazaarCategory.title, BazaarCategory.id)
    return await fetch_page(session, query, page)


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
# tuples of the table's columns, which the v1 renderers read like the ORM objects of the lists.
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


async def assign_to_store(session: AsyncSession, *, user: User, store_id: int) -> None:
    """Make a seller an active seller of the store, or a store manager its manager."""
    from hojre.accounts.models import Role
    from hojre.core.dialect import upsert
    from hojre.core.errors import HojreError

    store = await session.get(Store, store_id)
    if store is None:
        raise HojreError("Store Not Found")
    if user.role == Role.store_manager:
        store.manager_id = user.id
    elif user.role == Role.seller:
        await session.execute(
            upsert(session, StoreSeller)
            .values(store_id=store.id, user_id=user.id, status=Status.active)
            .on_conflict_do_update(
                index_elements=["store_id", "user_id"], set_={"status": Status.active}
            )
        )
    else:
        raise HojreError("Only sellers and store managers belong to a store")
    await session.flush()
