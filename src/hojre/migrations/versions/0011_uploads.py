"""Uploaded images (API.md §6): one row per stored image, so that only paths produced by an
upload (or the shipped defaults) are accepted by fields that take images.

``used_at`` is set when a record first refers to the upload; ``ix_uploads_unused`` (partial:
the never-used ones, by age) is what the garbage collection of unused uploads reads.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNUSED = sa.text("used_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_uploads_owner_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_uploads"),
        sa.UniqueConstraint("key", name="uq_uploads_key"),
    )
    op.create_index(
        "ix_uploads_unused", "uploads", ["created_at"],
        sqlite_where=_UNUSED, postgresql_where=_UNUSED,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_uploads_unused", table_name="uploads")
    op.drop_table("uploads")
