"""Typed live events: the wire names rendered by hojre.web_v1.live, and the Redis codec."""

from __future__ import annotations

import orjson
import pytest

from hojre.core.events import (
    BroadcastNew,
    ChatMessageSent,
    ChatSeen,
    ChatStatusChanged,
    Event,
    EventKind,
    OfferNew,
    SessionsRevoked,
    StoreMessageAnswered,
    StoreMessageNew,
    decode,
    encode,
)
from hojre.web_v1.live import render

WIRE: list[tuple[Event, str]] = [
    (
        ChatStatusChanged(chat_id=1, status="chatting", store_id=2, customer_id=3, seller_id=4),
        '{"type":"chat.status","data":{"id":1,"status":"chatting","store":2,"user":3,"seller":4}}',
    ),
    (
        ChatSeen(chat_id=1, message_ids=[5, 6]),
        '{"type":"chat.seen","data":{"chat":1,"messages":[5,6]}}',
    ),
    (
        ChatMessageSent(
            message_id=7,
            chat_id=1,
            sender_id=4,
            text="سلام",
            sender_name="حسین",
            sender_family="کریمی",
            sent_at=1764547200,
            status="sent",
        ),
        '{"type":"chat.message","data":{"id":7,"chat":1,"senderId":4,"text":"سلام",'
        '"sender":"حسین کریمی","sentDate":1764547200,"status":"sent"}}',
    ),
    (
        StoreMessageNew(message_id=8, store_id=2, title="پرسش"),
        '{"type":"store_message.new","data":{"id":8,"store":2,"title":"پرسش"}}',
    ),
    (
        StoreMessageAnswered(message_id=8, store_id=2, answer="بله"),
        '{"type":"store_message.answer","data":{"id":8,"store":2,"answer":"بله"}}',
    ),
    (
        OfferNew(offer_id=9, store_id=2, text="تخفیف"),
        '{"type":"offer.new","data":{"id":9,"store":2,"text":"تخفیف"}}',
    ),
    (
        BroadcastNew(broadcast_id=10, title="حراج", role=None),
        '{"type":"broadcast.new","data":{"id":10,"title":"حراج","role":null}}',
    ),
]


@pytest.mark.parametrize(("event", "wire"), WIRE, ids=[e.kind.value for e, _ in WIRE])
def test_each_event_renders_as_the_contract_names_it(event: Event, wire: str) -> None:
    assert orjson.dumps(render(event)).decode() == wire


def test_every_kind_is_rendered_or_internal() -> None:
    assert {e.kind for e, _ in WIRE} | {EventKind.sessions_revoked} == set(EventKind)
    with pytest.raises(ValueError, match="internal event"):
        render(SessionsRevoked())


@pytest.mark.parametrize("event", [e for e, _ in WIRE] + [SessionsRevoked()])
def test_events_cross_processes_unchanged(event: Event) -> None:
    assert decode(encode(["user:3", "all"], event)) == (["user:3", "all"], event)


@pytest.mark.parametrize(
    "message",
    [b"not json", b'{"keys":[]}', b'{"keys":[],"kind":"chat.message","data":{}}',
     b'{"keys":[],"kind":"offer_new","data":{"offer_id":1}}'],
)  # fmt: skip
def test_a_malformed_relay_message_is_refused(message: bytes) -> None:
    with pytest.raises((ValueError, KeyError, TypeError)):
        decode(message)
