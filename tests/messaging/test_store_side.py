"""Store messages, offers and broadcasts (API.md §4, seed #3–#5, #13, #33)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hojre.accounts.models import Role
from hojre.catalog.models import Status
from hojre.core.clock import utcnow
from hojre.messaging.models import Offer, StoreMessage
from tests.conftest import Api
from tests.factories import count_statements
from tests.messaging.conftest import (
    NOT_LOGIN,
    Cast,
    Person,
    Shop,
    count_rows,
    err,
    invalid,
    offer_row,
    store_message_row,
)

# The paths these tests send, made uploads by the hub fixture (tests/conftest.py): an image
# field takes no other path.
UPLOADED = ("img/a.png",)


pytestmark = pytest.mark.anyio

STORE_MESSAGE_KEYS = {"id", "user", "title", "text", "attachment", "sendDate", "read", "store",
                      "answer", "answerDate", "answerAttachment", "status", "senderName",
                      "storeName"}  # fmt: skip
OFFER_KEYS = {"id", "user", "text", "sentDate", "read", "store", "storeName", "storeLogo"}
STORE_OFFER_KEYS = {"id", "user", "text", "sentDate", "read", "store", "targetName"}
BROADCAST_KEYS = {"id", "title", "text", "user", "role", "date", "show"}
STORE_SIDE_KEYS = {"status", "message", "totalCount", "totalPages", "page", "perPage", "data"}
BAD_ATTACHMENT = "Attachment must be a relative path or an http(s) URL."
NOT_MANAGER = err("You are not store manager")
NOT_SELLER = err("You are not seller")
NOT_CUSTOMER = err("User has not interacted with your store")


async def submit(customer: Person, shop: Shop, title: str = "پرسش", **extra: Any) -> int:
    body = await customer.post("/user/submit-store-message", store=shop.id, title=title,
                               text=extra.pop("text", "آیا ارسال به شهرستان دارید؟"),
                               **extra)  # fmt: skip
    assert body["status"] == "success" and body["message"] == "Message Sent", body
    assert set(body["data"]) == {"id"}
    message_id: int = body["data"]["id"]
    return message_id


async def offer(seller: Person, customer: Person, text: str = "ده درصد تخفیف") -> int:
    body = await seller.post("/seller/send-offer", user=customer.id, text=text)
    assert body["status"] == "success" and body["message"] == "Offer Sent", body
    offer_id: int = body["data"]["id"]
    return offer_id


def manager_of(shop: Shop) -> Person:
    assert shop.manager is not None
    return shop.manager


# -- store messages --------------------------------------------------------------------------


async def test_submit_store_message_validation(cast: Cast, api: Api) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    path = "/user/submit-store-message"
    assert await a.post(path, store=shop.id) == invalid("Title cannot be blank.",
                                                        "Text cannot be blank.")  # fmt: skip
    long_title = await a.post(path, store=shop.id, title="ع" * 201, text="متن")
    assert long_title == invalid("Title should contain at most 200 characters.")
    long_text = await a.post(path, store=shop.id, title="عنوان", text="ع" * 2001)
    assert long_text == invalid("Text should contain at most 2000 characters.")
    for attachment in ("javascript:alert(1)", "/etc/passwd", "../x", "img/../../etc/passwd",
                       "//evil.example/a.png", "data:text/html,<b>x</b>", "ftp://x.ir/a",
                       "img/a b.png", "https://", "https://x.ir/a.png\x00", "a" * 501,
                       'https://x.ir/"><script>alert(1)</script>'):  # fmt: skip
        body = await a.post(path, store=shop.id, title="عنوان", text="متن", attachment=attachment)
        assert body == invalid(BAD_ATTACHMENT), attachment
    assert await a.post(path, store=999_999, title="عنوان", text="متن") == err("Store Not Found")
    assert await a.post(path, store="abc", title="عنوان", text="متن") == err("Store Not Found")
    assert await api.post(path, store=shop.id, title="عنوان", text="متن") == NOT_LOGIN
    assert await count_rows(cast.hub, StoreMessage) == 0
    # An upload's path, as sent or as imgupload's absolute URL; another site's picture is not.
    for attachment in ("img/a.png", "/img/a.png", "https://hojre.example/img/a.png", ""):
        message_id = await submit(a, shop, attachment=attachment)
        row = await store_message_row(cast.hub, message_id)
        assert row.attachment == ("img/a.png" if attachment else None)
    for elsewhere in ("https://x.ir/a.png", "http://x.ir/a.png?x=1", "img/never-uploaded.png"):
        body = await a.post(path, store=shop.id, title="عنوان", text="متن", attachment=elsewhere)
        assert body == invalid("Attachment must be an uploaded image."), elsewhere
    tagged = await submit(a, shop, title="<h1>سلام</h1>", text="<a href='x'>بخرید</a>")
    row = await store_message_row(cast.hub, tagged)
    assert (row.title, row.text) == ("سلام", "بخرید")


async def test_own_store_messages_list(cast: Cast, api: Api) -> None:
    a, b = await cast.customer(), await cast.customer(name="علی")
    shop, other = await cast.shop(), await cast.shop()
    first = await submit(a, shop, attachment="img/a.png")
    second = await submit(a, other, title="دومی")
    await submit(b, shop)
    body = await a.get("/store-messages")
    assert [item["id"] for item in body["items"]] == [second, first]
    assert body["_meta"] == {"totalCount": 2, "pageCount": 1, "currentPage": 1, "perPage": 300}
    item = body["items"][1]
    assert set(item) == STORE_MESSAGE_KEYS
    assert item["user"] == a.id and item["store"] == shop.id
    assert item["title"] == "پرسش" and item["text"] == "آیا ارسال به شهرستان دارید؟"
    assert item["attachment"] == "img/a.png"
    assert isinstance(item["sendDate"], int) and item["sendDate"] > 1_600_000_000
    assert item["read"] == 0
    assert item["answer"] is None and item["answerDate"] is None
    assert item["answerAttachment"] is None
    assert item["status"] == "pending"
    assert item["senderName"] == a.full_name
    assert item["storeName"] == shop.title
    assert body["items"][0]["attachment"] is None
    paged = await a.get("/store-messages", perPage=1, page=2)
    assert [i["id"] for i in paged["items"]] == [first]
    assert await api.get("/store-messages") == NOT_LOGIN


async def test_manager_lists_reads_and_answers(cast: Cast, api: Api) -> None:
    a, b = await cast.customer(), await cast.customer(name="علی")
    shop, other = await cast.shop(), await cast.shop()
    m = manager_of(shop)
    ids = [await submit(a, shop), await submit(b, shop, title="دوم"), await submit(a, shop)]
    await submit(a, other)
    body = await m.post("/store-manager/store-messages")
    assert set(body) == STORE_SIDE_KEYS
    assert {k: v for k, v in body.items() if k != "data"} == {
        "status": "success", "message": "store messages result", "totalCount": "3",
        "totalPages": 1, "page": 1, "perPage": 300,
    }  # fmt: skip
    assert [item["id"] for item in body["data"]] == ids[::-1]
    assert all(set(item) == STORE_MESSAGE_KEYS for item in body["data"])
    assert all(item["status"] == "active" for item in body["data"])
    assert body["data"][1]["senderName"] == b.full_name
    paged = await m.post("/store-manager/store-messages", page=2, pageSize=2)
    assert {k: v for k, v in paged.items() if k != "data"} == {
        "status": "success", "message": "store messages result", "totalCount": "3",
        "totalPages": 2, "page": 2, "perPage": 2,
    }  # fmt: skip
    assert [item["id"] for item in paged["data"]] == [ids[0]]
    past = await m.post("/store-manager/store-messages", page=5, pageSize="x")
    assert (past["data"], past["page"], past["perPage"]) == ([], 5, 300)

    # Reading one marks it read (for the customer too).
    one = await m.post("/store-manager/unique-store-message", id=ids[0])
    assert {k: v for k, v in one.items() if k != "data"} == {
        "status": "success", "message": "store messages result", "totalCount": "1",
        "totalPages": 1, "page": 1, "perPage": 300,
    }  # fmt: skip
    [read] = one["data"]
    assert set(read) == STORE_MESSAGE_KEYS
    assert (read["id"], read["read"], read["status"]) == (ids[0], 1, "active")
    assert (await store_message_row(cast.hub, ids[0])).read is True
    assert (await store_message_row(cast.hub, ids[1])).read is False
    assert [i["read"] for i in (await a.get("/store-messages"))["items"]] == [0, 0, 1]

    # Answering.
    bad = await m.post("/store-manager/answer-store-message", message=ids[2], answer="  ",
                       answerAttachment="javascript:alert(1)")  # fmt: skip
    assert bad == invalid("Answer cannot be blank.", "Answer " + BAD_ATTACHMENT)
    answered = await m.post("/store-manager/answer-store-message", message=ids[2],
                            answer="<i>بله</i>، با پست پیشتاز.",
                            answerAttachment="img/a.png")  # fmt: skip
    assert answered == {"status": "success", "message": "message replied", "data": ""}
    [mine] = [i for i in (await a.get("/store-messages"))["items"] if i["id"] == ids[2]]
    assert mine["answer"] == "بله، با پست پیشتاز."
    assert isinstance(mine["answerDate"], int) and mine["answerDate"] >= mine["sendDate"]
    assert mine["answerAttachment"] == "img/a.png"
    assert (mine["status"], mine["read"]) == ("answered", 1)
    row = await store_message_row(cast.hub, ids[2])
    assert row.answered_by == m.id
    # The store side still calls it active, answered or not.
    [theirs] = [i for i in (await m.post("/store-manager/store-messages"))["data"]
                if i["id"] == ids[2]]  # fmt: skip
    assert (theirs["status"], theirs["answer"]) == ("active", "بله، با پست پیشتاز.")
    for path in ("/store-manager/store-messages", "/store-manager/unique-store-message",
                 "/store-manager/answer-store-message"):  # fmt: skip
        assert await api.post(path, id=ids[0], message=ids[0], answer="x") == NOT_LOGIN


async def test_store_manager_endpoints_refuse_others(cast: Cast) -> None:
    a = await cast.customer()
    shop, other = await cast.shop(), await cast.shop()
    mine = await submit(a, shop)
    theirs = await submit(a, other)
    m = manager_of(shop)
    for person in (a, shop.seller):
        assert await person.post("/store-manager/store-messages") == NOT_MANAGER
        assert await person.post("/store-manager/offers") == NOT_MANAGER
        for message_id in (mine, theirs):
            assert await person.post("/store-manager/unique-store-message",
                                     id=message_id) == NOT_MANAGER  # fmt: skip
            assert await person.post("/store-manager/answer-store-message", message=message_id,
                                     answer="نه") == NOT_MANAGER  # fmt: skip
    not_found = err("Message Not Found")
    for wrong in (theirs, 999_999, "abc"):
        assert await m.post("/store-manager/unique-store-message", id=wrong) == not_found
        for name_of_id in ("message", "id"):
            body = await m.post("/store-manager/answer-store-message", **{name_of_id: wrong},
                                answer="نه")  # fmt: skip
            assert body == not_found, (wrong, name_of_id)
    row = await store_message_row(cast.hub, theirs)
    assert (row.read, row.answer) == (False, None)
    assert (await store_message_row(cast.hub, mine)).read is False


# -- offers ----------------------------------------------------------------------------------


async def test_offers_only_to_customers_who_interacted(cast: Cast) -> None:
    shop, other = await cast.shop(), await cast.shop()
    s = shop.seller
    stranger = await cast.customer()
    assert await s.post("/seller/send-offer", user=stranger.id, text="تخفیف") == NOT_CUSTOMER
    # Interacting with another store, or with nobody, does not count.
    assert (await stranger.post("/user/add-view", target="store", id=other.id))["status"] == (
        "success"
    )
    assert await s.post("/seller/send-offer", user=stranger.id, text="تخفیف") == NOT_CUSTOMER
    assert await s.post("/seller/send-offer", user=999_999, text="تخفیف") == NOT_CUSTOMER
    assert await count_rows(cast.hub, Offer) == 0

    ways: dict[str, Any] = {
        "view": lambda p: p.post("/user/add-view", target="store", id=shop.id),
        "like": lambda p: p.post("/user/add-like", target="store", id=shop.id),
        "favorite": lambda p: p.post("/user/add-favorite", target="store", id=shop.id),
        "comment": lambda p: p.post("/user/add-comment", target="store", id=shop.id,
                                    text="فروشگاه خوبی است"),
        "chat": lambda p: p.post("/user/start-chat", store=shop.id),
        "store message": lambda p: p.post("/user/submit-store-message", store=shop.id,
                                          title="سلام", text="سوال"),
    }  # fmt: skip
    for way, act in ways.items():
        customer = await cast.customer(name=way)
        assert await s.post("/seller/send-offer", user=customer.id, text="x") == NOT_CUSTOMER
        assert (await act(customer))["status"] == "success", way
        offer_id = await offer(s, customer, text=f"<b>پیشنهاد</b> {way}")
        row = await offer_row(cast.hub, offer_id)
        assert (row.user_id, row.store_id, row.sender_id) == (customer.id, shop.id, s.id)
        assert row.text == f"پیشنهاد {way}" and row.read is False
    # The manager may send offers for the store too.
    customer = await cast.customer()
    await customer.post("/user/add-like", target="store", id=shop.id)
    await offer(manager_of(shop), customer)


async def test_send_offer_errors(cast: Cast, api: Api) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    await a.post("/user/add-view", target="store", id=shop.id)
    assert await a.post("/seller/send-offer", user=a.id, text="x") == NOT_SELLER
    jobless = await cast.seller()  # a seller of no store
    assert await jobless.post("/seller/send-offer", user=a.id, text="x") == NOT_SELLER
    dismissed = await cast.add_seller(shop, status=Status.inactive)
    assert await dismissed.post("/seller/send-offer", user=a.id, text="x") == NOT_SELLER
    s = shop.seller
    assert await s.post("/seller/send-offer", user=a.id, text=" ") == invalid(
        "Text cannot be blank."
    )
    long_text = await s.post("/seller/send-offer", user=a.id, text="x" * 2001)
    assert long_text == invalid("Text should contain at most 2000 characters.")
    other = await cast.shop()
    assert await s.post("/seller/send-offer", user=a.id, text="x", store=other.id) == NOT_SELLER
    assert await api.post("/seller/send-offer", user=a.id, text="x") == NOT_LOGIN
    assert await count_rows(cast.hub, Offer) == 0


async def test_offer_lists_and_reading(cast: Cast, api: Api) -> None:
    a, b = await cast.customer(), await cast.customer(name="علی", family="رضوی")
    shop, other = await cast.shop(), await cast.shop()
    for person in (a, b):
        for store in (shop, other):
            await person.post("/user/add-view", target="store", id=store.id)
    first = await offer(shop.seller, a, "اولی")
    second = await offer(other.seller, a, "دومی")
    for_b = await offer(shop.seller, b, "برای علی")
    body = await a.get("/offers")
    assert [item["id"] for item in body["items"]] == [second, first]
    assert body["_meta"]["totalCount"] == 2
    item = body["items"][1]
    assert set(item) == OFFER_KEYS
    assert (item["user"], item["text"], item["read"], item["store"]) == (a.id, "اولی", 0, shop.id)
    assert isinstance(item["sentDate"], int) and item["sentDate"] > 1_600_000_000
    assert (item["storeName"], item["storeLogo"]) == (shop.title, shop.logo)

    read = await a.post("/user/read-offer", id=first)
    assert read["status"] == "success" and read["message"] == "Offer Read"
    assert read["data"] == {**item, "read": 1}
    assert [i["read"] for i in (await a.get("/offers"))["items"]] == [0, 1]
    again = await a.post("/user/read-offer", id=first)
    assert again["message"] == "Offer Read"
    for wrong in (for_b, 999_999, "abc", ""):
        assert await a.post("/user/read-offer", id=wrong) == err("Offer Not Found"), wrong
    assert (await offer_row(cast.hub, for_b)).read is False
    assert await api.post("/user/read-offer", id=first) == NOT_LOGIN
    assert await api.get("/offers") == NOT_LOGIN

    store_side = await manager_of(shop).post("/store-manager/offers")
    assert set(store_side) == STORE_SIDE_KEYS
    assert {k: v for k, v in store_side.items() if k != "data"} == {
        "status": "success", "message": "offers result", "totalCount": "2", "totalPages": 1,
        "page": 1, "perPage": 300,
    }  # fmt: skip
    assert [i["id"] for i in store_side["data"]] == [for_b, first]
    entry = store_side["data"][0]
    assert set(entry) == STORE_OFFER_KEYS
    assert (entry["user"], entry["targetName"], entry["read"]) == (b.id, "علی رضوی", 0)
    assert store_side["data"][1]["read"] == 1
    paged = await manager_of(shop).post("/store-manager/offers", page=2, pageSize=1)
    assert (paged["totalCount"], paged["totalPages"], paged["page"], paged["perPage"]) == (
        "2", 2, 2, 1)  # fmt: skip
    assert [i["id"] for i in paged["data"]] == [first]


# -- broadcasts ------------------------------------------------------------------------------


async def test_broadcasts_by_role(cast: Cast, api: Api) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    everyone = await cast.broadcast("همه", None)
    customers = await cast.broadcast("مشتریان", Role.customer)
    sellers = await cast.broadcast("فروشندگان", Role.seller)
    hidden = await cast.broadcast("پنهان", None, show=False)
    managers = await cast.broadcast("مدیران", Role.store_manager)
    body = await a.get("/broadcasts")
    assert [item["id"] for item in body["items"]] == [customers, everyone]
    assert body["_meta"]["totalCount"] == 2
    item = body["items"][0]
    assert set(item) == BROADCAST_KEYS
    assert (item["title"], item["text"], item["user"], item["role"], item["show"]) == (
        "مشتریان", "مشتریان!", None, 8, "yes")  # fmt: skip
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["date"])
    assert body["items"][1]["role"] is None
    seller_view = await shop.seller.get("/broadcasts")
    assert [i["id"] for i in seller_view["items"]] == [sellers, everyone]
    manager_view = await manager_of(shop).get("/broadcasts")
    assert [i["id"] for i in manager_view["items"]] == [managers, everyone]

    assert await a.get(f"/broadcasts/{customers}") == item  # the bare object
    assert await a.get(f"/broadcasts/{everyone}") == body["items"][1]
    not_found = err("Broadcast Not Found")
    for wrong in (sellers, hidden, managers, 999_999, "abc", "-1"):
        assert await a.get(f"/broadcasts/{wrong}") == not_found, wrong
    assert await shop.seller.get(f"/broadcasts/{customers}") == not_found
    assert (await shop.seller.get(f"/broadcasts/{sellers}"))["id"] == sellers
    assert await api.get("/broadcasts") == NOT_LOGIN
    assert await api.get(f"/broadcasts/{everyone}") == NOT_LOGIN


# -- statements per request ------------------------------------------------------------------


async def _count(person: Person, method: str, path: str, **params: Any) -> tuple[int, Any]:
    call = person.get if method == "GET" else person.post
    with count_statements(person.api.hub) as sql:
        body = await call(path, **params)
    return len(sql), body


async def _fill(cast: Cast, customer: Person, shop: Shop, n: int) -> None:
    """``n`` messages from the customer to the store and ``n`` offers back, and ``n`` more
    broadcasts to everyone (straight in the database: the API limits what one account sends)."""
    async with cast.hub.db.unit_of_work(write=True) as session:
        for i in range(n):
            session.add(StoreMessage(user_id=customer.id, store_id=shop.id, title=f"پرسش {i}",
                                     text="متن", created_at=utcnow()))  # fmt: skip
            session.add(Offer(user_id=customer.id, store_id=shop.id, sender_id=shop.seller.id,
                              text=f"پیشنهاد {i}", created_at=utcnow()))  # fmt: skip
    for i in range(n):
        await cast.broadcast(f"خبر {i}", None)


# path: (method, the caller's side, the list's key, the page size's name)
_LISTS = {
    "/store-messages": ("GET", "customer", "items", "perPage"),
    "/offers": ("GET", "customer", "items", "perPage"),
    "/broadcasts": ("GET", "customer", "items", "perPage"),
    "/store-manager/store-messages": ("POST", "manager", "data", "pageSize"),
    "/store-manager/offers": ("POST", "manager", "data", "pageSize"),
}


async def test_lists_run_a_constant_number_of_statements(cast: Cast) -> None:
    """Each list is the login and one statement for the page with its total (2), whatever
    the page and however many rows. /store-messages and /offers give the login to the page's
    statement, which checks it inside on PostgreSQL (1); the others need the caller's role
    before their page: /broadcasts shows the role's, the store side is a manager's."""
    counts: dict[str, list[int]] = {path: [] for path in _LISTS}
    await cast.customer()  # warm the pool
    broadcasts = 0
    for n in (3, 25):
        shop, customer = await cast.shop(), await cast.customer()
        await _fill(cast, customer, shop, n)
        broadcasts += n
        people = {"customer": customer, "manager": manager_of(shop)}
        for path, (method, side, key, size_name) in _LISTS.items():
            total = broadcasts if path == "/broadcasts" else n
            for page, size, expected in ((1, "", total), (2, "2", min(2, total - 2))):
                statements, body = await _count(people[side], method, path, page=page,
                                                **{size_name: size})  # fmt: skip
                assert len(body[key]) == expected, (path, page, body)
                counts[path].append(statements)
    login = 1  # the login's own statement
    each = {"/store-messages": 1 + login, "/offers": 1 + login, "/broadcasts": 2,
            "/store-manager/store-messages": 2, "/store-manager/offers": 2}  # fmt: skip
    assert counts == {path: [each[path]] * 4 for path in _LISTS}, counts
