"""Covering indexes for the login and the catalogue lists.

The login (a user's token by hash, its last use) reads ``ix_access_tokens_login`` alone, which
takes the place of the plain ``user_id`` index. The lists of bazaars, malls, stores and
products filter on ``status``, page by ``id`` and count their total under the same condition:
with ``status`` in their indexes the total is counted from the index, not from the wide rows
(on the benchmark's big dataset the total of ``/web/stores`` read 10,000 table rows, and on
SQLite ``/web/bazzars`` and ``/web/malls`` built a temporary index at every request). The
indexes of a bazaar's malls and stores, a mall's stores and a store's products keep their
names and gain ``status`` (and ``id``, the order of the page, which PostgreSQL's indexes do
not hold by themselves).

Plain CREATE INDEX: SQLite builds these without rebuilding the tables, and on PostgreSQL the
tables are small enough for the short lock on writes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, columns before, columns after); None: the index is new, or dropped.
INDEXES: tuple[tuple[str, str, list[str] | None, list[str] | None], ...] = (
    ("access_tokens", "ix_access_tokens_user_id", ["user_id"], None),
    ("access_tokens", "ix_access_tokens_login", None, ["user_id", "token_hash", "last_used_at"]),
    ("bazaars", "ix_bazaars_status", None, ["status", "id"]),
    ("malls", "ix_malls_bazaar_id", ["bazaar_id"], ["bazaar_id", "status", "id"]),
    ("malls", "ix_malls_status", None, ["status", "id"]),
    ("stores", "ix_stores_bazaar_id", ["bazaar_id"], ["bazaar_id", "status", "id"]),
    ("stores", "ix_stores_mall_id", ["mall_id"], ["mall_id", "status", "id"]),
    ("stores", "ix_stores_status", None, ["status", "id"]),
    ("products", "ix_products_store_id", ["store_id", "id"], ["store_id", "status", "id"]),
    ("products", "ix_products_status", None, ["status", "store_id"]),
)


def _change(*, upgrade: bool) -> None:
    for table, name, before, after in INDEXES if upgrade else reversed(INDEXES):
        old, new = (before, after) if upgrade else (after, before)
        if old is not None:
            op.drop_index(name, table_name=table)
        if new is not None:
            op.create_index(name, table, new, unique=False)


def upgrade() -> None:
    _change(upgrade=True)


def downgrade() -> None:
    _change(upgrade=False)
