"""A store's sellers, for its manager (API.md §5): ``addseller``, ``mysellers``,
``edit-seller``, ``deleteseller`` and ``active-seller``; and what a dismissed seller may no
longer do."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from hojre.accounts.models import AccessToken, Role, User
from hojre.catalog.models import StoreSeller
from hojre.core.clock import utcnow
from hojre.core.hub import Hub
from tests.conftest import Api, app_client
from tests.factories import count_statements
from tests.messaging.conftest import NOT_LOGIN, PASSWORD, Cast, Person, Shop, err, invalid

# The paths these tests send, made uploads by the hub fixture (tests/conftest.py): an image
# field takes no other path.
UPLOADED = (
    "img/a.png",
    "img/avatars/s.png",
    "img/avatars/seller.png",
)


pytestmark = pytest.mark.anyio

ADD = "/store-manager/addseller"
MINE = "/store-manager/mysellers"
EDIT = "/store-manager/edit-seller"
DELETE = "/store-manager/deleteseller"
ACTIVATE = "/store-manager/active-seller"
NOT_MANAGER = err("You are not store manager")
NOT_FOUND = err("Seller Not Found")
EDITED = {"status": "success", "message": "Seller Edited", "data": ""}
DEACTIVATED = {"status": "success", "message": "Seller Successfully Deactived", "data": ""}
ACTIVATED = {"status": "success", "message": "Seller Successfully activated", "data": ""}
DEFAULT_AVATAR = "img/defaults/avatars/51.png"
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# 0937…: a range no other test helper hands out.
_PHONES = itertools.count(1)


def new_cellphone() -> str:
    return f"0937{next(_PHONES):07d}"


def manager_of(shop: Shop) -> Person:
    assert shop.manager is not None
    return shop.manager


def seller_fields(cellphone: str, **fields: str) -> dict[str, str]:
    return {"Seller[name]": "سارا", "Seller[family]": "محمدی", "Seller[cellPhone]": cellphone,
            "Seller[password]": "seller-pass", **fields}  # fmt: skip


async def add(manager: Person, cellphone: str | None = None, **fields: Any) -> int:
    body = await manager.post(ADD, **seller_fields(cellphone or new_cellphone()), **fields)
    assert body["status"] == "success" and body["message"] == "Seller Created", body
    assert set(body["data"]) == {"id"} and type(body["data"]["id"]) is int
    return int(body["data"]["id"])


async def listed(manager: Person, **params: Any) -> list[dict[str, Any]]:
    body = await manager.post(MINE, **params)
    assert body["status"] == "success" and body["message"] == "sellers", body
    assert isinstance(body["data"], list)
    return list(body["data"])


async def store_login(api: Api, cellphone: str, password: str = "seller-pass") -> Any:
    return await api.post("/user/store-login", username=cellphone, password=password)


async def log_in(api: Api, user_id: int, cellphone: str, password: str = "seller-pass") -> Person:
    body = await store_login(api, cellphone, password)
    assert body["message"] == "Login Success", body
    return Person(api, user_id, cellphone, Role.seller, "", "", body["data"]["token"])


async def user_row(hub: Hub, user_id: int) -> User:
    async with hub.db.unit_of_work(write=False) as session:
        user = await session.get(User, user_id)
    assert user is not None
    return user


async def seller_rows(hub: Hub, user_id: int) -> list[tuple[int, str]]:
    async with hub.db.unit_of_work(write=False) as session:
        rows = await session.execute(
            select(StoreSeller.store_id, StoreSeller.status)
            .where(StoreSeller.user_id == user_id)
            .order_by(StoreSeller.store_id)
        )
        return [(int(r[0]), str(r[1])) for r in rows]


async def second_store(cast: Cast, manager: Person, *sellers: Person) -> int:
    """Another store of the same manager (a later id than their first)."""
    return (await cast.shop(sellers=0, manager=manager, staff=sellers, title="شعبه")).id


def item(user_id: int, name: str, family: str, avatar: str = DEFAULT_AVATAR, *,
         online: bool = False, status: str = "active") -> dict[str, Any]:  # fmt: skip
    return {"id": user_id, "name": name, "fmaily": family, "avatar": avatar,
            "onlineStatus": "online" if online else "offline", "status": status}  # fmt: skip


# -- addseller, mysellers ---------------------------------------------------------------------


async def test_add_and_list(cast: Cast) -> None:
    shop = await cast.shop()
    manager, old = manager_of(shop), shop.seller
    cellphone = new_cellphone()
    # Plain names too, and Persian digits in the number.
    body = await manager.post(ADD, name="سارا", family="محمدی",
                              cellPhone=cellphone.translate(PERSIAN_DIGITS),
                              password="seller-pass", email="Sara@Example.ir")  # fmt: skip
    assert body["status"] == "success" and body["message"] == "Seller Created", body
    new = int(body["data"]["id"])
    with_avatar = await add(manager, **{"Seller[avatar]": "img/avatars/s.png"})

    user = await user_row(cast.hub, new)
    assert (user.cellphone, user.role, user.is_active, user.email) == (
        cellphone, Role.seller, True, "sara@example.ir",
    )  # fmt: skip
    assert user.activated_at is not None and user.seen_at is None
    assert await seller_rows(cast.hub, new) == [(shop.id, "active")]
    assert cast.api.sms() == []  # the manager vouches: no SMS

    # Oldest first; the old seller logged in a moment ago (online), the new ones never did.
    assert await listed(manager) == [
        item(old.id, old.name, old.family, "img/avatars/seller.png", online=True),
        item(new, "سارا", "محمدی"),
        item(with_avatar, "سارا", "محمدی", "img/avatars/s.png"),
    ]
    # The new seller logs in with the password the manager gave and works for the store.
    seller = await log_in(cast.api, new, cellphone)
    assert (await seller.post("/seller/products"))["message"] == "List of products"
    assert [s["onlineStatus"] for s in await listed(manager)] == ["online", "online", "offline"]
    assert await listed(manager, store=str(shop.id)) == await listed(manager)


async def test_a_store_without_sellers(cast: Cast) -> None:
    shop = await cast.shop(sellers=0)
    assert await manager_of(shop).post(MINE) == {
        "status": "success", "message": "sellers", "data": []
    }  # fmt: skip


async def test_validation_reports_every_rule_at_once(cast: Cast) -> None:
    shop = await cast.shop()
    manager = manager_of(shop)
    assert await manager.post(ADD) == invalid(
        "Name cannot be blank.", "Family cannot be blank.", "Cell Phone cannot be blank.",
        "Password cannot be blank.",
    )  # fmt: skip
    body = await manager.post(ADD, **{
        "Seller[name]": "ab", "Seller[family]": "ف" * 101, "Seller[cellPhone]": "0912345",
        "Seller[avatar]": "javascript:alert(1)", "Seller[password]": "12345",
        "Seller[email]": "not-an-address",
    })  # fmt: skip
    assert body == invalid(
        "Name should contain at least 3 characters.",
        "Family should contain at most 100 characters.",
        "Cell Phone is invalid.",
        "Avatar is not a valid URL.",
        "Password should contain at least 6 characters.",
        "Email is not a valid email address.",
    )
    body = await manager.post(ADD, **seller_fields("09121234567", **{
        "Seller[password]": "x" * 129, "Seller[name]": "   "}))  # fmt: skip
    assert body == invalid(
        "Name cannot be blank.", "Password should contain at most 128 characters."
    )
    assert await listed(manager) == [item(shop.seller.id, shop.seller.name, shop.seller.family,
                                          "img/avatars/seller.png", online=True)]  # fmt: skip


async def test_a_number_with_an_account_is_refused_never_taken_over(cast: Cast) -> None:
    shop = await cast.shop()
    manager = manager_of(shop)
    customer = await cast.customer()
    await add(manager, email="taken@example.ir")
    taken = seller_fields(customer.cellphone.translate(PERSIAN_DIGITS),
                          **{"Seller[email]": "TAKEN@example.ir"})  # fmt: skip
    body = await manager.post(ADD, **taken)
    assert body == invalid(
        "Cell Phone has already been taken.", "This email address has already been taken."
    )
    # A seller's or a manager's number likewise.
    for person in (shop.seller, manager):
        body = await manager.post(ADD, **seller_fields(person.cellphone))
        assert body == invalid("Cell Phone has already been taken."), person
    # The customer's account is as it was: their password, their role, their session.
    row = await user_row(cast.hub, customer.id)
    assert row.role == Role.customer
    assert (await customer.get("/users"))["_meta"]["totalCount"] == 1
    body = await cast.api.post("/user/login", username=customer.cellphone, password=PASSWORD)
    assert body["message"] == "Login Success"
    assert await seller_rows(cast.hub, customer.id) == []


# -- who may --------------------------------------------------------------------------------


async def test_refusals(cast: Cast) -> None:
    shop, other = await cast.shop(), await cast.shop()
    manager = manager_of(shop)
    customer = await cast.customer()
    jobless = await cast.manager()  # a store manager of no store
    mine, theirs = shop.seller, other.seller
    every: list[tuple[str, dict[str, Any]]] = [
        (ADD, seller_fields(new_cellphone())), (MINE, {}), (EDIT, {"seller": mine.id}),
        (DELETE, {"seller": mine.id}), (ACTIVATE, {"seller": mine.id}),
    ]  # fmt: skip
    for path, params in every:
        for person in (mine, customer, jobless):
            assert await person.post(path, **params) == NOT_MANAGER, (path, person.role)
        assert await cast.api.post(path, **params) == NOT_LOGIN, path
        # A store that is not one of theirs: the side's refusal, as statistics answers it.
        if path in (ADD, MINE, DELETE, ACTIVATE):
            for store in (str(other.id), "999999", "abc"):
                body = await manager.post(path, store=store, **params)
                assert body == NOT_MANAGER, (path, store)
    # A seller who is not one of theirs: another store's, nobody, not a number, a customer.
    for path in (EDIT, DELETE, ACTIVATE):
        for seller in (theirs.id, customer.id, manager.id, 999999, "abc", "", "-1"):
            assert await manager.post(path, seller=seller, name="نام تازه") == NOT_FOUND, (
                path, seller,
            )  # fmt: skip
    assert await seller_rows(cast.hub, theirs.id) == [(other.id, "active")]
    assert (await user_row(cast.hub, theirs.id)).name == theirs.name
    assert len(await listed(manager_of(other))) == 1


# -- edit-seller ----------------------------------------------------------------------------


async def test_edit_changes_only_what_is_sent(cast: Cast) -> None:
    shop = await cast.shop()
    manager = manager_of(shop)
    cellphone = new_cellphone()
    seller_id = await add(manager, cellphone, **{"Seller[email]": "s@example.ir",
                                                  "Seller[avatar]": "img/a.png"})  # fmt: skip
    seller = await log_in(cast.api, seller_id, cellphone)
    assert await manager.post(EDIT, seller=seller_id, **{"Seller[family]": "کاظمی"}) == EDITED
    row = await user_row(cast.hub, seller_id)
    assert (row.name, row.family, row.email, row.avatar, row.cellphone) == (
        "سارا", "کاظمی", "s@example.ir", "img/a.png", cellphone,
    )  # fmt: skip
    # Nothing sent: nothing changes, still a success. A blank password keeps the password.
    assert await manager.post(EDIT, seller=seller_id) == EDITED
    assert await manager.post(EDIT, seller=seller_id, password="", avatar="", email="") == EDITED
    row = await user_row(cast.hub, seller_id)
    assert (row.email, row.avatar) == (None, None)
    assert (await seller.get("/users"))["_meta"]["totalCount"] == 1  # still logged in
    # The rules of add: all at once; blank required fields refused, nothing written.
    body = await manager.post(EDIT, seller=seller_id, name="", family="ab", cellPhone="",
                              password="123", email="x@")  # fmt: skip
    assert body == invalid(
        "Name cannot be blank.", "Family should contain at least 3 characters.",
        "Cell Phone cannot be blank.", "Password should contain at least 6 characters.",
        "Email is not a valid email address.",
    )  # fmt: skip
    others = await cast.customer()
    await add(manager, email="used@example.ir")
    body = await manager.post(EDIT, seller=seller_id, cellPhone=others.cellphone,
                              email="used@example.ir")  # fmt: skip
    assert body == invalid(
        "Cell Phone has already been taken.", "This email address has already been taken."
    )
    # Its own number and email are not "taken".
    assert await manager.post(EDIT, seller=seller_id, cellPhone=cellphone) == EDITED
    assert (await user_row(cast.hub, seller_id)).family == "کاظمی"


async def test_new_credentials_end_the_sellers_sessions(cast: Cast) -> None:
    shop = await cast.shop()
    manager = manager_of(shop)
    cellphone = new_cellphone()
    seller_id = await add(manager, cellphone)
    seller = await log_in(cast.api, seller_id, cellphone)
    assert await manager.post(EDIT, seller=seller_id, password="another-pass") == EDITED
    assert await seller.get("/users") == NOT_LOGIN
    wrong = await store_login(cast.api, cellphone)
    assert wrong == err("Username or Password is incorrect")
    seller = await log_in(cast.api, seller_id, cellphone, "another-pass")
    # A new number (Persian digits): the login is the new number.
    moved = new_cellphone()
    body = await manager.post(
        EDIT, seller=seller_id, **{"Seller[cellPhone]": moved.translate(PERSIAN_DIGITS)}
    )
    assert body == EDITED
    assert await seller.get("/users") == NOT_LOGIN
    assert (await store_login(cast.api, cellphone, "another-pass"))["message"] == (
        " User not found "
    )
    await log_in(cast.api, seller_id, moved, "another-pass")
    assert (await user_row(cast.hub, seller_id)).cellphone == moved


# -- deleteseller, active-seller --------------------------------------------------------------


async def test_a_dismissed_seller_is_refused_until_activated(cast: Cast) -> None:
    shop = await cast.shop(sellers=2)
    manager = manager_of(shop)
    dismissed, colleague = shop.sellers
    customer = await cast.customer()
    await customer.post("/user/add-favorite", target="store", id=str(shop.id))

    assert await manager.post(DELETE, seller=str(dismissed.id).translate(PERSIAN_DIGITS)) == (
        DEACTIVATED
    )
    assert await manager.post(DELETE, seller=dismissed.id) == DEACTIVATED  # again: the same
    assert await seller_rows(cast.hub, dismissed.id) == [(shop.id, "inactive")]
    # Listed still (the manager needs the id to re-activate), marked inactive.
    assert [(s["id"], s["status"]) for s in await listed(manager)] == [
        (dismissed.id, "inactive"), (colleague.id, "active"),
    ]  # fmt: skip
    # The seller side, offers, the store login, new chats: all refused.
    assert await dismissed.post("/seller/products") == err("You are not seller")
    assert await dismissed.post("/seller/statistics") == err("You are not seller")
    body = await dismissed.post("/seller/send-offer", user=str(customer.id), text="تخفیف")
    assert body == err("You are not seller")
    assert await store_login(cast.api, dismissed.cellphone, PASSWORD) == err(
        "You are not seller or store manager"
    )
    body = await customer.post("/user/start-chat", store=shop.id, seller=dismissed.id)
    assert body == err("Seller Not Found")
    for _ in range(3):  # new chats go to the active seller
        body = await customer.post("/user/start-chat", store=shop.id)
        assert body["message"] == "Chat Started", body
    # The store's page shows its active sellers only.
    page = await cast.api.get(f"/stores/{shop.id}")
    assert [s["user"] for s in page["storeSellers"]] == [colleague.id]
    # The colleague works on.
    assert (await colleague.post("/seller/products"))["message"] == "List of products"

    assert await manager.post(ACTIVATE, seller=dismissed.id) == ACTIVATED
    assert await seller_rows(cast.hub, dismissed.id) == [(shop.id, "active")]
    assert (await dismissed.post("/seller/products"))["message"] == "List of products"
    body = await dismissed.post("/seller/send-offer", user=str(customer.id), text="تخفیف")
    assert body["message"] == "Offer Sent", body
    assert (await store_login(cast.api, dismissed.cellphone, PASSWORD))["message"] == (
        "Login Success"
    )


async def test_a_dismissed_seller_no_longer_answers_their_chats(cast: Cast) -> None:
    shop = await cast.shop()
    customer = await cast.customer()
    chat = (await customer.post("/user/start-chat", store=shop.id))["data"]["id"]
    assert await manager_of(shop).post(DELETE, seller=shop.seller.id) == DEACTIVATED
    body = await shop.seller.post("/user/send-chat-message", id=chat, text="سلام")
    assert body == err("there is no chat for u")


async def test_store_picks_which_store_a_status_changes_in(cast: Cast) -> None:
    shop = await cast.shop()
    manager, seller = manager_of(shop), shop.seller
    branch = await second_store(cast, manager, seller)
    only_branch = await cast.seller()
    async with cast.hub.db.unit_of_work(write=True) as session:
        session.add(StoreSeller(store_id=branch, user_id=only_branch.id))
    # Without store: the first store by id.
    assert await manager.post(DELETE, seller=seller.id) == DEACTIVATED
    assert await seller_rows(cast.hub, seller.id) == [(shop.id, "inactive"), (branch, "active")]
    # Still a seller of the branch: the seller side and the store login stay open there.
    assert (await seller.post("/seller/products"))["message"] == "List of products"
    assert (await store_login(cast.api, seller.cellphone, PASSWORD))["message"] == "Login Success"
    assert await manager.post(DELETE, seller=only_branch.id) == NOT_FOUND
    assert await manager.post(DELETE, seller=only_branch.id, store=branch) == DEACTIVATED
    assert await manager.post(DELETE, seller=seller.id, store=branch) == DEACTIVATED
    assert await seller_rows(cast.hub, seller.id) == [(shop.id, "inactive"), (branch, "inactive")]
    assert await seller.post("/seller/products") == err("You are not seller")
    assert await manager.post(ACTIVATE, seller=seller.id, store=str(branch)) == ACTIVATED
    assert await seller_rows(cast.hub, seller.id) == [(shop.id, "inactive"), (branch, "active")]
    assert [s["id"] for s in await listed(manager, store=branch)] == [seller.id, only_branch.id]
    # edit-seller names the seller of any of the caller's stores.
    assert await manager.post(EDIT, seller=only_branch.id, name="نام تازه") == EDITED


# -- onlineStatus ---------------------------------------------------------------------------


async def seen_ago(hub: Hub, user_id: int, ago: timedelta) -> None:
    """The user was last seen ``ago``: their seen_at and their tokens' last use."""
    async with hub.db.unit_of_work(write=True) as session:
        await session.execute(update(User).where(User.id == user_id)
                              .values(seen_at=utcnow() - ago))  # fmt: skip
        await session.execute(update(AccessToken).where(AccessToken.user_id == user_id)
                              .values(last_used_at=utcnow() - ago))  # fmt: skip


async def test_online_is_a_request_in_the_last_five_minutes(cast: Cast) -> None:
    shop = await cast.shop()
    manager, seller = manager_of(shop), shop.seller

    async def status() -> str:
        [only] = await listed(manager)
        return str(only["onlineStatus"])

    assert await status() == "online"  # logged in a moment ago
    await seen_ago(cast.hub, seller.id, timedelta(minutes=6))
    assert await status() == "offline"
    await seen_ago(cast.hub, seller.id, timedelta(minutes=4))
    assert await status() == "online"
    await seen_ago(cast.hub, seller.id, timedelta(minutes=6))
    # A request (any, authenticated) is a sighting; seen_at moves after it.
    with count_statements(cast.hub) as sql:
        assert (await seller.post("/seller/statistics"))["message"] == "success"
    assert len(sql) == 3, sql  # the login, the store; then seen_at
    assert await status() == "online"
    seen = (await user_row(cast.hub, seller.id)).seen_at
    assert seen is not None and utcnow() - seen < timedelta(minutes=1)
    # At most once a minute: the next request writes nothing.
    with count_statements(cast.hub) as sql:
        assert (await seller.post("/seller/statistics"))["message"] == "success"
    assert len(sql) == 2, sql
    assert (await user_row(cast.hub, seller.id)).seen_at == seen
    # A failed request (refused) is not counted: nothing after it.
    await seen_ago(cast.hub, seller.id, timedelta(minutes=6))
    assert await seller.post(MINE) == NOT_MANAGER
    assert await status() == "offline"


# -- statements -------------------------------------------------------------------------------


async def test_statements_are_constant_in_the_number_of_sellers(cast: Cast) -> None:
    await cast.customer()  # warm the pool
    counts: dict[str, list[int]] = {k: [] for k in ("add", "list", "edit", "password",
                                                    "delete", "activate")}  # fmt: skip
    for n in (1, 6):
        shop = await cast.shop(sellers=n)
        manager = manager_of(shop)
        with count_statements(cast.hub) as sql:
            seller_id = await add(manager)
        counts["add"].append(len(sql))
        with count_statements(cast.hub) as sql:
            assert len(await listed(manager)) == n + 1
        counts["list"].append(len(sql))
        with count_statements(cast.hub) as sql:
            assert await manager.post(EDIT, seller=seller_id, name="نام تازه") == EDITED
        counts["edit"].append(len(sql))
        with count_statements(cast.hub) as sql:
            assert await manager.post(EDIT, seller=shop.seller.id, password="pass-word") == EDITED
        counts["password"].append(len(sql))
        with count_statements(cast.hub) as sql:
            assert await manager.post(DELETE, seller=seller_id) == DEACTIVATED
        counts["delete"].append(len(sql))
        with count_statements(cast.hub) as sql:
            assert await manager.post(ACTIVATE, seller=seller_id) == ACTIVATED
        counts["activate"].append(len(sql))
    # The login, then: the store and the owners, the user, the seller; the page; the
    # checks and the write (a password: and the tokens); the update.
    assert counts == {"add": [4] * 2, "list": [2] * 2, "edit": [3] * 2, "password": [4] * 2,
                      "delete": [2] * 2, "activate": [2] * 2}  # fmt: skip


# -- races (PostgreSQL) -----------------------------------------------------------------------


@pytest.fixture
async def pg_api(pg_hub: Hub) -> AsyncIterator[Api]:
    async with app_client(pg_hub) as client:
        yield Api(client, pg_hub)


async def test_parallel_adds_of_one_number_make_one_account(pg_api: Api) -> None:
    cast = Cast(pg_api)
    shop = await cast.shop()
    manager = manager_of(shop)
    cellphone = new_cellphone()
    bodies = await asyncio.gather(*(
        manager.post(ADD, **seller_fields(cellphone, **{"Seller[name]": f"فروشنده {i}"}))
        for i in range(20)
    ))  # fmt: skip
    messages = Counter(str(b["message"]) for b in bodies)
    assert messages == Counter({"Seller Created": 1, "Server Error": 19}), bodies
    refused = [b for b in bodies if b["message"] == "Server Error"]
    assert all(b == invalid("Cell Phone has already been taken.") for b in refused), refused
    [made] = [b["data"]["id"] for b in bodies if b["message"] == "Seller Created"]
    async with pg_api.hub.db.unit_of_work(write=False) as session:
        users = list(await session.scalars(select(User.id).where(User.cellphone == cellphone)))
    assert users == [made]
    assert await seller_rows(pg_api.hub, made) == [(shop.id, "active")]
    # The manager vouched: the account is active, with no session until the seller logs in.
    async with pg_api.hub.db.unit_of_work(write=False) as session:
        tokens = list(await session.scalars(
            select(AccessToken.id).where(AccessToken.user_id == made)))  # fmt: skip
    assert tokens == []
