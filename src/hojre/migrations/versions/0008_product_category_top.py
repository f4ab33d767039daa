"""Products carry a bazaar category and the ``top`` mark (API.md §5: the store side's product
records show ``category`` and ``top``).

``top`` holds the wire's own words, ``"yes"``/``"no"`` (default ``"no"``), as ``status`` holds
``"active"``; ``category_id`` is nullable (products made before had none). Batch mode: SQLite
adds a foreign key only by rebuilding the table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("category_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("top", sa.String(length=3), nullable=False, server_default="no"))
        batch.create_foreign_key(
            op.f("fk_products_category_id_bazaar_categories"),
            "bazaar_categories",
            ["category_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_constraint(op.f("fk_products_category_id_bazaar_categories"), type_="foreignkey")
        batch.drop_column("top")
        batch.drop_column("category_id")
