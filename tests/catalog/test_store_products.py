"""A store's products on the store side (API.md §5): ``products``, ``add-product``,
``edit-product`` and ``delete-product`` under ``/web/store-manager/`` and ``/web/seller/``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from sqlalchemy import select

from hojre.catalog.models import BazaarCategory, Product, Status
from hojre.core.hub import Hub
from tests.catalog.test_statistics import manager_of
from tests.conftest import Api, app_client
from tests.factories import count_statements
from tests.messaging.conftest import NOT_LOGIN, Cast, Person, Shop, err, invalid

# The paths these tests send, made uploads by the hub fixture (tests/conftest.py): an image
# field takes no other path.
UPLOADED = (
    "img/a.jpg",
    "img/a1.jpg",
    "img/a2.jpg",
    "img/b.jpg",
    "img/b1.jpg",
    "img/b2.jpg",
    "img/c.jpg",
    "img/c.png",
    "img/p/1.jpg",
    "img/p/a.jpg",
    "img/p/a2.jpg",
    "img/p/b.jpg",
    "img/p/c.jpg",
)


pytestmark = pytest.mark.anyio

SIDES = ("/store-manager", "/seller")
REFUSED = {"/store-manager": err("You are not store manager"), "/seller": err("You are not seller")}
NOT_FOUND = err("Product Not Found")
KEYS = ["id", "title", "mainImage", "category", "store", "description", "status", "createDate",
        "updateDate", "price", "top", "viewed", "liked", "disliked", "favoriteCount",
        "commentsCount", "notificationCount", "slug"]  # fmt: skip
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def staff(shop: Shop, side: str) -> Person:
    return manager_of(shop) if side == "/store-manager" else shop.seller


async def category_id(hub: Hub) -> int:
    async with hub.db.unit_of_work(write=True) as session:
        found = await session.scalar(select(BazaarCategory.id).order_by(BazaarCategory.id))
        if found is None:
            category = BazaarCategory(title="پوشاک", image="img/c.png")
            session.add(category)
            await session.flush()
            found = category.id
        return int(found)


async def add(person: Person, side: str, title: str = "کیف چرمی", **fields: Any) -> int:
    body = await person.post(f"{side}/add-product", **{"Product[title]": title,
                             "Product[price]": "1500000", **fields})  # fmt: skip
    assert body["status"] == "success" and body["message"] == "product created successfully", body
    assert set(body["data"]) == {"id"}
    return int(body["data"]["id"])


async def listed(person: Person, side: str, **params: Any) -> dict[str, Any]:
    body = await person.post(f"{side}/products", **params)
    assert body["status"] == "success" and body["message"] == "List of products", body
    return dict(body)


@pytest.mark.parametrize("side", SIDES)
async def test_add_list_edit_delete(cast: Cast, side: str) -> None:
    shop = await cast.shop()
    person = staff(shop, side)
    category = await category_id(cast.hub)
    assert await listed(person, side) == {
        "status": "success", "message": "List of products", "totalCount": "0", "totalPages": 0,
        "page": 1, "perPage": 300, "data": [],
    }  # fmt: skip
    first = await add(person, side, "کیف چرمی", **{"Product[mainImage]": "img/p/1.jpg",
                      "Product[category]": str(category), "Product[description]": "دست‌دوز",
                      "Product[top]": "yes"})  # fmt: skip
    # Plain names too, Persian digits, defaults, a slug numbered after the first.
    second = await add(person, side, "کیف چرمی", price="۲۵۰۰۰")
    body = await listed(person, side)
    assert body["totalCount"] == "2" and [p["id"] for p in body["data"]] == [first, second]
    one, two = body["data"]
    assert list(one) == KEYS
    assert one | {"createDate": 0, "updateDate": 0} == {
        "id": first, "title": "کیف چرمی", "mainImage": "img/p/1.jpg", "category": category,
        "store": shop.id, "description": "دست‌دوز", "status": "active", "createDate": 0,
        "updateDate": 0, "price": 1500000, "top": "yes", "viewed": 0, "liked": 0, "disliked": 0,
        "favoriteCount": 0, "commentsCount": 0, "notificationCount": 0, "slug": "کیف-چرمی",
    }  # fmt: skip
    assert type(one["createDate"]) is int and type(one["price"]) is int
    assert (two["price"], two["top"], two["category"], two["mainImage"], two["slug"]) == (
        25000,
        "no",
        None,
        "img/defaults/product.png",
        "کیف-چرمی-2",
    )
    assert two["description"] is None

    # Edit: what is sent changes, the rest and the slug stay.
    edited = await person.post(f"{side}/edit-product", product=first, **{
        "Product[title]": "کیف دستی", "Product[price]": "۹۹", "Product[top]": "no"})  # fmt: skip
    assert edited == {"status": "success", "message": "product updated successfully", "data": ""}
    one = (await listed(person, side))["data"][0]
    assert (one["title"], one["price"], one["top"], one["slug"], one["category"]) == (
        "کیف دستی",
        99,
        "no",
        "کیف-چرمی",
        category,
    )

    # Paging by page and any of perPage, per-page, pageSize.
    for size in ("perPage", "per-page", "pageSize"):
        page = await listed(person, side, page=2, **{size: 1})
        assert (page["totalCount"], page["totalPages"], page["page"], page["perPage"]) == (
            "2",
            2,
            2,
            1,
        )
        assert [p["id"] for p in page["data"]] == [second]
    assert (await listed(person, side, page=3, perPage=1))["data"] == []

    deleted = await person.post(f"{side}/delete-product", product=first)
    assert deleted == {"status": "success", "message": "Product Deleted", "data": ""}
    body = await listed(person, side)
    assert body["totalCount"] == "1" and [p["id"] for p in body["data"]] == [second]
    # Deleted is gone for the store side too.
    assert await person.post(f"{side}/delete-product", product=first) == NOT_FOUND
    assert await person.post(f"{side}/edit-product", product=first, title="x") == NOT_FOUND


async def test_validation(cast: Cast) -> None:
    shop = await cast.shop()
    manager = manager_of(shop)
    path = "/store-manager/add-product"
    assert await manager.post(path) == invalid("Title cannot be blank.", "Price cannot be blank.")
    assert await manager.post(path, title="کیف", price="abc", top="maybe", category="999999",
                              mainImage="javascript:alert(1)") == invalid(
        "Main Image must be a relative path or an http(s) URL.", "Category is invalid.",
        "Price must be an integer.", "Top is invalid.")  # fmt: skip
    assert await manager.post(path, title="کیف", price="-5", category="abc") == invalid(
        "Category is invalid.", "Price must be no less than 0."
    )
    assert await manager.post(path, title="ک" * 201, price="1") == invalid(
        "Title should contain at most 200 characters."
    )
    product = await add(manager, "/store-manager")
    edit = "/store-manager/edit-product"
    assert await manager.post(edit, product=product, title=" ", price="1.5") == invalid(
        "Title cannot be blank.", "Price must be an integer."
    )
    # Nothing was written by the refused edits.
    item = (await listed(manager, "/store-manager"))["data"][0]
    assert (item["title"], item["price"]) == ("کیف چرمی", 1500000)


async def test_who_may_manage_a_stores_products(cast: Cast, api: Api) -> None:
    shop, other = await cast.shop(), await cast.shop()
    theirs = await add(manager_of(other), "/store-manager", "ساعت")
    mine = await add(manager_of(shop), "/store-manager", "کفش")
    customer = await cast.customer()
    dismissed = await cast.add_seller(shop, status=Status.inactive)
    for side in SIDES:
        # Staff of another store: their own list, "not found" for this store's product.
        outsider = staff(other, side)
        for path in ("edit-product", "delete-product"):
            assert await outsider.post(f"{side}/{path}", product=mine, title="x") == NOT_FOUND
            for wrong in ("999999", "abc", "-1", ""):
                assert await outsider.post(f"{side}/{path}", product=wrong) == NOT_FOUND
        assert await outsider.post(f"{side}/products", store=shop.id) == REFUSED[side]
        assert await outsider.post(f"{side}/add-product", store=shop.id, title="x",
                                   price="1") == REFUSED[side]  # fmt: skip
        assert [p["id"] for p in (await listed(outsider, side))["data"]] == [theirs]
        # This store's staff and another's product.
        me = staff(shop, side)
        assert await me.post(f"{side}/edit-product", product=theirs, title="x") == NOT_FOUND
        assert await me.post(f"{side}/delete-product", product=theirs) == NOT_FOUND
        # Customers: the side's refusal. A dismissed seller has no store there: refused
        # where a store is picked, and no product of theirs is found.
        for person in (customer, dismissed):
            for path in ("products", "add-product", "edit-product", "delete-product"):
                body = await person.post(f"{side}/{path}", product=mine, title="x", price="1")
                found_none = (
                    person is dismissed
                    and side == "/seller"
                    and path in ("edit-product", "delete-product")
                )
                assert body == (NOT_FOUND if found_none else REFUSED[side]), (person.role, path)
        for path in ("products", "add-product", "edit-product", "delete-product"):
            assert await api.post(f"{side}/{path}", product=mine) == NOT_LOGIN
    # A seller on the manager path.
    for path in ("products", "add-product", "edit-product", "delete-product"):
        body = await shop.seller.post(f"/store-manager/{path}", product=mine, title="x", price="1")
        assert body == REFUSED["/store-manager"]
    # Nothing changed: each store has its one product as added.
    for s, pid, title in ((shop, mine, "کفش"), (other, theirs, "ساعت")):
        items = (await listed(manager_of(s), "/store-manager"))["data"]
        assert [(p["id"], p["title"]) for p in items] == [(pid, title)]
    # The manager acts on the seller path too, the seller on their store's products.
    assert await shop.seller.post("/seller/edit-product", product=mine, price="7") == {
        "status": "success",
        "message": "product updated successfully",
        "data": "",
    }


async def test_deleted_products_leave_the_public_side(cast: Cast, api: Api) -> None:
    shop = await cast.shop()
    manager = manager_of(shop)
    category = await category_id(cast.hub)
    kept = await add(manager, "/store-manager", "کفش", category=str(category), top="yes")
    gone = await add(manager, "/store-manager", "ساعت")
    customer = await cast.customer()
    assert (await customer.post("/user/add-like", target="product", id=gone))["message"] == "Liked"

    async def public_ids() -> list[int]:
        body = await api.get("/products", store=shop.id)
        return [p["id"] for p in body["items"]]

    assert await public_ids() == [kept, gone]
    # Public records carry the category and the top mark (API.md §5).
    record = (await api.get(f"/products/{kept}"))["mainData"]
    assert (record["category"], record["top"]) == (category, "yes")
    assert [(p["category"], p["top"]) for p in (await api.get("/products"))["items"]] == [
        (category, "yes"), (None, "no")]  # fmt: skip
    assert (await api.get(f"/products/{gone}"))["mainData"]["id"] == gone
    await manager.post("/store-manager/delete-product", product=gone)
    assert await public_ids() == [kept]
    assert (await api.get("/products"))["_meta"]["totalCount"] == 1
    assert await api.get(f"/products/{gone}") == err("Not Found")
    store = await api.get(f"/stores/{shop.id}")
    assert store["mainData"]["id"] == shop.id
    assert "ساعت" not in str(store)
    assert (await customer.post("/user/add-view", target="product", id=gone)) == err(
        "Target Not Found"
    )


async def test_statements_are_constant_in_the_number_of_products(cast: Cast) -> None:
    await cast.customer()  # warm the pool
    counts: dict[str, list[int]] = {"list": [], "add": [], "edit": [], "delete": []}
    category = await category_id(cast.hub)
    for n in (1, 6):
        shop = await cast.shop()
        manager = manager_of(shop)
        ids = [await add(manager, "/store-manager", f"کالا {i}") for i in range(n)]
        for side in SIDES:
            person = staff(shop, side)
            with count_statements(cast.hub) as sql:
                assert len((await listed(person, side))["data"]) == n + SIDES.index(side)
            counts["list"].append(len(sql))
            with count_statements(cast.hub) as sql:
                await add(person, side, "کالا 0", category=str(category))
            counts["add"].append(len(sql))
            with count_statements(cast.hub) as sql:
                body = await person.post(f"{side}/edit-product", product=ids[0], price="1",
                                         category=str(category))  # fmt: skip
                assert body["status"] == "success"
            counts["edit"].append(len(sql))
        with count_statements(cast.hub) as sql:
            assert (await manager.post("/store-manager/delete-product", product=ids[-1]))[
                "status"] == "success"  # fmt: skip
        counts["delete"].append(len(sql))
    # The login, then: the store and the page; the store, the category, the slugs, the
    # insert; the category and the update; the update.
    assert counts == {"list": [3] * 4, "add": [5] * 4, "edit": [3] * 4, "delete": [2] * 2}


@pytest.fixture
async def pg_api(pg_hub: Hub) -> AsyncIterator[Api]:
    async with app_client(pg_hub) as client:
        yield Api(client, pg_hub)


async def test_parallel_edits_of_one_product(pg_api: Api) -> None:
    """The manager and a seller edit one product at once: both succeed, the row is one of
    the two edits whole."""
    cast = Cast(pg_api)
    shop = await cast.shop()
    product = await add(manager_of(shop), "/store-manager")
    for _ in range(5):
        a, b = await asyncio.gather(
            manager_of(shop).post("/store-manager/edit-product", product=product,
                                  title="عنوان الف", price="1", top="yes"),
            shop.seller.post("/seller/edit-product", product=product, title="عنوان ب",
                             price="2", top="no"),
        )  # fmt: skip
        assert a == b == {"status": "success", "message": "product updated successfully",
                          "data": ""}  # fmt: skip
        async with pg_api.hub.db.unit_of_work(write=False) as session:
            row = (await session.execute(
                select(Product.title, Product.price, Product.top).where(Product.id == product)
            )).one()  # fmt: skip
        assert tuple(row) in {("عنوان الف", 1, "yes"), ("عنوان ب", 2, "no")}


async def media_of(person: Person, product: int) -> list[tuple[str, str, int]]:
    body = await person.post("/store-manager/unique-product", id=product)
    assert body["status"] == "success" and body["message"] == "media result", body
    return [(m["type"], m["source"], m["order"]) for m in body["data"]]


@pytest.mark.parametrize("side", SIDES)
async def test_gallery_and_video_slots(cast: Cast, api: Api, side: str) -> None:
    """``Gallery[1]`` … ``Gallery[3]`` are the product's images of order 1 … 3, ``video`` its
    video (order 4); an edit replaces what it sends and "" empties a slot."""
    shop = await cast.shop()
    person, manager = staff(shop, side), manager_of(shop)
    product = await add(person, side, **{"Gallery[1]": "img/p/a.jpg", "Gallery[3]": "img/p/c.jpg",
                        "video": "https://cdn.example.com/v.mp4"})  # fmt: skip
    assert await media_of(manager, product) == [
        ("image", "img/p/a.jpg", 1), ("image", "img/p/c.jpg", 3),
        ("video", "https://cdn.example.com/v.mp4", 4),
    ]  # fmt: skip
    body = await person.post(f"{side}/edit-product", product=product,
                             **{"Gallery[1]": "img/p/a2.jpg", "Gallery[2]": "img/p/b.jpg",
                                "Gallery[3]": "", "Product[price]": "7"})  # fmt: skip
    assert body == {"status": "success", "message": "product updated successfully", "data": ""}
    assert await media_of(manager, product) == [
        ("image", "img/p/a2.jpg", 1), ("image", "img/p/b.jpg", 2),
        ("video", "https://cdn.example.com/v.mp4", 4),
    ]  # fmt: skip
    # An edit of other fields leaves the media; the public page shows them by order.
    await person.post(f"{side}/edit-product", product=product, title="کیف نو")
    assert len(await media_of(manager, product)) == 3
    await person.post(f"{side}/edit-product", product=product, video="")
    page = await api.get(f"/products/{product}")
    sources = [m["source"] for m in page["productMedia"]]
    assert sources == ["img/p/a2.jpg", "img/p/b.jpg"]


async def test_gallery_validation_writes_nothing(cast: Cast) -> None:
    shop = await cast.shop()
    manager = manager_of(shop)
    product = await add(manager, "/store-manager", **{"Gallery[2]": "img/p/b.jpg"})
    bad = {"Gallery[1]": "javascript:alert(1)", "Gallery[2]": "", "Gallery[3]": "i" * 256,
           "video": "ftp://x/y.mp4"}  # fmt: skip
    expected = invalid(
        "Gallery 1 must be a relative path or an http(s) URL.",
        "Gallery 3 should contain at most 255 characters.",
        "Video is not a valid URL.",
    )
    assert await manager.post("/store-manager/add-product", title="ک", price="1", **bad) == expected
    assert await manager.post("/store-manager/edit-product", product=product, **bad) == expected
    assert await media_of(manager, product) == [("image", "img/p/b.jpg", 2)]


async def test_media_statements_are_constant(cast: Cast) -> None:
    """Add: two more statements for any number of media (their uploads, their insert); edit:
    three more (the uploads, the clear, the fill)."""
    await cast.customer()
    shop = await cast.shop()
    manager = manager_of(shop)
    counts = []
    for sent in ({"Gallery[1]": "img/a.jpg"},
                 {"Gallery[1]": "img/a.jpg", "Gallery[2]": "img/b.jpg", "Gallery[3]": "img/c.jpg",
                  "video": "https://aparat.com/v/abc"}):  # fmt: skip
        with count_statements(cast.hub) as sql:
            product = await add(manager, "/store-manager", **sent)
        counts.append(len(sql))
        with count_statements(cast.hub) as sql:
            body = await manager.post("/store-manager/edit-product", product=product, **sent)
            assert body["status"] == "success"
        counts.append(len(sql))
    # add: login, store, the uploads (one statement for all pictures), slugs, insert, media (no
    # category sent); edit: login, the uploads, update, clear, fill
    assert counts == [6, 5, 6, 5]


async def test_parallel_edits_of_one_slot(pg_api: Api) -> None:
    """Two edits of one product's gallery at once: each slot ends with one item, from one of
    the two edits whole (the product's row lock orders them)."""
    cast = Cast(pg_api)
    shop = await cast.shop()
    manager = manager_of(shop)
    product = await add(manager, "/store-manager")
    for _ in range(5):
        await asyncio.gather(
            manager.post("/store-manager/edit-product", product=product,
                         **{"Gallery[1]": "img/a1.jpg", "Gallery[2]": "img/a2.jpg"}),
            shop.seller.post("/seller/edit-product", product=product,
                             **{"Gallery[1]": "img/b1.jpg", "Gallery[2]": "img/b2.jpg"}),
        )  # fmt: skip
        media = await media_of(manager, product)
        assert media in (
            [("image", "img/a1.jpg", 1), ("image", "img/a2.jpg", 2)],
            [("image", "img/b1.jpg", 1), ("image", "img/b2.jpg", 2)],
        )


async def test_delete_while_customers_like(pg_api: Api) -> None:
    """Customers like a product while its manager deletes it: each like is either in (row and
    counter, "Liked") or refused ("Target Not Found"); the counter equals the rows after."""
    from hojre.interactions.models import Mark

    cast = Cast(pg_api)
    shop = await cast.shop()
    manager = manager_of(shop)
    customers = [await cast.customer() for _ in range(20)]
    seen: set[str] = set()

    async def later(delay: float, call: Awaitable[Any]) -> Any:
        await asyncio.sleep(delay)
        return await call

    for round_ in range(15):  # until the delete fell among the likes (3 rounds at least)
        if round_ >= 3 and seen == {"Liked", "Target Not Found"}:
            break
        product = await add(manager, "/store-manager")
        # Spread over the delete's own time, so some likes land before it and some after.
        likes = [
            later(0.002 * i, c.post("/user/add-like", target="product", id=product))
            for i, c in enumerate(customers)
        ]
        delete = later(0.002 * (4 + 3 * (round_ % 5)),
                       manager.post("/store-manager/delete-product", product=product))  # fmt: skip
        *answers, deleted = await asyncio.gather(*likes, delete)
        assert deleted == {"status": "success", "message": "Product Deleted", "data": ""}
        outcomes = {a["message"] for a in answers}
        assert outcomes <= {"Liked", "Target Not Found"}, answers
        seen |= outcomes
        async with pg_api.hub.db.unit_of_work(write=False) as session:
            liked = await session.scalar(select(Product.liked).where(Product.id == product))
            rows = len((await session.scalars(select(Mark.id).where(
                Mark.target == "product", Mark.target_id == product, Mark.kind == "like"
            ))).all())  # fmt: skip
        assert liked == rows == sum(a["message"] == "Liked" for a in answers)
    assert seen == {"Liked", "Target Not Found"}  # the delete fell among the likes
