"""Geography reference data: Iran, its 31 provinces, its cities, main neighbourhoods.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hojre.geo.seed import geography_rows

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("countries", "states", "cities", "hoods")


def upgrade() -> None:
    rows = geography_rows()
    bind = op.get_bind()
    metadata = sa.MetaData()
    for name in TABLES:
        table = sa.Table(name, metadata, autoload_with=bind)
        op.bulk_insert(table, rows[name])
        if bind.dialect.name == "postgresql":
            # Explicit ids were inserted; move the sequence past them for later rows.
            op.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
            )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.execute(sa.text(f"DELETE FROM {name}"))
