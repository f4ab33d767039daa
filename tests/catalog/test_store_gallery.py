"""The store's profile and gallery (API.md §5): ``edit-store``, ``add-store-gallery``,
``delete-store-gallery``, ``list-gallery`` and ``unique-product``, for the store's manager only."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from hojre.catalog.models import Media, Product, Status, Store
from hojre.geo.models import City, Hood
from hojre.geo.seed import IRAN_ID
from hojre.interactions.registry import TargetKind
from tests.conftest import Api
from tests.factories import (
    TAJRISH_HOOD,
    TEHRAN_CITY,
    TEHRAN_STATE,
    count_statements,
    make_media,
    make_product,
)
from tests.messaging.conftest import NOT_LOGIN, Cast, Person, Shop, err, invalid

# The paths these tests send, made uploads by the hub fixture (tests/conftest.py): an image
# field takes no other path.
UPLOADED = (
    "img/a.jpg",
    "img/b.jpg",
    "img/cert.jpg",
    "img/front.jpg",
    "img/loc.jpg",
    "img/main.jpg",
    "img/logo-new.png",
    "img/second.jpg",
    "img/theirs.jpg",
    "img/x.jpg",
)


pytestmark = pytest.mark.anyio

EDIT = "/store-manager/edit-store"
ADD = "/store-manager/add-store-gallery"
DELETE = "/store-manager/delete-store-gallery"
LIST = "/store-manager/list-gallery"
UNIQUE = "/store-manager/unique-product"
NOT_MANAGER = err("You are not store manager")
DONE = {"status": "success", "message": "done", "data": ""}
UPDATED = {"status": "success", "message": "updated successfully", "data": ""}
ITEM_KEYS = {"id", "title", "type", "store", "source", "order"}


def manager_of(shop: Shop) -> Person:
    assert shop.manager is not None
    return shop.manager


def media_result(items: list[dict[str, Any]], *, page: int = 1, per_page: int = 300,
                 total: int | None = None) -> dict[str, Any]:  # fmt: skip
    total = len(items) if total is None else total
    return {
        "status": "success", "message": "media result", "totalCount": str(total),
        "totalPages": -(-total // per_page), "page": page, "perPage": per_page, "data": items,
    }  # fmt: skip


async def store_row(cast: Cast, store_id: int) -> Store:
    async with cast.hub.db.unit_of_work(write=False) as session:
        store = await session.get(Store, store_id)
        assert store is not None
        return store


async def add(person: Person, **params: Any) -> int:
    body = await person.post(ADD, **params)
    assert body["status"] == "success" and body["message"] == "done", body
    assert set(body["data"]) == {"id"}
    return int(body["data"]["id"])


async def product_of(cast: Cast, shop: Shop, media: int = 0) -> int:
    async with cast.hub.db.unit_of_work(write=True) as session:
        store = await session.get(Store, shop.id)
        assert store is not None
        product = await make_product(session, store, slug=f"gallery-product-{shop.id}-{media}")
        for i in range(media):
            await make_media(session, TargetKind.product, product.id, order=media - i,
                             source=f"img/p/{product.id}-{i}.jpg")  # fmt: skip
        return product.id


# -- edit-store ------------------------------------------------------------------------------


async def test_edit_store_changes_only_the_fields_sent(cast: Cast) -> None:
    shop = await cast.shop()
    manager = manager_of(shop)
    before = await store_row(cast, shop.id)
    sent = {
        "Store[title]": "فروشگاه نو", "Store[phone]": "۰۲۱-۲۲۷۱۲۳۴۵",
        "Store[about]": "<b>تعمیر</b> گوشی",
        "Store[email]": "Shop@Example.com", "Store[telegram]": "avashop",
        "Store[instagram]": "https://instagram.com/ava", "Store[website]": "https://ava.example",
        "Store[address]": "تهران، خیابان ولیعصر", "Store[logo]": "img/logo-new.png",
        "Store[storeFrontImage]": "img/front.jpg", "Store[certificateImage]": "img/cert.jpg",
        "Store[locationImage]": "img/loc.jpg", "mainImage": "https://hojre.example/img/main.jpg",
        "Store[state]": TEHRAN_STATE, "Store[city]": TEHRAN_CITY, "Store[hood]": TAJRISH_HOOD,
        "Store[country]": IRAN_ID, "Store[facebook]": "ava", "Store[twitter]": "ava",
        "Store[googleplus]": "ava", "Store[linkedin]": "ava",
    }  # fmt: skip
    assert await manager.post(EDIT, **sent) == UPDATED
    after = await store_row(cast, shop.id)
    assert (after.title, after.phone, after.about, after.email) == (
        "فروشگاه نو", "02122712345", "تعمیر گوشی", "shop@example.com")  # fmt: skip
    assert (after.logo, after.store_front_image, after.certificate_image, after.location_image,
            after.main_image) == ("img/logo-new.png", "img/front.jpg", "img/cert.jpg",
                                  "img/loc.jpg", "img/main.jpg")  # fmt: skip
    assert (after.country_id, after.state_id, after.city_id, after.hood_id) == (
        IRAN_ID, TEHRAN_STATE, TEHRAN_CITY, TAJRISH_HOOD)  # fmt: skip
    assert after.instagram == "https://instagram.com/ava" and after.website == "https://ava.example"
    assert after.slug == before.slug  # links to the store keep working
    # One field: the rest stays; an empty optional field is cleared.
    assert await manager.post(EDIT, **{"Store[about]": "", "Store[telegram]": "ava2"}) == UPDATED
    again = await store_row(cast, shop.id)
    assert (again.about, again.telegram, again.title, again.hood_id) == (
        None, "ava2", "فروشگاه نو", TAJRISH_HOOD)  # fmt: skip
    # Nothing to change: still a success.
    assert await manager.post(EDIT) == UPDATED


async def test_edit_store_reports_every_failed_rule(cast: Cast) -> None:
    shop = await cast.shop()
    manager = manager_of(shop)
    before = await store_row(cast, shop.id)
    body = await manager.post(EDIT, **{
        "Store[title]": "", "Store[logo]": "", "Store[phone]": "12", "Store[email]": "not-mail",
        "Store[website]": "javascript:alert(1)", "Store[telegram]": "javascript:x",
        "Store[address]": "ab", "Store[about]": "x" * 5001, "Store[mainImage]": "x" * 256,
        "Store[storeFrontImage]": "../etc/passwd",
    })  # fmt: skip
    assert body["status"] == "error" and body["message"] == "Server Error", body
    assert set(body["data"]) == {
        "Logo cannot be blank.",
        "Title cannot be blank.",
        "About should contain at most 5000 characters.",
        "Telegram is not a valid URL.",
        "Website is not a valid URL.",
        "Main Image should contain at most 255 characters.",
        "Store Front Image must be a relative path or an http(s) URL.",
        "Address should contain at least 5 characters.",
        "Phone is not valid",
        "Email is not a valid email address.",
    }, body
    assert (await store_row(cast, shop.id)).title == before.title  # nothing written


async def test_edit_store_places_chain(cast: Cast) -> None:
    shop = await cast.shop()
    manager = manager_of(shop)
    async with cast.hub.db.unit_of_work(write=False) as session:
        far_city = await session.scalar(select(City.id).where(City.state_id != TEHRAN_STATE))
        far_hood = await session.scalar(select(Hood.id).where(Hood.city_id != TEHRAN_CITY))
    ok = {"state": TEHRAN_STATE, "city": TEHRAN_CITY, "hood": TAJRISH_HOOD}
    assert await manager.post(EDIT, **ok) == UPDATED
    # The hood kept is Tajrish's: it no longer belongs.
    assert await manager.post(EDIT, city=far_city) == invalid(
        "City is invalid.", "Hood is invalid."
    )
    assert await manager.post(EDIT, hood=far_hood) == invalid("Hood is invalid.")
    assert await manager.post(EDIT, state="abc") == invalid("State is invalid.")
    assert await manager.post(EDIT, country=999) == invalid("Country is invalid.")
    assert await manager.post(EDIT, country=IRAN_ID) == UPDATED
    row = await store_row(cast, shop.id)
    assert (row.country_id, row.state_id, row.city_id, row.hood_id) == (
        IRAN_ID, TEHRAN_STATE, TEHRAN_CITY, TAJRISH_HOOD)  # fmt: skip
    assert await manager.post(EDIT, hood="") == UPDATED
    assert (await store_row(cast, shop.id)).hood_id is None


# -- the gallery -----------------------------------------------------------------------------


async def test_gallery_add_list_delete_and_the_public_store(cast: Cast, api: Api) -> None:
    shop = await cast.shop()
    manager = manager_of(shop)
    assert await manager.post(LIST) == media_result([])
    second = await add(manager, source="img/b.jpg", type="image", order="۲")
    first = await add(manager, source="img/a.jpg", order=1, title="ورودی")
    listed = await manager.post(LIST)
    assert listed == media_result([
        {"id": first, "title": "ورودی", "type": "image", "store": shop.id, "source": "img/a.jpg",
         "order": 1},
        {"id": second, "title": "", "type": "image", "store": shop.id, "source": "img/b.jpg",
         "order": 2},
    ])  # fmt: skip
    for item in listed["data"]:
        assert set(item) == ITEM_KEYS
    # Paged by page and any of perPage, per-page, pageSize.
    for size in ("perPage", "per-page", "pageSize"):
        page2 = await manager.post(LIST, page=2, **{size: 1})
        assert page2 == media_result([listed["data"][1]], page=2, per_page=1, total=2), size
    assert await manager.post(LIST, page=3, perPage=1) == media_result(
        [], page=3, per_page=1, total=2
    )
    public = await api.get(f"/stores/{shop.id}")
    assert [m["id"] for m in public["storeMedia"]] == [first, second]
    assert await manager.post(DELETE, id=first) == DONE
    assert await manager.post(DELETE, id=first) == err("Media Not Found")
    public = await api.get(f"/stores/{shop.id}")
    assert [m["id"] for m in public["storeMedia"]] == [second]
    assert [m["id"] for m in (await manager.post(LIST))["data"]] == [second]


async def test_add_store_gallery_rules(cast: Cast) -> None:
    manager = manager_of(await cast.shop())
    assert await manager.post(ADD) == invalid("Source cannot be blank.")
    assert await manager.post(ADD, source="javascript:alert(1)", type="gif", order="x") == invalid(
        "Source must be a relative path or an http(s) URL.",
        "Type is invalid.",
        "Order must be an integer.",
    )
    assert await manager.post(ADD, source="img/a.jpg", order=-1) == invalid(
        "Order must be no less than 0."
    )
    assert await manager.post(LIST) == media_result([])
    # A video is a link; an image must be an upload.
    assert await manager.post(ADD, source="img/v.mp4", type="video") == invalid(
        "Source is not a valid URL."
    )
    assert await add(manager, source="https://aparat.com/v/abc", type="video") > 0
    assert await manager.post(ADD, source="img/never-uploaded.jpg") == invalid(
        "Source must be an uploaded image."
    )
    assert await manager.post(ADD, source="https://cdn.example/a.jpg") == invalid(
        "Source must be an uploaded image."
    )


async def test_unique_product_shows_that_products_media(cast: Cast) -> None:
    shop = await cast.shop()
    manager = manager_of(shop)
    bare, rich = await product_of(cast, shop), await product_of(cast, shop, media=2)
    assert await manager.post(UNIQUE, id=bare) == media_result([])
    body = await manager.post(UNIQUE, id=rich)
    assert body["message"] == "media result" and body["totalCount"] == "2"
    assert [m["order"] for m in body["data"]] == [1, 2]
    for item in body["data"]:
        assert set(item) == ITEM_KEYS and item["store"] == shop.id and item["type"] == "image"
    assert await manager.post(UNIQUE, id=999_999) == err("Product Not Found")
    assert await manager.post(UNIQUE, id="abc") == err("Product Not Found")


# -- who may -----------------------------------------------------------------------------------


async def test_isolation_matrix(cast: Cast, api: Api) -> None:
    shop, other = await cast.shop(), await cast.shop()
    mine, theirs = manager_of(shop), manager_of(other)
    their_media = await add(theirs, source="img/theirs.jpg")
    their_product = await product_of(cast, other, media=1)
    before = await store_row(cast, other.id)
    customer, seller = await cast.customer(), other.seller

    # The manager of another store: their records are "not found", their store not theirs.
    assert await mine.post(DELETE, id=their_media) == err("Media Not Found")
    assert await mine.post(UNIQUE, id=their_product) == err("Product Not Found")
    for path, params in ((EDIT, {"title": "ربوده"}), (ADD, {"source": "img/x.jpg"}), (LIST, {})):
        assert await mine.post(path, store=other.id, **params) == NOT_MANAGER, path
    # A seller (of that very store) and a customer: not store managers, on every endpoint.
    calls: tuple[tuple[str, dict[str, Any]], ...] = (
        (EDIT, {"title": "ربوده"}), (ADD, {"source": "img/x.jpg"}), (LIST, {}),
        (DELETE, {"id": their_media}), (UNIQUE, {"id": their_product}),
    )  # fmt: skip
    for person in (seller, customer):
        for path, params in calls:
            assert await person.post(path, **params) == NOT_MANAGER, (person.role, path)
            assert await person.post(path, store=other.id, **params) == NOT_MANAGER, path
    # No login, a wrong token.
    for path, params in calls:
        assert await api.post(path, **params) == NOT_LOGIN, path
        assert (
            await api.post(path, username=theirs.cellphone, token="x" * 32, **params) == NOT_LOGIN
        )
    # Nothing of the other store moved.
    after = await store_row(cast, other.id)
    assert after.title == before.title
    listed = await theirs.post(LIST)
    assert [m["id"] for m in listed["data"]] == [their_media]
    assert (await mine.post(LIST)) == media_result([])
    assert (await theirs.post(UNIQUE, id=their_product))["totalCount"] == "1"


async def test_store_picks_one_of_the_managers_stores(cast: Cast) -> None:
    shop, second = await cast.shop(), await cast.shop()
    manager = manager_of(shop)
    async with cast.hub.db.unit_of_work(write=True) as session:
        store = await session.get(Store, second.id)
        assert store is not None
        store.manager_id = manager.id
    media = await add(manager, source="img/second.jpg", store=second.id)
    assert [m["store"] for m in (await manager.post(LIST, store=second.id))["data"]] == [second.id]
    assert await manager.post(LIST) == media_result([])  # the first by id
    assert await manager.post(EDIT, store=second.id, title="شعبه دوم") == UPDATED
    assert (await store_row(cast, second.id)).title == "شعبه دوم"
    # The record names its store: any store the caller manages.
    assert await manager.post(DELETE, id=media) == DONE


async def test_statements_are_constant_in_the_number_of_media(cast: Cast) -> None:
    await cast.customer()  # warm the pool
    counts: list[tuple[int, ...]] = []
    for n in (1, 6):  # a page with items (an empty one adds the count: the last LIST)
        shop = await cast.shop()
        manager = manager_of(shop)
        async with cast.hub.db.unit_of_work(write=True) as session:
            for i in range(n):
                await make_media(session, TargetKind.store, shop.id, order=i)
        product = await product_of(cast, shop, media=n)
        run: list[int] = []
        for path, params in ((LIST, {}), (UNIQUE, {"id": product}), (ADD, {"source": "img/a.jpg"}),
                             (EDIT, {"title": "تازه", "city": TEHRAN_CITY, "state": TEHRAN_STATE}),
                             (LIST, {"page": 9})):  # fmt: skip
            with count_statements(cast.hub) as sql:
                body = await manager.post(path, **params)
            assert body["status"] == "success", (path, body)
            if path == UNIQUE or params == {}:
                assert len(body["data"]) == n, (path, body)
            run.append(len(sql))
        async with cast.hub.db.unit_of_work(write=False) as session:
            last = await session.scalar(select(Media.id).order_by(Media.id.desc()).limit(1))
        with count_statements(cast.hub) as sql:
            assert await manager.post(DELETE, id=last) == DONE
        run.append(len(sql))
        counts.append(tuple(run))
    # The login, then: the store and the page; the product with its media; the upload (marked
    # used) and the insert; the store, the places and the write; the store, the empty page
    # and its count; the delete.
    assert counts == [(3, 2, 3, 4, 4, 2)] * 2, counts
    customer = await cast.customer()
    with count_statements(cast.hub) as sql:
        assert await customer.post(LIST) == NOT_MANAGER
    assert len(sql) == 1, sql


async def test_not_found_and_managers_of_no_store(cast: Cast) -> None:
    shop = await cast.shop()
    manager = manager_of(shop)
    media = await add(manager, source="img/a.jpg")
    product = await product_of(cast, shop, media=1)
    for wrong in (999_999, "abc", "0", "-1", str(2**31), ""):
        assert await manager.post(DELETE, id=wrong) == err("Media Not Found"), wrong
        assert await manager.post(UNIQUE, id=wrong) == err("Product Not Found"), wrong
    jobless = await cast.manager()
    assert await jobless.post(DELETE, id=media) == err("Media Not Found")
    assert await jobless.post(UNIQUE, id=product) == err("Product Not Found")
    for path, params in ((EDIT, {"title": "ربوده"}), (ADD, {"source": "img/x.jpg"}), (LIST, {})):
        assert await jobless.post(path, **params) == NOT_MANAGER, path
    # A deleted product is gone for its store too; a product of an inactive status is not.
    async with cast.hub.db.unit_of_work(write=True) as session:
        row = await session.get(Product, product)
        assert row is not None
        row.status = Status.inactive
    assert (await manager.post(UNIQUE, id=product))["totalCount"] == "1"
    async with cast.hub.db.unit_of_work(write=True) as session:
        row = await session.get(Product, product)
        assert row is not None
        row.status = "deleted"
    assert await manager.post(UNIQUE, id=product) == err("Product Not Found")
    # The item is the caller's: still there.
    assert [m["id"] for m in (await manager.post(LIST))["data"]] == [media]
