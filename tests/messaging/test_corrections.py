"""The corrections to §4 that API.md §5 takes from the original store-manager and seller
documents: answer-store-message's `message` and reply, unique-store-message's envelope, the
store-side page sizes, the store side's `status`, the staff's broadcast dates and the doubled
slash, and the default avatar of /web/users."""

from __future__ import annotations

from calendar import timegm
from datetime import date
from typing import Any

import pytest

from hojre.accounts.models import Role
from hojre.core.hub import Hub
from hojre.messaging.service import create_broadcast
from tests.conftest import Api
from tests.factories import count_statements
from tests.messaging.conftest import NOT_LOGIN, Cast, Person, Shop, err, store_message_row
from tests.messaging.test_store_side import (
    BROADCAST_KEYS,
    STORE_MESSAGE_KEYS,
    STORE_OFFER_KEYS,
    STORE_SIDE_KEYS,
    manager_of,
    offer,
    submit,
)

# The paths these tests send, made uploads by the hub fixture (tests/conftest.py): an image
# field takes no other path.
UPLOADED = (
    "img/avatars/customer.png",
    "img/q.png",
)


pytestmark = pytest.mark.anyio

REPLIED = {"status": "success", "message": "message replied", "data": ""}
NOT_FOUND = err("Message Not Found")
NOT_MANAGER = err("You are not store manager")
PAGE_NOT_FOUND = {"name": "Not Found", "message": "Page not found.", "code": 0, "status": 404}
DEFAULT_AVATAR = "img/defaults/avatars/51.png"


def paging(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "data"}


async def answered_rows(hub: Hub, *ids: int) -> list[str | None]:
    return [(await store_message_row(hub, i)).answer for i in ids]


# -- answer-store-message ----------------------------------------------------------------------


async def test_answer_takes_the_id_in_message_and_replies_exactly(cast: Cast, api: Api) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    m = manager_of(shop)
    first, second, third, fourth = [await submit(a, shop, title=f"پرسش {i}") for i in range(4)]
    path = "/store-manager/answer-store-message"
    assert await m.post(path, message=first, answer="با message") == REPLIED
    assert await m.post(path, id=second, answer="با id") == REPLIED  # §4's name still works
    # Both sent: `message` wins (the document's name); `id` is only read without it.
    assert await m.post(path, message=third, id=fourth, answer="هر دو") == REPLIED
    assert await answered_rows(cast.hub, first, second, third, fourth) == [
        "با message", "با id", "هر دو", None]  # fmt: skip
    assert await m.post(path, message="", id=fourth, answer="خالی") == REPLIED
    assert await answered_rows(cast.hub, fourth) == ["خالی"]
    # Persian digits, as every id.
    persian = str(first).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert await m.post(path, message=persian, answer="دوباره") == REPLIED
    assert await answered_rows(cast.hub, first) == ["دوباره"]
    # A bad `message` is not rescued by a good `id`.
    for wrong in ("abc", 999_999):
        assert await m.post(path, message=wrong, id=second, answer="نه") == NOT_FOUND, wrong
    assert await m.post(path, answer="بی شناسه") == NOT_FOUND
    assert await answered_rows(cast.hub, second) == ["با id"]
    assert await shop.seller.post(path, message=first, answer="نه") == NOT_MANAGER
    assert await api.post(path, message=first, answer="نه") == NOT_LOGIN


async def test_answer_runs_a_constant_number_of_statements(cast: Cast) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    m = manager_of(shop)
    ids = [await submit(a, shop) for _ in range(2)]
    counts = []
    for message_id in ids:
        with count_statements(cast.hub) as sql:
            assert await m.post("/store-manager/answer-store-message", message=message_id,
                                answer="بله") == REPLIED  # fmt: skip
        counts.append(len(sql))
    assert counts == [3, 3], counts  # the login, the message (the caller's store's), the answer


# -- unique-store-message ----------------------------------------------------------------------


async def test_unique_store_message_is_a_one_item_store_side_list(cast: Cast) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    m = manager_of(shop)
    message_id = await submit(a, shop, attachment="img/q.png")
    body = await m.post("/store-manager/unique-store-message", id=message_id)
    assert set(body) == STORE_SIDE_KEYS
    assert paging(body) == {"status": "success", "message": "store messages result",
                            "totalCount": "1", "totalPages": 1, "page": 1,
                            "perPage": 300}  # fmt: skip
    assert isinstance(body["data"], list) and len(body["data"]) == 1
    [item] = body["data"]
    assert set(item) == STORE_MESSAGE_KEYS
    assert (item["id"], item["user"], item["store"], item["read"], item["status"]) == (
        message_id, a.id, shop.id, 1, "active")  # fmt: skip
    assert (item["attachment"], item["answer"], item["answerDate"]) == ("img/q.png", None, None)
    assert isinstance(item["sendDate"], int)
    # As the list shows it: the same item, read now.
    listed = (await m.post("/store-manager/store-messages"))["data"]
    assert listed == [item]
    # Paging params change nothing: one message is one page.
    again = await m.post("/store-manager/unique-store-message", id=message_id, page=3, perPage=1)
    assert paging(again) == paging(body) and again["data"] == [item]
    # The errors are unchanged (action envelope).
    assert await m.post("/store-manager/unique-store-message", id=999_999) == NOT_FOUND
    assert await a.post("/store-manager/unique-store-message", id=message_id) == NOT_MANAGER


async def test_unique_store_message_statements(cast: Cast) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    m = manager_of(shop)
    message_id = await submit(a, shop)
    counts = []
    for _ in range(2):
        with count_statements(cast.hub) as sql:
            body = await m.post("/store-manager/unique-store-message", id=message_id)
        assert body["totalCount"] == "1"
        counts.append(len(sql))
    # The login and the message; the first read marks it read (no count: one item is one page).
    assert counts == [3, 2], counts


# -- the store side's status -------------------------------------------------------------------


async def test_store_side_status_is_active_and_the_customer_keeps_his(cast: Cast) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    m = manager_of(shop)
    waiting, answered = await submit(a, shop), await submit(a, shop)
    assert await m.post("/store-manager/answer-store-message", message=answered,
                        answer="بله") == REPLIED  # fmt: skip
    store_side = {i["id"]: i for i in (await m.post("/store-manager/store-messages"))["data"]}
    assert {k: (v["status"], v["answer"]) for k, v in store_side.items()} == {
        waiting: ("active", None), answered: ("active", "بله")}  # fmt: skip
    [one] = (await m.post("/store-manager/unique-store-message", id=waiting))["data"]
    assert one["status"] == "active"
    own = {i["id"]: i["status"] for i in (await a.get("/store-messages"))["items"]}
    assert own == {waiting: "pending", answered: "answered"}


# -- page sizes of the store-side lists ---------------------------------------------------------

# The names of the page size, as the test client sends them (`per__page` → `per-page`).
SIZE_NAMES = ("perPage", "per__page", "pageSize")


async def _five_of_each(cast: Cast) -> tuple[Shop, list[int], list[int]]:
    shop = await cast.shop()
    messages: list[int] = []
    offers: list[int] = []
    for i in range(5):
        customer = await cast.customer(name=f"مشتری{i}")
        messages.append(await submit(customer, shop))  # a message counts as an interaction
        offers.append(await offer(shop.seller, customer, text=f"پیشنهاد {i}"))
    return shop, messages[::-1], offers[::-1]  # newest first


@pytest.mark.parametrize("size_name", SIZE_NAMES)
async def test_store_side_lists_take_every_page_size_name(cast: Cast, size_name: str) -> None:
    shop, messages, offers = await _five_of_each(cast)
    m = manager_of(shop)
    lists = {
        "/store-manager/store-messages": ("store messages result", messages, STORE_MESSAGE_KEYS),
        "/store-manager/offers": ("offers result", offers, STORE_OFFER_KEYS),
    }
    for path, (message, ids, keys) in lists.items():
        body = await m.post(path, page=2, **{size_name: 2})
        assert set(body) == STORE_SIDE_KEYS
        assert paging(body) == {
            "status": "success",
            "message": message,
            "totalCount": "5",
            "totalPages": 3,
            "page": 2,
            "perPage": 2,
        }, (path, size_name)
        assert [i["id"] for i in body["data"]] == ids[2:4]
        assert all(set(i) == keys for i in body["data"])
        last = await m.post(path, page=3, **{size_name: "۲"})  # Persian digits
        assert (last["perPage"], [i["id"] for i in last["data"]]) == (2, ids[4:])
        past = await m.post(path, page=9, **{size_name: 2})
        assert (past["data"], past["totalCount"], past["totalPages"]) == ([], "5", 3)
        for bad in ("x", "0", "-3", ""):
            body = await m.post(path, **{size_name: bad})
            assert (body["perPage"], len(body["data"])) == (300, 5), (path, size_name, bad)
        assert (await m.post(path, **{size_name: 9999}))["perPage"] == 300


async def test_per_page_and_perpage_win_over_page_size(cast: Cast) -> None:
    shop, messages, offers = await _five_of_each(cast)
    m = manager_of(shop)
    for path, ids in (("/store-manager/store-messages", messages),
                      ("/store-manager/offers", offers)):  # fmt: skip
        for winner in ("perPage", "per__page"):
            body = await m.post(path, pageSize=1, **{winner: 3})
            assert (body["perPage"], [i["id"] for i in body["data"]]) == (3, ids[:3]), path
        both = await m.post(path, perPage=4, per__page=2, pageSize=1)
        assert both["perPage"] == 2  # `per-page` first, as every list envelope reads it


# -- broadcasts --------------------------------------------------------------------------------

DAY = date(2026, 3, 21)
DAY_UNIX = 1_774_051_200  # 2026-03-21T00:00:00Z


async def _dated_broadcast(cast: Cast, title: str, role: Role | None) -> int:
    async with cast.hub.db.raw.connect(write=True) as conn:
        b = await create_broadcast(conn, cast.hub.events, title=title, text=title + "!",
                                   role=role, day=DAY)  # fmt: skip
    return b.id


def test_the_unix_day_is_midnight_utc() -> None:
    assert timegm(DAY.timetuple()) == DAY_UNIX


async def test_broadcast_dates_by_role_and_the_doubled_slash(cast: Cast, api: Api) -> None:
    customer = await cast.customer()
    shop = await cast.shop()
    callers: dict[str, tuple[Person, Role]] = {
        "customer": (customer, Role.customer),
        "seller": (shop.seller, Role.seller),
        "store manager": (manager_of(shop), Role.store_manager),
    }
    everyone = await _dated_broadcast(cast, "همه", None)
    own = {role: await _dated_broadcast(cast, f"ویژه {role.name}", role) for _, role in
           callers.values()}  # fmt: skip
    for who, (person, role) in callers.items():
        date_value: Any = "2026-03-21" if role is Role.customer else DAY_UNIX
        expected = [
            {"id": own[role], "title": f"ویژه {role.name}", "text": f"ویژه {role.name}!",
             "user": None, "role": int(role), "date": date_value, "show": "yes"},
            {"id": everyone, "title": "همه", "text": "همه!", "user": None, "role": None,
             "date": date_value, "show": "yes"},
        ]  # fmt: skip
        for prefix in ("", "/"):  # /web/broadcasts and /web//broadcasts
            body = await person.get(f"{prefix}/broadcasts")
            assert body["items"] == expected, (who, prefix)
            assert body["_meta"]["totalCount"] == 2
            for item in expected:
                one = await person.get(f"{prefix}/broadcasts/{item['id']}")
                assert one == item, (who, prefix)
                assert set(one) == BROADCAST_KEYS
                assert type(one["date"]) is type(date_value), (who, prefix)
            hidden = next(i for r, i in own.items() if r is not role)
            assert await person.get(f"{prefix}/broadcasts/{hidden}") == err("Broadcast Not Found")
    assert await api.get("//broadcasts") == NOT_LOGIN
    assert await api.get(f"//broadcasts/{everyone}") == NOT_LOGIN


async def test_repeated_slashes_reach_the_endpoint_and_unknown_paths_stay_404(
    cast: Cast, api: Api
) -> None:
    seller = (await cast.shop()).seller
    b = await _dated_broadcast(cast, "همه", None)
    assert [i["date"] for i in (await seller.get("///broadcasts"))["items"]] == [DAY_UNIX]
    for path in (f"//broadcasts//{b}", f"///broadcasts///{b}"):
        assert (await seller.get(path))["date"] == DAY_UNIX, path
    # A POST endpoint too, and the login through it.
    assert (await seller.post("//seller/statistics"))["message"] == "success"
    for path in ("/nope", "//nope", "//broadcasts/", "//broadcasts//", "//broadcast", "//"):
        response = await api.client.get("/web" + path, params=seller.auth)
        assert (response.status_code, response.json()) == (404, PAGE_NOT_FOUND), path
    # Slashes are collapsed only to find an endpoint: a method a path does not take is left to
    # FastAPI's routes as before, which know the single-slash path only (405, else 404).
    plain = await api.client.post("/web/broadcasts", data=seller.auth)
    doubled = await api.client.post("/web//broadcasts", data=seller.auth)
    assert (plain.status_code, doubled.status_code) == (405, 404)
    assert doubled.json() == PAGE_NOT_FOUND


async def test_staff_broadcast_lists_run_the_same_statements(cast: Cast) -> None:
    customer = await cast.customer()
    seller = (await cast.shop()).seller
    b = await _dated_broadcast(cast, "همه", None)
    counts = {}
    for who, person in (("customer", customer), ("seller", seller)):
        for path in ("/broadcasts", "//broadcasts", f"/broadcasts/{b}", f"//broadcasts/{b}"):
            with count_statements(cast.hub) as sql:
                await person.get(path)
            counts[who, path] = len(sql)
    assert set(counts.values()) == {2}, counts  # the login and the page (or the broadcast)


# -- /web/users --------------------------------------------------------------------------------


async def test_users_avatar_never_set_reads_the_default(cast: Cast, api: Api) -> None:
    manager = await cast.manager()  # made without an avatar
    customer = await cast.customer()  # with one
    [me] = (await manager.get("/users"))["items"]
    assert me["avatar"] == DEFAULT_AVATAR
    [theirs] = (await customer.get("/users"))["items"]
    assert theirs["avatar"] == "img/avatars/customer.png"
    names = {"name": "مریم", "family": "احمدی"}
    edited = await customer.post("/user/edit", **names, avatar="")
    assert edited == {"status": "success", "message": "updated successfully", "data": ""}
    [cleared] = (await customer.get("/users"))["items"]
    assert cleared["avatar"] == DEFAULT_AVATAR
