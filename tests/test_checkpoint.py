"""SQLite's WAL checkpoints run in a thread of their own, never in a request's commit
(hojre.core.checkpoint), and the WAL stays bounded under writes."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, bindparam, insert
from sqlalchemy.dialects import sqlite

from hojre.core.checkpoint import THREAD_NAME, Checkpointer
from hojre.core.sql import Query, RawDb, SqliteConn

pytestmark = pytest.mark.anyio

_BLOBS = Table(
    "blobs", MetaData(), Column("id", Integer, primary_key=True), Column("data", LargeBinary)
)
_ADD = Query(insert(_BLOBS).values(data=bindparam("data")))
PAGE = 4096
FRAME = PAGE + 24  # a WAL frame: its header and one page


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "wal.db")


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Checkpointer, "interval", 0.005)
    monkeypatch.setattr(Checkpointer, "reset_frames", 300)
    monkeypatch.setattr(Checkpointer, "idle_seconds", 0.05)


@pytest.fixture
def no_threads_left() -> Iterator[None]:
    yield
    assert [t for t in threading.enumerate() if t.name == THREAD_NAME] == []


@pytest.fixture
async def raw(path: str, no_threads_left: None) -> AsyncIterator[RawDb]:
    db = RawDb(f"sqlite:///{path}", sqlite.dialect())
    try:
        yield db
    finally:
        await db.close()


def _lead_lock(path: str) -> int:
    fd = os.open(f"{path}-checkpoint-lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises when a checkpointer holds it
    return fd


def _wal_exists(path: str) -> bool:
    return os.path.exists(f"{path}-wal")


def _wal_bytes(path: str) -> int:
    try:
        return os.path.getsize(f"{path}-wal")
    except FileNotFoundError:
        return 0


async def _write(raw: RawDb, count: int, sizes: list[int] | None = None) -> None:
    """``count`` write transactions of one row holding a page of data (a leaf page and an
    overflow page, at least two WAL frames each). With ``sizes``, the WAL's size after each,
    and the GIL let go between them, as a server's loop lets it go waiting for the next
    request: a loop that never waits starves the checkpointer's thread of the GIL on a busy
    machine, which no server does."""
    for i in range(count):
        async with raw.connect(write=True) as conn:
            await conn.run(_ADD, data=i.to_bytes(4, "big") * (PAGE // 4))
        if sizes is not None:
            sizes.append(_wal_bytes(raw._path))
            time.sleep(0)  # noqa: ASYNC251 (deliberate: the GIL let go, see above)


async def _until(condition: Callable[[], bool], what: str) -> None:
    # A deadline for a background thread, not a speed requirement: generous on a busy machine.
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


async def _create_table(raw: RawDb) -> SqliteConn:
    async with raw.connect(write=False) as conn:
        assert isinstance(conn, SqliteConn)
        conn.connection.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)")
        return conn


async def test_no_commit_checkpoints_and_the_checkpointer_empties_the_wal(
    raw: RawDb, path: str, quick: None
) -> None:
    # Another process's checkpointer leads, and that process is stopped: nothing checkpoints.
    lead = _lead_lock(path)
    try:
        reader = (await _create_table(raw)).connection
        writer, checkpointer = raw._sqlite_connections()[1], raw._sqlite_connections()[3]
        assert checkpointer is not None
        for connection in (reader, writer):
            assert connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        await _write(raw, 1500)
        # 1500 transactions wrote 3000+ frames and the WAL holds them all: no commit ran a
        # checkpoint (SQLite's default would have copied and rewound it at 1000 frames).
        assert _wal_bytes(path) >= 3000 * FRAME
        assert (checkpointer.leading, checkpointer.passive) == (False, 0)
    finally:
        os.close(lead)  # the leader's process died: the kernel dropped its flock
    await _until(lambda: checkpointer.leading, "the checkpointer takes over")
    await _until(lambda: checkpointer.truncated >= 1, "the WAL is emptied")
    assert _wal_bytes(path) == 0
    # Every frame reached the database file.
    fresh = sqlite3.connect(path)
    try:
        assert fresh.execute("SELECT count(*) FROM blobs").fetchone() == (1500,)
    finally:
        fresh.close()


async def test_the_wal_stays_bounded_under_a_write_loop(raw: RawDb, path: str, quick: None) -> None:
    await _create_table(raw)
    sizes: list[int] = []
    await _write(raw, 8000, sizes)
    written = 8000 * 2 * FRAME  # without checkpoints the WAL would hold it all
    assert max(sizes) < written / 4, (max(sizes), written)
    checkpointer = raw._sqlite_connections()[3]
    assert checkpointer is not None
    assert checkpointer.passive > 0
    assert checkpointer.truncated > 0


async def test_one_checkpointer_leads_and_another_takes_over(
    path: str, quick: None, no_threads_left: None
) -> None:
    first = RawDb(f"sqlite:///{path}", sqlite.dialect())
    second = RawDb(f"sqlite:///{path}", sqlite.dialect())
    try:
        await _create_table(first)
        one, two = first._sqlite_connections()[3], second._sqlite_connections()[3]
        assert one is not None and two is not None
        await _until(lambda: one.leading or two.leading, "one leads")
        leader, other, leader_db = (one, two, first) if one.leading else (two, one, second)
        await asyncio.sleep(0.05)  # many ticks: the other one keeps trying, and waits
        assert not other.leading and other.passive == 0
        await leader_db.close()
        assert not leader.leading
        await _until(lambda: other.leading, "the other takes over")
        await _write(second if leader_db is first else first, 200)
        await _until(lambda: other.passive > 0, "it checkpoints")
    finally:
        await first.close()
        await second.close()


async def test_it_stops_with_the_connections(path: str, no_threads_left: None) -> None:
    raw = RawDb(f"sqlite:///{path}", sqlite.dialect())
    await _create_table(raw)
    await _write(raw, 10)
    assert [t.name for t in threading.enumerate()].count(THREAD_NAME) == 1
    await raw.close()
    # The thread is gone (no_threads_left), it gave up the lead, and the last connection's
    # close checkpointed the WAL and removed it.
    os.close(_lead_lock(path))
    assert not _wal_exists(path)
    await raw.close()  # twice is harmless


async def test_an_in_memory_database_has_no_checkpointer(no_threads_left: None) -> None:
    raw = RawDb("sqlite://", sqlite.dialect())
    try:
        assert raw._sqlite_connections()[3] is None
    finally:
        await raw.close()
