"""Live events for the people concerned, published only after the transaction commits.

Services publish typed events (:class:`EventKind`, one dataclass each, fields in the domain's
names); ``hojre.web_v1.live`` renders them in the contract's wire names when it sends them.

Without Redis, events reach sockets of this process. With Redis, every process publishes to one
pub/sub channel and each process's listener hands events to its own sockets, so a message sent
through process A reaches a socket held by process B.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, get_args

import orjson
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from hojre.core.db import on_commit
from hojre.core.sql import Conn

log = logging.getLogger("hojre.events")

CHANNEL = "hojre:events"
QUEUE_SIZE = 256

EVERYONE = "all"


class EventKind(StrEnum):
    chat_status = "chat_status"
    chat_seen = "chat_seen"
    chat_message = "chat_message"
    store_message_new = "store_message_new"
    store_message_answer = "store_message_answer"
    offer_new = "offer_new"
    broadcast_new = "broadcast_new"
    # Internal: the user's sockets re-check their token (never forwarded to a client).
    sessions_revoked = "sessions_revoked"


# Fields are JSON's own types (times in unix seconds): events cross processes through Redis.


@dataclass(frozen=True, slots=True)
class ChatStatusChanged:
    kind: ClassVar[EventKind] = EventKind.chat_status
    chat_id: int
    status: str
    store_id: int
    customer_id: int
    seller_id: int


@dataclass(frozen=True, slots=True)
class ChatSeen:
    kind: ClassVar[EventKind] = EventKind.chat_seen
    chat_id: int
    message_ids: list[int]


@dataclass(frozen=True, slots=True)
class ChatMessageSent:
    kind: ClassVar[EventKind] = EventKind.chat_message
    message_id: int
    chat_id: int
    sender_id: int
    text: str
    sender_name: str | None
    sender_family: str | None
    sent_at: int
    status: str


@dataclass(frozen=True, slots=True)
class StoreMessageNew:
    kind: ClassVar[EventKind] = EventKind.store_message_new
    message_id: int
    store_id: int
    title: str


@dataclass(frozen=True, slots=True)
class StoreMessageAnswered:
    kind: ClassVar[EventKind] = EventKind.store_message_answer
    message_id: int
    store_id: int
    answer: str


@dataclass(frozen=True, slots=True)
class OfferNew:
    kind: ClassVar[EventKind] = EventKind.offer_new
    offer_id: int
    store_id: int
    text: str


@dataclass(frozen=True, slots=True)
class BroadcastNew:
    kind: ClassVar[EventKind] = EventKind.broadcast_new
    broadcast_id: int
    title: str
    role: int | None


@dataclass(frozen=True, slots=True)
class SessionsRevoked:
    kind: ClassVar[EventKind] = EventKind.sessions_revoked


Event = (
    ChatStatusChanged | ChatSeen | ChatMessageSent | StoreMessageNew | StoreMessageAnswered
    | OfferNew | BroadcastNew | SessionsRevoked
)  # fmt: skip
_BY_KIND: dict[EventKind, type[Event]] = {cls.kind: cls for cls in get_args(Event)}


def encode(keys: list[str], event: Event) -> bytes:
    """The Redis message: the audience and the event by kind and fields."""
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    return orjson.dumps({"keys": keys, "kind": event.kind, "data": fields})


def decode(message: bytes | str) -> tuple[list[str], Event]:
    """``encode``'s audience and event; ValueError, KeyError or TypeError when malformed."""
    payload = orjson.loads(message)
    return payload["keys"], _BY_KIND[EventKind(payload["kind"])](**payload["data"])


def to_user(user_id: int) -> str:
    return f"user:{user_id}"


def to_role(role: int | None) -> str:
    """The audience of one role; ``None`` means everyone."""
    return EVERYONE if role is None else f"role:{role}"


class EventBus:
    """Fans events out to local subscriber queues; relays through Redis when configured."""

    def __init__(
        self, redis: Redis | None = None, *, listener: Redis | None = None, channel: str = CHANNEL
    ) -> None:
        self.redis = redis
        self.listener = listener or redis
        self.channel = channel
        self._warned: set[int] = set()
        self._queues: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    # -- publishing --------------------------------------------------------------------------

    def publish_on_commit(
        self, tx: AsyncSession | Conn, audience: Iterable[str], event: Event
    ) -> None:
        """Send ``event`` to ``audience`` once ``tx`` commits (not on rollback).

        Audience keys come from :func:`to_user` and :func:`to_role`.
        """
        keys = sorted(set(audience))

        async def send() -> None:
            await self.publish(keys, event)

        on_commit(tx, send)

    async def publish(self, keys: list[str], event: Event) -> None:
        if self.redis is None:
            self.deliver_local(keys, event)
            return
        await self.redis.publish(self.channel, encode(keys, event))

    def deliver_local(self, keys: Iterable[str], event: Event) -> None:
        delivered: set[int] = set()  # a socket in two audiences gets the event once
        for key in keys:
            for queue in list(self._queues.get(key, ())):
                if id(queue) in delivered:
                    continue
                delivered.add(id(queue))
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:  # a stalled socket loses events, never the server
                    if id(queue) not in self._warned:  # once per socket, not per event
                        self._warned.add(id(queue))
                        log.warning("dropping events for a slow subscriber (%s)", key)

    # -- subscribing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def subscribe(self, user_id: int, role: int) -> Iterator[asyncio.Queue[Event]]:
        """A queue receiving what is sent to this user, to their role and to everyone."""
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=QUEUE_SIZE)
        keys = (to_user(user_id), to_role(role), EVERYONE)
        for key in keys:
            self._queues[key].add(queue)
        try:
            yield queue
        finally:
            self._warned.discard(id(queue))
            for key in keys:
                self._queues[key].discard(queue)
                if not self._queues[key]:
                    del self._queues[key]

    # -- the Redis relay ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start this process's Redis listener (a no-op without Redis)."""
        if self.listener is None or self._listener is not None:
            return
        self._listener = asyncio.create_task(self._listen())
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=10)
        except TimeoutError:
            await self.stop()
            raise

    async def _listen(self) -> None:
        assert self.listener is not None
        while True:
            try:
                async with self.listener.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        try:
                            keys, event = decode(message["data"])
                        except (ValueError, KeyError, TypeError):  # JSONDecodeError is one
                            log.warning("ignoring a malformed event")
                            continue
                        self.deliver_local(keys, event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event listener lost Redis; reconnecting")
                await asyncio.sleep(1)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self._ready.clear()
        if self.listener is not None and self.listener is not self.redis:
            await self.listener.aclose()
