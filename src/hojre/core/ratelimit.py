"""Fixed-window counters for throttles: in Redis when configured, else in the database.

A window opens at a key's first hit and lasts its ``seconds``; :meth:`RateLimiter.hit` returns
how many hits each open window holds, counted atomically, so parallel requests cannot slip past
a limit. A hit is taken *before* the work it guards (a password check, an SMS) and given back
with :meth:`RateLimiter.undo` when the work turned out not to count (a correct password), so
what a window holds is failures plus attempts still in flight.

In the database, hits are statements of the caller's transaction: they commit or roll back
with it. In Redis they stand at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from redis.asyncio import Redis
from sqlalchemy import BigInteger, Integer, String, bindparam, case, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import Executable

from hojre.core.db import Base
from hojre.core.dialect import upsert_for
from hojre.core.errors import throttled
from hojre.core.sql import Conn, Query


class RateCounter(Base):
    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    window_ends_at: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)  # unix s


class Window(NamedTuple):
    """One counter: its key, how long its window lasts once opened, and (for :func:`over`)
    the most hits it allows and the name of that rule."""

    key: str
    seconds: int
    most: int = 0
    rule: str = ""


def over(windows: Sequence[Window], counts: Sequence[int]) -> str | None:
    """The rule of the first window whose count passed its limit, if any."""
    for window, count in zip(windows, counts, strict=True):
        if count > window.most:
            return window.rule
    return None


def check(windows: Sequence[Window], counts: Sequence[int]) -> None:
    """Raise "Too Many Attempts" for the first window whose count passed its limit."""
    rule = over(windows, counts)
    if rule is not None:
        raise throttled(rule)


class RateLimiter(Protocol):
    async def hit(self, conn: Conn, windows: Sequence[Window]) -> list[int]:
        """Count one hit in each window; the counts after it, in order."""
        ...

    async def undo(self, conn: Conn, keys: Sequence[str]) -> None:
        """Take one hit back from each open window (never below zero)."""
        ...

    async def reset(self, conn: Conn, keys: Sequence[str]) -> None: ...

    async def count(self, conn: Conn, key: str) -> int: ...

    async def purge(self, conn: Conn) -> int:
        """Forget closed windows; how many were removed (Redis expires its own)."""
        ...


_KEY = bindparam("key", type_=String)
_NOW = bindparam("now", type_=BigInteger)
_table = RateCounter.__table__


def _build_hit(dialect: str) -> Executable:
    closed = _table.c.window_ends_at <= _NOW
    ends = _NOW + bindparam("seconds", type_=BigInteger)
    return (
        upsert_for(dialect, RateCounter)
        .values(key=_KEY, count=1, window_ends_at=ends)
        .on_conflict_do_update(
            index_elements=[_table.c.key],
            set_={
                "count": case((closed, 1), else_=_table.c.count + 1),
                "window_ends_at": case((closed, ends), else_=_table.c.window_ends_at),
            },
        )
        .returning(_table.c.count)
    )


_HIT = Query(_build_hit)
_UNDO = Query(
    update(RateCounter)
    .where(RateCounter.key == _KEY, RateCounter.count > 0, RateCounter.window_ends_at > _NOW)
    .values(count=RateCounter.count - 1)
)
_RESET = Query(delete(RateCounter).where(RateCounter.key == _KEY))
_COUNT = Query(
    select(RateCounter.count).where(RateCounter.key == _KEY, RateCounter.window_ends_at > _NOW)
)
_PURGE = Query(delete(RateCounter).where(RateCounter.window_ends_at <= _NOW))


class DatabaseRateLimiter:
    """Counters in the caller's transaction (one process, or no Redis)."""

    async def hit(self, conn: Conn, windows: Sequence[Window]) -> list[int]:
        now = int(time.time())
        counts = []
        for window in windows:
            row = await conn.one(_HIT, key=window.key, now=now, seconds=window.seconds)
            counts.append(int(row[0]) if row is not None else 1)
        return counts

    async def undo(self, conn: Conn, keys: Sequence[str]) -> None:
        now = int(time.time())
        for key in keys:
            await conn.run(_UNDO, key=key, now=now)

    async def reset(self, conn: Conn, keys: Sequence[str]) -> None:
        for key in keys:
            await conn.run(_RESET, key=key)

    async def count(self, conn: Conn, key: str) -> int:
        row = await conn.one(_COUNT, key=key, now=int(time.time()))
        return int(row[0]) if row is not None else 0

    async def purge(self, conn: Conn) -> int:
        return await conn.run(_PURGE, now=int(time.time()))


# DECR only a live counter above zero: DECR of a missing key would make one without a TTL.
_UNDO_SCRIPT = """
local value = redis.call('GET', KEYS[1])
if value and tonumber(value) > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisRateLimiter:
    """Counters shared by every app process. ``SET NX EX`` opens the window, ``INCR`` counts."""

    def __init__(self, redis: Redis, prefix: str = "hojre:rl:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._undo = redis.register_script(_UNDO_SCRIPT)

    async def hit(self, conn: Conn, windows: Sequence[Window]) -> list[int]:
        async with self.redis.pipeline(transaction=True) as pipe:
            for window in windows:
                name = self.prefix + window.key
                pipe.set(name, 0, ex=window.seconds, nx=True)
                pipe.incr(name)
            replies = await pipe.execute()
        return [int(value) for value in replies[1::2]]

    async def undo(self, conn: Conn, keys: Sequence[str]) -> None:
        for key in keys:
            await self._undo(keys=[self.prefix + key])

    async def reset(self, conn: Conn, keys: Sequence[str]) -> None:
        if keys:
            await self.redis.delete(*(self.prefix + key for key in keys))

    async def count(self, conn: Conn, key: str) -> int:
        value = await self.redis.get(self.prefix + key)
        return int(value or 0)

    async def purge(self, conn: Conn) -> int:
        return 0
