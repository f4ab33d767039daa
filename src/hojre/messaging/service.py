"""Chats, store messages, offers and broadcasts, and who may see each.

Every query is filtered by who may see the row: a chat belongs to its customer, its seller and
the staff of its store (active sellers and the manager); store messages to their author and the
store's manager; offers to their customer and the store's staff. Foreign or unknown ids give
the same error, so ids reveal nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    SmallInteger,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.orm import aliased

from hojre.accounts.models import Role, User
from hojre.accounts.service import Actor
from hojre.catalog.models import Status, Store, StoreSeller
from hojre.core.checks import image_path
from hojre.core.clock import utcnow
from hojre.core.errors import FieldProblem, Rule, ValidationFailed
from hojre.core.events import (
    BroadcastNew,
    ChatMessageSent,
    ChatSeen,
    ChatStatusChanged,
    EventBus,
    OfferNew,
    StoreMessageAnswered,
    StoreMessageNew,
    to_role,
    to_user,
)
from hojre.core.pagination import Page, PagedQuery, PageRequest
from hojre.core.sql import Conn, Query
from hojre.core.text import plain_text
from hojre.customers.service import note_store_contact
from hojre.interactions.models import Comment, Mark, View
from hojre.interactions.registry import InteractionKind, TargetKind
from hojre.media.service import claim_paths
from hojre.messaging import errors
from hojre.messaging.models import (
    Broadcast,
    Chat,
    ChatMessage,
    ChatStatus,
    MessageStatus,
    Offer,
    StoreMessage,
)

TEXT_MAX = 2000
TITLE_MAX = 200
BROADCAST_TEXT_MAX = 10_000
ATTACHMENT_MAX = 500


# -- validation ------------------------------------------------------------------------------


def check_text(
    value: str | None, field: str, *, limit: int = TEXT_MAX
) -> tuple[str, list[FieldProblem]]:
    text = plain_text(value or "")
    if not text:
        return text, [FieldProblem(field, Rule.required)]
    if len(text) > limit:
        return text, [FieldProblem(field, Rule.too_long, limit)]
    return text, []


async def check_attachment(
    conn: Conn, value: str | None, field: str
) -> tuple[str | None, list[FieldProblem]]:
    """An attachment is an image of ours, as an avatar is: its path (one statement: the
    upload it names, marked used), or what it broke."""
    if not value or not value.strip():
        return None, []
    if len(value) > ATTACHMENT_MAX:
        return None, [FieldProblem(field, Rule.not_link)]
    found = image_path(field, value.strip(), Rule.not_link)
    if isinstance(found, FieldProblem):
        return None, [found]
    problems: list[FieldProblem] = []
    await claim_paths(conn, {field: found}, (field,), problems)
    return found, problems


# -- who is who ------------------------------------------------------------------------------


def staff_store_ids(user_id: int | BindParameter[int]) -> CompoundSelect[int]:
    """Stores where the user is an active seller or the manager."""
    return (
        select(StoreSeller.store_id)
        .where(StoreSeller.user_id == user_id, StoreSeller.status == Status.active)
        .union(select(Store.id).where(Store.manager_id == user_id))
    )


def managed_store_ids(user_id: int | BindParameter[int]) -> Select[int]:
    return select(Store.id).where(Store.manager_id == user_id)


# Built once: a new alias per request makes SQLAlchemy re-map its columns every time (a third
# of the time of /web/chats in the benchmark's profile).
_SELLER = aliased(User, name="seller")
_SENDER = aliased(User, name="sender")


def chat_visible_to(
    user_id: int | BindParameter[int], *, staff: bool = True
) -> ColumnElement[bool]:
    """Chats of the user as customer, or as staff of the chat's store (its manager or an
    active seller: the chat's own seller too, while the store keeps them; a dismissed seller's
    chats stay with the store, not with them).

    A union of three index scans: an ``OR`` of the same conditions makes PostgreSQL scan every
    chat (a million rows in the benchmark) for each request. ``staff=False`` (a customer: not
    a seller nor a manager, so never on the store's side of a chat) keeps the first alone,
    which the planner can estimate (the union's estimate made it scan whole tables).
    """
    if not staff:
        return Chat.customer_id == user_id
    mine = union(
        select(Chat.id).where(Chat.customer_id == user_id),
        select(Chat.id).where(Chat.store_id.in_(staff_store_ids(user_id))),
    )
    return Chat.id.in_(mine)


def takes_part(user_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """The same for a chat already pinned by its id: on one row an ``OR`` costs nothing, and
    the store's staff are only looked up for a chat the user is not the customer or seller
    of. One statement serves every role (the caller's role need not be known first)."""
    return or_(Chat.customer_id == user_id, Chat.store_id.in_(staff_store_ids(user_id)))


_USER = bindparam("user", type_=Integer)
_CHAT = bindparam("chat", type_=Integer)
_STORE = bindparam("store", type_=Integer)

_STORE_AUDIENCE = Query(
    select(StoreSeller.user_id)
    .where(StoreSeller.store_id == _STORE, StoreSeller.status == Status.active)
    .union(select(Store.manager_id).where(Store.id == _STORE, Store.manager_id.is_not(None)))
)


async def store_audience(conn: Conn, store_id: int) -> list[int]:
    """The manager and active sellers of a store (who hear about its conversations)."""
    return [int(r[0]) for r in await conn.all(_STORE_AUDIENCE, store=store_id)]


class ChatItem(NamedTuple):
    id: int
    customer_id: int
    seller_name: str | None
    seller_family: str | None
    seller_avatar: str | None
    created_at: datetime
    status: str
    store_title: str
    store_id: int
    unread: int


class MessageItem(NamedTuple):
    id: int
    sender_name: str | None
    sender_family: str | None
    text: str
    created_at: datetime
    status: str
    chat_id: int
    sender_id: int
    sender_avatar: str | None


# Unread: the other side's unseen messages (the sides are the customer and the store's staff,
# so a colleague's message is not unread for a seller or the manager).
_UNREAD = (
    select(func.count())
    .where(
        ChatMessage.chat_id == Chat.id,
        ChatMessage.status == MessageStatus.sent,
        or_(
            and_(Chat.customer_id == _USER, ChatMessage.sender_id != Chat.customer_id),
            and_(Chat.customer_id != _USER, ChatMessage.sender_id == Chat.customer_id),
        ),
    )
    .correlate(Chat)
    .scalar_subquery()
)


def _chats(staff: bool) -> PagedQuery:
    return PagedQuery.of(
        select(Chat.id, Chat.customer_id, _SELLER.name, _SELLER.family, _SELLER.avatar,
               Chat.created_at, Chat.status, Store.title, Chat.store_id, _UNREAD)
        .join(_SELLER, _SELLER.id == Chat.seller_id)
        .join(Store, Store.id == Chat.store_id),
        counting=Chat, where=[chat_visible_to(_USER, staff=staff)], order=[Chat.id.desc()],
    )  # fmt: skip


_CHATS = {staff: _chats(staff) for staff in (False, True)}


async def list_chats(
    conn: Conn, *, user_id: int, page: PageRequest, staff: bool = True
) -> Page[ChatItem]:
    """The caller's chats, newest first, with the seller, the store and an unread count.

    ``staff``: whether the user may be a seller or a manager (see :func:`chat_visible_to`).
    """
    return await _CHATS[staff].fetch(conn, page, ChatItem._make, user=user_id)


class ChatRow(NamedTuple):
    id: int
    customer_id: int
    store_id: int
    seller_id: int
    status: str

    def event(self) -> ChatStatusChanged:
        return ChatStatusChanged(
            chat_id=self.id, status=self.status, store_id=self.store_id,
            customer_id=self.customer_id, seller_id=self.seller_id,
        )  # fmt: skip


def _chat_of_user(lock: bool) -> Query:
    query = select(Chat.id, Chat.customer_id, Chat.store_id, Chat.seller_id, Chat.status).where(
        Chat.id == _CHAT, takes_part(_USER)
    )
    # Writers lock the row until commit on PostgreSQL, so a message and a finish racing on
    # one chat are ordered (SQLite's write lock already orders them).
    return Query(query.with_for_update(of=Chat) if lock else query)


_CHAT_OF_USER = {lock: _chat_of_user(lock) for lock in (False, True)}


async def access_chat(conn: Conn, *, user_id: int, chat_id: int, lock: bool = False) -> ChatRow:
    """The chat if the user takes part in it."""
    row = await conn.one(_CHAT_OF_USER[lock], user=user_id, chat=chat_id)
    if row is None:
        raise errors.NoChatForYou
    return ChatRow(*row)


# The chat's customer, inside the statements that need it (uncorrelated: evaluated once).
_CUSTOMER = select(Chat.customer_id).where(Chat.id == _CHAT).scalar_subquery()
# The reader's other side: the store's staff for the customer, the customer for the staff.
_OTHER_SIDE = or_(
    and_(_USER == _CUSTOMER, ChatMessage.sender_id != _CUSTOMER),
    and_(_USER != _CUSTOMER, ChatMessage.sender_id == _CUSTOMER),
)
_UNSEEN = exists().where(
    ChatMessage.chat_id == _CHAT, ChatMessage.status == MessageStatus.sent, _OTHER_SIDE
)
_HAS_UNSEEN = Query(select(_UNSEEN))
_MARK_SEEN = Query(
    update(ChatMessage)
    .where(ChatMessage.chat_id == _CHAT, _OTHER_SIDE, ChatMessage.status == MessageStatus.sent)
    .values(status=MessageStatus.seen)
    .returning(ChatMessage.id)
)


def _messages() -> PagedQuery:
    """A page of the chat's messages if the user may read it, each row with the chat (who
    hears that messages were seen) and "anything unseen?"."""
    return PagedQuery(
        select(ChatMessage.id, _SENDER.name, _SENDER.family, ChatMessage.text,
               ChatMessage.created_at, ChatMessage.status, ChatMessage.chat_id,
               ChatMessage.sender_id, _SENDER.avatar,
               Chat.customer_id.label("chat_customer"), Chat.store_id.label("chat_store"),
               Chat.seller_id.label("chat_seller"), Chat.status.label("chat_status"),
               _UNSEEN.label("unseen"))
        .join(_SENDER, _SENDER.id == ChatMessage.sender_id)
        .join(Chat, Chat.id == ChatMessage.chat_id)
        .where(ChatMessage.chat_id == _CHAT, takes_part(_USER))
        .order_by(ChatMessage.id.desc()),
        select(func.count()).select_from(ChatMessage).where(ChatMessage.chat_id == _CHAT),
    )  # fmt: skip


_MESSAGES = _messages()
_MESSAGE_COLUMNS = len(MessageItem._fields)


async def list_messages(
    conn: Conn,
    events: EventBus,
    *,
    user_id: int,
    chat_id: int,
    page: PageRequest,
) -> Page[MessageItem]:
    """A chat's messages, newest first; reading marks the other side's messages seen.

    One statement reads the page, its total, the chat and whether anything is unseen; the
    write (and, on SQLite, the write lock) happens only when something is. An empty page (no
    access, an empty chat, past the end) takes the long way.
    """
    query = _MESSAGES
    rows = await conn.all(query.page, user=user_id, chat=chat_id, offset=page.offset,
                          limit=page.limit)  # fmt: skip
    if rows:
        first = rows[0]
        total, unseen = int(first.total), bool(first.unseen)
        chat = ChatRow(chat_id, first.chat_customer, first.chat_store, first.chat_seller,
                       first.chat_status)  # fmt: skip
    else:
        chat = await access_chat(conn, user_id=user_id, chat_id=chat_id)
        counted = await conn.one(query.count, chat=chat_id)
        total = int(counted[0]) if counted is not None else 0
        found = await conn.one(_HAS_UNSEEN, user=user_id, chat=chat_id)
        unseen = bool(found is not None and found[0])
    items = [MessageItem._make(row[:_MESSAGE_COLUMNS]) for row in rows]
    if unseen:
        seen_ids = {int(r[0]) for r in await conn.all(_MARK_SEEN, user=user_id, chat=chat_id)}
        if seen_ids:
            seen = ChatSeen(chat_id=chat.id, message_ids=sorted(seen_ids))
            events.publish_on_commit(conn, await _chat_audience(conn, chat), seen)
            items = [m._replace(status=MessageStatus.seen) if m.id in seen_ids else m
                     for m in items]  # fmt: skip
    return Page(items=items, total=total, request=page)


async def _chat_audience(conn: Conn, chat: ChatRow) -> list[str]:
    people = {chat.customer_id, chat.seller_id, *await store_audience(conn, chat.store_id)}
    return [to_user(p) for p in people]


_ACTIVE_STORE = Query(
    select(Store.id, Store.manager_id).where(Store.id == _STORE, Store.status == Status.active)
)
_ACTIVE_SELLER = and_(StoreSeller.store_id == _STORE, StoreSeller.status == Status.active)
_IS_SELLER = Query(select(StoreSeller.user_id).where(_ACTIVE_SELLER, StoreSeller.user_id == _USER))
# The active seller with the fewest open chats takes a new one.
_LEAST_BUSY_SELLER = Query(
    select(StoreSeller.user_id)
    .where(_ACTIVE_SELLER)
    .order_by(
        select(func.count())
        .where(Chat.seller_id == StoreSeller.user_id, Chat.store_id == _STORE,
               Chat.status != ChatStatus.finished)
        .correlate(StoreSeller)
        .scalar_subquery(),
        StoreSeller.id,
    )
    .limit(1)
)  # fmt: skip
_NEW_CHAT = Query(
    insert(Chat)
    .values(customer_id=_USER, store_id=_STORE, seller_id=bindparam("seller"),
            status=ChatStatus.pending, created_at=bindparam("now"))
    .returning(Chat.id, Chat.customer_id, Chat.store_id, Chat.seller_id, Chat.status)
)  # fmt: skip


async def start_chat(
    conn: Conn, events: EventBus, *, user_id: int, store_id: int, seller_id: int | None
) -> ChatRow:
    store = await conn.one(_ACTIVE_STORE, store=store_id)
    if store is None:
        raise errors.StoreNotFound
    # The store's own staff may not chat with it, whichever colleague would take the chat.
    if store.manager_id == user_id or await conn.one(_IS_SELLER, store=store_id,
                                                     user=user_id):  # fmt: skip
        raise errors.OwnStore
    if seller_id is not None:
        if await conn.one(_IS_SELLER, store=store_id, user=seller_id) is None:
            raise errors.SellerNotFound
        chosen = seller_id
    else:
        least_busy = await conn.one(_LEAST_BUSY_SELLER, store=store_id)
        if least_busy is None:
            raise errors.NoActiveSeller
        chosen = int(least_busy[0])
    created = await conn.one(_NEW_CHAT, user=user_id, store=store_id, seller=chosen,
                             now=utcnow())  # fmt: skip
    assert created is not None  # INSERT … RETURNING
    chat = ChatRow(*created)
    await note_store_contact(conn, user_id=user_id, store_id=store_id)
    events.publish_on_commit(conn, await _chat_audience(conn, chat), chat.event())
    return chat


@dataclass(frozen=True, slots=True)
class SentMessage:
    id: int
    created_at: datetime


_NEW_MESSAGE = Query(
    insert(ChatMessage)
    .values(chat_id=_CHAT, sender_id=_USER, text=bindparam("body"), status=MessageStatus.sent,
            created_at=bindparam("now"))
    .returning(ChatMessage.id)
)  # fmt: skip
# The store's first answer opens the conversation; one UPDATE decides among racers.
_OPEN_CHAT = Query(
    update(Chat)
    .where(Chat.id == _CHAT, Chat.status == ChatStatus.pending)
    .values(status=ChatStatus.chatting)
    .returning(Chat.id)
)
_SENDER_NAME = Query(select(User.name, User.family).where(User.id == _USER))


async def send_chat_message(
    conn: Conn,
    events: EventBus,
    *,
    user_id: int,
    chat_id: int,
    text: str | None,
    names: tuple[str | None, str | None] | None = None,
) -> SentMessage:
    """``names``: the sender's name and family when the caller has them (the request's login
    read them), for the live event; else they are read here."""
    clean, problems = check_text(text, "text")
    if problems:
        raise ValidationFailed(problems)
    chat = await access_chat(conn, user_id=user_id, chat_id=chat_id, lock=True)
    if chat.status == ChatStatus.finished:
        raise errors.ChatFinished
    now = utcnow()
    inserted = await conn.one(_NEW_MESSAGE, chat=chat.id, user=user_id, body=clean, now=now)
    assert inserted is not None  # INSERT … RETURNING
    message = SentMessage(id=int(inserted[0]), created_at=now)
    if user_id == chat.customer_id:  # the store's side answering is no customer's contact
        await note_store_contact(conn, user_id=user_id, store_id=chat.store_id)
    audience = await _chat_audience(conn, chat)
    if (
        user_id != chat.customer_id
        and chat.status == ChatStatus.pending
        and await conn.one(_OPEN_CHAT, chat=chat.id) is not None
    ):
        opened = ChatRow(chat.id, chat.customer_id, chat.store_id, chat.seller_id,
                         ChatStatus.chatting)  # fmt: skip
        events.publish_on_commit(conn, audience, opened.event())
    if names is None:
        sender = await conn.one(_SENDER_NAME, user=user_id)
        names = (sender.name, sender.family) if sender is not None else (None, None)
    events.publish_on_commit(conn, audience, ChatMessageSent(
        message_id=message.id, chat_id=chat.id, sender_id=user_id, text=clean,
        sender_name=names[0], sender_family=names[1], sent_at=int(now.timestamp()),
        status=MessageStatus.sent,
    ))  # fmt: skip
    return message


_FINISH = Query(
    update(Chat)
    .where(Chat.id == _CHAT, Chat.status != ChatStatus.finished)
    .values(status=ChatStatus.finished, finished_at=bindparam("now"))
    .returning(Chat.id)
)


async def finish_chat(conn: Conn, events: EventBus, *, user_id: int, chat_id: int) -> ChatRow:
    chat = await access_chat(conn, user_id=user_id, chat_id=chat_id, lock=True)
    finished = ChatRow(chat.id, chat.customer_id, chat.store_id, chat.seller_id,
                       ChatStatus.finished)  # fmt: skip
    if await conn.one(_FINISH, chat=chat.id, now=utcnow()) is not None:
        events.publish_on_commit(conn, await _chat_audience(conn, chat), finished.event())
    return finished


# -- store messages --------------------------------------------------------------------------


class StoreMessageItem(NamedTuple):
    id: int
    user_id: int
    store_id: int
    title: str
    text: str
    attachment: str | None
    read: bool
    answer: str | None
    answer_attachment: str | None
    answered_at: datetime | None
    created_at: datetime
    sender_name: str | None
    sender_family: str | None
    store_title: str


class Sent(NamedTuple):
    """A row just written: its id and the time it was stamped with."""

    id: int
    created_at: datetime


_MESSAGE = bindparam("message", type_=Integer)
_MANAGED = StoreMessage.store_id.in_(managed_store_ids(_USER))


def _store_messages() -> Select[*tuple[Any, ...]]:
    return (
        select(StoreMessage.id, StoreMessage.user_id, StoreMessage.store_id, StoreMessage.title,
               StoreMessage.text, StoreMessage.attachment, StoreMessage.read,
               StoreMessage.answer, StoreMessage.answer_attachment, StoreMessage.answered_at,
               StoreMessage.created_at, User.name.label("sender_name"),
               User.family.label("sender_family"), Store.title.label("store_title"))
        .join(User, User.id == StoreMessage.user_id)
        .join(Store, Store.id == StoreMessage.store_id)
    )  # fmt: skip


def _page_store_messages(where: ColumnElement[bool]) -> PagedQuery:
    # Newest first along ix_store_messages_user / ix_store_messages_store.
    return PagedQuery.of(
        _store_messages(), counting=StoreMessage, where=[where], order=[StoreMessage.id.desc()]
    )


_OWN_STORE_MESSAGES = _page_store_messages(StoreMessage.user_id == _USER)
_MANAGED_STORE_MESSAGES = _page_store_messages(_MANAGED)
_MANAGED_STORE_MESSAGE = Query(_store_messages().where(StoreMessage.id == _MESSAGE, _MANAGED))
# Parameters of INSERT and UPDATE are not named as their columns (``title_``): SQLAlchemy
# reserves those names when the statement runs with named values (SessionConn: the demo).
_NEW_STORE_MESSAGE = Query(
    insert(StoreMessage)
    .values(user_id=_USER, store_id=_STORE, title=bindparam("title_"), text=bindparam("body"),
            attachment=bindparam("attachment_"), read=False, created_at=bindparam("now"))
    .returning(StoreMessage.id)
)  # fmt: skip
_READ_STORE_MESSAGE = Query(
    update(StoreMessage).where(StoreMessage.id == _MESSAGE).values(read=True)
)
_ANSWER_STORE_MESSAGE = Query(
    update(StoreMessage)
    .where(StoreMessage.id == _MESSAGE)
    .values(answer=bindparam("answer_"), answer_attachment=bindparam("attachment_"),
            answered_at=bindparam("now"), answered_by=_USER, read=True)
)  # fmt: skip


async def submit_store_message(
    conn: Conn, events: EventBus, *, user_id: int, store_id: int,
    title: str | None, text: str | None, attachment: str | None,
) -> Sent:  # fmt: skip
    clean_title, problems = check_text(title, "title", limit=TITLE_MAX)
    clean_text, more = check_text(text, "text")
    clean_attachment, bad = await check_attachment(conn, attachment, "attachment")
    if problems + more + bad:
        raise ValidationFailed(problems + more + bad)
    store = await conn.one(_ACTIVE_STORE, store=store_id)
    if store is None:
        raise errors.StoreNotFound
    now = utcnow()
    inserted = await conn.one(_NEW_STORE_MESSAGE, user=user_id, store=store.id,
                              title_=clean_title, body=clean_text, attachment_=clean_attachment,
                              now=now)  # fmt: skip
    assert inserted is not None  # INSERT … RETURNING
    message = Sent(int(inserted[0]), now)
    await note_store_contact(conn, user_id=user_id, store_id=store.id)
    if store.manager_id is not None:
        new = StoreMessageNew(message_id=message.id, store_id=store.id, title=clean_title)
        events.publish_on_commit(conn, [to_user(store.manager_id)], new)
    return message


async def list_own_store_messages(
    conn: Conn, *, user_id: int, page: PageRequest
) -> Page[StoreMessageItem]:
    return await _OWN_STORE_MESSAGES.fetch(conn, page, StoreMessageItem._make, user=user_id)


async def list_store_messages_for_manager(
    conn: Conn, *, manager: Actor, page: PageRequest
) -> Page[StoreMessageItem]:
    require_manager(manager)
    return await _MANAGED_STORE_MESSAGES.fetch(conn, page, StoreMessageItem._make,
                                               user=manager.id)  # fmt: skip


def require_manager(user: Actor) -> None:
    if user.role != Role.store_manager:
        raise errors.NotStoreManager


async def access_store_message(conn: Conn, *, manager: Actor, message_id: int) -> StoreMessageItem:
    require_manager(manager)
    row = await conn.one(_MANAGED_STORE_MESSAGE, user=manager.id, message=message_id)
    if row is None:
        raise errors.StoreMessageNotFound
    return StoreMessageItem._make(row)


async def read_store_message(conn: Conn, *, manager: Actor, message_id: int) -> StoreMessageItem:
    item = await access_store_message(conn, manager=manager, message_id=message_id)
    if item.read:  # nothing to write: no write transaction (nor SQLite's write lock)
        return item
    await conn.run(_READ_STORE_MESSAGE, message=item.id)
    return item._replace(read=True)


async def answer_store_message(
    conn: Conn, events: EventBus, *, manager: Actor, message_id: int,
    answer: str | None, attachment: str | None,
) -> StoreMessageItem:  # fmt: skip
    clean, problems = check_text(answer, "answer")
    clean_attachment, bad = await check_attachment(conn, attachment, "answer_attachment")
    if problems + bad:
        raise ValidationFailed(problems + bad)
    item = await access_store_message(conn, manager=manager, message_id=message_id)
    now = utcnow()
    await conn.run(_ANSWER_STORE_MESSAGE, message=item.id, answer_=clean,
                   attachment_=clean_attachment, now=now, user=manager.id)  # fmt: skip
    answered = StoreMessageAnswered(message_id=item.id, store_id=item.store_id, answer=clean)
    events.publish_on_commit(conn, [to_user(item.user_id)], answered)
    return item._replace(answer=clean, answer_attachment=clean_attachment, answered_at=now,
                         read=True)  # fmt: skip


# -- offers ----------------------------------------------------------------------------------


class OfferItem(NamedTuple):
    id: int
    user_id: int
    store_id: int
    text: str
    read: bool
    created_at: datetime
    store_title: str
    store_logo: str
    customer_name: str | None
    customer_family: str | None


_OFFER = bindparam("offer", type_=Integer)


def _offers() -> Select[*tuple[Any, ...]]:
    return (
        select(Offer.id, Offer.user_id, Offer.store_id, Offer.text, Offer.read, Offer.created_at,
               Store.title.label("store_title"), Store.logo.label("store_logo"),
               User.name.label("customer_name"), User.family.label("customer_family"))
        .join(Store, Store.id == Offer.store_id)
        .join(User, User.id == Offer.user_id)
    )  # fmt: skip


def _page_offers(where: ColumnElement[bool]) -> PagedQuery:
    # Newest first along ix_offers_user / ix_offers_store.
    return PagedQuery.of(_offers(), counting=Offer, where=[where], order=[Offer.id.desc()])


_OWN_OFFERS = _page_offers(Offer.user_id == _USER)
_STORE_OFFERS = _page_offers(Offer.store_id.in_(managed_store_ids(_USER)))
_OWN_OFFER = Query(_offers().where(Offer.id == _OFFER, Offer.user_id == _USER))
_READ_OFFER = Query(update(Offer).where(Offer.id == _OFFER).values(read=True))


def _interacted() -> Query:
    store = TargetKind.store.value
    checks = [
        exists().where(Mark.user_id == _USER, Mark.target == store, Mark.target_id == _STORE,
                       # OR, not IN: the layer takes no expanding parameters
                       or_(Mark.kind == InteractionKind.like,
                           Mark.kind == InteractionKind.favorite)),
        exists().where(View.user_id == _USER, View.target == store, View.target_id == _STORE),
        exists().where(Comment.user_id == _USER, Comment.target == store,
                       Comment.target_id == _STORE),
        exists().where(Chat.customer_id == _USER, Chat.store_id == _STORE),
        exists().where(StoreMessage.user_id == _USER, StoreMessage.store_id == _STORE),
    ]  # fmt: skip
    is_customer = exists().where(User.id == _USER, User.role == Role.customer)
    return Query(select(and_(is_customer, or_(*checks))))


_INTERACTED = _interacted()


async def has_interacted(conn: Conn, *, user_id: int, store_id: int) -> bool:
    """A customer who viewed, liked, favourited, commented, chatted with or messaged the store
    (one statement). Dislikes and follows are not an invitation to offers."""
    found = await conn.one(_INTERACTED, user=user_id, store=store_id)
    return bool(found is not None and found[0])


def _offering_store(pinned: bool) -> Query:
    """The first of the sender's stores (``pinned``: the one given, if it is theirs)."""
    stores = staff_store_ids(_USER).subquery()
    query = select(stores.c[0])
    if pinned:
        query = query.where(stores.c[0] == _STORE)
    return Query(query.order_by(stores.c[0]).limit(1))


_OFFERING_STORE = {pinned: _offering_store(pinned) for pinned in (False, True)}
_NEW_OFFER = Query(
    insert(Offer)
    .values(user_id=bindparam("customer"), store_id=_STORE, sender_id=_USER,
            text=bindparam("body"), read=False, created_at=bindparam("now"))
    .returning(Offer.id)
)  # fmt: skip


async def send_offer(
    conn: Conn, events: EventBus, *, sender: Actor, customer_id: int,
    text: str | None, store_id: int | None = None,
) -> Sent:  # fmt: skip
    clean, problems = check_text(text, "text")
    if problems:
        raise ValidationFailed(problems)
    if sender.role not in (Role.seller, Role.store_manager):
        raise errors.NotSeller
    pinned = {} if store_id is None else {"store": store_id}
    found = await conn.one(_OFFERING_STORE[store_id is not None], user=sender.id, **pinned)
    if found is None:
        raise errors.NotSeller
    chosen = int(found[0])
    if not await has_interacted(conn, user_id=customer_id, store_id=chosen):
        raise errors.NotYourCustomer
    now = utcnow()
    inserted = await conn.one(_NEW_OFFER, customer=customer_id, store=chosen, user=sender.id,
                              body=clean, now=now)  # fmt: skip
    assert inserted is not None  # INSERT … RETURNING
    offer = Sent(int(inserted[0]), now)
    events.publish_on_commit(conn, [to_user(customer_id)],
                             OfferNew(offer_id=offer.id, store_id=chosen, text=clean))  # fmt: skip
    return offer


async def list_offers(conn: Conn, *, user_id: int, page: PageRequest) -> Page[OfferItem]:
    return await _OWN_OFFERS.fetch(conn, page, OfferItem._make, user=user_id)


async def list_store_offers(conn: Conn, *, manager: Actor, page: PageRequest) -> Page[OfferItem]:
    require_manager(manager)
    return await _STORE_OFFERS.fetch(conn, page, OfferItem._make, user=manager.id)


async def read_offer(conn: Conn, *, user_id: int, offer_id: int) -> OfferItem:
    row = await conn.one(_OWN_OFFER, user=user_id, offer=offer_id)
    if row is None:
        raise errors.OfferNotFound
    item = OfferItem._make(row)
    if item.read:  # nothing to write: no write transaction (nor SQLite's write lock)
        return item
    await conn.run(_READ_OFFER, offer=item.id)
    return item._replace(read=True)


# -- broadcasts ------------------------------------------------------------------------------


class BroadcastItem(NamedTuple):
    id: int
    title: str
    text: str
    user_id: int | None
    role: int | None
    day: date
    show: bool


_ROLE = bindparam("role", type_=SmallInteger)
_BROADCAST = bindparam("broadcast", type_=Integer)


def broadcast_visible_to(role: int | BindParameter[int]) -> ColumnElement[bool]:
    return and_(Broadcast.show.is_(True), or_(Broadcast.role.is_(None), Broadcast.role == role))


_BROADCAST_COLUMNS = (Broadcast.id, Broadcast.title, Broadcast.text, Broadcast.user_id,
                      Broadcast.role, Broadcast.day, Broadcast.show)  # fmt: skip
# Newest first along ix_broadcasts_visible (show, role, id).
_BROADCASTS = PagedQuery.of(
    select(*_BROADCAST_COLUMNS), counting=Broadcast, where=[broadcast_visible_to(_ROLE)],
    order=[Broadcast.id.desc()],
)  # fmt: skip
_VISIBLE_BROADCAST = Query(
    select(*_BROADCAST_COLUMNS).where(Broadcast.id == _BROADCAST, broadcast_visible_to(_ROLE))
)
_NEW_BROADCAST = Query(
    insert(Broadcast)
    .values(title=bindparam("title_"), text=bindparam("body"), role=bindparam("role_"),
            user_id=bindparam("author"), day=bindparam("day_"), show=bindparam("show_"),
            created_at=bindparam("now"))
    .returning(Broadcast.id)
)  # fmt: skip


async def list_broadcasts(conn: Conn, *, role: int, page: PageRequest) -> Page[BroadcastItem]:
    return await _BROADCASTS.fetch(conn, page, BroadcastItem._make, role=role)


async def get_broadcast(conn: Conn, *, role: int, broadcast_id: int) -> BroadcastItem:
    found = await conn.one(_VISIBLE_BROADCAST, role=role, broadcast=broadcast_id)
    if found is None:
        raise errors.BroadcastNotFound
    return BroadcastItem._make(found)


async def create_broadcast(
    conn: Conn, events: EventBus, *, title: str, text: str, role: Role | None,
    author_id: int | None = None, day: date | None = None, show: bool = True,
) -> BroadcastItem:  # fmt: skip
    """For everyone (``role=None``) or one role; ``show=False``: kept out of every list, and
    announced to nobody."""
    clean_title, problems = check_text(title, "title", limit=TITLE_MAX)
    clean_text, more = check_text(text, "text", limit=BROADCAST_TEXT_MAX)
    if problems + more:
        raise ValidationFailed(problems + more)
    now = utcnow()
    role_id = None if role is None else int(role)
    day = day or now.date()
    inserted = await conn.one(_NEW_BROADCAST, title_=clean_title, body=clean_text, role_=role_id,
                              author=author_id, day_=day, show_=show, now=now)  # fmt: skip
    assert inserted is not None  # INSERT … RETURNING
    broadcast = BroadcastItem(int(inserted[0]), clean_title, clean_text, author_id, role_id, day,
                              show)  # fmt: skip
    if show:
        new = BroadcastNew(broadcast_id=broadcast.id, title=clean_title, role=role)
        events.publish_on_commit(conn, [to_role(role)], new)
    return broadcast
