"""hojre.core.sql: the hot paths' connections and their transactions, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import bindparam, func, insert, select

from hojre.core.clock import utcnow
from hojre.core.errors import HojreError
from hojre.core.hub import Hub
from hojre.core.sql import Conn, PgConn, Query, ReadOnly, SqliteConn
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


async def test_arguments_in_order_with_the_statement_s_own_values_and_processors(hub: Hub) -> None:
    compiled = _ADD.compiled(hub.db.raw.dialect)
    at = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
    args = compiled.args({"title_": "حراج", "day_": date(2026, 11, 25), "at": at, "x": 1})
    assert len(args) == len(compiled.names)
    by_name = dict(zip(compiled.names, args, strict=True))
    assert by_name["title_"] == "حراج"
    assert by_name["text"] == "متن"  # the statement's own value
    assert by_name["at"] is not at or hub.db.raw.dialect.name == "postgresql"  # a processor ran
    with pytest.raises(TypeError, match="the statement needs a value for 'at'"):
        compiled.args({"title_": "حراج", "day_": date(2026, 11, 25)})


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
    assert 1 <= pools[0].get_size() <= pg_hub.settings.db_pool_size
