"""The harness's own queries, on either database: PostgreSQL through asyncpg, SQLite through
sqlite3 (the file the server uses; WAL mode lets the harness read beside it).

Statements are written once, PostgreSQL-style: ``$1`` parameters, ``FILTER``, and
:meth:`Db.any` for "column is one of a list" (``= ANY($1::int[])`` there,
``IN (SELECT value FROM json_each(?1))`` on SQLite, whose ``?NNN`` takes a ``$n`` as it is).
"""

# ruff: noqa: S608 (table and column names in the SQL are constants; values are parameters)

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from typing import Any

import asyncpg

_PARAM = re.compile(r"\$(\d+)")


class Db:
    """One connection. ``fetch`` returns rows indexable by name and position."""

    def __init__(self, *, dsn: str | None = None, path: str | None = None) -> None:
        if (dsn is None) == (path is None):
            raise ValueError("give a PostgreSQL dsn or an SQLite path")
        self.dsn = dsn
        self.path = path
        self._pg: Any = None
        self._lite: sqlite3.Connection | None = None

    @property
    def sqlite(self) -> bool:
        return self.path is not None

    async def __aenter__(self) -> Db:
        if self.path is not None:
            self._lite = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._lite.row_factory = sqlite3.Row
        else:
            self._pg = await asyncpg.connect(self.dsn)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._lite is not None:
            self._lite.close()
        if self._pg is not None:
            await self._pg.close()

    def any(self, column: str, n: int, kind: str) -> str:
        """``column`` is one of parameter ``$n``'s values (pass them through :meth:`array`)."""
        if self.sqlite:
            return f"{column} IN (SELECT value FROM json_each(${n}))"
        return f"{column} = ANY(${n}::{kind}[])"

    def array(self, values: Sequence[Any]) -> Any:
        return json.dumps(list(values)) if self.sqlite else list(values)

    def _lite_run(self, sql: str, args: Sequence[Any]) -> sqlite3.Cursor:
        assert self._lite is not None
        return self._lite.execute(_PARAM.sub(r"?\1", sql), args)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        if self.sqlite:
            return self._lite_run(sql, args).fetchall()
        return list(await self._pg.fetch(sql, *args))

    async def fetchval(self, sql: str, *args: Any) -> Any:
        if self.sqlite:
            row = self._lite_run(sql, args).fetchone()
            return None if row is None else row[0]
        return await self._pg.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> int:
        """The number of rows changed."""
        if self.sqlite:
            return self._lite_run(sql, args).rowcount
        status = await self._pg.execute(sql, *args)
        return int(status.split()[-1])
