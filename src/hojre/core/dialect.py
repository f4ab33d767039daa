"""The only place that knows SQLite from PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

Insert = postgresql.Insert | sqlite.Insert


def upsert(session: AsyncSession, table: Table | Any) -> Insert:
    """An INSERT supporting ``on_conflict_do_nothing/_update`` for the session's database."""
    return upsert_for(session.get_bind().dialect.name, table)


def upsert_for(name: str, table: Table | Any) -> Insert:
    """The same, for a dialect's name (a :class:`hojre.core.sql.Query` builder's argument)."""
    target = table.__table__ if hasattr(table, "__table__") else table
    if name == "postgresql":
        return postgresql.insert(target)
    if name == "sqlite":
        return sqlite.insert(target)
    raise RuntimeError(f"unsupported database: {name}")
