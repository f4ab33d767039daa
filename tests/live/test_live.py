"""``/web/live`` in one process (no Redis): login, delivery to the right people, revocation."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from hojre.accounts.models import AccessToken, Role
from hojre.core.events import OfferNew, SessionsRevoked, to_user
from hojre.core.hub import Hub
from hojre.messaging.service import create_broadcast
from hojre.web_v1 import live
from tests.conftest import Api, app_client
from tests.live.conftest import (
    PASSWORD,
    LiveServer,
    Shop,
    assert_silent,
    close_code,
    eventually,
    make_shop,
    next_event,
    open_socket,
    wait_for_event,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def api(hub: Hub) -> Any:
    async with app_client(hub) as client:
        yield Api(client, hub)


@pytest.fixture
async def shop(hub: Hub) -> Shop:
    return await make_shop(hub)


async def login(api: Api, cellphone: str) -> str:
    body = await api.post("/user/login", username=cellphone, password=PASSWORD)
    assert body["message"] == "Login Success", body
    token: str = body["data"]["token"]
    return token


async def test_bad_login_is_closed_with_4401(server: LiveServer, api: Api, shop: Shop) -> None:
    token = await login(api, shop.customer_phone)
    attempts: list[dict[str, Any]] = [
        {"username": shop.customer_phone},  # no token at all
        {"username": shop.customer_phone, "token": "nope"},
        {"username": shop.customer_phone, "bearer": "nope"},
        {"username": shop.seller_phone, "token": token},  # someone else's number
        {"username": "", "token": token},
    ]
    for attempt in attempts:
        async with open_socket(server.live_url, **attempt) as ws:
            assert await close_code(ws) == live.NOT_LOGGED_IN, attempt


async def test_hello_then_ping(server: LiveServer, api: Api, shop: Shop) -> None:
    token = await login(api, shop.customer_phone)
    # Persian digits in the username are normalised as on every other endpoint.
    persian = shop.customer_phone.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    for credentials in ({"token": token}, {"bearer": token}):
        async with open_socket(server.live_url, username=persian, **credentials) as ws:
            assert await next_event(ws) == {"type": "hello", "data": {"user": shop.customer_id}}
            await ws.send("ping")
            assert await asyncio.wait_for(ws.recv(), 5) == "pong"
            await ws.send("anything else is ignored")
            await ws.send(b"\x00binary too")
            await ws.send("ping")
            assert await asyncio.wait_for(ws.recv(), 5) == "pong"


async def test_chat_message_reaches_the_customer(server: LiveServer, api: Api, shop: Shop) -> None:
    customer = await login(api, shop.customer_phone)
    seller = await login(api, shop.seller_phone)
    started = await api.post(
        "/user/start-chat", username=shop.customer_phone, token=customer, store=shop.store_id
    )
    assert started["message"] == "Chat Started", started
    chat = started["data"]["id"]
    async with (
        open_socket(server.live_url, username=shop.customer_phone, token=customer) as mine,
        open_socket(server.live_url, username=shop.seller_phone, bearer=seller) as theirs,
    ):
        assert (await next_event(mine))["type"] == "hello"
        assert (await next_event(theirs))["type"] == "hello"
        sent = await api.post(
            "/user/send-chat-message",
            username=shop.seller_phone, token=seller, id=chat, text="سلام، موجود است",
        )  # fmt: skip
        assert sent["message"] == "Message Sent", sent
        # The seller's first answer opens the chat (announced first), then the message.
        await wait_for_event(mine, "chat.status", id=chat, status="chatting")
        event = await wait_for_event(mine, "chat.message")
        assert event["data"]["text"] == "سلام، موجود است"
        assert event["data"]["chat"] == chat
        assert event["data"]["senderId"] == shop.seller_id
        assert event["data"]["id"] == sent["data"]["id"]
        await wait_for_event(theirs, "chat.message", id=sent["data"]["id"])


async def test_broadcast_reaches_its_role_only(
    server: LiveServer, api: Api, shop: Shop, hub: Hub
) -> None:
    customer = await login(api, shop.customer_phone)
    seller = await login(api, shop.seller_phone)
    async with (
        open_socket(server.live_url, username=shop.customer_phone, token=customer) as mine,
        open_socket(server.live_url, username=shop.seller_phone, token=seller) as staff,
    ):
        await next_event(mine)
        await next_event(staff)
        async with hub.db.raw.connect(write=True) as conn:
            made = await create_broadcast(
                conn, hub.events, title="حراج", text="تخفیف ویژه", role=Role.customer
            )
        event = await next_event(mine)
        assert event == {
            "type": "broadcast.new",
            "data": {"id": made.id, "title": "حراج", "role": int(Role.customer)},
        }
        await assert_silent(staff)
        async with hub.db.raw.connect(write=True) as conn:
            everyone = await create_broadcast(
                conn, hub.events, title="همه", text="برای همه", role=None
            )
        for ws in (mine, staff):
            assert (await next_event(ws))["data"]["id"] == everyone.id


async def test_rolled_back_transaction_publishes_nothing(
    server: LiveServer, api: Api, shop: Shop, hub: Hub
) -> None:
    token = await login(api, shop.customer_phone)
    async with open_socket(server.live_url, username=shop.customer_phone, token=token) as ws:
        await next_event(ws)
        with pytest.raises(RuntimeError):
            async with hub.db.unit_of_work(write=True) as session:
                hub.events.publish_on_commit(
                    session, [to_user(shop.customer_id)], OfferNew(1, shop.store_id, "one")
                )
                raise RuntimeError("changed my mind")
        await assert_silent(ws)
        async with hub.db.unit_of_work(write=True) as session:
            hub.events.publish_on_commit(
                session, [to_user(shop.customer_id)], OfferNew(2, shop.store_id, "two")
            )
        assert await next_event(ws) == {
            "type": "offer.new",
            "data": {"id": 2, "store": shop.store_id, "text": "two"},
        }


async def test_change_password_elsewhere_closes_the_socket(
    server: LiveServer, api: Api, shop: Shop
) -> None:
    phone = shop.customer_phone
    here = await login(api, phone)
    there = await login(api, phone)
    async with (
        open_socket(server.live_url, username=phone, token=here) as revoked,
        open_socket(server.live_url, username=phone, token=there) as kept,
    ):
        await next_event(revoked)
        await next_event(kept)
        changed = await api.post(
            "/user/change-password",
            username=phone, token=there, oldPassword=PASSWORD, newPassword="another1",
        )  # fmt: skip
        assert changed["message"] == "Password Changed", changed
        assert await close_code(revoked) == live.NOT_LOGGED_IN
        # The device that changed the password keeps its socket (and the event is internal).
        await kept.send("ping")
        assert await asyncio.wait_for(kept.recv(), 5) == "pong"


async def test_logout_closes_that_tokens_socket_only(
    server: LiveServer, api: Api, shop: Shop
) -> None:
    phone = shop.customer_phone
    leaving, staying = await login(api, phone), await login(api, phone)
    async with (
        open_socket(server.live_url, username=phone, token=leaving) as closed,
        open_socket(server.live_url, username=phone, token=staying) as kept,
    ):
        await next_event(closed)
        await next_event(kept)
        body = await api.post("/user/logout", username=phone, token=leaving)
        assert body == {"status": "success", "message": "Logged Out", "data": ""}
        assert await close_code(closed) == live.NOT_LOGGED_IN
        await kept.send("ping")
        assert await asyncio.wait_for(kept.recv(), 5) == "pong"


async def test_token_revoked_without_an_event_is_noticed(
    server: LiveServer, api: Api, shop: Shop, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.1)
    token = await login(api, shop.customer_phone)
    async with open_socket(server.live_url, username=shop.customer_phone, token=token) as ws:
        await next_event(ws)
        await assert_silent(ws, 0.3)  # re-checked a few times, still valid
        async with hub.db.unit_of_work(write=True) as session:
            await session.execute(
                delete(AccessToken).where(AccessToken.user_id == shop.customer_id)
            )
        assert await close_code(ws) == live.NOT_LOGGED_IN


async def test_client_leaving_unsubscribes(
    server: LiveServer, api: Api, shop: Shop, hub: Hub
) -> None:
    token = await login(api, shop.customer_phone)
    for _ in range(3):
        async with open_socket(server.live_url, username=shop.customer_phone, token=token) as ws:
            await next_event(ws)
            assert hub.events._queues  # subscribed while open
    # A socket dropped without a closing handshake is cleaned up too.
    ws = await open_socket(server.live_url, username=shop.customer_phone, token=token)
    await next_event(ws)
    ws.transport.abort()
    await eventually(lambda: not hub.events._queues)
    # Events for nobody are simply dropped.
    async with hub.db.unit_of_work(write=True) as session:
        hub.events.publish_on_commit(session, [to_user(shop.customer_id)], SessionsRevoked())
    async with httpx.AsyncClient(base_url=server.base) as http:
        assert (await http.get("/web/ping")).status_code == 200
