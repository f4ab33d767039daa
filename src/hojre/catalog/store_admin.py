"""The store's own profile and gallery, edited by its manager (API.md §5).

Every statement is filtered by the caller's stores on the manager side (the stores they
manage, :data:`hojre.catalog.service.STAFF`); a caller who is no store manager is refused
before any statement. An id of another store's record answers that record's "not found".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    delete,
    insert,
    or_,
    select,
)

from hojre.accounts.service import Actor
from hojre.catalog.errors import MediaNotFound, ProductNotFound
from hojre.catalog.models import Media, Product, Status, Store
from hojre.catalog.service import (
    STAFF,
    StoreSide,
    require_staff,
    staff_store,
    staff_store_filter,
)
from hojre.core.checks import TextRules, check_int, check_texts
from hojre.core.clock import utcnow
from hojre.core.db import UTCDateTime, update_sent
from hojre.core.errors import FieldProblem, Rule, ValidationFailed
from hojre.core.pagination import Page, PagedQuery, PageRequest
from hojre.core.sql import Conn, Query
from hojre.core.text import plain_text
from hojre.geo.checks import Places, check_places
from hojre.interactions.registry import TargetKind
from hojre.media.service import claim_paths

_MANAGER: Final = STAFF[StoreSide.manager]

# -- the store's profile ---------------------------------------------------------------------

STORE_IMAGES: Final = frozenset(
    ("logo", "store_front_image", "certificate_image", "location_image", "main_image")
)
ABOUT_MAX: Final = 5000  # the column is TEXT: a bound for what a store page shows
# Text fields of the store and their maximum lengths (the columns' sizes).
STORE_TEXT_FIELDS: Final[dict[str, int]] = {
    "title": 200,
    "phone": 20,
    "email": 255,
    "address": 500,
    "about": ABOUT_MAX,
    "telegram": 255,
    "instagram": 255,
    "facebook": 255,
    "twitter": 255,
    "googleplus": 255,
    "website": 255,
    "linkedin": 255,
    **dict.fromkeys(sorted(STORE_IMAGES), 255),
}
STORE_FIELDS: Final = (*STORE_TEXT_FIELDS, "country", "state", "city", "hood")
# Never empty: a store always has a title and shows its images.
_REQUIRED: Final = frozenset({"title", *STORE_IMAGES})
_RULES = TextRules(STORE_TEXT_FIELDS, paths=STORE_IMAGES, path_rule=Rule.not_link)


@dataclass(slots=True)
class StoreChanges:
    """Only the fields the manager sent, by column name (``state`` etc. for the places).
    Values are raw text; an empty string clears a field that may be empty."""

    values: dict[str, str] = field(default_factory=dict)


def _managed(picked: bool) -> ColumnElement[bool]:
    return staff_store_filter(StoreSide.manager, picked=picked)


_PLACES = ("id", "country_id", "state_id", "city_id", "hood_id")


async def _store_of(conn: Conn, caller: Actor, store_id: int | None) -> tuple[int, Places]:
    """The caller's store (``store_id``, or their first by id) and its places: one
    statement. Anyone else, or a store that is not theirs, is refused as statistics does."""
    row = await staff_store(
        conn, caller=caller, side=StoreSide.manager, store_id=store_id, columns=_PLACES
    )
    return row[0], Places(*row[1:])


async def edit_store(
    conn: Conn, *, caller: Actor, changes: StoreChanges, store_id: int | None = None
) -> None:
    """Validate every rule of the sent fields, report all failures at once, then write only
    those fields: three statements at most (the store, the places, the write). The slug stays
    (links to the store keep working when its title changes)."""
    store, current = await _store_of(conn, caller, store_id)
    # Customers see all of it on the store's page: plain text only.
    sent = {k: plain_text(v) for k, v in changes.values.items()}
    problems = [FieldProblem(n, Rule.required) for n in sorted(_REQUIRED) if sent.get(n) == ""]
    found, clean = check_texts(_RULES, sent, changes.values)
    problems.extend(found)
    await claim_paths(conn, clean, STORE_IMAGES, problems)
    if {"country", "state", "city", "hood"} & sent.keys():
        problems.extend(await check_places(conn, sent=sent, current=current, clean=clean))
    if problems:
        raise ValidationFailed(problems)
    if clean:
        await conn.run(
            update_sent(Store, frozenset(clean), "store_id"), store_id=store, now=utcnow(), **clean
        )


# -- the gallery -----------------------------------------------------------------------------

MEDIA_TYPES: Final = ("image", "video")
MEDIA_TITLE_MAX: Final = 200
ORDER_MIN, ORDER_MAX = 0, 2**31 - 1
_MEDIA_LIMITS: Final = {"title": MEDIA_TITLE_MAX, "source": 255}
# An image is one of our uploads; a video is a link (nothing here stores videos).
_MEDIA_RULES: Final = {
    "image": TextRules(_MEDIA_LIMITS, paths=frozenset({"source"}), path_rule=Rule.not_link),
    "video": TextRules(_MEDIA_LIMITS, urls=frozenset({"source"})),
}


class MediaItem(NamedTuple):
    id: int
    title: str
    type: str
    store_id: int
    source: str
    order: int


@dataclass(frozen=True, slots=True)
class NewMedia:
    """A gallery item as the manager sent it (raw text; ``None``: not sent)."""

    source: str | None
    type: str | None = None
    order: str | None = None
    title: str | None = None


def _check_media(new: NewMedia) -> dict[str, object]:
    """``source`` required, a path as an avatar's; ``type`` image (default) or video;
    ``order`` an integer (default 1); ``title`` optional."""
    typed = {k: v for k, v in (("source", new.source), ("title", new.title)) if v is not None}
    sent = {k: plain_text(v) for k, v in typed.items()}
    kind = (new.type or "").strip() or "image"
    problems, clean = check_texts(_MEDIA_RULES.get(kind, _MEDIA_RULES["image"]), sent, typed)
    if not sent.get("source"):
        problems.insert(0, FieldProblem("source", Rule.required))
    if kind not in MEDIA_TYPES:
        problems.append(FieldProblem("type", Rule.invalid))
    order = 1
    if new.order is not None and new.order.strip():
        value = check_int("order", new.order, ORDER_MIN, ORDER_MAX)
        if isinstance(value, FieldProblem):
            problems.append(value)
        else:
            order = value
    if problems:
        raise ValidationFailed(problems)
    return {"source": clean["source"], "title": clean.get("title") or "", "type": kind,
            "order": order}  # fmt: skip


def _add_media(picked: bool) -> Query:
    """The item into the caller's store (first by id, or the one given): nothing inserted
    when it is not theirs."""
    now = bindparam("now", type_=UTCDateTime())
    values = select(
        bindparam("target", type_=String()), Store.id, bindparam("title", type_=String()),
        bindparam("type", type_=String()), bindparam("source", type_=String()),
        bindparam("order", type_=Integer()), bindparam("status", type_=String()), now, now,
    ).where(_managed(picked)).order_by(Store.id).limit(1)  # fmt: skip
    columns = ["target", "target_id", "title", "type", "source", "order", "status",
               "created_at", "updated_at"]  # fmt: skip
    return Query(insert(Media).from_select(columns, values).returning(Media.id))


_ADD_MEDIA = {picked: _add_media(picked) for picked in (False, True)}


async def add_store_media(
    conn: Conn, *, caller: Actor, new: NewMedia, store_id: int | None = None
) -> int:
    """Add an image (or video) to the gallery of one of the caller's stores; its id. One
    statement (none for a refused role or invalid input)."""
    require_staff(caller, StoreSide.manager)
    values = _check_media(new)
    if values["type"] == "image":
        problems: list[FieldProblem] = []
        await claim_paths(conn, values, ("source",), problems)
        if problems:
            raise ValidationFailed(problems)
    picked = {} if store_id is None else {"store": store_id}
    row = await conn.one(
        _ADD_MEDIA[store_id is not None], caller=caller.id, target=TargetKind.store.value,
        status=Status.active.value, now=utcnow(), **values, **picked,
    )  # fmt: skip
    if row is None:
        raise _MANAGER.refusal
    return int(row[0])


_STORE_MEDIA = and_(Media.target == TargetKind.store, Media.status == Status.active)
_DELETE_MEDIA = Query(
    delete(Media)
    .where(
        Media.id == bindparam("media", type_=Integer),
        _STORE_MEDIA,
        Media.target_id.in_(select(Store.id).where(_managed(False))),
    )
    .returning(Media.id)
)


async def delete_store_media(conn: Conn, *, caller: Actor, media_id: int) -> None:
    """Remove an item from the gallery of one of the caller's stores (the row goes; the
    uploaded file stays: other records may name it). One statement."""
    require_staff(caller, StoreSide.manager)
    if await conn.one(_DELETE_MEDIA, caller=caller.id, media=media_id) is None:
        raise MediaNotFound


_MEDIA_COLUMNS = (Media.id, Media.title, Media.type, Media.target_id, Media.source, Media.order)
_GALLERY = PagedQuery.of(
    select(*_MEDIA_COLUMNS),
    counting=Media,
    where=[_STORE_MEDIA, Media.target_id == bindparam("store_id", type_=Integer)],
    # ix_media_target (target, target_id, order): the page and its total from the index.
    order=[Media.order, Media.id],
)


async def list_store_media(
    conn: Conn, *, caller: Actor, page: PageRequest, store_id: int | None = None
) -> Page[MediaItem]:
    """The gallery of one of the caller's stores, by ``order`` then id: two statements (the
    store, the page with its total; a page past the end: and the count)."""
    store, _ = await _store_of(conn, caller, store_id)
    return await _GALLERY.fetch(conn, page, MediaItem._make, store_id=store)


_PRODUCT_MEDIA = Query(
    select(*_MEDIA_COLUMNS[:3], Product.store_id, *_MEDIA_COLUMNS[4:])
    .select_from(Product)
    .outerjoin(
        Media,
        and_(
            Media.target == TargetKind.product,
            Media.target_id == Product.id,
            Media.status == Status.active,
        ),
    )
    .where(
        Product.id == bindparam("product", type_=Integer),
        Product.store_id.in_(_MANAGER.stores),
        # A deleted product is gone for its store too.
        or_(Product.status == Status.active, Product.status == Status.inactive),
    )
    .order_by(Media.order, Media.id)
)


async def product_media(conn: Conn, *, caller: Actor, product_id: int) -> list[MediaItem]:
    """The media of a product of one of the caller's stores: one statement (a product with
    no media: one row of NULLs, told apart from no product at all)."""
    require_staff(caller, StoreSide.manager)
    rows = await conn.all(_PRODUCT_MEDIA, caller=caller.id, product=product_id)
    if not rows:
        raise ProductNotFound
    return [MediaItem._make(row) for row in rows if row[0] is not None]
