"""The demo marketplace's conversations: chats, messages to stores, offers and broadcasts.

Planned with the marketplace's random generator, then replayed in time order through the
messaging service as the apps would do it: a customer starts a chat and writes, the store's
seller answers, each side opens the chat (its last reading is what marks the other side's
messages seen, so only that one is played), one of them finishes the chat; customers write to
stores and managers read and answer; sellers and managers send offers to customers who met
their store (a view, a chat, a message), who read some of them. The service stamps "now", so
every row is given its planned time at the end (all before
:data:`~hojre.demo_data.marketplace.BASE_TIME`, passed in as ``now``). Live events go to an
:class:`EventBus` of their own, without Redis and without subscribers: a load notifies nobody.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from itertools import pairwise
from typing import Any, Final, TypeVar

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hojre.accounts.models import User
from hojre.core.db import SessionConn
from hojre.core.events import EventBus
from hojre.core.pagination import PageRequest
from hojre.demo_data import talk
from hojre.messaging import service as messaging
from hojre.messaging.models import Broadcast, Chat, ChatMessage, ChatStatus, Offer, StoreMessage

T = TypeVar("T")

CHATTY: Final = 0.45  # share of customers who chat with stores
NOTE_WRITERS: Final = 0.15  # share of customers who write to a store
STATUS_WEIGHTS: Final = {ChatStatus.finished: 5, ChatStatus.chatting: 3, ChatStatus.pending: 2}
# When chats started (days before "now"): pending ones are waiting for the store's answer.
STARTED: Final = {
    ChatStatus.finished: (3.0, 80.0),
    ChatStatus.chatting: (0.2, 12.0),
    ChatStatus.pending: (0.02, 2.0),
}
OFFERS: Final = 20  # to generated customers, besides those of the first store
HOME_CHATS: Final = (ChatStatus.finished, ChatStatus.chatting, ChatStatus.pending,
                     ChatStatus.finished)  # fmt: skip
HOME_NOTES: Final = 3
HOME_OFFERS: Final = 3

_PERSIAN_DIGITS = str.maketrans("0123456789,", "۰۱۲۳۴۵۶۷۸۹٬")


def fa_amount(value: int) -> str:
    """Persian digits in groups of three: ۱٬۲۵۰٬۰۰۰."""
    return f"{value:,}".translate(_PERSIAN_DIGITS)


class Side(StrEnum):
    customer = "customer"
    store = "store"


@dataclass(frozen=True, slots=True)
class Shop:
    id: int
    title: str
    goods: tuple[str, ...]  # what it sells, in words
    manager: int | None
    sellers: tuple[int, ...]  # active sellers
    products: tuple[tuple[str, int], ...]  # (title, price in rials)


@dataclass(frozen=True, slots=True)
class People:
    customer: int | None  # the demo customer
    customers: tuple[int, ...]  # everyone else who shops
    seller: int | None  # the named seller, of the first shop
    admin: int | None  # the author of the broadcasts
    regulars: tuple[int, ...] = ()  # of the customers: who chat for sure (named accounts)


@dataclass(frozen=True, slots=True)
class Counts:
    chats: int
    chat_messages: int
    store_messages: int
    offers: int
    broadcasts: int


async def create(
    session: AsyncSession,
    rng: random.Random,
    *,
    now: datetime,
    shops: Sequence[Shop],
    people: People,
    visits: Mapping[int, Sequence[tuple[datetime, int]]],
) -> Counts:
    """Plan and play the conversations in the caller's transaction; ``shops[0]`` is the named
    staff's store; ``visits``: the stores each customer viewed (time, store id)."""
    conversation = _Conversations(session, rng, now, shops, people, visits)
    conversation.plan()
    return await conversation.play()


@dataclass(slots=True)
class _Chat:
    customer: int
    shop: Shop
    seller: int | None  # the seller the customer asked for (None: the store picks)
    id: int = 0
    seller_id: int = 0
    times: dict[str, Any] = field(default_factory=dict)  # its row's planned times


@dataclass(slots=True)
class _Note:
    customer: int
    shop: Shop
    title: str
    text: str
    id: int = 0
    times: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Offer:
    id: int = 0


Step = Callable[[], Awaitable[None]]


class _Conversations:
    def __init__(
        self,
        session: AsyncSession,
        rng: random.Random,
        now: datetime,
        shops: Sequence[Shop],
        people: People,
        visits: Mapping[int, Sequence[tuple[datetime, int]]],
    ) -> None:
        self.session = session
        self.conn = SessionConn(session)
        self.events = EventBus()
        self.rng = rng
        self.now = now
        self.shops = shops
        self.people = people
        self.visits = visits
        self.by_id = {shop.id: shop for shop in shops}
        self.steps: list[tuple[datetime, int, Step]] = []
        # When each customer first met each store (views, chats, messages): offers come later.
        self.contact: dict[tuple[int, int], datetime] = {}
        for customer, seen in visits.items():
            for at, store_id in seen:
                self._met(customer, store_id, at)
        self.times: dict[type[Any], list[dict[str, Any]]] = {
            model: [] for model in (Broadcast, Chat, ChatMessage, StoreMessage, Offer)
        }

    # -- helpers ---------------------------------------------------------------------------

    def _pick(self, values: Sequence[T]) -> T:
        return self.rng.choice(values)

    def _ago(self, low_days: float, high_days: float) -> datetime:
        seconds = self.rng.randint(int(low_days * 86400), int(high_days * 86400))
        return self.now - timedelta(seconds=seconds)

    def _after(self, at: datetime, low_seconds: int, high_seconds: int) -> datetime:
        """A moment after ``at`` and before "now" (squeezed in when "now" is near)."""
        later = at + timedelta(seconds=self.rng.randint(low_seconds, high_seconds))
        if later < self.now:
            return later
        room = int((self.now - at).total_seconds())
        return at + timedelta(seconds=self.rng.randint(room // 5, room * 9 // 10))

    def _at(self, at: datetime, step: Step) -> None:
        self.steps.append((at, len(self.steps), step))

    def _met(self, customer: int, store_id: int, at: datetime) -> None:
        key = (customer, store_id)
        if key not in self.contact or at < self.contact[key]:
            self.contact[key] = at

    def _fill(self, shop: Shop) -> dict[str, str]:
        title, price = self._pick(shop.products)
        return {
            "product": title,
            "price": fa_amount(price),
            "city": self._pick(talk.CITIES),
            "days": fa_amount(self.rng.randint(2, 5)),
            "store": shop.title,
            "goods": self._pick(shop.goods),
            "percent": fa_amount(self._pick((5, 10, 15, 20, 25))),
            "code": str(self.rng.randint(100, 999)),
        }

    def _visited(self, customer: int) -> list[Shop]:
        """The stores the customer viewed, first visit first, each once."""
        ids = dict.fromkeys(store_id for _, store_id in self.visits.get(customer, ()))
        return [self.by_id[i] for i in ids if i in self.by_id]

    # -- the plan --------------------------------------------------------------------------

    def plan(self) -> None:
        for announcement in talk.BROADCASTS:
            at = self.now - timedelta(days=announcement.days_ago, hours=self.rng.randint(0, 8))
            self._at(at, partial(self._broadcast, announcement, at))
        home = self.shops[0]
        if self.people.customer is not None:
            self._demo_customer(self.people.customer, home)
        others = list(self.people.customers)
        if others:
            chatting = self.rng.sample(others, min(len(HOME_CHATS), len(others)))
            for status, customer in zip(HOME_CHATS, chatting, strict=False):
                self._chat(customer, home, status)
            for customer in self.rng.sample(others, min(HOME_NOTES, len(others))):
                self._note(customer, home, self._ago(0.5, 45))
        for customer in others:
            self._customer(customer)
        # Offers go to customers who met the store before (has_interacted): a view, a chat, a
        # message to the store; planned last, when every contact is known.
        demo = self.people.customer
        mine = sorted(
            customer
            for customer, store_id in self.contact
            if store_id == home.id and customer != demo
        )
        for customer in self.rng.sample(mine, min(HOME_OFFERS, len(mine))):
            self._offer(customer, home, None)
        pairs = sorted(
            (customer, store_id)
            for customer, store_id in self.contact
            if store_id != home.id and customer != demo
        )
        for customer, store_id in self.rng.sample(pairs, min(OFFERS, len(pairs))):
            self._offer(customer, self.by_id[store_id], None)

    def _demo_customer(self, customer: int, home: Shop) -> None:
        """A few of everything: chats in every status (some unread), answered and waiting
        messages to stores, offers from the named staff's store and from stores visited."""
        seller = self.people.seller
        shops = [s for s in self._visited(customer) if s.id != home.id]
        if len(shops) < 3:  # (never with the demo's plan: the demo customer views 7 stores)
            taken = {s.id for s in shops}
            shops += self.rng.sample([s for s in self.shops[1:] if s.id not in taken], 3)
        self._chat(customer, home, ChatStatus.finished, seller=seller, started=(30, 50))
        self._chat(customer, home, ChatStatus.chatting, seller=seller, started=(0.5, 3),
                   waiting=False, last_read=False)  # fmt: skip
        self._chat(customer, shops[0], ChatStatus.finished, started=(10, 40))
        self._chat(customer, shops[1], ChatStatus.chatting, started=(1, 8), waiting=True,
                   last_read=False)  # fmt: skip
        self._chat(customer, shops[2], ChatStatus.pending, started=(0.05, 1))
        self._note(customer, home, self._ago(20, 40), answer=True)
        self._note(customer, home, self._ago(0.2, 2), answer=False, read=False)
        self._note(customer, shops[0], self._ago(5, 30), answer=True)
        self._offer(customer, home, seller)
        self._offer(customer, home, home.manager)
        for shop in shops[:2]:
            self._offer(customer, shop, None)

    def _customer(self, customer: int) -> None:
        rng = self.rng
        visited = self._visited(customer)
        if customer in self.people.regulars or rng.random() < CHATTY:
            for _ in range(self._pick((1, 1, 2))):
                shop = (
                    self._pick(visited)
                    if visited and rng.random() < 0.85
                    else self._pick(self.shops)
                )
                statuses = list(STATUS_WEIGHTS)
                status = rng.choices(statuses, [STATUS_WEIGHTS[s] for s in statuses])[0]
                self._chat(customer, shop, status)
        if rng.random() < NOTE_WRITERS:
            shop = self._pick(visited) if visited else self._pick(self.shops)
            self._note(customer, shop, self._ago(0.5, 60))

    # -- chats -----------------------------------------------------------------------------

    def _lines(
        self, shop: Shop, status: ChatStatus, waiting: bool | None
    ) -> list[tuple[Side, str]]:
        """What is said: a greeting and a question, the store's answers to one to three
        questions, thanks when it ends; a pending chat has the customer's lines only.
        ``waiting``: whether a chatting chat ends with a question the store has not answered."""
        rng = self.rng
        fill = self._fill(shop)
        asks = [self._pick(topic) for topic in rng.sample(talk.TOPICS, 4)]
        greeting = self._pick(talk.GREETINGS)
        question = asks[0].question.format(**fill)
        lines: list[tuple[Side, str]] = []
        if status is ChatStatus.pending or rng.random() < 0.5:
            lines += [(Side.customer, greeting), (Side.customer, question)]
        else:
            lines.append((Side.customer, f"{greeting} {question}"))
        if status is ChatStatus.pending:
            if rng.random() < 0.4:
                lines.append((Side.customer, self._pick(talk.NUDGES)))
            return lines
        answer = self._pick(asks[0].answers).format(**fill)
        lines.append((Side.store, self._pick(talk.STORE_GREETINGS) + answer))
        more = rng.randint(0, 2) if status is ChatStatus.chatting else rng.randint(0, 1)
        for ask in asks[1 : 1 + more]:
            lines.append((Side.customer, ask.question.format(**fill)))
            lines.append((Side.store, self._pick(ask.answers).format(**fill)))
        if status is ChatStatus.finished:
            lines.append((Side.customer, self._pick(talk.CUSTOMER_CLOSINGS)))
            if rng.random() < 0.7:
                lines.append((Side.store, self._pick(talk.STORE_CLOSINGS)))
        elif waiting or (waiting is None and rng.random() < 0.35):
            lines.append((Side.customer, asks[1 + more].question.format(**fill)))
        return lines

    def _chat(
        self,
        customer: int,
        shop: Shop,
        status: ChatStatus,
        *,
        seller: int | None = None,
        started: tuple[float, float] | None = None,
        waiting: bool | None = None,
        last_read: bool | None = None,
    ) -> None:
        """Plan one chat: opened, its lines, the reads, and the end (``last_read``: whether the
        last message of a chatting chat was read)."""
        rng = self.rng
        lines = self._lines(shop, status, waiting)
        offsets = [timedelta(seconds=rng.randint(20, 300))]  # the first line after opening
        for (before, _), (side, _) in pairwise(lines):
            if side is before:
                gap = rng.randint(15, 120)
            elif side is Side.store:
                gap = rng.randint(120, 5400)
            else:
                gap = rng.randint(60, 2400)
            offsets.append(offsets[-1] + timedelta(seconds=gap))
        closing = timedelta(seconds=rng.randint(120, 1800))
        start = self._ago(*(started or STARTED[status]))
        start = min(start, self.now - offsets[-1] - closing - timedelta(minutes=1))
        chat = _Chat(customer, shop, seller)
        self._met(customer, shop.id, start)
        self._at(start, partial(self._start, chat, start))
        # Each side reads the other's lines before answering; only its last read shows in the
        # rows (it marks everything before it seen), so only that one is played.
        unseen = dict.fromkeys(Side, False)  # whether a side has the other's lines to read
        reads: dict[Side, datetime] = {}
        for (side, text), offset in zip(lines, offsets, strict=True):
            at = start + offset
            if unseen[side]:
                reads[side], unseen[side] = at, False
            self._at(at, partial(self._say, chat, side, text, at))
            unseen[Side.store if side is Side.customer else Side.customer] = True
        end = start + offsets[-1] + closing
        if status is ChatStatus.finished:
            reads.update((side, end) for side in Side if unseen[side])
        elif status is ChatStatus.chatting and (
            last_read or (last_read is None and rng.random() < 0.4)
        ):
            reads[Side.customer if lines[-1][0] is Side.store else Side.store] = end
        for side, at in sorted(reads.items()):
            self._at(at, partial(self._read, chat, side))
        if status is ChatStatus.finished:
            self._at(end, partial(self._finish, chat, self._pick(tuple(Side)), end))

    async def _start(self, chat: _Chat, at: datetime) -> None:
        row = await messaging.start_chat(
            self.conn, self.events, user_id=chat.customer, store_id=chat.shop.id,
            seller_id=chat.seller,
        )  # fmt: skip
        chat.id, chat.seller_id = row.id, row.seller_id
        chat.times = {"id": row.id, "created_at": at, "finished_at": None}
        self.times[Chat].append(chat.times)

    def _sender(self, chat: _Chat, side: Side) -> int:
        return chat.customer if side is Side.customer else chat.seller_id

    async def _say(self, chat: _Chat, side: Side, text: str, at: datetime) -> None:
        message = await messaging.send_chat_message(
            self.conn, self.events, user_id=self._sender(chat, side), chat_id=chat.id,
            text=text,
        )  # fmt: skip
        self.times[ChatMessage].append({"id": message.id, "created_at": at})

    async def _read(self, chat: _Chat, side: Side) -> None:
        """Open the chat as one side: the other side's messages become seen."""
        await messaging.list_messages(
            self.conn, self.events, user_id=self._sender(chat, side), chat_id=chat.id,
            page=PageRequest(per_page=1),
        )  # fmt: skip

    async def _finish(self, chat: _Chat, side: Side, at: datetime) -> None:
        await messaging.finish_chat(
            self.conn, self.events, user_id=self._sender(chat, side), chat_id=chat.id
        )
        chat.times["finished_at"] = at

    # -- messages to stores ----------------------------------------------------------------

    def _note(
        self,
        customer: int,
        shop: Shop,
        at: datetime,
        *,
        answer: bool | None = None,
        read: bool | None = None,
    ) -> None:
        """Plan a message to a store; most are answered, some of the rest read."""
        rng = self.rng
        chosen = self._pick(talk.STORE_NOTES)
        fill = self._fill(shop)
        note = _Note(customer, shop, chosen.title, chosen.text.format(**fill))
        self._met(customer, shop.id, at)
        self._at(at, partial(self._submit, note, at))
        if shop.manager is None:
            return
        if answer or (answer is None and rng.random() < 0.6):
            text = self._pick(chosen.answers).format(**fill)
            answered = self._after(at, 1800, 3 * 86400)
            self._at(answered, partial(self._answer, note, text, answered))
        elif read or (read is None and rng.random() < 0.5):
            self._at(self._after(at, 600, 86400), partial(self._read_note, note))

    async def _submit(self, note: _Note, at: datetime) -> None:
        row = await messaging.submit_store_message(
            self.conn, self.events, user_id=note.customer, store_id=note.shop.id,
            title=note.title, text=note.text, attachment=None,
        )  # fmt: skip
        note.id = row.id
        note.times = {"id": row.id, "created_at": at, "answered_at": None}
        self.times[StoreMessage].append(note.times)

    async def _manager(self, shop: Shop) -> User:
        assert shop.manager is not None
        return await self.session.get_one(User, shop.manager)

    async def _read_note(self, note: _Note) -> None:
        manager = await self._manager(note.shop)
        await messaging.read_store_message(self.conn, manager=manager, message_id=note.id)

    async def _answer(self, note: _Note, text: str, at: datetime) -> None:
        manager = await self._manager(note.shop)
        await messaging.answer_store_message(
            self.conn, self.events, manager=manager, message_id=note.id, answer=text,
            attachment=None,
        )  # fmt: skip
        note.times["answered_at"] = at

    # -- offers and broadcasts -------------------------------------------------------------

    def _offer(self, customer: int, shop: Shop, sender: int | None) -> None:
        """Plan an offer after the customer first met the store; ``sender``: one of its staff
        (None: its manager or a seller)."""
        rng = self.rng
        if sender is None:
            staff = [*shop.sellers, *([shop.manager] if shop.manager is not None else [])]
            sender = self._pick(staff)
        met = self.contact.get((customer, shop.id))
        if met is None:
            return  # the service would refuse it: no interaction
        text = self._pick(talk.OFFERS).format(**self._fill(shop))
        at = self._after(met, 3600, 10 * 86400)
        offer = _Offer()
        self._at(at, partial(self._send_offer, offer, customer, shop, sender, text, at))
        if rng.random() < 0.5:
            self._at(self._after(at, 600, 3 * 86400), partial(self._read_offer, offer, customer))

    async def _send_offer(
        self, offer: _Offer, customer: int, shop: Shop, sender: int, text: str, at: datetime
    ) -> None:
        user = await self.session.get_one(User, sender)
        row = await messaging.send_offer(
            self.conn, self.events, sender=user, customer_id=customer, text=text,
            store_id=shop.id,
        )  # fmt: skip
        offer.id = row.id
        self.times[Offer].append({"id": row.id, "created_at": at})

    async def _read_offer(self, offer: _Offer, customer: int) -> None:
        await messaging.read_offer(self.conn, user_id=customer, offer_id=offer.id)

    async def _broadcast(self, announcement: talk.Announcement, at: datetime) -> None:
        role = announcement.role
        row = await messaging.create_broadcast(
            self.conn, self.events, title=announcement.title, text=announcement.text,
            role=role, author_id=self.people.admin,
            day=at.date(),
        )  # fmt: skip
        self.times[Broadcast].append({"id": row.id, "created_at": at})

    # -- play ------------------------------------------------------------------------------

    async def play(self) -> Counts:
        for _, _, step in sorted(self.steps, key=lambda s: (s[0], s[1])):
            await step()
        for model, rows in self.times.items():
            if rows:
                await self.session.execute(update(model), rows)
        return Counts(
            chats=len(self.times[Chat]),
            chat_messages=len(self.times[ChatMessage]),
            store_messages=len(self.times[StoreMessage]),
            offers=len(self.times[Offer]),
            broadcasts=len(self.times[Broadcast]),
        )
