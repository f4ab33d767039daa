"""Stores' physical and virtual customers (API.md §5), and the stores' points on the map.

``store_customers``: one row per store and customer who came in touch with it; ``visits`` > 0
(they were at the store) or 0 (only through the app), each list with a partial index in its
order. ``store_points``: each store's coordinates as numbers, searched by a latitude band and
then the longitude (``stores`` keeps them as the wire's decimal strings).

Triggers keep ``store_points`` in step with ``stores.latitude``/``longitude`` (as 0006 keeps
the public cache's counters): every writer of stores (registration, the demo's ORM session,
the benchmark's bulk load, an operator's SQL) moves the point in the same transaction without
having to know of it. A store whose strings are not decimal degrees in range has no point.
Existing stores get theirs here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PG_DECIMAL = r"'^ *[-+]?[0-9]{1,3}(\.[0-9]+)? *$'"

# Nested IFs: plpgsql does not promise to test the pattern before the cast.
_PG_FUNCTION = f"""
CREATE FUNCTION store_points_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.latitude ~ {_PG_DECIMAL} AND NEW.longitude ~ {_PG_DECIMAL} THEN
        IF CAST(NEW.latitude AS double precision) BETWEEN -90 AND 90
           AND CAST(NEW.longitude AS double precision) BETWEEN -180 AND 180 THEN
            INSERT INTO store_points (store_id, latitude, longitude)
            VALUES (NEW.id, CAST(NEW.latitude AS double precision),
                    CAST(NEW.longitude AS double precision))
            ON CONFLICT (store_id) DO UPDATE
            SET latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude;
            RETURN NULL;
        END IF;
    END IF;
    DELETE FROM store_points WHERE store_id = NEW.id;
    RETURN NULL;
END
$$
"""


def _sqlite_valid(row: str) -> str:
    """``row``'s strings are decimal degrees in range (SQLite's CAST reads any prefix)."""
    checks = []
    for column, limit in (("latitude", 90), ("longitude", 180)):
        value = f"trim({row}.{column})"
        checks += [
            f"{value} <> ''",
            f"{value} NOT GLOB '*[^0-9.+-]*'",
            f"CAST({value} AS REAL) BETWEEN -{limit} AND {limit}",
        ]
    return " AND ".join(checks)


def _sqlite_trigger(event: str) -> str:
    return f"""
CREATE TRIGGER store_points_{event.split()[0].lower()} AFTER {event} ON stores
BEGIN
    DELETE FROM store_points WHERE store_id = NEW.id;
    INSERT INTO store_points (store_id, latitude, longitude)
    SELECT NEW.id, CAST(trim(NEW.latitude) AS REAL), CAST(trim(NEW.longitude) AS REAL)
    WHERE {_sqlite_valid("NEW")};
END
"""


SQLITE_EVENTS = ("INSERT", "UPDATE OF latitude, longitude")


def upgrade() -> None:
    op.create_table(
        "store_customers",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_visit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_store_customers_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_store_customers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", "user_id", name=op.f("pk_store_customers")),
    )  # fmt: skip
    for name, where in (("physical", "visits > 0"), ("virtual", "visits = 0")):
        op.create_index(
            f"ix_store_customers_{name}", "store_customers",
            ["store_id", "last_seen_at", "user_id"], unique=False,
            sqlite_where=sa.text(where), postgresql_where=sa.text(where),
        )  # fmt: skip
    op.create_table(
        "store_points",
        sa.Column("store_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_store_points_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_store_points")),
    )
    op.create_index(
        "ix_store_points_place", "store_points", ["latitude", "longitude", "store_id"],
        unique=False,
    )  # fmt: skip
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER store_points_sync AFTER INSERT OR UPDATE OF latitude, longitude"
            " ON stores FOR EACH ROW EXECUTE FUNCTION store_points_sync()"
        )
        # CASE: the cast only of a string that passed the pattern.
        op.execute(
            "INSERT INTO store_points (store_id, latitude, longitude)"
            " SELECT id, lat, lon FROM (SELECT id,"
            f" CASE WHEN latitude ~ {_PG_DECIMAL} THEN CAST(latitude AS double precision) END"
            " AS lat,"
            f" CASE WHEN longitude ~ {_PG_DECIMAL} THEN CAST(longitude AS double precision) END"
            " AS lon FROM stores) AS parsed"
            " WHERE lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180"
        )
    else:
        for event in SQLITE_EVENTS:
            op.execute(_sqlite_trigger(event))
        op.execute(
            "INSERT INTO store_points (store_id, latitude, longitude)"
            " SELECT id, CAST(trim(latitude) AS REAL), CAST(trim(longitude) AS REAL)"
            f" FROM stores WHERE {_sqlite_valid('stores')}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER store_points_sync ON stores")
        op.execute("DROP FUNCTION store_points_sync()")
    else:
        for event in SQLITE_EVENTS:
            op.execute(f"DROP TRIGGER store_points_{event.split()[0].lower()}")
    op.drop_index("ix_store_points_place", table_name="store_points")
    op.drop_table("store_points")
    for name in ("physical", "virtual"):
        op.drop_index(f"ix_store_customers_{name}", table_name="store_customers")
    op.drop_table("store_customers")
