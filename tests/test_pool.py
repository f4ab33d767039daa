"""hojre.core.sql.Pool: PostgreSQL connections of one event loop, with stand-in connections."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hojre.core.sql import Pool

pytestmark = pytest.mark.anyio


class FakeConnection:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False
        self.terminated = False

    def is_closed(self) -> bool:
        return self.closed or self.terminated

    def terminate(self) -> None:
        self.terminated = True

    async def close(self) -> None:
        self.closed = True


class Opener:
    """Opens FakeConnections, counting them; ``fail`` makes the next opens fail."""

    def __init__(self) -> None:
        self.made: list[FakeConnection] = []
        self.fail = 0

    async def __call__(self) -> Any:
        await asyncio.sleep(0)  # opening takes a round trip
        if self.fail:
            self.fail -= 1
            raise OSError("connection refused")
        self.made.append(FakeConnection(len(self.made)))
        return self.made[-1]


async def test_many_callers_share_at_most_size_connections() -> None:
    opener = Opener()
    pool = Pool(opener, 3)
    busy = peak = 0

    async def use() -> None:
        nonlocal busy, peak
        connection = await pool.acquire()
        busy += 1
        peak = max(peak, busy)
        await asyncio.sleep(0)
        busy -= 1
        pool.release(connection)

    await asyncio.gather(*(use() for _ in range(200)))
    assert len(opener.made) == 3 and peak == 3
    assert pool.opened == 3


async def test_the_warmest_idle_connection_comes_first() -> None:
    pool = Pool(Opener(), 3)
    a, b = await pool.acquire(), await pool.acquire()
    pool.release(a)
    pool.release(b)
    assert await pool.acquire() is b


async def test_waiters_are_served_in_turn() -> None:
    pool = Pool(Opener(), 1)
    held = await pool.acquire()
    order: list[int] = []

    async def wait(n: int) -> None:
        connection = await pool.acquire()
        order.append(n)
        pool.release(connection)

    tasks = [asyncio.create_task(wait(n)) for n in range(5)]
    await asyncio.sleep(0)
    pool.release(held)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


async def test_a_closed_or_unusable_connection_is_replaced() -> None:
    opener = Opener()
    pool = Pool(opener, 2)
    first, second = await pool.acquire(), await pool.acquire()
    first.closed = True  # the server went away while it was in use
    pool.release(first)
    pool.release(second, reusable=False)  # failed mid-operation
    assert second.terminated and pool.opened == 0
    again = await pool.acquire()
    assert again is opener.made[2] and pool.opened == 1
    pool.release(again)
    again.closed = True  # died while idle
    assert await pool.acquire() is opener.made[3]
    assert pool.opened == 1


async def test_a_dropped_connection_gives_a_waiter_room_to_open_one() -> None:
    opener = Opener()
    pool = Pool(opener, 1)
    held = await pool.acquire()
    waiting = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    pool.release(held, reusable=False)
    assert await waiting is opener.made[1]
    assert pool.opened == 1


async def test_a_failed_open_frees_its_place_and_passes_the_turn() -> None:
    opener = Opener()
    pool = Pool(opener, 1)
    opener.fail = 1
    with pytest.raises(OSError, match="refused"):
        await pool.acquire()
    assert pool.opened == 0
    connection = await pool.acquire()
    assert connection is opener.made[0] and pool.opened == 1


async def test_a_cancelled_waiter_passes_on_what_it_was_given() -> None:
    pool = Pool(Opener(), 1)
    held = await pool.acquire()
    cancelled = asyncio.create_task(pool.acquire())
    patient = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    pool.release(held)  # handed to the first waiter...
    cancelled.cancel()  # ...cancelled before it could run
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await patient is held
    assert pool.opened == 1


async def test_close_closes_idle_connections_and_those_released_later() -> None:
    opener = Opener()
    pool = Pool(opener, 2)
    idle, busy = await pool.acquire(), await pool.acquire()
    pool.release(idle)
    await pool.close()
    assert idle.closed and not busy.is_closed()
    pool.release(busy)
    assert busy.terminated and pool.opened == 0
    with pytest.raises(RuntimeError, match="closed"):
        await pool.acquire()
