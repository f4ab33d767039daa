"""Plain async factories for test data, and a statement counter.

Each factory adds one row to the given session, flushes and returns it, with Persian defaults
(Tehran, Tajrish) that any keyword overrides. Slugs come from ``unique_slug``, so rows made
with the same title get "-2", "-3".

    async with hub.db.unit_of_work(write=True) as session:
        manager = await make_user(session, role=Role.store_manager)
        store = await make_store(session, manager=manager)
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from hojre.accounts.models import Role, User
from hojre.accounts.service import create_user
from hojre.catalog.models import Bazaar, Mall, Media, Product, Store, StoreSeller
from hojre.catalog.service import slug_insert, unique_slug
from hojre.core import sql
from hojre.core.clock import utcnow
from hojre.core.db import SessionConn
from hojre.core.hub import Hub
from hojre.geo.seed import IRAN_ID
from hojre.interactions.registry import TargetKind
from hojre.interactions.service import CommentInput, NewComment, add_comment
from hojre.media.models import Upload

PASSWORD = "secret1"
# Ids of the geography the migrations load (API.md §2): Tehran province, Tehran, Tajrish.
TEHRAN_STATE = 1
TEHRAN_CITY = 15
TAJRISH_HOOD = 1
DIGITAL_CATEGORY = 1  # a bazaar category the migrations load

# 0935…: a range no other test helper hands out.
_PHONES = itertools.count(1)


def next_cellphone() -> str:
    return f"0935{next(_PHONES):07d}"


async def make_user(
    session: AsyncSession,
    *,
    cellphone: str | None = None,
    role: Role = Role.customer,
    name: str | None = "مریم",
    family: str | None = "احمدی",
    password: str = PASSWORD,
    **profile: Any,
) -> User:
    """An active user (made by ``create_user``, in the session's transaction)."""
    made = await create_user(
        SessionConn(session),
        cellphone=cellphone or next_cellphone(),
        password=password,
        role=role,
        name=name,
        family=family,
        **profile,
    )
    return await session.get_one(User, made.id)


async def _save(
    session: AsyncSession, row: Bazaar | Mall | Store | Product, overrides: dict[str, Any]
) -> None:
    """Flush ``row``, with a unique slug of its title unless a slug was given.

    A slugged row is inserted as the services insert one (``unique_slug`` with
    ``INSERT … ON CONFLICT (slug) DO NOTHING``), in the session's transaction; ``row`` then
    becomes that row of the session, loaded in full."""
    if "slug" in overrides:
        session.add(row)
        await session.flush()
        return
    model = type(row)
    given = vars(row)  # what the factory set; the INSERT fills in the other defaults
    values = {c.key: given[c.key] for c in model.__table__.columns if c.key in given}
    conn = SessionConn(session)
    named = await unique_slug(conn, model, row.title, insert=slug_insert(conn, model, values))
    row.id, row.slug = named.id, named.slug
    make_transient_to_detached(row)
    session.add(row)
    await session.refresh(row)  # the defaults the database and the INSERT filled in


def _place() -> dict[str, Any]:
    return {
        "country_id": IRAN_ID,
        "state_id": TEHRAN_STATE,
        "city_id": TEHRAN_CITY,
        "hood_id": TAJRISH_HOOD,
        "address": "تهران، میدان تجریش، خیابان شهرداری",
        "longitude": "51.4336",
        "latitude": "35.8041",
    }


async def make_bazaar(session: AsyncSession, **overrides: Any) -> Bazaar:
    values: dict[str, Any] = {
        "title": "بازار بزرگ تجریش",
        "category_id": DIGITAL_CATEGORY,
        "description": "بازاری سرپوشیده با صدها حجره.",
        "logo": "img/defaults/bazzarlogo.png",
        "main_image": "img/bazaar/main.jpg",
        "location_image": "img/bazaar/location.jpg",
        **_place(),
        **overrides,
    }
    bazaar = Bazaar(**values)
    await _save(session, bazaar, overrides)
    return bazaar


async def make_mall(
    session: AsyncSession, *, bazaar: Bazaar | None = None, **overrides: Any
) -> Mall:
    values: dict[str, Any] = {
        "title": "پاساژ گلستان",
        "bazaar_id": bazaar.id if bazaar else None,
        "category_id": DIGITAL_CATEGORY,
        "logo": "img/defaults/mallLogo.png",
        "main_image": "img/mall/main.jpg",
        "location_image": "img/mall/location.jpg",
        **_place(),
        **overrides,
    }
    mall = Mall(**values)
    await _save(session, mall, overrides)
    return mall


async def make_store(
    session: AsyncSession,
    *,
    manager: User | None = None,
    bazaar: Bazaar | None = None,
    mall: Mall | None = None,
    parent: Store | None = None,
    **overrides: Any,
) -> Store:
    values: dict[str, Any] = {
        "title": "فروشگاه آوا",
        "manager_id": manager.id if manager else None,
        "bazaar_id": bazaar.id if bazaar else None,
        "mall_id": mall.id if mall else None,
        "parent_id": parent.id if parent else None,
        "category_id": DIGITAL_CATEGORY,
        "phone": "02122712345",
        "about": "فروش و تعمیر گوشی همراه.",
        "logo": "img/defaults/storeLogo.png",
        "main_image": "img/store/main.jpg",
        "certificate_image": "img/defaults/certificateImage.png",
        "store_front_image": "img/defaults/storeFrontImage.png",
        "location_image": "img/defaults/locationimage.png",
        **_place(),
        **overrides,
    }
    store = Store(**values)
    await _save(session, store, overrides)
    return store


async def make_seller(
    session: AsyncSession, store: Store, user: User, **overrides: Any
) -> StoreSeller:
    seller = StoreSeller(store_id=store.id, user_id=user.id, **overrides)
    session.add(seller)
    await session.flush()
    return seller


async def make_product(session: AsyncSession, store: Store, **overrides: Any) -> Product:
    values: dict[str, Any] = {
        "title": "گوشی همراه",
        "store_id": store.id,
        "description": "نو، با گارانتی.",
        "price": 125_000_000,  # rials
        "main_image": "img/product/main.jpg",
        **overrides,
    }
    product = Product(**values)
    await _save(session, product, overrides)
    return product


async def make_media(
    session: AsyncSession, target: TargetKind, target_id: int, **overrides: Any
) -> Media:
    values: dict[str, Any] = {
        "target": target,
        "target_id": target_id,
        "title": "نمای ورودی",
        "source": f"img/{target}/{target_id}.jpg",
        **overrides,
    }
    media = Media(**values)
    session.add(media)
    await session.flush()
    return media


async def make_upload(hub: Hub, *keys: str, used: bool = True) -> None:
    """Uploads under these paths, as if an upload endpoint had made them (rows only: for
    tests of what a record may refer to, not of the bytes); ``used``: some record refers to
    them already, so a first use's extra write does not shift statement counts."""
    now = utcnow()
    async with hub.db.unit_of_work(write=True) as session:
        for key in keys:
            session.add(Upload(key=key, owner_id=None, address="test", content_type="image/png",
                               size=1, width=1, height=1, created_at=now,
                               used_at=now if used else None))  # fmt: skip


async def make_comment(
    session: AsyncSession,
    user: User,
    target: TargetKind,
    target_id: int,
    *,
    text: str = "برخورد فروشنده خوب بود.",
    pros: str | None = None,
    cons: str | None = None,
    score: int | None = None,
) -> NewComment:
    """A visible comment, through the interactions service (so counters follow)."""
    return await add_comment(
        SessionConn(session),
        user_id=user.id,
        target=target,
        target_id=target_id,
        comment=CommentInput(text, pros, cons, score),
    )


# -- statements ------------------------------------------------------------------------------

# Transaction control is the driver's business (SQLite's BEGIN goes through the cursor,
# asyncpg's does not): only statements that read or write count.
_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)\b", re.IGNORECASE)


@contextmanager
def count_statements(hub: Hub) -> Iterator[list[str]]:
    """Collect the SQL statements run on ``hub``'s database inside the block (ORM and
    :mod:`hojre.core.sql` alike).

    ``with count_statements(hub) as sql: ...; assert len(sql) == 2, sql``
    """
    statements: list[str] = []
    engine = hub.db.engine.sync_engine

    def record(
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if not _CONTROL.match(statement):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    sql.statement_listeners.append(statements.append)  # hojre.core.sql's driver-level path
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
        sql.statement_listeners.remove(statements.append)


async def asgi_exchange(app: Any, scope: MutableMapping[str, Any], body: bytes = b"") -> list[Any]:
    """The messages ``app`` sends for one request of ``scope`` whose body is ``body`` (sent in
    one piece), called as a server would, without one: query bytes reach it as written."""
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent
