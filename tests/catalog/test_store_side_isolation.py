"""The store side's isolation matrix (API.md §5): every ``/web/store-manager/…`` and
``/web/seller/…`` endpoint, called about store A's records by everyone who may not act for A:
another store's manager and seller, A's dismissed seller, A's seller on the manager's paths, a
customer, nobody logged in. Each gets the endpoint's exact refusal or "not found", never a byte
of A's data, and A's rows are the same afterwards. A route with no row here fails the test, so
a new store-side endpoint cannot skip it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import pytest
from sqlalchemy import or_, select

from hojre.accounts.models import User
from hojre.catalog.models import Media, Product, Status, Store, StoreSeller
from hojre.customers.models import StoreCustomer
from hojre.interactions.registry import TargetKind
from hojre.messaging.models import Chat, Offer, StoreMessage
from hojre.web_v1.app import ROUTERS
from tests.catalog.test_statistics import manager_of
from tests.conftest import Api
from tests.messaging.conftest import NOT_LOGIN, Cast, Person, Shop, err

# The paths these tests send, made uploads by the hub fixture (tests/conftest.py): an image
# field takes no other path.
UPLOADED = (
    "img/secret-a.jpg",
    "img/x.jpg",
)


pytestmark = pytest.mark.anyio

MANAGER: Final = "/store-manager/"
SELLER: Final = "/seller/"
REFUSED: Final = {MANAGER: err("You are not store manager"), SELLER: err("You are not seller")}
# Marks in A's records: no answer to an outsider may carry one.
MARKS: Final = ("کالای-محرمانه-الف", "img/secret-a.jpg", "پیام-محرمانه-الف", "فروشنده-محرمانه")


@dataclass
class World:
    a: Shop
    b: Shop
    customer: Person
    dismissed: Person  # was a seller of A
    product: int  # A's
    media: int  # an item of A's gallery
    message: int  # a customer's message to A
    seller: int  # A's seller's user id


# What an outsider of A's staff gets: the side's refusal, or that endpoint's "not found" for a
# record of A it names, or (OWN) an answer about their own store that shows nothing of A's.
REFUSE: Final = "refuse"
OWN: Final = "own"


@dataclass(frozen=True)
class Case:
    params: Callable[[World], dict[str, Any]]
    outsider: str  # REFUSE, OWN or the exact "not found" message


NEW_SELLER: Final = {"Seller[name]": "سارا", "Seller[family]": "کریمی",
                     "Seller[cellPhone]": "09359990001", "Seller[password]": "secret9"}  # fmt: skip


# What any request of a user moves (when they were last seen, where): not A's data.
MOVING: Final = frozenset({"seen_at", "longitude", "latitude", "located_at"})


def _store(w: World) -> dict[str, Any]:
    return {"store": w.a.id}


def _product(w: World) -> dict[str, Any]:
    return {"product": w.product, "title": "x", "price": "1"}


CASES: Final[dict[str, Case]] = {
    "/store-manager/store-messages": Case(_store, OWN),
    "/store-manager/unique-store-message": Case(lambda w: {"id": w.message}, "Message Not Found"),
    "/store-manager/answer-store-message": Case(
        lambda w: {"id": w.message, "message": w.message, "answer": "پاسخ"}, "Message Not Found"
    ),
    "/store-manager/offers": Case(_store, OWN),
    "/seller/send-offer": Case(
        lambda w: {"store": w.a.id, "user": w.customer.id, "text": "تخفیف"}, REFUSE
    ),
    "/store-manager/edit-store": Case(lambda w: {"store": w.a.id, "title": "دزدیده"}, REFUSE),
    "/store-manager/add-store-gallery": Case(
        lambda w: {"store": w.a.id, "source": "img/x.jpg"}, REFUSE
    ),
    "/store-manager/delete-store-gallery": Case(lambda w: {"id": w.media}, "Media Not Found"),
    "/store-manager/list-gallery": Case(_store, REFUSE),
    "/store-manager/unique-product": Case(lambda w: {"id": w.product}, "Product Not Found"),
    "/store-manager/addseller": Case(lambda w: {"store": w.a.id, **NEW_SELLER}, REFUSE),
    "/store-manager/mysellers": Case(_store, REFUSE),
    # Naming A's seller (no store: the caller's own, where that seller is not).
    "/store-manager/edit-seller": Case(
        lambda w: {"seller": w.seller, "Seller[name]": "دزدیده", "Seller[password]": "taken1"},
        "Seller Not Found",
    ),
    "/store-manager/deleteseller": Case(lambda w: {"seller": w.seller}, "Seller Not Found"),
    "/store-manager/active-seller": Case(lambda w: {"seller": w.dismissed.id}, "Seller Not Found"),
    **{
        f"{side}{name}": case
        for side in (MANAGER, SELLER)
        for name, case in {
            "statistics": Case(_store, REFUSE),
            "products": Case(_store, REFUSE),
            "add-product": Case(lambda w: {"store": w.a.id, "title": "x", "price": "1"}, REFUSE),
            "edit-product": Case(_product, "Product Not Found"),
            "delete-product": Case(_product, "Product Not Found"),
            "physical-customers": Case(_store, REFUSE),
            "virtual-customers": Case(_store, REFUSE),
        }.items()
    },
}


def store_side_routes() -> set[str]:
    return {e.path for r in ROUTERS for e in r.endpoints if e.path.startswith((MANAGER, SELLER))}


def test_every_store_side_route_is_in_the_matrix() -> None:
    assert sorted(store_side_routes() ^ set(CASES)) == []


async def _world(cast: Cast) -> World:
    a, b = await cast.shop(title="فروشگاه الف"), await cast.shop(title="فروشگاه ب")
    customer = await cast.customer()
    dismissed = await cast.add_seller(a, status=Status.inactive)
    boss = manager_of(a)
    body = await boss.post(f"{MANAGER}add-product", title=MARKS[0], price="100",
                           **{"Gallery[1]": MARKS[1]})  # fmt: skip
    product = int(body["data"]["id"])
    body = await boss.post(f"{MANAGER}add-store-gallery", source=MARKS[1], title=MARKS[0])
    media = int(body["data"]["id"])
    body = await customer.post("/user/submit-store-message", store=a.id, title="سلام",
                               text=MARKS[2])  # fmt: skip
    message = int(body["data"]["id"])
    sent = await a.seller.post(f"{SELLER}send-offer", user=customer.id, text=MARKS[2])
    assert sent["status"] == "success", sent
    return World(a, b, customer, dismissed, product, media, message, a.seller.id)


async def _fingerprint(cast: Cast, store_id: int) -> list[tuple[Any, ...]]:
    """Every row of store A and of what belongs to it, as it is."""
    async with cast.hub.db.unit_of_work(write=False) as session:
        products = select(Product.id).where(Product.store_id == store_id)
        queries = [
            select(Store).where(Store.id == store_id),
            select(Product).where(Product.store_id == store_id),
            select(Media).where(
                or_(
                    (Media.target == TargetKind.store) & (Media.target_id == store_id),
                    (Media.target == TargetKind.product) & Media.target_id.in_(products),
                )
            ),
            select(StoreSeller).where(StoreSeller.store_id == store_id),
            select(StoreMessage).where(StoreMessage.store_id == store_id),
            select(Offer).where(Offer.store_id == store_id),
            select(Chat).where(Chat.store_id == store_id),
            select(StoreCustomer).where(StoreCustomer.store_id == store_id),
            # The staff's accounts (edit-seller), and no account for addseller's number.
            select(User).where(
                or_(
                    User.id.in_(
                        select(StoreSeller.user_id).where(StoreSeller.store_id == store_id)
                    ),
                    User.cellphone == NEW_SELLER["Seller[cellPhone]"],
                )
            ),
        ]
        rows: list[tuple[Any, ...]] = []
        for query in queries:
            for row in (await session.scalars(query)).all():
                table = row.__table__
                moving = MOVING if isinstance(row, User) else frozenset()
                rows.append(
                    tuple(getattr(row, c.key) for c in table.columns if c.key not in moving)
                )
        return sorted(rows, key=repr)


def _leaks(body: Any) -> list[str]:
    text = repr(body)
    return [mark for mark in MARKS if mark in text]


async def test_no_outsider_reaches_another_stores_records(cast: Cast, api: Api) -> None:
    w = await _world(cast)
    before = await _fingerprint(cast, w.a.id)
    assert len(before) >= 6  # the store, product, two media, sellers, message, offer
    outsiders: dict[str, list[tuple[str, Person]]] = {
        MANAGER: [("foreign manager", manager_of(w.b))],
        SELLER: [
            ("foreign seller", w.b.seller),
            ("foreign manager", manager_of(w.b)),
            ("dismissed seller", w.dismissed),
        ],
    }
    refused: dict[str, list[tuple[str, Person]]] = {
        MANAGER: [("customer", w.customer), ("this store's seller", w.a.seller)],
        SELLER: [("customer", w.customer)],
    }
    calls = 0
    for path in sorted(CASES):
        case = CASES[path]
        side = MANAGER if path.startswith(MANAGER) else SELLER
        params = case.params(w)
        assert await api.post(path, **params) == NOT_LOGIN, path
        for who, person in refused[side]:
            assert await person.post(path, **params) == REFUSED[side], (path, who)
        for who, person in outsiders[side]:
            body = await person.post(path, **params)
            calls += 1
            expected = case.outsider
            if expected == OWN and who == "dismissed seller":
                expected = REFUSE
            if expected == REFUSE:
                assert body == REFUSED[side], (path, who, body)
            elif expected == OWN:
                assert body["status"] == "success", (path, who, body)
            else:
                assert body == err(expected), (path, who, body)
            assert _leaks(body) == [], (path, who, body)
    assert calls >= len(CASES)
    assert await _fingerprint(cast, w.a.id) == before
