"""The database floors: the most one SQL statement (a read) or one write transaction per request
can answer on this machine.

``python bench/floor_app.py --port P --workers 2 --database-url URL`` serves a raw ASGI app (no
FastAPI, no Starlette routing: a dict lookup on the path) the way ``hojre serve --workers 2``
serves Hojre (src/hojre/cli.py): uvicorn with its default loop and HTTP parser (uvloop,
httptools), the app wrapped in Hojre's own access log (``hojre.core.logging.AccessLog``, as
``hojre.web_v1.asgi.logged_app`` is) with uvicorn's access log off, Hojre's log config, no
proxy headers, no server header. Its per-request plumbing is ``/web/ping``'s without Hojre's
proxy headers, Guard and Dispatch:

- ``GET /ping``: the bytes of Hojre's ``/web/ping`` (``hojre.web_v1.app.PING``).
- ``GET /db?id=N``: one statement by primary key, ``SELECT id, cellphone, name, family FROM
  users WHERE id = $1``, the row answered as a small JSON object (orjson). PostgreSQL: an
  asyncpg pool per process (min 0, max 8, no reset on release, as src/hojre/core/sql.py);
  acquire, fetchrow, release per request. SQLite: one sqlite3 connection per process with
  ``hojre.core.sql.SQLITE_PRAGMAS``, the statement run on the event loop.
- ``POST /write?id=N`` (no body): the cheapest write transaction, ``BEGIN``; ``UPDATE
  bench_floor_counts SET n = n + 1 WHERE id = $1``; ``COMMIT``, answering ``{"id":N}``
  (orjson; 404 when no row has that id, 400 when the id is not a number). PostgreSQL: the same
  pool, acquire, ``async with connection.transaction()`` (BEGIN and COMMIT as round trips of
  their own, as ``hojre.core.sql.PgConn`` runs a write endpoint's transaction), execute,
  release. SQLite: the same sqlite3 connection, on the event loop as ``hojre.core.sql.SqliteConn``
  runs a write: first the cross-process flock on ``<database>-write-lock`` (the file Hojre's
  writers and checkpointer queue on, ``hojre.core.sql._FileLock``), so the two workers take
  turns the way Hojre's do, then ``BEGIN IMMEDIATE``, the UPDATE, ``COMMIT``, the flock
  released. The transaction never awaits, so it needs no per-process asyncio lock (Hojre's
  ``RawDb.write_lock`` keeps its own awaiting transactions apart). Hojre's request connections
  leave WAL checkpoints to a ``hojre.core.checkpoint.Checkpointer`` thread; the floor starts
  one at its first write, so within a bench session the server's (leading since the session's
  first request) does the checkpoints and the floor's only stands by. bench/run.py creates and
  fills the table before the floor starts (ids 1..N) and drops it after the session.

bench/run.py measures ``GET /db`` and ``POST /write`` beside ``/web/ping`` in every server
session, on the session's database: an endpoint's ×ping target above the read floor's ×ping
cannot be met by any code that runs a statement per request, nor a write endpoint's above the
write floor's by any code that runs a write transaction per request.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import sqlite3
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.engine import make_url

from hojre.core.logging import AccessLog

# hojre.web_v1.app.PING, copied rather than imported: importing the app would load all of
# Hojre into the floor's workers (tests/test_bench_floor.py checks that the bytes match).
PING = b'{"status":"success","message":"pong","data":""}'
SELECT_PG = "SELECT id, cellphone, name, family FROM users WHERE id = $1"
SELECT_SQLITE = "SELECT id, cellphone, name, family FROM users WHERE id = ?"
COLUMNS = ("id", "cellphone", "name", "family")
UPDATE_PG = "UPDATE bench_floor_counts SET n = n + 1 WHERE id = $1"
UPDATE_SQLITE = "UPDATE bench_floor_counts SET n = n + 1 WHERE id = ?"
URL_ENV = "BENCH_FLOOR_DATABASE_URL"
POOL_MAX = 8

JSON = [(b"content-type", b"application/json")]


def _headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-length", str(len(body)).encode()), *JSON]


async def _no_reset(connection: Any) -> None:
    """asyncpg's reset on release (a round trip per request by default): nothing to undo."""


def _user_id(query: bytes) -> int | None:
    for part in query.split(b"&"):
        if part.startswith(b"id="):
            try:
                return int(part[3:])
            except ValueError:
                return None
    return None


class Floor:
    """The raw ASGI app. ``url``: a SQLAlchemy-style database URL (default: the environment's
    BENCH_FLOOR_DATABASE_URL when the lifespan starts: uvicorn's workers inherit it)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url
        self.pool: Any = None  # asyncpg.Pool
        self.sqlite: sqlite3.Connection | None = None
        self.path = ""  # the SQLite file
        self.lock: int | None = None  # the writers' flock (SQLite, not in memory)
        self.checkpointer: Any = None  # hojre.core.checkpoint.Checkpointer, from the 1st write
        self.routes = {
            ("GET", "/ping"): self.ping, ("GET", "/db"): self.db, ("POST", "/write"): self.write,
        }  # fmt: skip

    async def open(self) -> None:
        url = make_url(self.url or os.environ[URL_ENV])
        if url.get_backend_name() == "sqlite":
            self.sqlite = sqlite3.connect(
                url.database or ":memory:", timeout=15, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            from hojre.core.sql import SQLITE_PRAGMAS

            for pragma in SQLITE_PRAGMAS:
                self.sqlite.execute(pragma)
            self.path = url.database or ":memory:"
            if self.path != ":memory:" and not self.path.startswith("file::memory:"):
                # hojre.core.sql.RawDb's lock file: f"{path}-write-lock".
                self.lock = os.open(f"{self.path}-write-lock", os.O_RDWR | os.O_CREAT, 0o600)
            return
        import asyncpg

        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.pool = await asyncpg.create_pool(
            dsn,
            min_size=0,
            max_size=POOL_MAX,
            reset=_no_reset,
            # The floor's connections stay open through its run (asyncpg's default: 5 minutes
            # idle) but not through the rest of the session, where Hojre's pools need the
            # server's connections.
            max_inactive_connection_lifetime=10.0,
        )

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        if self.sqlite is not None:
            self.sqlite.close()
            self.sqlite = None
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            route = self.routes.get((scope["method"], scope["path"]))
            if route is None:
                await self.answer(send, 404, b'{"status":"error","message":"not found"}')
            else:
                await route(scope, send)
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)

    async def lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.open()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def answer(send: Any, status: int, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status, "headers": _headers(body)})
        await send({"type": "http.response.body", "body": body})

    async def ping(self, scope: Any, send: Any) -> None:
        await self.answer(send, 200, PING)

    async def db(self, scope: Any, send: Any) -> None:
        user = _user_id(scope["query_string"])
        if user is None:
            await self.answer(send, 400, b'{"status":"error","message":"id"}')
            return
        row: Any
        if self.sqlite is not None:
            found = self.sqlite.execute(SELECT_SQLITE, (user,)).fetchone()
            row = None if found is None else dict(zip(COLUMNS, found, strict=True))
        else:
            connection = await self.pool.acquire()
            try:
                row = await connection.fetchrow(SELECT_PG, user)
            finally:
                await self.pool.release(connection)
            row = None if row is None else dict(row)
        if row is None:
            await self.answer(send, 404, b'{"status":"error","message":"no such user"}')
            return
        await self.answer(send, 200, orjson.dumps(row))

    def _write_sqlite(self, key: int) -> int:
        """One write transaction as hojre.core.sql.SqliteConn runs it: rows changed."""
        assert self.sqlite is not None
        if self.checkpointer is None and self.lock is not None:
            from hojre.core.checkpoint import Checkpointer

            self.checkpointer = Checkpointer(self.path)
            self.checkpointer.start()
        if self.lock is not None:
            fcntl.flock(self.lock, fcntl.LOCK_EX)
        try:
            self.sqlite.execute("BEGIN IMMEDIATE")
            try:
                changed = self.sqlite.execute(UPDATE_SQLITE, (key,)).rowcount
            except BaseException:
                self.sqlite.execute("ROLLBACK")
                raise
            self.sqlite.execute("COMMIT")
        finally:
            if self.lock is not None:
                fcntl.flock(self.lock, fcntl.LOCK_UN)
        return int(changed)

    async def write(self, scope: Any, send: Any) -> None:
        key = _user_id(scope["query_string"])
        if key is None:
            await self.answer(send, 400, b'{"status":"error","message":"id"}')
            return
        if self.sqlite is not None:
            changed = self._write_sqlite(key)
        else:
            connection = await self.pool.acquire()
            try:
                async with connection.transaction():
                    status = await connection.execute(UPDATE_PG, key)
            finally:
                await self.pool.release(connection)
            changed = int(status.rsplit(" ", 1)[-1])
        if not changed:
            await self.answer(send, 404, b'{"status":"error","message":"no such row"}')
            return
        await self.answer(send, 200, orjson.dumps({"id": key}))


floor = Floor()
app = AccessLog(floor)  # what `hojre serve` runs: the app writing its own access log


def main() -> None:
    import uvicorn

    from hojre.core.logging import log_config

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", required=True, help="as HOJRE_DATABASE_URL")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    os.environ[URL_ENV] = args.database_url  # the spawned workers inherit it
    uvicorn.run(
        "floor_app:app",
        app_dir=str(Path(__file__).resolve().parent),
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=log_config(args.log_level),
        access_log=False,  # AccessLog writes it
        proxy_headers=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
