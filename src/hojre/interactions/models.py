from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hojre.core.clock import utcnow
from hojre.core.db import Base


class Mark(Base):
    """A like, dislike, favourite or follow ("notification").

    ``slot`` is unique per user and target: like and dislike share the "vote" slot, so the
    database itself keeps them exclusive and makes parallel repeats idempotent.
    """

    __tablename__ = "marks"
    __table_args__ = (
        UniqueConstraint("user_id", "target", "target_id", "slot"),
        Index("ix_marks_user_list", "user_id", "target", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int] = mapped_column(Integer)
    slot: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class View(Base):
    """One row per user and target; ``count`` counts views at least 30 minutes apart."""

    __tablename__ = "views"
    __table_args__ = (
        UniqueConstraint("user_id", "target", "target_id"),
        Index("ix_views_user_list", "user_id", "target", "viewed_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    viewed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_target_list", "target", "target_id", "visible", "id"),
        Index("ix_comments_user_list", "user_id", "target", "visible", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    pros: Mapped[str | None] = mapped_column(Text)
    cons: Mapped[str | None] = mapped_column(Text)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    visible: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
