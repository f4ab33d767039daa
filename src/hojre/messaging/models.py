from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hojre.core.clock import utcnow
from hojre.core.db import Base


class ChatStatus(StrEnum):
    pending = "pending"
    chatting = "chatting"
    finished = "finished"


class MessageStatus(StrEnum):
    sent = "sent"
    seen = "seen"


class Chat(Base):
    """A customer's conversation with one seller of a store."""

    __tablename__ = "chats"
    __table_args__ = (
        Index("ix_chats_customer", "customer_id", "id"),
        Index("ix_chats_seller", "seller_id", "id"),
        Index("ix_chats_store", "store_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default=ChatStatus.pending)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        Index("ix_chat_messages_chat", "chat_id", "id"),
        # The unread count per chat reads only unseen messages.
        Index("ix_chat_messages_unseen", "chat_id", "status", "sender_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(5), default=MessageStatus.sent)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoreMessage(Base):
    """A customer's message to a store, answered by the store's manager."""

    __tablename__ = "store_messages"
    __table_args__ = (
        Index("ix_store_messages_user", "user_id", "id"),
        Index("ix_store_messages_store", "store_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    attachment: Mapped[str | None] = mapped_column(String(500))
    read: Mapped[bool] = mapped_column(Boolean, default=False)
    answer: Mapped[str | None] = mapped_column(Text)
    answer_attachment: Mapped[str | None] = mapped_column(String(500))
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Offer(Base):
    """A seller's offer to a customer who has interacted with the store."""

    __tablename__ = "offers"
    __table_args__ = (
        Index("ix_offers_user", "user_id", "id"),
        Index("ix_offers_store", "store_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    read: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Broadcast(Base):
    """An announcement by an admin, to everyone (``role`` null) or to one role."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_visible", "show", "role", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    role: Mapped[int | None] = mapped_column(SmallInteger)
    day: Mapped[date] = mapped_column(Date)
    show: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
