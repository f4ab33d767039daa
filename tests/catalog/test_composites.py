"""API.md §2 composites: one bazaar, mall, store or product with its parts, not in an envelope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from hojre.accounts.models import Role, User
from hojre.catalog.models import Bazaar, Mall, Product, Status, Store
from hojre.core.db import SessionConn
from hojre.core.hub import Hub
from hojre.interactions.models import Comment
from hojre.interactions.registry import TargetKind
from hojre.interactions.service import hide_comment
from tests.catalog import shapes
from tests.conftest import Api
from tests.factories import (
    count_statements,
    make_bazaar,
    make_comment,
    make_mall,
    make_media,
    make_product,
    make_seller,
    make_store,
    make_user,
)

pytestmark = pytest.mark.anyio

NOT_FOUND = {"status": "error", "message": "Not Found", "data": ""}
DEFAULT_AVATAR = "img/defaults/avatars/51.png"
BAZAAR_KEYS = {"mainData", "bazzarMedia", "bazzarPoints", "bazzarUserComments", "malls",
               "stores", "totalCount"}  # fmt: skip
MALL_KEYS = {"mainData", "mallMedia", "mallUserComments", "stores", "totalCount"}
STORE_KEYS = {"mainData", "storeMedia", "storePoints", "storeUserComments", "storeSellers",
              "stores", "totalCount"}  # fmt: skip
PRODUCT_KEYS = {"mainData", "productMedia", "productUserComments"}
PATHS = {"bazaar": "/bazzars", "mall": "/malls", "store": "/stores", "product": "/products"}


@dataclass
class Family:
    """A bazaar with a mall, a store in it with a branch, a product, and two people."""

    bazaar: Bazaar
    mall: Mall
    store: Store
    branch: Store
    product: Product
    customer: User
    seller: User

    def target_id(self, target: TargetKind) -> int:
        row: Bazaar | Mall | Store | Product = getattr(self, target.value)
        return row.id


async def make_family(hub: Hub) -> Family:
    async with hub.db.unit_of_work(write=True) as session:
        manager = await make_user(session, role=Role.store_manager, name="زهرا", family="محمدی")
        seller = await make_user(session, role=Role.seller, name="حسین", family="کریمی")
        customer = await make_user(session, name="مریم", family="احمدی")
        bazaar = await make_bazaar(session)
        mall = await make_mall(session, bazaar=bazaar)
        store = await make_store(session, manager=manager, bazaar=bazaar, mall=mall)
        branch = await make_store(
            session, title="فروشگاه آوا شعبه ونک", parent=store, bazaar=bazaar
        )
        product = await make_product(session, store)
        await make_seller(session, store, seller)
        return Family(bazaar, mall, store, branch, product, customer, seller)


async def get(client: httpx.AsyncClient, path: str) -> tuple[Any, httpx.Response]:
    response = await client.get("/web" + path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json(), response


# -- shapes ------------------------------------------------------------------------------------


async def test_bazaar_composite(api: Api) -> None:
    f = await make_family(api.hub)
    async with api.hub.db.unit_of_work(write=True) as session:
        await make_media(session, TargetKind.bazaar, f.bazaar.id)
        await make_comment(session, f.customer, TargetKind.bazaar, f.bazaar.id, score=4)
    body, response = await get(api.client, f"/bazzars/{f.bazaar.id}")
    assert "public" not in response.headers.get("cache-control", "")
    assert set(body) == BAZAAR_KEYS
    shapes.check(body["mainData"], shapes.BAZAAR)
    assert body["mainData"]["id"] == f.bazaar.id
    assert body["mainData"]["commentsCount"] == 1
    [media] = body["bazzarMedia"]
    shapes.check(media, shapes.full_media("bazzar"))
    assert media["bazzar"] == f.bazaar.id
    assert body["bazzarPoints"] == []
    [comment] = body["bazzarUserComments"]
    shapes.check(comment, shapes.comment("bazzar"))
    assert comment["bazzar"] == f.bazaar.id
    assert comment["score"] == 4
    [mall] = body["malls"]
    shapes.check(mall, shapes.MALL)
    assert mall["id"] == f.mall.id
    assert [s["id"] for s in body["stores"]] == [f.store.id, f.branch.id]
    for store in body["stores"]:
        shapes.check(store, shapes.STORE)
    # As in the original search: the number of rows that matched, as a string.
    assert body["totalCount"] == "1"


async def test_mall_composite(api: Api) -> None:
    f = await make_family(api.hub)
    async with api.hub.db.unit_of_work(write=True) as session:
        await make_media(session, TargetKind.mall, f.mall.id, type="video", source="video/1.mp4")
        await make_comment(session, f.customer, TargetKind.mall, f.mall.id, pros="جای پارک")
    body, _ = await get(api.client, f"/malls/{f.mall.id}")
    assert set(body) == MALL_KEYS
    shapes.check(body["mainData"], shapes.MALL)
    assert body["mainData"]["bazzar"] == f.bazaar.id
    [media] = body["mallMedia"]
    shapes.check(media, shapes.full_media("mall"))
    assert (media["type"], media["source"], media["status"]) == ("video", "video/1.mp4", "active")
    [comment] = body["mallUserComments"]
    shapes.check(comment, shapes.comment("mall"))
    assert (comment["pros"], comment["cons"], comment["score"]) == ("جای پارک", None, None)
    assert [s["id"] for s in body["stores"]] == [f.store.id]  # the branch is in no mall
    shapes.check(body["stores"][0], shapes.STORE)
    assert body["totalCount"] == "1"


async def test_store_composite(api: Api) -> None:
    f = await make_family(api.hub)
    async with api.hub.db.unit_of_work(write=True) as session:
        await make_media(session, TargetKind.store, f.store.id)
        await make_comment(session, f.customer, TargetKind.store, f.store.id, score=5)
        await make_comment(session, f.seller, TargetKind.store, f.store.id, score=2)
    body, _ = await get(api.client, f"/stores/{f.store.id}")
    assert set(body) == STORE_KEYS
    shapes.check(body["mainData"], shapes.STORE)
    assert body["mainData"]["score"] == 3.5
    assert body["mainData"]["commentsCount"] == 2
    [media] = body["storeMedia"]
    shapes.check(media, shapes.short_media("store"))
    assert body["storePoints"] == []
    assert [c["user"] for c in body["storeUserComments"]] == [f.seller.id, f.customer.id]
    for comment in body["storeUserComments"]:
        shapes.check(comment, shapes.comment("store"))
    [seller] = body["storeSellers"]
    shapes.check(seller, shapes.SELLER)
    assert seller == {
        "id": seller["id"],
        "user": f.seller.id,
        "store": f.store.id,
        "status": "active",
        "avatar": DEFAULT_AVATAR,
        "name": "حسین",
        "family": "کریمی",
    }
    # A store's "stores" are its branches.
    [branch] = body["stores"]
    shapes.check(branch, shapes.STORE)
    assert (branch["id"], branch["parent"]) == (f.branch.id, f.store.id)
    assert body["totalCount"] == "1"
    branch_body, _ = await get(api.client, f"/stores/{f.branch.id}")
    assert branch_body["stores"] == []
    assert branch_body["storeSellers"] == []


async def test_product_composite(api: Api) -> None:
    f = await make_family(api.hub)
    async with api.hub.db.unit_of_work(write=True) as session:
        await make_media(session, TargetKind.product, f.product.id)
        await make_comment(session, f.customer, TargetKind.product, f.product.id, score=1)
    body, _ = await get(api.client, f"/products/{f.product.id}")
    assert set(body) == PRODUCT_KEYS
    shapes.check(body["mainData"], shapes.PRODUCT)
    assert body["mainData"]["store"] == f.store.id
    assert body["mainData"]["score"] == 1.0
    [media] = body["productMedia"]
    shapes.check(media, shapes.short_media("product"))
    assert media["product"] == f.product.id
    [comment] = body["productUserComments"]
    shapes.check(comment, shapes.comment("product"))


async def test_empty_parts_are_empty_lists(api: Api) -> None:
    async with api.hub.db.unit_of_work(write=True) as session:
        bazaar = await make_bazaar(session)
        mall = await make_mall(session)
        store = await make_store(session)
        product = await make_product(session, store)
    bazaar_body, _ = await get(api.client, f"/bazzars/{bazaar.id}")
    assert {k: v for k, v in bazaar_body.items() if k != "mainData"} == {
        "bazzarMedia": [], "bazzarPoints": [], "bazzarUserComments": [], "malls": [],
        "stores": [], "totalCount": "1",
    }  # fmt: skip
    mall_body, _ = await get(api.client, f"/malls/{mall.id}")
    assert (mall_body["mallMedia"], mall_body["mallUserComments"], mall_body["stores"]) == (
        [], [], []
    )  # fmt: skip
    store_body, _ = await get(api.client, f"/stores/{store.id}")
    assert store_body["mainData"]["score"] is None
    for key in ("storeMedia", "storePoints", "storeUserComments", "storeSellers", "stores"):
        assert store_body[key] == [], key
    product_body, _ = await get(api.client, f"/products/{product.id}")
    assert (product_body["productMedia"], product_body["productUserComments"]) == ([], [])


# -- what the parts hold -------------------------------------------------------------------------


async def test_comments_latest_twenty_visible_newest_first(api: Api) -> None:
    f = await make_family(api.hub)
    async with api.hub.db.unit_of_work(write=True) as session:
        pictured = await make_user(session, name="علی", family=None, avatar="img/avatars/ali.png")
        made = []
        for n in range(25):
            author = pictured if n % 2 else f.customer
            text = f"نظر شماره {n}"
            made.append(
                await make_comment(session, author, TargetKind.store, f.store.id, text=text)
            )
        other = await make_comment(session, f.customer, TargetKind.store, f.branch.id)
    async with api.hub.db.unit_of_work(write=True) as session:
        assert await hide_comment(SessionConn(session), comment_id=made[-1].id)
    body, _ = await get(api.client, f"/stores/{f.store.id}")
    comments = body["storeUserComments"]
    expected = [c.id for c in reversed(made[:-1])][:20]
    assert [c["id"] for c in comments] == expected
    assert other.id not in [c["id"] for c in comments]
    assert body["mainData"]["commentsCount"] == 24
    by_id = {c["id"]: c for c in comments}
    mine = by_id[made[22].id]
    assert (mine["userTitle"], mine["avatar"]) == ("مریم احمدی", DEFAULT_AVATAR)
    assert mine["text"] == "نظر شماره 22"
    theirs = by_id[made[23].id]
    assert (theirs["userTitle"], theirs["avatar"]) == ("علی", "img/avatars/ali.png")
    assert isinstance(mine["commentDate"], int)


async def test_children_first_twenty_by_id(api: Api) -> None:
    """A composite shows its first 20 children (oldest first, as the lists order them); the
    rest are on the paged list with the parent's filter."""
    f = await make_family(api.hub)
    async with api.hub.db.unit_of_work(write=True) as session:
        more = [(await make_store(session, bazaar=f.bazaar, mall=f.mall)).id for _ in range(20)]
        malls = [(await make_mall(session, bazaar=f.bazaar)).id for _ in range(20)]
    bazaar_body, _ = await get(api.client, f"/bazzars/{f.bazaar.id}")
    assert [s["id"] for s in bazaar_body["stores"]] == [f.store.id, f.branch.id, *more[:18]]
    assert [m["id"] for m in bazaar_body["malls"]] == [f.mall.id, *malls[:19]]
    mall_body, _ = await get(api.client, f"/malls/{f.mall.id}")
    assert [s["id"] for s in mall_body["stores"]] == [f.store.id, *more[:19]]
    listed, _ = await get(api.client, f"/stores?mall={f.mall.id}")
    assert [s["id"] for s in listed["items"]] == [f.store.id, *more]


async def test_inactive_parts_are_left_out(api: Api) -> None:
    f = await make_family(api.hub)
    async with api.hub.db.unit_of_work(write=True) as session:
        third = await make_media(session, TargetKind.store, f.store.id, order=3, title="سوم")
        first = await make_media(session, TargetKind.store, f.store.id, order=1, title="اول")
        await make_media(session, TargetKind.store, f.store.id, status=Status.inactive)
        await make_media(session, TargetKind.mall, f.store.id)  # another target, same id
        retired = await make_user(session, role=Role.seller)
        await make_seller(session, f.store, retired, status=Status.inactive)
        await make_store(session, parent=f.store, status=Status.inactive)
        await make_mall(session, bazaar=f.bazaar, status=Status.inactive)
        await make_store(session, bazaar=f.bazaar, status=Status.inactive)
    body, _ = await get(api.client, f"/stores/{f.store.id}")
    assert [m["id"] for m in body["storeMedia"]] == [first.id, third.id]  # by order
    assert [s["user"] for s in body["storeSellers"]] == [f.seller.id]
    assert [s["id"] for s in body["stores"]] == [f.branch.id]
    bazaar_body, _ = await get(api.client, f"/bazzars/{f.bazaar.id}")
    assert [m["id"] for m in bazaar_body["malls"]] == [f.mall.id]
    assert [s["id"] for s in bazaar_body["stores"]] == [f.store.id, f.branch.id]


# -- not found -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(PATHS))
async def test_not_found(api: Api, kind: str) -> None:
    f = await make_family(api.hub)
    target = TargetKind(kind)
    real = f.target_id(target)
    path = PATHS[kind]
    persian = str(real).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert (await get(api.client, f"{path}/{persian}"))[0]["mainData"]["id"] == real
    for bad in (str(real + 100), "0", "-1", "abc", "1.0", "99999999999", "%20", "1e3"):
        body, _ = await get(api.client, f"{path}/{bad}")
        assert body == NOT_FOUND, (path, bad)
    model = type(getattr(f, kind))
    async with api.hub.db.unit_of_work(write=True) as session:
        await session.execute(update(model).where(model.id == real).values(status=Status.inactive))
    assert (await get(api.client, f"{path}/{real}"))[0] == NOT_FOUND


async def test_a_path_past_the_id_is_the_404_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/web/bazzars/1/malls")
    assert response.status_code == 404
    assert response.json()["message"] == "Page not found."


# -- statements ----------------------------------------------------------------------------------

# The target with each of its parts as a JSON array, in one statement.
STATEMENTS = {"bazaar": 1, "mall": 1, "store": 1, "product": 1}


PARTS = {
    "bazaar": ("bazzarMedia", "bazzarUserComments", "malls", "stores"),
    "mall": ("mallMedia", "mallUserComments", "stores"),
    "store": ("storeMedia", "storeUserComments", "storeSellers", "stores"),
    "product": ("productMedia", "productUserComments"),
}


async def grow(hub: Hub, target: TargetKind, row: Bazaar | Mall | Store | Product, n: int) -> None:
    """Give the target ``n`` more of each of its parts: media, comments and children."""
    async with hub.db.unit_of_work(write=True) as session:
        for i in range(n):
            author = await make_user(session, avatar="img/avatars/a.png")
            await make_media(session, target, row.id, order=10 - i)  # newer media first
            await make_comment(session, author, target, row.id)
            if isinstance(row, Bazaar):
                await make_mall(session, bazaar=row)
                await make_store(session, bazaar=row)
            elif isinstance(row, Mall):
                await make_store(session, mall=row)
            elif isinstance(row, Store):
                await make_store(session, parent=row)
                await make_seller(session, row, await make_user(session, role=Role.seller))


@pytest.mark.parametrize("kind", list(PATHS))
async def test_a_composite_is_a_fixed_number_of_statements(api: Api, kind: str) -> None:
    """The same statements for 1 and for 10 media, comments and children (no N+1)."""
    async with api.hub.db.unit_of_work(write=True) as session:
        store = await make_store(session)
        rows: dict[str, Bazaar | Mall | Store | Product] = {
            "bazaar": await make_bazaar(session),
            "mall": await make_mall(session),
            "store": store,
            "product": await make_product(session, store),
        }
    target, row = TargetKind(kind), rows[kind]
    path = f"{PATHS[kind]}/{row.id}"
    for added, total in ((1, 1), (9, 10)):
        await grow(api.hub, target, row, added)
        with count_statements(api.hub) as sql:
            body, _ = await get(api.client, path)
        assert len(sql) == STATEMENTS[kind], sql
        sizes = {key: len(value) for key, value in body.items() if isinstance(value, list)}
        assert sizes == {key: total if key in PARTS[kind] else 0 for key in sizes}, sizes
        for key in PARTS[kind]:  # each part in its order, whatever order JSON was built in
            if key.endswith("Media"):
                seen = [(m["order"], m["id"]) for m in body[key]]
                assert seen == sorted(seen), (key, seen)
            else:
                ids = [item["id"] for item in body[key]]
                assert ids == sorted(ids, reverse=key.endswith("UserComments")), (key, ids)
    with count_statements(api.hub) as sql:
        assert (await get(api.client, f"{PATHS[kind]}/999999"))[0] == NOT_FOUND
    assert len(sql) == 1, sql
    with count_statements(api.hub) as sql:
        assert (await get(api.client, f"{PATHS[kind]}/abc"))[0] == NOT_FOUND
    assert sql == []


async def test_comment_rows_are_the_database_rows(api: Api) -> None:
    """The composite's comments are the Comment rows (a guard on the shared comment list)."""
    f = await make_family(api.hub)
    async with api.hub.db.unit_of_work(write=True) as session:
        made = await make_comment(
            session, f.customer, TargetKind.bazaar, f.bazaar.id, cons="شلوغ", score=3
        )
    body, _ = await get(api.client, f"/bazzars/{f.bazaar.id}")
    [comment] = body["bazzarUserComments"]
    async with api.hub.db.unit_of_work(write=False) as session:
        row = await session.get_one(Comment, made.id)
    assert comment == {
        "id": row.id,
        "user": f.customer.id,
        "bazzar": f.bazaar.id,
        "commentDate": int(row.created_at.timestamp()),
        "text": row.text,
        "pros": None,
        "cons": "شلوغ",
        "userTitle": "مریم احمدی",
        "avatar": DEFAULT_AVATAR,
        "score": 3,
    }
