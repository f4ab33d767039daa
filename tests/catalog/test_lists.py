"""API.md §2 lists: categories, bazaars, malls, stores, products (shapes, filters, paging)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hojre.accounts.models import Role
from hojre.catalog.models import Status
from hojre.core.hub import Hub
from tests.catalog import shapes
from tests.conftest import Api
from tests.factories import (
    TEHRAN_CITY,
    TEHRAN_STATE,
    count_statements,
    make_bazaar,
    make_mall,
    make_product,
    make_store,
    make_user,
)

pytestmark = pytest.mark.anyio

ISFAHAN_STATE, ISFAHAN_CITY = 2, 53  # from the migrations' geography
NIAVARAN_HOOD = 2


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    response = await client.get(
        "/web" + path, params={k.replace("__", "-"): str(v) for k, v in params.items()}
    )
    assert response.status_code == 200, response.text
    return response


def ids(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["items"]]


async def one_of_each(hub: Hub) -> dict[str, int]:
    async with hub.db.unit_of_work(write=True) as session:
        manager = await make_user(session, role=Role.store_manager)
        bazaar = await make_bazaar(session)
        mall = await make_mall(session, bazaar=bazaar)
        store = await make_store(session, manager=manager, bazaar=bazaar, mall=mall)
        product = await make_product(session, store)
        return {"bazaar": bazaar.id, "mall": mall.id, "store": store.id, "product": product.id}


# -- categories --------------------------------------------------------------------------------


async def test_categories_are_the_migrated_ones_by_title(client: httpx.AsyncClient) -> None:
    response = await get(client, "/bazzar-categories")
    assert response.headers["cache-control"] == "public, max-age=300"
    body = response.json()
    assert set(body) == {"items", "_links", "_meta"}
    assert body["_meta"] == {"totalCount": 8, "pageCount": 1, "currentPage": 1, "perPage": 300}
    for item in body["items"]:
        shapes.check(item, shapes.CATEGORY)
    titles = [item["title"] for item in body["items"]]
    assert titles == sorted(titles)
    assert sorted(ids(body)) == list(range(1, 9))


# -- record shapes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind", "shape"),
    [
        ("/bazzars", "bazaar", shapes.BAZAAR),
        ("/malls", "mall", shapes.MALL),
        ("/stores", "store", shapes.STORE),
        ("/products", "product", shapes.PRODUCT),
    ],
)
async def test_list_item_shape(api: Api, path: str, kind: str, shape: shapes.Shape) -> None:
    made = await one_of_each(api.hub)
    response = await get(api.client, path)
    assert response.headers["cache-control"] == "public, max-age=300"
    body = response.json()
    assert body["_meta"]["totalCount"] == 1
    [item] = body["items"]
    shapes.check(item, shape)
    assert item["id"] == made[kind]
    assert item["status"] == "active"


async def test_records_carry_the_rows_values(api: Api) -> None:
    made = await one_of_each(api.hub)
    bazaar = (await api.get("/bazzars"))["items"][0]
    assert bazaar["title"] == "بازار بزرگ تجریش"
    assert bazaar["slug"] == "بازار-بزرگ-تجریش"
    assert (bazaar["country"], bazaar["state"], bazaar["city"]) == (102, TEHRAN_STATE, TEHRAN_CITY)
    assert bazaar["category"] == 1
    assert bazaar["createDate"] > 1_600_000_000
    mall = (await api.get("/malls"))["items"][0]
    assert mall["bazzar"] == made["bazaar"]
    assert mall["bazzarCategory"] == 1
    store = (await api.get("/stores"))["items"][0]
    assert (store["bazzar"], store["mall"], store["parent"]) == (made["bazaar"], made["mall"], None)
    assert store["score"] is None
    assert store["phone"] == "02122712345"
    product = (await api.get("/products"))["items"][0]
    assert product["store"] == made["store"]
    assert product["price"] == 125_000_000


# -- what is listed, in which order --------------------------------------------------------------


async def test_only_active_rows_in_id_order(api: Api) -> None:
    async with api.hub.db.unit_of_work(write=True) as session:
        bazaars = [await make_bazaar(session, title=f"بازار {n}") for n in range(4)]
        bazaars[1].status = Status.inactive
        await make_mall(session, status=Status.inactive)
        store = await make_store(session)
        await make_store(session, status=Status.inactive)
        await make_product(session, store, status=Status.inactive)
        product = await make_product(session, store)
    body = await api.get("/bazzars")
    assert ids(body) == [bazaars[0].id, bazaars[2].id, bazaars[3].id]
    assert body["_meta"]["totalCount"] == 3
    assert (await api.get("/malls"))["items"] == []
    assert ids(await api.get("/stores")) == [store.id]
    assert ids(await api.get("/products")) == [product.id]


async def test_paging(api: Api) -> None:
    async with api.hub.db.unit_of_work(write=True) as session:
        made = [(await make_bazaar(session)).id for _ in range(5)]
    body = await api.get("/bazzars", page=2, per__page=2)
    assert ids(body) == made[2:4]
    assert body["_meta"] == {"totalCount": 5, "pageCount": 3, "currentPage": 2, "perPage": 2}
    assert set(body["_links"]) == {"self", "first", "prev", "next", "last"}
    assert body["_links"]["self"]["href"] == "http://testserver/web/bazzars?page=2&per-page=2"
    past = await api.get("/bazzars", page=9, perPage=2)
    assert past["items"] == []
    assert past["_meta"]["totalCount"] == 5


# -- filters ------------------------------------------------------------------------------------


async def test_bazaar_filters(api: Api) -> None:
    async with api.hub.db.unit_of_work(write=True) as session:
        tehran = await make_bazaar(session)
        isfahan = await make_bazaar(
            session, category_id=2, state_id=ISFAHAN_STATE, city_id=ISFAHAN_CITY, hood_id=None
        )
        niavaran = await make_bazaar(session, hood_id=NIAVARAN_HOOD)
    everyone = [tehran.id, isfahan.id, niavaran.id]
    assert ids(await api.get("/bazzars")) == everyone
    assert ids(await api.get("/bazzars", category=2)) == [isfahan.id]
    assert ids(await api.get("/bazzars", category=1)) == [tehran.id, niavaran.id]
    assert ids(await api.get("/bazzars", state=ISFAHAN_STATE)) == [isfahan.id]
    assert ids(await api.get("/bazzars", city=TEHRAN_CITY)) == [tehran.id, niavaran.id]
    assert ids(await api.get("/bazzars", hood=NIAVARAN_HOOD)) == [niavaran.id]
    assert ids(await api.get("/bazzars", state=TEHRAN_STATE, hood=NIAVARAN_HOOD)) == [niavaran.id]
    # Persian digits are numbers; an empty filter is no filter.
    assert ids(await api.get("/bazzars", category="۲")) == [isfahan.id]
    assert ids(await api.get("/bazzars", category="")) == everyone
    # A filter that is not an id matches nothing (never a server error).
    for bad in ("abc", "1.5", "-1", "0", "99999999999", "1; DROP TABLE bazaars"):
        body = await api.get("/bazzars", category=bad)
        assert body["items"] == [], bad
        assert body["_meta"]["totalCount"] == 0, bad


async def test_mall_and_store_filters(api: Api) -> None:
    async with api.hub.db.unit_of_work(write=True) as session:
        first, second = await make_bazaar(session), await make_bazaar(session)
        mall_a = await make_mall(session, bazaar=first)
        mall_b = await make_mall(session, bazaar=second, category_id=4)
        loose = await make_store(session, bazaar=first)
        in_a = await make_store(session, bazaar=first, mall=mall_a, category_id=4)
        in_b = await make_store(session, bazaar=second, mall=mall_b, city_id=ISFAHAN_CITY)
    assert ids(await api.get("/malls", bazzar=first.id)) == [mall_a.id]
    assert ids(await api.get("/malls", category=4)) == [mall_b.id]
    assert ids(await api.get("/malls", bazzarCategory=4)) == [mall_b.id]  # the record's name
    assert ids(await api.get("/malls", bazzar="x")) == []
    assert ids(await api.get("/stores", bazzar=first.id)) == [loose.id, in_a.id]
    assert ids(await api.get("/stores", mall=mall_a.id)) == [in_a.id]
    assert ids(await api.get("/stores", bazzar=first.id, category=4)) == [in_a.id]
    assert ids(await api.get("/stores", city=ISFAHAN_CITY)) == [in_b.id]
    assert ids(await api.get("/stores", mall="")) == [loose.id, in_a.id, in_b.id]
    assert ids(await api.get("/stores", mall="none")) == []


async def test_product_filter(api: Api) -> None:
    async with api.hub.db.unit_of_work(write=True) as session:
        one, two = await make_store(session), await make_store(session)
        a = await make_product(session, one)
        b = await make_product(session, two)
        c = await make_product(session, one, title="هدفون بی‌سیم")
    assert ids(await api.get("/products")) == [a.id, b.id, c.id]
    assert ids(await api.get("/products", store=one.id)) == [a.id, c.id]
    assert ids(await api.get("/products", store=two.id)) == [b.id]
    assert ids(await api.get("/products", store="two")) == []


# -- statements --------------------------------------------------------------------------------


async def fill(hub: Hub, path: str, n: int) -> None:
    """Add ``n`` active rows of the kind listed at ``path``."""
    async with hub.db.unit_of_work(write=True) as session:
        if path == "/products":
            store = await make_store(session)
            for _ in range(n):
                await make_product(session, store)
            return
        for _ in range(n):
            if path == "/bazzars":
                await make_bazaar(session)
            elif path == "/malls":
                await make_mall(session)
            else:
                await make_store(session)


@pytest.mark.parametrize("path", ["/bazzars", "/malls", "/stores", "/products"])
async def test_a_page_is_one_statement_whatever_its_size(api: Api, path: str) -> None:
    """Page and total together: 1 statement for 1 item and for 50; 2 for a page past the end
    (its count runs alone)."""
    counts = []
    for added, shown in ((1, 1), (49, 50)):
        await fill(api.hub, path, added)
        with count_statements(api.hub) as sql:
            body = await api.get(path, per__page=50)
        assert len(body["items"]) == shown
        counts.append(len(sql))
    assert counts == [1, 1], counts
    with count_statements(api.hub) as sql:
        assert (await api.get(path, page=5, per__page=50))["items"] == []
    assert len(sql) == 2, sql


# Every filter of each list, alone and together (the rows of one_of_each match them all).
FILTERED = [
    ("/bazzars", {"category": 1}),
    ("/bazzars", {"state": TEHRAN_STATE}),
    ("/bazzars", {"city": TEHRAN_CITY}),
    ("/bazzars", {"hood": 1}),
    ("/bazzars", {"category": 1, "state": TEHRAN_STATE, "city": TEHRAN_CITY, "hood": 1}),
    ("/malls", {"bazzar": "bazaar"}),
    ("/malls", {"bazzarCategory": 1, "city": TEHRAN_CITY}),
    ("/stores", {"mall": "mall"}),
    ("/stores", {"bazzar": "bazaar", "category": 1, "state": TEHRAN_STATE, "hood": 1}),
    ("/products", {"store": "store"}),
]


@pytest.mark.parametrize(("path", "filters"), FILTERED)
async def test_a_filtered_page_is_one_statement(
    api: Api, path: str, filters: dict[str, Any]
) -> None:
    made = await one_of_each(api.hub)
    params = {name: made.get(str(value), value) for name, value in filters.items()}
    with count_statements(api.hub) as sql:
        body = await api.get(path, **params)
    assert len(body["items"]) == 1, body
    assert len(sql) == 1, sql
    with count_statements(api.hub) as sql:
        body = await api.get(path, **params, page=2)
    assert (body["items"], body["_meta"]["totalCount"]) == ([], 1)
    assert len(sql) == 2, sql


async def test_categories_are_one_statement(api: Api) -> None:
    with count_statements(api.hub) as sql:
        await api.get("/bazzar-categories")
    assert len(sql) == 1, sql
    with count_statements(api.hub) as sql:
        assert (await api.get("/bazzar-categories", page=2))["items"] == []
    assert len(sql) == 2, sql
