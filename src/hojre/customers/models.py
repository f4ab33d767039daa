"""A store's customers and the stores' points on the map.

``store_customers`` holds one row per store and customer who came in touch with it: at the
store (``visits`` > 0: a physical customer) or only through the app (``visits`` = 0: a
virtual one). Each list reads a partial index of its own, in its order (newest contact
first), with its total counted from the same index.

``store_points`` holds each store's coordinates as numbers: ``stores`` keeps them as the
wire's decimal strings, which no index can search by distance.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from hojre.core.db import Base

# The lists' conditions, written as literals: a partial index serves a statement only when
# the statement's condition is the index's own, which a bound parameter is not (SQLite; a
# PostgreSQL generic plan).
PHYSICAL = literal_column("visits") > literal_column("0")
VIRTUAL = literal_column("visits") == literal_column("0")


class StoreCustomer(Base):
    __tablename__ = "store_customers"
    __table_args__ = (
        Index("ix_store_customers_physical", "store_id", "last_seen_at", "user_id",
              sqlite_where=PHYSICAL, postgresql_where=PHYSICAL),
        Index("ix_store_customers_virtual", "store_id", "last_seen_at", "user_id",
              sqlite_where=VIRTUAL, postgresql_where=VIRTUAL),
    )  # fmt: skip

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Visits to the store: reports of a location within the radius, a visit gap apart.
    visits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The customer's last report at the store (None: never there).
    last_visit_at: Mapped[datetime | None]
    # Their last contact of any kind: a visit or an interaction (the lists' ``lastSeen``).
    last_seen_at: Mapped[datetime]


class StorePoint(Base):
    """A store's coordinates (degrees), kept in step with ``stores.longitude``/``latitude``
    by :func:`hojre.customers.service.set_store_point`; a store without valid coordinates
    has no point."""

    __tablename__ = "store_points"
    # A latitude band, then the longitude within it, from the index alone.
    __table_args__ = (Index("ix_store_points_place", "latitude", "longitude", "store_id"),)

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
