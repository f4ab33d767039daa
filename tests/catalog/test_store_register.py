"""Store registration (API.md §5): ``/web/user/store-register``, and the operator's approval
and rejection (``hojre.catalog.registration``)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy import func, select

from hojre.accounts.models import Role, User
from hojre.catalog import registration
from hojre.catalog.errors import StoreNotFound, StoreStatusUnchanged
from hojre.catalog.models import Status, Store
from hojre.catalog.service import unique_slug
from hojre.core.hub import Hub
from hojre.sms.models import SmsMessage
from tests.conftest import Api, app_client
from tests.factories import (
    DIGITAL_CATEGORY,
    TAJRISH_HOOD,
    TEHRAN_CITY,
    TEHRAN_STATE,
    count_statements,
    make_bazaar,
    make_mall,
)
from tests.messaging.conftest import err

# The paths these tests send, made uploads by the hub fixture (tests/conftest.py): an image
# field takes no other path.
UPLOADED = ("img/uploads/licence.jpg",)


pytestmark = pytest.mark.anyio

PATH = "/user/store-register"
PHONE = "09127770001"
DONE = "User intial register is done"
# 198.51.100.x: a documentation range the other tests of throttles use for strangers.
STRANGER = "198.51.100.77"


def form(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "username": PHONE,
        "password": "secret1",
        "email": "Owner@Example.com",
        "name": "رضا",
        "family": "رضایی",
        "title": "حجره کتاب",
        "address": "تهران، خیابان انقلاب",
        "phone": "۰۲۱-۶۶۴۰۱۲۳۴",
        "state": TEHRAN_STATE,
        "city": TEHRAN_CITY,
        "hood": TAJRISH_HOOD,
        "category": DIGITAL_CATEGORY,
        "certificate": "img/uploads/licence.jpg",
        "x": "51.4336",
        "y": "35.8041",
    }
    values.update(overrides)
    return values


async def users(hub: Hub) -> list[User]:
    async with hub.db.unit_of_work(write=False) as session:
        return list(await session.scalars(select(User).order_by(User.id)))


async def stores(hub: Hub) -> list[Store]:
    async with hub.db.unit_of_work(write=False) as session:
        return list(await session.scalars(select(Store).order_by(Store.id)))


async def outbox_rows(hub: Hub) -> int:
    async with hub.db.unit_of_work(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(SmsMessage)) or 0)


async def registered(api: Api, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = await api.post(PATH, **form(**overrides))
    assert body["message"] == DONE, body
    return body


async def activated_manager(api: Api, **overrides: Any) -> dict[str, Any]:
    """Store-register, activate, store-login: the login's data."""
    body = await registered(api, **overrides)
    code = await api.last_code(body["username"])
    activation = await api.post("/user/checkactivationcode", username=body["username"], code=code)
    assert activation["message"] == "User is Activated", activation
    login = await api.post(
        "/user/store-login", username=body["username"], password=form(**overrides)["password"]
    )
    assert login["message"] == "Login Success", login
    data: dict[str, Any] = login["data"]
    return data


# -- success ---------------------------------------------------------------------------------


async def test_success_shape_account_and_pending_store(api: Api) -> None:
    body = await api.post(PATH, **form())
    [user] = await users(api.hub)
    assert body == {"status": "success", "message": DONE, "id": user.id, "username": PHONE}
    assert type(body["id"]) is int and type(body["username"]) is str
    # The manager: role 6, inactive until the code, the form's name and email.
    assert (user.role, user.is_active, user.name, user.family, user.email) == (
        Role.store_manager, False, "رضا", "رضایی", "owner@example.com")  # fmt: skip
    [store] = await stores(api.hub)
    assert (store.status, store.manager_id, store.title, store.slug) == (
        Status.pending, user.id, "حجره کتاب", "حجره-کتاب")  # fmt: skip
    assert (store.address, store.phone, store.email, store.category_id) == (
        "تهران، خیابان انقلاب", "02166401234", "owner@example.com", DIGITAL_CATEGORY)  # fmt: skip
    assert (store.country_id is not None, store.state_id, store.city_id, store.hood_id) == (
        True, TEHRAN_STATE, TEHRAN_CITY, TAJRISH_HOOD)  # fmt: skip
    assert (store.longitude, store.latitude) == ("51.4336", "35.8041")
    assert store.certificate_image == "img/uploads/licence.jpg"
    assert (store.logo, store.main_image, store.store_front_image, store.location_image) == (
        "img/defaults/storeLogo.png", "img/defaults/storeMainImage.png",
        "img/defaults/storeFrontImage.png", "img/defaults/locationimage.png")  # fmt: skip
    assert (store.bazaar_id, store.mall_id) == (None, None)
    # One SMS, the activation code, delivered after the commit.
    await api.hub.outbox.drain()
    [sms] = api.sms()
    assert sms["to"] == PHONE and sms["kind"] == "activation" and len(sms["code"]) == 5


async def test_minimal_form_and_persian_digits(api: Api) -> None:
    body = await api.post(PATH, username="۰۹۱۲۷۷۷۰۰۰۲", password="secret1", title="حجره")
    assert body["message"] == DONE and body["username"] == "09127770002", body
    [store] = await stores(api.hub)
    assert (store.longitude, store.latitude, store.email, store.category_id) == ("", "", None, None)
    assert store.certificate_image == "img/defaults/certificateImage.png"
    [user] = await users(api.hub)
    assert (user.name, user.family, user.email) == (None, None, None)


async def test_bazaar_and_mall(api: Api) -> None:
    async with api.hub.db.unit_of_work(write=True) as session:
        bazaar = await make_bazaar(session)
        other = await make_bazaar(session, title="بازار دیگر")
        mall = await make_mall(session, bazaar=bazaar)
        ids = bazaar.id, other.id, mall.id
    bazaar_id, other_id, mall_id = ids
    # A mall of another bazaar: refused.
    body = await api.post(PATH, **form(bazzar=other_id, mall=mall_id))
    assert body == err("store has error", ["Mall is invalid."])
    # The mall alone: the store is in its bazaar too.
    await registered(api, mall=mall_id)
    [store] = await stores(api.hub)
    assert (store.bazaar_id, store.mall_id) == (bazaar_id, mall_id)


# -- refusals --------------------------------------------------------------------------------


async def test_blank_and_invalid_credentials(api: Api) -> None:
    blank = err("Username or Password cannot be blank.")
    assert await api.post(PATH, **form(username="")) == blank
    assert await api.post(PATH, **form(password="")) == blank
    assert await api.post(PATH, **form(username="12345")) == err("Cellphone is not validated")
    assert await users(api.hub) == [] and await stores(api.hub) == []


async def test_account_fields_cant_validate_data(api: Api) -> None:
    body = await api.post(PATH, **form(password="12345", name="ab", email="not-mail"))
    assert body == err("Cant validate data", [
        "Password should contain at least 6 characters.",
        "Name should contain at least 3 characters.",
        "Email is not a valid email address.",
    ])  # fmt: skip
    # The account's half is judged first: a bad store too still says this.
    body = await api.post(PATH, **form(password="12345", title=""))
    assert body["message"] == "Cant validate data"
    assert await users(api.hub) == [] and await outbox_rows(api.hub) == 0


async def test_store_fields_store_has_error(api: Api) -> None:
    body = await api.post(PATH, **form(
        title="", phone="12", address="ab", certificate="javascript:alert(1)", category="999",
        bazzar="x", mall="99999", city="999999",
    ))  # fmt: skip
    assert body["status"] == "error" and body["message"] == "store has error", body
    assert set(body["data"]) == {
        "Title cannot be blank.",
        "Certificate Image must be a relative path or an http(s) URL.",
        "Address should contain at least 5 characters.",
        "Phone is not valid",
        "City is invalid.",
        "Hood is invalid.",
        "Category is invalid.",
        "Bazaar is invalid.",
        "Mall is invalid.",
    }
    # Nothing half-written: no account, no store, no SMS.
    assert await users(api.hub) == [] and await stores(api.hub) == []
    await api.hub.outbox.drain()
    assert await outbox_rows(api.hub) == 0 and api.sms() == []


async def test_number_or_email_taken(api: Api) -> None:
    taken = err("Cellphone or Email already existed")
    await activated_manager(api)
    # An active account's number.
    assert await api.post(PATH, **form(email="other@example.com")) == taken
    # Another number with the first one's email: the unique constraint says so, and the
    # registration's account, code and SMS are rolled back with it.
    api.hub.settings.activation_codes_per_minute = 100
    before = len(api.sms())
    assert await api.post(PATH, **form(username="09127770003", email="OWNER@example.com")) == taken
    assert [u.cellphone for u in await users(api.hub)] == [PHONE]
    assert len(await stores(api.hub)) == 1
    await api.hub.outbox.drain()
    assert len(api.sms()) == before


async def test_failed_store_insert_leaves_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's insert fails after the account and its SMS were written: all rolled back,
    the contract's 500."""

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(registration, "unique_slug", broken)
    response = await api.client.post("/web" + PATH, data={k: str(v) for k, v in form().items()})
    assert response.status_code == 500
    assert response.json() == {"status": "error", "message": "Server Error", "data": ""}
    assert await users(api.hub) == [] and await stores(api.hub) == []
    await api.hub.outbox.drain()
    assert await outbox_rows(api.hub) == 0 and api.sms() == []


async def test_the_sms_goes_out_once_after_the_commit(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the store is written, the code's SMS is queued in the same transaction and not
    sent yet; it goes out once, after the commit."""
    seen: list[int] = []

    async def watching(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.05)  # room for a delivery that would not wait for the commit
        seen.append(len(api.sms()))
        return await unique_slug(*args, **kwargs)

    monkeypatch.setattr(registration, "unique_slug", watching)
    await registered(api)
    await api.hub.outbox.drain()
    assert seen == [0]
    assert [m["to"] for m in api.sms()] == [PHONE]


# -- as register does ------------------------------------------------------------------------


async def test_throttled_as_register(hub: Hub) -> None:
    """test_3_one_client_cannot_register_twenty_numbers, through store-register."""
    async with app_client(hub, client=STRANGER) as client:
        stranger = Api(client, hub)
        answers = Counter([
            (await stranger.post(PATH, **form(username=f"0935{i:07d}", email=None)))["message"]
            for i in range(20)
        ])  # fmt: skip
    assert answers == Counter({DONE: 10, "Too Many Attempts": 10})
    await hub.outbox.drain()
    assert len(stranger.sms()) == 10
    assert len(await stores(hub)) == 10


async def test_a_pending_number_is_registered_again_and_keeps_its_store(api: Api) -> None:
    first = await registered(api)
    # Within the minute of its code: register's answer, nothing new.
    body = await api.post(PATH, **form(title="نام دیگر"))
    assert body == err("Cellphone already registered but not activatad", -1)
    api.hub.settings.activation_codes_per_minute = 100
    again = await registered(api, title="نام دیگر")
    assert again["id"] == first["id"]
    [store] = await stores(api.hub)
    assert store.title == "حجره کتاب"  # the first registration's; edit-store changes it
    await api.hub.outbox.drain()
    assert len(api.sms()) == 2


async def test_a_pending_customer_registration_becomes_a_store_manager(api: Api) -> None:
    body = await api.post("/user/register", username=PHONE, password="secret1")
    assert body["message"] == DONE
    api.hub.settings.activation_codes_per_minute = 100
    again = await registered(api)
    assert again["id"] == body["id"]
    [user] = await users(api.hub)
    assert user.role == Role.store_manager
    assert [s.manager_id for s in await stores(api.hub)] == [user.id]


async def test_statements_are_constant(api: Api) -> None:
    async with api.hub.db.unit_of_work(write=True) as session:
        bazaar = await make_bazaar(session)
        mall = await make_mall(session, bazaar=bazaar)
        bazaar_id, mall_id = bazaar.id, mall.id
    counts = []
    for i, extra in enumerate(({}, {"bazzar": bazaar_id, "mall": mall_id})):
        await api.hub.outbox.drain()
        with count_statements(api.hub) as sql:
            await registered(api, username=f"0912777010{i}", email=f"m{i}@example.com", **extra)
            await api.hub.outbox.drain()
        # The SMS's delivery (after the reply, its own transactions) is the outbox's.
        counts.append(len([s for s in sql if not s.startswith("UPDATE sms_outbox")]))
    # The places and the references; five throttle hits (the database limiter); the account;
    # the user, its code, the SMS ceiling and the SMS; the licence's upload (marked used), the
    # manager, the slugs, the store.
    assert counts == [16, 16], counts


# -- the manager and the customers -----------------------------------------------------------


async def test_the_manager_works_on_the_pending_store_customers_do_not_see_it(api: Api) -> None:
    login = await activated_manager(api)
    auth = {"username": login["username"], "token": login["token"]}
    [store] = await stores(api.hub)
    assert store.status == Status.pending
    stats = await api.post("/store-manager/statistics", **auth)
    assert stats == {"status": "success", "message": "success", "data": {
        "views": 0, "likes": 0, "dislikes": 0, "favorites": 0, "notifications": 0,
        "comments": 0}}  # fmt: skip
    edited = await api.post("/store-manager/edit-store", **auth, **{"Store[about]": "کتاب نو"})
    assert edited == {"status": "success", "message": "updated successfully", "data": ""}
    product = await api.post("/store-manager/add-product", **auth, **{
        "Product[title]": "دیوان حافظ", "Product[price]": "500000"})  # fmt: skip
    assert product["message"] == "product created successfully", product
    # Customers: not in the list, not by id.
    listed = await api.get("/stores")
    assert listed["items"] == [] and listed["_meta"]["totalCount"] == 0
    assert await api.get(f"/stores/{store.id}") == err("Not Found")
    assert (await api.get("/products"))["items"] == []
    # Approved: everybody sees it.
    async with api.hub.db.raw.connect(write=True) as conn:
        decided = await registration.approve_store(conn, api.hub, store_id=store.id)
    assert (decided.before, decided.after, decided.cellphone) == ("pending", "active", PHONE)
    assert [item["id"] for item in (await api.get("/stores"))["items"]] == [store.id]
    assert (await api.get(f"/stores/{store.id}"))["mainData"]["about"] == "کتاب نو"
    await api.hub.outbox.drain()
    assert [m["kind"] for m in api.sms()][-1] == "store_approved"


async def test_reject_tells_the_reason_and_the_manager_keeps_the_store(api: Api) -> None:
    login = await activated_manager(api)
    auth = {"username": login["username"], "token": login["token"]}
    [store] = await stores(api.hub)
    async with api.hub.db.raw.connect(write=True) as conn:
        decided = await registration.reject_store(
            conn, api.hub, store_id=store.id, reason="تصویر جواز خوانا نیست"
        )
    assert (decided.before, decided.after) == ("pending", "rejected")
    await api.hub.outbox.drain()
    sms = api.sms()[-1]
    assert sms["to"] == PHONE and sms["kind"] == "store_rejected"
    assert "تصویر جواز خوانا نیست" in sms["text"]
    # Still the manager's: fixed, then approved after all.
    assert (await api.post("/store-manager/statistics", **auth))["status"] == "success"
    assert await api.get(f"/stores/{store.id}") == err("Not Found")
    async with api.hub.db.raw.connect(write=False) as conn:
        assert await registration.pending_stores(conn) == []
    async with api.hub.db.raw.connect(write=True) as conn:
        again = await registration.approve_store(conn, api.hub, store_id=store.id)
    assert (again.before, again.after) == ("rejected", "active")


async def test_decisions_refuse_no_store_and_the_same_state(api: Api) -> None:
    await registered(api)
    [store] = await stores(api.hub)
    async with api.hub.db.raw.connect(write=False) as conn:
        [pending] = await registration.pending_stores(conn)
    assert (pending.id, pending.title, pending.cellphone) == (store.id, "حجره کتاب", PHONE)
    with pytest.raises(StoreNotFound):
        async with api.hub.db.raw.connect(write=True) as conn:
            await registration.approve_store(conn, api.hub, store_id=store.id + 1000)
    async with api.hub.db.raw.connect(write=True) as conn:
        await registration.approve_store(conn, api.hub, store_id=store.id)
    with pytest.raises(StoreStatusUnchanged) as raised:
        async with api.hub.db.raw.connect(write=True) as conn:
            await registration.approve_store(conn, api.hub, store_id=store.id)
    assert raised.value.status == "active"
    with pytest.raises(ValueError):
        async with api.hub.db.raw.connect(write=True) as conn:
            await registration.reject_store(conn, api.hub, store_id=store.id, reason="  ")


# -- PostgreSQL: races -----------------------------------------------------------------------


@pytest.fixture
async def pg_api(pg_hub: Hub) -> AsyncIterator[Api]:
    async with app_client(pg_hub) as client:
        yield Api(client, pg_hub)


@pytest.mark.parametrize("addresses", [1, 10])
async def test_parallel_store_registers_of_one_number(pg_hub: Hub, addresses: int) -> None:
    """Ten at once, from one address or each from its own: one account, one store."""
    async with AsyncExitStack() as stack:
        apis = [
            Api(await stack.enter_async_context(
                app_client(pg_hub, client=f"198.51.100.{i % addresses + 1}")), pg_hub)
            for i in range(10)
        ]  # fmt: skip
        results = await asyncio.gather(
            *(api.post(PATH, **form(title=f"حجره {i}")) for i, api in enumerate(apis))
        )
    messages = Counter(body["message"] for body in results)
    assert messages[DONE] >= 1, results
    # As register answers the loser: one code a minute from one address.
    assert set(messages) <= {
        DONE,
        "Cellphone already registered but not activatad",
        "Too Many Attempts",
    }, results
    assert len(await users(pg_hub)) == 1
    assert len(await stores(pg_hub)) == 1


async def test_parallel_store_registers_with_one_email(pg_hub: Hub) -> None:
    """Ten numbers at once with one email: the unique constraint gives it to one of them, the
    others are refused and leave nothing behind."""
    async with AsyncExitStack() as stack:
        apis = [
            Api(await stack.enter_async_context(
                app_client(pg_hub, client=f"198.51.100.{i + 1}")), pg_hub)
            for i in range(10)
        ]  # fmt: skip
        results = await asyncio.gather(*(
            api.post(PATH, **form(username=f"0912777020{i}", email="same@example.com"))
            for i, api in enumerate(apis)
        ))  # fmt: skip
    assert Counter(body["message"] for body in results) == Counter(
        {DONE: 1, "Cellphone or Email already existed": 9}
    )
    assert len(await users(pg_hub)) == 1 and len(await stores(pg_hub)) == 1
    await pg_hub.outbox.drain()
    assert await outbox_rows(pg_hub) == 1
