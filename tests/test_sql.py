"""hojre.core.sql: the hot paths' connections and their transactions, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import bindparam, func, insert, select, update

from hojre.core import sql
from hojre.core.clock import utcnow
from hojre.core.errors import HojreError
from hojre.core.hub import Hub
from hojre.core.sql import Conn, PgConn, Prelude, Query, ReadOnly, SqliteConn
from hojre.messaging.models import Broadcast

pytestmark = pytest.mark.anyio

_ADD = Query(
    insert(Broadcast)
    .values(title=bindparam("title_"), text="متن", day=bindparam("day_"), show=True,
            created_at=bindparam("at"))
    .returning(Broadcast.id)
)  # fmt: skip
_COUNT = Query(select(func.count()).select_from(Broadcast).where(Broadcast.title == bindparam("t")))
_ONE = Query(select(Broadcast.title, Broadcast.created_at).where(Broadcast.id == bindparam("i")))


async def _add(conn: Conn, title: str) -> int:
    row = await conn.one(_ADD, title_=title, day_=date(2026, 11, 25), at=utcnow())
    assert row is not None
    return int(row.id)


async def _count(hub: Hub, title: str) -> int:
    async with hub.db.raw.connect(write=False) as conn:
        row = await conn.one(_COUNT, t=title)
    assert row is not None
    return int(row[0])


class Kept(HojreError):
    keep_writes = True


async def test_a_read_connection_refuses_to_write(hub: Hub) -> None:
    async with hub.db.raw.connect(write=False) as conn:
        with pytest.raises(ReadOnly):
            await _add(conn, "read")
    assert await _count(hub, "read") == 0


async def test_rows_are_named_tuples_with_aware_datetimes(hub: Hub) -> None:
    async with hub.db.raw.connect(write=True) as conn:
        new = await _add(conn, "typed")
    async with hub.db.raw.connect(write=False) as conn:
        row = await conn.one(_ONE, i=new)
    assert row is not None
    assert row.title == "typed"
    assert isinstance(row.created_at, datetime) and row.created_at.utcoffset() is not None
    assert abs((datetime.now(UTC) - row.created_at).total_seconds()) < 60


async def test_a_write_that_writes_nothing_begins_no_transaction(hub: Hub) -> None:
    ran: list[str] = []
    async with hub.db.raw.connect(write=True) as conn:
        await conn.one(_COUNT, t="nothing")

        async def hook() -> None:
            ran.append("after commit")

        conn.on_commit(hook)
        if isinstance(conn, SqliteConn):
            assert conn.begun is False  # SQLite's write lock not taken
        else:
            assert isinstance(conn, PgConn) and conn.transaction is None
    assert ran == ["after commit"]


@pytest.mark.parametrize(("error", "kept"), [(HojreError, False), (Kept, True)])
async def test_an_error_rolls_back_unless_it_keeps_the_writes(
    hub: Hub, error: type[HojreError], kept: bool
) -> None:
    """Most errors roll back and skip the after-commit hooks; a counted failure commits."""
    ran: list[str] = []

    async def hook() -> None:
        ran.append("after commit")

    title = f"error {error.__name__}"
    with pytest.raises(error):
        async with hub.db.raw.connect(write=True) as conn:
            await _add(conn, title)
            conn.on_commit(hook)
            raise error("no")
    assert await _count(hub, title) == int(kept)
    assert ran == (["after commit"] if kept else [])


async def test_concurrent_writers_all_commit(hub: Hub) -> None:
    async def write(n: int) -> None:
        async with hub.db.raw.connect(write=True) as conn:
            await _add(conn, "many")
            await asyncio.sleep(0)  # a writer that yields mid-transaction keeps its turn

    await asyncio.gather(*(write(n) for n in range(40)))
    assert await _count(hub, "many") == 40


@pytest.mark.postgres
async def test_the_first_requests_together_open_one_pool(pg_hub: Hub) -> None:
    raw = pg_hub.db.raw

    async def use() -> None:
        async with raw.connect(write=False) as conn:
            await conn.one(_COUNT, t="x")

    await asyncio.gather(*(use() for _ in range(100)))
    pools = list(raw._pools.values())
    assert len(pools) == 1
    assert 1 <= pools[0].opened <= pg_hub.settings.db_pool_size


# -- preludes --------------------------------------------------------------------------------

# A prelude like the login: one row, its first column the value of the later ``user``.
_FIRST = Query(select(Broadcast.id, Broadcast.title).where(Broadcast.title == bindparam("want")))
_LATER = Query(
    select(Broadcast.id, Broadcast.title, Broadcast.created_at)
    .where(Broadcast.id >= bindparam("user"), Broadcast.title.like(bindparam("like")))
    .order_by(Broadcast.id.desc())
)
_RENAME = Query(
    update(Broadcast).where(Broadcast.id == bindparam("user")).values(title=bindparam("to"))
)


class Nobody(HojreError):
    message = "nobody"


def _prelude(want: str) -> Prelude:
    return Prelude(_FIRST, {"want": want}, Nobody)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    seen: list[str] = []
    sql.statement_listeners.append(seen.append)
    yield seen
    sql.statement_listeners.remove(seen.append)


async def test_a_prelude_runs_with_the_first_statement_given_it(
    hub: Hub, statements: list[str]
) -> None:
    async with hub.db.raw.connect(write=True) as conn:
        ids = [await _add(conn, f"prelude {n}") for n in range(4)]
    statements.clear()
    async with hub.db.raw.connect(write=False) as conn:
        first = _prelude("prelude 1")
        rows = await conn.all(_LATER, user=first, like="prelude %")
        # PostgreSQL: one statement for both; SQLite: the prelude just before.
        assert len(statements) == (2 if hub.db.is_sqlite else 1)
        assert first.row.id == ids[1] and first.row.title == "prelude 1"
        assert [r.id for r in rows] == ids[:0:-1]  # newest first, as the statement orders
        assert all(r.created_at.utcoffset() is not None for r in rows)  # converted as alone
        assert rows == await conn.all(_LATER, user=ids[1], like="prelude %")
        statements.clear()
        assert await conn.one(_LATER, user=first, like="prelude 3") == rows[0]
        assert len(statements) == 1  # the prelude ran: its value is given
        # A prelude whose statement has no rows still runs, and still gives its row.
        second = _prelude("prelude 3")
        assert await conn.all(_LATER, user=second, like="nothing%") == []
        assert second.row.id == ids[3]


async def test_no_prelude_row_raises_and_runs_nothing_else(hub: Hub, statements: list[str]) -> None:
    async with hub.db.raw.connect(write=True) as conn:
        await _add(conn, "kept")
        statements.clear()
        with pytest.raises(Nobody):
            await conn.all(_LATER, user=_prelude("no such title"), like="%")
        with pytest.raises(Nobody):
            await conn.run(_RENAME, user=_prelude("no such title"), to="renamed")
        assert len(statements) == 2  # the login of each, and nothing after it
    assert await _count(hub, "kept") == 1 and await _count(hub, "renamed") == 0


async def test_a_write_given_a_prelude_runs_it_first(hub: Hub, statements: list[str]) -> None:
    async with hub.db.raw.connect(write=True) as conn:
        new = await _add(conn, "before")
        statements.clear()
        first = _prelude("before")
        assert await conn.run(_RENAME, user=first, to="after") == 1
        assert len(statements) == 2  # writes are not combined
        assert first.row.id == new
    assert await _count(hub, "after") == 1


def test_combining_checks_the_parameters() -> None:
    with pytest.raises(ValueError, match="no parameter 'nobody'"):
        _LATER.after(_FIRST, "nobody").statement_for("postgresql")
    clash = Query(select(Broadcast.id).where(Broadcast.title == bindparam("want"),
                                             Broadcast.id > bindparam("user")))  # fmt: skip
    with pytest.raises(ValueError, match="both statements have parameters named"):
        clash.after(_FIRST, "user").statement_for("postgresql")
    with pytest.raises(TypeError, match="only a SELECT"):
        _RENAME.after(_FIRST, "user").statement_for("postgresql")
