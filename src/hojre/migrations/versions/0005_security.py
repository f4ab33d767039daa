"""Security: tokens' last use (idle expiry), contested registrations, throttle purge index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing tokens count as used at the upgrade: an upgrade logs nobody out, and a token
    # nobody uses from then on ends HOJRE_TOKEN_IDLE_DAYS later. (SQLite's CURRENT_TIMESTAMP
    # is UTC text that reads and sorts like SQLAlchemy's own.)
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE access_tokens SET last_used_at = CURRENT_TIMESTAMP")
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "last_used_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_tokens_last_used_at"), ["last_used_at"], unique=False
        )

    with op.batch_alter_table("activation_codes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("contested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("activation_codes", schema=None) as batch_op:
        batch_op.alter_column("contested", existing_type=sa.Boolean(), server_default=None)

    with op.batch_alter_table("rate_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rate_counters_window_ends_at"), ["window_ends_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rate_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_counters_window_ends_at"))
    with op.batch_alter_table("activation_codes", schema=None) as batch_op:
        batch_op.drop_column("contested")
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_tokens_last_used_at"))
        batch_op.drop_column("last_used_at")
