"""A store's statistics (API.md §5): ``POST /web/store-manager/statistics`` and
``POST /web/seller/statistics``, and who may see them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from hojre.catalog.models import Status, Store, StoreSeller
from hojre.core.hub import Hub
from tests.conftest import Api
from tests.factories import count_statements
from tests.messaging.conftest import NOT_LOGIN, Cast, Person, Shop, err

pytestmark = pytest.mark.anyio

MANAGER_PATH = "/store-manager/statistics"
SELLER_PATH = "/seller/statistics"
NOT_MANAGER = err("You are not store manager")
NOT_SELLER = err("You are not seller")
# Each wire key and the store's counter column it shows.
COLUMNS = {
    "views": "viewed",
    "likes": "liked",
    "dislikes": "disliked",
    "favorites": "favorite_count",
    "notifications": "notification_count",
    "comments": "comments_count",
}
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def success(**numbers: int) -> dict[str, Any]:
    """The exact reply: every counter, 0 unless given."""
    return {"status": "success", "message": "success", "data": dict.fromkeys(COLUMNS, 0) | numbers}


def manager_of(shop: Shop) -> Person:
    assert shop.manager is not None
    return shop.manager


async def columns(hub: Hub, store_id: int) -> dict[str, int]:
    """The store's counter columns as they are in the database, by wire key."""
    async with hub.db.unit_of_work(write=False) as session:
        store = await session.get(Store, store_id)
        assert store is not None
        return {key: getattr(store, column) for key, column in COLUMNS.items()}


async def done(person: Person, path: str, **params: Any) -> Any:
    body = await person.post(path, **params)
    assert body["status"] == "success", (path, body)
    return body["data"]


async def check_both_sides(shop: Shop, hub: Hub, **numbers: int) -> None:
    """The manager and a seller see these numbers, which are the store's columns."""
    expected = success(**numbers)
    assert expected["data"] == await columns(hub, shop.id)
    for person, path in ((manager_of(shop), MANAGER_PATH), (shop.seller, SELLER_PATH)):
        body = await person.post(path)
        assert body == expected, path
        assert all(type(value) is int for value in body["data"].values())


async def test_statistics_follow_the_customers_interactions(cast: Cast) -> None:
    shop, other = await cast.shop(), await cast.shop()
    await check_both_sides(shop, cast.hub)
    a, b = await cast.customer(), await cast.customer(name="علی")
    for kind in ("view", "like", "favorite", "notification"):
        await done(a, f"/user/add-{kind}", target="store", id=shop.id)
    first = await done(a, "/user/add-comment", target="store", id=shop.id, text="فروشگاه خوبی است")
    for kind in ("view", "dislike"):
        await done(b, f"/user/add-{kind}", target="store", id=shop.id)
    await done(b, "/user/add-comment", target="store", id=shop.id, text="ارسال کند بود", score=2)
    # Another store's interactions are that store's.
    for kind in ("view", "like", "favorite"):
        await done(b, f"/user/add-{kind}", target="store", id=other.id)
    await check_both_sides(shop, cast.hub, views=2, likes=1, dislikes=1, favorites=1,
                           notifications=1, comments=2)  # fmt: skip
    await check_both_sides(other, cast.hub, views=1, likes=1, favorites=1)

    # Taken back: the numbers follow. A second view within 30 minutes is not a new one.
    await done(a, "/user/delete-like", target="store", id=shop.id)
    await done(a, "/user/delete-notification", target="store", id=shop.id)
    await done(a, "/user/delete-comment", id=first["id"])
    await done(a, "/user/add-view", target="store", id=shop.id)
    await check_both_sides(shop, cast.hub, views=2, dislikes=1, favorites=1, comments=1)
    # x and y are the usual optional location.
    located = await manager_of(shop).post(MANAGER_PATH, x="51.4", y="35.7")
    assert located == success(views=2, dislikes=1, favorites=1, comments=1)


async def test_store_picks_one_of_the_callers_stores(cast: Cast) -> None:
    shop, second = await cast.shop(), await cast.shop()
    manager, seller = manager_of(shop), shop.seller
    # The manager manages both; the seller sells in both.
    async with cast.hub.db.unit_of_work(write=True) as session:
        await session.execute(
            update(Store).where(Store.id == second.id).values(manager_id=manager.id)
        )
        session.add(StoreSeller(store_id=second.id, user_id=seller.id))
    customer = await cast.customer()
    await done(customer, "/user/add-like", target="store", id=second.id)
    persian = str(second.id).translate(PERSIAN_DIGITS)
    for person, path in ((manager, MANAGER_PATH), (seller, SELLER_PATH), (manager, SELLER_PATH)):
        for first in ({}, {"store": ""}, {"store": shop.id}):  # the first by id, or given
            assert await person.post(path, **first) == success(), (path, first)
        for given in (second.id, persian):
            assert await person.post(path, store=given) == success(likes=1), (path, given)


async def test_staff_see_a_store_awaiting_approval(cast: Cast) -> None:
    shop = await cast.shop()
    customer = await cast.customer()
    await done(customer, "/user/add-favorite", target="store", id=shop.id)
    async with cast.hub.db.unit_of_work(write=True) as session:
        await session.execute(
            update(Store).where(Store.id == shop.id).values(status=Status.inactive)
        )
    await check_both_sides(shop, cast.hub, favorites=1)
    assert await manager_of(shop).post(MANAGER_PATH, store=shop.id) == success(favorites=1)


async def test_who_may_see_a_stores_statistics(cast: Cast, api: Api) -> None:
    shop, other = await cast.shop(), await cast.shop()
    customer = await cast.customer()
    # Numbers on the other store, which nobody of the first may see.
    for kind in ("view", "like", "favorite", "notification"):
        await done(customer, f"/user/add-{kind}", target="store", id=other.id)
    manager, seller = manager_of(shop), shop.seller
    dismissed = await cast.add_seller(shop, status=Status.inactive)
    jobless_seller, jobless_manager = await cast.seller(), await cast.manager()
    foreign = (other.id, 999_999, "abc", "-1", "0", str(2**31), "1.5")

    # Staff of the store, for a store that is not theirs on that side.
    for wrong in foreign:
        assert await manager.post(MANAGER_PATH, store=wrong) == NOT_MANAGER, wrong
        assert await manager.post(SELLER_PATH, store=wrong) == NOT_SELLER, wrong
        assert await seller.post(SELLER_PATH, store=wrong) == NOT_SELLER, wrong
    # The manager path is the manager's: sellers, customers and managers of no store are
    # refused, whichever store they name.
    for person in (seller, dismissed, customer, jobless_seller, jobless_manager):
        for store in (None, shop.id, other.id):
            assert await person.post(MANAGER_PATH, store=store) == NOT_MANAGER, (person, store)
    # The seller path is the active sellers' and the manager's.
    for person in (dismissed, customer, jobless_seller, jobless_manager):
        for store in (None, shop.id, other.id):
            assert await person.post(SELLER_PATH, store=store) == NOT_SELLER, (person, store)
    assert await manager.post(SELLER_PATH, store=shop.id) == success()
    assert await seller.post(SELLER_PATH, store=shop.id) == success()

    # No login, a wrong token, someone else's token.
    for path in (MANAGER_PATH, SELLER_PATH):
        assert await api.post(path) == NOT_LOGIN
        assert await api.post(path, store=shop.id) == NOT_LOGIN
        assert await api.post(path, username=manager.cellphone, token="x" * 32) == NOT_LOGIN
        assert await api.post(path, username=seller.cellphone, token=manager.token) == NOT_LOGIN
    # The other store's own staff see its numbers, untouched by all of the above.
    await check_both_sides(other, cast.hub, views=1, likes=1, favorites=1, notifications=1)


async def test_statistics_run_a_constant_number_of_statements(cast: Cast) -> None:
    """The login and one statement, on either path, for the first store or the one given,
    however much the store has had (counters are columns); a role that has no store on that
    side costs the login alone."""
    await cast.customer()  # warm the pool
    counts: list[int] = []
    for n in (0, 4):
        shop = await cast.shop()
        for i in range(n):
            viewer = await cast.customer(name=f"مشتری{i}")
            await done(viewer, "/user/add-view", target="store", id=shop.id)
        manager = manager_of(shop)
        for person, path in ((manager, MANAGER_PATH), (shop.seller, SELLER_PATH),
                             (manager, SELLER_PATH)):  # fmt: skip
            for params in ({}, {"store": shop.id}):
                with count_statements(cast.hub) as sql:
                    body = await person.post(path, **params)
                assert body == success(views=n), (path, params)
                counts.append(len(sql))
    assert counts == [2] * 12, counts
    customer = await cast.customer()
    for path, refused in ((MANAGER_PATH, NOT_MANAGER), (SELLER_PATH, NOT_SELLER)):
        with count_statements(cast.hub) as sql:
            assert await customer.post(path, store=shop.id) == refused
        assert len(sql) == 1, sql


async def test_openapi_describes_both_paths(api: Api) -> None:
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    for path in (MANAGER_PATH, SELLER_PATH):
        op = schema["paths"]["/web" + path]["post"]
        body = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        assert set(body["properties"]) == {"username", "x", "y", "store"}
        assert body["required"] == ["username"]
        store = body["properties"]["store"]
        assert store["type"] == "integer" and "caller's stores" in store["description"]
        assert op["security"] == [{"token": []}, {"bearer": []}]
        reply = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert reply == {"$ref": "#/components/schemas/ActionEnvelope"}
