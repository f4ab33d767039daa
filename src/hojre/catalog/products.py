"""A store's products on the store side (API.md §5): list, add, edit, delete.

Who may act is the side's rule (:data:`hojre.catalog.service.STAFF`): a store manager for the
stores they manage, a seller (or the manager) for the stores they sell in. Every statement
names the caller's stores, so another store's product is "not found", never shown or touched.
Each call runs a constant number of statements, none for a role that has no stores on that
side. Deleting is soft (``status`` ``deleted``): :func:`hojre.catalog.models.visible` keeps a
deleted product out of every public list and composite, and the store's own list leaves it out.

A product's pictures beside its main image are media in fixed slots (``Gallery[1]`` …
``Gallery[3]``: images of order 1 … 3; ``video``: the video, order 4, after them), so an edit
replaces a slot instead of piling up copies, and ``unique-product`` and the public product page
show them by order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Final, NamedTuple, cast

from sqlalchemy import (
    Integer,
    String,
    Table,
    and_,
    bindparam,
    delete,
    insert,
    or_,
    select,
    union_all,
    update,
)

from hojre.accounts.service import Actor
from hojre.catalog.errors import ProductNotFound
from hojre.catalog.models import BazaarCategory, Media, Product, Status
from hojre.catalog.service import (
    STAFF,
    StoreSide,
    require_staff,
    slug_insert,
    staff_store,
    unique_slug,
)
from hojre.core.checks import image_path
from hojre.core.clock import utcnow
from hojre.core.db import UTCDateTime
from hojre.core.errors import FieldProblem, Rule, ValidationFailed
from hojre.core.pagination import Page, PagedQuery, PageRequest
from hojre.core.sql import Conn, Query
from hojre.core.text import drop_controls, parse_int, plain_text, web_url_ok
from hojre.interactions.registry import TargetKind
from hojre.media.service import claim_paths

TITLE_MAX: Final = 200  # the column's length
DESCRIPTION_MAX: Final = 10_000
IMAGE_MAX: Final = 255
DEFAULT_IMAGE: Final = "img/defaults/product.png"
TOP: Final = ("yes", "no")
NO_CATEGORY: Final = -1
# What the store side lists and edits: everything but the deleted.
_LISTED: Final = Product.status != Status.deleted

_CALLER = bindparam("caller", type_=Integer)
_PRODUCT = bindparam("product", type_=Integer)


class Slot(NamedTuple):
    """One of a product's media places: its media ``type`` and ``order``; ``field`` names it
    in a validation message ("Gallery 1 …")."""

    type: str
    order: int
    field: str


GALLERY: Final = tuple(Slot("image", n, f"gallery_{n}") for n in (1, 2, 3))
VIDEO: Final = Slot("video", 4, "video")
SLOTS: Final = (*GALLERY, VIDEO)


@dataclass(frozen=True, slots=True)
class ProductFields:
    """What add-product and edit-product sent, as typed; None: not sent (on edit: kept)."""

    title: str | None = None
    main_image: str | None = None
    category: str | None = None
    description: str | None = None
    price: str | None = None
    top: str | None = None
    # ``Gallery[1]`` … ``Gallery[3]``, then ``video``: a path or URL; "" empties the slot.
    media: tuple[str | None, ...] = (None,) * len(SLOTS)


class StoreProductItem(NamedTuple):
    """A product as its store's staff list it, by column name."""

    id: int
    title: str
    main_image: str
    category_id: int | None
    store_id: int
    description: str | None
    status: str
    created_at: datetime
    updated_at: datetime
    price: int
    top: str
    viewed: int
    liked: int
    disliked: int
    favorite_count: int
    comments_count: int
    notification_count: int
    slug: str


# -- whose store ------------------------------------------------------------------------------


async def own_store(conn: Conn, *, caller: Actor, side: StoreSide, store_id: int | None) -> int:
    """The id of one of the caller's stores on ``side`` (see ``staff_store``)."""
    row = await staff_store(conn, caller=caller, side=side, store_id=store_id, columns=("id",))
    return int(row[0])


# -- checking what was sent -------------------------------------------------------------------

_CATEGORY = Query(select(BazaarCategory.id).where(BazaarCategory.id == bindparam("category")))


def _image(field: str, raw: str, problems: list[FieldProblem], *, video: bool = False) -> str:
    """A picture's path as the media store knows it (controls dropped; the caller claims it
    as an upload), or a video's http(s) URL as typed."""
    image = drop_controls(raw).strip()
    if len(image) > IMAGE_MAX:
        problems.append(FieldProblem(field, Rule.too_long, IMAGE_MAX))
    elif image and video:
        if not web_url_ok(image):
            problems.append(FieldProblem(field, Rule.not_url))
    elif image:
        found = image_path(field, image, Rule.not_link)
        if isinstance(found, FieldProblem):
            problems.append(found)
        else:
            return found
    return image


class Checked(NamedTuple):
    columns: dict[str, Any]  # the product's, by column name
    media: dict[Slot, str]  # the slots sent: their source ("": emptied)


async def _check(conn: Conn, sent: ProductFields, *, creating: bool) -> Checked:
    """Every rule at once (one statement at most: the category); the clean values.

    Creating, ``title`` and ``price`` are required, the others take their defaults; editing,
    a field not sent keeps its value and a field sent obeys the same rules.
    """
    problems: list[FieldProblem] = []
    clean: dict[str, Any] = {}
    if sent.title is not None or creating:
        title = plain_text(sent.title or "")
        if not title:
            problems.append(FieldProblem("title", Rule.required))
        elif len(title) > TITLE_MAX:
            problems.append(FieldProblem("title", Rule.too_long, TITLE_MAX))
        clean["title"] = title
    if sent.main_image is not None or creating:
        clean["main_image"] = _image("main_image", sent.main_image or "", problems) or DEFAULT_IMAGE
    if sent.category is not None or creating:
        raw = (sent.category or "").strip()
        category = parse_int(raw) if raw else None
        if raw and (category is None or not 0 < category < 2**31):
            category = NO_CATEGORY  # matches no row: refused by the same check
        if category is not None and await conn.one(_CATEGORY, category=category) is None:
            problems.append(FieldProblem("category", Rule.invalid))
        clean["category_id"] = category
    if sent.description is not None or creating:
        description = plain_text(sent.description or "")
        if len(description) > DESCRIPTION_MAX:
            problems.append(FieldProblem("description", Rule.too_long, DESCRIPTION_MAX))
        clean["description"] = description or None
    if sent.price is not None or creating:
        raw = (sent.price or "").strip()
        price = parse_int(raw)
        if not raw:
            problems.append(FieldProblem("price", Rule.required))
        elif price is None:
            problems.append(FieldProblem("price", Rule.not_integer))
        elif price < 0:
            problems.append(FieldProblem("price", Rule.too_small, 0))
        clean["price"] = price
    if sent.top is not None or creating:
        top = (sent.top or "no").strip() or "no"
        if top not in TOP:
            problems.append(FieldProblem("top", Rule.invalid))
        clean["top"] = top
    media = {
        slot: _image(slot.field, raw, problems, video=slot is VIDEO)
        for slot, raw in zip(SLOTS, sent.media, strict=True)
        if raw is not None
    }
    if not problems:  # a statement per picture sent: each must be an upload
        pictures: dict[str, object] = {s.field: m for s, m in media.items() if s is not VIDEO}
        if "main_image" in clean:
            pictures["main_image"] = clean["main_image"]
        await claim_paths(conn, pictures, pictures, problems)
    if problems:
        raise ValidationFailed(problems)
    return Checked(clean, media)


# -- the media slots --------------------------------------------------------------------------

# The table, not the mapped class: run in an ORM session (the demo's), a statement on the class
# with parameters is taken for the ORM's bulk form.
_MEDIA: Final = cast(Table, Media.__table__)
_PRODUCT_MEDIA = and_(Media.target == TargetKind.product, Media.target_id == _PRODUCT)


@cache
def _clear_slots(slots: tuple[Slot, ...]) -> Query:
    taken = or_(*(and_(Media.type == slot.type, Media.order == slot.order) for slot in slots))
    return Query(delete(_MEDIA).where(_PRODUCT_MEDIA, taken))


_SLOT_COLUMNS: Final = ("target", "target_id", "title", "type", "source", "order", "status",
                        "created_at", "updated_at")  # fmt: skip


@cache
def _fill_slots(count: int) -> Query:
    """One INSERT of ``count`` media of the product (``type{i}``, ``source{i}``, ``order{i}``),
    as a SELECT per row: a multi-row VALUES with shared parameters is not one statement under
    every driver the services run on (the ORM session's renames them)."""
    now = bindparam("now", type_=UTCDateTime())
    rows = [
        select(
            bindparam("target", type_=String()), _PRODUCT, bindparam("title", type_=String()),
            bindparam(f"type{i}", type_=String()), bindparam(f"source{i}", type_=String()),
            bindparam(f"order{i}", type_=Integer()), bindparam("status", type_=String()), now,
            now,
        )
        for i in range(count)
    ]  # fmt: skip
    return Query(insert(_MEDIA).from_select(list(_SLOT_COLUMNS), union_all(*rows)))


async def _set_media(
    conn: Conn, product_id: int, title: str, media: dict[Slot, str], *, creating: bool
) -> None:
    """Put what was sent in its slots: each sent slot emptied (editing), then the filled ones
    inserted. Two statements at most, whatever was sent; none when nothing was."""
    if not creating and media:
        await conn.run(_clear_slots(tuple(media)), product=product_id)
    filled = [(slot, source) for slot, source in media.items() if source]
    if not filled:
        return
    values: dict[str, Any] = {}
    for i, (slot, source) in enumerate(filled):
        values |= {f"type{i}": slot.type, f"source{i}": source, f"order{i}": slot.order}
    await conn.run(
        _fill_slots(len(filled)), product=product_id, target=TargetKind.product.value,
        title=title, status=Status.active.value, now=utcnow(), **values,
    )  # fmt: skip


# -- list, add, edit, delete ------------------------------------------------------------------

_LIST = PagedQuery.of(
    select(*(getattr(Product, name) for name in StoreProductItem._fields)),
    counting=Product,
    where=[Product.store_id == bindparam("store", type_=Integer), _LISTED],
    order=[Product.id],
)


async def list_products(
    conn: Conn, *, caller: Actor, side: StoreSide, store_id: int | None, page: PageRequest
) -> Page[StoreProductItem]:
    """The products of one of the caller's stores (deleted ones left out), oldest first: the
    store, then the page and its total (the store's index); a page past the end, one more."""
    store = await own_store(conn, caller=caller, side=side, store_id=store_id)
    return await _LIST.fetch(conn, page, StoreProductItem._make, store=store)


async def add_product(
    conn: Conn, *, caller: Actor, side: StoreSide, store_id: int | None, sent: ProductFields
) -> int:
    """A new active product of one of the caller's stores, its slug from the title; its id.
    Five statements at most: the store, the category, the slugs in use, the insert (one more
    per slug a parallel writer took first) and its media."""
    store = await own_store(conn, caller=caller, side=side, store_id=store_id)
    checked = await _check(conn, sent, creating=True)
    title = checked.columns["title"]
    values = {**checked.columns, "store_id": store, "status": Status.active}
    row = await unique_slug(conn, Product, title, insert=slug_insert(conn, Product, values))
    await _set_media(conn, row.id, title, checked.media, creating=True)
    return int(row.id)


@cache
def _edit(side: StoreSide, columns: frozenset[str]) -> Query:
    """The UPDATE of these columns of a listed product of the caller's stores on ``side``."""
    values = {name: bindparam(name, type_=Product.__table__.c[name].type) for name in columns}
    return Query(
        update(Product)
        .where(
            Product.id == _PRODUCT,
            _LISTED,
            Product.store_id.in_(STAFF[side].stores),
        )
        .values(**values, updated_at=bindparam("now", type_=UTCDateTime()))
        .returning(Product.id, Product.title)
    )


async def edit_product(
    conn: Conn, *, caller: Actor, side: StoreSide, product_id: int, sent: ProductFields
) -> None:
    """Change what was sent of a product of the caller's stores on ``side``; the slug stays
    (links to the product keep working). The category check, one UPDATE and, when media were
    sent, their two: the UPDATE locks the row first, so parallel edits queue on it, each whole
    (its media with it), and the last one's values stay. Not theirs, deleted or no such
    product: :class:`ProductNotFound`."""
    require_staff(caller, side)
    checked = await _check(conn, sent, creating=False)
    query = _edit(side, frozenset(checked.columns))
    row = await conn.one(
        query, product=product_id, caller=caller.id, now=utcnow(), **checked.columns
    )
    if row is None:
        raise ProductNotFound
    await _set_media(conn, product_id, row[1], checked.media, creating=False)


async def delete_product(conn: Conn, *, caller: Actor, side: StoreSide, product_id: int) -> None:
    """Mark a product of the caller's stores on ``side`` deleted (one UPDATE); a second
    delete finds nothing: :class:`ProductNotFound`."""
    require_staff(caller, side)
    query = _edit(side, frozenset({"status"}))
    row = await conn.one(
        query, product=product_id, caller=caller.id, now=utcnow(), status=Status.deleted
    )
    if row is None:
        raise ProductNotFound
