"""Users carry when they were last seen (``mysellers``' ``onlineStatus``, API.md §5).

``seen_at`` is nullable (nobody was seen before this revision) and, like the other moments,
an aware UTC datetime; it moves at most once a minute per user (hojre.accounts.presence).
Adding a nullable column needs no table rebuild on SQLite; batch mode keeps the downgrade
working there (dropping a column).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("seen_at")
