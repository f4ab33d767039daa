"""Public list cache: a write counter per public list's table, kept by triggers.

Each write to countries, states, cities, hoods or bazaar_categories bumps its table's row of
``public_cache_generations`` in the writing transaction and, on PostgreSQL, notifies channel
``hojre_public_cache`` with the table's name (delivered on commit). See hojre.core.cache.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As of this revision (hojre.core.cache.FAMILIES may grow; a later revision adds its triggers).
TABLES = ("countries", "states", "cities", "hoods", "bazaar_categories")
SQLITE_EVENTS = ("INSERT", "UPDATE", "DELETE")

# A missing row starts at the current unix milliseconds rather than 1: a row deleted by hand
# and made again never repeats a number a running process has already seen.
_PG_FUNCTION = """
CREATE FUNCTION public_cache_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public_cache_generations (family, generation)
    VALUES (TG_TABLE_NAME, CAST(extract(epoch FROM clock_timestamp()) * 1000 AS bigint))
    ON CONFLICT (family) DO UPDATE
    SET generation = public_cache_generations.generation + 1;
    PERFORM pg_notify('hojre_public_cache', TG_TABLE_NAME);
    RETURN NULL;
END
$$
"""


def _sqlite_trigger(table: str, event: str) -> str:
    return f"""
CREATE TRIGGER public_cache_{table}_{event.lower()} AFTER {event} ON {table}
BEGIN
    INSERT INTO public_cache_generations (family, generation)
    VALUES ('{table}', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
    ON CONFLICT (family) DO UPDATE SET generation = generation + 1;
END
"""


def upgrade() -> None:
    op.create_table(
        "public_cache_generations",
        sa.Column("family", sa.String(length=50), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("family", name=op.f("pk_public_cache_generations")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for table in TABLES:
            # Once per statement (a seed of a thousand rows bumps once), TRUNCATE included.
            op.execute(
                f"CREATE TRIGGER public_cache_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
                f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION public_cache_bump()"
            )
    else:
        # SQLite has row triggers only, one event each.
        for table in TABLES:
            for event in SQLITE_EVENTS:
                op.execute(_sqlite_trigger(table, event))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER public_cache_bump ON {table}")
        op.execute("DROP FUNCTION public_cache_bump()")
    else:
        for table in TABLES:
            for event in SQLITE_EVENTS:
                op.execute(f"DROP TRIGGER public_cache_{table}_{event.lower()}")
    op.drop_table("public_cache_generations")
