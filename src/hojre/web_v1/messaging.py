"""v1 messaging (API.md §4): chats, store messages, offers, broadcasts."""

from __future__ import annotations

from calendar import timegm
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from hojre.accounts.models import Role
from hojre.core.clock import to_unix
from hojre.core.pagination import MAX_PER_PAGE, Page, PageRequest
from hojre.core.text import full_name, parse_int
from hojre.messaging import service
from hojre.messaging.service import (
    BroadcastItem,
    ChatItem,
    MessageItem,
    OfferItem,
    StoreMessageItem,
)
from hojre.web_v1.endpoint import Call, SenderLimit, V1Params, V1Router, param
from hojre.web_v1.envelopes import avatar, listing, ok, page_number, page_request
from hojre.web_v1.openapi import Reply
from hojre.web_v1.params import wire_id

router = V1Router("messaging")
T = TypeVar("T")


id_param = wire_id


def store_side(
    message: str, page: Page[T], render: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """The store-manager envelope of the original service (``totalCount`` is a string there)."""
    return {
        "status": "success",
        "message": message,
        "totalCount": str(page.total),
        "totalPages": page.page_count,
        "page": page.request.page,
        "perPage": page.request.per_page,
        "data": [render(item) for item in page.items],
    }


_ATTACHMENT = "An image (optional): a path from an upload endpoint, or the file itself."


class StoreSidePaged(V1Params):
    """Every store-side list: ``page`` and any of ``perPage``, ``per-page``, ``pageSize``."""

    page: str | None = param("1-based page (default 1).", type="integer")
    perPage: str | None = param("Page size (default and maximum 300).", type="integer")
    per_page: str | None = param("Alias of `perPage`.", alias="per-page", type="integer")
    pageSize: str | None = param("Alias of `perPage`.", type="integer")


def store_side_page(raw: Mapping[str, str]) -> PageRequest:
    """Paged by ``page`` and any of ``perPage``, ``per-page``, ``pageSize`` (API.md §5): the
    list envelope's two names win over the store-manager document's ``pageSize``."""
    if raw.get("per-page") or raw.get("perPage"):
        return page_request(raw)
    size = parse_int(raw.get("pageSize"))
    size = MAX_PER_PAGE if size is None or size < 1 else min(size, MAX_PER_PAGE)
    return PageRequest(page=page_number(raw.get("page")), per_page=size)


# -- chats -----------------------------------------------------------------------------------


def is_staff(call: Call[Any]) -> bool:
    """Customers take part in chats only as the customer (a cheaper list of chats)."""
    return call.me.role != Role.customer


class Paged(V1Params):
    paged: ClassVar[bool] = True


class ChatIdParams(V1Params):
    paged: ClassVar[bool] = True
    id: str | None = param("The chat's id.", required=True, type="integer")


def render_chat(item: ChatItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "user": item.customer_id,
        "seller": full_name(item.seller_name, item.seller_family),
        "startDate": to_unix(item.created_at),
        "status": item.status,
        "store": item.store_title,
        "storeId": item.store_id,
        "sellerAvatar": avatar(item.seller_avatar),
        "unread": item.unread,
    }


def render_message(item: MessageItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "sender": full_name(item.sender_name, item.sender_family),
        "text": item.text,
        "sentDate": to_unix(item.created_at),
        "status": item.status,
        "chat": item.chat_id,
        "senderId": item.sender_id,
        "senderAvatar": avatar(item.sender_avatar),
    }


@router.get("/chats", Paged, auth=True,
            summary="The caller's chats, newest first")  # fmt: skip
async def chats(call: Call[Paged]) -> dict[str, Any]:
    request = page_request(call.raw)
    # Read as a customer, with the login in the same statement; staff read again as staff.
    page = await service.list_chats(call.conn, user_id=call.me.id, page=request, staff=False)
    if is_staff(call):
        page = await service.list_chats(call.conn, user_id=call.me.id, page=request)
    return listing(call.request, page, render_chat)


@router.get("/main-chats", ChatIdParams, auth=True, write=True,
            summary="A chat's messages, newest first; marks the other side's as seen")  # fmt: skip
async def main_chats(call: Call[ChatIdParams]) -> dict[str, Any]:
    page = await service.list_messages(
        call.conn, call.hub.events, user_id=call.me.id, chat_id=id_param(call.params.id),
        page=page_request(call.raw),
    )  # fmt: skip
    return listing(call.request, page, render_message)


class StartChatParams(V1Params):
    store: str | None = param("The store's id.", required=True, type="integer")
    seller: str | None = param("One of the store's active sellers (optional).", type="integer")


@router.post("/user/start-chat", StartChatParams, auth=True, summary="Start a chat with a store")
async def start_chat(call: Call[StartChatParams]) -> dict[str, Any]:
    seller = call.params.seller
    chat = await service.start_chat(
        call.conn, call.hub.events, user_id=call.me.id, store_id=id_param(call.params.store),
        seller_id=id_param(seller) if seller else None,
    )  # fmt: skip
    return ok("Chat Started", {"id": chat.id})


class SendChatMessageParams(V1Params):
    id: str | None = param("The chat's id.", required=True, type="integer")
    text: str | None = param("Plain text, at most 2000 characters.", required=True)


@router.post("/user/send-chat-message", SendChatMessageParams, auth=True,
             sender_limit=SenderLimit.chat_messages,
             summary="Send a message in a chat")  # fmt: skip
async def send_chat_message(call: Call[SendChatMessageParams]) -> dict[str, Any]:
    message = await service.send_chat_message(
        call.conn, call.hub.events, user_id=call.me.id, chat_id=id_param(call.params.id),
        text=call.params.text, names=(call.me.name, call.me.family),
    )  # fmt: skip
    return ok("Message Sent", {"id": message.id})


class ChatOnlyParams(V1Params):
    id: str | None = param("The chat's id.", required=True, type="integer")


@router.post("/user/finish-chat", ChatOnlyParams, auth=True, summary="Finish a chat")
async def finish_chat(call: Call[ChatOnlyParams]) -> dict[str, Any]:
    await service.finish_chat(
        call.conn, call.hub.events, user_id=call.me.id, chat_id=id_param(call.params.id)
    )
    return ok("Chat Finished")


# -- store messages --------------------------------------------------------------------------


def render_store_message(m: StoreMessageItem) -> dict[str, Any]:
    """A message to a store as its sender sees it (``status`` tells whether it was answered)."""
    return {
        "id": m.id,
        "user": m.user_id,
        "title": m.title,
        "text": m.text,
        "attachment": m.attachment,
        "sendDate": to_unix(m.created_at),
        "read": int(m.read),
        "store": m.store_id,
        "answer": m.answer,
        "answerDate": to_unix(m.answered_at),
        "answerAttachment": m.answer_attachment,
        "status": "answered" if m.answer is not None else "pending",
        "senderName": full_name(m.sender_name, m.sender_family),
        "storeName": m.store_title,
    }


def render_store_side_message(m: StoreMessageItem) -> dict[str, Any]:
    """A message as the store side sees it: the store-manager document's ``status`` is always
    "active" there (API.md §5); ``answer`` tells whether it was answered."""
    return {**render_store_message(m), "status": "active"}


class SubmitStoreMessageParams(V1Params):
    store: str | None = param("The store's id.", required=True, type="integer")
    title: str | None = param("At most 200 characters.", required=True)
    text: str | None = param("At most 2000 characters.", required=True)
    attachment: str | None = param(_ATTACHMENT, image=True)


@router.post("/user/submit-store-message", SubmitStoreMessageParams, auth=True,
             sender_limit=SenderLimit.store_messages,
             summary="Send a message to a store")  # fmt: skip
async def submit_store_message(call: Call[SubmitStoreMessageParams]) -> dict[str, Any]:
    p = call.params
    message = await service.submit_store_message(
        call.conn, call.hub.events, user_id=call.me.id, store_id=id_param(p.store),
        title=p.title, text=p.text, attachment=p.attachment,
    )  # fmt: skip
    return ok("Message Sent", {"id": message.id})


@router.get("/store-messages", Paged, auth=True,
            summary="The caller's messages to stores")  # fmt: skip
async def store_messages(call: Call[Paged]) -> dict[str, Any]:
    page = await service.list_own_store_messages(
        call.conn, user_id=call.me.id, page=page_request(call.raw)
    )
    return listing(call.request, page, render_store_message)


# A list behind a POST: it writes nothing, so it takes no write transaction (nor SQLite's turn).
@router.post("/store-manager/store-messages", StoreSidePaged, auth=True, write=False,
             response=Reply.store_side,
             summary="Messages to the caller's stores (store managers)")  # fmt: skip
async def manager_store_messages(call: Call[StoreSidePaged]) -> dict[str, Any]:
    page = await service.list_store_messages_for_manager(
        call.conn, manager=call.me, page=store_side_page(call.raw)
    )
    return store_side("store messages result", page, render_store_side_message)


class MessageIdParams(V1Params):
    id: str | None = param("The store message's id.", required=True, type="integer")


@router.post("/store-manager/unique-store-message", MessageIdParams, auth=True,
             response=Reply.store_side,
             summary="One message to the caller's store; marks it read")  # fmt: skip
async def unique_store_message(call: Call[MessageIdParams]) -> dict[str, Any]:
    item = await service.read_store_message(
        call.conn, manager=call.me, message_id=id_param(call.params.id)
    )
    # The store-side envelope of a one-item list, as the original answers it (API.md §5).
    page = Page(items=[item], total=1, request=PageRequest())
    return store_side("store messages result", page, render_store_side_message)


class AnswerParams(V1Params):
    message: str | None = param("The store message's id.", required=True, type="integer")
    id: str | None = param("Alias of `message` (used when `message` is absent or empty).",
                           type="integer")  # fmt: skip
    answer: str | None = param("The answer, at most 2000 characters.", required=True)
    answerAttachment: str | None = param(_ATTACHMENT, image=True)


@router.post("/store-manager/answer-store-message", AnswerParams, auth=True,
             summary="Answer a message to the caller's store")  # fmt: skip
async def answer_store_message(call: Call[AnswerParams]) -> dict[str, Any]:
    p = call.params
    # The store-manager document's `message` wins; §4's `id` is still read without it.
    await service.answer_store_message(
        call.conn, call.hub.events, manager=call.me, message_id=id_param(p.message or p.id),
        answer=p.answer, attachment=p.answerAttachment,
    )  # fmt: skip
    return ok("message replied")


# -- offers ----------------------------------------------------------------------------------


def _offer_fields(o: OfferItem) -> dict[str, Any]:
    return {
        "id": o.id,
        "user": o.user_id,
        "text": o.text,
        "sentDate": to_unix(o.created_at),
        "read": int(o.read),
        "store": o.store_id,
    }


def render_offer(item: OfferItem) -> dict[str, Any]:
    """An offer as its customer sees it."""
    return {**_offer_fields(item), "storeName": item.store_title,
            "storeLogo": item.store_logo}  # fmt: skip


def render_store_offer(item: OfferItem) -> dict[str, Any]:
    """An offer as the store side sees it."""
    return {**_offer_fields(item),
            "targetName": full_name(item.customer_name, item.customer_family)}  # fmt: skip


@router.get("/offers", Paged, auth=True, summary="Offers sent to the caller")
async def offers(call: Call[Paged]) -> dict[str, Any]:
    page = await service.list_offers(call.conn, user_id=call.me.id,
                                     page=page_request(call.raw))  # fmt: skip
    return listing(call.request, page, render_offer)


class OfferIdParams(V1Params):
    id: str | None = param("The offer's id.", required=True, type="integer")


@router.post(
    "/user/read-offer", OfferIdParams, auth=True, summary="Read one of the caller's offers"
)
async def read_offer(call: Call[OfferIdParams]) -> dict[str, Any]:
    item = await service.read_offer(call.conn, user_id=call.me.id,
                                    offer_id=id_param(call.params.id))  # fmt: skip
    return ok("Offer Read", render_offer(item))


class SendOfferParams(V1Params):
    user: str | None = param("The customer's id.", required=True, type="integer")
    text: str | None = param("The offer, at most 2000 characters.", required=True)
    store: str | None = param("Which of the caller's stores (default: the first).",
                              type="integer")  # fmt: skip


@router.post("/seller/send-offer", SendOfferParams, auth=True, sender_limit=SenderLimit.offers,
             summary="Send an offer to a customer of the caller's store")  # fmt: skip
async def send_offer(call: Call[SendOfferParams]) -> dict[str, Any]:
    p = call.params
    offer = await service.send_offer(
        call.conn, call.hub.events, sender=call.me, customer_id=id_param(p.user), text=p.text,
        store_id=id_param(p.store) if p.store else None,
    )  # fmt: skip
    return ok("Offer Sent", {"id": offer.id})


# Writes nothing either (see /store-manager/store-messages).
@router.post("/store-manager/offers", StoreSidePaged, auth=True, write=False,
             response=Reply.store_side,
             summary="Offers sent from the caller's stores (store managers)")  # fmt: skip
async def manager_offers(call: Call[StoreSidePaged]) -> dict[str, Any]:
    page = await service.list_store_offers(
        call.conn, manager=call.me, page=store_side_page(call.raw)
    )
    return store_side("offers result", page, render_store_offer)


# -- broadcasts ------------------------------------------------------------------------------


# The seller and store-manager documents show a broadcast's `date` as unix seconds, the
# customer document as "YYYY-MM-DD" (API.md §5).
UNIX_DATES = frozenset({Role.store_manager, Role.seller})


def render_broadcast(b: BroadcastItem) -> dict[str, Any]:
    """A broadcast as a customer (or an admin) sees it: ``date`` "YYYY-MM-DD"."""
    return {
        "id": b.id,
        "title": b.title,
        "text": b.text,
        "user": b.user_id,
        "role": b.role,
        "date": b.day.isoformat(),
        "show": "yes" if b.show else "no",
    }


def render_staff_broadcast(b: BroadcastItem) -> dict[str, Any]:
    """As staff see it: ``date`` the same day's midnight UTC in unix seconds, so both views
    name one day (the day is what the admin dated it, not when the row was written)."""
    return {**render_broadcast(b), "date": timegm(b.day.timetuple())}


def broadcast_renderer(call: Call[Any]) -> Callable[[BroadcastItem], dict[str, Any]]:
    return render_staff_broadcast if call.me.role in UNIX_DATES else render_broadcast


@router.get("/broadcasts", Paged, auth=True, summary="Broadcasts for the caller's role")
async def broadcasts(call: Call[Paged]) -> dict[str, Any]:
    page = await service.list_broadcasts(call.conn, role=call.me.role,
                                         page=page_request(call.raw))  # fmt: skip
    return listing(call.request, page, broadcast_renderer(call))


class BroadcastIdParams(V1Params):
    id: str | None = param("The broadcast's id (in the path).", type="integer")


@router.get("/broadcasts/{id}", BroadcastIdParams, auth=True, response=Reply.broadcast,
            summary="One broadcast, bare (no envelope)")  # fmt: skip
async def broadcast(call: Call[BroadcastIdParams]) -> dict[str, Any]:
    found = await service.get_broadcast(call.conn, role=call.me.role,
                                        broadcast_id=id_param(call.params.id))  # fmt: skip
    return broadcast_renderer(call)(found)
