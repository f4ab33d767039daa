"""A store's registration by its future manager, and the operator's word on it (API.md §5).

``register_store`` is ``/web/user/register`` with a store: the same path through
:func:`hojre.accounts.service.register` (its throttles, its code, its SMS, its rules for a
number registered but not activated), and in the transaction that writes the account and
queues its code, the account becomes a store manager (role 6) and its store is inserted with
status ``pending``. Whatever fails there rolls all of it back: no account, no code, no SMS.

A pending store is its manager's at once (the store side has no status filter) and nobody
else's (:func:`hojre.catalog.models.visible`); :func:`approve_store` makes it active,
:func:`reject_store` rejected (still its manager's, to fix and ask again). The manager hears
both by SMS, through the outbox: sent after commit, counted in the day's SMS ceiling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, NamedTuple

from sqlalchemy import Integer, String, bindparam, false, select, update

from hojre.accounts.models import Role, User
from hojre.accounts.service import MAX_PASSWORD, MIN_PASSWORD, Client, Registered, register
from hojre.catalog.errors import (
    CellphoneOrEmailTaken,
    ManagerInvalid,
    StoreHasError,
    StoreNotFound,
    StoreStatusUnchanged,
)
from hojre.catalog.models import Bazaar, BazaarCategory, Mall, Status, Store, visible
from hojre.catalog.service import slug_insert, unique_slug
from hojre.catalog.store_admin import STORE_TEXT_FIELDS
from hojre.core.checks import TextRules, check_texts
from hojre.core.clock import utcnow
from hojre.core.db import UTCDateTime
from hojre.core.errors import FieldProblem, Rule
from hojre.core.hub import Hub
from hojre.core.sql import Conn, Query, UniqueViolation
from hojre.core.text import parse_int, plain_text
from hojre.geo.checks import Places, check_places
from hojre.media.service import claim_paths

NAME_MIN: Final = 3  # the profile's rule (user/edit)
NAME_MAX: Final = 100
# The images a registration does not send: the defaults a new store shows until edit-store.
DEFAULT_IMAGES: Final[dict[str, str]] = {
    "logo": "img/defaults/storeLogo.png",
    "main_image": "img/defaults/storeMainImage.png",
    "store_front_image": "img/defaults/storeFrontImage.png",
    "location_image": "img/defaults/locationimage.png",
    "certificate_image": "img/defaults/certificateImage.png",
}
_ID_MAX: Final = 2**31 - 1
_NO_ROW: Final = -1  # an id that was sent but is not one: matches nothing, refused by the check
_STORE_RULES = TextRules(
    {name: STORE_TEXT_FIELDS[name] for name in ("title", "phone", "address", "certificate_image")},
    paths=frozenset({"certificate_image"}),
    path_rule=Rule.not_link,
)
_MANAGER_RULES = TextRules({"name": NAME_MAX, "family": NAME_MAX, "email": 255})


@dataclass(frozen=True, slots=True)
class ManagerFields:
    """The account half of the form, as typed (None: not sent)."""

    name: str | None = None
    family: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class StoreFields:
    """The store half of the form, as typed (None: not sent); ``longitude``/``latitude`` the
    registering call's position as the stores table keeps it ("" when unknown)."""

    title: str | None = None
    address: str | None = None
    phone: str | None = None
    state: str | None = None
    city: str | None = None
    hood: str | None = None
    category: str | None = None
    bazaar: str | None = None
    mall: str | None = None
    certificate: str | None = None
    longitude: str = ""
    latitude: str = ""


# -- checking the form -----------------------------------------------------------------------


def check_manager(password: str, fields: ManagerFields) -> dict[str, object]:
    """The account's rules, all at once (no statement): the password's length; ``name`` and
    ``family`` optional, at least 3 characters when given; ``email`` optional, an address.
    Its uniqueness is the database's (the write)."""
    problems: list[FieldProblem] = []
    if len(password) < MIN_PASSWORD:
        problems.append(FieldProblem("password", Rule.too_short, MIN_PASSWORD))
    elif len(password) > MAX_PASSWORD:
        problems.append(FieldProblem("password", Rule.too_long, MAX_PASSWORD))
    typed = {k: v for k, v in (("name", fields.name), ("family", fields.family),
                               ("email", fields.email)) if v is not None}  # fmt: skip
    sent = {k: plain_text(v) for k, v in typed.items()}
    for name in ("name", "family"):
        if sent.get(name) and len(sent[name]) < NAME_MIN:
            problems.append(FieldProblem(name, Rule.too_short, NAME_MIN))
    found, clean = check_texts(_MANAGER_RULES, sent, typed)
    problems.extend(found)
    if problems:
        raise ManagerInvalid(problems)
    return {name: clean.get(name) for name in ("name", "family", "email")}


# The category, the bazaar and the mall named (NULL: none such), and the mall's bazaar.
_REFS = Query(
    select(
        select(BazaarCategory.id)
        .where(BazaarCategory.id == bindparam("category", type_=Integer))
        .scalar_subquery(),
        select(Bazaar.id)
        .where(Bazaar.id == bindparam("bazaar", type_=Integer), visible(Bazaar))
        .scalar_subquery(),
        select(Mall.id)
        .where(Mall.id == bindparam("mall", type_=Integer), visible(Mall))
        .scalar_subquery(),
        select(Mall.bazaar_id)
        .where(Mall.id == bindparam("mall", type_=Integer), visible(Mall))
        .scalar_subquery(),
    )
)


def _ref(raw: str | None) -> int | None:
    """A sent id (Persian digits accepted); None: not sent or empty."""
    text = (raw or "").strip()
    if not text:
        return None
    value = parse_int(text)
    return value if value is not None and 0 < value <= _ID_MAX else _NO_ROW


async def check_store(conn: Conn, fields: StoreFields) -> dict[str, object]:
    """The store's rules, all at once, by column name: ``title`` required (at most 200
    characters), ``phone`` a landline, ``address`` at least 5 characters, ``certificate`` a
    path or an http(s) URL (edit-store's rules); the places as edit-store checks them;
    ``category`` a bazaar category, ``bazzar`` an active bazaar, ``mall`` an active mall, of
    that bazaar when both are sent (without ``bazzar``, the store is in the mall's bazaar).
    Two statements at most: the places, the rest (each only when sent)."""
    given = (("title", fields.title), ("phone", fields.phone), ("address", fields.address),
             ("certificate_image", fields.certificate))  # fmt: skip
    typed = {k: v for k, v in given if v is not None}
    sent = {k: plain_text(v) for k, v in typed.items()}
    problems: list[FieldProblem] = []
    if not sent.get("title"):
        problems.append(FieldProblem("title", Rule.required))
    found, clean = check_texts(_STORE_RULES, sent, typed)
    problems.extend(found)
    places = {k: v.strip() for k, v in (("state", fields.state), ("city", fields.city),
                                        ("hood", fields.hood)) if v is not None}  # fmt: skip
    problems.extend(
        await check_places(conn, sent=places, current=Places(None, None, None, None), clean=clean)
    )
    category, bazaar, mall = _ref(fields.category), _ref(fields.bazaar), _ref(fields.mall)
    mall_bazaar = None
    if category is not None or bazaar is not None or mall is not None:
        row = await conn.one(_REFS, category=category, bazaar=bazaar, mall=mall)
        assert row is not None  # a SELECT of subqueries has one row
        if category is not None and row[0] is None:
            problems.append(FieldProblem("category", Rule.invalid))
        if bazaar is not None and row[1] is None:
            problems.append(FieldProblem("bazaar", Rule.invalid))
        if mall is not None and (row[2] is None or bazaar not in (None, row[3])):
            problems.append(FieldProblem("mall", Rule.invalid))
        mall_bazaar = row[3]
    if problems:
        raise StoreHasError(problems)
    return {
        **DEFAULT_IMAGES,
        **{k: v for k, v in clean.items() if v is not None},
        "title": clean["title"],
        "category_id": category,
        "bazaar_id": bazaar if bazaar is not None else mall_bazaar,
        "mall_id": mall,
        "longitude": fields.longitude,
        "latitude": fields.latitude,
    }


# -- the registration ------------------------------------------------------------------------

_NOW = bindparam("now", type_=UTCDateTime())
# The pending account becomes the store's manager: only a customer registration not activated
# yet, so of parallel registrations of one number one makes the store (the row lock decides;
# the others find the role changed), and a number pending from a store registration keeps the
# store it has.
_MAKE_MANAGER = Query(
    update(User)
    .where(User.id == bindparam("user_id", type_=Integer), User.role == int(Role.customer),
           User.is_active == false())
    .values(role=int(Role.store_manager), name=bindparam("name", type_=String),
            family=bindparam("family", type_=String), email=bindparam("email", type_=String),
            updated_at=_NOW)
    .returning(User.id)
)  # fmt: skip


async def open_store(
    conn: Conn, *, manager_id: int, values: Mapping[str, object], status: Status
) -> int:
    """The one way a store is made: ``values`` as :func:`check_store` returns them, the slug
    from the title (``-2``, ``-3`` … when taken), ``manager_id`` its manager; its id. Two
    statements (the slugs in use, the insert; one more per slug a parallel writer took)."""
    row = {**values, "manager_id": manager_id, "status": status.value}
    made = await unique_slug(
        conn, Store, str(values["title"]), insert=slug_insert(conn, Store, row)
    )
    return int(made.id)


async def register_store(
    hub: Hub,
    *,
    cellphone: str,
    password: str,
    client: Client,
    manager: ManagerFields,
    store: StoreFields,
) -> Registered:
    """Register a store manager and their pending store (``cellphone`` normalised).

    The form is checked first, every rule of each half at once (the account's:
    :class:`ManagerInvalid`, then the store's: :class:`StoreHasError`), before anything is
    counted or hashed. Then :func:`register` runs as for a customer, and in its transaction the
    account becomes the manager and the store is written (an email another account has:
    :class:`CellphoneOrEmailTaken`, everything rolled back). A number pending from an earlier
    store registration is registered again as ``register`` does (a new code) and keeps the
    store that registration made: the manager edits it after activation.
    """
    account = check_manager(password, manager)
    async with hub.db.raw.connect(write=False) as conn:
        values = await check_store(conn, store)
    if account["email"]:
        values["email"] = account["email"]  # the store's contact, as its manager's

    async def also(conn: Conn, user: Registered) -> None:
        # In the write transaction: a path must name an upload, which this marks used.
        problems: list[FieldProblem] = []
        await claim_paths(conn, values, _STORE_RULES.paths, problems)
        if problems:
            raise StoreHasError(problems)
        try:
            made = await conn.one(_MAKE_MANAGER, user_id=user.id, now=utcnow(), **account)
        except UniqueViolation as exc:  # the email is another account's
            raise CellphoneOrEmailTaken from exc
        if made is None:
            return
        await open_store(conn, manager_id=user.id, values=values, status=Status.pending)

    return await register(hub, cellphone=cellphone, password=password, client=client, also=also)


# -- the operator's word ---------------------------------------------------------------------


class StoreDecision(NamedTuple):
    """What an approval or rejection did (``cellphone``: the manager told, None: none)."""

    id: int
    title: str
    before: str
    after: str
    cellphone: str | None


class PendingStore(NamedTuple):
    id: int
    title: str
    cellphone: str | None
    created_at: datetime


_STORE = bindparam("store", type_=Integer)
_STATE = Query(
    select(Store.id, Store.title, Store.status, User.cellphone)
    .outerjoin(User, User.id == Store.manager_id)
    .where(Store.id == _STORE)
)
# Compare-and-set: the status this call judged (a parallel decision makes it change nothing).
_MOVE = Query(
    update(Store)
    .where(Store.id == _STORE, Store.status == bindparam("seen", type_=String))
    .values(status=bindparam("status", type_=String), updated_at=_NOW)
)
_PENDING = Query(
    select(Store.id, Store.title, User.cellphone, Store.created_at)
    .outerjoin(User, User.id == Store.manager_id)
    .where(Store.status == Status.pending)
    .order_by(Store.id)
)
APPROVABLE: Final = frozenset({Status.pending, Status.rejected})
REJECTABLE: Final = frozenset({Status.pending, Status.active})
REASON_MAX: Final = 300  # an SMS is short; the operator's reason fits in two


async def _decide(
    conn: Conn,
    hub: Hub,
    store_id: int,
    to: Status,
    allowed: frozenset[Status],
    *,
    kind: str,
    text: Callable[[str], str],
) -> StoreDecision:
    """Move the store from one of ``allowed`` to ``to`` (compare-and-set: of two decisions at
    once, one applies) and queue its manager the SMS ``text`` makes of the store's title."""
    row = await conn.one(_STATE, store=store_id)
    if row is None:
        raise StoreNotFound
    if row.status not in allowed:
        raise StoreStatusUnchanged(store_id, row.status)
    if not await conn.run(_MOVE, store=store_id, seen=row.status, status=to.value, now=utcnow()):
        raise StoreStatusUnchanged(store_id, row.status)  # decided by someone else meanwhile
    if row.cellphone is not None:
        await hub.outbox.enqueue(conn, to=row.cellphone, kind=kind, text=text(row.title))
    return StoreDecision(row.id, row.title, row.status, to.value, row.cellphone)


async def approve_store(conn: Conn, hub: Hub, *, store_id: int) -> StoreDecision:
    """A pending (or rejected) store becomes active: customers see it. Its manager gets an
    SMS after commit. No such store: :class:`StoreNotFound`; any other status (active
    already, inactive): :class:`StoreStatusUnchanged`."""
    return await _decide(
        conn, hub, store_id, Status.active, APPROVABLE, kind="store_approved",
        text=lambda title: (
            f"Hojrenama: your store \u201c{title}\u201d is approved and shown to customers."
            f"\nحجره‌نما: فروشگاه «{title}» تأیید شد و اکنون به مشتریان نشان داده می‌شود."
        ),
    )  # fmt: skip


async def reject_store(conn: Conn, hub: Hub, *, store_id: int, reason: str) -> StoreDecision:
    """A pending (or active) store becomes rejected: customers no longer see it, its manager
    still does (to fix it and ask again). The manager gets an SMS with ``reason`` (required,
    plain text, at most 300 characters: :class:`ValueError`); it is kept in the SMS only."""
    reason = plain_text(reason)
    if not reason:
        raise ValueError("a reason is required")
    if len(reason) > REASON_MAX:
        raise ValueError(f"the reason is longer than {REASON_MAX} characters")
    return await _decide(
        conn, hub, store_id, Status.rejected, REJECTABLE, kind="store_rejected",
        text=lambda title: (
            f"Hojrenama: your store \u201c{title}\u201d was not approved: {reason}"
            f"\nحجره‌نما: فروشگاه «{title}» تأیید نشد: {reason}"
            "\nآن را در برنامه ویرایش کنید تا دوباره بررسی شود."
        ),
    )  # fmt: skip


async def pending_stores(conn: Conn) -> list[PendingStore]:
    """The stores awaiting approval, oldest first: one statement."""
    return [PendingStore._make(row) for row in await conn.all(_PENDING)]
