"""The database floor: the most one SQL statement per request can answer on this machine.

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

bench/run.py measures ``GET /db`` beside ``/web/ping`` in every server session, on the
session's database: an endpoint's ×ping target above the floor's ×ping cannot be met by any
code that runs a statement per request.
"""

from __future__ import annotations

import argparse
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
        self.routes = {("GET", "/ping"): self.ping, ("GET", "/db"): self.db}

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
        if self.sqlite is not None:
            self.sqlite.close()
            self.sqlite = None

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
