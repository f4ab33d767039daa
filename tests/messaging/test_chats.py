"""Chats (API.md §4, seed #1 and #2): starting, listing, the status lifecycle and reading."""

from __future__ import annotations

from typing import Any

import pytest

from hojre.catalog.models import Status, Store
from hojre.messaging.models import Chat, ChatMessage
from tests.conftest import Api
from tests.factories import count_statements
from tests.messaging.conftest import (
    NOT_LOGIN,
    Cast,
    Person,
    Shop,
    chat_messages,
    chat_row,
    count_rows,
    err,
    invalid,
)

pytestmark = pytest.mark.anyio

CHAT_KEYS = {"id", "user", "seller", "startDate", "status", "store", "storeId", "sellerAvatar",
             "unread"}  # fmt: skip
MESSAGE_KEYS = {"id", "sender", "text", "sentDate", "status", "chat", "senderId", "senderAvatar"}
NO_CHAT = err("there is no chat for u")


async def start(customer: Person, shop: Shop, seller: Person | None = None) -> int:
    body = await customer.post(
        "/user/start-chat", store=shop.id, seller=seller.id if seller else None
    )
    assert body["status"] == "success" and body["message"] == "Chat Started", body
    assert set(body["data"]) == {"id"} and isinstance(body["data"]["id"], int)
    chat_id: int = body["data"]["id"]
    return chat_id


async def say(person: Person, chat_id: int, text: str) -> int:
    body = await person.post("/user/send-chat-message", id=chat_id, text=text)
    assert body["status"] == "success" and body["message"] == "Message Sent", body
    message_id: int = body["data"]["id"]
    return message_id


def only(body: dict[str, Any], chat_id: int) -> dict[str, Any]:
    found: list[dict[str, Any]] = [item for item in body["items"] if item["id"] == chat_id]
    assert len(found) == 1, body
    return found[0]


# -- starting --------------------------------------------------------------------------------


async def test_start_chat_picks_the_active_seller_with_fewest_open_chats(cast: Cast) -> None:
    a, b = await cast.customer(), await cast.customer(name="علی")
    shop = await cast.shop(sellers=2)
    first, second = shop.sellers
    await cast.add_seller(shop, status=Status.inactive)  # no chats, but never picked
    one = await start(a, shop)
    assert (await chat_row(cast.hub, one)).seller_id == first.id  # tie: the first seller
    two = await start(b, shop)
    assert (await chat_row(cast.hub, two)).seller_id == second.id
    three = await start(a, shop)
    assert (await chat_row(cast.hub, three)).seller_id == first.id  # 1 open chat each
    # Finished chats do not count as open: the first seller is now the less busy one.
    assert (await a.post("/user/finish-chat", id=one))["message"] == "Chat Finished"
    assert (await a.post("/user/finish-chat", id=three))["message"] == "Chat Finished"
    four = await start(b, shop)
    assert (await chat_row(cast.hub, four)).seller_id == first.id
    chat = await chat_row(cast.hub, four)
    assert (chat.customer_id, chat.store_id, chat.status) == (b.id, shop.id, "pending")


async def test_start_chat_with_a_chosen_seller(cast: Cast) -> None:
    a = await cast.customer()
    shop = await cast.shop(sellers=2)
    other = await cast.shop()
    inactive = await cast.add_seller(shop, status=Status.inactive)
    chat_id = await start(a, shop, seller=shop.sellers[1])
    assert (await chat_row(cast.hub, chat_id)).seller_id == shop.sellers[1].id
    for wrong in (inactive.id, other.seller.id, a.id, shop.manager.id if shop.manager else 0,
                  999_999, "abc", "-3"):  # fmt: skip
        body = await a.post("/user/start-chat", store=shop.id, seller=wrong)
        assert body == err("Seller Not Found"), wrong
    assert await count_rows(cast.hub, Chat) == 1


async def test_start_chat_errors(cast: Cast, api: Api) -> None:
    a = await cast.customer()
    lonely = await cast.shop(sellers=0)
    shop = await cast.shop()
    for store in (999_999, "abc", "", None):
        assert await a.post("/user/start-chat", store=store) == err("Store Not Found"), store
    assert await a.post("/user/start-chat", store=lonely.id) == err("Store has no active seller")
    assert await api.post("/user/start-chat", store=shop.id) == NOT_LOGIN
    bad_token = {"username": a.cellphone, "token": "x" * 32}
    assert await api.post("/user/start-chat", **bad_token, store=shop.id) == NOT_LOGIN
    # An inactive store cannot be chatted with.
    async with cast.hub.db.unit_of_work(write=True) as session:
        row = await session.get(Store, shop.id)
        assert row is not None
        row.status = Status.inactive
    assert await a.post("/user/start-chat", store=shop.id) == err("Store Not Found")
    # Staff cannot open a chat with their own store.
    other = await cast.shop()
    assert other.manager is not None
    for staff in (other.seller, other.manager):
        body = await staff.post("/user/start-chat", store=other.id)
        assert body == err("You cannot chat with your own store")


async def test_staff_cannot_chat_with_their_own_store_through_a_colleague(cast: Cast) -> None:
    """Whichever seller would take the chat (chosen, or picked as the least busy)."""
    shop = await cast.shop(sellers=2)
    first, second = shop.sellers
    own = err("You cannot chat with your own store")
    assert await first.post("/user/start-chat", store=shop.id, seller=second.id) == own
    assert await second.post("/user/start-chat", store=shop.id, seller=first.id) == own
    assert await second.post("/user/start-chat", store=shop.id) == own  # would pick ``first``
    assert shop.manager is not None
    assert await shop.manager.post("/user/start-chat", store=shop.id, seller=first.id) == own
    assert await count_rows(cast.hub, Chat) == 0
    # A seller of another store is a customer here.
    other = await cast.shop()
    assert (await other.seller.post("/user/start-chat", store=shop.id))["status"] == "success"


# -- listing ---------------------------------------------------------------------------------


def assert_chat_item(item: dict[str, Any], chat_id: int, customer: Person, shop: Shop,
                     seller: Person) -> None:  # fmt: skip
    assert set(item) == CHAT_KEYS
    assert item["id"] == chat_id
    assert item["user"] == customer.id
    assert item["seller"] == seller.full_name  # "name family", a string
    assert isinstance(item["startDate"], int) and item["startDate"] > 1_600_000_000
    assert item["status"] == "pending"
    assert item["store"] == shop.title
    assert item["storeId"] == shop.id and isinstance(item["storeId"], int)
    assert item["sellerAvatar"] == "img/avatars/seller.png"
    assert isinstance(item["unread"], int)


async def test_chat_list_shape_for_customer_seller_and_manager(cast: Cast, api: Api) -> None:
    a, b = await cast.customer(), await cast.customer(name="علی")
    shop = await cast.shop(sellers=2)
    elsewhere = await cast.shop()
    assert shop.manager is not None
    mine = await start(a, shop, seller=shop.sellers[0])
    theirs = await start(b, elsewhere)
    seller, colleague = shop.sellers
    for person in (a, seller, colleague, shop.manager):
        body = await person.get("/chats")
        assert [item["id"] for item in body["items"]] == [mine], person.role
        assert_chat_item(body["items"][0], mine, a, shop, seller)
        assert body["_meta"] == {"totalCount": 1, "pageCount": 1, "currentPage": 1,
                                 "perPage": 300}  # fmt: skip
        assert set(body["_links"]) == {"self"}
        assert body["_links"]["self"]["href"].startswith("http://testserver/web/chats?")
    assert [item["id"] for item in (await b.get("/chats"))["items"]] == [theirs]
    assert (await api.get("/chats")) == NOT_LOGIN


async def test_chat_list_is_newest_first_and_paged(cast: Cast) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    ids = [await start(a, shop) for _ in range(5)]
    body = await a.get("/chats", perPage=2, page=2)
    assert [item["id"] for item in body["items"]] == ids[::-1][2:4]
    assert body["_meta"] == {"totalCount": 5, "pageCount": 3, "currentPage": 2, "perPage": 2}
    assert set(body["_links"]) == {"self", "first", "prev", "next", "last"}
    assert "page=3" in body["_links"]["last"]["href"]
    past = await a.get("/chats", per__page=2, page=9)
    assert past["items"] == [] and past["_meta"]["totalCount"] == 5


async def test_seller_avatar_defaults_when_the_seller_has_none(cast: Cast) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    chat_id = await start(a, shop)
    async with cast.hub.db.unit_of_work(write=True) as session:
        from hojre.accounts.models import User

        seller = await session.get(User, shop.seller.id)
        assert seller is not None
        seller.avatar = None
        seller.name = None
    item = only(await a.get("/chats"), chat_id)
    assert item["sellerAvatar"] == "img/defaults/avatars/51.png"
    assert item["seller"] == shop.seller.family  # no stray space


# -- lifecycle -------------------------------------------------------------------------------


async def test_status_lifecycle(cast: Cast) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    chat_id = await start(a, shop)

    async def status() -> str:
        value: str = only(await a.get("/chats"), chat_id)["status"]
        return value

    assert await status() == "pending"
    await say(a, chat_id, "سلام، این گوشی موجود است؟")
    assert await status() == "pending"  # the customer's own messages do not open it
    await say(shop.seller, chat_id, "بله، موجود است.")
    assert await status() == "chatting"
    await say(a, chat_id, "ممنون")
    assert await status() == "chatting"
    assert await a.post("/user/finish-chat", id=chat_id) == {
        "status": "success", "message": "Chat Finished", "data": ""}  # fmt: skip
    assert await status() == "finished"
    assert (await chat_row(cast.hub, chat_id)).finished_at is not None
    # Finishing again is harmless; sending is refused, from either side, and adds nothing.
    assert (await shop.seller.post("/user/finish-chat", id=chat_id))["status"] == "success"
    for person in (a, shop.seller):
        body = await person.post("/user/send-chat-message", id=chat_id, text="هنوز هستید؟")
        assert body == err("Chat is finished")
    assert len(await chat_messages(cast.hub, chat_id)) == 3


async def test_any_staff_member_of_the_store_opens_the_chat(cast: Cast) -> None:
    a = await cast.customer()
    shop = await cast.shop(sellers=2)
    assert shop.manager is not None
    by_colleague = await start(a, shop, seller=shop.sellers[0])
    await say(shop.sellers[1], by_colleague, "همکارم نیست؛ من پاسخ می‌دهم.")
    assert (await chat_row(cast.hub, by_colleague)).status == "chatting"
    by_manager = await start(a, shop, seller=shop.sellers[0])
    await say(shop.manager, by_manager, "مدیر فروشگاه هستم.")
    assert (await chat_row(cast.hub, by_manager)).status == "chatting"


async def test_staff_can_finish_a_chat(cast: Cast) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    assert shop.manager is not None
    for person in (shop.seller, shop.manager):
        chat_id = await start(a, shop)
        assert (await person.post("/user/finish-chat", id=chat_id))["message"] == "Chat Finished"
        assert only(await a.get("/chats"), chat_id)["status"] == "finished"


# -- messages --------------------------------------------------------------------------------


async def test_main_chats_shape_order_and_paging(cast: Cast, api: Api) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    chat_id = await start(a, shop)
    sent = [await say(a, chat_id, "پیام یک"), await say(shop.seller, chat_id, "پیام دو"),
            await say(a, chat_id, "پیام سه")]  # fmt: skip
    body = await a.get("/main-chats", id=chat_id)
    assert [item["id"] for item in body["items"]] == sent[::-1]  # newest first
    assert body["_meta"] == {"totalCount": 3, "pageCount": 1, "currentPage": 1, "perPage": 300}
    newest, answer = body["items"][0], body["items"][1]
    assert set(newest) == MESSAGE_KEYS
    assert newest["sender"] == a.full_name and newest["senderId"] == a.id
    assert newest["text"] == "پیام سه" and newest["chat"] == chat_id
    assert isinstance(newest["sentDate"], int) and newest["sentDate"] > 1_600_000_000
    assert newest["senderAvatar"] == "img/avatars/customer.png"
    assert answer["sender"] == shop.seller.full_name and answer["senderId"] == shop.seller.id
    assert answer["senderAvatar"] == "img/avatars/seller.png"
    page = await a.get("/main-chats", id=chat_id, **{"per-page": 2}, page=2)
    assert [item["id"] for item in page["items"]] == [sent[0]]
    assert page["_meta"] == {"totalCount": 3, "pageCount": 2, "currentPage": 2, "perPage": 2}
    assert set(page["_links"]) == {"self", "first", "prev"}
    assert f"id={chat_id}" in page["_links"]["self"]["href"]
    first = await a.get("/main-chats", id=chat_id, perPage=2)
    assert set(first["_links"]) == {"self", "next", "last"}


async def test_reading_marks_only_the_other_sides_messages_seen(cast: Cast) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    chat_id = await start(a, shop)
    mine = await say(a, chat_id, "سلام")
    theirs = [await say(shop.seller, chat_id, "درود"), await say(shop.seller, chat_id, "بفرمایید")]

    def unread(body: dict[str, Any]) -> int:
        value: int = only(body, chat_id)["unread"]
        return value

    assert unread(await a.get("/chats")) == 2
    assert unread(await shop.seller.get("/chats")) == 1
    body = await a.get("/main-chats", id=chat_id)
    # The response already shows what reading did.
    status = {item["id"]: item["status"] for item in body["items"]}
    assert status == {mine: "sent", theirs[0]: "seen", theirs[1]: "seen"}
    assert unread(await a.get("/chats")) == 0
    assert unread(await shop.seller.get("/chats")) == 1  # the customer's message is unseen
    await shop.seller.get("/main-chats", id=chat_id)
    assert unread(await shop.seller.get("/chats")) == 0
    rows = {m.id: m.status for m in await chat_messages(cast.hub, chat_id)}
    assert rows == {mine: "seen", theirs[0]: "seen", theirs[1]: "seen"}


async def test_store_staff_reading_does_not_mark_their_colleagues_messages_seen(
    cast: Cast,
) -> None:
    """The sides are the customer and the store: a manager reading the chat has seen the
    customer's messages, not the seller's (which the customer has not read yet)."""
    a = await cast.customer()
    shop = await cast.shop()
    assert shop.manager is not None
    chat_id = await start(a, shop)
    question = await say(a, chat_id, "قیمت؟")
    answer = await say(shop.seller, chat_id, "دو میلیون")
    assert only(await shop.manager.get("/chats"), chat_id)["unread"] == 1
    await shop.manager.get("/main-chats", id=chat_id)
    rows = {m.id: m.status for m in await chat_messages(cast.hub, chat_id)}
    assert rows == {question: "seen", answer: "sent"}
    assert only(await a.get("/chats"), chat_id)["unread"] == 1
    assert only(await shop.manager.get("/chats"), chat_id)["unread"] == 0
    assert only(await shop.seller.get("/chats"), chat_id)["unread"] == 0


async def test_main_chats_errors(cast: Cast, api: Api) -> None:
    a, b = await cast.customer(), await cast.customer(name="علی")
    shop = await cast.shop()
    chat_id = await start(a, shop)
    await say(shop.seller, chat_id, "سلام")
    for wrong in (chat_id + 1000, 0, -1, "abc", "", None, "1e3", "99999999999999999999"):
        assert await a.get("/main-chats", id=wrong) == NO_CHAT, wrong
    assert await b.get("/main-chats", id=chat_id) == NO_CHAT
    assert await api.get("/main-chats", id=chat_id) == NOT_LOGIN
    # Nothing was marked seen by the refused calls.
    assert [m.status for m in await chat_messages(cast.hub, chat_id)] == ["sent"]


async def test_message_text_is_plain_and_bounded(cast: Cast) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    chat_id = await start(a, shop)
    await say(a, chat_id, "  <b>سلام</b> <script>x</script>&amp; خوبی؟ ")
    blank = invalid("Text cannot be blank.")
    for text in ("", "   ", "<p> </p>", None):
        assert await a.post("/user/send-chat-message", id=chat_id, text=text) == blank, text
    too_long = await a.post("/user/send-chat-message", id=chat_id, text="ب" * 2001)
    assert too_long == invalid("Text should contain at most 2000 characters.")
    await say(a, chat_id, "ب" * 2000)
    await say(a, chat_id, "بی\x00صدا\x07")  # control characters dropped (NUL breaks PostgreSQL)
    texts = [m.text for m in await chat_messages(cast.hub, chat_id)]
    assert texts == ["سلام x& خوبی؟", "ب" * 2000, "بیصدا"]
    assert (await a.get("/main-chats", id=chat_id))["items"][2]["text"] == "سلام x& خوبی؟"


async def test_send_and_finish_errors(cast: Cast, api: Api) -> None:
    a, b = await cast.customer(), await cast.customer(name="علی")
    shop = await cast.shop()
    chat_id = await start(a, shop)
    for path in ("/user/send-chat-message", "/user/finish-chat"):
        assert await api.post(path, id=chat_id, text="سلام") == NOT_LOGIN
        assert await b.post(path, id=chat_id, text="سلام") == NO_CHAT
        assert await a.post(path, id=999_999, text="سلام") == NO_CHAT
        assert await a.post(path, id="abc", text="سلام") == NO_CHAT
    assert await chat_messages(cast.hub, chat_id) == []
    assert (await chat_row(cast.hub, chat_id)).status == "pending"


# -- statements ------------------------------------------------------------------------------


async def _count(person: Person, path: str, **params: Any) -> tuple[int, dict[str, Any]]:
    with count_statements(person.api.hub) as sql:
        body = await person.get(path, **params)
    return len(sql), body


async def test_chat_lists_run_a_constant_number_of_statements(cast: Cast) -> None:
    """/web/chats: auth, page with its total (2). /web/main-chats: auth, the page with its
    total, the chat and "anything unseen?" (2, no write transaction); on a first read also
    mark seen and the audience for the event (4). PostgreSQL checks the login inside the
    page's statement: one less each."""
    counts: dict[str, list[int]] = {"chats": [], "first read": [], "second read": []}
    shop = await cast.shop(sellers=3)
    await cast.customer()  # warm the pool
    for n in (1, 20):
        customer = await cast.customer()
        chat_ids = [await start(customer, shop) for _ in range(n)]
        for i in range(n):
            await say(shop.sellers[i % 3], chat_ids[0], f"پیام {i}")
        statements, body = await _count(customer, "/chats")
        assert len(body["items"]) == n
        counts["chats"].append(statements)
        statements, body = await _count(customer, "/main-chats", id=chat_ids[0])
        assert len(body["items"]) == n
        counts["first read"].append(statements)
        statements, body = await _count(customer, "/main-chats", id=chat_ids[0])
        assert len(body["items"]) == n
        counts["second read"].append(statements)
    login = 1  # the login's own statement
    expected = {"chats": [1, 1], "first read": [3, 3], "second read": [1, 1]}
    assert counts == {k: [n + login for n in v] for k, v in expected.items()}, counts


async def test_chat_message_rows_keep_the_sender(cast: Cast) -> None:
    a = await cast.customer()
    shop = await cast.shop()
    chat_id = await start(a, shop)
    message_id = await say(shop.seller, chat_id, "سلام")
    rows = await chat_messages(cast.hub, chat_id)
    assert [(m.id, m.sender_id, m.status) for m in rows] == [(message_id, shop.seller.id, "sent")]
    assert await count_rows(cast.hub, ChatMessage) == 1
