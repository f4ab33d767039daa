"""``hojre demo``: the demo marketplace's size and shape, counters equal to the rows, every
"my …" list of the demo customer filled, their conversations (chats, messages to stores, offers,
broadcasts) and the named staff's, idempotency, and the same rows from the same seed (compared
across two databases: the backend under test and a reference SQLite file)."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hojre.accounts.models import Role, User
from hojre.catalog.models import Bazaar, Mall, Media, Product, Status, Store, StoreSeller
from hojre.catalog.service import slugify
from hojre.core.db import Database, SessionConn
from hojre.core.hub import Hub
from hojre.core.migrate import upgrade_async
from hojre.core.pagination import PageRequest
from hojre.core.text import normalize_cellphone
from hojre.demo import DEMO_USERS, DemoAccount, DemoDataError, existing_demo, load_demo
from hojre.demo_data.marketplace import BASE_TIME, MARKER_SLUG, demo_cellphone, round_price
from hojre.geo.models import City
from hojre.interactions import service as interactions
from hojre.interactions.models import Comment, Mark, View
from hojre.interactions.registry import (
    CATALOG_TARGETS,
    KINDS,
    MARK_KINDS,
    TARGETS,
    InteractionKind,
    TargetKind,
)
from hojre.media.storage import LocalStore
from hojre.messaging import service as messaging
from hojre.messaging.models import (
    Broadcast,
    Chat,
    ChatMessage,
    ChatStatus,
    MessageStatus,
    Offer,
    StoreMessage,
)
from hojre.web_v1.interactions import LIST_SUFFIX, WIRE_TARGET
from tests.conftest import Api

pytestmark = pytest.mark.anyio

PASSWORD = "hojre-demo"
DEMO_CUSTOMER = "09120000001"
DEMO_SELLER = "09120000003"
DEMO_MANAGER = "09120000004"
PERSIAN = re.compile(r"[\u0600-\u06ff]")
COUNTERS = (*(spec.counter for spec in KINDS.values()), "score_total", "score_count")
CATALOG = (Bazaar, Mall, Store, Product)


def test_helpers() -> None:
    assert round_price(1_253_417) == 1_250_000
    assert round_price(3_456_789_012) == 3_450_000_000
    assert round_price(12_345) == 10_000
    assert round_price(3_000) == 10_000  # never zero
    assert demo_cellphone(Role.store_manager, 1) == "09121600001"
    assert demo_cellphone(Role.customer, 99_999) == "09121899999"
    assert MARKER_SLUG == "بازار-بزرگ-حجره-تهران"


Dump = dict[str, list[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Dump:
    """The demo loaded once into a fresh SQLite database of its own, dumped."""

    async def load() -> Dump:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('demo') / 'reference.db'}"
        await upgrade_async(url)
        db = Database(url)
        media = LocalStore(tmp_path_factory.mktemp("demo-media"))
        try:
            await load_demo(db, PASSWORD, media=media)
            return await dump(db)
        finally:
            await media.aclose()
            await db.dispose()

    return asyncio.run(load())


async def test_demo_marketplace(hub: Hub, api: Api, reference: Dump) -> None:
    started = time.perf_counter()
    accounts = await load_demo(hub.db, PASSWORD, media=hub.media.store)
    # About 7 s on either database (3 s of it drawing the 660 pictures), 20 s seen under a
    # loaded CI machine; the bound only catches a gross slowdown.
    assert time.perf_counter() - started < 45

    async with hub.db.unit_of_work(write=False) as session:
        first_store = await session.scalar(select(func.min(Store.id)))
        await _assert_accounts(session, accounts, first_store)
        await _assert_catalogue(session)
        await _assert_people(session)
        await _assert_counters(session)
        await _assert_demo_customer_lists(session, accounts)
        await _assert_conversations(session, accounts, first_store)
        showcase = {
            "bazzars": await session.scalar(select(Bazaar.id).where(Bazaar.slug == MARKER_SLUG)),
            "malls": await session.scalar(select(func.min(Mall.id))),
            "stores": first_store,
            "products": await session.scalar(
                select(func.min(Product.id)).where(Product.store_id == first_store)
            ),
        }
    await _walk_the_api(api, showcase)

    # Deterministic: the same seed gave the same rows as in the reference database (another
    # SQLite file), ids and timestamps included, whichever database this one is.
    loaded = await dump(hub.db)
    assert loaded.keys() == reference.keys()
    for table, rows in reference.items():
        assert loaded[table] == rows, table
    assert len(loaded["products"]) == 500

    # Idempotent: a second run adds nothing and prints the same accounts.
    assert await load_demo(hub.db, PASSWORD, media=hub.media.store) == accounts
    assert await existing_demo(hub.db, PASSWORD) == accounts
    assert await dump(hub.db) == loaded

    # Last, as opening a chat marks its messages seen.
    await _walk_the_messages(api)


async def test_reserved_cellphone_taken(hub: Hub) -> None:
    """A real account in the demo's number range stops the load, which leaves nothing behind."""
    async with hub.db.unit_of_work(write=True) as session:
        session.add(User(cellphone=demo_cellphone(Role.seller, 3), password_hash="x"))
    with pytest.raises(DemoDataError, match="09121700003"):
        await load_demo(hub.db, PASSWORD, media=hub.media.store)
    async with hub.db.unit_of_work(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
        assert await session.scalar(select(func.count()).select_from(Bazaar)) == 0


# -- the checks ------------------------------------------------------------------------------


async def _assert_accounts(
    session: AsyncSession, accounts: list[DemoAccount], first_store: int | None
) -> None:
    named, staff = accounts[: len(DEMO_USERS)], accounts[len(DEMO_USERS) :]
    assert [a.cellphone for a in named] == [cellphone for cellphone, *_ in DEMO_USERS]
    assert [a.role for a in named] == [
        "customer", "customer", "seller", "store-manager", "admin",
    ]  # fmt: skip
    assert [a.store for a in named] == [None, None, first_store, first_store, None]
    seller, manager = named[2], named[3]
    # Then the rest of the staff of the named manager's store and of one other manager's:
    # two managers of different stores with their sellers, all with the demo password.
    assert {a.role for a in staff} == {"seller", "store-manager"}
    managers = [manager, *(a for a in staff if a.role == "store-manager")]
    assert len(managers) == 2 and len({m.store for m in managers}) == 2
    assert first_store in {m.store for m in managers}
    for staffed in {m.store for m in managers}:
        assert any(a.role == "seller" and a.store == staffed for a in accounts), staffed
    assert {a.password for a in accounts} == {PASSWORD}
    link = await session.scalar(
        select(StoreSeller).where(
            StoreSeller.user_id == seller.id, StoreSeller.store_id == first_store
        )
    )
    assert link is not None and link.status == Status.active
    store = await session.get_one(Store, first_store)
    assert store.manager_id == manager.id
    # The first store has a branch under the same manager.
    branch = await session.scalar(select(Store).where(Store.parent_id == first_store))
    assert branch is not None and branch.manager_id == manager.id


async def _assert_catalogue(session: AsyncSession) -> None:
    bazaars = (await session.scalars(select(Bazaar))).all()
    malls = (await session.scalars(select(Mall))).all()
    stores = (await session.scalars(select(Store))).all()
    products = (await session.scalars(select(Product))).all()
    assert len(bazaars) >= 10
    assert len(malls) == 10
    assert len(stores) == 100
    assert len(products) == 500
    assert len({b.category_id for b in bazaars}) >= 5

    cities = {
        row.id: row.title
        for row in (await session.execute(select(City.id, City.title))).all()
        if row.id in {b.city_id for b in bazaars}
    }
    assert sorted(cities.values()) == sorted(["تهران", "اصفهان"])
    titles = {b.id: b for b in bazaars}
    places: list[Bazaar | Mall | Store] = [*bazaars, *malls, *stores]
    for place in places:
        assert place.status == Status.active
        assert PERSIAN.search(place.title), place.title
        assert place.city_id in cities and place.hood_id is not None
        if isinstance(place, Store):  # opened as store-register opens one: the title's slug
            assert re.fullmatch(re.escape(slugify(place.title)) + "(-[0-9]+)?", place.slug)
        else:
            assert place.slug.endswith("-" + slugify(cities[place.city_id])), place.slug
        assert place.address and PERSIAN.search(place.address)
        assert place.logo.startswith("img/demo/") and place.main_image.startswith("img/demo/")
        assert place.created_at < BASE_TIME and place.updated_at == place.created_at
    for mall in malls:
        assert mall.bazaar_id in titles
        assert mall.city_id == titles[mall.bazaar_id].city_id
    assert {m.id for m in malls} == {s.mall_id for s in stores if s.mall_id is not None}
    assert all(s.manager_id is not None for s in stores)
    assert sum(s.parent_id is not None for s in stores) >= 1

    store_ids = {s.id for s in stores}
    for product in products:
        assert product.store_id in store_ids
        assert product.price > 0 and product.price % 10_000 == 0
        assert PERSIAN.search(product.title) and product.description
        assert product.main_image.startswith("img/demo/product-")
        assert product.created_at < BASE_TIME - timedelta(days=90)  # before any interaction
    per_store = Counter(p.store_id for p in products)
    assert set(per_store) == store_ids

    media = Counter(
        (row.target, row.target_id)
        for row in (await session.execute(select(Media.target, Media.target_id))).all()
    )
    for kind, rows in (
        (TargetKind.bazaar, bazaars),
        (TargetKind.mall, malls),
        (TargetKind.store, stores),
        (TargetKind.product, products),
    ):
        assert all(media[(kind.value, row.id)] >= 1 for row in rows), kind


async def _assert_people(session: AsyncSession) -> None:
    users = (await session.scalars(select(User))).all()
    named = {cellphone for cellphone, *_ in DEMO_USERS}
    generated = [u for u in users if u.cellphone not in named]
    assert len(generated) > 300
    for user in generated:
        assert normalize_cellphone(user.cellphone) == user.cellphone
        assert user.cellphone.startswith("09121")
        assert user.is_active and user.name and user.family
        assert user.created_at < BASE_TIME - timedelta(days=90)
        assert user.cellphone[5] == str(user.role % 10)  # 091216… managers, 7 sellers, 8 customers
    roles = {u.id: u.role for u in users}
    stores = (await session.scalars(select(Store))).all()
    assert all(roles[s.manager_id] == Role.store_manager for s in stores if s.manager_id)
    sellers = (
        await session.scalars(select(StoreSeller).where(StoreSeller.status == Status.active))
    ).all()
    per_store = Counter(link.store_id for link in sellers)
    assert {s.id for s in stores} == set(per_store)
    assert all(1 <= n <= 5 for n in per_store.values()), per_store
    assert all(roles[link.user_id] == Role.seller for link in sellers)
    assert sum(role == Role.customer for role in roles.values()) >= 50


async def _assert_counters(session: AsyncSession) -> None:
    """Every counter of every target equals what its rows say."""
    totals: Counter[str] = Counter()
    for target in CATALOG_TARGETS:
        model = TARGETS[target].model
        actual = {
            row.id: {column: getattr(row, column) for column in COUNTERS}
            for row in (await session.scalars(select(model))).all()
        }
        expected = {target_id: dict.fromkeys(COUNTERS, 0) for target_id in actual}
        marks = await session.execute(
            select(Mark.target_id, Mark.kind, func.count())
            .where(Mark.target == target)
            .group_by(Mark.target_id, Mark.kind)
        )
        for target_id, kind, n in marks:
            expected[target_id][KINDS[InteractionKind(kind)].counter] = n
        views = await session.execute(
            select(View.target_id, func.sum(View.count))
            .where(View.target == target)
            .group_by(View.target_id)
        )
        for target_id, n in views:
            expected[target_id][KINDS[InteractionKind.view].counter] = n
        comments = await session.execute(
            select(
                Comment.target_id,
                func.count(),
                func.coalesce(func.sum(Comment.score), 0),
                func.count(Comment.score),
            )
            .where(Comment.target == target, Comment.visible.is_(True))
            .group_by(Comment.target_id)
        )
        for target_id, n, score_total, score_count in comments:
            expected[target_id].update(
                comments_count=n, score_total=int(score_total or 0), score_count=score_count
            )
        assert actual == expected, target
        for counters in actual.values():
            totals.update(counters)
    # Enough of everything to look alive.
    assert totals["viewed"] >= 500 and totals["liked"] >= 100
    assert totals["disliked"] >= 10 and totals["favorite_count"] >= 30
    assert totals["notification_count"] >= 20 and totals["comments_count"] >= 50
    hidden = await session.scalar(select(func.count()).where(Comment.visible.is_(False)))
    assert hidden  # moderation hid a few: the counters leave them out


async def _assert_demo_customer_lists(session: AsyncSession, accounts: list[DemoAccount]) -> None:
    by_phone = {a.cellphone: a for a in accounts}
    customer = by_phone[DEMO_CUSTOMER].id
    page = PageRequest(per_page=50)
    for target in CATALOG_TARGETS:
        for kind in (*MARK_KINDS, InteractionKind.view):
            listed = await interactions.list_activity(
                SessionConn(session), user_id=customer, target=target, kind=kind, page=page
            )
            assert listed.total >= 1, (target, kind)
            assert all(item.title and item.image for item in listed.items), (target, kind)
            assert all(item.date < BASE_TIME for item in listed.items), (target, kind)
    for target in TargetKind:
        comments = await interactions.list_comments(
            SessionConn(session), target=target, user_id=customer, page=page
        )
        assert comments.total >= 1, target
        for item in comments.items:
            assert PERSIAN.search(item.text) and (item.pros or item.cons)
            assert item.author_name == "مریم"
    # The named seller and store manager have comments of their own (the "user" target).
    for cellphone in ("09120000003", "09120000004"):
        about = await interactions.list_comments(
            SessionConn(session),
            target=TargetKind.user,
            target_id=by_phone[cellphone].id,
            page=page,
        )
        assert about.total >= 1, cellphone


async def _assert_conversations(
    session: AsyncSession, accounts: list[DemoAccount], first_store: int | None
) -> None:
    """Chats, messages to stores, offers and broadcasts: well formed, before BASE_TIME, and
    some of each for the demo customer and the named staff of the first store."""
    by_phone = {a.cellphone: a.id for a in accounts}
    customer, seller = by_phone[DEMO_CUSTOMER], by_phone[DEMO_SELLER]
    manager = await session.get_one(User, by_phone[DEMO_MANAGER])
    page = PageRequest(per_page=100)

    chats = (await session.scalars(select(Chat).order_by(Chat.id))).all()
    lines: dict[int, list[ChatMessage]] = {chat.id: [] for chat in chats}
    for message in await session.scalars(select(ChatMessage).order_by(ChatMessage.id)):
        lines[message.chat_id].append(message)
    for chat in chats:
        said = lines[chat.id]
        assert 2 <= len(said) <= 8, chat.id
        assert all(PERSIAN.search(m.text) for m in said)
        times = [m.created_at for m in said]
        assert chat.created_at < times[0] and times == sorted(times) and times[-1] < BASE_TIME
        assert {m.sender_id for m in said} <= {chat.customer_id, chat.seller_id}
        assert said[0].sender_id == chat.customer_id
        answered = any(m.sender_id == chat.seller_id for m in said)
        assert answered == (chat.status != ChatStatus.pending), chat.id
        if chat.status == ChatStatus.finished:
            assert chat.finished_at is not None and times[-1] < chat.finished_at < BASE_TIME
            assert all(m.status == MessageStatus.seen for m in said)
        else:
            assert chat.finished_at is None
    assert {chat.status for chat in chats} == set(ChatStatus)
    assert len({chat.customer_id for chat in chats}) >= 10  # generated customers chat too
    assert len({chat.store_id for chat in chats}) >= 10

    mine = [chat for chat in chats if chat.customer_id == customer]
    assert {chat.status for chat in mine} == set(ChatStatus)
    assert any(c.store_id == first_store and c.seller_id == seller for c in mine)
    assert len({chat.store_id for chat in mine}) >= 3
    listed = await messaging.list_chats(SessionConn(session), user_id=customer, page=page)
    assert listed.total == len(mine) and any(item.unread for item in listed.items)
    for staff in (seller, manager.id):
        listed = await messaging.list_chats(SessionConn(session), user_id=staff, page=page)
        assert listed.total >= 3 and {item.store_id for item in listed.items} == {first_store}

    notes = (await session.scalars(select(StoreMessage))).all()
    managers = {
        row.id: row.manager_id for row in await session.execute(select(Store.id, Store.manager_id))
    }
    for note in notes:
        assert PERSIAN.search(note.title) and PERSIAN.search(note.text)
        assert note.created_at < BASE_TIME
        if note.answer is not None:
            assert PERSIAN.search(note.answer) and note.read
            assert note.answered_by == managers[note.store_id]
            assert note.answered_at is not None
            assert note.created_at < note.answered_at < BASE_TIME
    my_notes = [note for note in notes if note.user_id == customer]
    assert any(n.store_id == first_store and n.answered_by == manager.id for n in my_notes)
    assert any(note.answer is None for note in my_notes)
    to_manager = await messaging.list_store_messages_for_manager(
        SessionConn(session), manager=manager, page=page
    )
    assert to_manager.total >= 2

    offers = (await session.scalars(select(Offer))).all()
    staff_of = {
        (row.store_id, row.user_id)
        for row in (await session.execute(select(StoreSeller.store_id, StoreSeller.user_id)))
    } | set(managers.items())
    for offer in offers:
        assert PERSIAN.search(offer.text) and offer.created_at < BASE_TIME
        assert (offer.store_id, offer.sender_id) in staff_of
        assert await messaging.has_interacted(
            SessionConn(session), user_id=offer.user_id, store_id=offer.store_id
        )
    my_offers = [offer for offer in offers if offer.user_id == customer]
    assert {offer.sender_id for offer in my_offers} >= {seller, manager.id}
    assert len({offer.store_id for offer in my_offers}) >= 2
    from_store = await messaging.list_store_offers(SessionConn(session), manager=manager, page=page)
    assert from_store.total >= 2
    assert len(offers) >= 20

    broadcasts = (await session.scalars(select(Broadcast))).all()
    assert {b.role for b in broadcasts} == {None, Role.customer, Role.seller, Role.store_manager}
    admin = by_phone["09120000005"]
    assert all(b.show and b.user_id == admin and b.day < BASE_TIME.date() for b in broadcasts)
    assert all(b.created_at < BASE_TIME and PERSIAN.search(b.text) for b in broadcasts)


async def _walk_the_api(api: Api, showcase: dict[str, int | None]) -> None:
    """What the apps see: every list the demo customer opens has items."""
    login = await api.post("/user/login", username=DEMO_CUSTOMER, password=PASSWORD)
    assert login["message"] == "Login Success", login
    auth = {"username": DEMO_CUSTOMER, "token": login["data"]["token"]}
    for target in TargetKind:
        wire = WIRE_TARGET[target]
        kinds = [InteractionKind.comment]
        if target is not TargetKind.user:
            kinds += [*MARK_KINDS, InteractionKind.view]
        for kind in kinds:
            path = f"/{wire}-user-{LIST_SUFFIX[kind]}"
            body = await api.get(path, **auth)
            assert body["_meta"]["totalCount"] >= 1 and body["items"], (path, body)
    for path, at_least in (
        ("/bazzar-categories", 8), ("/bazzars", 10), ("/malls", 10), ("/stores", 100),
        ("/products", 500),
    ):  # fmt: skip
        body = await api.get(path)
        assert body["_meta"]["totalCount"] >= at_least, path
    parts = {
        "bazzars": ("bazzarMedia", "bazzarUserComments", "malls", "stores"),
        "malls": ("mallMedia", "mallUserComments", "stores"),
        "stores": ("storeMedia", "storeUserComments", "storeSellers", "stores"),
        "products": ("productMedia", "productUserComments"),
    }
    for path, keys in parts.items():
        body = await api.get(f"/{path}/{showcase[path]}")
        for key in keys:
            assert body[key], (path, key, body)


async def _login(api: Api, cellphone: str) -> dict[str, str]:
    login = await api.post("/user/login", username=cellphone, password=PASSWORD)
    assert login["message"] == "Login Success", login
    return {"username": cellphone, "token": login["data"]["token"]}


async def _walk_the_messages(api: Api) -> None:
    """What the apps see: the demo customer's, seller's and manager's messaging lists."""
    customer = await _login(api, DEMO_CUSTOMER)
    chats = await api.get("/chats", **customer)
    assert {chat["status"] for chat in chats["items"]} == {"pending", "chatting", "finished"}
    unread = next(chat for chat in chats["items"] if chat["unread"])
    said = await api.get("/main-chats", id=unread["id"], **customer)
    assert said["items"] and all(PERSIAN.search(m["text"]) for m in said["items"]), said
    chats = await api.get("/chats", **customer)
    assert next(c for c in chats["items"] if c["id"] == unread["id"])["unread"] == 0
    notes = await api.get("/store-messages", **customer)
    assert {note["status"] for note in notes["items"]} == {"answered", "pending"}, notes
    offers = await api.get("/offers", **customer)
    assert offers["items"] and all(o["storeName"] for o in offers["items"]), offers
    for auth, role in (
        (customer, Role.customer),
        (await _login(api, DEMO_SELLER), Role.seller),
        (await _login(api, DEMO_MANAGER), Role.store_manager),
    ):
        broadcasts = await api.get("/broadcasts", **auth)
        assert {b["role"] for b in broadcasts["items"]} == {None, role}, broadcasts
        if role is not Role.customer:
            chats = await api.get("/chats", **auth)
            assert chats["_meta"]["totalCount"] >= 3 and chats["items"], chats
    manager = await _login(api, DEMO_MANAGER)
    for path in ("/store-manager/store-messages", "/store-manager/offers"):
        body = await api.post(path, **manager)
        assert body["status"] == "success" and int(body["totalCount"]) >= 2, (path, body)
        assert body["data"], (path, body)


# -- a dump of what the demo wrote, for comparing two loads -----------------------------------


async def dump(db: Database) -> Dump:
    """The demo's rows, ordered by id (the named users' own timestamps left out)."""
    tables: dict[str, Any] = {
        "users": select(
            User.id, User.cellphone, User.role, User.name, User.family, User.hood_id, User.avatar
        ),
        "bazaars": select(
            Bazaar.id, Bazaar.title, Bazaar.slug, Bazaar.category_id, Bazaar.city_id,
            Bazaar.address, Bazaar.description, Bazaar.created_at, Bazaar.updated_at,
        ),
        "malls": select(Mall.id, Mall.title, Mall.slug, Mall.bazaar_id, Mall.created_at),
        "stores": select(
            Store.id, Store.title, Store.slug, Store.manager_id, Store.parent_id,
            Store.bazaar_id, Store.mall_id, Store.phone, Store.about, Store.created_at,
        ),
        "store_sellers": select(StoreSeller.store_id, StoreSeller.user_id, StoreSeller.created_at),
        "products": select(
            Product.id, Product.store_id, Product.title, Product.slug, Product.price,
            Product.description, Product.created_at, Product.updated_at,
        ),
        "media": select(Media.target, Media.target_id, Media.source, Media.title),
        "marks": select(Mark.id, Mark.user_id, Mark.target, Mark.target_id, Mark.kind,
                        Mark.created_at),
        "views": select(View.id, View.user_id, View.target, View.target_id, View.count,
                        View.viewed_at),
        "comments": select(
            Comment.id, Comment.user_id, Comment.target, Comment.target_id, Comment.text,
            Comment.pros, Comment.cons, Comment.score, Comment.visible, Comment.created_at,
        ),
        "chats": select(Chat.id, Chat.customer_id, Chat.store_id, Chat.seller_id, Chat.status,
                        Chat.created_at, Chat.finished_at),
        "chat_messages": select(ChatMessage.id, ChatMessage.chat_id, ChatMessage.sender_id,
                                ChatMessage.text, ChatMessage.status, ChatMessage.created_at),
        "store_messages": select(
            StoreMessage.id, StoreMessage.user_id, StoreMessage.store_id, StoreMessage.title,
            StoreMessage.text, StoreMessage.attachment, StoreMessage.read, StoreMessage.answer,
            StoreMessage.answer_attachment, StoreMessage.answered_by, StoreMessage.answered_at,
            StoreMessage.created_at,
        ),
        "offers": select(Offer.id, Offer.user_id, Offer.store_id, Offer.sender_id, Offer.text,
                         Offer.read, Offer.created_at),
        "broadcasts": select(Broadcast.id, Broadcast.title, Broadcast.text, Broadcast.user_id,
                             Broadcast.role, Broadcast.day, Broadcast.show, Broadcast.created_at),
        **{
            f"{model.__tablename__}_counters": select(
                model.id, *(getattr(model, column) for column in COUNTERS)
            )
            for model in CATALOG
        },
    }  # fmt: skip
    out: Dump = {}
    async with db.unit_of_work(write=False) as session:
        for name, query in tables.items():
            rows = (await session.execute(query)).all()
            out[name] = sorted(tuple(row) for row in rows)
    return out
