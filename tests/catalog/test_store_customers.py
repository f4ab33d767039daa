"""A store's physical and virtual customers (API.md §5): ``physical-customers`` and
``virtual-customers`` under ``/web/store-manager/`` and ``/web/seller/``.

A physical customer reported a location (``x``/``y`` of a logged-in request) within the
radius of the store's point; a virtual one liked, favourited, viewed or commented on the store
or one of its products, chatted with its staff or wrote to it, and was never there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from hojre.accounts.models import Role
from hojre.catalog.models import Status, Store
from hojre.core import clock
from hojre.core.hub import Hub
from hojre.core.migrate import upgrade_async
from hojre.customers.models import StoreCustomer, StorePoint
from tests.catalog.test_statistics import manager_of
from tests.conftest import Api, app_client
from tests.factories import count_statements, make_product
from tests.messaging.conftest import Cast, Person, Shop, err

pytestmark = pytest.mark.anyio

SIDES = ("/store-manager", "/seller")
REFUSAL = {"/store-manager": err("You are not store manager"), "/seller": err("You are not seller")}
ITEM_KEYS = {"id", "name", "family", "avatar", "lastSeen", "visits"}
# The store's point: Tehran, Tajrish. A degree of latitude is 111,195 m: 1e-4 is 11 m.
LAT, LON = 35.8040, 51.4330
NEAR = 1e-4  # 11 m, in the store (radius 50 m)
FAR = 1e-3  # 111 m


class Clock:
    """``hojre.core.clock.utcnow`` moved on by ``shift`` (the customers service reads it)."""

    def __init__(self, real: Callable[[], datetime]) -> None:
        self.real = real
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return self.real() + self.shift


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock(clock.utcnow)
    monkeypatch.setattr(clock, "utcnow", fake)
    yield fake


def staff(shop: Shop, side: str) -> Person:
    return manager_of(shop) if side == "/store-manager" else shop.seller


async def place(hub: Hub, store_id: int, lat: float | str, lon: float | str) -> None:
    """Set the store's coordinates as the wire's strings (the point follows by trigger)."""
    async with hub.db.unit_of_work(write=True) as session:
        await session.execute(
            update(Store).where(Store.id == store_id).values(latitude=str(lat), longitude=str(lon))
        )


async def placed_shop(cast: Cast, lat: float = LAT, lon: float = LON, **kwargs: Any) -> Shop:
    shop = await cast.shop(**kwargs)
    await place(cast.hub, shop.id, lat, lon)
    return shop


async def point(hub: Hub, store_id: int) -> tuple[float, float] | None:
    async with hub.db.unit_of_work(write=False) as session:
        row = (await session.execute(
            select(StorePoint.latitude, StorePoint.longitude).where(StorePoint.store_id == store_id)
        )).first()  # fmt: skip
    return None if row is None else (row[0], row[1])


async def rows(hub: Hub, store_id: int) -> dict[int, tuple[int, bool]]:
    """The store's customers: user → (visits, ever at the store)."""
    async with hub.db.unit_of_work(write=False) as session:
        found = await session.execute(
            select(StoreCustomer.user_id, StoreCustomer.visits, StoreCustomer.last_visit_at)
            .where(StoreCustomer.store_id == store_id)
        )  # fmt: skip
        return {r[0]: (r[1], r[2] is not None) for r in found}


async def at(person: Person, lat: float, lon: float = LON) -> None:
    """A logged-in request carrying the person's location."""
    body = await person.get("/users", x=str(lon), y=str(lat))
    assert len(body["items"]) == 1, body


def customers(items: list[dict[str, Any]], kind: str, *, page: int = 1, per_page: int = 300,
              total: int | None = None) -> dict[str, Any]:  # fmt: skip
    total = len(items) if total is None else total
    return {
        "status": "success", "message": f"{kind} customers", "totalCount": str(total),
        "totalPages": -(-total // per_page), "page": page, "perPage": per_page, "data": items,
    }  # fmt: skip


def item(person: Person, visits: int, last_seen: int | None = None,
         avatar: str = "img/avatars/customer.png") -> dict[str, Any]:  # fmt: skip
    found = {"id": person.id, "name": person.name, "family": person.family, "avatar": avatar,
             "visits": visits}  # fmt: skip
    if last_seen is not None:
        found["lastSeen"] = last_seen
    return found


async def listed(person: Person, side: str, kind: str, **params: Any) -> dict[str, Any]:
    body = await person.post(f"{side}/{kind}-customers", **params)
    assert body["status"] == "success" and body["message"] == f"{kind} customers", body
    for entry in body["data"]:
        assert set(entry) == ITEM_KEYS, entry
        assert isinstance(entry["lastSeen"], int) and isinstance(entry["visits"], int)
    return dict(body)


def without_seen(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "data": [{k: v for k, v in e.items() if k != "lastSeen"} for e in body["data"]]}


# -- the store's point -----------------------------------------------------------------------


async def test_the_point_follows_the_stores_coordinates(cast: Cast) -> None:
    shop = await cast.shop()
    assert await point(cast.hub, shop.id) is None  # no coordinates: ""
    await place(cast.hub, shop.id, LAT, LON)
    assert await point(cast.hub, shop.id) == (LAT, LON)
    await place(cast.hub, shop.id, " 35.5 ", "-51.25")
    assert await point(cast.hub, shop.id) == (35.5, -51.25)
    for lat, lon in (("", "51.4"), ("abc", "51.4"), ("95", "51.4"), ("35.7", "181"),
                     ("35.7", "5x1")):  # fmt: skip
        await place(cast.hub, shop.id, lat, lon)
        assert await point(cast.hub, shop.id) is None, (lat, lon)
    # A store made with its coordinates has its point at once.
    async with cast.hub.db.unit_of_work(write=True) as session:
        store = Store(title="شعبه", slug="point-branch", logo="l", main_image="m",
                      certificate_image="c", store_front_image="f", location_image="x",
                      latitude="35.1", longitude="51.1")  # fmt: skip
        session.add(store)
        await session.flush()
        made = store.id
    assert await point(cast.hub, made) == (35.1, 51.1)


# -- physical customers ----------------------------------------------------------------------


@pytest.mark.parametrize("side", SIDES)
async def test_a_customer_at_the_store_is_physical(
    cast: Cast, fake_clock: Clock, side: str
) -> None:
    shop = await placed_shop(cast)
    customer = await cast.customer()
    assert await listed(staff(shop, side), side, "physical") == customers([], "physical")
    before = clock.unix_now()
    await at(customer, LAT + NEAR)
    body = await listed(staff(shop, side), side, "physical")
    assert without_seen(body) == customers([item(customer, 1)], "physical")
    assert before <= body["data"][0]["lastSeen"] <= clock.unix_now() + 1
    # Moving about in the store within the gap: the same visit.
    await at(customer, LAT - NEAR)
    await at(customer, LAT, LON + NEAR)
    assert (await rows(cast.hub, shop.id))[customer.id] == (1, True)
    # Away, and back after the gap: a second visit, seen later.
    await at(customer, LAT + FAR)
    fake_clock.shift = timedelta(hours=1, minutes=1)
    await at(customer, LAT + NEAR)
    body = await listed(staff(shop, side), side, "physical")
    assert without_seen(body) == customers([item(customer, 2)], "physical")
    assert body["data"][0]["lastSeen"] >= before + 3600
    assert await listed(staff(shop, side), side, "virtual") == customers([], "virtual")


async def test_far_away_wrong_and_repeated_locations_are_no_visit(cast: Cast) -> None:
    shop = await placed_shop(cast)
    customer = await cast.customer()
    for lat, lon in ((LAT + FAR, LON), (LAT, LON + 2 * FAR), (LAT + 6e-4, LON)):  # 67 m
        await at(customer, lat, lon)
    for x, y in (("abc", "35.8"), ("200", "35.8"), ("51.4", "")):  # not a location at all
        await customer.get("/users", x=x, y=y)
    assert await rows(cast.hub, shop.id) == {}
    # Persian digits are a location too.
    await customer.get("/users", x=str(LON).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")),
                       y=str(LAT))  # fmt: skip
    assert await rows(cast.hub, shop.id) == {customer.id: (1, True)}


async def test_the_stores_staff_are_not_its_customers(cast: Cast) -> None:
    shop = await placed_shop(cast)
    other = await placed_shop(cast, LAT + NEAR / 2)  # next door
    away = await placed_shop(cast, LAT + 1)
    product = await product_of(cast, shop, "staff-own-product")
    staff_of_shop = (manager_of(shop), shop.seller)
    for person in staff_of_shop:
        await at(person, LAT)
        for target, target_id in (("store", shop.id), ("product", product), ("store", away.id)):
            body = await person.post("/user/add-like", target=target, id=str(target_id))
            assert body["status"] == "success", body
    # Staff of one store are customers of the others: at the store next door, in the app
    # for the one away.
    assert await rows(cast.hub, shop.id) == {}
    assert await rows(cast.hub, other.id) == {p.id: (1, True) for p in staff_of_shop}
    assert await rows(cast.hub, away.id) == {p.id: (0, False) for p in staff_of_shop}


async def test_two_stores_in_the_radius_are_both_visited(cast: Cast) -> None:
    shops = [await placed_shop(cast), await placed_shop(cast, LAT + 2 * NEAR)]
    far = await placed_shop(cast, LAT + 10 * NEAR)
    customer = await cast.customer()
    await at(customer, LAT + NEAR)
    for shop in shops:
        assert await rows(cast.hub, shop.id) == {customer.id: (1, True)}
    assert await rows(cast.hub, far.id) == {}


# -- virtual customers -----------------------------------------------------------------------


async def product_of(cast: Cast, shop: Shop, slug: str) -> int:
    async with cast.hub.db.unit_of_work(write=True) as session:
        store = await session.get(Store, shop.id)
        assert store is not None
        return (await make_product(session, store, slug=slug)).id


async def contacts(cast: Cast, shop: Shop, product: int) -> list[Callable[[Person], Any]]:
    """Each a way of coming in touch with ``shop`` through the app."""
    store = str(shop.id)

    async def chat(person: Person) -> None:
        body = await person.post("/user/start-chat", store=store)
        assert body["status"] == "success", body
        sent = await person.post("/user/send-chat-message", id=str(body["data"]["id"]), text="سلام")
        assert sent["status"] == "success", sent

    async def mark(person: Person, kind: str, target: str, target_id: int | str) -> None:
        body = await person.post(f"/user/add-{kind}", target=target, id=str(target_id))
        assert body["status"] == "success", body

    async def comment(person: Person, target: str, target_id: int | str) -> None:
        body = await person.post("/user/add-comment", target=target, id=str(target_id),
                                 text="خیلی خوب بود")  # fmt: skip
        assert body["status"] == "success", body

    async def message(person: Person) -> None:
        body = await person.post("/user/submit-store-message", store=store, title="سوال",
                                 text="ساعت کاری؟")  # fmt: skip
        assert body["status"] == "success", body

    return [
        lambda p: mark(p, "like", "store", store),
        lambda p: mark(p, "favorite", "store", store),
        lambda p: mark(p, "view", "store", store),
        lambda p: comment(p, "store", store),
        lambda p: mark(p, "like", "product", product),
        lambda p: mark(p, "favorite", "product", product),
        lambda p: mark(p, "view", "product", product),
        lambda p: comment(p, "product", product),
        chat,
        message,
    ]


@pytest.mark.parametrize("side", SIDES)
async def test_customers_in_touch_through_the_app_are_virtual(cast: Cast, side: str) -> None:
    shop = await placed_shop(cast)
    product = await product_of(cast, shop, f"customers-product-{side[1:]}")
    ways = await contacts(cast, shop, product)
    people = [await cast.customer(name=f"مشتری{i}") for i in range(len(ways))]
    for person, way in zip(people, ways, strict=True):
        await way(person)
    body = await listed(staff(shop, side), side, "virtual")
    # The latest contact first.
    assert without_seen(body) == customers([item(p, 0) for p in reversed(people)], "virtual")
    seen = [entry["lastSeen"] for entry in body["data"]]
    assert seen == sorted(seen, reverse=True)
    assert await listed(staff(shop, side), side, "physical") == customers([], "physical")
    # One who comes to the store is physical only.
    await at(people[0], LAT)
    assert [e["id"] for e in (await listed(staff(shop, side), side, "physical"))["data"]] == [
        people[0].id
    ]
    assert [e["id"] for e in (await listed(staff(shop, side), side, "virtual"))["data"]] == [
        p.id for p in reversed(people[1:])
    ]
    # Touching the store again keeps the visits.
    await people[0].post("/user/add-view", target="product", id=str(product))
    assert (await rows(cast.hub, shop.id))[people[0].id] == (1, True)


async def test_a_dislike_a_follow_or_another_target_is_no_contact(cast: Cast) -> None:
    shop = await placed_shop(cast)
    customer = await cast.customer()
    for kind in ("dislike", "notification"):
        body = await customer.post(f"/user/add-{kind}", target="store", id=str(shop.id))
        assert body["status"] == "success", body
    assert await rows(cast.hub, shop.id) == {}
    # A repeated like writes nothing new, and the store's side answering is no contact.
    like = {"target": "store", "id": str(shop.id)}
    await customer.post("/user/add-like", **like)
    with count_statements(cast.hub) as sql:
        await customer.post("/user/add-like", **like)
    assert not [s for s in sql if "store_customers" in s], sql
    chat = await customer.post("/user/start-chat", store=str(shop.id))
    with count_statements(cast.hub) as sql:
        body = await shop.seller.post("/user/send-chat-message", id=str(chat["data"]["id"]),
                                      text="بفرمایید")  # fmt: skip
    assert body["status"] == "success", body
    assert not [s for s in sql if "store_customers" in s], sql
    assert set(await rows(cast.hub, shop.id)) == {customer.id}


# -- who may see them, paging, statements ----------------------------------------------------


@pytest.mark.parametrize("kind", ["physical", "virtual"])
async def test_refusals(cast: Cast, kind: str) -> None:
    shop, other = await placed_shop(cast), await placed_shop(cast)
    customer = await cast.customer()
    await customer.post("/user/add-like", target="store", id=str(other.id))
    await at(customer, LAT)
    manager, seller = manager_of(shop), shop.seller
    dismissed = await cast.add_seller(shop, status=Status.inactive)
    jobless = await cast.manager()
    for person, side in ((customer, "/store-manager"), (seller, "/store-manager"),
                         (jobless, "/store-manager"), (customer, "/seller"),
                         (dismissed, "/seller"), (jobless, "/seller")):  # fmt: skip
        assert await person.post(f"{side}/{kind}-customers") == REFUSAL[side], (person, side)
    # Another store's id, an unknown one, not a number: refused the same way.
    for side, person in (("/store-manager", manager), ("/seller", seller)):
        for wrong in (other.id, 999_999, "abc", "-1"):
            assert await person.post(f"{side}/{kind}-customers", store=wrong) == REFUSAL[side]
        assert (await listed(person, side, kind, store=shop.id))["totalCount"] == (
            "1" if kind == "physical" else "0"
        )


async def test_store_picks_one_of_the_callers_stores(cast: Cast) -> None:
    shop, second = await placed_shop(cast), await placed_shop(cast, LAT + 1)
    manager = manager_of(shop)
    async with cast.hub.db.unit_of_work(write=True) as session:
        await session.execute(update(Store).where(Store.id == second.id)
                              .values(manager_id=manager.id))  # fmt: skip
    customer = await cast.customer()
    await at(customer, LAT + 1)
    assert (await listed(manager, "/store-manager", "physical"))["totalCount"] == "0"
    body = await listed(manager, "/store-manager", "physical", store=second.id)
    assert [e["id"] for e in body["data"]] == [customer.id]


async def test_paging(cast: Cast) -> None:
    shop = await placed_shop(cast)
    manager = manager_of(shop)
    people = [await cast.customer(name=f"مشتری{i}") for i in range(5)]
    for person in people:
        await person.post("/user/add-like", target="store", id=str(shop.id))
    newest = [p.id for p in reversed(people)]
    for size in ("perPage", "per-page", "pageSize"):
        body = await listed(manager, "/store-manager", "virtual", page="2", **{size: "2"})
        assert without_seen(body) == customers(
            [item(p, 0) for p in reversed(people[1:3])], "virtual", page=2, per_page=2, total=5
        ), size
    # perPage and per-page win over pageSize; past the end: no items, the real total.
    body = await listed(manager, "/store-manager", "virtual", perPage="3", pageSize="1")
    assert [e["id"] for e in body["data"]] == newest[:3]
    body = await listed(manager, "/store-manager", "virtual", page="9", perPage="2")
    assert body == customers([], "virtual", page=9, per_page=2, total=5)
    body = await listed(manager, "/store-manager", "virtual", page="۲", perPage="۴")
    assert [e["id"] for e in body["data"]] == newest[4:]
    # Defaults: the whole list.
    assert [e["id"] for e in (await listed(manager, "/store-manager", "virtual"))["data"]] == newest


async def test_statements_are_constant_in_the_number_of_customers(cast: Cast) -> None:
    await cast.customer()  # warm the pool
    counts: list[tuple[int, ...]] = []
    for n in (1, 4):
        shops = [await placed_shop(cast, LAT + 2 * NEAR * i) for i in range(n)]
        shop = shops[0]
        manager = manager_of(shop)
        people = [await cast.customer() for _ in range(n)]
        for person in people:
            await person.post("/user/add-like", target="store", id=str(shop.id))
        run: list[int] = []
        for kind, params in (("virtual", {}), ("physical", {}), ("virtual", {"page": "9"})):
            with count_statements(cast.hub) as sql:
                body = await manager.post(f"/store-manager/{kind}-customers", **params)
            assert body["status"] == "success", body
            run.append(len(sql))
        assert len((await listed(manager, "/store-manager", "virtual"))["data"]) == n
        # A location near all n stores: one statement visits them all.
        walker = people[0]
        with count_statements(cast.hub) as sql:
            await at(walker, LAT + NEAR * (n - 1))
        visits = [s for s in sql if "store_customers" in s]
        assert len(visits) == 1, sql
        for each in shops:
            assert (await rows(cast.hub, each.id))[walker.id] == (1, True)
        run.append(len(sql))
        # A like: the one upsert more.
        with count_statements(cast.hub) as sql:
            await walker.post("/user/add-favorite", target="store", id=str(shop.id))
        assert len([s for s in sql if "store_customers" in s]) == 1, sql
        run.append(len(sql))
        counts.append(tuple(run))
    # The login, then: the store and the page; the store, the empty page and its count (twice).
    # The location: the login, the user's location, the visit. The favourite: the upsert more.
    assert counts[0] == counts[1], counts
    assert counts[0][:4] == (3, 4, 4, 3), counts
    customer = await cast.customer()
    with count_statements(cast.hub) as sql:
        assert await customer.post("/store-manager/physical-customers") == REFUSAL["/store-manager"]
    assert len(sql) == 1, sql


async def test_an_avatar_never_set_reads_the_default(cast: Cast) -> None:
    shop = await placed_shop(cast)
    customer = await cast._user(Role.customer, "مینا", "رضوی", None)
    await customer.post("/user/add-like", target="store", id=str(shop.id))
    body = await listed(manager_of(shop), "/store-manager", "virtual")
    assert body["data"] == [{**item(customer, 0, avatar="img/defaults/avatars/51.png"),
                             "lastSeen": body["data"][0]["lastSeen"]}]  # fmt: skip


# -- PostgreSQL: parallel writers ------------------------------------------------------------


@pytest.fixture
async def pg_api(pg_hub: Hub) -> AsyncIterator[Api]:
    async with app_client(pg_hub) as client:
        yield Api(client, pg_hub)


async def test_parallel_likes_make_one_row_each(pg_api: Api) -> None:
    cast = Cast(pg_api)
    shop = await placed_shop(cast)
    people = [await cast.customer() for _ in range(20)]
    bodies = await asyncio.gather(
        *(p.post("/user/add-like", target="store", id=str(shop.id)) for p in people)
    )
    assert all(b["status"] == "success" for b in bodies), bodies
    assert await rows(pg_api.hub, shop.id) == {p.id: (0, False) for p in people}
    assert (await listed(manager_of(shop), "/store-manager", "virtual"))["totalCount"] == "20"


async def test_parallel_location_reports_are_one_visit(pg_api: Api, fake_clock: Clock) -> None:
    cast = Cast(pg_api)
    shop = await placed_shop(cast)
    customer = await cast.customer()
    for expected in (1, 2):
        # Twenty points in the store, all at once.
        await asyncio.gather(*(at(customer, LAT + NEAR * i / 20) for i in range(20)))
        assert await rows(pg_api.hub, shop.id) == {customer.id: (expected, True)}
        fake_clock.shift += timedelta(hours=2)


# -- the migration ---------------------------------------------------------------------------


async def test_the_migration_gives_existing_stores_their_points(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade_async(url, "0009")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            columns = (await conn.execute(text("PRAGMA table_info(stores)"))).all()
            # Every column a row needs, whatever the revision's stores hold.
            needed = {c[1]: 0 if "INT" in c[2].upper() else "2024-01-01 00:00:00.000000"
                      if "DATE" in c[2].upper() else "x"
                      for c in columns if c[3] and c[4] is None and not c[5]}  # fmt: skip
            for store_id, lat, lon in ((1, "35.8", "51.4"), (2, "", ""), (3, "abc", "51")):
                values = {**needed, "id": store_id, "slug": f"s{store_id}", "latitude": lat,
                          "longitude": lon}  # fmt: skip
                names = ", ".join(values)
                marks = ", ".join(f":{name}" for name in values)
                await conn.execute(text(f"INSERT INTO stores ({names}) VALUES ({marks})"), values)
        await upgrade_async(url)
        async with engine.connect() as conn:
            found = (await conn.execute(text("SELECT * FROM store_points"))).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in found] == [(1, 35.8, 51.4)]
