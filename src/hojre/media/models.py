"""What was uploaded: one row per stored image.

The row is what makes a path ours: a field that takes an image accepts a path only when
``uploads`` has it (or it is one of the shipped defaults), so no record can point at a file
nobody uploaded, or at another site. ``used_at`` is set the first time a record refers to the
upload; an upload never used is removed after a while (:func:`hojre.media.service.collect`),
which the partial index finds without reading the used ones.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from hojre.core.db import Base

# A literal, not a bound parameter: a partial index serves only the statements whose
# condition is its own.
UNUSED = literal_column("used_at").is_(None)


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (
        Index("ix_uploads_unused", "created_at", sqlite_where=UNUSED, postgresql_where=UNUSED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The storage key and the path the API hands out: "img/up/3f/3f9a….jpg".
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # None: uploaded without a login (the customer app's imgupload shows no login params).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The client address as throttles key it: who to ask about an upload that was reported.
    address: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
