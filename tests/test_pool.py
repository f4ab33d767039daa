"""hojre.core.sql.RawDb on PostgreSQL: asyncpg's pool, one per event loop, and what goes back
into it (a connection cut off mid-statement never does)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import Integer, bindparam, func, insert, select

from hojre.core.db import Database
from hojre.core.errors import HojreError
from hojre.core.sql import AcquireTimeout, Query, RawDb, UniqueViolation, statement_cache_size
from hojre.geo.models import Country
from hojre.geo.seed import IRAN_ID

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

_PID = Query(select(func.pg_backend_pid()))
_SLEEP = Query(select(func.pg_sleep(bindparam("seconds", type_=Integer))))
_ADD = Query(insert(Country).values(id=bindparam("id"), code="PL", name="Pooland"))
_COUNTRY = Query(select(func.count()).select_from(Country).where(Country.id == bindparam("id")))
_ID = 9001  # a country no migration loads


class Refused(HojreError):
    message = "Refused"


@pytest.fixture
async def raw(pg_url: str) -> AsyncIterator[RawDb]:
    db = Database(pg_url, pool_size=2, acquire_timeout=0.5, statement_timeout=1.0)
    try:
        yield db.raw
    finally:
        await db.dispose()


async def pid(raw: RawDb) -> int:
    async with raw.connect(write=False) as conn:
        row = await conn.one(_PID)
    assert row is not None
    return int(row[0])


async def countries(raw: RawDb, country: int) -> int:
    async with raw.connect(write=False) as conn:
        row = await conn.one(_COUNTRY, id=country)
    assert row is not None
    return int(row[0])


async def test_one_connection_serves_requests_in_turn(raw: RawDb) -> None:
    first = await pid(raw)
    assert [await pid(raw) for _ in range(5)] == [first] * 5


async def test_the_server_cancels_a_statement_past_its_time_limit(raw: RawDb) -> None:
    first = await pid(raw)
    with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
        async with raw.connect(write=True) as conn:
            await conn.run(_ADD, id=_ID)
            await conn.one(_SLEEP, seconds=30)  # past the 1 s limit
    assert await pid(raw) == first  # rolled back, and kept
    assert await countries(raw, _ID) == 0


async def test_a_cancelled_request_does_not_give_its_connection_back(raw: RawDb) -> None:
    first = await pid(raw)
    started = asyncio.Event()

    async def request() -> None:
        async with raw.connect(write=True) as conn:
            await conn.run(_ADD, id=_ID + 1)
            started.set()
            await conn.one(_SLEEP, seconds=30)

    task = asyncio.create_task(request())
    async with asyncio.timeout(5):
        await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await pid(raw) != first  # cut off mid-statement: closed, a new one opened
    assert await countries(raw, _ID + 1) == 0  # the server rolled the insert back


async def test_the_requests_own_error_rolls_back_and_keeps_the_connection(raw: RawDb) -> None:
    first = await pid(raw)
    with pytest.raises(Refused):
        async with raw.connect(write=True) as conn:
            await conn.run(_ADD, id=_ID + 2)
            raise Refused
    with pytest.raises(UniqueViolation):
        async with raw.connect(write=True) as conn:
            await conn.run(_ADD, id=IRAN_ID)  # loaded by the migrations
    assert await pid(raw) == first
    assert await countries(raw, _ID + 2) == 0


async def test_waiting_for_a_connection_is_bounded(raw: RawDb) -> None:
    async with raw.connect(write=False), raw.connect(write=False):  # the pool's 2
        with pytest.raises(AcquireTimeout, match=r"^no PostgreSQL connection within 0\.5 s$"):
            await pid(raw)
    await pid(raw)  # both back


async def test_one_pool_per_event_loop_and_close_ends_them(raw: RawDb) -> None:
    here = await pid(raw)
    elsewhere = await asyncio.to_thread(asyncio.run, pid(raw))  # another loop, its own pool
    assert elsewhere != here
    assert len(raw._pools) == 2
    await raw.close()  # the other loop's pool is terminated, this one's closed
    assert raw._pools == {}
    assert await pid(raw) not in (here, elsewhere)  # a new pool


async def test_the_statement_cache_holds_every_statement_of_the_app(raw: RawDb) -> None:
    from hojre.web_v1.app import create_app

    create_app  # noqa: B018 (imported for the statements its modules make)
    assert Query.made > 90
    assert statement_cache_size() >= 2 * Query.made
    async with raw.connect(write=False) as conn:
        size = conn.connection._stmt_cache.get_max_size()  # type: ignore[attr-defined]
    assert size == statement_cache_size()
