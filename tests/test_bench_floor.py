"""bench/floor_app.py, the database floor of ``make bench``: in-process on SQLite."""

from __future__ import annotations

import fcntl
import importlib.util
import io
import os
import sqlite3
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest

from hojre.core.logging import AccessLog
from hojre.web_v1.app import PING
from tests.factories import asgi_exchange

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_floor_app", BENCH / "floor_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


floor_app: Any = _load()


async def _get(app: Any, path: str, query: bytes = b"", method: str = "GET") -> tuple[int, bytes]:
    scope = {
        "type": "http", "method": method, "path": path, "query_string": query,
        "http_version": "1.1", "client": ("127.0.0.1", 5000), "headers": [],
    }  # fmt: skip
    start, body = await asgi_exchange(app, scope)
    assert start["type"] == "http.response.start"
    headers = dict(start["headers"])
    assert headers[b"content-length"] == str(len(body["body"])).encode()
    return start["status"], body["body"]


def test_ping_bytes_are_hojres() -> None:
    assert floor_app.PING == PING


def _floor_on(path: Path, *statements: str) -> tuple[floor_app.Floor, AccessLog, io.StringIO]:
    """The floor app on a SQLite file made by ``statements``, and its access log."""
    db = sqlite3.connect(path)
    with db:
        for statement in statements:
            db.execute(statement)
    db.close()
    floor = floor_app.Floor(f"sqlite+aiosqlite:///{path}")
    log = io.StringIO()
    return floor, AccessLog(floor, stream=log), log


@pytest.mark.anyio
async def test_db_answers_the_row_on_sqlite(tmp_path: Path) -> None:
    floor, app, log = _floor_on(
        tmp_path / "floor.db",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, cellphone TEXT, password_hash TEXT,"
        " name TEXT, family TEXT)",
        "INSERT INTO users VALUES (7, '09300000007', 'x', 'مریم', NULL)",
    )
    await floor.open()
    try:
        assert await _get(app, "/ping") == (200, PING)
        status, body = await _get(app, "/db", b"id=7")
        assert status == 200
        assert orjson.loads(body) == {
            "id": 7, "cellphone": "09300000007", "name": "مریم", "family": None,
        }  # fmt: skip
        assert (await _get(app, "/db", b"id=8"))[0] == 404
        assert (await _get(app, "/db", b"id=x"))[0] == 400
        assert (await _get(app, "/nothing"))[0] == 404
    finally:
        await floor.close()
    app.flush()
    assert '"GET /db?id=7 HTTP/1.1" 200 OK' in log.getvalue()


@pytest.mark.anyio
async def test_write_counts_one_per_request_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "floor.db"
    floor, app, log = _floor_on(
        path,
        "CREATE TABLE bench_floor_counts (id INTEGER PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0)",
        "INSERT INTO bench_floor_counts (id) VALUES (1), (2), (3)",
    )
    await floor.open()
    try:
        for _ in range(3):
            assert await _get(app, "/write", b"id=2", "POST") == (200, b'{"id":2}')
        assert await _get(app, "/write", b"id=3", "POST") == (200, b'{"id":3}')
        assert (await _get(app, "/write", b"id=x", "POST"))[0] == 400
        assert (await _get(app, "/write", b"", "POST"))[0] == 400
        assert (await _get(app, "/write", b"id=99", "POST"))[0] == 404
        assert (await _get(app, "/write", b"id=2"))[0] == 404  # POST only
        # Each request committed: another connection sees the counts, and none is left open.
        assert floor.sqlite is not None and not floor.sqlite.in_transaction
        reader = sqlite3.connect(path)
        try:
            counts = dict(reader.execute("SELECT id, n FROM bench_floor_counts"))
        finally:
            reader.close()
        assert counts == {1: 0, 2: 3, 3: 1}
        # The writers' flock is Hojre's file (hojre.core.sql.RawDb), free between requests.
        lock = os.open(f"{path}-write-lock", os.O_RDWR)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(lock)
    finally:
        await floor.close()
    app.flush()
    assert '"POST /write?id=2 HTTP/1.1" 200 OK' in log.getvalue()
