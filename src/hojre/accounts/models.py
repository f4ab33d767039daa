from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from hojre.core.clock import utcnow
from hojre.core.db import Base
from hojre.geo import models as _geo  # noqa: F401 (the tables users' foreign keys refer to)


class Role(IntEnum):
    """Numeric roles of the v1 contract (8 is documented; the rest designed for Hojre)."""

    admin = 1
    store_manager = 6
    seller = 7
    customer = 8


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN (1, 6, 7, 8)", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cellphone: Mapped[str] = mapped_column(String(11), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    role: Mapped[int] = mapped_column(SmallInteger, default=Role.customer)

    # "forget" issues a temporary password; the old one works until this one is used.
    temp_password_hash: Mapped[str | None] = mapped_column(String(200))
    temp_password_expires_at: Mapped[datetime | None]

    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    family: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(500))
    age: Mapped[int | None] = mapped_column(SmallInteger)
    gender: Mapped[str | None] = mapped_column(String(6))
    country_id: Mapped[int | None] = mapped_column(ForeignKey("countries.id"))
    state_id: Mapped[int | None] = mapped_column(ForeignKey("states.id"))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"))
    hood_id: Mapped[int | None] = mapped_column(ForeignKey("hoods.id"))
    instagram: Mapped[str | None] = mapped_column(String(255))
    telegram_channel: Mapped[str | None] = mapped_column(String(255))
    telegram: Mapped[str | None] = mapped_column(String(255))
    linkedin: Mapped[str | None] = mapped_column(String(255))
    facebook: Mapped[str | None] = mapped_column(String(255))
    twitter: Mapped[str | None] = mapped_column(String(255))
    googleplus: Mapped[str | None] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(255))
    avatar: Mapped[str | None] = mapped_column(String(255))

    # Last known location, from the x/y every authenticated call may carry.
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    located_at: Mapped[datetime | None]
    # The last authenticated request, to the minute (hojre.accounts.presence): a seller's
    # onlineStatus.
    seen_at: Mapped[datetime | None]

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    activated_at: Mapped[datetime | None]


class AccessToken(Base):
    """One row per login (device). Only the SHA-256 of the token is stored.

    A token unused for ``HOJRE_TOKEN_IDLE_DAYS`` no longer logs in; ``last_used_at`` moves at
    most once a day, so reads stay reads.
    """

    __tablename__ = "access_tokens"
    # The login (a user's tokens by hash, with the last use) read from this index alone; it
    # also serves what the plain user_id index did (a user's tokens, the cascade).
    __table_args__ = (Index("ix_access_tokens_login", "user_id", "token_hash", "last_used_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ActivationCode(Base):
    """The pending registration's one live code (a new one replaces it).

    It activates the password of the registration it was sent for: a later registration with
    another password replaces the code. ``contested``: the number was registered with more
    than one password before anyone proved to hold it, so none of them survives activation
    (docs/SECURITY.md).
    """

    __tablename__ = "activation_codes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    tries: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    contested: Mapped[bool] = mapped_column(Boolean, default=False)
