"""The only place that knows SQLite from PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Subquery, Table, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import aggregate_order_by

Insert = postgresql.Insert | sqlite.Insert


def upsert_for(name: str, table: Table | Any) -> Insert:
    """An INSERT supporting ``on_conflict_do_nothing/_update`` for a dialect's name (a
    :class:`hojre.core.sql.Query` builder's argument)."""
    target = table.__table__ if hasattr(table, "__table__") else table
    if name == "postgresql":
        return postgresql.insert(target)
    if name == "sqlite":
        return sqlite.insert(target)
    raise RuntimeError(f"unsupported database: {name}")


def json_array(name: str, rows: Subquery, order: Sequence[ColumnElement[Any]]) -> Any:
    """A scalar subquery: the rows of ``rows`` as one JSON array of arrays (each row's values
    in column order; keys would cost both sides more), in ``order`` (columns of ``rows``);
    ``[]`` when there are none.

    A composite reads its parts inside its main statement this way: one round trip instead of
    one per part on PostgreSQL; on SQLite, where a statement is a function call, it still cost
    less than a statement per part (stores/<id> in bench/sqlcount.py: 0.51 against 0.54–0.58
    ms per request on the small dataset, 0.57 against 0.63–0.77 on the big one).
    """
    if name == "postgresql":
        agg = func.json_agg(aggregate_order_by(func.json_build_array(*rows.c), *order))
        empty: Any = literal_column("'[]'::json")
        return select(func.coalesce(agg, empty)).select_from(rows).scalar_subquery()
    if name == "sqlite":
        # SQLite aggregates in the order its subquery yields (3.40 has no ORDER BY inside an
        # aggregate), so the ordered rows are read from a subquery of their own.
        ordered = select(rows).order_by(*order).subquery()
        agg = func.json_group_array(func.json_array(*ordered.c))
        return select(agg).select_from(ordered).scalar_subquery()
    raise RuntimeError(f"unsupported database: {name}")
