"""Catalogue tables. Every target carries the interaction counters, kept equal to the rows by
the interactions service (``UPDATE … SET n = n + 1`` in the same transaction)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from hojre.core.clock import utcnow
from hojre.core.db import Base


class Status(StrEnum):
    active = "active"
    inactive = "inactive"
    # A product its store deleted: kept for the interactions' history, shown nowhere.
    deleted = "deleted"
    # A registered store before an operator's word (API.md §5): its staff see it, nobody else.
    pending = "pending"
    rejected = "rejected"


class Counters:
    """Interaction counters (and the running sum behind ``score``) shared by every target."""

    viewed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    liked: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    disliked: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    comments_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    favorite_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    notification_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # score = score_total / score_count over visible comments that carry a score.
    score_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    score_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def score(self) -> float | None:
        return score_of(self.score_total, self.score_count)


def score_of(total: int, count: int) -> float | None:
    """The average of the scores, to two decimals; None without any."""
    return round(total / count, 2) if count else None


class Place:
    """Where a bazaar, mall or store is."""

    country_id: Mapped[int | None] = mapped_column(ForeignKey("countries.id"))
    state_id: Mapped[int | None] = mapped_column(ForeignKey("states.id"))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"), index=True)
    hood_id: Mapped[int | None] = mapped_column(ForeignKey("hoods.id"))
    district: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(500))
    # Decimal strings, as the contract sends them ("" when unknown).
    longitude: Mapped[str] = mapped_column(String(20), default="")
    latitude: Mapped[str] = mapped_column(String(20), default="")


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Showcase:
    """What bazaars, malls and stores show of themselves."""

    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(250), unique=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("bazaar_categories.id"))
    logo: Mapped[str] = mapped_column(String(255))
    main_image: Mapped[str] = mapped_column(String(255))
    location_image: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default=Status.active)


class BazaarCategory(Base):
    __tablename__ = "bazaar_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    image: Mapped[str] = mapped_column(String(255))


class Bazaar(Showcase, Counters, Place, Timestamps, Base):
    __tablename__ = "bazaars"
    __table_args__ = (
        Index("ix_bazaars_category_id", "category_id", "id"),
        # The public list's page (status, by id) and its total counted from the index alone.
        Index("ix_bazaars_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)


class Mall(Showcase, Counters, Place, Timestamps, Base):
    __tablename__ = "malls"
    # Lists (of all, of a bazaar's) filter on status, page by id and count from the index.
    __table_args__ = (
        Index("ix_malls_bazaar_id", "bazaar_id", "status", "id"),
        Index("ix_malls_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bazaar_id: Mapped[int | None] = mapped_column(ForeignKey("bazaars.id"))
    description: Mapped[str | None] = mapped_column(Text)


class Store(Showcase, Counters, Place, Timestamps, Base):
    __tablename__ = "stores"
    # Lists (of all, of a bazaar's, of a mall's) filter on status, page by id and count from
    # the index; on PostgreSQL (status, id) also answers the products list's "an active store".
    __table_args__ = (
        Index("ix_stores_bazaar_id", "bazaar_id", "status", "id"),
        Index("ix_stores_mall_id", "mall_id", "status", "id"),
        Index("ix_stores_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    bazaar_id: Mapped[int | None] = mapped_column(ForeignKey("bazaars.id"))
    mall_id: Mapped[int | None] = mapped_column(ForeignKey("malls.id"))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(255))
    telegram: Mapped[str | None] = mapped_column(String(255))
    instagram: Mapped[str | None] = mapped_column(String(255))
    youtube: Mapped[str | None] = mapped_column(String(255))
    aparat: Mapped[str | None] = mapped_column(String(255))
    googleplus: Mapped[str | None] = mapped_column(String(255))
    facebook: Mapped[str | None] = mapped_column(String(255))
    twitter: Mapped[str | None] = mapped_column(String(255))
    linkedin: Mapped[str | None] = mapped_column(String(255))
    about: Mapped[str | None] = mapped_column(Text)
    certificate_image: Mapped[str] = mapped_column(String(255))
    store_front_image: Mapped[str] = mapped_column(String(255))


class StoreSeller(Base):
    __tablename__ = "store_sellers"
    __table_args__ = (UniqueConstraint("store_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=Status.active)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Product(Counters, Timestamps, Base):
    __tablename__ = "products"
    # A store's products and all products: status filtered and counted from the index
    # (store_id with it: the all-products total checks each product's store).
    __table_args__ = (
        Index("ix_products_store_id", "store_id", "status", "id"),
        Index("ix_products_status", "status", "store_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(250), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[int] = mapped_column(BigInteger)  # rials
    main_image: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default=Status.active)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("bazaar_categories.id"))
    # The wire's own words (API.md §5), as ``status`` holds them.
    top: Mapped[str] = mapped_column(String(3), default="no", server_default="no")


def visible(model: type[Bazaar | Mall | Store | Product]) -> ColumnElement[bool]:
    """The rule for what customers may see and touch: active rows; a product also needs an
    active store."""
    condition = model.status == Status.active
    if model is Product:
        active_store = select(Store.id).where(
            Store.id == Product.store_id, Store.status == Status.active
        )
        condition = and_(condition, active_store.exists())
    return condition


class Media(Base):
    """Images and videos of any target (``target`` is its v1-neutral kind name)."""

    __tablename__ = "media"
    __table_args__ = (Index("ix_media_target", "target", "target_id", "order"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(10), default="image")
    source: Mapped[str] = mapped_column(String(255))
    order: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(10), default=Status.active)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
