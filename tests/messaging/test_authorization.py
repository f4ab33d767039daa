"""Who may touch which messaging object: every id-taking endpoint, as every user.

Two customers (A, B); store 1 with sellers S1 and S1b (a colleague) and manager M; store 2
with seller S2 and manager M2. A chats with and writes to store 1 and gets S1's offer; B the
same with store 2. Refused callers get the documented error, byte for byte the one an unknown
id gets (ids reveal nothing), and nothing changes; allowed callers succeed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import pytest

from hojre.accounts.models import Role
from hojre.messaging.models import ChatMessage, Offer, StoreMessage
from hojre.web_v1.live import render
from tests.messaging.conftest import (
    Cast,
    Person,
    chat_messages,
    chat_row,
    count_rows,
    err,
    offer_row,
    store_message_row,
)

# The paths these tests send, made uploads by the hub fixture (tests/conftest.py): an image
# field takes no other path.
UPLOADED = ("img/x.png",)


pytestmark = pytest.mark.anyio

NO_CHAT = err("there is no chat for u")
NO_MESSAGE = err("Message Not Found")
NOT_MANAGER = err("You are not store manager")
NO_OFFER = err("Offer Not Found")
NOT_CUSTOMER = err("User has not interacted with your store")
UNKNOWN = 987_654


@dataclass
class World:
    a: Person
    b: Person
    s1: Person
    s1b: Person
    m: Person
    s2: Person
    m2: Person
    store1: int
    store2: int
    chat1: int
    chat2: int
    msg1: int
    msg2: int
    offer1: int
    offer2: int

    @property
    def everyone(self) -> dict[str, Person]:
        names = ("a", "b", "s1", "s1b", "m", "s2", "m2")
        return {name: getattr(self, name) for name in names}

    def others(self, *allowed: str) -> dict[str, Person]:
        return {k: p for k, p in self.everyone.items() if k not in allowed}


async def ok(body: Any, message: str) -> Any:
    assert body["status"] == "success" and body["message"] == message, body
    return body["data"]


@pytest.fixture
async def world(cast: Cast) -> World:
    a, b = await cast.customer(name="آرش"), await cast.customer(name="بهار")
    shop1, shop2 = await cast.shop(), await cast.shop()
    s1b = await cast.add_seller(shop1)
    assert shop1.manager is not None and shop2.manager is not None
    s1, s2 = shop1.seller, shop2.seller
    chat1 = (await ok(await a.post("/user/start-chat", store=shop1.id, seller=s1.id),
                      "Chat Started"))["id"]  # fmt: skip
    chat2 = (await ok(await b.post("/user/start-chat", store=shop2.id), "Chat Started"))["id"]
    for chat_id, customer, seller in ((chat1, a, s1), (chat2, b, s2)):
        await ok(await customer.post("/user/send-chat-message", id=chat_id, text="سلام"),
                 "Message Sent")  # fmt: skip
        await ok(await seller.post("/user/send-chat-message", id=chat_id, text="درود"),
                 "Message Sent")  # fmt: skip
    msg1 = (await ok(await a.post("/user/submit-store-message", store=shop1.id, title="پرسش",
                                  text="ساعت کاری؟"), "Message Sent"))["id"]  # fmt: skip
    msg2 = (await ok(await b.post("/user/submit-store-message", store=shop2.id, title="پرسش",
                                  text="ارسال دارید؟"), "Message Sent"))["id"]  # fmt: skip
    offer1 = (await ok(await s1.post("/seller/send-offer", user=a.id, text="تخفیف ویژه"),
                       "Offer Sent"))["id"]  # fmt: skip
    offer2 = (await ok(await s2.post("/seller/send-offer", user=b.id, text="هدیه"),
                       "Offer Sent"))["id"]  # fmt: skip
    return World(a, b, s1, s1b, shop1.manager, s2, shop2.manager, shop1.id, shop2.id,
                 chat1, chat2, msg1, msg2, offer1, offer2)  # fmt: skip


async def chat_state(cast: Cast, chat_id: int) -> tuple[str, list[tuple[int, int, str, str]]]:
    chat = await chat_row(cast.hub, chat_id)
    rows = await chat_messages(cast.hub, chat_id)
    return chat.status, [(m.id, m.sender_id, m.text, m.status) for m in rows]


# -- chats -----------------------------------------------------------------------------------


async def test_foreign_chats_are_refused_and_untouched(cast: Cast, world: World) -> None:
    w = world
    cases = {w.chat1: w.others("a", "s1", "s1b", "m"), w.chat2: w.others("b", "s2", "m2")}
    for chat_id, outsiders in cases.items():
        before = await chat_state(cast, chat_id)
        for name, person in outsiders.items():
            where = f"{name} on chat {chat_id}"
            assert await person.get("/main-chats", id=chat_id) == NO_CHAT, where
            body = await person.post("/user/send-chat-message", id=chat_id, text="نفوذ")
            assert body == NO_CHAT, where
            assert await person.post("/user/finish-chat", id=chat_id) == NO_CHAT, where
            # The same answer as for an id that does not exist.
            assert await person.get("/main-chats", id=UNKNOWN) == NO_CHAT
            chats = await person.get("/chats")
            assert chat_id not in [item["id"] for item in chats["items"]], where
        # Not read (still "sent"), not finished, nothing added.
        assert await chat_state(cast, chat_id) == before
        assert before[0] == "chatting"
        assert [status for *_, status in before[1]] == ["sent", "sent"]
    assert await count_rows(cast.hub, ChatMessage) == 4


async def test_chat_participants_and_store_staff_are_allowed(cast: Cast, world: World) -> None:
    w = world
    insiders = {"a": w.a, "s1": w.s1, "s1b": w.s1b, "m": w.m}
    for name, person in insiders.items():
        body = await person.get("/main-chats", id=w.chat1)
        assert [item["text"] for item in body["items"]][-2:] == ["درود", "سلام"], name
        chats = await person.get("/chats")
        assert [item["id"] for item in chats["items"]] == [w.chat1], name
        await ok(await person.post("/user/send-chat-message", id=w.chat1, text=f"از {name}"),
                 "Message Sent")  # fmt: skip
    texts = [m.text for m in await chat_messages(cast.hub, w.chat1)]
    assert texts == ["سلام", "درود", "از a", "از s1", "از s1b", "از m"]
    await ok(await w.m.post("/user/finish-chat", id=w.chat1), "Chat Finished")
    for name, person in insiders.items():
        await ok(await person.post("/user/finish-chat", id=w.chat1), "Chat Finished")
        body = await person.post("/user/send-chat-message", id=w.chat1, text="x")
        assert body == err("Chat is finished"), name
    assert (await chat_row(cast.hub, w.chat2)).status == "chatting"


async def test_live_events_reach_only_the_people_concerned(cast: Cast, world: World) -> None:
    w = world
    with contextlib.ExitStack() as stack:
        queues = {name: stack.enter_context(cast.hub.events.subscribe(p.id, int(p.role)))
                  for name, p in w.everyone.items()}  # fmt: skip
        await ok(await w.a.post("/user/send-chat-message", id=w.chat1, text="هستید؟"),
                 "Message Sent")  # fmt: skip
        await ok(await w.m.post("/store-manager/answer-store-message", message=w.msg1,
                                answer="بله"), "message replied")  # fmt: skip
        await ok(await w.s1.post("/seller/send-offer", user=w.a.id, text="باز هم"), "Offer Sent")
        # Refused calls publish nothing.
        await w.b.post("/user/send-chat-message", id=w.chat1, text="نفوذ")
        await w.s2.post("/user/finish-chat", id=w.chat1)
        got = {name: [render(q.get_nowait())["type"] for _ in range(q.qsize())]
               for name, q in queues.items()}  # fmt: skip
    for name in ("b", "s2", "m2"):
        assert got[name] == [], name
    assert got["a"] == ["chat.message", "store_message.answer", "offer.new"]
    for name in ("s1", "s1b", "m"):
        assert got[name] == ["chat.message"], name


# -- store messages --------------------------------------------------------------------------


async def test_foreign_store_messages_are_refused_and_untouched(cast: Cast, world: World) -> None:
    w = world
    cases = {w.msg1: (w.m, w.m2), w.msg2: (w.m2, w.m)}
    for message_id, (manager, other_manager) in cases.items():
        outsiders = {name: p for name, p in w.everyone.items() if p is not manager}
        for name, person in outsiders.items():
            expected = NO_MESSAGE if person is other_manager else NOT_MANAGER
            where = f"{name} on message {message_id}"
            body = await person.post("/store-manager/unique-store-message", id=message_id)
            assert body == expected, where
            for name_of_id in ("message", "id"):
                body = await person.post("/store-manager/answer-store-message",
                                         **{name_of_id: message_id}, answer="پاسخ جعلی",
                                         answerAttachment="img/x.png")  # fmt: skip
                assert body == expected, (where, name_of_id)
            assert await person.post("/store-manager/unique-store-message", id=UNKNOWN) in (
                NO_MESSAGE, NOT_MANAGER)  # fmt: skip
        row = await store_message_row(cast.hub, message_id)
        assert (row.read, row.answer, row.answer_attachment, row.answered_at) == (
            False, None, None, None)  # fmt: skip
    # Customers see only their own messages; managers only their store's.
    lists = {
        "a": await w.a.get("/store-messages"),
        "b": await w.b.get("/store-messages"),
    }
    assert [i["id"] for i in lists["a"]["items"]] == [w.msg1]
    assert [i["id"] for i in lists["b"]["items"]] == [w.msg2]
    for person in (w.s1, w.s2, w.m, w.m2):
        body = await person.get("/store-messages")  # staff wrote nothing themselves
        assert body["items"] == [] and body["_meta"]["totalCount"] == 0
    for manager, message_id in ((w.m, w.msg1), (w.m2, w.msg2)):
        listed = (await manager.post("/store-manager/store-messages"))["data"]
        assert [i["id"] for i in listed] == [message_id]
    assert await count_rows(cast.hub, StoreMessage) == 2


async def test_the_stores_manager_reads_and_answers(cast: Cast, world: World) -> None:
    w = world
    [data] = await ok(await w.m.post("/store-manager/unique-store-message", id=w.msg1),
                      "store messages result")  # fmt: skip
    assert (data["id"], data["read"], data["user"]) == (w.msg1, 1, w.a.id)
    data = await ok(await w.m.post("/store-manager/answer-store-message", message=w.msg1,
                                   answer="نه تا هشت"), "message replied")  # fmt: skip
    assert data == ""
    assert (await w.a.get("/store-messages"))["items"][0]["answer"] == "نه تا هشت"
    assert (await w.b.get("/store-messages"))["items"][0]["answer"] is None
    assert (await store_message_row(cast.hub, w.msg2)).read is False


# -- offers ----------------------------------------------------------------------------------


async def test_foreign_offers_are_refused_and_untouched(cast: Cast, world: World) -> None:
    w = world
    cases = {w.offer1: w.others("a"), w.offer2: w.others("b")}
    for offer_id, outsiders in cases.items():
        for name, person in outsiders.items():
            assert await person.post("/user/read-offer", id=offer_id) == NO_OFFER, name
            assert await person.post("/user/read-offer", id=UNKNOWN) == NO_OFFER
            offers = await person.get("/offers")
            assert offer_id not in [item["id"] for item in offers["items"]], name
        assert (await offer_row(cast.hub, offer_id)).read is False
    # The store side lists only its own store's offers; sellers have no store-side list.
    assert [i["id"] for i in (await w.m.post("/store-manager/offers"))["data"]] == [w.offer1]
    assert [i["id"] for i in (await w.m2.post("/store-manager/offers"))["data"]] == [w.offer2]
    for person in (w.a, w.s1, w.s2):
        assert await person.post("/store-manager/offers") == NOT_MANAGER
    # A store's staff cannot offer to another store's customer, nor a customer offer at all.
    for person in (w.s2, w.m2):
        assert await person.post("/seller/send-offer", user=w.a.id, text="x") == NOT_CUSTOMER
    for person in (w.s1b, w.m):
        assert await person.post("/seller/send-offer", user=w.b.id, text="x") == NOT_CUSTOMER
    assert await w.b.post("/seller/send-offer", user=w.a.id, text="x") == err("You are not seller")
    assert await count_rows(cast.hub, Offer) == 2


async def test_the_customer_reads_their_offer(cast: Cast, world: World) -> None:
    w = world
    data = await ok(await w.a.post("/user/read-offer", id=w.offer1), "Offer Read")
    assert (data["id"], data["user"], data["read"], data["store"]) == (
        w.offer1, w.a.id, 1, w.store1)  # fmt: skip
    assert (await offer_row(cast.hub, w.offer2)).read is False
    # The colleague and the manager may offer to store 1's customer too.
    for person in (w.s1b, w.m):
        await ok(await person.post("/seller/send-offer", user=w.a.id, text="از ما"), "Offer Sent")


# -- broadcasts ------------------------------------------------------------------------------


async def test_broadcasts_of_another_role_are_refused(cast: Cast, world: World) -> None:
    w = world
    by_role = {role: await cast.broadcast(f"برای {role}", role)
               for role in (Role.customer, Role.seller, Role.store_manager)}  # fmt: skip
    hidden = await cast.broadcast("پنهان", None, show=False)
    for name, person in w.everyone.items():
        for role, broadcast_id in by_role.items():
            body = await person.get(f"/broadcasts/{broadcast_id}")
            if role == person.role:
                assert body["id"] == broadcast_id, name
            else:
                assert body == err("Broadcast Not Found"), (name, role)
        assert await person.get(f"/broadcasts/{hidden}") == err("Broadcast Not Found")
        listed = [i["id"] for i in (await person.get("/broadcasts"))["items"]]
        assert listed == [by_role[person.role]], name
